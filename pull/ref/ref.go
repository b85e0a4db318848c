package ref

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Transports ccrun pulls from.
const (
	Docker        = "docker"         // a registry: [docker://]NAME[:TAG|@DIGEST]
	OCI           = "oci"            // an OCI image layout directory: oci:DIR[:TAG]
	DockerArchive = "docker-archive" // a `docker save` tarball: docker-archive:FILE[:NAME:TAG]
)

// Ref is an image reference as a user typed it, parsed.
type Ref struct {
	Transport string
	// Name is the registry reference normalised the docker way
	// (busybox -> docker.io/library/busybox:latest); for a local source, the
	// name its image is stored under (localhost/DIR:TAG).
	Name string
	// Path and Tag locate a local source (an absolute path to a directory or a
	// file, and the image's tag or name inside it, "" for its only image).
	Path, Tag string
}

// Parse parses an image reference. Short names are never looked up in a list of
// registries (no prompt, no guessing): like docker, a name without a registry
// means Docker Hub, and one without a tag means :latest. A reference with both a
// tag and a digest keeps the digest only.
func Parse(s string) (Ref, error) {
	transport, rest, found := strings.Cut(s, ":")
	switch {
	case found && transport == OCI:
		return parseLocal(OCI, rest)
	case found && transport == DockerArchive:
		return parseLocal(DockerArchive, rest)
	}
	name, err := ParseDockerRef(strings.TrimPrefix(s, "docker://"))
	if err != nil {
		return Ref{}, fmt.Errorf("parse image reference %q: %w", s, err)
	}
	return Ref{Transport: Docker, Name: name}, nil
}

// parseLocal parses DIR[:TAG] (oci) or FILE[:NAME[:TAG]] (docker-archive).
func parseLocal(transport, s string) (Ref, error) {
	path, tag, _ := strings.Cut(s, ":")
	if path == "" {
		return Ref{}, fmt.Errorf("parse image reference %s:%s: no path", transport, s)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Ref{}, fmt.Errorf("parse image reference %s:%s: %w", transport, s, err)
	}
	r := Ref{Transport: transport, Path: abs, Tag: tag}
	if transport == DockerArchive && tag != "" {
		// An archive's images carry the names docker saved them under.
		r.Name, err = ParseDockerRef(tag)
	} else {
		r.Name, err = localName(abs, tag, transport == DockerArchive)
	}
	if err != nil {
		return Ref{}, fmt.Errorf("parse image reference %s:%s: %w", transport, s, err)
	}
	return r, nil
}

// localName names an image from a local source: localhost/<base name>:<tag>, both
// reduced to the characters a reference allows. An archive's name loses its .tar,
// .tar.gz or .tgz; a directory's keeps every dot (alpine-3.18 and alpine-3.19 are
// two images).
func localName(path, tag string, archive bool) (string, error) {
	base := filepath.Base(path)
	if archive {
		for _, ext := range []string{".tar.gz", ".tgz", ".tar"} {
			if strings.HasSuffix(base, ext) {
				base = strings.TrimSuffix(base, ext)
				break
			}
		}
	}
	name := sanitize(strings.ToLower(base), "abcdefghijklmnopqrstuvwxyz0123456789._-")
	name = strings.Trim(name, "._-")
	if name == "" {
		name = "image"
	}
	// A tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
	tag = sanitize(tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
	if tag == "" || strings.ContainsAny(tag[:1], ".-") || len(tag) > tagMax {
		tag = defaultTag
	}
	// The name may still be no path component (a..b): then there is no
	// name to give.
	named, err := ParseDockerRef("localhost/" + name + ":" + tag)
	if err != nil {
		return "", errors.New("cannot name the image after its path")
	}
	return named, nil
}

// sanitize replaces every character of s not in allowed by '-'.
func sanitize(s, allowed string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(allowed, r) {
			return r
		}
		return '-'
	}, s)
}

// Local reports whether r is a file or a directory rather than a registry.
func (r Ref) Local() bool { return r.Transport != Docker }

// StoreName is the name the image is stored under.
func (r Ref) StoreName() string { return r.Name }

// String is r as a user would type it, normalised.
func (r Ref) String() string {
	switch {
	case r.Transport == Docker:
		return r.Name
	case r.Tag == "":
		return r.Transport + ":" + r.Path
	default:
		return r.Transport + ":" + r.Path + ":" + r.Tag
	}
}

// Registry is the registry host[:port] of a registry reference, "" for a
// local one.
func (r Ref) Registry() string {
	if r.Transport != Docker {
		return ""
	}
	return Domain(r.Name)
}

// LooksLikeID says whether s could be an image id or a unique prefix of one,
// which ccrun looks up before it reads s as a reference: 3 to 64 lower-case
// hex digits.
func LooksLikeID(s string) bool {
	if len(s) < 3 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
