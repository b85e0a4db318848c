package ref

import (
	"errors"
	"fmt"
	"strings"
)

// The docker normaliser: ParseDockerRef gives the string
// go.podman.io/image/v5/docker/reference.ParseDockerRef(s).String() gives, or
// an error when that does, with one deliberate exception:
//
//   - A first component that docker takes for a registry (it has a dot or a
//     colon) but that is not a host[:port], while being a valid path component
//     (my_host.com/x, a_b.c/d): containers/image's regular expression falls back
//     to a name with no registry at all, "my_host.com/x:latest", which no
//     registry serves. It is rejected here.
//
// Like containers/image v5.41.2, and unlike distribution/reference v0.6, an
// IPv6 registry ([::1]:5000/x) is rejected (ccrun's pull hands the name to
// containers/image, which must accept it), and an upper-case first component
// (Docker/ubuntu) is a Docker Hub name, so an error, not a registry.

const (
	defaultDomain = "docker.io"
	legacyDomain  = "index.docker.io"
	officialRepo  = "library/"
	defaultTag    = "latest"
	nameMax       = 255 // registry and path together
	tagMax        = 128
)

var (
	errUppercase = errors.New("repository name must be lowercase")
	errNameLong  = errors.New("repository name must not be more than 255 characters") // nameMax
	errID        = errors.New("invalid repository name: 64 hexadecimal digits are an image id, not a name")
)

// ParseDockerRef normalises a docker reference: docker.io/library/ for
// official images, :latest when neither tag nor digest is given, a tag beside
// a digest dropped. It returns registry/path:tag or registry/path@digest.
func ParseDockerRef(s string) (string, error) {
	if isID(s) {
		return "", errID
	}
	domain, rest := splitDomain(s)
	// Past the registry, a path holds neither '@' nor ':', a tag neither, a
	// digest no '@': the first '@' starts the digest, and the first ':' before
	// it the tag.
	rest, digest, hasDigest := strings.Cut(rest, "@")
	path, tag, hasTag := strings.Cut(rest, ":")
	if err := checkName(domain, path); err != nil {
		return "", err
	}
	if hasTag && !validTag(tag) {
		return "", fmt.Errorf("invalid reference format: invalid tag %q", tag)
	}
	name := domain + "/" + path
	switch {
	case hasDigest:
		if err := checkDigest(digest); err != nil {
			return "", fmt.Errorf("invalid reference format: digest %q: %w", digest, err)
		}
		return name + "@" + digest, nil
	case hasTag:
		return name + ":" + tag, nil
	default:
		return name + ":" + defaultTag, nil
	}
}

// Domain returns the registry part of a normalised name (as ParseDockerRef
// returns it): "docker.io", "localhost:5000". It is "" for a name whose first
// component is not a registry by docker's rule (library/busybox).
func Domain(name string) string {
	first, _, found := strings.Cut(name, "/")
	if !found || !looksLikeRegistry(first) {
		return ""
	}
	return first
}

// splitDomain splits s into its registry and the rest (path, tag, digest),
// by docker's rule: the first component is a registry only if it has a dot or
// a colon, or is localhost. Anything else is on Docker Hub, under library/ if
// it has a single component.
func splitDomain(s string) (domain, rest string) {
	first, after, found := strings.Cut(s, "/")
	if found && looksLikeRegistry(first) {
		domain, rest = first, after
	} else {
		domain, rest = defaultDomain, s
	}
	if domain == legacyDomain {
		domain = defaultDomain
	}
	// The tag and the digest hold no '/': a '/' anywhere means a namespace.
	if domain == defaultDomain && !strings.Contains(rest, "/") {
		rest = officialRepo + rest
	}
	return domain, rest
}

// looksLikeRegistry is docker's test of a first component: a dot or a colon
// (a DNS name, an IP address, a port), or localhost.
func looksLikeRegistry(s string) bool {
	return strings.ContainsAny(s, ".:") || s == "localhost"
}

