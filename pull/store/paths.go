package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
)

// Env is what DefaultPaths needs to know about the caller.
type Env struct {
	// Rootless: the caller is not real root (ccrun runs it in its user namespace).
	Rootless bool
	// UID is the caller's uid on the host.
	UID int
	// Getenv reads the caller's environment (os.Getenv).
	Getenv func(string) string
}

// Paths are the store's two roots.
type Paths struct {
	// GraphRoot holds images, layers and container records; it persists.
	GraphRoot string
	// RunRoot holds locks and caches that must not outlive a reboot.
	RunRoot string
	// SharedParent: RunRoot was chosen inside a directory other users can write
	// to (/tmp), so its owner and mode must be checked before it is trusted.
	SharedParent bool
}

// DefaultPaths computes the store's roots the way the XDG base directory
// specification says for a user, and the FHS says for root.
func DefaultPaths(e Env) (Paths, error) {
	if !e.Rootless {
		return Paths{GraphRoot: "/var/lib/ccrun/storage", RunRoot: "/run/ccrun"}, nil
	}
	graph, err := dataHome(e)
	if err != nil {
		return Paths{}, err
	}
	p := Paths{GraphRoot: filepath.Join(graph, "ccrun", "storage")}
	if rt := e.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(rt) {
		p.RunRoot = filepath.Join(rt, "ccrun")
		return p, nil
	}
	// No runtime directory (su, sudo -u, cron, CI): a directory of our own in
	// the shared temporary directory, as podman does.
	tmp := e.Getenv("TMPDIR")
	if !filepath.IsAbs(tmp) {
		tmp = "/tmp"
	}
	p.RunRoot = filepath.Join(tmp, "ccrun-run-"+strconv.Itoa(e.UID))
	p.SharedParent = true
	return p, nil
}

// dataHome is $XDG_DATA_HOME, or ~/.local/share. The specification says to
// ignore a relative value.
func dataHome(e Env) (string, error) {
	if d := e.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return d, nil
	}
	home := e.Getenv("HOME")
	if !filepath.IsAbs(home) {
		return "", errors.New("find the image store: $HOME is not set (set it, or pass --root)")
	}
	return filepath.Join(home, ".local", "share"), nil
}

// Override replaces the roots the caller chose explicitly (--root, --runroot),
// made absolute. An explicit run root is the caller's choice and is not checked.
func (p Paths) Override(graphRoot, runRoot string) (Paths, error) {
	var err error
	if graphRoot != "" {
		if p.GraphRoot, err = filepath.Abs(graphRoot); err != nil {
			return Paths{}, fmt.Errorf("resolve --root %s: %w", graphRoot, err)
		}
	}
	if runRoot != "" {
		if p.RunRoot, err = filepath.Abs(runRoot); err != nil {
			return Paths{}, fmt.Errorf("resolve --runroot %s: %w", runRoot, err)
		}
		p.SharedParent = false
	}
	return p, nil
}
