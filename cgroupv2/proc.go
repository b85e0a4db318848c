package cgroupv2

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Membership is one line of /proc/PID/cgroup (cgroups(7), "/proc/[pid]/cgroup"):
// hierarchy 0 with no controllers is the unified (v2) hierarchy; the other lines are
// v1 hierarchies and the controllers mounted on them.
type Membership struct {
	Hierarchy   int
	Controllers []string // "cpu", "cpuacct", "name=systemd"; none for v2
	Path        string   // relative to the root of the reader's cgroup namespace
}

// ParseProcCgroup parses the contents of /proc/PID/cgroup.
func ParseProcCgroup(data string) ([]Membership, error) {
	var out []Membership
	for _, line := range strings.Split(strings.TrimSpace(data), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("parse /proc/PID/cgroup line %q: want ID:CONTROLLERS:PATH", line)
		}
		id, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, fmt.Errorf("parse /proc/PID/cgroup line %q: %w", line, err)
		}
		m := Membership{Hierarchy: id, Path: f[2]}
		if f[1] != "" {
			m.Controllers = strings.Split(f[1], ",")
		}
		out = append(out, m)
	}
	return out, nil
}

// UnifiedPath is the process's cgroup in the v2 hierarchy ("0::/path").
func UnifiedPath(ms []Membership) (string, bool) {
	for _, m := range ms {
		if m.Hierarchy == 0 && len(m.Controllers) == 0 {
			return m.Path, true
		}
	}
	return "", false
}

// ControllerPath is the process's cgroup in the v1 hierarchy carrying controller.
func ControllerPath(ms []Membership, controller string) (string, bool) {
	for _, m := range ms {
		for _, c := range m.Controllers {
			if c == controller {
				return m.Path, true
			}
		}
	}
	return "", false
}

// Mount is a mounted cgroup hierarchy, from /proc/PID/mountinfo (proc(5)).
type Mount struct {
	Point   string   // where it is mounted: "/sys/fs/cgroup/memory"
	Root    string   // the cgroup shown at Point, "/" unless bind-mounted or namespaced
	Type    string   // "cgroup" (v1) or "cgroup2"
	Options []string // super options: the v1 controllers ("rw", "memory") or v2 flags
}

// ParseMountinfo returns the cgroup and cgroup2 mounts in mountinfo data.
func ParseMountinfo(data string) []Mount {
	var out []Mount
	for _, line := range strings.Split(data, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 || (g[0] != "cgroup" && g[0] != "cgroup2") {
			continue
		}
		out = append(out, Mount{Point: unescape(f[4]), Root: unescape(f[3]), Type: g[0], Options: strings.Split(g[2], ",")})
	}
	return out
}

// Dir is the directory of cgroup p (as /proc/PID/cgroup names it) under this mount,
// or false when the mount does not show it.
func (m Mount) Dir(p string) (string, bool) {
	if m.Root != "/" {
		if p != m.Root && !strings.HasPrefix(p, m.Root+"/") {
			return "", false
		}
		p = strings.TrimPrefix(p, m.Root)
	}
	return path.Join(m.Point, p), true
}

// HasOption reports whether the mount's super options include o ("memory").
func (m Mount) HasOption(o string) bool {
	for _, x := range m.Options {
		if x == o {
			return true
		}
	}
	return false
}

// unescape undoes mountinfo's octal escapes of space, tab, newline and backslash.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
