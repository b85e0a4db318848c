package integration

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestExitStatus(t *testing.T) {
	root := newRootfs(t)
	if err := os.WriteFile(filepath.Join(root, "notexec"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"zero", []string{"true"}, 0, "", ""},
		{"own code", []string{"sh", "-c", "echo hi; exit 3"}, 3, "hi\n", ""},
		{"not executable", []string{"/notexec"}, 126, "", "permission denied"},
		{"not found", []string{"no-such-command"}, 127, "", `exec "no-such-command": executable file not found in $PATH`},
		{"not found by path", []string{"/no/such/file"}, 127, "", "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, "", append([]string{"run", "--rootfs", root, "--"}, tt.args...)...)
			if r.Code != tt.code || r.Stdout != tt.stdout || !strings.Contains(r.Stderr, tt.stderr) {
				t.Fatalf("want exit %d, stdout %q, stderr containing %q; got\n%s", tt.code, tt.stdout, tt.stderr, r)
			}
		})
	}
}

func TestNamespaces(t *testing.T) {
	root := newRootfs(t)
	script := `echo pid1=$(cat /proc/1/cmdline | tr '\0' ' ')
echo procs=$(for p in /proc/[0-9]*; do cat $p/comm; done 2>/dev/null | sort -u | tr '\n' ' ')
echo host=$(hostname)
echo ids=$(id -u):$(id -g)
echo ifaces=$(ls /sys/class/net | tr '\n' ' ')
echo lo=$(cat /sys/class/net/lo/operstate)
echo proc=$(awk '$2=="/proc"{print $3}' /proc/mounts | head -1)
echo dev=$(ls /dev | tr '\n' ' ')
echo ptsopts=$(awk '$2=="/dev/pts"{print $4}' /proc/mounts)
echo sysro=$(awk '$2=="/sys"{print substr($4,1,2)}' /proc/mounts)
echo ipc=$(readlink /proc/self/ns/ipc)
echo net=$(readlink /proc/self/ns/net)
echo uts=$(readlink /proc/self/ns/uts)
echo uidmap=$(cat /proc/self/uid_map | tr -s ' ' | tr '\n' '/')
echo mountpoints=$(awk '{print $5}' /proc/self/mountinfo | sort -u | tr '\n' ' ')
`
	out := ccrun(t, "run", "--rootfs", root, "--hostname", "box", "sh", "-c", script)
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		got[k] = strings.TrimSpace(v)
	}
	want := map[string]string{
		"host":   "box",
		"ids":    "0:0",
		"ifaces": "lo",
		"lo":     "unknown", // loopback has no carrier state; "down" when not up
		"proc":   "proc",
		"dev":    "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero",
		"sysro":  "ro",
	}
	// Only sh and what it runs: nothing of the host, nothing of ccrun.
	for _, comm := range strings.Fields(got["procs"]) {
		if comm != "sh" && comm != "cat" && comm != "sort" && comm != "tr" {
			t.Errorf("process %q is visible in the container (all: %s)", comm, got["procs"])
		}
	}
	if !strings.HasPrefix(got["pid1"], "sh -c echo pid1=") {
		t.Errorf("PID 1 is %q, want the command (sh)", got["pid1"])
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	// Nothing of the host's mount table: only the root and the kernel filesystems.
	for _, mp := range strings.Fields(got["mountpoints"]) {
		if mp != "/" && !strings.HasPrefix(mp, "/proc") && !strings.HasPrefix(mp, "/dev") && !strings.HasPrefix(mp, "/sys") {
			t.Errorf("mount point %s is visible in the container (all: %s)", mp, got["mountpoints"])
		}
	}
	// The init makes these three itself, before it has its spec (see
	// rootless.unshareEarly); the loopback being up (lo above) shows that,
	// rootless, the container's user namespace owns the network one.
	for _, ns := range []string{"ipc", "net", "uts"} {
		if host, _ := os.Readlink("/proc/self/ns/" + ns); got[ns] == "" || got[ns] == host {
			t.Errorf("container's %s namespace is %q, the host's is %s: want a new one", ns, got[ns], host)
		}
	}
	if !strings.Contains(got["ptsopts"], "ptmxmode=666") {
		t.Errorf("devpts options %q: want a new instance with ptmxmode=666", got["ptsopts"])
	}
	wantMap := "0 0 4294967295/"
	if rootless() {
		wantMap = fmt.Sprintf("0 %d 1/", os.Getuid())
	}
	if !strings.HasPrefix(strings.TrimLeft(got["uidmap"], " "), wantMap) {
		t.Errorf("uid_map = %q, want it to start with %q", got["uidmap"], wantMap)
	}
	if rootless() && !strings.Contains(got["uidmap"], " 65536/") {
		t.Errorf("uid_map = %q: want 65536 subordinate ids mapped (the test user has a range)", got["uidmap"])
	}
}

