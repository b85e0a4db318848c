package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// spawner starts the measured command, directly (no shell), as root or as a user.
type spawner struct {
	args   []string
	cred   *syscall.Credential
	env    []string
	dir    string
	stderr *os.File // shared by all runs, read back when one fails
	seq    int
}

func newSpawner(c *common, args []string) (*spawner, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("no command given after --")
	}
	s := &spawner{args: args, dir: c.dir}
	home := "/root"
	if c.user != "" {
		u, err := user.Lookup(c.user)
		if err != nil {
			return nil, err
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
		home = u.HomeDir
		s.env = []string{"USER=" + c.user, "LOGNAME=" + c.user}
	}
	s.env = append(s.env, "HOME="+home, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8")
	s.env = append(s.env, c.env...)
	f, err := os.CreateTemp("", "bench-stderr-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	s.stderr = f
	return s, nil
}

// start starts one run; {i} in the arguments becomes a number unique to it.
func (s *spawner) start() (*exec.Cmd, error) {
	s.seq++
	args := make([]string, len(s.args))
	for i, a := range s.args {
		args[i] = strings.ReplaceAll(a, "{i}", strconv.Itoa(s.seq))
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = s.env
	cmd.Dir = s.dir
	cmd.Stderr = s.stderr
	// A group of its own, so that a run that hangs is killed with all it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true}
	return cmd, cmd.Start()
}

// runTimeout bounds one run: a peer that hangs fails its row, not the benchmark.
const runTimeout = 5 * time.Minute

// wait waits for cmd and turns a failure into an error carrying its stderr.
func (s *spawner) wait(cmd *exec.Cmd) error {
	timer := time.AfterFunc(runTimeout, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	err := cmd.Wait()
	if !timer.Stop() {
		return fmt.Errorf("%s: killed after %v: %s", filepath.Base(cmd.Args[0]), runTimeout, s.lastStderr())
	}
	if err != nil {
		return fmt.Errorf("%s: %v: %s", filepath.Base(cmd.Args[0]), err, s.lastStderr())
	}
	return nil
}

func (s *spawner) resetStderr() {
	_ = s.stderr.Truncate(0)
	_, _ = s.stderr.Seek(0, io.SeekStart)
}

func (s *spawner) lastStderr() string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/self/fd/%d", s.stderr.Fd()))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// prepare runs the untimed shell command given with -prepare, as the caller.
func prepare(script string) error {
	if script == "" {
		return nil
	}
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil {
		return fmt.Errorf("prepare %q: %v: %s", script, err, strings.TrimSpace(string(out)))
	}
	return nil
}
