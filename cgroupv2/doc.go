// Package cgroupv2 puts a container under resource limits: memory, CPU time and the
// number of processes, with the kernel's control groups.
//
// # The lesson
//
// A control group (cgroups(7)) is a directory in the cgroup filesystem. Every
// process is in exactly one, listed in its cgroup.procs; children start where
// their parent is. Controllers (memory, cpu, pids ...) enforce what is written in
// a cgroup's interface files on every process below it:
//
//	memory.max        33554432          bytes of RAM; above it the kernel reclaims, then OOM-kills
//	memory.swap.max   0                 bytes of swap (v2 counts swap on its own)
//	cpu.max           50000 100000      at most 50 ms of CPU in every 100 ms (--cpus 0.5)
//	cpu.weight        39                share of contended CPU, 1..10000 (--cpu-shares 1024)
//	pids.max          2048              tasks; fork(2) fails with EAGAIN beyond it
//
// Version 2 (cgroup-v2.rst) has one tree and two rules that shape this package.
// Only a cgroup WITHOUT processes of its own may pass controllers to its children
// (cgroup.subtree_control): the "no internal process" rule. And an unprivileged
// user may only use a subtree that was delegated to them: chowned to them by
// whoever manages the tree. On a systemd machine that is systemd, and the only
// sanctioned way to get such a subtree is to ask it over D-Bus for a transient
// unit with Delegate=yes (systemd.resource-control(5), and systemd's
// docs/CGROUP_DELEGATION.md, "The Ground Rules").
//
// # What ccrun does
//
// ccrun's supervisor (P1, see package rootless) asks systemd for a scope
// ccrun-<id>.scope holding itself: the user's own systemd on the session bus when
// rootless, PID 1 on the system bus as root (Delegate). It then splits the scope
// into two leaves (Cgroup.Split), moves itself into the first, enables the
// controllers it was given and writes the limits into the second (Cgroup.Limit),
// and starts the container's init directly in that leaf with clone3(2)'s
// CLONE_INTO_CGROUP (Cgroup.FD), so that the container never runs a single
// instruction outside its limits:
//
//	user@1000.service/user.slice/ccrun-<id>.scope/    Delegate=yes, owned by uid 1000
//	├── supervisor/        ccrun (P1): not limited, so it can always clean up
//	└── container/         memory.max, cpu.max, pids.max; the container's cgroup namespace root
//
// The init also unshares its cgroup namespace, so the container sees its leaf as
// "/" in /proc/self/cgroup and in the read-only cgroup2 it mounts at /sys/fs/cgroup.
// When the last process of the scope exits, systemd removes it with everything in
// it: even when ccrun is killed with SIGKILL, nothing is left.
//
// Without systemd, root (or anyone inside a cgroup delegated to them, as in a CI
// job or a container) makes the same layout directly in its own cgroup (Direct).
// On cgroup v1 hosts, root gets the limits from the v1 hierarchies instead
// (package cgroupv2/v1); an unprivileged user cannot be given v1 cgroups safely, so
// ccrun refuses a limit it cannot enforce rather than ignore it. The limits
// themselves are plain data (Limits.Plan returns the writes) and unit-tested.
//
// # Read
//
// cgroups(7), cgroup_namespaces(7), clone(2) (CLONE_INTO_CGROUP),
// Documentation/admin-guide/cgroup-v2.rst, systemd.resource-control(5),
// systemd.scope(5), https://systemd.io/CGROUP_DELEGATION/.
//
// # See it
//
//	ccrun --debug run --memory 32m --cpus 0.5 --rootfs ~/busybox-root \
//	    sh -c 'cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max'
//	systemctl --user status 'ccrun-*.scope'      # while it runs
//
// --debug prints the scope, the leaves and every write.
package cgroupv2
