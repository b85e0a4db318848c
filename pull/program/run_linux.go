package program

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// Name is the program's name, in ps and in errors.
const Name = "ccrun-pull"

// Run runs the program, whose executable is binary, on req and returns its
// reply. The program's progress goes to this process's stderr. A reply's error
// comes back as a Reply, not as err, which is for failures to run the program
// at all.
func Run(binary string, req Request) (Reply, error) {
	exe, err := sealed(binary)
	if err != nil {
		return Reply{}, fmt.Errorf("run %s: %w", Name, err)
	}
	defer exe.Close()
	parent, child, err := socketPair()
	if err != nil {
		return Reply{}, fmt.Errorf("run %s: %w", Name, err)
	}
	defer parent.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		child.Close()
		return Reply{}, fmt.Errorf("run %s: %w", Name, err)
	}
	defer null.Close()
	logRequest(req)
	attr := &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{null.Fd(), os.Stdout.Fd(), os.Stderr.Fd(), child.Fd()},
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	}
	// The child executes the program by its descriptor's name, so that
	// descriptor must survive ForkExec's shuffling of Files (see sealed).
	path := fmt.Sprintf("/proc/self/fd/%d", exe.Fd())
	wait, err := start(path, []string{Name}, attr)
	child.Close()
	if err != nil {
		return Reply{}, fmt.Errorf("run %s: %w", Name, err)
	}
	reply, cerr := converse(parent, req)
	ws := <-wait
	switch {
	case cerr == nil:
		return reply, nil
	case ws.Signaled():
		return Reply{}, fmt.Errorf("%s: killed by %v", Name, ws.Signal())
	case ws.ExitStatus() != 0:
		return Reply{}, fmt.Errorf("%s: exit status %d", Name, ws.ExitStatus())
	}
	return Reply{}, fmt.Errorf("%s: %w", Name, cerr)
}

// converse sends req and reads the reply, which the program writes just before
// it exits.
func converse(f *os.File, req Request) (Reply, error) {
	if err := json.NewEncoder(f).Encode(req); err != nil {
		return Reply{}, fmt.Errorf("send request: %w", err)
	}
	var reply Reply
	if err := json.NewDecoder(f).Decode(&reply); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("it exited without a reply")
		}
		return Reply{}, fmt.Errorf("read reply: %w", err)
	}
	return reply, nil
}

func logRequest(req Request) {
	if req.Password != "" {
		req.Password = "(left out)"
	}
	b, _ := json.Marshal(req)
	slog.Debug("exec "+Name, "request", string(b))
}

// sealed copies the embedded program into a memfd and seals it, so that the
// running program cannot be changed, not even by this process.
func sealed(binary string) (*os.File, error) {
	if len(binary) == 0 {
		return nil, errors.New("this ccrun was built without it: build ccrun with make")
	}
	fd, err := unix.MemfdCreate(Name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), Name)
	if _, err := io.WriteString(f, binary); err != nil {
		f.Close()
		return nil, fmt.Errorf("write the memfd: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal the memfd: %w", err)
	}
	// In the child, ForkExec puts Files at descriptors 0 to n-1, first moving
	// some of them to n and above: a memfd there (the lowest free descriptor
	// often is 3) would be replaced before the child executes it.
	high, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, highFD)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("move the memfd: %w", err)
	}
	return os.NewFile(uintptr(high), Name), nil
}

// highFD is where the memfd goes: above what ForkExec touches for our four Files.
const highFD = 64

// socketPair is the request and reply channel: one end stays here, the other
// is the program's fd 3.
func socketPair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "request"), os.NewFile(uintptr(fds[1]), "reply"), nil
}

// start starts the program and waits for it from one goroutine locked to its
// thread: the parent-death signal fires when the thread that started the child
// exits (prctl(2)), so that thread must outlive the child.
func start(path string, argv []string, attr *syscall.ProcAttr) (<-chan syscall.WaitStatus, error) {
	started := make(chan error, 1)
	done := make(chan syscall.WaitStatus, 1)
	go func() {
		runtime.LockOSThread()
		pid, err := syscall.ForkExec(path, argv, attr)
		started <- err
		if err != nil {
			return
		}
		var ws syscall.WaitStatus
		for {
			_, err := syscall.Wait4(pid, &ws, 0, nil)
			if err != syscall.EINTR {
				if err != nil {
					ws = syscall.WaitStatus(125 << 8)
				}
				break
			}
		}
		done <- ws
	}()
	return done, <-started
}
