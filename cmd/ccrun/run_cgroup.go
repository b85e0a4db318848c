package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"github.com/ccrun/ccrun/cgroupv2"
	v1 "github.com/ccrun/ccrun/cgroupv2/v1"
)

// containerCgroup is where the container runs and what limits it: a delegated
// cgroup v2 leaf, v1 cgroups as root, or nothing at all.
type containerCgroup interface {
	// FD is an O_PATH descriptor of the container's cgroup v2 leaf, for
	// clone3(CLONE_INTO_CGROUP), or -1.
	FD() int
	// Enter puts pid in the container's cgroup when FD() was -1 (or clone3 was
	// not there); with no cgroup it does nothing.
	Enter(pid int) error
	// Cgroup2: mount a read-only cgroup2 at /sys/fs/cgroup in the container.
	Cgroup2() bool
	// OOMMessage is "container killed: out of memory (limit 32 MiB)" after an OOM
	// kill, else "".
	OOMMessage() string
	// Close removes what was made for the container. Call once.
	Close() error
}

// cgroupManager is how the container gets its cgroup.
type cgroupManager int

const (
	noCgroup     cgroupManager = iota
	systemdScope               // a transient scope with Delegate=yes (cgroupv2.Delegate)
	directCgroup               // made in our own writable cgroup v2 (cgroupv2.Direct)
	v1Cgroups                  // root on a cgroup v1 host (package cgroupv2/v1)
)

func (m cgroupManager) String() string {
	return [...]string{"none", "systemd", "cgroupfs", "cgroup v1"}[m]
}

// cgroupHost is what decides the manager: facts about the host and the caller.
type cgroupHost struct {
	layout   cgroupv2.Layout
	rootless bool
	bus      cgroupv2.Bus
	systemd  bool   // bus is there to ask
	writable error  // nil when our own cgroup v2 is writable (Direct is possible)
	force    string // --cgroup-manager: "", "systemd" or "cgroupfs"
}

// setupCgroup gives the container (id) its cgroup and limits, in P0. Rootless on a
// systemd host, the user's systemd delegates a scope; as root, systemd on the
// system bus; without systemd, a cgroup we may write; on cgroup v1, root's own v1
// cgroups. When none of these is possible, a run that asks for a limit fails with
// what would fix it, and a run that asks for none runs without a cgroup, quietly.
// --cgroup-manager=systemd|cgroupfs (podman's flag) forces one way, for hosts where
// the choice is wrong and for tests.
func setupCgroup(ctx context.Context, g *globals, o *runOptions, id string) (containerCgroup, error) {
	l, err := limitsFromOptions(o)
	if err != nil {
		return nil, err
	}
	h := probeCgroupHost(g.CgroupManager)
	m, err := chooseCgroupManager(h, l.Requested())
	if err != nil {
		return nil, err
	}
	slog.Debug("cgroup manager", "manager", m, "layout", h.layout, "limits", fmt.Sprintf("%+v", l))
	cg, err := makeCgroup(ctx, m, h, id, l)
	if err != nil && len(l.Requested()) == 0 {
		// Only the default pids.max was at stake: run without a cgroup rather
		// than fail a run that asked for nothing.
		slog.Debug("no cgroup for the container", "err", err)
		return none(h), nil
	}
	return cg, err
}

func none(h cgroupHost) containerCgroup { return noLimits{cgroup2: h.layout == cgroupv2.Unified} }

// makeCgroup creates the cgroup the manager m gives, with the limits l.
func makeCgroup(ctx context.Context, m cgroupManager, h cgroupHost, id string, l cgroupv2.Limits) (containerCgroup, error) {
	switch m {
	case v1Cgroups:
		return v1.Create(id, l)
	case systemdScope:
		cg, err := cgroupv2.Delegate(ctx, h.bus, "ccrun-"+id+".scope", os.Getpid())
		if err != nil {
			return nil, withHint(err, systemdHint(h))
		}
		return limitLeaves(cg, l)
	case directCgroup:
		cg, err := cgroupv2.Direct(id, os.Getpid())
		if err != nil {
			return nil, err
		}
		return limitLeaves(cg, l)
	}
	return none(h), nil
}

// limitLeaves splits the delegated cgroup into the supervisor's leaf and the
// container's, and writes the limits.
func limitLeaves(cg *cgroupv2.Cgroup, l cgroupv2.Limits) (containerCgroup, error) {
	err := cg.Split(os.Getpid())
	if err == nil {
		err = cg.Limit(l)
	}
	if err == nil {
		return cg, nil
	}
	if cerr := cg.Close(); cerr != nil {
		slog.Debug("remove cgroup after a failure", "err", cerr)
	}
	var ce *cgroupv2.ControllerError
	if errors.As(err, &ce) && ce.Fix != "" {
		return nil, withHint(err, ce.Fix)
	}
	return nil, err
}

