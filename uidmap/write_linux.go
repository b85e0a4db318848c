package uidmap

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"

	"github.com/ccrun/ccrun/rootless/child"
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
		return "", fmt.Errorf("%s not found: %w", name, err)
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
// the plan has them (both at once: they are independent), else by writing
// /proc/PID/{setgroups,uid_map,gid_map} directly (allowed for a single mapping of
// one's own ids once setgroups is denied).
func (p *Plans) Write(pid int) error { return p.Start(pid)() }

// Start is Write in two halves: it starts writing the mappings of pid's user
// namespace, and returns the function that waits until they are written (or
// failed). The helpers are processes of their own, so the caller can do other
// work meanwhile.
func (p *Plans) Start(pid int) (wait func() error) {
	if p.NewUIDMap != "" {
		return startAll([][]string{
			append([]string{p.NewUIDMap}, Args(pid, p.UID)...),
			append([]string{p.NewGIDMap}, Args(pid, p.GID)...),
		})
	}
	err := p.writeProc(pid)
	return func() error { return err }
}

// writeProc writes a single mapping of one's own ids directly.
func (p *Plans) writeProc(pid int) error {
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

// startAll starts the command lines at the same time and returns the function
// that waits for all of them. It uses syscall.ForkExec rather than os/exec, whose
// first use forks once more to probe for pidfd support: this is on the path of
// every rootless command.
func startAll(cmds [][]string) (wait func() error) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		err = fmt.Errorf("open %s: %w", os.DevNull, err)
		return func() error { return err }
	}
	defer null.Close()
	procs := make([]helperProc, 0, len(cmds))
	var errs []error
	for _, argv := range cmds {
		slog.Debug("exec", "argv", strings.Join(argv, " "))
		r, w, err := os.Pipe()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", argv[0], err))
			continue
		}
		pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
			Env:   []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
			Files: []uintptr{null.Fd(), null.Fd(), w.Fd()},
		})
		w.Close()
		if err != nil {
			r.Close()
			errs = append(errs, fmt.Errorf("%s: %w", strings.Join(argv, " "), err))
			continue
		}
		procs = append(procs, helperProc{argv, pid, r})
	}
	return func() error { return waitAll(procs, errs) }
}

// helperProc is a started helper and the read end of its stderr.
type helperProc struct {
	argv   []string
	pid    int
	stderr *os.File
}

// waitAll waits for the helpers and collects their failures with errs.
func waitAll(procs []helperProc, errs []error) error {
	for _, p := range procs {
		msg, _ := io.ReadAll(io.LimitReader(p.stderr, 4096))
		p.stderr.Close()
		ws, err := child.Reap(p.pid)
		if err != nil {
			errs = append(errs, fmt.Errorf("wait for %s: %w", p.argv[0], err))
			continue
		}
		if ws.Exited() && ws.ExitStatus() == 0 {
			continue
		}
		err = fmt.Errorf("%s: %s", strings.Join(p.argv, " "), child.ExitDescription(ws))
		if m := strings.TrimSpace(string(msg)); m != "" {
			err = fmt.Errorf("%w: %s", err, m)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
