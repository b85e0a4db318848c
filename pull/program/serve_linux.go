package program

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// syncFD is the program's end of the socket Run made.
const syncFD = 3

// Serve is the program's main: it reads one Request from fd 3, answers it with
// handle, writes the Reply back and returns the exit code.
func Serve(handle func(Request) Reply) int {
	if t, err := unix.GetsockoptInt(syncFD, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || t != unix.SOCK_STREAM {
		fmt.Fprintf(os.Stderr, "%s: this program is run by ccrun (ccrun pull IMAGE), not by hand\n", Name)
		return 125
	}
	f := os.NewFile(syncFD, "request")
	defer f.Close()
	if err := parentAlive(f); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", Name, err)
		return 125
	}
	var req Request
	if err := json.NewDecoder(f).Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "%s: read request: %v\n", Name, err)
		return 125
	}
	if err := json.NewEncoder(f).Encode(handle(req)); err != nil {
		fmt.Fprintf(os.Stderr, "%s: write reply: %v\n", Name, err)
		return 125
	}
	return 0
}

// parentAlive sets the parent-death signal again: the kernel clears it at an
// execve that gains capabilities (prctl(2), PR_SET_PDEATHSIG), and rootless, this
// one does. ccrun's user namespace stage holds the capabilities it raised as
// ambient ones, while this program, executed as uid 0 of the namespace, gets the
// whole bounding set. It then checks that ccrun did not die before: its end of
// the socket would be closed.
func parentAlive(f *os.File) error {
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("set parent death signal: %w", err)
	}
	fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLRDHUP}}
	if n, err := unix.Poll(fds, 0); err == nil && n > 0 && fds[0].Revents&(unix.POLLHUP|unix.POLLRDHUP) != 0 {
		return errors.New("ccrun is gone")
	}
	return nil
}
