package cgroupv2

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// StaleAge is how old a ccrun-* cgroup without processes must be before Sweep
// removes it: old enough that no other ccrun is still between creating it and
// moving its first process in.
const StaleAge = time.Minute

// Direct makes the container's cgroup itself, without systemd: Dir is ccrun-<id>
// inside pid's own cgroup, which the caller must be allowed to write. That is root
// on a host where systemd is not PID 1, or anyone inside a cgroup delegated to
// them (a container with its own cgroup namespace, a CI job's cgroup). Nobody else
// manages these directories, so cgroups of earlier runs that were killed are swept
// first (see Sweep).
func Direct(id string, pid int) (*Cgroup, error) {
	own, err := ProcessDir(pid)
	if err != nil {
		return nil, err
	}
	if err := writable(own); err != nil {
		return nil, fmt.Errorf("use cgroup %s: %w", own, err)
	}
	Sweep(own, StaleAge)
	dir := filepath.Join(own, "ccrun-"+id)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create cgroup %s: %w", dir, err)
	}
	slog.Debug("cgroup made directly", "dir", dir)
	return &Cgroup{Dir: dir, fd: -1, origin: own, enableIn: []string{own}, fix: directFix(own)}, nil
}

// CanDirect says why Direct would fail for pid (its cgroup v2 is not writable by
// the caller), or nil.
func CanDirect(pid int) error {
	own, err := ProcessDir(pid)
	if err != nil {
		return err
	}
	return writable(own)
}

func directFix(parent string) func(string) string {
	return func(controller string) string {
		return fmt.Sprintf("%s itself lacks the %s controller: its parent must enable it in cgroup.subtree_control", parent, controller)
	}
}

// Sweep removes the ccrun-* cgroups under parent (and their supervisor and
// container leaves) that are older than age and empty: those of runs that were
// killed before they could clean up. A cgroup with a process in it cannot be
// removed (rmdir(2) fails with EBUSY), so a live container is never touched.
func Sweep(parent string, age time.Duration) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "ccrun-") {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < age {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		_ = unix.Rmdir(filepath.Join(dir, "container"))
		_ = unix.Rmdir(filepath.Join(dir, "supervisor"))
		if unix.Rmdir(dir) == nil {
			slog.Debug("removed stale cgroup", "dir", dir)
		}
	}
}
