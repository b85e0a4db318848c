package ref

import (
	"fmt"
	"slices"
	"strings"
)

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
