package rootless

import "strconv"

// PlanOptions are the facts the standard mount plan depends on.
type PlanOptions struct {
	// DevptsGID is the tty group to give new terminals, or -1 when gid 5 is not
	// mapped in the user namespace (devpts refuses an unmapped gid).
	DevptsGID int
	// Cgroup2 mounts the container's own cgroup (its cgroup namespace root) read-only.
	Cgroup2 bool
}

// StandardMounts is the mount plan of every container, in order: the kernel's
// filesystems and a private /dev. The init creates the device nodes and links of
// /dev right after mounting its tmpfs (see dev_linux.go).
func StandardMounts(o PlanOptions) []Mount {
	devpts := []string{"newinstance", "ptmxmode=0666", "mode=0620"}
	if o.DevptsGID >= 0 {
		devpts = append(devpts, "gid="+strconv.Itoa(o.DevptsGID))
	}
	m := []Mount{
		{Type: "proc", Source: "proc", Target: "/proc", NoSuid: true, NoDev: true, NoExec: true},
		{Type: "tmpfs", Source: "tmpfs", Target: "/dev", Options: []string{"mode=755", "size=65536k"}, NoSuid: true, NoExec: true},
		{Type: "devpts", Source: "devpts", Target: "/dev/pts", Options: devpts, NoSuid: true, NoExec: true},
		{Type: "tmpfs", Source: "shm", Target: "/dev/shm", Options: []string{"mode=1777", "size=65536k"}, NoSuid: true, NoDev: true, NoExec: true},
		{Type: "mqueue", Source: "mqueue", Target: "/dev/mqueue", NoSuid: true, NoDev: true, NoExec: true},
		// sysfs can only be mounted by the owner of the network namespace; where it is
		// refused the init binds the host's /sys read-only instead.
		{Type: "sysfs", Source: "sysfs", Target: "/sys", ReadOnly: true, NoSuid: true, NoDev: true, NoExec: true, Optional: true},
	}
	if o.Cgroup2 {
		m = append(m, Mount{Type: "cgroup2", Source: "cgroup", Target: "/sys/fs/cgroup", ReadOnly: true, NoSuid: true, NoDev: true, NoExec: true})
	}
	return m
}

// MaskedPaths are kernel files and directories a container has no business reading:
// they leak host information (kcore, keys, timer_list, sched_debug) or drive hardware
// (acpi, scsi, firmware, powercap). The list is Docker's and podman's.
var MaskedPaths = []string{
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap", "/sys/dev/block",
}

// ReadonlyPaths are kernel interfaces that stay visible but must not be written:
// /proc/sys holds host-wide sysctls (core_pattern runs a program as host root),
// /proc/sysrq-trigger reboots the machine.
var ReadonlyPaths = []string{
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
}

// Device is a character device the container's /dev provides.
type Device struct {
	Name         string
	Major, Minor uint32
}

// Devices are the nodes of every container's /dev (all mode 0666).
var Devices = []Device{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

// DevLinks are the symbolic links of /dev, name -> target.
var DevLinks = [][2]string{
	{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"},
	{"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
	{"ptmx", "pts/ptmx"},
}
