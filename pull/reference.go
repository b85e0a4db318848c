package pull

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"go.podman.io/image/v5/docker/reference"
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
	// Named is the registry reference, normalised the docker way
	// (busybox -> docker.io/library/busybox:latest); for a local source, the
	// name its image is stored under (localhost/DIR:TAG).
	Named reference.Named
	// Path and Tag locate a local source (a directory or a file, and the image's
	// tag or name inside it, "" for its only image).
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
	rest = strings.TrimPrefix(s, "docker://")
	named, err := reference.ParseDockerRef(rest)
	if err != nil {
		return Ref{}, fmt.Errorf("parse image reference %q: %w", s, err)
	}
	return Ref{Transport: Docker, Named: named}, nil
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
		r.Named, err = reference.ParseDockerRef(tag)
	} else {
		r.Named, err = localName(abs, tag, transport == DockerArchive)
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
func localName(path, tag string, archive bool) (reference.Named, error) {
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
	if tag == "" || strings.ContainsAny(tag[:1], ".-") || len(tag) > 128 {
		tag = "latest"
	}
	named, err := reference.ParseNormalizedNamed("localhost/" + name + ":" + tag)
	if err != nil {
		return nil, errors.New("cannot name the image after its path")
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
func (r Ref) StoreName() string { return r.Named.String() }

// String is r as a user would type it, normalised.
func (r Ref) String() string {
	switch r.Transport {
	case Docker:
		return r.Named.String()
	case OCI:
		if r.Tag == "" {
			return "oci:" + r.Path
		}
		return "oci:" + r.Path + ":" + r.Tag
	default:
		if r.Tag == "" {
			return r.Transport + ":" + r.Path
		}
		return r.Transport + ":" + r.Path + ":" + r.Tag
	}
}

// Registry is the registry host[:port] of a registry reference.
func (r Ref) Registry() string {
	if r.Transport != Docker {
		return ""
	}
	return reference.Domain(r.Named)
}

// Platform is an os/architecture[/variant] choice among a manifest list's
// images.
type Platform struct{ OS, Architecture, Variant string }

// ParsePlatform parses "linux/arm64" or "linux/arm/v7" (--platform).
func ParsePlatform(s string) (Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || slices.Contains(parts, "") {
		return Platform{}, fmt.Errorf("parse platform %q: want os/arch[/variant], as linux/arm64", s)
	}
	p := Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}
