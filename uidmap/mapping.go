package uidmap

import (
	"strconv"
	"strings"
)

// Mapping is one line of /proc/PID/uid_map: ids Inside..Inside+Count-1 in the
// namespace are Outside..Outside+Count-1 on the host.
type Mapping struct {
	Inside, Outside, Count uint32
}

// MaxSubordinate is how many subordinate ids ccrun maps at most: uids 1..65536, the
// range every distribution's useradd lends and that images expect.
const MaxSubordinate = 65536

// Plan returns the mappings for a container whose root is the caller (id) and whose
// other ids come from the subordinate ranges, at most max of them, in file order.
// With no ranges the plan is the single mapping 0 -> id.
func Plan(id uint32, ranges []Range, max uint32) []Mapping {
	m := []Mapping{{Inside: 0, Outside: id, Count: 1}}
	next := uint32(1)
	for _, r := range ranges {
		if next > max {
			break
		}
		n := r.Count
		if left := max - next + 1; n > left {
			n = left
		}
		m = append(m, Mapping{Inside: next, Outside: r.Start, Count: n})
		next += n
	}
	return m
}

// Size is the number of ids the mappings cover.
func Size(m []Mapping) uint32 {
	var n uint32
	for _, x := range m {
		n += x.Count
	}
	return n
}

// Contains reports whether the namespace id is mapped.
func Contains(m []Mapping, inside uint32) bool {
	for _, x := range m {
		if inside >= x.Inside && inside-x.Inside < x.Count {
			return true
		}
	}
	return false
}

// Args is the argument list of newuidmap/newgidmap for pid: "PID IN OUT COUNT ...".
func Args(pid int, m []Mapping) []string {
	args := []string{strconv.Itoa(pid)}
	for _, x := range m {
		args = append(args,
			strconv.FormatUint(uint64(x.Inside), 10),
			strconv.FormatUint(uint64(x.Outside), 10),
			strconv.FormatUint(uint64(x.Count), 10))
	}
	return args
}

// ParseProc reads mappings in the format of /proc/PID/uid_map and gid_map (what
// ProcFormat writes); lines it cannot read are skipped.
func ParseProc(text string) []Mapping {
	var m []Mapping
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		var v [3]uint32
		ok := true
		for i := range f {
			n, err := strconv.ParseUint(f[i], 10, 32)
			ok = ok && err == nil
			v[i] = uint32(n)
		}
		if ok {
			m = append(m, Mapping{Inside: v[0], Outside: v[1], Count: v[2]})
		}
	}
	return m
}

// ProcFormat is the text written to /proc/PID/uid_map for m.
func ProcFormat(m []Mapping) string {
	var b []byte
	for _, x := range m {
		b = strconv.AppendUint(b, uint64(x.Inside), 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(x.Outside), 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(x.Count), 10)
		b = append(b, '\n')
	}
	return string(b)
}
