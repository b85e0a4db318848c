package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// errNotPrivate marks a run root that someone else could tamper with.
var errNotPrivate = errors.New("not a private directory")

// prepareRunRoot creates the run root (mode 0700) when it is missing. When it
// lives in a directory other users can write to, it must be a real directory
// (not a symbolic link), owned by us and writable by no one else: a run root
// planted by another user could hand us their locks, or a symbolic link
// redirect our writes. In a sticky directory such as /tmp nobody else can
// rename or delete our directory once it is ours, so checking once is enough.
func prepareRunRoot(p Paths) error {
	if !p.SharedParent {
		if err := os.MkdirAll(p.RunRoot, 0o700); err != nil {
			return fmt.Errorf("create run root: %w", err)
		}
		return nil
	}
	if err := os.Mkdir(p.RunRoot, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create run root: %w", err)
	}
	return checkPrivate(p.RunRoot, os.Geteuid())
}

// checkPrivate checks that dir is a directory owned by uid that only its owner
// can write to.
func checkPrivate(dir string, uid int) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("check run root: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("check run root %s: %w: it is a %s", dir, errNotPrivate, fi.Mode().Type())
	case !ok || int(st.Uid) != uid:
		return fmt.Errorf("check run root %s: %w: owned by uid %d, not %d", dir, errNotPrivate, st.Uid, uid)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("check run root %s: %w: mode %o lets others write", dir, errNotPrivate, fi.Mode().Perm())
	}
	return nil
}

// IsNotPrivate reports whether err says the run root failed its ownership check.
func IsNotPrivate(err error) bool { return errors.Is(err, errNotPrivate) }
