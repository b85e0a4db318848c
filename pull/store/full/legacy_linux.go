package full

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.podman.io/storage"

	"github.com/ccrun/ccrun/pull/store"
)

// Before ccrun kept containers in directories of its own, each container was a
// containers/storage container: a record in overlay-containers/containers.json
// and a writable layer, with its liveness lock in <run root>/ccrun-containers/<id>.lock.
// A store made then may still hold some. They are still honoured: they keep
// their image from rmi and image prune, rmi -f deletes the stopped ones, and
// CleanDead the dead --rm ones. Listing them reads containers.json, which
// containers/storage loads when the store is opened anyway. All of this needs
// containers/storage, so a run (package store alone) leaves them alone: rmi
// and image prune, which open the full store, clean them.

// legacyMeta is what ccrun kept in a legacy container's metadata.
type legacyMeta struct {
	Remove bool   `json:"rm,omitempty"`
	Image  string `json:"image,omitempty"`
}

func (st *Store) legacyLockPath(id string) string {
	return filepath.Join(st.Paths().RunRoot, "ccrun-containers", id+".lock")
}

// CleanDead deletes the --rm containers whose supervisor died without deleting
// them, ccrun's own (store.Store.CleanDead) and the legacy ones.
func (st *Store) CleanDead() error {
	return errors.Join(st.Store.CleanDead(), st.cleanDeadLegacy())
}

// cleanDeadLegacy deletes the legacy --rm containers nobody runs.
func (st *Store) cleanDeadLegacy() error {
	cs, err := st.s.Containers()
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	var errs []error
	for _, c := range cs {
		var m legacyMeta
		if json.Unmarshal([]byte(c.Metadata), &m) != nil || !m.Remove {
			continue
		}
		if err := st.removeLegacy(c.ID); !errors.Is(err, store.ErrRunning) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeLegacy deletes legacy container id unless its supervisor is alive.
func (st *Store) removeLegacy(id string) error {
	st.wrote = true
	f, err := store.OpenLock(st.legacyLockPath(id))
	if err != nil {
		return fmt.Errorf("remove container %.12s: %w", id, err)
	}
	free, err := store.TryLock(f)
	if err == nil && !free {
		err = store.ErrRunning
	}
	if err == nil {
		if err = st.s.DeleteContainer(id); errors.Is(err, storage.ErrContainerUnknown) {
			err = nil
		}
	}
	if err == nil {
		// Still holding the lock, so that nobody trusts a stale one.
		if err = os.Remove(st.legacyLockPath(id)); errors.Is(err, os.ErrNotExist) {
			err = nil
		}
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("remove container %.12s: %w", id, err)
	}
	return nil
}
