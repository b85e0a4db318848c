package cgroupv2

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Cgroup is one container's place in the cgroup v2 tree: a directory delegated to
// ccrun (a systemd scope, or one made by Direct), split into two leaves, because
// cgroup v2 lets only cgroups without processes of their own hand controllers to
// their children (the "no internal process" rule, cgroup-v2.rst):
//
//	ccrun-<id>.scope/            Dir: no process; cgroup.subtree_control "+memory +pids +cpu"
//	├── supervisor/              ccrun's supervisor (P1), no limits
//	└── container/               the container: its limits, its cgroup namespace root
type Cgroup struct {
	// Dir is the delegated directory.
	Dir string
	// Unit is the systemd scope, "" when Direct made Dir.
	Unit string

	fd     int    // O_PATH descriptor of the container leaf, for CLONE_INTO_CGROUP
	memory int64  // the memory limit, for the OOM message
	origin string // Direct: the supervisor's cgroup before Split, to return to
	pid    int    // the supervisor
	// enableIn are the cgroups above Dir that must pass the controllers down
	// (Direct's parent); enableErr is why that failed.
	enableIn  []string
	enableErr error
	fix       func(controller string) string
}

// Supervisor is the leaf of ccrun's supervisor.
func (c *Cgroup) Supervisor() string { return filepath.Join(c.Dir, "supervisor") }

// Container is the container's leaf.
func (c *Cgroup) Container() string { return filepath.Join(c.Dir, "container") }

// Split creates the two leaves and moves the supervisor (pid, ccrun's P1) into
// its own: from then on Dir has no process, and can enable controllers.
func (c *Cgroup) Split(pid int) error {
	for _, leaf := range []string{c.Supervisor(), c.Container()} {
		if err := os.Mkdir(leaf, 0o755); err != nil {
			return fmt.Errorf("create cgroup %s: %w", leaf, err)
		}
	}
	if err := WriteFile(c.Supervisor(), "cgroup.procs", strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("move supervisor: %w", err)
	}
	c.pid = pid
	fd, err := unix.Open(c.Container(), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open cgroup %s: %w", c.Container(), err)
	}
	c.fd = fd
	slog.Debug("cgroup leaves", "supervisor", c.Supervisor(), "container", c.Container())
	return nil
}

// Limit enables the controllers the limits need and writes the limits into the
// container's leaf. A requested limit whose controller Dir was not given fails
// with a *ControllerError that says how to get it; a default (pids.max) without
// its controller is dropped.
func (c *Cgroup) Limit(l Limits) error {
	writes := l.Plan()
	for _, parent := range c.enableIn {
		if err := enable(parent, Controllers(writes)); err != nil {
			// Reported only if a requested limit then lacks its controller (keep).
			slog.Debug("pass controllers down", "dir", parent, "err", err)
			c.enableErr = err
		}
	}
	have, err := readControllers(c.Dir)
	if err != nil {
		return err
	}
	if writes, err = c.keep(writes, have); err != nil {
		return err
	}
	if err := enable(c.Dir, Controllers(writes)); err != nil {
		return err
	}
	for _, w := range writes {
		if err := w.Apply(c.Container()); err != nil {
			return err
		}
	}
	c.memory = l.Memory
	return nil
}

// keep drops the default writes whose controller is missing, and fails on a
// requested one.
func (c *Cgroup) keep(writes []Write, have []string) ([]Write, error) {
	var out []Write
	for _, w := range writes {
		switch {
		case slices.Contains(have, w.Controller):
			out = append(out, w)
		case w.Requested:
			return nil, &ControllerError{Flag: w.Flag, Controller: w.Controller, Dir: c.Dir, Have: have, Fix: c.fixFor(w.Controller)}
		default:
			slog.Debug("no controller for a default limit; skipped", "controller", w.Controller, "file", w.File)
		}
	}
	return out, nil
}

func (c *Cgroup) fixFor(controller string) string {
	if c.enableErr != nil {
		return fmt.Sprintf("%v; cgroup v2 passes controllers only to the children of a cgroup without processes "+
			"of its own, so run ccrun from a cgroup of its own (for example under `systemd-run --scope -p Delegate=yes`)", c.enableErr)
	}
	if c.fix != nil {
		return c.fix(controller)
	}
	return ""
}

// Apply performs one write of a plan in the cgroup directory dir.
func (w Write) Apply(dir string) error {
	err := WriteFile(dir, w.File, w.Value)
	if errors.Is(err, os.ErrNotExist) && w.Optional && !w.Requested {
		slog.Debug("optional cgroup file missing; skipped", "file", w.File)
		return nil
	}
	if errors.Is(err, os.ErrNotExist) && w.Optional {
		return fmt.Errorf("set %s: the kernel has no %s (swap accounting is off)", w.Flag, w.File)
	}
	if err != nil {
		return fmt.Errorf("set %s: %w", w.Flag, err)
	}
	slog.Debug("cgroup write", "file", filepath.Join(dir, w.File), "value", w.Value)
	return nil
}

