package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.podman.io/storage"
	"golang.org/x/sys/unix"
)

// ErrUnknownImage: no image in the store has that name or id.
var ErrUnknownImage = errors.New("image not known")

// ErrImageInUse: a container record refers to the image.
var ErrImageInUse = errors.New("image is in use by a container")

// Image is an image in the store.
type Image struct {
	ID string
	// Names are the references it was stored under: docker.io/library/busybox:latest,
	// or repo@sha256:... when pulled by digest.
	Names []string
	// Digests are the digests of its manifests (and of the list it was chosen from).
	Digests []string
	Created time.Time
	// Size is the unpacked size of all its layers. Only Images sets it: it
	// costs reading the record of every layer in the store, which a run does
	// not need; Lookup leaves it 0.
	Size     int64
	TopLayer string
}

// Images lists the images in the store, newest first, with their sizes. The
// sizes come from containers/storage's layer records, so it needs a store
// opened with Open.
func (st *Store) Images() ([]Image, error) {
	if err := st.full("list images"); err != nil {
		return nil, err
	}
	out, err := st.images()
	if err != nil {
		return nil, err
	}
	layers, err := st.layerIndex()
	if err != nil {
		return nil, err
	}
	for i := range out {
		for id := out[i].TopLayer; id != ""; id = layers[id].Parent {
			out[i].Size += layers[id].UncompressedSize
		}
	}
	return out, nil
}

// images lists the images in the store, newest first, without their sizes.
func (st *Store) images() ([]Image, error) {
	ix, err := st.imageIndex()
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	out := make([]Image, 0, len(ix.images))
	for _, r := range ix.images {
		out = append(out, r.image())
	}
	slices.SortStableFunc(out, func(a, b Image) int { return b.Created.Compare(a.Created) })
	return out, nil
}

// layerIndex maps layer ids to layers.
func (st *Store) layerIndex() (map[string]storage.Layer, error) {
	if err := st.full("list layers"); err != nil {
		return nil, err
	}
	ls, err := st.s.Layers()
	if err != nil {
		return nil, fmt.Errorf("list layers: %w", err)
	}
	m := make(map[string]storage.Layer, len(ls))
	for _, l := range ls {
		m[l.ID] = l
	}
	return m, nil
}

// Lookup finds an image by full name (registry/repo:tag), by repo@digest (matching
// any image of that repository with a manifest of that digest), or by id or
// unique id prefix, as containers/storage's Store.Image would (see
// imageIndex.lookup). It reads only the store's image records (see Image.Size).
func (st *Store) Lookup(name string) (*Image, error) {
	if repo, digest, ok := strings.Cut(name, "@"); ok {
		return st.lookupDigest(name, repo, digest)
	}
	ix, err := st.imageIndex()
	if err != nil {
		return nil, fmt.Errorf("look up image %s: %w", name, err)
	}
	r, ok := ix.lookup(name)
	if !ok {
		return nil, fmt.Errorf("look up image %s: %w", name, ErrUnknownImage)
	}
	img := r.image()
	return &img, nil
}

// lookupDigest finds an image of repository repo with a manifest of digest
// digest; the newest, should there be several.
func (st *Store) lookupDigest(name, repo, digest string) (*Image, error) {
	imgs, err := st.images()
	if err != nil {
		return nil, fmt.Errorf("look up image %s: %w", name, err)
	}
	for i, img := range imgs {
		if slices.Contains(img.Digests, digest) && slices.ContainsFunc(img.Names, func(n string) bool { return repoOf(n) == repo }) {
			return &imgs[i], nil
		}
	}
	return nil, fmt.Errorf("look up image %s: %w", name, ErrUnknownImage)
}

// repoOf strips the tag or digest from a full name.
func repoOf(name string) string {
	if i := strings.IndexByte(name, '@'); i >= 0 {
		return name[:i]
	}
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		return name[:i]
	}
	return name
}

// Removal says what Remove did.
type Removal struct {
	Untagged []string
	Deleted  string // the image id, when the image itself was deleted
}

// Remove removes name from img (name as the user gave it; "" when they gave the
// id). Like docker: an image with several names loses only that name; the image
// itself goes with its last name, and its layers with it unless another image
// shares them. An image some container uses is refused; with force, stopped
// containers of it are deleted first, but a running one still refuses.
func (st *Store) Remove(img *Image, name string, force bool) (Removal, error) {
	if err := st.full(fmt.Sprintf("remove image %.12s", img.ID)); err != nil {
		return Removal{}, err
	}
	st.wrote = true
	if name != "" && len(img.Names) > 1 {
		if err := st.s.RemoveNames(img.ID, []string{name}); err != nil {
			return Removal{}, fmt.Errorf("untag %s: %w", name, err)
		}
		return Removal{Untagged: []string{name}}, nil
	}
	if name == "" && len(img.Names) > 1 && !force {
		return Removal{}, fmt.Errorf("remove image %.12s: it has %d names (%s): remove them by name, or use -f", img.ID, len(img.Names), strings.Join(img.Names, ", "))
	}
	unlock, err := st.containers().lock(unix.LOCK_EX)
	if err != nil {
		return Removal{}, err
	}
	r, err := st.remove(img, force)
	return r, errors.Join(err, unlock())
}

// remove deletes img unless a container uses it.
// Must be called with the containers lock held exclusively.
func (st *Store) remove(img *Image, force bool) (Removal, error) {
	if err := st.removeUsers(img, force); err != nil {
		return Removal{}, err
	}
	if _, err := st.s.DeleteImage(img.ID, true); err != nil {
		if errors.Is(err, storage.ErrImageUsedByContainer) {
			err = ErrImageInUse
		}
		return Removal{}, fmt.Errorf("remove image %.12s: %w", img.ID, err)
	}
	return Removal{Untagged: img.Names, Deleted: img.ID}, nil
}

// removeUsers deletes the stopped containers of img when forced, and refuses
// otherwise.
func (st *Store) removeUsers(img *Image, force bool) error {
	all, err := st.users()
	if err != nil {
		return err
	}
	users := all[img.ID]
	if len(users) == 0 {
		return nil
	}
	if !force {
		return fmt.Errorf("remove image %.12s: %w %.12s (use -f to remove its stopped containers too)", img.ID, ErrImageInUse, users[0].id)
	}
	for _, u := range users {
		if err := st.removeStopped(u); err != nil {
			return fmt.Errorf("remove image %.12s: %w", img.ID, err)
		}
	}
	return nil
}

// Prune deletes dangling images (no name left), or, with all, every image no
// container uses, then the layers no image uses any more. It returns the ids
// of the deleted images.
func (st *Store) Prune(all bool) (deleted []string, err error) {
	if err := st.full("prune images"); err != nil {
		return nil, err
	}
	st.wrote = true
	unlock, err := st.containers().lock(unix.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, unlock()) }()
	imgs, err := st.images()
	if err != nil {
		return nil, err
	}
	users, err := st.users()
	if err != nil {
		return nil, err
	}
	for _, img := range imgs {
		if len(img.Names) > 0 && !all || len(users[img.ID]) > 0 {
			continue
		}
		if _, err := st.s.DeleteImage(img.ID, true); err != nil && !errors.Is(err, storage.ErrImageUnknown) {
			return deleted, fmt.Errorf("prune image %.12s: %w", img.ID, err)
		}
		deleted = append(deleted, img.ID)
	}
	return deleted, st.pruneLayers()
}
