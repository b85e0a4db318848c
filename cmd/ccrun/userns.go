package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/ccrun/ccrun/pull/program"
	"github.com/ccrun/ccrun/rootless"
	"github.com/ccrun/ccrun/uidmap"
)

// childIDs returns the uid and gid maps of the user namespaces this process
// makes for its children, computed once: rootless, outside ccrun's user
// namespace, that is a run's init, and the pull program or the remover when a
// run needs them (see rootless/doc.go). It is nil as root and in ccrun's user
// namespace stage (P1), whose children share its namespace. When the maps are
// only your own ids, the warning saying why is printed on stderr, once.
func (g *globals) childIDs(stderr io.Writer) (*uidmap.Plans, error) {
	if !rootlessMode() || rootless.InUserNS() {
		return nil, nil
	}
	if g.ids != nil {
		return g.ids, nil
	}
	ids, err := uidmap.ForUser(uint32(os.Getuid()), uint32(os.Getgid()))
	if err != nil {
		return nil, err
	}
	if ids.Warning != "" {
		fmt.Fprintf(stderr, "ccrun: warning: %s\n", ids.Warning)
	}
	slog.Debug("user namespace plan", "uid_map", ids.UID, "gid_map", ids.GID)
	g.ids = ids
	return ids, nil
}

// programNS is how the pull program runs from this process: in a user
// namespace of its own when childIDs says so, else in this one.
func (g *globals) programNS() (*program.UserNS, error) {
	ids, err := g.childIDs(os.Stderr)
	if ids == nil || err != nil {
		return nil, err
	}
	return &program.UserNS{MapIDs: ids.Write, Env: rootless.StorageEnv(os.Getuid(), os.Getgid())}, nil
}
