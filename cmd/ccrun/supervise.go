package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ccrun/ccrun/rootless"
	"github.com/ccrun/ccrun/uidmap"
)

// buildSpec assembles the init's spec from the prepared root and process and the
// security settings.
// ids are the init's user namespace maps (nil: no user namespace of its own).
func buildSpec(o *runOptions, id string, root rootless.Root, proc rootless.Process, sec *security, cgroup2 bool, ids *uidmap.Plans) *rootless.Spec {
	hostname := o.hostname
	if hostname == "" {
		hostname = id[:12]
	}
	// devpts refuses a gid that is not mapped: with a single mapping, tty (5) is not.
	devptsGID := 5
	if ids != nil && !uidmap.Contains(ids.GID, 5) {
		devptsGID = -1
	}
	proc.Terminal = o.tty
	if o.tty {
		proc.Rows, proc.Cols = rootless.WindowSize(1)
		if proc.Rows == 0 {
			proc.Rows, proc.Cols = rootless.WindowSize(0)
		}
	}
	spec := &rootless.Spec{
		ID:              id,
		Hostname:        hostname,
		Root:            root,
		Process:         proc,
		Mounts:          rootless.StandardMounts(rootless.PlanOptions{DevptsGID: devptsGID, Cgroup2: cgroup2}),
		MaskedPaths:     rootless.MaskedPaths,
		ReadonlyPaths:   rootless.ReadonlyPaths,
		Caps:            sec.Caps,
		NoNewPrivileges: sec.NoNewPrivileges,
		Seccomp:         sec.Seccomp,
		Init:            o.init,
		Debug:           o.debug,
	}
	if sec.Privileged {
		spec.MaskedPaths, spec.ReadonlyPaths = nil, nil
	}
	return spec
}

// startAndWait clones the init, prepares its spec meanwhile (prepare), starts
// it, connects the terminal, forwards signals and waits for the container's
// PID 1. It returns its exit status the shell way.
func startAndWait(o *runOptions, cg containerCgroup, ids *uidmap.Plans, prepare func() (*rootless.Spec, error)) (int, error) {
	stdin, err := containerStdin(o)
	if err != nil {
		return 0, err
	}
	defer stdin.Close()
	sig := catchSignals()
	opts := rootless.InitOptions{
		CgroupFD: cg.FD(), Stdin: stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		BeforeSpec: func(pid int) error {
			sig.forward()
			// Without clone3 the init starts outside the cgroup and is moved in
			// before it gets its spec, so the command never runs outside it;
			// on cgroup v1 it moves itself (Spec.CgroupTasks).
			if cgroupTasks(cg) != nil {
				return nil
			}
			return cg.Enter(pid)
		},
	}
	if ids != nil {
		opts.MapIDs = ids.Start
	}
	c, err := rootless.CloneInit(opts)
	if err != nil {
		return 0, err
	}
	// A pull may happen here, with its progress; until the spec is sent, a
	// Ctrl-C ends ccrun (see catchSignals), and the waiting init with it (its
	// parent-death signal).
	spec, err := prepare()
	if err != nil {
		c.Abandon()
		return 0, err
	}
	err = c.Start(spec)
	var ee *rootless.ExecError
	if errors.As(err, &ee) {
		fmt.Fprintf(os.Stderr, "ccrun: %s\n", ee.Msg)
		if ee.Hint != "" {
			fmt.Fprintf(os.Stderr, "hint: %s\n", ee.Hint)
		}
		return ee.Code, nil
	}
	if err != nil {
		return 0, err
	}
	var term *terminalRelay
	if c.Pty != nil {
		if term, err = relayTerminal(c.Pty, o.interactive); err != nil {
			_ = c.Signal(unix.SIGKILL)
			<-c.Done()
			c.Pty.Close()
			return 0, err
		}
	}
	ws := supervise(c, sig.sigs, time.Duration(o.stopTimeout)*time.Second, term)
	if term != nil {
		term.finish()
	}
	return rootless.ExitCode(ws), nil
}

// forwarded are the signals ccrun passes on to the container (SIGWINCH only
// resizes its terminal).
var forwarded = []os.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH}

// signals is ccrun's catching of the forwarded signals: until the container is
// being started they do what they would uncaught (during a pull, say): SIGINT,
// SIGTERM, SIGHUP and SIGQUIT end ccrun, Go's default, and the others do
// nothing. From then on they go to sigs, for supervise.
type signals struct {
	sigs     chan os.Signal
	early    chan os.Signal
	notified chan struct{} // closed once early catches them
	starting atomic.Bool
}

