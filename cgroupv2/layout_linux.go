package cgroupv2

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Root is where cgroup filesystems are mounted (systemd's convention, and the
// kernel documentation's).
const Root = "/sys/fs/cgroup"

// Layout is how the host mounts its cgroup hierarchies.
type Layout int

const (
	// Legacy: cgroup v1 only, one hierarchy per controller (or group of them).
	Legacy Layout = iota
	// Hybrid: the controllers are on v1 hierarchies; an empty cgroup2 at
	// /sys/fs/cgroup/unified only tracks processes (systemd's "hybrid" mode, and
	// this project's build machines). No limit can be set through it.
	Hybrid
	// Unified: everything on one cgroup2 at /sys/fs/cgroup.
	Unified
)

func (l Layout) String() string {
	switch l {
	case Unified:
		return "cgroup v2 (unified)"
	case Hybrid:
		return "cgroup v1 (hybrid)"
	}
	return "cgroup v1 (legacy)"
}

// HostLayout finds the layout from the filesystem type mounted at /sys/fs/cgroup
// (statfs(2): CGROUP2_SUPER_MAGIC for unified, tmpfs holding v1 mounts otherwise).
func HostLayout() Layout {
	if isCgroup2(Root) {
		return Unified
	}
	if isCgroup2(Root + "/unified") {
		return Hybrid
	}
	return Legacy
}

func isCgroup2(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// ProcessDir is the directory of pid's cgroup in the v2 hierarchy, as mounted in
// the caller's mount namespace.
func ProcessDir(pid int) (string, error) {
	ms, err := readProcCgroup(pid)
	if err != nil {
		return "", err
	}
	p, ok := UnifiedPath(ms)
	if !ok {
		return "", fmt.Errorf("read /proc/%d/cgroup: no cgroup v2 line", pid)
	}
	mounts, err := Mounts()
	if err != nil {
		return "", err
	}
	for _, m := range mounts {
		if m.Type != "cgroup2" {
			continue
		}
		if dir, ok := m.Dir(p); ok {
			return dir, nil
		}
	}
	return "", fmt.Errorf("find cgroup %s: no cgroup2 mount shows it", p)
}

func readProcCgroup(pid int) ([]Membership, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return nil, err
	}
	return ParseProcCgroup(string(b))
}

// ProcessCgroups is pid's membership in every hierarchy (/proc/PID/cgroup).
func ProcessCgroups(pid int) ([]Membership, error) { return readProcCgroup(pid) }

// Mounts lists the cgroup filesystems mounted in the caller's mount namespace.
func Mounts() ([]Mount, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	return ParseMountinfo(string(b)), nil
}

// writable reports whether the caller may create cgroups in dir and move
// processes through it (write access to the directory and its cgroup.procs, the
// rule of cgroup-v2.rst "Delegation Containment").
func writable(dir string) error {
	for _, p := range []string{dir, dir + "/cgroup.procs"} {
		if err := unix.Access(p, unix.W_OK); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}