func TestDefaultHostnameIsShortID(t *testing.T) {
	root := newRootfs(t)
	out := strings.TrimSpace(ccrun(t, "run", "--rootfs", root, "hostname"))
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(out) {
		t.Fatalf("hostname %q: want the 12-digit short container id", out)
	}
}

func TestEnvWorkdirUser(t *testing.T) {
	root := newRootfs(t)
	envFile := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(envFile, []byte("# comment\nFROMFILE=1\nBOTH=file\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CCRUN_TEST_PASSED", "passed-through")
	out := ccrun(t, "run", "--rootfs", root, "--env-file", envFile, "-e", "BOTH=flag", "-e", "CCRUN_TEST_PASSED",
		"-e", "CCRUN_TEST_UNSET_VAR", "-w", "/work/dir", "sh", "-c",
		`echo "$FROMFILE $BOTH $CCRUN_TEST_PASSED ${CCRUN_TEST_UNSET_VAR-unset} $PATH $HOME $HOSTNAME $(pwd) ${TERM-noterm}"`)
	fields := strings.Fields(out)
	want := []string{"1", "flag", "passed-through", "unset", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "/root"}
	for i, w := range want {
		if i >= len(fields) || fields[i] != w {
			t.Fatalf("env: got %q, want it to start with %q", out, want)
		}
	}
	if fields[7] != "/work/dir" || fields[8] != "noterm" {
		t.Fatalf("workdir/TERM: got %q", out)
	}
	// The working directory was created in the root directory itself.
	if st, err := os.Stat(filepath.Join(root, "work/dir")); err != nil || !st.IsDir() {
		t.Fatalf("workdir not created in the rootfs: %v", err)
	}
	// -u by number and by name, looked up in the container's /etc/passwd.
	for _, u := range []string{"1000:1000", "tester"} {
		out = ccrun(t, "run", "--rootfs", root, "-u", u, "sh", "-c", `echo $(id -u):$(id -g) $HOME; grep CapEff /proc/self/status`)
		if !strings.HasPrefix(out, "1000:1000 /home/tester\n") || !strings.Contains(out, "CapEff:\t0000000000000000") {
			t.Errorf("-u %s: got %q, want uid 1000, gid 1000, HOME /home/tester and no capabilities", u, out)
		}
	}
	r := runCmd(t, "", "run", "--rootfs", root, "-u", "nosuchuser", "true")
	if r.Code != 125 || !strings.Contains(r.Stderr, `no such user in the container's /etc/passwd`) {
		t.Errorf("unknown user: want exit 125 and a clear error, got\n%s", r)
	}
}

func TestStdin(t *testing.T) {
	root := newRootfs(t)
	r := runCmd(t, "hi\n", "run", "-i", "--rootfs", root, "cat")
	if r.Code != 0 || r.Stdout != "hi\n" {
		t.Fatalf("echo hi | ccrun run -i cat: got\n%s", r)
	}
	// Without -i the container reads /dev/null, even when ccrun's stdin has data.
	r = runCmd(t, "secret\n", "run", "--rootfs", root, "cat")
	if r.Code != 0 || r.Stdout != "" {
		t.Fatalf("without -i: got\n%s", r)
	}
}

func TestReadOnlyRoot(t *testing.T) {
	root := newRootfs(t)
	r := runCmd(t, "", "run", "--read-only", "--rootfs", root, "sh", "-c", "touch /x || echo refused; touch /dev/shm/ok && echo shm-ok")
	if r.Code != 0 || !strings.Contains(r.Stdout, "refused") || !strings.Contains(r.Stdout, "shm-ok") {
		t.Fatalf("--read-only: got\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(root, "x")); err == nil {
		t.Fatal("--read-only: the container wrote into its root")
	}
	// Without --read-only the container writes into the directory.
	ccrun(t, "run", "--rootfs", root, "touch", "/written")
	if _, err := os.Stat(filepath.Join(root, "written")); err != nil {
		t.Fatalf("container's write did not reach the rootfs: %v", err)
	}
}

func TestMountsStayInside(t *testing.T) {
	root := newRootfs(t)
	before := hostMounts(t)
	cmd := exec.Command(ccrunBin, "run", "--rootfs", root, "sh", "-c", "echo up; read x; true")
	cmd.Env = testEnv()
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Args = append(cmd.Args[:2], append([]string{"-i"}, cmd.Args[2:]...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "up\n" {
		t.Fatalf("container did not start: %q %v", line, err)
	}
	during := hostMounts(t)
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(during, root) || during != before {
		t.Fatalf("the container's mounts are visible on the host:\n%s", during)
	}
}

func TestMountInsideInvisibleOutside(t *testing.T) {
	root := newRootfs(t)
	marker := fmt.Sprintf("ccrun-marker-%d", time.Now().UnixNano())
	// CAP_SYS_ADMIN in the container's own user namespace lets it mount, but only
	// in its own mount namespace.
	cmd := exec.Command(ccrunBin, "run", "-i", "--cap-add", "SYS_ADMIN", "--rootfs", root, "sh", "-c",
		"mkdir -p /mnt/x && mount -t tmpfs "+marker+" /mnt/x && grep -c "+marker+" /proc/mounts; read x; true")
	cmd.Env = testEnv()
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "1\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("mount inside the container failed: %q %v\n%s", line, err, stderr.String())
	}
	host := hostMounts(t)
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(host, marker) {
		t.Fatalf("the container's mount %s is visible on the host", marker)
	}
}

func TestSignalForwarding(t *testing.T) {
	root := newRootfs(t)
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			num := int(sig)
			script := fmt.Sprintf(`trap 'echo caught; exit %d' %d; echo ready; while :; do sleep 0.05; done`, 100+num, num)
			code, out := startAndSignal(t, root, []string{"sh", "-c", script}, sig)
			if code != 100+num || !strings.Contains(out, "caught") {
				t.Fatalf("got exit %d, output %q; want %d after the trap ran", code, out, 100+num)
			}
		})
	}
}

