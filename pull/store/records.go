package store

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// A run reads containers/storage's records itself rather than through the
// library: opening the library costs about 0.8 ms, and its overlay driver may
// test-mount on the way, which fails in the unprivileged host process where a
// rootless run of a stored image now happens. What follows reads the same
// files the library reads, the way it reads them (go.podman.io/storage v1.64.2:
// images.go, store.go, drivers/overlay/overlay.go), and no more:
//
//	<graph root>/overlay-images/images.json       the image records
//	<graph root>/overlay-images/<id>/<key file>   an image's big data (its config)
//	<graph root>/overlay/<layer>/diff             a layer's files
//	<graph root>/overlay/<layer>/lower-layers     the layers below, by id, the nearest first
//	<graph root>/overlay/<layer>/lower            the same as l/<short> links (older stores)
//
// No lock is needed. The library replaces images.json and the big-data files
// atomically (ioutils.AtomicWriteFile, in imageStore.Save and setBigData: a
// temporary file, then rename(2)), so a reader sees the old file or the new
// one, never half of one. It writes an image record only once the image's
// layers are complete, and a layer's link and lower files once, when it
// creates the layer, before any image can name it. What could still change
// under a reader is an image deleted meanwhile: CreateContainer reads again
// under ccrun's containers lock, which rmi and image prune hold while they
// delete.

// imageRecord is an image's record in images.json. The field names are those of
// containers/storage's Image (images.go); the fields a run does not need are
// left out.
type imageRecord struct {
	ID     string   `json:"id"`
	Digest string   `json:"digest,omitempty"`
	Names  []string `json:"names,omitempty"`
	// TopLayer is the id of the image's newest layer.
	TopLayer       string            `json:"layer,omitempty"`
	BigDataNames   []string          `json:"big-data-names,omitempty"`
	BigDataDigests map[string]string `json:"big-data-digests,omitempty"`
	Created        time.Time         `json:"created"`
	// Digests: see digests. The library does not store them (Image.Digests
	// is `json:"-"`) but computes them when it loads the file.
	Digests []string `json:"-"`
}

// imageIndex is images.json loaded, indexed as containers/storage indexes it.
type imageIndex struct {
	images []*imageRecord // in the file's order
	byID   map[string]*imageRecord
	byName map[string]*imageRecord
}

func imagesDir(graphRoot string) string { return filepath.Join(graphRoot, "overlay-images") }

// readImages loads the image records of the store at graphRoot. A store without
// images.json has no images.
func readImages(graphRoot string) (*imageIndex, error) {
	file := filepath.Join(imagesDir(graphRoot), "images.json")
	b, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read image records: %w", err)
	}
	ix, err := indexImages(b)
	if err != nil {
		return nil, fmt.Errorf("read image records %s: %w", file, err)
	}
	return ix, nil
}

// imageCache is an images.json read, and which version of the file it was.
type imageCache struct {
	ix  *imageIndex
	key fileKey
}

// fileKey tells versions of a file apart: the library replaces images.json by
// rename(2), so a new version is a new inode, with its own size and
// modification time.
type fileKey struct {
	dev, ino uint64
	size     int64
	mtime    syscall.Timespec
}

// imageIndex returns the store's image records, read again only when
// images.json is not the version read last. A run looks its image up three
// times (by name, for its config, and again under the containers lock); the
// file is read and parsed once, and each lookup still sees a pull or an rmi
// that replaced it meanwhile.
func (st *Store) imageIndex() (*imageIndex, error) {
	fi, statErr := os.Stat(filepath.Join(imagesDir(st.paths.GraphRoot), "images.json"))
	var key fileKey
	if statErr == nil {
		if s, ok := fi.Sys().(*syscall.Stat_t); ok {
			key = fileKey{dev: s.Dev, ino: s.Ino, size: s.Size, mtime: s.Mtim}
		}
		if st.imgCache.ix != nil && key != (fileKey{}) && key == st.imgCache.key {
			return st.imgCache.ix, nil
		}
	}
	ix, err := readImages(st.paths.GraphRoot)
	if err != nil {
		return nil, err
	}
	// Read after the stat: a newer file is at worst read again next time.
	st.imgCache = imageCache{ix: ix, key: key}
	if statErr != nil {
		st.imgCache = imageCache{}
	}
	return ix, nil
}

// indexImages parses images.json and indexes it as the library's
// imageStore.load does. Were two images to claim one name (the library never
// writes that, but repairs it on load), the later in the file keeps it and the
// earlier loses it.
func indexImages(b []byte) (*imageIndex, error) {
	var recs []*imageRecord
	if len(b) != 0 {
		if err := json.Unmarshal(b, &recs); err != nil {
			return nil, err
		}
	}
	ix := &imageIndex{
		images: recs,
		byID:   make(map[string]*imageRecord, len(recs)),
		byName: make(map[string]*imageRecord, len(recs)),
	}
	for _, r := range recs {
		ix.byID[r.ID] = r
		for _, name := range r.Names {
			if other, ok := ix.byName[name]; ok {
				other.Names = slices.DeleteFunc(slices.Clone(other.Names), func(n string) bool { return n == name })
			}
		}
		var err error
		if r.Digests, err = r.digests(); err != nil {
			return nil, err
		}
		for _, name := range r.Names {
			ix.byName[name] = r
		}
	}
	return ix, nil
}

