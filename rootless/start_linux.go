package rootless

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ccrun/ccrun/rootless/child"
)

// InitName is argv[0] of the init stage, as ps(1) shows it while it sets up.
const InitName = "ccrun:[2:init]"

// InitOptions say how to start the init (P2).
type InitOptions struct {
	// CgroupFD, when >= 0, is the cgroup directory the init starts in
	// (clone3 with CLONE_INTO_CGROUP), so no process of the container ever runs
	// outside its limits.
	CgroupFD int
	// Stdin, Stdout, Stderr are the container's standard streams without a
	// terminal; with Spec.Process.Terminal they only carry the init's own messages.
	Stdin, Stdout, Stderr *os.File
	// BeforeSpec, when set, runs with the init's pid before the init gets its spec
	// (moving it into its cgroup where CLONE_INTO_CGROUP was not available).
	BeforeSpec func(pid int) error
	// MapIDs, when set, starts the init in a new user namespace as well (the
	// rootless case), and starts writing that namespace's uid and gid maps
	// (newuidmap/newgidmap, uidmap.Plans.Start); the init gets its spec once
	// the returned function says they are written. When nil (root), the init
	// stays in the caller's user namespace.
	MapIDs func(pid int) (wait func() error)
}

// Container is the init: cloned by CloneInit, it waits for its spec; once Start
// returns, the command runs as PID 1.
type Container struct {
	Pid int
	// Pty is the master side of the container's terminal (with -t), else nil.
	Pty *os.File
	p   *child.Process

	parent *os.File     // our end of the sync socket, until Start
	mapped func() error // waits for the id maps (nil: no user namespace)
	before func(pid int) error
}

// ExecError is a failure of the init before or at execve, with the exit status ccrun
// should report (125, 126 or 127).
type ExecError struct {
	Msg  string
	Code int
	Hint string // how to fix it, when known
}

func (e *ExecError) Error() string { return e.Msg }

// cloneFlags are the namespaces the init is cloned in: a mount namespace and a
// PID namespace (a process can only be PID 1 of a namespace made with it), and,
// when rootless, the user namespace that owns all of them (InitOptions.MapIDs).
// The init makes the others itself: the network, IPC and UTS namespaces first
// thing, while P0 maps its ids and prepares the root (see unshareEarly), and
// the cgroup namespace once it is in its cgroup (see initContainer). A network
// namespace costs the kernel most of a millisecond to set up (its sysctl
// tables, the loopback device); made at clone, that time was P0's, before it
// could even start newuidmap.
const cloneFlags = unix.CLONE_NEWNS | unix.CLONE_NEWPID

// CloneInit starts the init stage in new namespaces, and, rootless, the writing
// of its id maps. The init then starts Go and waits for its spec (Start), so
// the caller can prepare the container meanwhile: its start, and the helpers'
// work, overlap with the caller's.
//
// Rootless (opts.MapIDs set), the user namespace is made with the mount and PID
// ones, and the init makes the others from inside it (see cloneFlags): the new
// user namespace owns them all, so the init may mount an overlay, proc and
// sysfs there, set the hostname, bring up its loopback. The spec is sent once
// the maps are written: from then on the init is uid 0 of its namespace.
//
// Two ways to make it, the same namespaces either way:
//   - With ccrun's entry point (the Makefile's build on linux/amd64), ccrun is
//     executed without a fork of P0, makes the namespaces before its Go runtime
//     starts, and forks the init, which holds every capability of its namespace
//     from then on (see entry_linux.go).
//   - Without it, Go's clone makes them, by a full fork of P0. The init is then
//     executed before its ids are mapped, with an unmapped uid, and would get
//     no capabilities from that execve (capabilities(7)); so the child of the
//     clone, which holds all of them in its new namespace until then, raises
//     them as ambient capabilities, which survive the execve by any uid. The
//     init clears the ambient set itself before it execs the command.
func CloneInit(opts InitOptions) (*Container, error) {
	parent, peer, err := socketPair()
	if err != nil {
		return nil, err
	}
	sys := &syscall.SysProcAttr{
		Cloneflags: cloneFlags,
		Pdeathsig:  syscall.SIGKILL,
		// A session of its own: the container never shares the caller's
		// controlling terminal, so it cannot TIOCSTI into the caller's shell.
		Setsid: true,
	}
	userNS := opts.MapIDs != nil
	argv := []string{InitName}
	var via func(pid int) (int, error)
	switch {
	case userNS && entryAvailable():
		// ccrun's entry point makes the user namespace and the others, and
		// forks the init, which starts its own session (see entry_linux.go).
		sys.Cloneflags, sys.Setsid = 0, false
		argv = append(argv, userNSArg)
		via = func(mid int) (int, error) { return readEntryReport(parent, mid) }
	case userNS:
		sys.Cloneflags |= unix.CLONE_NEWUSER
		sys.AmbientCaps = child.AllCaps()
	}
	if opts.CgroupFD >= 0 {
		sys.UseCgroupFD = true
		sys.CgroupFD = opts.CgroupFD
	}
	attr := &syscall.ProcAttr{
		Env:   stageEnv(), // the init needs nothing from ours; the spec says all
		Files: []uintptr{opts.Stdin.Fd(), opts.Stdout.Fd(), opts.Stderr.Fd(), peer.Fd()},
		Sys:   sys,
	}
	if via != nil {
		slog.Debug("clone P2", "via", "entry point", "flags", flagNames(entryUnshareFlags), "into_cgroup", opts.CgroupFD >= 0)
	} else {
		slog.Debug("clone P2", "via", "fork", "flags", flagNames(int(sys.Cloneflags)), "into_cgroup", opts.CgroupFD >= 0)
	}
	p, err := child.StartVia("/proc/self/exe", argv, attr, via)
	peer.Close()
	if err != nil {
		parent.Close()
		var he *HintError
		switch {
		case errors.As(err, &he):
			return nil, err
		case userNS && via == nil:
			return nil, userNSError(err)
		}
		return nil, fmt.Errorf("start init: %w", err)
	}
	c := &Container{Pid: p.Pid, p: p, parent: parent, before: opts.BeforeSpec}
	if userNS {
		c.mapped = opts.MapIDs(c.Pid)
	}
	return c, nil
}

