package program

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ccrun/ccrun/rootless/child"
)

// Name is the program's name, in ps and in errors.
const Name = "ccrun-pull"

// UserNS says how to run the program in a user namespace of its own: from an
// unprivileged process outside one, which rootless `ccrun run` is when it must
// pull. The store's files belong to your subordinate ids, and only root of a
// namespace where they are mapped can create them.
type UserNS struct {
	// MapIDs writes the namespace's uid and gid maps (newuidmap/newgidmap).
	MapIDs func(pid int) error
	// Env is added to the program's environment: what containers/storage
	// reads to know it runs rootless in a user namespace.
	Env []string
}

// Run runs the program, whose executable is binary, on req and returns its
// reply. The program's progress goes to this process's stderr. A reply's error
// comes back as a Reply, not as err, which is for failures to run the program
// at all. With ns, the program runs in a new user and mount namespace, and the
// request is sent once its ids are mapped.
func Run(binary string, req Request, ns *UserNS) (Reply, error) {
	exe, err := child.Sealed(Name, binary)
	if err != nil {
		return Reply{}, fmt.Errorf("run %s: %w", Name, err)
	}
	defer exe.Close()
	parent, peer, err := socketPair()
	if err != nil {
		return Reply{}, fmt.Errorf("run %s: %w", Name, err)
	}
	defer parent.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		peer.Close()
		return Reply{}, fmt.Errorf("run %s: %w", Name, err)
	}
	defer null.Close()
	logRequest(req)
	attr := &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{null.Fd(), os.Stdout.Fd(), os.Stderr.Fd(), peer.Fd()},
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	}
	if ns != nil {
		attr.Env = append(attr.Env, ns.Env...)
		// The store's layer unpacking chroots, and its overlay driver may make a
		// test mount: both want a mount namespace the user namespace owns. The
		// capabilities survive the execve by a still unmapped uid as ambient
		// ones (see rootless.CloneInit).
		attr.Sys.Cloneflags = unix.CLONE_NEWUSER | unix.CLONE_NEWNS
		attr.Sys.AmbientCaps = child.AllCaps()
	}
	// The child executes the program by its descriptor's name, which is why
	// child.Sealed puts it above the descriptors ForkExec arranges.
	path := fmt.Sprintf("/proc/self/fd/%d", exe.Fd())
	p, err := child.Start(path, []string{Name}, attr)
	peer.Close()
	if err != nil {
		return Reply{}, fmt.Errorf("run %s: %w", Name, err)
	}
	if ns != nil {
		if err := ns.MapIDs(p.Pid); err != nil {
			p.Kill()
			return Reply{}, fmt.Errorf("run %s: map ids in its user namespace: %w", Name, err)
		}
	}
	reply, cerr := converse(parent, req)
	ws := <-p.Done
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

// socketPair is the request and reply channel: one end stays here, the other
// is the program's fd 3.
func socketPair() (parent, peer *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "request"), os.NewFile(uintptr(fds[1]), "reply"), nil
}
