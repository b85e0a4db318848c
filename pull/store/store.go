package store

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"go.podman.io/storage"
	"go.podman.io/storage/pkg/unshare"
	"go.podman.io/storage/types"
)

// Store is ccrun's image and container store.
type Store struct {
	// s is the containers/storage store; nil when opened read-only.
	s     storage.Store
	paths Paths
	// wrote: this process changed the store through containers/storage (a pull,
	// a removal), so Close shuts it down properly.
	wrote bool
	// removeDenied deletes what this process may not (see RemoveWith); nil: none.
	removeDenied func(dir string) error
	// imgCache is the last images.json read (see imageIndex).
	imgCache imageCache
}

// RemoveWith sets how to delete a container directory when this process is
// refused: rootless, outside ccrun's user namespace, a directory that the
// container's other users (your subordinate ids) made and closed to you.
// remove is tried only after a plain removal was denied (rootless.RemoveAll
// starts a process in a user namespace for it).
func (st *Store) RemoveWith(remove func(dir string) error) { st.removeDenied = remove }

// Open opens (creating when missing) the store at p with the overlay driver.
// Nothing is mounted: skip_mount_home stops the driver from making its home a
// private bind mount, and ccrun never asks it to mount a layer.
func Open(p Paths) (*Store, error) {
	if err := prepareRunRoot(p); err != nil {
		return nil, err
	}
	s, err := storage.GetStore(types.StoreOptions{
		GraphRoot:          p.GraphRoot,
		RunRoot:            p.RunRoot,
		GraphDriverName:    "overlay",
		GraphDriverOptions: driverOptions(),
	})
	if err != nil {
		return nil, fmt.Errorf("open image store %s: %w", p.GraphRoot, err)
	}
	return &Store{s: s, paths: p}, nil
}

// ErrReadOnly: the store was opened with OpenReadOnly, and what was asked
// needs containers/storage.
var ErrReadOnly = errors.New("image store opened read-only")

// OpenReadOnly opens the store at p without containers/storage, for running an
// image it holds: Lookup, ImageConfig, CreateContainer, CleanDead (of ccrun's
// own containers only), Paths and Close work; what needs containers/storage
// (pulls, listing images with their sizes, removals, legacy containers) fails
// with ErrReadOnly. Nothing is opened and nothing mounted or tested, so it
// works outside any user namespace, as the unprivileged user who owns a
// rootless store: see records.go. The run root is still prepared and checked
// as Open does.
func OpenReadOnly(p Paths) (*Store, error) {
	if err := prepareRunRoot(p); err != nil {
		return nil, err
	}
	return &Store{paths: p}, nil
}

// full says, when the store was opened read-only, that doing needs
// containers/storage.
func (st *Store) full(doing string) error {
	if st.s == nil {
		return fmt.Errorf("%s: %w", doing, ErrReadOnly)
	}
	return nil
}

// driverOptions are the overlay driver's options. With a single id mapped in the
// user namespace (no subordinate ids), files of other owners cannot be created
// with their owner: the driver then keeps them as ours instead of failing.
func driverOptions() []string {
	opts := []string{"overlay.skip_mount_home=true"}
	if Rootless() && mappedIDs("/proc/self/uid_map") == 1 {
		opts = append(opts, "overlay.ignore_chown_errors=true")
	}
	return opts
}

// mappedIDs counts the ids an id map file (user_namespaces(7)) maps.
func mappedIDs(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var n int64
	for _, line := range strings.Split(string(b), "\n") {
		var inside, outside, count int64
		if _, err := fmt.Sscan(line, &inside, &outside, &count); err == nil {
			n += count
		}
	}
	return n
}

// Rootless reports whether the store works inside a user namespace, as
// containers/storage decides it (and with it the xattr names it writes): the
// overlay must then be mounted with userxattr.
func Rootless() bool { return unshare.IsRootless() }

// Close releases the store. It never unmounts anything: nothing was mounted.
//
// After a change, containers/storage's Shutdown tidies the driver (staging
// directories a killed pull left). It also records a write on the store's
// graph lock, which makes every other process reload the driver, so a process
// that only read (a run of an image in the store) skips it: nothing of its
// needs tidying, and it then writes nothing to the store at all. A store
// opened read-only holds nothing to release.
func (st *Store) Close() error {
	if st.s == nil {
		return nil
	}
	if !st.wrote {
		st.s.Free()
		return nil
	}
	if _, err := st.s.Shutdown(false); err != nil {
		return fmt.Errorf("close image store: %w", err)
	}
	return nil
}

// Storage is the containers/storage store, for copying images into it (which
// counts as a change: see Close). Only the pull program calls it, on a store
// it opened with Open: on one opened read-only it panics, since there is no
// containers/storage store to give, and returning nil would only move the
// panic into containers/image.
func (st *Store) Storage() storage.Store {
	if st.s == nil {
		panic("store: Storage called on an image store opened read-only (OpenReadOnly); the pull program must use Open")
	}
	st.wrote = true
	return st.s
}

// Paths are the store's roots.
func (st *Store) Paths() Paths { return st.paths }

// isHex reports whether s is a non-empty lower-case hexadecimal string.
func isHex(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdef") == ""
}
