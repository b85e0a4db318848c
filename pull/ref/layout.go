package ref

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// An OCI image layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md)
// lists its images in index.json: each entry is a descriptor (media type, digest,
// size) with the tag in the annotation org.opencontainers.image.ref.name.

type layoutIndex struct {
	Manifests []struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Annotations map[string]string `json:"annotations"`
	} `json:"manifests"`
}

// manifestTypes are the media types containers/image accepts in an index entry.
var manifestTypes = []string{
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
}

// LayoutDigest is the digest of the manifest (or index) an oci: reference names,
// read from the layout's index.json as containers/image resolves it: the entry
// tagged r.Tag, or the only entry when r.Tag is "". ok is false when the index
// does not settle it (no such layout, no such tag, several images, a malformed
// entry): the pull program then says why, in containers/image's words.
//
// A run of an oci: image already in the store compares this with the stored
// image's digests, a file read where asking the pull program would cost its start.
func LayoutDigest(r Ref) (digest string, ok bool) {
	if r.Transport != OCI {
		return "", false
	}
	b, err := os.ReadFile(filepath.Join(r.Path, "index.json"))
	if err != nil {
		return "", false
	}
	var idx layoutIndex
	if err := json.Unmarshal(b, &idx); err != nil {
		return "", false
	}
	found := -1
	for i, m := range idx.Manifests {
		if r.Tag == "" || m.Annotations["org.opencontainers.image.ref.name"] == r.Tag {
			if found >= 0 {
				return "", false // ambiguous: containers/image refuses it, or picks by rules not worth copying
			}
			found = i
		}
	}
	if found < 0 {
		return "", false
	}
	m := idx.Manifests[found]
	if !validType(m.MediaType) || !validSHA256(m.Digest) {
		return "", false
	}
	return m.Digest, true
}

func validType(t string) bool {
	for _, v := range manifestTypes {
		if t == v {
			return true
		}
	}
	return false
}

func validSHA256(d string) bool {
	hex, ok := strings.CutPrefix(d, "sha256:")
	return ok && len(hex) == 64 && strings.Trim(hex, "0123456789abcdef") == ""
}
