package child

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The memfd must be unwritable, and out of the way of the descriptors ForkExec
// arranges in a child: at 3, it would be replaced by the request socket before
// the child executes /proc/self/fd/3 (seen when it was so).
func TestSealed(t *testing.T) {
	f, err := Sealed("test", "#!/bin/true\n")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Fd() < HighFD {
		t.Errorf("memfd at descriptor %d, below %d", f.Fd(), HighFD)
	}
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE; seals&want != want {
		t.Errorf("seals %#x, want %#x", seals, want)
	}
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Error("the sealed memfd took a write")
	}
	if _, err := Sealed("nothing", ""); err == nil || !strings.Contains(err.Error(), "built without it") {
		t.Errorf("Sealed of no program: %v", err)
	}
}

// Start reports the child's exit status, and a child that cannot be executed.
func TestStart(t *testing.T) {
	attr := &syscall.ProcAttr{Files: []uintptr{0, 1, 2}}
	p, err := Start("/bin/sh", []string{"sh", "-c", "exit 7"}, attr)
	if err != nil {
		t.Fatal(err)
	}
	if ws := <-p.Done; ws.ExitStatus() != 7 {
		t.Errorf("exit status %d, want 7", ws.ExitStatus())
	}
	p, err = Start("/bin/sleep", []string{"sleep", "60"}, attr)
	if err != nil {
		t.Fatal(err)
	}
	p.Kill()
	if err := syscall.Kill(p.Pid, 0); err == nil {
		t.Errorf("pid %d is alive after Kill", p.Pid)
	}
	if _, err := Start("/no/such/program", []string{"x"}, attr); err == nil {
		t.Error("Start of a missing program succeeded")
	}
}

// StartVia waits for the process via hands over, not the one it started, and
// reports via's error.
func TestStartVia(t *testing.T) {
	attr := &syscall.ProcAttr{Files: []uintptr{0, 1, 2}}
	var first int
	p, err := StartVia("/bin/true", []string{"true"}, attr, func(pid int) (int, error) {
		first = pid
		var ws syscall.WaitStatus
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || ws.ExitStatus() != 0 {
			return 0, fmt.Errorf("first process: %v, status %d", err, ws.ExitStatus())
		}
		return syscall.ForkExec("/bin/sh", []string{"sh", "-c", "exit 9"}, attr)
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Pid == first || first == 0 {
		t.Errorf("pid %d, first %d: want the second process", p.Pid, first)
	}
	if ws := <-p.Done; ws.ExitStatus() != 9 {
		t.Errorf("exit status %d, want 9 (the second process's)", ws.ExitStatus())
	}
	_, err = StartVia("/bin/true", []string{"true"}, attr, func(pid int) (int, error) {
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(pid, &ws, 0, nil)
		return 0, errors.New("no report")
	})
	if err == nil || err.Error() != "no report" {
		t.Errorf("StartVia whose via failed: %v", err)
	}
}

// Reap returns how a child ended, which ExitDescription says as a shell does.
func TestReapAndExitDescription(t *testing.T) {
	attr := &syscall.ProcAttr{Files: []uintptr{0, 1, 2}}
	for script, want := range map[string]string{"exit 3": "exit status 3", "kill -9 $$": "killed by killed"} {
		pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", script}, attr)
		if err != nil {
			t.Fatal(err)
		}
		ws, err := Reap(pid)
		if err != nil || ExitDescription(ws) != want {
			t.Errorf("sh -c %q: %q, %v; want %q", script, ExitDescription(ws), err, want)
		}
	}
	if _, err := Reap(1 << 22); err != syscall.ECHILD {
		t.Errorf("Reap of no child: %v, want ECHILD", err)
	}
}

// ParentAlive tells a hung-up socket from one whose other end is open.
func TestParentAlive(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	mine, theirs := os.NewFile(uintptr(fds[0]), "mine"), os.NewFile(uintptr(fds[1]), "theirs")
	defer mine.Close()
	if err := ParentAlive(mine); err != nil {
		t.Errorf("with the other end open: %v", err)
	}
	theirs.Close()
	if err := ParentAlive(mine); err == nil {
		t.Error("with the other end closed: no error")
	}
	// The test process must not keep a parent-death signal it did not have.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, 0, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
}
