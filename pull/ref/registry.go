package ref

import (
	"errors"
	"fmt"
	"strings"
)

// NormalizeRegistry turns what a user types after `ccrun login` into the key
// credentials are stored under: https://index.docker.io/v1/ and
// registry-1.docker.io are Docker Hub, docker.io; a scheme and a path are
// dropped ("https://r.example:5000/v2/" -> "r.example:5000").
func NormalizeRegistry(s string) (string, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "":
		return "", errors.New("no registry given")
	case legacyDomain, "registry-1.docker.io":
		s = defaultDomain
	}
	// A registry is what a reference's first component is taken for: it has a
	// dot or a port, or is localhost; and it is a host[:port].
	if !looksLikeRegistry(s) || !validDomain(s) {
		return "", fmt.Errorf("%q is not a registry host[:port]", s)
	}
	return s, nil
}