// checkName checks a registry and a repository path.
func checkName(domain, path string) error {
	if !validDomain(domain) {
		return fmt.Errorf("invalid reference format: registry %q is not a host[:port]", domain)
	}
	if strings.IndexFunc(path, isUpper) >= 0 {
		return errUppercase
	}
	if path == "" {
		return errors.New("invalid reference format: no repository name")
	}
	for c := range strings.SplitSeq(path, "/") {
		switch {
		case c == "":
			return fmt.Errorf("invalid reference format: repository name %q has an empty component", path)
		case !validComponent(c):
			return fmt.Errorf("invalid reference format: repository name component %q: want lower-case letters and digits joined by '.', '_', '__' or dashes", c)
		}
	}
	if len(domain)+1+len(path) > nameMax {
		return errNameLong
	}
	return nil
}

// validDomain reports whether s is host[:port]: a host is dot-separated labels
// of letters, digits and inner dashes; a port is digits.
func validDomain(s string) bool {
	host, port, hasPort := strings.Cut(s, ":")
	if hasPort && !allDigits(port) {
		return false
	}
	for label := range strings.SplitSeq(host, ".") {
		if !validLabel(label) {
			return false
		}
	}
	return true
}

// validLabel reports whether s matches [a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9].
func validLabel(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

// validComponent reports whether s is a path component: runs of [a-z0-9]
// joined by one '.', one or two '_', or any number of '-'. A separator is never
// first, last, or beside another.
func validComponent(s string) bool {
	i := 0
	for {
		start := i
		for i < len(s) && isLowerAlnum(s[i]) {
			i++
		}
		if i == start {
			return false // empty, or a separator first or after another
		}
		if i == len(s) {
			return true
		}
		switch s[i] {
		case '.':
			i++
		case '_':
			i++
			if i < len(s) && s[i] == '_' {
				i++
			}
		case '-':
			for i < len(s) && s[i] == '-' {
				i++
			}
		default:
			return false
		}
	}
}

// validTag reports whether s matches [\w][\w.-]{0,127}.
func validTag(s string) bool {
	if s == "" || len(s) > tagMax || !isWord(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isWord(s[i]) && s[i] != '.' && s[i] != '-' {
			return false
		}
	}
	return true
}

// checkDigest checks ALGORITHM:HEX as go-digest does: a digest is only usable
// with an algorithm ccrun can verify, and then its hex has that hash's exact
// length, in lower case (the registry's blob URL is the digest itself).
func checkDigest(d string) error {
	alg, hex, found := strings.Cut(d, ":")
	if !found || !validAlgorithm(alg) || len(hex) < 32 || !allHex(hex) {
		return errors.New("invalid checksum digest format")
	}
	var n int
	switch alg {
	case "sha256":
		n = 64
	case "sha384":
		n = 96
	case "sha512":
		n = 128
	default:
		return errors.New("unsupported digest algorithm")
	}
	if len(hex) != n {
		return errors.New("invalid checksum digest length")
	}
	for i := 0; i < len(hex); i++ {
		if 'A' <= hex[i] && hex[i] <= 'F' {
			return errors.New("invalid checksum digest format")
		}
	}
	return nil
}

// validAlgorithm reports whether s matches
// [A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*.
func validAlgorithm(s string) bool {
	i := 0
	for {
		if i == len(s) || !isLetter(s[i]) {
			return false
		}
		for i < len(s) && isAlnum(s[i]) {
			i++
		}
		if i == len(s) {
			return true
		}
		if !strings.ContainsRune("-_+.", rune(s[i])) {
			return false
		}
		i++
	}
}

// isID reports whether s is 64 lower-case hexadecimal digits: an image id.
func isID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerAlnum(s[i]) || s[i] > 'f' {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20 // lower case for letters; digits are unchanged
		if !isDigit(s[i]) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isUpper is the upper case a repository name must not have: docker's
// grammar is ASCII, so any other rune is an error of its own.
func isUpper(r rune) bool { return 'A' <= r && r <= 'Z' }

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isLetter(c byte) bool     { return 'a' <= c|0x20 && c|0x20 <= 'z' }
func isAlnum(c byte) bool      { return isDigit(c) || isLetter(c) }
func isLowerAlnum(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'z' }
func isWord(c byte) bool       { return isAlnum(c) || c == '_' }
