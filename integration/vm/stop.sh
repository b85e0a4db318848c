#!/usr/bin/env bash
# Stop the ccrun test guest. The disk is booted with -snapshot and the 9p
# shares are written through, so nothing is lost by stopping qemu at once:
# by default this sends SIGTERM to the qemu PID recorded in
# $CCRUN_VM_DIR/qemu.pid (and only to it). --poweroff asks systemd in the
# guest for a clean poweroff first (slower, ~5-10 s under TCG).
#   integration/vm/stop.sh [-q] [--poweroff]
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
poweroff=0
for a in "$@"; do
  case $a in
    -q) vm_log() { :; } ;;
    --poweroff) poweroff=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) vm_die "unknown argument: $a" ;;
  esac
done

close_masters() {
  local u
  for u in "$VM_USER" root; do
    ssh -O exit -o ControlPath="$VM_CTL" "$u@127.0.0.1" >/dev/null 2>&1 || true
  done
}

if ! vm_qemu_alive; then
  close_masters
  rm -f "$VM_PIDFILE" "$VM_STATE"
  vm_log "guest is not running"
  exit 0
fi
pid=$(cat "$VM_PIDFILE")
t0=$(date +%s%N)
if [ $poweroff = 1 ]; then
  timeout 15 bash -c '. "$1"; vm_ssh root -n "systemctl poweroff --no-block" >/dev/null 2>&1' _ "$here/lib.sh" || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
fi
close_masters
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then
    vm_log "qemu pid $pid ignored SIGTERM for 10s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null
  fi
fi
rm -f "$VM_PIDFILE" "$VM_STATE"
vm_log "guest stopped in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
