package v1

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ccrun/ccrun/cgroupv2"
)

// Cgroup is one container's directories, one per v1 hierarchy it is limited in:
// ccrun-<id> inside the caller's own cgroup of the memory, cpu and pids
// hierarchies.
type Cgroup struct {
	dirs   []string // in the order of the controllers that needed them
	memory string   // the memory hierarchy's directory, "" without one
	limit  int64
}

// Create makes the container's v1 cgroups and writes the limits in them. It needs
// root: v1 cannot be delegated safely to an unprivileged user. A requested limit
// whose hierarchy is missing is an error; the default pids.max is dropped then.
// Cgroups of earlier runs that were killed are swept first (cgroupv2.Sweep).
func Create(id string, l cgroupv2.Limits) (*Cgroup, error) {
	ms, err := cgroupv2.ProcessCgroups(os.Getpid())
	if err != nil {
		return nil, err
	}
	mounts, err := cgroupv2.Mounts()
	if err != nil {
		return nil, err
	}
	c := &Cgroup{limit: l.Memory}
	dirOf := map[string]string{}
	for _, w := range Plan(l) {
		dir, ok := dirOf[w.Controller]
		if !ok {
			if dir, err = c.create(ms, mounts, w.Controller, id); err != nil {
				return nil, errors.Join(err, c.Close())
			}
			dirOf[w.Controller] = dir
		}
		if dir == "" && w.Requested {
			return nil, errors.Join(hierarchyError(w), c.Close())
		}
		if dir == "" {
			continue
		}
		if err := w.Apply(dir); err != nil {
			return nil, errors.Join(err, c.Close())
		}
	}
	return c, nil
}

// create makes ccrun-<id> in the caller's cgroup of controller's hierarchy, or
// returns "" when no hierarchy carries that controller.
func (c *Cgroup) create(ms []cgroupv2.Membership, mounts []cgroupv2.Mount, controller, id string) (string, error) {
	parent, ok := hierarchyDir(ms, mounts, controller)
	if !ok {
		return "", nil
	}
	cgroupv2.Sweep(parent, cgroupv2.StaleAge)
	dir := filepath.Join(parent, "ccrun-"+id)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("create cgroup %s: %w", dir, err)
	}
	slog.Debug("cgroup v1", "controller", controller, "dir", dir)
	c.dirs = append(c.dirs, dir)
	if controller == "memory" {
		c.memory = dir
	}
	return dir, nil
}

// hierarchyDir is the caller's cgroup directory in the hierarchy of controller.
func hierarchyDir(ms []cgroupv2.Membership, mounts []cgroupv2.Mount, controller string) (string, bool) {
	p, ok := cgroupv2.ControllerPath(ms, controller)
	if !ok {
		return "", false
	}
	for _, m := range mounts {
		if m.Type == "cgroup" && m.HasOption(controller) {
			if dir, ok := m.Dir(p); ok {
				return dir, true
			}
		}
	}
	return "", false
}

// FD is -1: CLONE_INTO_CGROUP takes only cgroup v2 directories.
func (c *Cgroup) FD() int { return -1 }

// Enter moves pid into the container's cgroup of every hierarchy. Call it before
// the process runs anything of the container's: what it forked before stays out.
func (c *Cgroup) Enter(pid int) error {
	for _, dir := range c.dirs {
		if err := writeProcs(dir, pid); err != nil {
			return fmt.Errorf("move pid %d into the container's cgroup: %w", pid, err)
		}
	}
	return nil
}

// Tasks are the "tasks" files of the container's cgroups, for the init to move
// itself into (rootless.Spec.CgroupTasks) rather than be moved by Enter: a move
// of a process by pid waits for an RCU grace period, 5 to 20 ms here, where a
// thread's move of itself takes 0.1 ms (see rootless's initContainer).
func (c *Cgroup) Tasks() []string {
	tasks := make([]string, 0, len(c.dirs))
	for _, dir := range c.dirs {
		tasks = append(tasks, filepath.Join(dir, "tasks"))
	}
	return tasks
}

func writeProcs(dir string, pid int) error {
	return cgroupv2.WriteFile(dir, "cgroup.procs", strconv.Itoa(pid))
}

// Cgroup2 is false: the container sees no cgroup filesystem of its own on v1.
func (c *Cgroup) Cgroup2() bool { return false }

// OOMMessage reports a kill by the OOM killer in the container's memory cgroup
// (memory.oom_control: oom_kill, Linux 4.13), or "".
func (c *Cgroup) OOMMessage() string {
	if c.memory == "" {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(c.memory, "memory.oom_control"))
	if err != nil {
		return ""
	}
	return cgroupv2.OOMMessage(cgroupv2.EventCount(string(b), "oom_kill"), c.limit)
}

// Close kills what is left in the container's cgroups and removes them. Call once.
func (c *Cgroup) Close() error {
	var errs []error
	for _, dir := range c.dirs {
		errs = append(errs, remove(dir))
	}
	c.dirs = nil
	return errors.Join(errs...)
}

// remove kills the processes of a v1 cgroup (v1 has no cgroup.kill) and removes
// it, waiting a bounded time for the kernel to let go of them.
func remove(dir string) error { return cgroupv2.RemoveDir(dir, killAll) }

func killAll(dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	}
}
