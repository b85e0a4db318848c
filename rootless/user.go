package rootless

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Identity is a resolved user: what the init passes to setresuid, setresgid and
// setgroups, and the home directory for $HOME.
type Identity struct {
	UID, GID uint32
	Groups   []uint32 // supplementary groups, from /etc/group
	Home     string
}

// ResolveUser turns "user[:group]" (names or numbers) into ids using the container's
// own passwd and group files, which may be nil when the image has none. Docker's
// rules: a numeric uid absent from passwd is fine (gid 0, home /); an unknown name is
// an error, never a silent root.
func ResolveUser(spec string, passwd, group io.Reader) (*Identity, error) {
	if spec == "" {
		spec = "0"
	}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if userPart == "" || (hasGroup && groupPart == "") {
		return nil, fmt.Errorf("user %q: want user[:group]", spec)
	}
	users, err := parseColonFile(passwd, 7, 2, 3)
	if err != nil {
		return nil, fmt.Errorf("read /etc/passwd: %w", err)
	}
	groups, err := parseColonFile(group, 4, 2)
	if err != nil {
		return nil, fmt.Errorf("read /etc/group: %w", err)
	}
	id := &Identity{Home: "/"}
	name := ""
	if n, ok := parseID(userPart); ok {
		id.UID = n
		if u := findEntry(users, 2, userPart); u != nil {
			name, id.GID, id.Home = u[0], mustID(u[3]), u[5]
		}
	} else {
		u := findEntry(users, 0, userPart)
		if u == nil {
			return nil, fmt.Errorf("user %q: no such user in the container's /etc/passwd", userPart)
		}
		name, id.UID, id.GID, id.Home = u[0], mustID(u[2]), mustID(u[3]), u[5]
	}
	if hasGroup {
		if n, ok := parseID(groupPart); ok {
			id.GID = n
		} else {
			g := findEntry(groups, 0, groupPart)
			if g == nil {
				return nil, fmt.Errorf("group %q: no such group in the container's /etc/group", groupPart)
			}
			id.GID = mustID(g[2])
		}
	}
	if name != "" && !hasGroup {
		id.Groups = memberOf(groups, name, id.GID)
	}
	if id.Home == "" {
		id.Home = "/"
	}
	return id, nil
}

// parseID accepts a decimal id below 2^32-1 (the invalid id -1 is refused).
func parseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, false
	}
	return uint32(n), true
}

func mustID(s string) uint32 {
	n, _ := parseID(s)
	return n
}

// parseColonFile reads passwd(5)- or group(5)-like lines, skipping those with fewer
// than fields fields or a non-numeric id in one of idFields: a malformed id must not
// read as 0.
func parseColonFile(r io.Reader, fields int, idFields ...int) ([][]string, error) {
	if r == nil {
		return nil, nil
	}
	var out [][]string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < fields {
			continue
		}
		if !allIDs(f, idFields) {
			continue
		}
		out = append(out, f)
	}
	return out, sc.Err()
}

func allIDs(f []string, idFields []int) bool {
	for _, i := range idFields {
		if _, ok := parseID(f[i]); !ok {
			return false
		}
	}
	return true
}

func findEntry(entries [][]string, field int, value string) []string {
	for _, e := range entries {
		if e[field] == value {
			return e
		}
	}
	return nil
}

func memberOf(groups [][]string, name string, primary uint32) []uint32 {
	out := []uint32{primary}
	for _, g := range groups {
		for _, m := range strings.Split(g[3], ",") {
			if m == name {
				if gid := mustID(g[2]); gid != primary {
					out = append(out, gid)
				}
			}
		}
	}
	return out
}
