package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ccrunBin is the binary under test.
var ccrunBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	ccrunBin = os.Getenv("CCRUN_BIN")
	if ccrunBin == "" {
		dir, err := os.MkdirTemp("", "ccrun-it-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		ccrunBin = filepath.Join(dir, "ccrun")
		build := exec.Command("go", "build", "-tags", "containers_image_openpgp exclude_graphdriver_btrfs exclude_graphdriver_devicemapper", "-o", ccrunBin, "../cmd/ccrun")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build ccrun: %v\n%s", err, out)
			return 1
		}
	}
	return m.Run()
}

// rootless reports whether the suite runs as an unprivileged user.
func rootless() bool { return os.Getuid() != 0 }

// result is what a person sees of one ccrun invocation.
type result struct {
	Stdout, Stderr string
	Code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// runCmd runs ccrun with args and stdin, with a deadline, and returns what it printed.
func runCmd(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ccrunBin, args...)
	cmd.Env = testEnv()
	return runExec(t, ctx, cmd, stdin)
}

// runExec runs cmd, a ccrun command line bound to ctx, and returns what it printed.
func runExec(t *testing.T, ctx context.Context, cmd *exec.Cmd, stdin string) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	// A process that outlives ccrun must not hang the test on its pipes.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	r := result{Stdout: out.String(), Stderr: errb.String()}
	if ctx.Err() != nil {
		t.Fatalf("%s: timed out\n%s", strings.Join(cmd.Args, " "), r)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.Code = 128 + int(ws.Signal())
		}
	} else if err != nil {
		t.Fatalf("%s: %v", strings.Join(cmd.Args, " "), err)
	}
	return r
}

// ccrun runs ccrun and fails the test unless it exits 0.
func ccrun(t *testing.T, args ...string) string {
	t.Helper()
	r := runCmd(t, "", args...)
	if r.Code != 0 {
		t.Fatalf("ccrun %s:\n%s", strings.Join(args, " "), r)
	}
	return r.Stdout
}

// testEnv is the environment ccrun runs with: the test's, so that HOME and
// XDG_* select the user's own store.
func testEnv() []string { return os.Environ() }

// newRootfs builds a busybox root filesystem (Debian's busybox-static) in a fresh
// temporary directory: /bin with every applet, /etc/passwd and /etc/group with root,
// a user "tester" (1000:1000) and nobody, and empty /tmp.
func newRootfs(t *testing.T) string {
	t.Helper()
	busybox := "/bin/busybox"
	if _, err := os.Stat(busybox); err != nil {
		t.Skipf("no %s: install busybox-static (make deps)", busybox)
	}
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"bin", "etc", "tmp", "root", "home/tester"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(root, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000:tester:/home/tester:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":  "root:x:0:\ntty:x:5:\nstaff:x:50:tester\ntester:x:1000:\nnogroup:x:65534:\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// hostMounts returns the host's mount table (our mount namespace's).
func hostMounts(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitFor polls cond every 20 ms until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processesWith returns the pids of processes whose command line contains marker.
func processesWith(marker string) []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	self := fmt.Sprint(os.Getpid())
	for _, e := range entries {
		if e.Name() == self {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte(marker)) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}
