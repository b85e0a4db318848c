package rootless

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ccrun/ccrun/rootless/child"
	"github.com/ccrun/ccrun/rootless/reaper"
	"github.com/ccrun/ccrun/rootless/seccomp"
)

// DefaultPath is $PATH when the image and the command line set none (Docker's).
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// execProcess becomes the container's command. It runs after pivot_root, so every
// path here is the container's own.
func execProcess(s *Spec, sync *os.File, pty int, reaperExe *os.File) error {
	p := s.Process
	id, err := resolveUser(p.User)
	if err != nil {
		return err
	}
	env := Environ(p.Env, s.Hostname, id.Home, p.Terminal)
	if err := chdir(p.Cwd); err != nil {
		return err
	}
	if len(p.Args) == 0 {
		return &ExecError{Msg: "no command given and the image has none", Code: 125}
	}
	file, err := LookPath(p.Args[0], envGet(env, "PATH"))
	if err != nil {
		return err
	}
	if !s.NoNewPrivileges {
		// Without no_new_privs the kernel takes a filter only from a holder of
		// CAP_SYS_ADMIN, which setCredentials is about to drop: install it first.
		// The filter allows every call made from here to execve.
		if err := seccomp.Install(s.Seccomp); err != nil {
			return err
		}
	}
	if err := setCredentials(id, s.Caps); err != nil {
		return err
	}
	if err := child.ParentAlive(sync); err != nil {
		return err
	}
	if s.NoNewPrivileges {
		// After this no execve can gain privileges: setuid bits and file
		// capabilities are ignored (prctl(2), PR_SET_NO_NEW_PRIVS).
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs: %w", err)
		}
	}
	if pty >= 0 {
		if err := takeTerminal(pty); err != nil {
			return err
		}
	}
	if s.NoNewPrivileges {
		// The last step before execve, so the filter need not allow the set-up.
		if err := seccomp.Install(s.Seccomp); err != nil {
			return err
		}
	}
	if reaperExe != nil {
		slog.Debug("execveat", "path", "memfd:"+ReaperName, "argv", append([]string{ReaperName, file}, p.Args...), "uid", id.UID, "gid", id.GID)
		err = execveat(reaperExe.Fd(), append([]string{ReaperName, file}, p.Args...), env)
		return fmt.Errorf("exec the init reaper: %w", err)
	}
	slog.Debug("execve", "path", file, "argv", p.Args, "uid", id.UID, "gid", id.GID)
	err = unix.Exec(file, p.Args, env)
	return execError(p.Args[0], err)
}

// resolveUser looks the user up in the container's /etc/passwd and /etc/group.
func resolveUser(spec string) (*Identity, error) {
	passwd, closeP := openEtc("/etc/passwd")
	defer closeP()
	group, closeG := openEtc("/etc/group")
	defer closeG()
	id, err := ResolveUser(spec, passwd, group)
	if err != nil {
		return nil, &ExecError{Msg: "resolve user: " + err.Error(), Code: 125}
	}
	return id, nil
}

// openEtc opens a file of the image for reading, without following magic links; a
// missing or unreadable file reads as empty.
func openEtc(p string) (io.Reader, func()) {
	root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, func() {}
	}
	defer unix.Close(root)
	fd, err := openInRoot(root, p, unix.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK)
	if err != nil {
		return nil, func() {}
	}
	f := os.NewFile(uintptr(fd), p)
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, func() {}
	}
	return io.LimitReader(f, 16<<20), func() { f.Close() }
}

// chdir enters the working directory, resolved inside the root without magic links:
// a working directory of /proc/self/fd/N must not reach a descriptor of the host
// (CVE-2024-21626).
func chdir(cwd string) error {
	if cwd == "" {
		cwd = "/"
	}
	if !path.IsAbs(cwd) {
		return &ExecError{Msg: fmt.Sprintf("working directory %q is not absolute", cwd), Code: 125}
	}
	root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /: %w", err)
	}
	defer unix.Close(root)
	fd, err := openInRoot(root, cwd, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return &ExecError{Msg: fmt.Sprintf("working directory %s: %v", cwd, err), Code: 125}
	}
	defer unix.Close(fd)
	if err := unix.Fchdir(fd); err != nil {
		return fmt.Errorf("chdir %s: %w", cwd, err)
	}
	return nil
}

// Environ completes the container's environment with what every process expects:
// PATH, HOSTNAME, HOME and, with a terminal, TERM. Values already set win.
func Environ(env []string, hostname, home string, terminal bool) []string {
	out := append([]string(nil), env...)
	add := func(k, v string) {
		if !envHas(out, k) {
			out = append(out, k+"="+v)
		}
	}
	add("PATH", DefaultPath)
	add("HOSTNAME", hostname)
	add("HOME", home)
	if terminal {
		add("TERM", "xterm")
	}
	return out
}

func envHas(env []string, key string) bool {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}

// envGet returns the last value of key, as getenv(3) on a list with duplicates would.
func envGet(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// LookPath finds the command in the container's PATH, as execvp(3) does. A name
// with a slash is used as it is.
func LookPath(file, pathEnv string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	if pathEnv == "" {
		pathEnv = DefaultPath
	}
	denied := ""
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		p := path.Join(dir, file)
		st, err := os.Stat(p)
		if err != nil || st.IsDir() {
			continue
		}
		if st.Mode()&0o111 != 0 {
			return p, nil
		}
		if denied == "" {
			denied = p
		}
	}
	if denied != "" {
		return "", &ExecError{Msg: fmt.Sprintf("exec %s: permission denied", denied), Code: 126}
	}
	return "", &ExecError{Msg: fmt.Sprintf("exec %q: executable file not found in $PATH", file), Code: 127}
}

// execError maps a failed execve to Docker's exit statuses: 127 when the file does
// not exist, 126 when it exists but cannot be executed.
func execError(name string, err error) error {
	return &ExecError{Msg: fmt.Sprintf("exec %s: %v", name, err), Code: reaper.ExecCode(err)}
}
