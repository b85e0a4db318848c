package integration

import (
	"bufio"
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccrun/ccrun/cgroupv2"
)

// requireCgroup2Delegation skips unless this host can delegate a cgroup v2 to the
// test's user: cgroup v2 only, and systemd to ask (the user's, on the session bus,
// with memory, pids and cpu delegated to user@UID.service; or PID 1 as root). These
// hosts are cgroup v1: the tests run in the VM (make test-vm).
func requireCgroup2Delegation(t *testing.T) cgroupv2.Bus {
	t.Helper()
	if l := cgroupv2.HostLayout(); l != cgroupv2.Unified {
		t.Skipf("host has %s: cgroup v2 delegation is tested in the VM (make test-vm)", l)
	}
	bus := cgroupv2.Bus{User: rootless(), UID: os.Getuid()}
	if !bus.Available() {
		t.Skipf("no %s to delegate a cgroup: log in through systemd-logind or enable lingering", bus)
	}
	if rootless() {
		uid := strconv.Itoa(os.Getuid())
		svc := filepath.Join(cgroupv2.Root, "user.slice", "user-"+uid+".slice", "user@"+uid+".service")
		have := strings.Fields(readFile(t, svc, "cgroup.controllers"))
		for _, c := range []string{"memory", "pids", "cpu"} {
			if !slices.Contains(have, c) {
				t.Skipf("the %s controller is not delegated to user@%s.service (it has %q)", c, uid, have)
			}
		}
	}
	return bus
}

// requireCgroupV1Host skips unless the host's controllers are on cgroup v1.
func requireCgroupV1Host(t *testing.T) {
	t.Helper()
	if l := cgroupv2.HostLayout(); l == cgroupv2.Unified {
		t.Skipf("host has %s: this test is about cgroup v1 hosts", l)
	}
}

func readFile(t *testing.T, dir, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// figure logs a measured value on a line test.sh collects ("FIGURE ...").
func figure(t *testing.T, format string, a ...any) {
	t.Helper()
	t.Logf("FIGURE "+format, a...)
}

// ccrunScopes lists the ccrun-* cgroups anywhere in the v2 tree: the scopes
// systemd made and the directories Direct made.
func ccrunScopes() []string {
	var out []string
	_ = filepath.WalkDir(cgroupv2.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.HasPrefix(d.Name(), "ccrun-") {
			out = append(out, p)
			return fs.SkipDir
		}
		return nil
	})
	return out
}

// waitNewScope waits for a ccrun-* cgroup that was not in before.
func waitNewScope(t *testing.T, before []string) string {
	t.Helper()
	var found string
	waitFor(t, 60*time.Second, "the container's cgroup", func() bool {
		for _, s := range ccrunScopes() {
			if !slices.Contains(before, s) {
				found = s
				return true
			}
		}
		return false
	})
	return found
}

// waitNoScope waits until none of the given cgroups exists any more.
func waitNoScope(t *testing.T, scopes ...string) {
	t.Helper()
	waitFor(t, 20*time.Second, "the removal of "+strings.Join(scopes, ", "), func() bool {
		for _, s := range scopes {
			if _, err := os.Stat(s); err == nil {
				return false
			}
		}
		return true
	})
}

// startCcrun starts ccrun in the background and waits for the container to print
// its first line ("ready"). The test kills it at the end if it still runs.
func startCcrun(t *testing.T, args ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(ccrunBin, args...)
	cmd.Env = testEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	br := bufio.NewReader(stdout)
	line := make(chan string, 1)
	go func() { l, _ := br.ReadString('\n'); line <- l }()
	select {
	case l := <-line:
		if l != "ready\n" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("ccrun %s: first line %q, want ready\nstderr: %s", strings.Join(args, " "), l, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("ccrun %s: no ready line in 60s", strings.Join(args, " "))
	}
	return cmd, br
}

// drain reads the rest of r in the background so the container never blocks.
func drain(r io.Reader) { go func() { _, _ = io.Copy(io.Discard, r) }() }

// fields parses "key value" lines (cpu.stat, memory.events) into a map.
func fields(s string) map[string]int64 {
	m := map[string]int64{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); ok && err == nil {
			m[k] = n
		}
	}
	return m
}

// keyValues parses "k=v k=v" output of a container.
func keyValues(s string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(s) {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[k] = v
		}
	}
	return m
}
