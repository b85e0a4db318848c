package cgroupv2

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseBytes reads a memory size the way docker's --memory does (go-units
// RAMInBytes): a number, optionally with a fraction, then an optional binary unit
// k, m, g, t or p (any case, optionally followed by "b", "ib" or "iB"). "32m" and
// "32MiB" are both 33554432; a bare number is bytes.
func ParseBytes(s string) (int64, error) {
	num, unit := splitUnit(strings.TrimSpace(s))
	shift, ok := unitShift(unit)
	if num == "" || !ok {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional unit k, m, g, t or p", s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional unit k, m, g, t or p", s)
	}
	v := f * math.Exp2(float64(shift))
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return int64(v), nil
}

// splitUnit splits "1.5 GiB" into "1.5" and "gib".
func splitUnit(s string) (num, unit string) {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
}

func unitShift(unit string) (int, bool) {
	if unit == "" || unit == "b" {
		return 0, true
	}
	shifts := map[byte]int{'k': 10, 'm': 20, 'g': 30, 't': 40, 'p': 50}
	shift, ok := shifts[unit[0]]
	switch rest := unit[1:]; rest {
	case "", "b", "i", "ib":
		return shift, ok
	}
	return 0, false
}

// FormatBytes prints a size in binary units as people read them: 33554432 is
// "32 MiB", 1610612736 is "1.5 GiB", 1000 is "1000 B".
func FormatBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + units[i]
}
