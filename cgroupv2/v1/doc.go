// Package v1 enforces a container's limits on cgroup v1 hosts, as root.
//
// # The lesson
//
// Cgroup v1 (Documentation/admin-guide/cgroup-v1/) has one tree per controller, or
// group of controllers, each mounted on its own: /sys/fs/cgroup/memory,
// /sys/fs/cgroup/cpu (often cpu,cpuacct), /sys/fs/cgroup/pids. A process is in
// one cgroup of every tree. The same limits as in v2 have other names:
//
//	v2                 v1
//	memory.max         memory.limit_in_bytes
//	memory.swap.max    memory.memsw.limit_in_bytes   (memory PLUS swap, like docker's --memory-swap)
//	cpu.max            cpu.cfs_quota_us / cpu.cfs_period_us
//	cpu.weight         cpu.shares                    (docker's --cpu-shares as is)
//	pids.max           pids.max
//
// v1 has no safe delegation: a user given a v1 cgroup could, for instance, move
// other users' processes or escape their limits, and systemd never delegates v1
// to users. So ccrun uses v1 only as root, and tells an unprivileged user plainly
// that a limit needs cgroup v2.
//
// # What ccrun does
//
// Create makes ccrun-<id> in the caller's cgroup of the memory, cpu and pids
// trees and writes the limits (Plan, plain data); the supervisor moves the
// container's init in with Enter (clone3's CLONE_INTO_CGROUP takes only v2
// directories), before the init runs anything of the container's. Close removes
// the directories. v1 has no "remove when empty" that ccrun could rely on without
// taking over the whole hierarchy (release_agent), so a run killed with SIGKILL
// leaves empty directories that the next run sweeps (cgroupv2.Sweep).
//
// # See it
//
//	sudo ccrun --debug run --memory 32m --rootfs ~/busybox-root cat /proc/self/cgroup
//	ls /sys/fs/cgroup/memory/ccrun-*       # while a container runs
package v1