func TestStopEscalatesToKill(t *testing.T) {
	root := newRootfs(t)
	// A PID 1 that ignores SIGINT and SIGTERM must still be stoppable.
	const ignoring = "trap '' INT TERM; echo ready; sleep 1000"
	t.Run("second interrupt", func(t *testing.T) {
		code, _ := startAndSignal(t, root, []string{"sh", "-c", ignoring}, syscall.SIGINT, syscall.SIGINT)
		if code != 137 {
			t.Fatalf("exit %d, want 137 (SIGKILL after a second SIGINT)", code)
		}
	})
	t.Run("stop timeout", func(t *testing.T) {
		start := time.Now()
		code, _ := startAndSignal(t, root, []string{"--stop-timeout", "1", "sh", "-c", ignoring}, syscall.SIGTERM)
		if code != 137 || time.Since(start) > 20*time.Second {
			t.Fatalf("exit %d after %v, want 137 about a second after SIGTERM", code, time.Since(start))
		}
	})
}

// startAndSignal runs a container whose command prints "ready" once it is set up,
// sends ccrun the signals, and returns its exit status and output.
func startAndSignal(t *testing.T, root string, args []string, sigs ...syscall.Signal) (int, string) {
	t.Helper()
	var flags []string
	for len(args) > 0 && strings.HasPrefix(args[0], "--") {
		if args[0] == "--init" {
			flags, args = append(flags, args[0]), args[1:]
			continue
		}
		flags, args = append(flags, args[0], args[1]), args[2:]
	}
	cmd := exec.Command(ccrunBin, append(append(append([]string{"run"}, flags...), "--rootfs", root, "--"), args...)...)
	cmd.Env = testEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(stdout)
	if line, err := br.ReadString('\n'); err != nil || line != "ready\n" {
		_ = cmd.Process.Kill()
		t.Fatalf("container did not start: %q %v", line, err)
	}
	for _, s := range sigs {
		if err := cmd.Process.Signal(s); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Armed before reading: a ccrun that never exits must not hang the test.
	timer := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	rest, _ := io.ReadAll(br)
	_ = cmd.Wait()
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		t.Fatalf("ccrun itself died of %v", ws.Signal())
	}
	return ws.ExitStatus(), string(rest)
}

