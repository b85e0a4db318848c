// Package child is how ccrun starts processes of its own (the user namespace
// stage, the init, the pull program) so that none outlives the process that
// started it, and how it runs a program it carries from a sealed memfd.
//
// # The lesson
//
// The kernel sends a process its parent-death signal (prctl(2),
// PR_SET_PDEATHSIG) when the *thread* that created it exits, so the child is
// started and waited for from one goroutine locked to its OS thread. The kernel
// also clears that signal at an execve that gains capabilities, which ccrun's
// children often do (a new user namespace, uid 0 in it): a child sets it again
// first thing and checks that its parent did not die before (ParentAlive).
//
// A program ccrun carries (go:embed) runs from a memfd (memfd_create(2)) sealed
// against every change (fcntl(2), F_ADD_SEALS): nothing is unpacked on disk, and
// a process that opens /proc/PID/exe of it reaches an anonymous, unwritable file,
// never a binary on the host that it could overwrite (CVE-2019-5736).
package child

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Process is a child started by Start.
type Process struct {
	Pid int
	// Done delivers the child's wait status when it exits (125 when it cannot
	// be told: ccrun's failure, never success).
	Done <-chan syscall.WaitStatus
}

// Start starts a child with syscall.ForkExec and waits for it, from a thread
// that lives as long as the child: set attr.Sys.Pdeathsig and the child dies
// with this process. (os/exec is not used: on its first use it forks once more
// to probe the kernel for pidfd support, a cost on every container start.)
//
// The thread is the main one when the caller runs there, as ccrun's main
// goroutine does early on: Go never ends the main thread before the process
// (a goroutine locked to it that returns only wedges it), so the child is
// started right there and waited for by a goroutine of its own. Elsewhere
// the child is started and waited for from one goroutine locked to its
// thread, which Go ends when that goroutine returns, after the wait; handing
// the result back from that thread to the caller's costs a few thread
// wake-ups, most of a millisecond on a busy 2-CPU machine.
func Start(path string, argv []string, attr *syscall.ProcAttr) (*Process, error) {
	return StartVia(path, argv, attr, nil)
}

// StartVia is Start for a child that makes the real one: when via is set, it is
// called with the pid of the started process, on the same thread, and returns
// the pid of the process to wait for, a child of ours too (clone(2),
// CLONE_PARENT), having reaped the one started. The thread that started the
// first process is its parent for the parent-death signal, and lives as long
// as the second.
func StartVia(path string, argv []string, attr *syscall.ProcAttr, via func(pid int) (int, error)) (*Process, error) {
	forkExec := func() (int, error) {
		pid, err := syscall.ForkExec(path, argv, attr)
		if err != nil || via == nil {
			return pid, err
		}
		return via(pid)
	}
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		pid, err := forkExec()
		runtime.UnlockOSThread()
		if err != nil {
			return &Process{Pid: pid}, err
		}
		done := make(chan syscall.WaitStatus, 1)
		go func() { done <- wait(pid) }()
		return &Process{Pid: pid, Done: done}, nil
	}
	runtime.UnlockOSThread()
	type result struct {
		pid int
		err error
	}
	started := make(chan result, 1)
	done := make(chan syscall.WaitStatus, 1)
	go func() {
		runtime.LockOSThread()
		pid, err := forkExec()
		started <- result{pid, err}
		if err != nil {
			return
		}
		done <- wait(pid)
	}()
	r := <-started
	return &Process{Pid: r.pid, Done: done}, r.err
}

// wait waits for child pid and returns its wait status (125 when it cannot be
// told: ccrun's failure, never success).
func wait(pid int) syscall.WaitStatus {
	ws, err := Reap(pid)
	if err != nil {
		return syscall.WaitStatus(125 << 8)
	}
	return ws
}

// Reap waits for child pid to end, through interrupted waits (EINTR), and
// returns its wait status.
func Reap(pid int) (syscall.WaitStatus, error) {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			return ws, err
		}
	}
}

// ExitDescription says how a reaped child ended, as a shell does: "exit
// status N" or "killed by SIGNAL".
func ExitDescription(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "killed by " + ws.Signal().String()
	}
	return "exit status " + strconv.Itoa(ws.ExitStatus())
}

// Kill kills the child and waits for it.
func (p *Process) Kill() {
	_ = syscall.Kill(p.Pid, syscall.SIGKILL)
	<-p.Done
}

// ParentAlive sets the parent-death signal (SIGKILL) again, and then checks
// that the parent did not die before: sync, a socket whose other end the
// parent holds, would then be hung up.
func ParentAlive(sync *os.File) error {
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("set parent death signal: %w", err)
	}
	fds := []unix.PollFd{{Fd: int32(sync.Fd()), Events: unix.POLLRDHUP}}
	if n, err := unix.Poll(fds, 0); err == nil && n > 0 && fds[0].Revents&(unix.POLLHUP|unix.POLLRDHUP) != 0 {
		return errors.New("the parent is gone")
	}
	return nil
}

// HighFD is where Sealed puts its memfd: above the descriptors ForkExec
// arranges in a child, which puts attr.Files at 0 to n-1 after first moving
// some of them to n and above. A child executing /proc/self/fd/N needs N to
// survive that (at 3 it was replaced by a socket, seen when it was so).
const HighFD = 64

// Sealed writes program into a memfd named name, seals it against every
// change, and returns it at a descriptor of HighFD or above, close-on-exec.
func Sealed(name, program string) (*os.File, error) {
	if len(program) == 0 {
		return nil, fmt.Errorf("%s: this ccrun was built without it: build ccrun with make", name)
	}
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	if _, err := io.WriteString(f, program); err != nil {
		return nil, fmt.Errorf("write %s to a memfd: %w", name, err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		return nil, fmt.Errorf("seal the memfd: %w", err)
	}
	high, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, HighFD)
	if err != nil {
		return nil, fmt.Errorf("move the memfd: %w", err)
	}
	return os.NewFile(uintptr(high), name), nil
}

// AllCaps lists every capability the kernel knows. A new user namespace gives
// its creator all of them, and a full bounding set (user_namespaces(7)), so the
// child of a clone with CLONE_NEWUSER can raise each as an ambient capability
// (syscall.SysProcAttr.AmbientCaps) and keep it across its execve, though its
// uid is not mapped yet, whatever the caller's own bounding set.
func AllCaps() []uintptr {
	var set []uintptr
	for c := 0; c < 64; c++ {
		// PR_CAPBSET_READ fails with EINVAL past the kernel's last capability.
		if _, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0); err != nil {
			break
		}
		set = append(set, uintptr(c))
	}
	return set
}
