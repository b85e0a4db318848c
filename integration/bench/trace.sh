#!/usr/bin/env bash
# Where does a run's time go? Records the kernel's process and mount tracepoints
# with perf while CMD runs once (after one untimed warm-up run), and prints CMD's
# process tree as a timeline: each exec, fork, mount, pivot_root, sethostname and
# exit, in ms since CMD's exec, with the time since that process's previous event.
# Go's package init shows as the gap between a stage's exec and its next event;
# GODEBUG=inittrace=1 (with -e) itemises it.
#
#   integration/bench/trace.sh [-u USER] [-e KEY=VALUE]... CMD ARG...
#   integration/bench/trace.sh -u ccrun-test bin/ccrun run --rootfs /tmp/rootfs true
#
# TRACE_EXTRA="mkdirat unlinkat wait4 ..." traces more system calls (their entry).
# Needs root and perf (Debian: linux-perf). CMD runs as USER with a clean
# environment, exactly as `make bench` runs it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
flags=()
while getopts u:e: o; do
  case $o in
    u) flags+=(-user "$OPTARG") ;;
    e) flags+=(-env "$OPTARG") ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "usage: trace.sh [-u USER] [-e KEY=VALUE]... CMD ARG..." >&2; exit 2; }
command -v perf >/dev/null || { echo "trace.sh: perf missing: apt-get install linux-perf" >&2; exit 1; }
exe=$(readlink -f "$(command -v "$1")")
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$here/../.." && CGO_ENABLED=0 go build -o "$tmp/bench" ./integration/bench)
events=sched:sched_process_exec,sched:sched_process_fork,sched:sched_process_exit
for s in execve pivot_root mount umount fsopen fsmount move_mount open_tree mount_setattr \
         sethostname unshare setns seccomp capset openat2 fdatasync fsync renameat renameat2 flock exit_group ${TRACE_EXTRA:-}; do
  events+=,syscalls:sys_enter_$s
done
"$tmp/bench" time -scenario trace -name warm-up -runs 1 -warmup 0 "${flags[@]}" -- "$exe" "$@" >/dev/null
perf record -q -a -o "$tmp/perf.data" -e "$events" -- \
  "$tmp/bench" time -scenario trace -name traced -runs 1 -warmup 0 "${flags[@]}" -- "$exe" "$@" |
  jq -r '"wall time: \(.median) ms \(.error // "")"'
perf script -i "$tmp/perf.data" -F comm,pid,tid,time,event,trace 2>/dev/null |
  "$tmp/bench" timeline -root "$exe"
