package store

import (
	"bytes"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Store is ccrun's image and container store, as ccrun reads it itself: the
// image records and configs, the layer directories, and its own containers
// (records.go, containers_linux.go). What needs containers/storage (pulls,
// removals, image sizes) is package full's, which only the pull program links.
type Store struct {
	paths Paths
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

// Open opens the store at p for reading its images and making containers of
// them: Lookup, ImageConfig, CreateContainer, CleanDead (of ccrun's own
// containers). Nothing is opened and nothing mounted or tested, so it works
// outside any user namespace, as the unprivileged user who owns a rootless
// store: see records.go. It creates the run root when missing, and checks that
// nobody else can write to it (see prepareRunRoot).
func Open(p Paths) (*Store, error) {
	if err := prepareRunRoot(p); err != nil {
		return nil, err
	}
	return &Store{paths: p}, nil
}

// Rootless reports whether the store is used from inside a user namespace, as
// containers/storage decides it (pkg/unshare.IsRootless), and with it the
// xattr names its overlay driver writes: the overlay must then be mounted with
// userxattr. It is rootless when the effective uid (or the one the library's
// _CONTAINERS_ROOTLESS_UID names) is not 0, when _CONTAINERS_USERNS_CONFIGURED
// is set, when CAP_SYS_ADMIN is not effective, or when the user namespace does
// not map every id (the initial one maps 4294967295 of them).
func Rootless() bool {
	uid := os.Geteuid()
	if s := os.Getenv("_CONTAINERS_ROOTLESS_UID"); s != "" {
		uid, _ = strconv.Atoi(s)
	}
	if uid != 0 || os.Getenv("_CONTAINERS_USERNS_CONFIGURED") != "" {
		return true
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err == nil && data[0].Effective&(1<<unix.CAP_SYS_ADMIN) == 0 {
		return true
	}
	b, err := os.ReadFile("/proc/self/uid_map")
	return err == nil && !bytes.Contains(b, []byte("4294967295"))
}

// Paths are the store's roots.
func (st *Store) Paths() Paths { return st.paths }

// isHex reports whether s is a non-empty lower-case hexadecimal string.
func isHex(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdef") == ""
}
