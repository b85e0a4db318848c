// Package reaper is PID 1 of a container run with --init: a small program of its
// own (cmd/ccrun-init), which ccrun embeds and the container's init executes from a
// sealed memfd in place of the command.
//
// # The lesson
//
// PID 1 of a PID namespace has two duties no ordinary program expects
// (pid_namespaces(7)): every orphan of the namespace becomes its child, and must be
// reaped (wait(2)) or it stays a zombie; and the kernel delivers it only the signals
// it has a handler for, so a Ctrl-C or a `ccrun` stop signal does nothing to a
// command that never installed one. The reaper starts the command as its only
// child, passes every signal on to it, reaps whatever dies, and exits as the
// command did. It is a program of its own, not ccrun, so that the copy the init
// makes of it is small (a memfd copy of ccrun would be ~30 MB).
package reaper

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// Name is the reaper's argv[0], as ps(1) shows it in the container.
const Name = "ccrun-init"

// signals are passed on to the command; SIGCHLD is the reaper's own business.
var signals = []os.Signal{
	unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2,
	unix.SIGWINCH, unix.SIGALRM, unix.SIGCONT, unix.SIGCHLD,
}

// Main is the reaper: it starts the command (args[0] is its resolved path,
// args[1:] its argv), forwards signals to it, reaps every orphan the kernel
// re-parents to PID 1, and exits as the command did. It never returns.
func Main(args []string) {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "ccrun-init: no command")
		os.Exit(125)
	}
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, signals...)
	_, err := unix.IoctlGetTermios(0, unix.TCGETS)
	tty := err == nil
	attr := &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
		// With a terminal the command gets a process group of its own in the
		// foreground, so that Ctrl-C reaches it and not the reaper.
		Sys: &syscall.SysProcAttr{Setpgid: true, Foreground: tty, Ctty: 0},
	}
	child, err := syscall.ForkExec(args[0], args[1:], attr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ccrun: exec %s: %v\n", args[1], err)
		os.Exit(ExecCode(err))
	}
	for sig := range sigs {
		if sig != unix.SIGCHLD {
			_ = unix.Kill(child, sig.(syscall.Signal))
			continue
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if err != nil || pid <= 0 {
				break
			}
			if pid == child {
				os.Exit(ExitCode(ws))
			}
		}
	}
}

// ExitCode is the shell's view of a wait status: the exit code, or 128+N after a
// fatal signal N.
func ExitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// ExecCode is the shell's status for a command that could not be executed: 127
// when it does not exist, else 126.
func ExecCode(err error) int {
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR) {
		return 127
	}
	return 126
}
