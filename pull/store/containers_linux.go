package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.podman.io/storage"
)

// Container is a container's record and directories.
type Container struct {
	ID      string
	ImageID string
	// Home is the overlay driver's directory, which Layer.Short is relative to.
	Home string
	// Layers are the image's layer directories, the newest first.
	Layers []LayerDir
	// Upper and Work are the container's own writable directories; Merged is
	// an empty directory to mount its root on.
	Upper, Work, Merged string

	lock *os.File
}

// LayerDir is one of an image's unpacked layers.
type LayerDir struct {
	Dir string
	// Short is a shorter path to Dir relative to Container.Home (the driver's
	// l/ link), or "".
	Short string
}

// metadata is what ccrun keeps in a container's record.
type metadata struct {
	Remove bool   `json:"rm,omitempty"`
	Image  string `json:"image,omitempty"`
}

// CreateContainer creates container id of image imageID, named image (for
// display), with its writable layer. The returned container holds its liveness
// lock until Release. remove marks the record to be deleted when the container
// ends, even if its supervisor is killed (see CleanDead).
func (st *Store) CreateContainer(id, imageID, image string, remove bool) (*Container, error) {
	lock, err := st.lockContainer(id)
	if err != nil {
		return nil, err
	}
	rec, err := st.createRecord(id, imageID, image, remove)
	if err != nil {
		err = fmt.Errorf("create container of image %.12s: %w", imageID, err)
		return nil, errors.Join(err, st.unlockContainer(id, lock, true))
	}
	c, err := st.dirs(rec)
	if err != nil {
		return nil, errors.Join(err, st.release(id, lock, true))
	}
	c.lock = lock
	return c, nil
}

// createRecord creates the store's record of the container and its writable
// layer.
func (st *Store) createRecord(id, imageID, image string, remove bool) (*storage.Container, error) {
	meta, err := json.Marshal(metadata{Remove: remove, Image: image})
	if err != nil {
		return nil, err
	}
	return st.s.CreateContainer(id, nil, imageID, "", string(meta), nil)
}

// lockContainer takes container id's liveness lock; a new id is never locked.
func (st *Store) lockContainer(id string) (*os.File, error) {
	f, err := openLock(st.lockPath(id))
	if err != nil {
		return nil, fmt.Errorf("lock container %.12s: %w", id, err)
	}
	ok, err := tryLock(f)
	if err == nil && !ok {
		err = errRunning
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("lock container %.12s: %w", id, err), f.Close())
	}
	return f, nil
}

func (st *Store) lockPath(id string) string { return filepath.Join(st.lockDir(), id+".lock") }

// unlockContainer drops a liveness lock, deleting its file first when the
// container is gone (while still holding it, so nobody else trusts a stale one).
func (st *Store) unlockContainer(id string, lock *os.File, gone bool) error {
	var err error
	if gone {
		if err = os.Remove(st.lockPath(id)); errors.Is(err, os.ErrNotExist) {
			err = nil
		}
	}
	return errors.Join(err, lock.Close())
}

// dirs finds the directories of a container's writable layer and of the image's
// layers under it, as the overlay driver reports them.
func (st *Store) dirs(rec *storage.Container) (*Container, error) {
	drv, err := st.s.GraphDriver()
	if err != nil {
		return nil, fmt.Errorf("container %.12s: %w", rec.ID, err)
	}
	md, err := drv.Metadata(rec.LayerID)
	if err != nil {
		return nil, fmt.Errorf("container %.12s: read layer directories: %w", rec.ID, err)
	}
	c := &Container{ID: rec.ID, ImageID: rec.ImageID, Upper: md["UpperDir"], Work: md["WorkDir"], Merged: md["MergedDir"]}
	c.Home = filepath.Dir(filepath.Dir(c.Upper))
	if md["LowerDir"] == "" {
		return nil, fmt.Errorf("container %.12s: image %.12s has no layers", rec.ID, rec.ImageID)
	}
	for _, d := range strings.Split(md["LowerDir"], ":") {
		c.Layers = append(c.Layers, LayerDir{Dir: d, Short: shortLink(c.Home, d)})
	}
	return c, nil
}

// shortLink returns the overlay driver's short link to layer directory dir
// (<home>/<id>/diff, named in <home>/<id>/link, living at <home>/l/<link>), or ""
// when there is none that points there.
func shortLink(home, dir string) string {
	name, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "link"))
	if err != nil || len(name) == 0 || strings.ContainsAny(string(name), "/:,") {
		return ""
	}
	short := filepath.Join("l", string(name))
	target, err := os.Readlink(filepath.Join(home, short))
	if err != nil || filepath.Join(home, "l", target) != dir {
		return ""
	}
	return short
}

// Release ends the supervisor's hold on the container: with remove, its record
// and writable layer are deleted; without, they stay (for ps, logs, rm later).
func (st *Store) Release(c *Container, remove bool) error {
	return st.release(c.ID, c.lock, remove)
}

func (st *Store) release(id string, lock *os.File, remove bool) error {
	var err error
	if remove {
		if err = st.s.DeleteContainer(id); errors.Is(err, storage.ErrContainerUnknown) {
			err = nil
		}
		if err != nil {
			err = fmt.Errorf("delete container %.12s: %w", id, err)
		}
	}
	return errors.Join(err, st.unlockContainer(id, lock, remove && err == nil))
}

// CleanDead deletes the --rm containers whose supervisor died without deleting
// them: those whose liveness lock nobody holds.
func (st *Store) CleanDead() error {
	cs, err := st.s.Containers()
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	var errs []error
	for _, c := range cs {
		var m metadata
		if json.Unmarshal([]byte(c.Metadata), &m) != nil || !m.Remove {
			continue
		}
		if err := st.deleteIfStopped(c.ID); !errors.Is(err, errRunning) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// errRunning: the container's supervisor holds its liveness lock.
var errRunning = errors.New("container is running")

// deleteIfStopped deletes container id unless its supervisor is alive.
func (st *Store) deleteIfStopped(id string) error {
	f, err := openLock(st.lockPath(id))
	if err != nil {
		return err
	}
	ok, err := tryLock(f)
	if err == nil && !ok {
		err = errRunning
	}
	if err != nil {
		return errors.Join(fmt.Errorf("container %.12s: %w", id, err), f.Close())
	}
	return st.release(id, f, true)
}

// containersOf lists the containers of an image.
func (st *Store) containersOf(imageID string) ([]storage.Container, error) {
	cs, err := st.s.Containers()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var out []storage.Container
	for _, c := range cs {
		if c.ImageID == imageID {
			out = append(out, c)
		}
	}
	return out, nil
}
