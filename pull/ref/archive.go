package ref

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path"
	"strings"
)

// A `docker save` tarball lists its images in manifest.json: for each, the file
// holding its config, named by the config's sha256 (<hex>.json, or
// blobs/sha256/<hex> in the OCI-shaped archives of newer docker), its RepoTags
// and its layers. An image copied into the store from it gets the config's
// digest as its id.

type archiveItem struct {
	Config   string
	RepoTags []string
}

// maxArchiveManifest bounds how much of manifest.json is read.
const maxArchiveManifest = 1 << 20

// ArchiveImageID is the id the image a docker-archive: reference names gets in
// the store: its config digest, read from the archive's manifest.json as
// containers/image chooses the image (the one whose RepoTags has r.Tag, or the
// only one when r.Tag is ""). ok is false when the archive does not settle it
// (no such file, no such tag, several images, a config not named by its
// digest): the pull program then says why, in containers/image's words.
//
// A run of an archive's image already in the store compares this with the
// stored image's id: a read of the archive's headers (a gzip'd one is
// decompressed up to manifest.json), where asking the pull program would cost
// its start and containers/image's decompression of the whole archive. The
// digest is taken from the config's name, not its bytes: a tampered archive can
// at worst make ccrun run the image it stored and verified earlier.
func ArchiveImageID(r Ref) (id string, ok bool) {
	if r.Transport != DockerArchive {
		return "", false
	}
	items, err := archiveManifest(r.Path)
	if err != nil {
		return "", false
	}
	item, ok := chooseItem(items, r.Tag)
	if !ok {
		return "", false
	}
	return configID(item.Config)
}

// archiveManifest reads manifest.json out of the tarball at file.
func archiveManifest(file string) ([]archiveItem, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var magic [2]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil {
		return nil, err
	}
	var rd io.Reader = f // a tar.Reader skips file contents by seeking a plain file
	if magic == [2]byte{0x1f, 0x8b} {
		zr, err := gzip.NewReader(bufio.NewReader(f))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		rd = zr
	}
	tr := tar.NewReader(rd)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return nil, err // io.EOF too: no manifest.json
		}
		if hdr.Typeflag != tar.TypeReg || path.Clean(hdr.Name) != "manifest.json" {
			continue
		}
		var items []archiveItem
		if err := json.NewDecoder(io.LimitReader(tr, maxArchiveManifest)).Decode(&items); err != nil {
			return nil, err
		}
		return items, nil
	}
}

// chooseItem picks the image as containers/image does: by a RepoTags entry equal
// to tag once both are normalised, or the only one.
func chooseItem(items []archiveItem, tag string) (archiveItem, bool) {
	if tag == "" {
		if len(items) != 1 {
			return archiveItem{}, false
		}
		return items[0], true
	}
	want, err := ParseDockerRef(tag)
	if err != nil {
		return archiveItem{}, false
	}
	for _, it := range items {
		for _, t := range it.RepoTags {
			if got, err := ParseDockerRef(t); err == nil && got == want {
				return it, true
			}
		}
	}
	return archiveItem{}, false
}

// configID is the hex digest a config file of a docker archive is named by.
func configID(name string) (string, bool) {
	name = path.Clean(name)
	hex, ok := strings.CutSuffix(name, ".json")
	if !ok {
		hex, ok = strings.CutPrefix(name, "blobs/sha256/")
	}
	if !ok || !validSHA256("sha256:"+hex) {
		return "", false
	}
	return hex, true
}
