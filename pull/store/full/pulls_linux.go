package full

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"go.podman.io/storage"
	"golang.org/x/sys/unix"

	"github.com/ccrun/ccrun/pull/store"
)

// A pull copies layers into the store one by one and creates the image record
// last, so for a while its layers belong to no image. Every pull holds a shared
// lock on <graph root>/ccrun-pulls.lock while it runs; pulls do not wait for each
// other, but a clean-up that deletes unowned layers and temporary files needs
// the lock exclusively, and so never takes them from under a pull in flight.

// Pull is a pull in flight.
type Pull struct {
	st   *Store
	lock *os.File
	// TempDir is the pull's own directory for downloaded blobs (on the store's
	// filesystem rather than /var/tmp, so a killed pull leaves nothing behind
	// that the next clean-up does not find).
	TempDir string
}

func (st *Store) pullLockPath() string {
	return filepath.Join(st.Paths().GraphRoot, "ccrun-pulls.lock")
}
func (st *Store) tempRoot() string { return filepath.Join(st.Paths().GraphRoot, "ccrun-tmp") }

// BeginPull registers a pull. When no other pull runs, it first removes what
// killed pulls left in the temporary directory.
func (st *Store) BeginPull() (p *Pull, err error) {
	st.wrote = true
	f, err := store.OpenLock(st.pullLockPath())
	if err != nil {
		return nil, fmt.Errorf("begin pull: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(fmt.Errorf("begin pull: %w", err), f.Close())
		}
	}()
	alone, err := store.TryLock(f)
	if err != nil {
		return nil, err
	}
	if alone {
		if err := os.RemoveAll(st.tempRoot()); err != nil {
			return nil, fmt.Errorf("remove stale temporary files: %w", err)
		}
	}
	// Converting the lock is not atomic (store.Flock(2)); a clean-up that slips in
	// between finds nothing of this pull's yet.
	if err := store.Flock(f, unix.LOCK_SH); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := os.MkdirAll(st.tempRoot(), 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(st.tempRoot(), "pull-")
	if err != nil {
		return nil, err
	}
	return &Pull{st: st, lock: f, TempDir: tmp}, nil
}

// End unregisters the pull. After a failed pull the layers it stored that no
// image uses are deleted, unless another pull is running (they are then left
// for the next clean-up: they may be that pull's).
func (p *Pull) End(failed bool) error {
	var err error
	if rerr := os.RemoveAll(p.TempDir); rerr != nil {
		err = fmt.Errorf("end pull: remove temporary files: %w", rerr)
	}
	if uerr := store.Flock(p.lock, unix.LOCK_UN); uerr != nil {
		err = errors.Join(err, fmt.Errorf("end pull: unlock: %w", uerr))
	}
	if cerr := p.lock.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("end pull: %w", cerr))
	}
	if failed {
		err = errors.Join(err, p.st.pruneLayers())
	}
	return err
}

// pruneLayers deletes layers that no image or container uses, and stale
// temporary files, when no pull is in flight.
func (st *Store) pruneLayers() (err error) {
	f, err := store.OpenLock(st.pullLockPath())
	if err != nil {
		return fmt.Errorf("prune layers: %w", err)
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	if alone, err := store.TryLock(f); err != nil || !alone {
		return err
	}
	if err := os.RemoveAll(st.tempRoot()); err != nil {
		return fmt.Errorf("prune temporary files: %w", err)
	}
	orphans, err := st.orphanLayers()
	if err != nil {
		return err
	}
	for _, id := range orphans {
		if err := st.s.DeleteLayer(id); err != nil && !errors.Is(err, storage.ErrLayerUnknown) {
			return fmt.Errorf("prune layer %.12s: %w", id, err)
		}
	}
	return nil
}

// orphanLayers lists the layers no image or container uses, children before
// their parents, so that each can be deleted in turn.
func (st *Store) orphanLayers() ([]string, error) {
	layers, err := st.layerIndex()
	if err != nil {
		return nil, err
	}
	used, err := st.usedLayers(layers)
	if err != nil {
		return nil, err
	}
	var orphans []string
	for id := range layers {
		if !used[id] {
			orphans = append(orphans, id)
		}
	}
	depth := func(id string) int {
		n := 0
		for ; id != ""; id = layers[id].Parent {
			n++
		}
		return n
	}
	slices.SortFunc(orphans, func(a, b string) int { return depth(b) - depth(a) })
	return orphans, nil
}

// usedLayers marks every layer an image or a legacy container stands on.
// ccrun's own containers need no mark: each uses its image's layers, and its
// image is not deleted while it exists.
func (st *Store) usedLayers(layers map[string]storage.Layer) (map[string]bool, error) {
	imgs, err := st.s.Images()
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	cs, err := st.s.Containers()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var tops []string
	for _, img := range imgs {
		tops = append(append(tops, img.TopLayer), img.MappedTopLayers...)
	}
	for _, c := range cs {
		tops = append(tops, c.LayerID)
	}
	used := map[string]bool{}
	for _, id := range tops {
		for ; id != "" && !used[id]; id = layers[id].Parent {
			used[id] = true
		}
	}
	return used, nil
}
