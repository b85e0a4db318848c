package rootless

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ccrun/ccrun/rootless/child"
)

// Environment markers of the user namespace stage (P1). They are internal to ccrun:
// the container's environment is built from the image and the command line only.
const (
	envStage = "_CCRUN_USERNS" // "wait": started, maps not written yet; "ready": mapped
	// containers/storage reads these to know it runs rootless inside a user namespace.
	envStorageUserNS = "_CONTAINERS_USERNS_CONFIGURED"
	envStorageUID    = "_CONTAINERS_ROOTLESS_UID"
	envStorageGID    = "_CONTAINERS_ROOTLESS_GID"
)

// StorageEnv is what tells containers/storage, in a process of a user namespace
// ccrun made, that it runs rootless there for the host user uid:gid.
func StorageEnv(uid, gid int) []string {
	return []string{envStorageUserNS + "=1",
		fmt.Sprintf("%s=%d", envStorageUID, uid), fmt.Sprintf("%s=%d", envStorageGID, gid)}
}

// InUserNS reports whether this process is ccrun's user namespace stage (P1).
func InUserNS() bool { return os.Getenv(envStage) == "ready" }

// ReexecOptions say how to start P1.
type ReexecOptions struct {
	// MapIDs writes the uid and gid maps of the new process (newuidmap/newgidmap).
	MapIDs func(pid int) error
	// UID and GID are the caller's host ids, handed to P1 in the environment.
	UID, GID int
}

// Reexec runs this program again with the same arguments in a new user and mount
// namespace, maps its ids, and waits for it, forwarding signals. It returns P1's wait
// status. This is what P0 does when ccrun is not run as root.
func Reexec(opts ReexecOptions) (syscall.WaitStatus, error) {
	parent, peer, err := socketPair()
	if err != nil {
		return 0, err
	}
	defer parent.Close()
	argv := append([]string{os.Args[0]}, os.Args[1:]...)
	env := append(append(os.Environ(), envStage+"=wait"), StorageEnv(opts.UID, opts.GID)...)
	attr := &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{os.Stdin.Fd(), os.Stdout.Fd(), os.Stderr.Fd(), peer.Fd()},
		Sys: &syscall.SysProcAttr{
			Cloneflags: unix.CLONE_NEWUSER | unix.CLONE_NEWNS,
			Pdeathsig:  syscall.SIGKILL,
			// A group of its own, so that a Ctrl-C at the terminal reaches only
			// P0, which forwards it exactly once.
			Setpgid: true,
			// The child holds every capability of its new namespace until it
			// executes ccrun; as ambient capabilities they survive that execve
			// although its uid is not mapped yet (see AwaitMapped).
			AmbientCaps: child.AllCaps(),
		},
	}
	slog.Debug("clone P1", "flags", "CLONE_NEWUSER|CLONE_NEWNS", "ambient", "all", "argv", argv)

	// Forward signals from the start: one that arrives before P1 exists is kept for it.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	defer signal.Stop(sigs)

	p, err := child.Start("/proc/self/exe", argv, attr)
	peer.Close()
	if err != nil {
		return 0, userNSError(err)
	}
	if err := opts.MapIDs(p.Pid); err != nil {
		p.Kill()
		return 0, mapError(err)
	}
	if err := send(parent, message{Type: msgMapped}); err != nil {
		p.Kill()
		return 0, err
	}
	for {
		select {
		case s := <-sigs:
			_ = syscall.Kill(p.Pid, s.(syscall.Signal))
		case ws := <-p.Done:
			return ws, nil
		}
	}
}

// AwaitMapped is P1's start, first thing in main: when this process is P1, it
// waits for P0's word that the uid and gid maps are written; otherwise it returns
// at once. Package initialisation runs before, while newuidmap and newgidmap
// work, so nothing may depend on the ids until then.
//
// P1 was executed in its new user namespace before those maps existed, with an
// unmapped uid. execve computes capabilities (capabilities(7)), and a process
// that is not uid 0 of its namespace gets none, except the ambient ones: P0 had
// the child raise all of them before its execve. Writing the maps does not change
// P1's credentials, only how they read, so from here P1 is uid 0 of the namespace
// with every capability, without executing itself again.
func AwaitMapped() {
	if os.Getenv(envStage) != "wait" {
		return
	}
	f := os.NewFile(syncFD, "sync")
	m, _, err := recv(f)
	if err == io.EOF {
		os.Exit(125) // P0 failed to map us and reports why
	}
	if err != nil || m.Type != msgMapped {
		fmt.Fprintf(os.Stderr, "ccrun: user namespace stage: unexpected message %q: %v\n", m.Type, err)
		os.Exit(125)
	}
	// The parent-death signal set before execve survives it only while the
	// capabilities do not grow; set it again rather than rely on that, and exit
	// if P0, which holds the socket's other end, died before it was set.
	err = child.ParentAlive(f)
	f.Close()
	if err != nil {
		os.Exit(125) // nobody is left to report to
	}
	if os.Geteuid() != 0 {
		fmt.Fprintf(os.Stderr, "ccrun: user namespace stage: uid %d after mapping, want 0\n", os.Geteuid())
		os.Exit(125)
	}
	os.Setenv(envStage, "ready")
}

// HintError is an error with a suggestion of how to fix it, printed on a line of its
// own by ccrun's main.
type HintError struct {
	Err  error
	Hint string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

func userNSError(err error) error {
	err = fmt.Errorf("create user namespace: %w", err)
	switch {
	case errors.Is(err, unix.ENOSPC):
		return &HintError{err, "user.max_user_namespaces is 0 or exhausted: as root, run sysctl -w user.max_user_namespaces=15000"}
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		if readSysctl("kernel/unprivileged_userns_clone") == "0" {
			return &HintError{err, "unprivileged user namespaces are disabled: as root, run sysctl -w kernel.unprivileged_userns_clone=1"}
		}
		return &HintError{err, "user namespaces are refused to unprivileged users here (a sysctl, a seccomp filter of your sandbox, or an LSM); see user_namespaces(7)"}
	}
	return err
}

func mapError(err error) error {
	err = fmt.Errorf("map ids in the user namespace: %w", err)
	if readSysctl("kernel/apparmor_restrict_unprivileged_userns") == "1" {
		return &HintError{err, "kernel.apparmor_restrict_unprivileged_userns=1 blocks this: add an AppArmor profile for ccrun allowing userns, or, as root, sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"}
	}
	return &HintError{err, "check your ranges in /etc/subuid and /etc/subgid (they must not overlap your own uid) and that newuidmap/newgidmap are setuid root"}
}

func readSysctl(name string) string {
	b, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		return ""
	}
	return strings.TrimRight(string(b), "\n ")
}
