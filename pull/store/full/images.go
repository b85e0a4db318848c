package full

import (
	"errors"
	"fmt"
	"strings"

	"go.podman.io/storage"

	"github.com/ccrun/ccrun/pull/store"
)

// Images lists the images in the store, newest first, with their sizes, which
// come from containers/storage's layer records.
func (st *Store) Images() ([]store.Image, error) {
	out, err := st.Store.Images()
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

// layerIndex maps layer ids to layers.
func (st *Store) layerIndex() (map[string]storage.Layer, error) {
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

// Remove removes name from img (name as the user gave it; "" when they gave the
// id). Like docker: an image with several names loses only that name; the image
// itself goes with its last name, and its layers with it unless another image
// shares them. An image some container uses is refused; with force, stopped
// containers of it are deleted first, but a running one still refuses.
func (st *Store) Remove(img *store.Image, name string, force bool) (store.Removal, error) {
	st.wrote = true
	if name != "" && len(img.Names) > 1 {
		if err := st.s.RemoveNames(img.ID, []string{name}); err != nil {
			return store.Removal{}, fmt.Errorf("untag %s: %w", name, err)
		}
		return store.Removal{Untagged: []string{name}}, nil
	}
	if name == "" && len(img.Names) > 1 && !force {
		return store.Removal{}, fmt.Errorf("remove image %.12s: it has %d names (%s): remove them by name, or use -f", img.ID, len(img.Names), strings.Join(img.Names, ", "))
	}
	unlock, err := st.LockContainers()
	if err != nil {
		return store.Removal{}, err
	}
	r, err := st.remove(img, force)
	return r, errors.Join(err, unlock())
}

// remove deletes img unless a container uses it.
// Must be called with the containers lock held (LockContainers).
func (st *Store) remove(img *store.Image, force bool) (store.Removal, error) {
	if err := st.removeUsers(img, force); err != nil {
		return store.Removal{}, err
	}
	if _, err := st.s.DeleteImage(img.ID, true); err != nil {
		if errors.Is(err, storage.ErrImageUsedByContainer) {
			err = store.ErrImageInUse
		}
		return store.Removal{}, fmt.Errorf("remove image %.12s: %w", img.ID, err)
	}
	return store.Removal{Untagged: img.Names, Deleted: img.ID}, nil
}

// removeUsers deletes the stopped containers of img when forced, and refuses
// otherwise.
func (st *Store) removeUsers(img *store.Image, force bool) error {
	all, err := st.users()
	if err != nil {
		return err
	}
	users := all[img.ID]
	if len(users) == 0 {
		return nil
	}
	if !force {
		return fmt.Errorf("remove image %.12s: %w %.12s (use -f to remove its stopped containers too)", img.ID, store.ErrImageInUse, users[0].id)
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
	st.wrote = true
	unlock, err := st.LockContainers()
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, unlock()) }()
	imgs, err := st.Store.Images()
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

// user is a container that uses an image: ccrun's own, or a containers/storage
// container made by an earlier ccrun (legacy).
type user struct {
	id     string
	legacy bool
}

// users maps image ids to their containers, deleting on the way dead --rm
// containers (see store.Store.ContainerUsers).
// Must be called with the containers lock held (LockContainers).
func (st *Store) users() (map[string][]user, error) {
	ours, err := st.ContainerUsers()
	if err != nil {
		return nil, err
	}
	if err := st.cleanDeadLegacy(); err != nil {
		return nil, err
	}
	out := map[string][]user{}
	for img, ids := range ours {
		for _, id := range ids {
			out[img] = append(out[img], user{id: id})
		}
	}
	legacy, err := st.s.Containers()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	for _, c := range legacy {
		out[c.ImageID] = append(out[c.ImageID], user{id: c.ID, legacy: true})
	}
	return out, nil
}

// removeStopped deletes container u unless it is running.
func (st *Store) removeStopped(u user) error {
	if u.legacy {
		return st.removeLegacy(u.id)
	}
	return st.RemoveStopped(u.id)
}
