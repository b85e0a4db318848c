package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
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
	// Size is the unpacked size of all its layers. Only full.Store.Images sets
	// it: it costs reading the record of every layer in the store through
	// containers/storage, which a run does not need.
	Size     int64
	TopLayer string
}

// Images lists the images in the store, newest first, without their sizes
// (full.Store.Images adds them).
func (st *Store) Images() ([]Image, error) {
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
	imgs, err := st.Images()
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

// Removal says what a removal of an image did (see full.Store.Remove).
type Removal struct {
	Untagged []string `json:"untagged,omitempty"`
	Deleted  string   `json:"deleted,omitempty"` // the image id, when the image itself was deleted
}
