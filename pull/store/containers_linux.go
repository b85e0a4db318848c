package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Container is a container's directories, ready to mount, and its liveness lock.
type Container struct {
	ID      string
	ImageID string
	// Home is the overlay driver's directory, which Layer.Short and the paths
	// below are relative to, or in.
	Home string
	// Layers are the image's layer directories, the newest first.
	Layers []LayerDir
	// Upper and Work are the container's own writable directories, in Target,
	// the container's directory, which the init mounts the container's root on:
	// in the init's own mount namespace that mount hides them, and on the host
	// nothing changes (one directory fewer to make and delete on each run; the
	// overlay holds upper/ and work/ from the moment it is mounted).
	Upper, Work, Target string
	// ChownUpper: upper/ still needs the owner of the image's root directory
	// (Layers[0].Dir), which only a process inside the user namespace can give
	// it; the init does it before it mounts the overlay. It happens rootless,
	// when the container is created by the unprivileged user on the host and
	// the image's root belongs to one of their subordinate ids (rare: images
	// ship their root owned by root, which is the user themselves). chown(2)
	// then keeps upper/'s mode: it clears set-id bits on files only, not on
	// directories.
	ChownUpper bool

	dir  string // the container's directory, by its real path
	dirs containerDirs
	lock *os.File
	park bool // Release may keep the directory as a spare
}

// LayerDir is one of an image's unpacked layers.
type LayerDir struct {
	Dir string
	// Short is a shorter path to Dir relative to Container.Home (the driver's
	// l/ link), or "".
	Short string
}

// homeLink is the name, in the overlay driver's directory, of a symbolic link
// to ccrun's container directory. The overlay's mount data must fit in a page:
// with many layers every path in it is given relative to the driver's
// directory (the layers by their l/ links), the container's upper and work
// directories included, and the link keeps those short and below it. The
// driver ignores it: it takes only directories there for layers.
const homeLink = "ccrun-containers"

func (st *Store) containers() containerDirs {
	return containerDirs{root: filepath.Join(st.paths.GraphRoot, "ccrun-containers"), removeDenied: st.removeDenied}
}

// CreateContainer creates container id of image imageID, named image (for
// display): a directory of its own with its writable directories, over the
// image's layers, which stay in the store, read-only and shared. The returned
// container holds its liveness lock until Release. remove marks it to be
// deleted when it ends, even if its supervisor is killed (see CleanDead).
//
// Nothing is written to containers/storage: the image is only read. It is looked
// up again under the containers lock, so that an rmi that removed it since the
// caller found it is noticed here rather than by a mount of missing layers.
func (st *Store) CreateContainer(id, imageID, image string, remove bool) (c *Container, err error) {
	d := st.containers()
	unlock, err := d.lock(unix.LOCK_SH)
	if err != nil {
		return nil, err
	}
	defer func() {
		if uerr := unlock(); uerr != nil && err == nil {
			err, c = errors.Join(uerr, c.Release(true)), nil
		}
	}()
	ix, err := st.imageIndex()
	if err != nil {
		return nil, fmt.Errorf("create container of image %.12s: %w", imageID, err)
	}
	img, ok := ix.lookup(imageID)
	if !ok {
		return nil, fmt.Errorf("create container of image %.12s: %w (removed meanwhile?)", imageID, ErrUnknownImage)
	}
	c, root, err := st.imageLayers(img)
	if err != nil {
		return nil, fmt.Errorf("create container of image %.12s: %w", imageID, err)
	}
	if err := st.linkContainers(c.Home, d); err != nil {
		return nil, err
	}
	rec := Record{ID: id, ImageID: img.ID, Image: image, Created: time.Now().UTC(), Remove: remove}
	m, err := d.create(rec, root)
	if err != nil {
		return nil, err
	}
	c.lock, c.ChownUpper, c.park = m.lock, m.chownUpper, m.park
	c.ID, c.ImageID, c.dir, c.dirs = id, img.ID, d.dir(id), d
	in := filepath.Join(c.Home, homeLink, id)
	c.Upper, c.Work, c.Target = filepath.Join(in, "upper"), filepath.Join(in, "work"), in
	return c, nil
}

// imageLayers finds the directories of an image's layers, the newest first, as
// the overlay driver reports them (see layerDirs), and the top one's file
// information.
func (st *Store) imageLayers(img *imageRecord) (*Container, fs.FileInfo, error) {
	if img.TopLayer == "" {
		return nil, nil, errors.New("the image has no layers")
	}
	c := &Container{Home: overlayHome(st.paths.GraphRoot)}
	dirs, err := layerDirs(c.Home, img.TopLayer)
	if err != nil {
		return nil, nil, fmt.Errorf("read layer directories: %w", err)
	}
	root, err := os.Stat(dirs[0])
	if err != nil {
		return nil, nil, fmt.Errorf("read layer directories: %w", err)
	}
	for _, d := range dirs {
		c.Layers = append(c.Layers, LayerDir{Dir: d, Short: shortLink(c.Home, d)})
	}
	return c, root, nil
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

// linkContainers makes sure the driver's directory home has the link to d
// (see homeLink): one readlink(2) once it exists.
func (st *Store) linkContainers(home string, d containerDirs) error {
	link := filepath.Join(home, homeLink)
	want, err := filepath.Rel(home, d.root)
	if err != nil {
		return fmt.Errorf("link %s: %w", link, err)
	}
	if got, err := os.Readlink(link); err == nil && got == want {
		return nil
	}
	err = os.Symlink(want, link)
	if errors.Is(err, fs.ErrExist) { // made meanwhile by another run, or not ours
		if got, rerr := os.Readlink(link); rerr == nil && got == want {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("link %s to %s: %w", link, want, err)
	}
	return nil
}

// Release ends the supervisor's hold on the container: with remove, its
// directory is deleted, or kept as a spare for the next container when the
// container wrote nothing (see spares_linux.go); without, it stays (for ps, rm
// later) and is only unlocked.
func (c *Container) Release(remove bool) error {
	var err error
	fd := int(c.lock.Fd())
	if remove && !(c.park && park(fd, c.dir)) && !removeEmpty(fd, c.dir) {
		if err = c.dirs.removeTree(c.dir); err != nil {
			err = fmt.Errorf("delete container %.12s: %w", c.ID, err)
		}
	}
	return errors.Join(err, c.lock.Close())
}

// Release is c.Release. Only the tests use it; ccrun calls c.Release.
func (st *Store) Release(c *Container, remove bool) error { return c.Release(remove) }

// CleanDead deletes the --rm containers whose supervisor died without deleting
// them: those whose liveness lock nobody holds. It takes no lock and writes
// nothing when there are none, as on every run. (full.Store.CleanDead also
// deletes the dead legacy ones: see package full.)
func (st *Store) CleanDead() error { return st.containers().cleanDead() }

// LockContainers takes the containers lock exclusively, for rmi and image
// prune: while they hold it no container is being created, so the containers
// they find (ContainerUsers) are all there are, and none of an image they
// delete can appear (see containerDirs).
func (st *Store) LockContainers() (unlock func() error, err error) {
	return st.containers().lock(unix.LOCK_EX)
}

// ContainerUsers maps image ids to ccrun's containers of each, running or
// stopped, deleting on the way dead --rm containers and directories a crashed
// creation left without a record.
// Must be called with the containers lock held (LockContainers).
func (st *Store) ContainerUsers() (map[string][]string, error) { return st.containers().users() }

// RemoveStopped deletes container id unless its supervisor is alive
// (ErrRunning). A container already gone is no error.
func (st *Store) RemoveStopped(id string) error { return st.containers().removeStopped(id) }
