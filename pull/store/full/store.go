package full

import (
	"fmt"
	"os"
	"strings"

	"go.podman.io/storage"
	"go.podman.io/storage/types"

	"github.com/ccrun/ccrun/pull/store"
)

// Store is ccrun's store opened with containers/storage as well.
type Store struct {
	*store.Store
	s storage.Store
	// wrote: this process changed the store through containers/storage (a pull,
	// a removal), so Close shuts it down properly.
	wrote bool
}

// Open opens (creating when missing) the store at p with the overlay driver.
// Nothing is mounted: skip_mount_home stops the driver from making its home a
// private bind mount, and ccrun never asks it to mount a layer.
func Open(p store.Paths) (*Store, error) {
	st, err := store.Open(p)
	if err != nil {
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
	return &Store{Store: st, s: s}, nil
}

// driverOptions are the overlay driver's options. With a single id mapped in the
// user namespace (no subordinate ids), files of other owners cannot be created
// with their owner: the driver then keeps them as ours instead of failing.
func driverOptions() []string {
	opts := []string{"overlay.skip_mount_home=true"}
	if store.Rootless() && mappedIDs("/proc/self/uid_map") == 1 {
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

// Close releases the store. It never unmounts anything: nothing was mounted.
//
// After a change, containers/storage's Shutdown tidies the driver (staging
// directories a killed pull left). It also records a write on the store's
// graph lock, which makes every other process reload the driver, so a process
// that only read skips it.
func (st *Store) Close() error {
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
// counts as a change: see Close).
func (st *Store) Storage() storage.Store {
	st.wrote = true
	return st.s
}
