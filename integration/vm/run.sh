#!/usr/bin/env bash
# Run a command inside the ccrun test guest (systemd, cgroup v2, delegated
# user@1000.service), booting it first if it is not running.
#
#   integration/vm/run.sh [options] -- CMD [ARG...]
#
# Options:
#   --user dev|root   who runs CMD (default dev, uid 1000, via an ssh login
#                     session: XDG_RUNTIME_DIR and the user bus are set)
#   --share DIR       host directory to mount READ-ONLY in the guest at the
#                     same path (9p); repeatable. Default when booting: the
#                     git top level of $PWD, else $PWD.
#   --share-rw DIR    same, writable (guest root is host root inside DIR!)
#                     Shares are fixed at boot; "/" and system directories
#                     (/tmp, /var, /home, /usr, ...) are refused, their
#                     subdirectories (/tmp/x, /srv/x) are fine.
#   --cd DIR          working directory in the guest (default: $PWD if it is
#                     inside a share, else the user's home)
#   --restart         stop a running guest first (e.g. to change shares)
#   --boot-only       boot (or reuse) the guest and return; CMD not needed
#   -q                no progress messages
#
# CMD is exec'd by bash in the guest: use `bash -c '...'` for pipelines, or
# `bash -s < script` (stdin is forwarded). stdout/stderr of CMD are passed
# through; the exit status is CMD's (255: ssh failed, 125: no guest).
# Environment: CCRUN_VM_DIR (/var/cache/ccrun-vm), CCRUN_VM_PORT (5122),
# CCRUN_VM_MEM (2048), CCRUN_VM_CPUS (2), CCRUN_VM_ACCEL (tcg|kvm),
# CCRUN_VM_BOOT_TIMEOUT (300), CCRUN_VM_APPEND (extra kernel arguments).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

user=$VM_USER shares=() cd_dir= restart=0 boot_only=0 quiet=0
add_share() { shares+=("$(realpath -m "$1"):$2"); }
while [ $# -gt 0 ]; do
  case $1 in
    --user) user=${2:?}; shift 2 ;;
    --user=*) user=${1#*=}; shift ;;
    --share) add_share "${2:?}" ro; shift 2 ;;
    --share=*) add_share "${1#*=}" ro; shift ;;
    --share-rw) add_share "${2:?}" rw; shift 2 ;;
    --share-rw=*) add_share "${1#*=}" rw; shift ;;
    --cd) cd_dir=${2:?}; shift 2 ;;
    --restart) restart=1; shift ;;
    --boot-only) boot_only=1; shift ;;
    -q) quiet=1; shift ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
[ $boot_only = 1 ] || [ $# -gt 0 ] || vm_die "usage: run.sh [--user dev|root] -- CMD [ARG...]"
case $user in dev|root|"$VM_USER") ;; *) vm_die "--user must be dev or root" ;; esac
[ $quiet = 1 ] && vm_log() { :; }

for f in "$VM_IMG" "$VM_KERNEL" "$VM_INITRD" "$VM_KEY"; do
  [ -f "$f" ] || vm_die "no guest image ($f missing): run integration/vm/build.sh first"
done