// enable passes controllers to dir's children (cgroup.subtree_control), one at a
// time, skipping those already enabled and those dir does not have itself.
func enable(dir string, controllers []string) error {
	have, err := readControllers(dir)
	if err != nil {
		return err
	}
	on, err := readList(dir, "cgroup.subtree_control")
	if err != nil {
		return err
	}
	for _, ctl := range controllers {
		if !slices.Contains(have, ctl) || slices.Contains(on, ctl) {
			continue
		}
		if err := WriteFile(dir, "cgroup.subtree_control", "+"+ctl); err != nil {
			return fmt.Errorf("enable the %s controller: %w", ctl, err)
		}
	}
	return nil
}

func readControllers(dir string) ([]string, error) { return readList(dir, "cgroup.controllers") }

func readList(dir, file string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, file), err)
	}
	return strings.Fields(string(b)), nil
}

// WriteFile writes one value to the cgroup interface file dir/file, without
// O_CREAT or O_TRUNC (cgroupfs files exist or the kernel lacks them).
func WriteFile(dir, file, value string) error {
	p := filepath.Join(dir, file)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", p, unwrapPath(err))
	}
	if _, err := f.WriteString(value); err != nil {
		f.Close()
		return fmt.Errorf("write %q to %s: %w", value, p, unwrapPath(err))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %q to %s: %w", value, p, unwrapPath(err))
	}
	return nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// FD is an O_PATH descriptor of the container's leaf, for clone3(2) with
// CLONE_INTO_CGROUP (Go's SysProcAttr.UseCgroupFD): the init is born inside its
// limits, before it can run a single instruction outside them. -1 before Split.
func (c *Cgroup) FD() int { return c.fd }

// Enter moves pid into the container's leaf: the fallback where clone3 is not
// available. Writing a pid already there changes nothing.
func (c *Cgroup) Enter(pid int) error {
	if err := WriteFile(c.Container(), "cgroup.procs", strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("move pid %d into the container's cgroup: %w", pid, err)
	}
	return nil
}

// Cgroup2 is true: the container gets its cgroup namespace's cgroup2 read-only.
func (c *Cgroup) Cgroup2() bool { return true }

// OOMMessage reports a kill by the OOM killer inside the container's leaf
// (memory.events: oom_kill), or "" when there was none.
func (c *Cgroup) OOMMessage() string {
	b, err := os.ReadFile(filepath.Join(c.Container(), "memory.events"))
	if err != nil {
		return ""
	}
	return OOMMessage(EventCount(string(b), "oom_kill"), c.memory)
}

// OOMMessage is the line ccrun prints after kills by the OOM killer.
func OOMMessage(kills, limit int64) string {
	switch {
	case kills == 0:
		return ""
	case limit > 0:
		return fmt.Sprintf("container killed: out of memory (limit %s)", FormatBytes(limit))
	}
	return "container killed: out of memory"
}

// EventCount reads the counter key from a "key value" file (memory.events,
// pids.events, cpu.stat, memory.oom_control).
func EventCount(data, key string) int64 {
	for _, line := range strings.Split(data, "\n") {
		k, v, ok := strings.Cut(line, " ")
		if ok && k == key {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// Close removes the container's leaf, killing whatever is left in it
// (cgroup.kill). The supervisor leaf and the scope hold the caller itself: systemd
// removes them when it exits. After Direct, the supervisor goes back to where it
// came from and both are removed now, when the kernel allows it. Call once.
func (c *Cgroup) Close() error {
	if c.fd >= 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
	err := removeLeaf(c.Container())
	if c.origin != "" && c.pid > 0 && WriteFile(c.origin, "cgroup.procs", strconv.Itoa(c.pid)) == nil {
		_ = removeLeaf(c.Supervisor())
		_ = unix.Rmdir(c.Dir)
	}
	return err
}

// removeLeaf empties a leaf with cgroup.kill (Linux 5.14) and removes it.
func removeLeaf(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return RemoveDir(dir, func(dir string) {
		// Best effort: without cgroup.kill (before 5.14) the deadline reports it.
		if err := WriteFile(dir, "cgroup.kill", "1"); err != nil {
			slog.Debug("kill the processes of a cgroup", "err", err)
		}
	})
}

// RemoveDir removes a cgroup directory, calling kill between attempts: a cgroup
// cannot be removed while a process, even a zombie, is charged to it, so this
// waits, a bounded time, for the kernel to finish the kills.
func RemoveDir(dir string, kill func(dir string)) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return fmt.Errorf("remove cgroup %s: %w", dir, err)
		}
		kill(dir)
		time.Sleep(10 * time.Millisecond)
	}
}

// ControllerError is a requested limit that needs a controller the cgroup was not
// given.
type ControllerError struct {
	Flag, Controller string
	Dir              string
	Have             []string
	// Fix says what would give the controller: for the user's systemd, the exact
	// drop-in.
	Fix string
}

func (e *ControllerError) Error() string {
	have := strings.Join(e.Have, " ")
	if have == "" {
		have = "none"
	}
	return fmt.Sprintf("set %s: the %s controller is not delegated to %s (it has: %s)", e.Flag, e.Controller, e.Dir, have)
}