// Start sends the init its spec, once its ids are mapped, and waits until it
// has exec'd the command (the sync socket reaches end-of-file) or failed. On
// failure the init is killed and waited for.
func (c *Container) Start(spec *Spec) error {
	defer c.parent.Close()
	spec.UserNS = c.mapped != nil
	if c.mapped != nil {
		if err := c.mapped(); err != nil {
			c.kill()
			return mapError(err)
		}
	}
	if c.before != nil {
		if err := c.before(c.Pid); err != nil {
			c.kill()
			return err
		}
	}
	if err := send(c.parent, message{Type: msgSpec, Spec: spec}); err != nil {
		c.kill()
		return err
	}
	if err := c.waitExec(c.parent); err != nil {
		c.kill()
		return err
	}
	return nil
}

// Abandon kills an init that will not get its spec (the container could not be
// prepared), and waits for it and for the writing of its maps.
func (c *Container) Abandon() {
	c.kill()
	if c.mapped != nil {
		_ = c.mapped() // the helpers fail once the init is gone, or are done
	}
	c.parent.Close()
}

// waitExec reads the init's messages until its end of the socket closes on execve.
func (c *Container) waitExec(parent *os.File) error {
	for {
		m, fds, err := recv(parent)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("init: %w", err)
		}
		switch m.Type {
		case msgPty:
			if len(fds) != 1 {
				closeAll(fds)
				return errors.New("init: pty message without exactly one descriptor")
			}
			c.Pty = os.NewFile(uintptr(fds[0]), "ptmx")
		case msgError:
			closeAll(fds)
			return &ExecError{Msg: m.Error, Code: m.Code, Hint: m.Hint}
		default:
			closeAll(fds)
			return fmt.Errorf("init: unexpected message %q", m.Type)
		}
	}
}

func (c *Container) kill() {
	c.p.Kill()
	if c.Pty != nil {
		c.Pty.Close()
	}
}

// Signal sends sig to the container's PID 1. From outside its PID namespace every
// signal is delivered, but PID 1 acts only on those it has a handler for, except
// SIGKILL (pid_namespaces(7)).
func (c *Container) Signal(sig os.Signal) error {
	return syscall.Kill(c.Pid, sig.(syscall.Signal))
}

// Done delivers the wait status of PID 1 when it exits.
func (c *Container) Done() <-chan syscall.WaitStatus { return c.p.Done }

func flagNames(f int) string {
	names := []struct {
		bit  int
		name string
	}{
		{unix.CLONE_NEWUSER, "CLONE_NEWUSER"}, {unix.CLONE_NEWNS, "CLONE_NEWNS"},
		{unix.CLONE_NEWPID, "CLONE_NEWPID"}, {unix.CLONE_NEWUTS, "CLONE_NEWUTS"},
		{unix.CLONE_NEWIPC, "CLONE_NEWIPC"}, {unix.CLONE_NEWNET, "CLONE_NEWNET"},
		{unix.CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
	}
	var out []string
	for _, n := range names {
		if f&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return strings.Join(out, "|")
}