// digests are the digests an image can be found by, as the library's
// recomputeDigests makes them: the record's digest, then those of its
// manifests (the big data whose key starts with "manifest"), each once. The
// library orders the manifests' by map iteration, that is randomly; here they
// are sorted by key. An invalid digest fails the load, as it does there.
func (r *imageRecord) digests() ([]string, error) {
	var out []string
	if r.Digest != "" {
		if err := validDigest(r.Digest); err != nil {
			return nil, fmt.Errorf("image %s: digest %q: %w", r.ID, r.Digest, err)
		}
		out = append(out, r.Digest)
	}
	keys := make([]string, 0, len(r.BigDataDigests))
	for k := range r.BigDataDigests {
		if strings.HasPrefix(k, "manifest") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		d := r.BigDataDigests[k]
		if err := validDigest(d); err != nil {
			return nil, fmt.Errorf("image %s: digest %q of %q: %w", r.ID, d, k, err)
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// digestHexLen is the length of the hex encoding of each digest algorithm the
// library accepts (go-digest's Available algorithms).
var digestHexLen = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}

// validDigest checks d as go-digest's Digest.Validate does, which the library
// runs on every digest it loads: algorithm:hex, the algorithm one it knows, the
// hex lower-case and as long as the algorithm's sum. (go-digest compiles its
// regular expressions at package init, a cost every start of ccrun would pay.)
func validDigest(d string) error {
	alg, hex, ok := strings.Cut(d, ":")
	n, known := digestHexLen[alg]
	switch {
	case !ok || alg == "" || hex == "":
		return errors.New("invalid digest format")
	case !known:
		return errors.New("unsupported digest algorithm")
	case len(hex) != n || !isHex(hex):
		return errors.New("invalid checksum digest length or characters")
	}
	return nil
}

// lookup finds an image as the library's Store.Image does (imageStore.lookup):
// by id, else by name, else by a prefix of exactly one id. An ambiguous prefix
// finds nothing. Ids with a space, or empty, are not in the library's prefix
// index (truncindex), so no prefix finds them.
func (ix *imageIndex) lookup(name string) (*imageRecord, bool) {
	if r, ok := ix.byID[name]; ok {
		return r, true
	}
	if r, ok := ix.byName[name]; ok {
		return r, true
	}
	if name == "" {
		return nil, false
	}
	var found *imageRecord
	for id, r := range ix.byID {
		if !strings.HasPrefix(id, name) || strings.Contains(id, " ") {
			continue
		}
		if found != nil {
			return nil, false
		}
		found = r
	}
	return found, found != nil
}

// image is the record as an Image (without its size).
func (r *imageRecord) image() Image {
	return Image{ID: r.ID, Names: r.Names, Digests: r.Digests, Created: r.Created, TopLayer: r.TopLayer}
}

// bigDataFile is the name of the file an image's big data item key is kept in,
// as the library's makeBigDataBaseName makes it: "=" and the key in standard
// base64, unless the key is made of lower-case letters, digits and dots, in
// which case it is the key itself. Its test stops at the first other
// character, having consumed it, and then asks whether anything is left: so a
// key whose only other character is its last one ("ab:", "café") is kept as it
// is too. A config's key, "sha256:<hex>", is always encoded.
func bigDataFile(key string) string {
	for i, r := range key { // as strings.Reader.ReadRune: a bad byte is U+FFFD of size 1
		if r < utf8.RuneSelf && (r == '.' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z') {
			continue
		}
		if _, size := utf8.DecodeRuneInString(key[i:]); i+size < len(key) {
			return "=" + base64.StdEncoding.EncodeToString([]byte(key))
		}
		break
	}
	return key
}

// readBigData reads an image's big data item key.
func readBigData(graphRoot, imageID, key string) ([]byte, error) {
	return os.ReadFile(filepath.Join(imagesDir(graphRoot), imageID, bigDataFile(key)))
}

// overlayHome is the overlay driver's directory.
func overlayHome(graphRoot string) string { return filepath.Join(graphRoot, "overlay") }

// layerDirs lists the directories of layer top and of the layers below it, the
// newest first, as the overlay driver's Metadata gives them (UpperDir, then
// LowerDir split at its colons): <home>/<id>/diff for each. The layers below
// are read from top's lower-layers file (their ids), or, when a store written
// before that file existed lacks it, from its lower file (l/<short> links to
// ../<id>/diff). A layer with neither file is a base layer. As in the driver,
// an l/ link that is missing fails, but one whose target is gone does not: its
// directory is still named.
func layerDirs(home, top string) ([]string, error) {
	ids, err := lowerLayers(home, path.Join(home, top))
	if err != nil {
		return nil, fmt.Errorf("read layers below %.12s: %w", top, err)
	}
	dirs := []string{path.Join(home, top, "diff")}
	for _, id := range ids {
		dirs = append(dirs, path.Join(home, id, "diff"))
	}
	return dirs, nil
}

// lowerLayers reads the ids of the layers below the layer in dir, the nearest
// first (the driver's getLowerLayerIDs). Without either file the layer is a
// base layer, if it exists: the driver's Metadata fails for one that does not.
func lowerLayers(home, dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "lower-layers"))
	if err == nil {
		return splitLower(b), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	b, err = os.ReadFile(filepath.Join(dir, "lower"))
	if errors.Is(err, fs.ErrNotExist) {
		_, err = os.Stat(dir)
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, link := range splitLower(b) {
		target, err := os.Readlink(path.Join(home, link))
		if err != nil {
			return nil, err
		}
		ids = append(ids, linkLayer(target))
	}
	return ids, nil
}

// splitLower splits a lower or lower-layers file at its colons. Like the
// driver, it trims nothing: the driver writes no newline, and an empty file
// is one empty entry (which, in a lower file, then names no link and fails).
func splitLower(b []byte) []string { return strings.Split(string(b), ":") }

// linkLayer is the layer id an l/ link's target names: ../<id>/diff.
func linkLayer(target string) string { return path.Base(path.Dir(target)) }
