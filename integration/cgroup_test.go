package integration

// Limits on the build machines: cgroup v1 (hybrid), no systemd. As root, ccrun
// enforces the limits with the v1 controllers; an unprivileged user cannot be
// given v1 cgroups, so a limit is refused with the reason and the fix, and a run
// without limits runs without a cgroup and says nothing. The cgroup v2 tests are
// in cgroupvm_test.go.

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccrun/ccrun/cgroupv2"
)

// v1Parents are this process's cgroups in the memory, cpu and pids hierarchies:
// where ccrun, our child, makes the container's.
func v1Parents(t *testing.T) map[string]string {
	t.Helper()
	ms, err := cgroupv2.ProcessCgroups(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	mounts, err := cgroupv2.Mounts()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range []string{"memory", "cpu", "pids"} {
		p, ok := cgroupv2.ControllerPath(ms, c)
		for _, m := range mounts {
			if ok && m.Type == "cgroup" && m.HasOption(c) {
				if dir, ok := m.Dir(p); ok {
					out[c] = dir
				}
			}
		}
		if out[c] == "" {
			t.Skipf("no cgroup v1 hierarchy with the %s controller", c)
		}
	}
	return out
}

// ccrunDirs lists the cgroups of the container whose id starts with prefix (its
// default hostname): other ccruns may run on the machine at the same time.
func ccrunDirs(parent, prefix string) []string {
	m, _ := filepath.Glob(filepath.Join(parent, "ccrun-"+prefix+"*"))
	return m
}

// TestCgroupV1RootLimits: the limits are in the v1 cgroups while the container
// runs, the container is in them from the start (its cgroup namespace, made
// once the init had moved itself in, is rooted there), and the cgroups are
// gone when it ends.
func TestCgroupV1RootLimits(t *testing.T) {
	requireCgroupV1Host(t)
	if rootless() {
		t.Skip("cgroup v1 limits are for root; rootless is refused (TestCgroupV1RootlessRefused)")
	}
	parents := v1Parents(t)
	root := newRootfs(t)
	cmd, out := startCcrun(t, "run", "--memory", "32m", "--cpus", "0.5", "--cpu-shares", "512", "--pids-limit", "64",
		"--rootfs", root, "sh", "-c", "echo ready; hostname; grep -E ':(memory|pids|cpu|cpu,cpuacct):' /proc/self/cgroup | tr '\\n' ' '; echo; sleep 3")
	hostname, err := out.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(hostname)
	own, err := out.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if fields := strings.Fields(own); len(fields) != 3 || slices.ContainsFunc(fields, func(f string) bool { return !strings.HasSuffix(f, ":/") }) {
		t.Errorf("the container's /proc/self/cgroup: %q; want memory, cpu and pids at the root of its cgroup namespace", own)
	}
	drain(out)
	want := map[string][2]string{
		"memory": {"memory.limit_in_bytes", "33554432"},
		"cpu":    {"cpu.cfs_quota_us", "50000"},
		"pids":   {"pids.max", "64"},
	}
	var made []string
	for c, fv := range want {
		var dirs []string
		waitFor(t, 30*time.Second, "the container's "+c+" cgroup", func() bool { dirs = ccrunDirs(parents[c], id); return len(dirs) > 0 })
		if len(dirs) != 1 {
			t.Fatalf("%s: want one ccrun cgroup, found %q", c, dirs)
		}
		if got := readFile(t, dirs[0], fv[0]); got != fv[1] {
			t.Errorf("%s/%s = %s, want %s", dirs[0], fv[0], got, fv[1])
		}
		if readFile(t, dirs[0], "cgroup.procs") == "" {
			t.Errorf("%s holds no process", dirs[0])
		}
		made = append(made, dirs[0])
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ccrun: %v", err)
	}
	for _, d := range made {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s left behind (stat: %v)", d, err)
		}
	}
}