// catchSignals starts catching the forwarded signals, from a goroutine. Go's
// first signal.Notify of a signal costs a round trip to the runtime's signal
// thread (ensureSigM), two thread switches: seven took 0.6 to 2 ms of a run on
// 2 busy CPUs, when they were caught just before the spec was sent. Started
// here, before the init is cloned, they are caught while this goroutine waits
// for the clone and for newuidmap and newgidmap to start. (The second Notify,
// in forward, costs nothing: the signals are already caught.) They stay caught
// until ccrun exits (signal.Stop would cost the round trips again): one that
// comes once the container is gone is ignored, rather than ending ccrun
// halfway through deleting the container.
func catchSignals() *signals {
	s := &signals{sigs: make(chan os.Signal, 16), early: make(chan os.Signal, 1), notified: make(chan struct{})}
	go func() {
		signal.Notify(s.early, forwarded...)
		close(s.notified)
		for sig := range s.early {
			switch {
			case s.starting.Load():
			case sig == unix.SIGINT, sig == unix.SIGTERM, sig == unix.SIGHUP, sig == unix.SIGQUIT:
				dieBy(sig)
			}
		}
	}()
	return s
}

// forward sends the forwarded signals to sigs from now on, for supervise: the
// container is about to be started, and they are kept for it.
func (s *signals) forward() {
	<-s.notified
	signal.Notify(s.sigs, forwarded...)
	s.starting.Store(true)
}

// dieBy ends ccrun by sig as Go does when it is not caught: by the signal
// itself, or for SIGQUIT with a dump of the goroutines and status 2.
func dieBy(sig os.Signal) {
	signal.Reset(sig)
	_ = unix.Kill(unix.Getpid(), sig.(syscall.Signal))
	time.Sleep(time.Second) // the signal is on its way
	os.Exit(128 + int(sig.(syscall.Signal)))
}

func containerStdin(o *runOptions) (*os.File, error) {
	if o.interactive && !o.tty {
		fd, err := unix.FcntlInt(0, unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("duplicate stdin: %w", err)
		}
		return os.NewFile(uintptr(fd), "stdin"), nil
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	return f, nil
}

// supervise forwards signals to the container until its PID 1 exits. A PID 1 acts
// only on signals it handles (pid_namespaces(7)), so one that ignores SIGINT or
// SIGTERM could never be stopped: a second Ctrl-C, or the stop timeout after the
// first SIGINT or SIGTERM, sends SIGKILL, which the kernel always delivers.
func supervise(c *rootless.Container, sigs <-chan os.Signal, timeout time.Duration, term *terminalRelay) syscall.WaitStatus {
	var deadline <-chan time.Time
	interrupts := 0
	for {
		select {
		case ws := <-c.Done():
			return ws
		case s := <-sigs:
			if s == unix.SIGWINCH {
				if term != nil {
					term.resize()
				}
				continue
			}
			slog.Debug("forward signal", "signal", s, "pid", c.Pid)
			_ = c.Signal(s)
			if s == unix.SIGINT {
				interrupts++
			}
			if interrupts >= 2 {
				slog.Debug("second interrupt: SIGKILL", "pid", c.Pid)
				_ = c.Signal(unix.SIGKILL)
			}
			if (s == unix.SIGINT || s == unix.SIGTERM) && deadline == nil {
				deadline = time.After(timeout)
			}
		case <-deadline:
			slog.Debug("stop timeout: SIGKILL", "pid", c.Pid)
			_ = c.Signal(unix.SIGKILL)
		}
	}
}

// terminalRelay copies between the caller's terminal and the container's pty.
type terminalRelay struct {
	pty     *os.File
	raw     *rootless.Terminal
	outDone chan struct{}
}

func relayTerminal(pty *os.File, interactive bool) (*terminalRelay, error) {
	t := &terminalRelay{pty: pty, outDone: make(chan struct{})}
	if interactive && rootless.IsTerminal(0) {
		raw, err := rootless.MakeRaw(0)
		if err != nil {
			return nil, err
		}
		t.raw = raw
	}
	if interactive {
		go func() { _, _ = io.Copy(pty, os.Stdin) }()
	}
	go func() {
		// Ends with EIO once the container's last holder of the pty exits.
		_, _ = io.Copy(os.Stdout, pty)
		close(t.outDone)
	}()
	return t, nil
}

func (t *terminalRelay) resize() {
	for _, fd := range []int{0, 1} {
		if rootless.IsTerminal(fd) {
			rootless.ResizePty(t.pty, fd)
			return
		}
	}
}

// finish drains the container's last output and restores the caller's terminal.
func (t *terminalRelay) finish() {
	select {
	case <-t.outDone:
	case <-time.After(2 * time.Second):
	}
	if t.raw != nil {
		if err := t.raw.Restore(); err != nil {
			fmt.Fprintf(os.Stderr, "ccrun: %v\n", err)
		}
	}
	t.pty.Close()
}