func TestKillingCcrunKillsContainer(t *testing.T) {
	root := newRootfs(t)
	marker := fmt.Sprintf("ccrun-orphan-check-%d", time.Now().UnixNano())
	cmd := exec.Command(ccrunBin, "run", "--rootfs", root, "sh", "-c", "echo ready; sleep 1000; echo "+marker)
	cmd.Env = testEnv()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // on an early failure, leave no container behind
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("container did not start: %q %v", line, err)
	}
	// The container's sh, not ccrun, whose own command line holds the marker too.
	shell := false
	for _, pid := range processesWith(marker) {
		if b, err := os.ReadFile("/proc/" + pid + "/cmdline"); err == nil && strings.HasPrefix(string(b), "sh\x00-c\x00") {
			shell = true
		}
	}
	if !shell {
		t.Fatal("cannot see the container's shell on the host")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitFor(t, 10*time.Second, "the container's processes to die", func() bool { return len(processesWith(marker)) == 0 })
	if m := hostMounts(t); strings.Contains(m, root) {
		t.Fatalf("a mount of the container is left on the host:\n%s", m)
	}
}

func TestTerminal(t *testing.T) {
	root := newRootfs(t)
	master, slave := openPty(t, 33, 101)
	cmd := exec.Command(ccrunBin, "run", "-it", "--rootfs", root, "--hostname", "box", "sh")
	cmd.Env = append(testEnv(), "TERM=xterm")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	out := &ptyOutput{}
	go out.copy(master) // ends with EIO when ccrun exits
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	write := func(s string) {
		if _, err := master.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	write("echo T=$(tty) H=$(hostname) S=$(stty size) P=$(cat /proc/1/cmdline) TERM=$TERM\r")
	out.waitFor(t, "S=33 101")
	// Resizing the caller's terminal reaches the container's (SIGWINCH to ccrun).
	if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "R=40 120") && time.Now().Before(deadline) {
		write("echo R=$(stty size)\r")
		time.Sleep(200 * time.Millisecond)
	}
	write("exit 7\r")
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("ccrun -it did not exit; output:\n%s", out.String())
	}
	got := out.String()
	if code := cmd.ProcessState.ExitCode(); code != 7 {
		t.Fatalf("exit %d, want 7; output:\n%s", code, got)
	}
	for _, want := range []string{"T=/dev/pts/0", "H=box", "S=33 101", "P=sh", "TERM=xterm", "R=40 120"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminal output lacks %q:\n%s", want, got)
		}
	}
	// The caller's terminal is back in cooked mode.
	tio, err := unix.IoctlGetTermios(int(master.Fd()), unix.TCGETS)
	if err == nil && tio.Lflag&unix.ICANON == 0 {
		t.Error("the caller's terminal was left in raw mode")
	}
}

// ptyOutput collects what a pty master reads, for tests to wait on.
type ptyOutput struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (p *ptyOutput) copy(r io.Reader) {
	b := make([]byte, 4096)
	for {
		n, err := r.Read(b)
		p.mu.Lock()
		p.buf.Write(b[:n])
		p.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (p *ptyOutput) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

func (p *ptyOutput) waitFor(t *testing.T, s string) {
	t.Helper()
	waitFor(t, 15*time.Second, fmt.Sprintf("%q on the terminal", s), func() bool { return strings.Contains(p.String(), s) })
}

// openPty returns a new pseudoterminal pair with the given window size.
func openPty(t *testing.T, rows, cols uint16) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudoterminals: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
		t.Fatal(err)
	}
	return m, s
}

func TestErrorsAreClear(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	r := runCmd(t, "", "run", "--rootfs", missing, "true")
	if r.Code != 125 || !strings.Contains(r.Stderr, "ccrun: rootfs "+missing+": no such file or directory") ||
		!strings.Contains(r.Stderr, "hint: --rootfs takes an existing directory") {
		t.Errorf("missing rootfs:\n%s", r)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r = runCmd(t, "", "run", "--rootfs", file, "true")
	if r.Code != 125 || !strings.Contains(r.Stderr, "not a directory") {
		t.Errorf("rootfs is a file:\n%s", r)
	}
	r = runCmd(t, "", "run", "--no-such-flag")
	if r.Code != 125 || !strings.Contains(r.Stderr, "unknown flag: --no-such-flag") || !strings.Contains(r.Stderr, "Usage: ccrun run") {
		t.Errorf("unknown flag:\n%s", r)
	}
	if strings.Count(r.Stderr, "unknown flag") != 1 {
		t.Errorf("the error is printed more than once:\n%s", r)
	}
}

func TestDebugNarratesKernelSteps(t *testing.T) {
	root := newRootfs(t)
	r := runCmd(t, "", "--debug", "run", "--rootfs", root, "true")
	if r.Code != 0 {
		t.Fatal(r)
	}
	want := []string{"clone P2", "CLONE_NEWPID", "msg=mount", "type=proc", "type=devpts", "pivot_root", "msg=capset", "msg=execve"}
	if rootless() {
		want = append(want, "CLONE_NEWUSER", "newuidmap", "newgidmap")
	}
	for _, w := range want {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("--debug output lacks %q", w)
		}
	}
	if t.Failed() {
		t.Log(r.Stderr)
	}
}