func TestCgroupV1RootOOM(t *testing.T) {
	requireCgroupV1Host(t)
	if rootless() {
		t.Skip("cgroup v1 limits are for root")
	}
	root := newRootfs(t)
	r := runCmd(t, "", "run", "--memory", "32m", "--memory-swap", "32m", "--rootfs", root, "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
	if r.Code != 137 || !strings.Contains(r.Stderr, "ccrun: container killed: out of memory (limit 32 MiB)\n") {
		t.Fatalf("64 MiB dd in 32 MiB: want exit 137 and the OOM line\n%s", r)
	}
}

func TestCgroupV1RootPids(t *testing.T) {
	requireCgroupV1Host(t)
	if rootless() {
		t.Skip("cgroup v1 limits are for root")
	}
	root := newRootfs(t)
	out := ccrun(t, "run", "--pids-limit", "32", "--rootfs", root, "sh", "-c",
		`(for i in $(seq 100); do sleep 60 & echo $i > /tmp/n; done) 2>/dev/null; read n < /tmp/n; echo started=$n`)
	n, err := strconv.Atoi(keyValues(out)["started"])
	if err != nil || n >= 32 || n < 20 {
		t.Fatalf("100 background sleeps under --pids-limit 32: %q", out)
	}
}

// TestCgroupV1RootlessRefused: each limit is refused, with the reason and the fix.
func TestCgroupV1RootlessRefused(t *testing.T) {
	requireCgroupV1Host(t)
	if !rootless() {
		t.Skip("as root, v1 limits are enforced (TestCgroupV1RootLimits)")
	}
	root := newRootfs(t)
	for _, flags := range [][]string{{"--memory", "32m"}, {"--cpus", "0.5"}, {"--cpu-shares", "512"}, {"--pids-limit", "10"},
		{"--memory", "32m", "--memory-swap", "-1"}} {
		args := append(append([]string{"run"}, flags...), "--rootfs", root, "true")
		r := runCmd(t, "", args...)
		if r.Code != 125 || !strings.Contains(r.Stderr, "ccrun: "+flags[0]) || !strings.Contains(r.Stderr, "cgroup v1") ||
			!strings.Contains(r.Stderr, "\nhint: ") || !strings.Contains(r.Stderr, "cgroup v2") {
			t.Errorf("rootless %s on cgroup v1: want 125, the reason and a hint\n%s", strings.Join(flags, " "), r)
		}
	}
}

// TestCgroupRootlessNoLimitQuiet: without limits a rootless run needs no cgroup and
// says nothing about it.
func TestCgroupRootlessNoLimitQuiet(t *testing.T) {
	requireCgroupV1Host(t)
	if !rootless() {
		t.Skip("rootless only")
	}
	root := newRootfs(t)
	for _, args := range [][]string{{"run", "--rootfs", root, "true"}, {"run", "--pids-limit", "-1", "--rootfs", root, "true"}} {
		r := runCmd(t, "", args...)
		if r.Code != 0 || r.Stderr != "" {
			t.Errorf("ccrun %s: want exit 0 and nothing on stderr\n%s", strings.Join(args, " "), r)
		}
	}
}

// TestCgroupBadLimits: malformed or impossible limits are refused before anything
// runs, on any host.
func TestCgroupBadLimits(t *testing.T) {
	root := newRootfs(t)
	tests := []struct {
		flags []string
		want  string
	}{
		{[]string{"--memory", "lots"}, `ccrun: --memory: size "lots"`},
		{[]string{"--memory", "1m"}, "below the minimum of 6 MiB"},
		{[]string{"--memory-swap", "1g"}, "needs --memory too"},
		{[]string{"--memory", "64m", "--memory-swap", "32m"}, "less than --memory"},
		{[]string{"--cpus", "100000"}, "the range is 0.01 to"},
	}
	for _, tt := range tests {
		args := append(append([]string{"run"}, tt.flags...), "--rootfs", root, "true")
		r := runCmd(t, "", args...)
		if r.Code != 125 || !strings.Contains(r.Stderr, tt.want) {
			t.Errorf("ccrun %s: want 125 and %q\n%s", strings.Join(tt.flags, " "), tt.want, r)
		}
	}
}
