package uidmap

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
)

// Plans are the uid and gid mappings of one user namespace and how to write them.
type Plans struct {
	UID, GID []Mapping
	// NewUIDMap and NewGIDMap are the helper paths; empty when the mappings are a
	// single id each, which the caller may write itself.
	NewUIDMap, NewGIDMap string
	// Warning says why only a single id is mapped, and how to fix it ("" when the
	// subordinate ranges are used).
	Warning string
}

// ForUser computes the mappings for the calling user (uid, gid) from /etc/subuid and
// /etc/subgid, and finds newuidmap and newgidmap. It falls back to single mappings
// with a Warning when the ranges or the helpers are missing.
func ForUser(uid, gid uint32) (*Plans, error) {
	name := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	subu, err := ParseFile("/etc/subuid", name, uid)
	if err != nil {
		return nil, err
	}
	subg, err := ParseFile("/etc/subgid", name, uid)
	if err != nil {
		return nil, err
	}
	p := &Plans{
		UID: []Mapping{{0, uid, 1}},
		GID: []Mapping{{0, gid, 1}},
	}
	switch {
	case len(subu) == 0 || len(subg) == 0:
		p.Warning = fmt.Sprintf("no subordinate ids for %s in /etc/subuid and /etc/subgid: only uid 0 is mapped in the container\n"+
			"hint: as root, run: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s", name, name)
		return p, nil
	}
	nu, erru := helper("newuidmap")
	ng, errg := helper("newgidmap")
	if err := errors.Join(erru, errg); err != nil {
		p.Warning = err.Error() + ": only uid 0 is mapped in the container\n" +
			"hint: install the uidmap package (apt-get install uidmap) and check that newuidmap and newgidmap are setuid root"
		return p, nil
	}
	p.UID = Plan(uid, subu, MaxSubordinate)
	p.GID = Plan(gid, subg, MaxSubordinate)
	p.NewUIDMap, p.NewGIDMap = nu, ng
	return p, nil
}

// helper finds a setuid helper on PATH and checks that it can work: it must be setuid
// root or carry file capabilities (Fedora ships it with cap_setuid+ep).
func helper(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		for _, dir := range []string{"/usr/bin", "/bin", "/usr/sbin"} {
			if fi, e := os.Stat(dir + "/" + name); e == nil && !fi.IsDir() {
				path, err = dir+"/"+name, nil
				break
			}
		}
	}
	if err != nil {
		return "", fmt.Errorf("%s not found", name)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", path, err)
	}
	if fi.Mode()&os.ModeSetuid == 0 && !hasFileCaps(path) {
		return "", fmt.Errorf("%s is neither setuid nor has file capabilities", path)
	}
	return path, nil
}

func hasFileCaps(path string) bool {
	buf := make([]byte, 64)
	n, err := getxattr(path, "security.capability", buf)
	return err == nil && n > 0
}

// Write installs the mappings of the user namespace of pid: with the helpers when
// the plan has them, else by writing /proc/PID/{setgroups,uid_map,gid_map} directly
// (allowed for a single mapping of one's own ids once setgroups is denied).
func (p *Plans) Write(pid int) error {
	if p.NewUIDMap != "" {
		if err := run(p.NewUIDMap, Args(pid, p.UID)); err != nil {
			return err
		}
		return run(p.NewGIDMap, Args(pid, p.GID))
	}
	base := "/proc/" + strconv.Itoa(pid) + "/"
	if err := os.WriteFile(base+"setgroups", []byte("deny"), 0); err != nil {
		return fmt.Errorf("write %ssetgroups: %w", base, err)
	}
	if err := os.WriteFile(base+"uid_map", []byte(ProcFormat(p.UID)), 0); err != nil {
		return fmt.Errorf("write %suid_map: %w", base, err)
	}
	if err := os.WriteFile(base+"gid_map", []byte(ProcFormat(p.GID)), 0); err != nil {
		return fmt.Errorf("write %sgid_map: %w", base, err)
	}
	return nil
}

func run(path string, args []string) error {
	slog.Debug("exec", "argv", path+" "+strings.Join(args, " "))
	var stderr bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			return fmt.Errorf("%s %s: %w: %s", path, strings.Join(args, " "), err, msg)
		}
		return fmt.Errorf("%s %s: %w", path, strings.Join(args, " "), err)
	}
	return nil
}