# A share is mounted over the same path in the guest. Mounting over a
# directory the guest's own systemd manages would let it act on the host's
# files (systemd-tmpfiles empties /tmp at boot!), so such paths are refused.
check_share_path() {
  local p=$1
  case $p in
    *[[:space:],]*) vm_die "share path with spaces or commas: $p" ;;
    /|/tmp|/var|/run|/run/*|/etc|/etc/*|/usr|/usr/*|/home|/home/dev|/home/dev/*|/root|/root/*|\
    /boot|/boot/*|/dev|/dev/*|/proc|/proc/*|/sys|/sys/*|/bin|/bin/*|/sbin|/sbin/*|/lib|/lib/*|\
    /lib64|/lib64/*|/opt|/srv|/mnt|/media)
      vm_die "refusing to share $p: the guest's own system uses that path (share a subdirectory such as /tmp/x or /srv/x)" ;;
  esac
  case $p in /var/tmp/?*) ;; /var/*) vm_die "refusing to share $p (under /var)";; esac
  [ -d "$p" ] || vm_die "share is not a directory: $p"
}

boot() {
  local share_args=() append i path mode
  if [ ${#shares[@]} -eq 0 ]; then
    add_share "$(git -C "$PWD" rev-parse --show-toplevel 2>/dev/null || pwd -P)" ro
  fi
  append="root=/dev/vda rw console=ttyS0 quiet loglevel=3 systemd.show_status=0"
  append+=" systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all random.trust_cpu=on"
  append+=" tsc=reliable no_timer_check ${CCRUN_VM_APPEND:-}"
  for i in "${!shares[@]}"; do
    path=${shares[$i]%:*} mode=${shares[$i]##*:}
    check_share_path "$path"
    local ro=on; [ "$mode" = rw ] && ro=off
    share_args+=(-virtfs "local,path=$path,mount_tag=share$i,security_model=passthrough,readonly=$ro,id=share$i")
    append+=" ccrun.share$i=$mode,$path"
  done
  local accel=(-accel tcg,thread=multi,tb-size=512 -cpu max)
  [ "$VM_ACCEL" = kvm ] && accel=(-accel kvm -cpu host,-arch-capabilities)
  local bios=()
  [ -f /usr/share/qemu/qboot.rom ] && [ "${CCRUN_VM_QBOOT:-1}" = 1 ] && bios=(-bios /usr/share/qemu/qboot.rom)
  rm -f "$VM_PIDFILE" "$VM_STATE" "$VM_CONSOLE"
  ssh -O exit -o ControlPath="$VM_CTL" "$VM_USER@127.0.0.1" 2>/dev/null || true
  ssh -O exit -o ControlPath="$VM_CTL" "root@127.0.0.1" 2>/dev/null || true
  vm_log "booting guest ($VM_ACCEL, ${VM_CPUS} cpus, ${VM_MEM} MiB; shares: ${shares[*]}; ssh 127.0.0.1:$VM_PORT)"
  local t0; t0=$(date +%s%N)
  # -snapshot: the image stays pristine; guest writes go to a deleted temp file in $VM_DIR
  TMPDIR=$VM_DIR qemu-system-x86_64 -name ccrun-vm "${accel[@]}" \
    -machine pc "${bios[@]}" -m "$VM_MEM" -smp "$VM_CPUS" -nodefaults -no-user-config -vga none -display none \
    -kernel "$VM_KERNEL" -initrd "$VM_INITRD" -append "$append" \
    -drive "file=$VM_IMG,format=raw,if=virtio,snapshot=on,cache=unsafe,discard=unmap" \
    -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$VM_PORT-:22" -device virtio-net-pci,netdev=n0 \
    -device virtio-rng-pci "${share_args[@]}" \
    -serial "file:$VM_CONSOLE" -monitor none -daemonize -pidfile "$VM_PIDFILE" ||
    vm_die "qemu failed to start"
  local deadline=$(( $(date +%s) + VM_BOOT_TIMEOUT ))
  until timeout 20 ssh -n -p "$VM_PORT" -i "$VM_KEY" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o LogLevel=ERROR -o BatchMode=yes -o ConnectTimeout=5 -o ControlMaster=no \
        "$VM_USER@127.0.0.1" true 2>/dev/null; do
    vm_qemu_alive || { tail -30 "$VM_CONSOLE" >&2 || true; vm_die "qemu exited during boot (console: $VM_CONSOLE)"; }
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -30 "$VM_CONSOLE" >&2 || true
      "$here/stop.sh" -q
      vm_die "guest not reachable after ${VM_BOOT_TIMEOUT}s; stopped it"
    fi
    sleep 1
  done
  local t_ssh; t_ssh=$(date +%s%N)
  # ready = boot transaction finished and the lingering user manager is up
  local st
  st=$(vm_ssh "$VM_USER" -n "systemctl is-system-running --wait; systemctl is-active user@$VM_UID.service" 2>&1 || true)
  local t1; t1=$(date +%s%N)
  printf 'SHARES=(%s)\nBOOTED=%s\nBOOT_MS=%s\nSSH_MS=%s\n' "${shares[*]@Q}" "$(date -u +%FT%TZ)" \
    "$(( (t1 - t0) / 1000000 ))" "$(( (t_ssh - t0) / 1000000 ))" > "$VM_STATE"
  vm_log "guest ready in $(( (t1 - t0) / 1000000 )) ms (sshd answered after $(( (t_ssh - t0) / 1000000 )) ms); state: $(echo $st)"
  case $st in *running*active*) ;; *)
    vm_log "warning: guest not fully up; failed units:"
    vm_ssh "$VM_USER" -n systemctl --failed --no-legend >&2 || true ;;
  esac
}

mkdir -p "$VM_DIR"
exec 9>"$VM_DIR/lock"
flock 9   # one boot at a time; concurrent commands are fine once it is up
if [ $restart = 1 ] && vm_qemu_alive; then "$here/stop.sh" -q; fi
if vm_qemu_alive && [ -f "$VM_STATE" ]; then
  # shellcheck disable=SC1090
  . "$VM_STATE"
  for s in ${shares[@]+"${shares[@]}"}; do
    found=0; for t in "${SHARES[@]}"; do [ "$s" = "$t" ] && found=1; done
    [ $found = 1 ] || vm_die "guest is running without share $s (has: ${SHARES[*]}); use --restart"
  done
  shares=("${SHARES[@]}")
else
  vm_qemu_alive && { vm_log "stale guest without state; stopping it"; "$here/stop.sh" -q; }
  boot
fi
flock -u 9
exec 9>&-

[ $boot_only = 1 ] && [ $# -eq 0 ] && exit 0

if [ -z "$cd_dir" ]; then
  cd_dir='~'
  here_pwd=$(pwd -P)
  for s in "${shares[@]}"; do
    case "$here_pwd/" in "${s%:*}"/*) cd_dir=$here_pwd ;; esac
  done
fi
cmd=$(printf '%q ' "$@")
if [ "$cd_dir" = '~' ]; then
  remote="cd; exec $cmd"
else
  remote="cd $(printf '%q' "$cd_dir") && exec $cmd"
fi
vm_ssh "$user" "$remote"
