package rootless

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ccrun/ccrun/rootless/child"
)

// RemoverName is argv[0] of the stage that deletes a directory from inside a
// user namespace (see RemoveAll).
const RemoverName = "ccrun:[1:rm]"

// RemoveAll deletes dir from inside a new user namespace whose ids mapIDs maps
// (newuidmap/newgidmap), for what the caller cannot delete from outside it.
//
// A rootless container's writable directory holds what its processes made. What
// its root made belongs to you, but its other users are your subordinate ids,
// and a directory of theirs (or one its root made unwritable) is closed to you
// on the host. As uid 0 of a user namespace where those ids are mapped, a process
// holds CAP_DAC_OVERRIDE and CAP_FOWNER over their files (user_namespaces(7)),
// so it can. That costs a process start and the two helpers, so ccrun tries a
// plain removal first and comes here only when it is refused.
func RemoveAll(dir string, mapIDs func(pid int) error) error {
	err := removeAll(dir, mapIDs)
	if err != nil {
		return fmt.Errorf("delete %s in a user namespace: %w", dir, err)
	}
	return nil
}

func removeAll(dir string, mapIDs func(pid int) error) error {
	parent, peer, err := socketPair()
	if err != nil {
		return err
	}
	defer parent.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		peer.Close()
		return err
	}
	defer null.Close()
	attr := &syscall.ProcAttr{
		Env:   stageEnv(),
		Files: []uintptr{null.Fd(), null.Fd(), os.Stderr.Fd(), peer.Fd()},
		Sys: &syscall.SysProcAttr{
			Cloneflags:  unix.CLONE_NEWUSER,
			Pdeathsig:   syscall.SIGKILL,
			AmbientCaps: child.AllCaps(), // see CloneInit
		},
	}
	slog.Debug("clone remover", "flags", "CLONE_NEWUSER", "dir", dir)
	p, err := child.Start("/proc/self/exe", []string{RemoverName}, attr)
	peer.Close()
	if err != nil {
		return userNSError(err)
	}
	if err := mapIDs(p.Pid); err != nil {
		p.Kill()
		return mapError(err)
	}
	if err := send(parent, message{Type: msgRemove, Path: dir}); err != nil {
		p.Kill()
		return err
	}
	m, _, rerr := recv(parent)
	ws := <-p.Done
	switch {
	case rerr == nil && m.Type == msgError:
		return errors.New(m.Error)
	case rerr != nil && rerr != io.EOF:
		return rerr
	case rerr == nil:
		return fmt.Errorf("unexpected message %q", m.Type)
	case ws.Signaled():
		return fmt.Errorf("%s: killed by %v", RemoverName, ws.Signal())
	case ws.ExitStatus() != 0:
		return fmt.Errorf("%s: exit status %d", RemoverName, ws.ExitStatus())
	}
	return nil
}

// removerMain is the remover stage: it deletes the directory its parent names
// once its ids are mapped, reports a failure, and exits.
func removerMain() {
	if os.Getenv("CCRUN_DEBUG") == "1" {
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("stage", RemoverName))
	}
	sync := os.NewFile(syncFD, "sync")
	m, _, err := recv(sync)
	if err != nil || m.Type != msgRemove || m.Path == "" {
		fmt.Fprintf(os.Stderr, "ccrun: %s: no directory to delete: %v\n", RemoverName, err)
		os.Exit(125)
	}
	err = child.ParentAlive(sync)
	if err == nil {
		err = checkMapped()
	}
	if err == nil {
		err = os.RemoveAll(m.Path)
	}
	if err != nil {
		if serr := send(sync, message{Type: msgError, Error: err.Error()}); serr != nil {
			fmt.Fprintf(os.Stderr, "ccrun: %s: %v\n", RemoverName, err)
		}
		os.Exit(1)
	}
	os.Exit(0)
}