// TestRootlessInitClone: rootless, the init is made the way this build says
// (CCRUN_INIT_CLONE, set by the Makefile: "entry" when ccrun has its own entry
// point, "fork" for Go's clone), and either way it is PID 1 of its namespace,
// the leader of its own session, with no parent inside the container.
func TestRootlessInitClone(t *testing.T) {
	if !rootless() {
		t.Skip("as root the init needs no user namespace")
	}
	want := map[string]string{"entry": `via="entry point"`, "fork": "via=fork"}[os.Getenv("CCRUN_INIT_CLONE")]
	if want == "" {
		t.Skip("CCRUN_INIT_CLONE (entry or fork) says how this ccrun was built; the Makefile sets it")
	}
	root := newRootfs(t)
	r := runCmd(t, "", "--debug", "run", "--rootfs", root, "sh", "-c", "cut -d' ' -f1,4,6 /proc/1/stat; echo $$")
	if r.Code != 0 || !strings.Contains(r.Stderr, want) {
		t.Fatalf("want exit 0 and %s in the --debug output\n%s", want, r)
	}
	// /proc/1/stat: pid, ppid (0: the parent is outside the namespace), session.
	if got := strings.TrimSpace(r.Stdout); got != "1 0 1\n1" {
		t.Errorf("pid ppid session of PID 1, and $$: %q, want \"1 0 1\" and 1", got)
	}
}

func TestHelpAndVersion(t *testing.T) {
	r := runCmd(t, "", "run", "--help")
	if r.Code != 0 || !strings.Contains(r.Stderr, "Examples:") || !strings.Contains(r.Stderr, "--rootfs") {
		t.Errorf("run --help:\n%s", r)
	}
	r = runCmd(t, "", "--help")
	if r.Code != 0 || !strings.Contains(r.Stderr, "run ") {
		t.Errorf("--help:\n%s", r)
	}
	if out := ccrun(t, "version"); !strings.HasPrefix(out, "ccrun version ") {
		t.Errorf("version: %q", out)
	}
}

func TestInitReaper(t *testing.T) {
	root := newRootfs(t)
	// PID 1 is the reaper, run from a sealed memfd: not the ccrun binary (CVE-2019-5736).
	out := ccrun(t, "run", "--init", "--rootfs", root, "sh", "-c",
		`readlink /proc/1/exe; (sleep 0 &); sleep 0.3; echo zombies=$(ps -o stat | grep -c Z); echo x > /proc/1/exe 2>/dev/null || echo write-refused`)
	for _, want := range []string{"/memfd:ccrun-init (deleted)", "zombies=0", "write-refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("--init: output lacks %q:\n%s", want, out)
		}
	}
	// The reaper forwards SIGTERM to the command, which dies of it: 128+15.
	code, _ := startAndSignal(t, root, []string{"--init", "sh", "-c", "echo ready; exec sleep 1000"}, syscall.SIGTERM)
	if code != 143 {
		t.Fatalf("--init and SIGTERM: exit %d, want 143", code)
	}
}

func TestWithoutSubordinateIDs(t *testing.T) {
	if rootless() {
		t.Skip("needs root to act as the user without subordinate ids")
	}
	const user = "ccrun-test-nosub"
	if _, err := exec.Command("id", "-u", user).Output(); err != nil {
		t.Skipf("no user %s: run make deps", user)
	}
	root := newRootfs(t)
	if err := os.Chmod(filepath.Dir(root), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("chown", "-R", user+":", root).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	// The binary may sit in a directory only root can enter (a CI checkout).
	bin := filepath.Join(filepath.Dir(root), "ccrun")
	data, err := os.ReadFile(ccrunBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("runuser", "-u", user, "--", bin, "run", "--rootfs", root, "sh", "-c", "cat /proc/self/uid_map; id -u")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/"}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s%s", err, stdout.String(), stderr.String())
	}
	fields := strings.Fields(stdout.String())
	if len(fields) != 4 || fields[0] != "0" || fields[2] != "1" || fields[3] != "0" {
		t.Errorf("want a single mapping 0 -> %s, got:\n%s", user, stdout.String())
	}
	if n := strings.Count(stderr.String(), "ccrun: warning: no subordinate ids"); n != 1 ||
		!strings.Contains(stderr.String(), "hint: as root, run: usermod --add-subuids") {
		t.Errorf("want the warning once, with the fix; stderr:\n%s", stderr.String())
	}
}
