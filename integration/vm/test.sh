#!/usr/bin/env bash
# make test-vm: the cgroup v2 limit tests, in a guest that has what these hosts lack
# (systemd as PID 1, cgroup v2 only, a lingering user with delegated controllers).
#
#   integration/vm/test.sh [path/to/ccrun]      (default: bin/ccrun; run as root)
#
# Builds the guest image once into $CCRUN_VM_DIR (default /var/cache/ccrun-vm; a
# cache, reused while build.sh and lib.sh are unchanged), compiles the integration
# tests into a static test binary, boots the guest with both shared read-only, runs
# the TestCgroupVM* tests as the user dev (rootless: the user's systemd) and as
# root (PID 1's systemd), prints the figures they saw, and always stops the guest.
# A test that skips in the guest counts as a failure: there it must run.
# Settings: those of lib.sh (CCRUN_VM_PORT, CCRUN_VM_MEM, ...), CCRUN_VM_TEST_TIMEOUT
# (seconds per user, default 900), GO (the go command).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

bin=$(realpath "${1:-$top/bin/ccrun}")
test_timeout=${CCRUN_VM_TEST_TIMEOUT:-900}
tags="containers_image_openpgp exclude_graphdriver_btrfs exclude_graphdriver_devicemapper"
[ "$(id -u)" = 0 ] || vm_die "test.sh must run as root (it builds the guest image with debootstrap)"
[ -x "$bin" ] || vm_die "no ccrun binary at $bin: run make build first"
go=${GO:-go}
command -v "$go" >/dev/null || go=/usr/local/go/bin/go
command -v "$go" >/dev/null || vm_die "no go toolchain (set GO=/path/to/go)"
t_start=$(date +%s)
phase() { vm_log "$1 (+$(( $(date +%s) - t_start ))s)"; }

# --- host packages (build.sh installs the rest) -------------------------------
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v ssh >/dev/null || need+=(openssh-client)
command -v flock >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  phase "installing host packages: ${need[*]}"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- guest image (cached) ---------------------------------------------------------
phase "guest image in $VM_DIR"
timeout 1800 "$here/build.sh" || vm_die "building the guest image failed (see the lines above; logs in $VM_DIR)"

# --- what the guest runs: ccrun and the tests, static --------------------------------
share=$(mktemp -d)
cleanup() {
  local rc=$?
  "$here/stop.sh" -q || true
  rm -rf --one-file-system "$share"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
chmod 755 "$share"
install -m 755 "$bin" "$share/ccrun"
phase "compiling the integration tests"
(cd "$top" && CGO_ENABLED=0 "$go" test -c -tags "$tags" -o "$share/integration.test" ./integration/) ||
  vm_die "go test -c ./integration/ failed"

# --- boot: a guest of our own, with our share ------------------------------------------
if vm_qemu_alive; then
  vm_log "a guest is already running in $VM_DIR; stopping it to boot one with the test share"
  "$here/stop.sh" -q
fi
phase "booting the guest (software emulation: about 30-60 s)"
if ! "$here/run.sh" --boot-only --share "$share"; then
  vm_log "the guest did not come up; one more try (console of the failed boot: $VM_CONSOLE)"
  "$here/stop.sh" -q
  "$here/run.sh" --boot-only --share "$share" || vm_die "the guest did not boot twice (console: $VM_CONSOLE)"
fi

# --- the tests, as dev and as root ---------------------------------------------------------
rc=0
for user in dev root; do
  phase "TestCgroupVM* as $user"
  log=$share/$user.log
  set +e
  timeout "$test_timeout" "$here/run.sh" -q --user "$user" -- \
    env CCRUN_BIN="$share/ccrun" "$share/integration.test" -test.run '^TestCgroupVM' -test.v -test.count=1 \
    -test.timeout "$((test_timeout - 30))s" > "$log" 2>&1
  st=$?
  set -e
  grep -E '^(--- |=== RUN|PASS$|FAIL|ok )|_test.go:' "$log" | grep -v '^=== RUN' | sed "s/^/[$user] /" || true
  [ $st = 124 ] && vm_log "the tests as $user timed out after ${test_timeout}s"
  # A skip in the guest hides a failure: only the helper child and the root-only test may skip.
  unexpected=$(grep -E '^--- SKIP' "$log" | grep -vE 'TestCgroupVMDelegateChild|TestCgroupVMDirect|TestCgroupVMControllerNotDelegated' || true)
  if [ "$user" = root ]; then unexpected=$(grep -E '^--- SKIP' "$log" | grep -v TestCgroupVMDelegateChild || true); fi
  if [ -n "$unexpected" ]; then
    vm_log "tests skipped in the guest as $user (they must run there):"; echo "$unexpected" >&2; st=1
  fi
  if ! grep -q '^--- PASS: TestCgroupVMOOM' "$log"; then
    vm_log "as $user: TestCgroupVMOOM did not pass; full log:"; sed 's/^/    /' "$log" >&2; st=1
  fi
  [ $st = 0 ] || { rc=1; vm_log "FAILED as $user (exit $st)"; }
done

# --- the figures -------------------------------------------------------------------------------
echo
echo "== cgroup v2 figures seen in the guest ($(uname -m), guest kernel $("$here/run.sh" -q -- uname -r 2>/dev/null || echo '?')) =="
for user in dev root; do
  grep -h 'FIGURE ' "$share/$user.log" 2>/dev/null | sed 's/^.*FIGURE /  /' || true
done
echo
if [ $rc = 0 ]; then phase "test-vm: all cgroup v2 tests passed as dev and as root"
else phase "test-vm: FAILED (logs above)"; fi
exit $rc