// probeCgroupHost gathers the facts chooseCgroupManager decides on.
func probeCgroupHost(force string) cgroupHost {
	h := cgroupHost{
		layout:   cgroupv2.HostLayout(),
		rootless: rootlessMode(),
		force:    force,
	}
	h.bus = cgroupv2.Bus{User: h.rootless, UID: hostUID()}
	if h.layout == cgroupv2.Unified {
		h.systemd = h.bus.Available()
		h.writable = cgroupv2.CanDirect(os.Getpid())
	}
	return h
}

// chooseCgroupManager decides how the container gets a cgroup, or why it cannot
// have the limits it asks for (requested lists their flags).
func chooseCgroupManager(h cgroupHost, requested []string) (cgroupManager, error) {
	if h.layout != cgroupv2.Unified {
		if !h.rootless {
			return v1Cgroups, nil
		}
		if len(requested) == 0 {
			return noCgroup, nil
		}
		return noCgroup, withHint(
			fmt.Errorf("%s: this host has %s, and cgroup v1 cannot be delegated to an unprivileged user, so the limit cannot be enforced",
				strings.Join(requested, ", "), h.layout),
			"boot the host with cgroup v2 (kernel parameter systemd.unified_cgroup_hierarchy=1) under systemd, "+
				"run ccrun as root, or run without "+strings.Join(requested, ", "))
	}
	switch {
	case h.force == "cgroupfs" || (h.force == "" && !h.systemd && h.writable == nil):
		return directCgroup, nil
	case h.force == "systemd" || h.systemd:
		return systemdScope, nil
	case len(requested) == 0:
		return noCgroup, nil
	}
	return noCgroup, withHint(
		fmt.Errorf("%s: no cgroup to enforce it in: %s is not there, and our own cgroup is not ours to use (%v)",
			strings.Join(requested, ", "), h.bus, h.writable), systemdHint(h))
}

func systemdHint(h cgroupHost) string {
	if h.rootless {
		return "ccrun asks your user's systemd (systemd --user) for a cgroup: log in through systemd-logind " +
			"(ssh or a desktop session; not su or sudo), or have root run `loginctl enable-linger " + userName() + "`"
	}
	return "ccrun asks systemd (PID 1) for a cgroup over the system bus; without systemd, run ccrun in a cgroup " +
		"of its own that it may write (--cgroup-manager=cgroupfs)"
}

func userName() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "$USER"
}

// limitsFromOptions reads the docker-style limit flags.
func limitsFromOptions(o *runOptions) (cgroupv2.Limits, error) {
	l := cgroupv2.Limits{CPUs: o.cpus, CPUShares: o.cpuShares}
	var err error
	if o.memory != "" {
		if l.Memory, err = cgroupv2.ParseBytes(o.memory); err != nil {
			return l, fmt.Errorf("--memory: %w", err)
		}
	}
	switch o.memorySwap {
	case "":
	case "-1":
		l.MemorySwap = -1
	default:
		if l.MemorySwap, err = cgroupv2.ParseBytes(o.memorySwap); err != nil {
			return l, fmt.Errorf("--memory-swap: %w", err)
		}
	}
	if o.pidsLimitSet {
		l.Pids = o.pidsLimit
		if l.Pids == 0 { // docker: 0 is unlimited too
			l.Pids = -1
		}
	}
	return l, l.Validate(runtime.NumCPU())
}

// selfEntered is a containerCgroup the init enters itself, on cgroup v1 (see
// v1.Cgroup.Tasks), rather than being moved in by Enter.
type selfEntered interface{ Tasks() []string }

// cgroupTasks are the v1 "tasks" files the init moves itself into, or nil when
// it needs no moving or Enter moves it.
func cgroupTasks(cg containerCgroup) []string {
	if s, ok := cg.(selfEntered); ok {
		return s.Tasks()
	}
	return nil
}

// noLimits is the container without a cgroup of its own.
type noLimits struct{ cgroup2 bool }

func (n noLimits) FD() int            { return -1 }
func (n noLimits) Enter(int) error    { return nil }
func (n noLimits) Cgroup2() bool      { return n.cgroup2 }
func (n noLimits) OOMMessage() string { return "" }
func (n noLimits) Close() error       { return nil }
