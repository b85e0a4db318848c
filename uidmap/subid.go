package uidmap

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Range is a range of subordinate ids lent to a user: Start, Start+1, ... Start+Count-1.
type Range struct {
	Start uint32
	Count uint32
}

// Parse reads a subuid(5) or subgid(5) file and returns the ranges that belong to the
// user, who may be named either by name or by numeric id (both forms are legal in the
// file). Malformed lines are skipped, as shadow-utils does.
func Parse(r io.Reader, name string, id uint32) ([]Range, error) {
	idStr := strconv.FormatUint(uint64(id), 10)
	var out []Range
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 3 || (f[0] != name && f[0] != idStr) {
			continue
		}
		start, err1 := strconv.ParseUint(f[1], 10, 32)
		count, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || count == 0 {
			continue
		}
		out = append(out, Range{Start: uint32(start), Count: uint32(count)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read subordinate ids: %w", err)
	}
	return out, nil
}

// ParseFile is Parse on a file; a missing file means no ranges.
func ParseFile(path, name string, id uint32) ([]Range, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	ranges, err := Parse(f, name, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ranges, nil
}
