package integration

// Limits on a cgroup v2 host with systemd delegation. These hosts are cgroup v1, so
// the tests skip here and run in the VM (make test-vm, integration/vm/test.sh),
// once as the unprivileged user dev (the user's systemd on the session bus) and
// once as root (PID 1 on the system bus). Lines starting with FIGURE are the
// values seen; test.sh prints them.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ccrun/ccrun/cgroupv2"
)

// TestCgroupVMDelegate drives package cgroupv2 itself, in a child process that
// plays ccrun's supervisor: it asks systemd for a scope holding itself, splits it,
// writes limits, runs a memory hog, a fork bomb and a CPU hog in the container's
// leaf (clone3 with CLONE_INTO_CGROUP), then exits; systemd must then remove the
// scope.
func TestCgroupVMDelegate(t *testing.T) {
	requireCgroup2Delegation(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCgroupVMDelegateChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "CCRUN_TEST_DELEGATE_CHILD=1")
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	m := regexp.MustCompile(`SCOPE (\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatal("the child printed no SCOPE line")
	}
	waitNoScope(t, string(m[1]))
}

func TestCgroupVMDelegateChild(t *testing.T) {
	if os.Getenv("CCRUN_TEST_DELEGATE_CHILD") == "" {
		t.Skip("run by TestCgroupVMDelegate in a process of its own")
	}
	bus := requireCgroup2Delegation(t)
	unit := fmt.Sprintf("ccrun-test-%d.scope", time.Now().UnixNano())
	cg, err := cgroupv2.Delegate(context.Background(), bus, unit, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("SCOPE %s\n", cg.Dir)
	if err := cg.Split(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	l := cgroupv2.Limits{Memory: 32 << 20, MemorySwap: 32 << 20, CPUs: 0.2, Pids: 8}
	if err := cg.Limit(l); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"memory.max": "33554432", "memory.swap.max": "0", "cpu.max": "20000 100000", "pids.max": "8"}
	for file, value := range want {
		if got := readFile(t, cg.Container(), file); got != value {
			t.Errorf("%s = %q, want %q", file, got, value)
		}
	}
	if got := readFile(t, cg.Supervisor(), "cgroup.procs"); got != strconv.Itoa(os.Getpid()) {
		t.Errorf("supervisor leaf holds %q, want only us (%d)", got, os.Getpid())
	}
	inLeaf := func(name string, args ...string) error {
		c := exec.Command(name, args...)
		c.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cg.FD()}
		return c.Run()
	}
	err = inLeaf("dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
	if got := cg.OOMMessage(); err == nil || got != "container killed: out of memory (limit 32 MiB)" {
		t.Errorf("64 MiB dd under 32 MiB: %v, OOMMessage %q", err, got)
	}
	_ = inLeaf("sh", "-c", "for i in $(seq 20); do sleep 30 & done 2>/dev/null; wait")
	ev := fields(readFile(t, cg.Container(), "pids.events"))
	cur, _ := strconv.Atoi(readFile(t, cg.Container(), "pids.current"))
	if ev["max"] == 0 || cur > 8 {
		t.Errorf("20 sleeps under pids.max 8: pids.current %d, pids.events max %d", cur, ev["max"])
	}
	// Empty the leaf of the sleeps, so that the busy loop below can fork, and
	// count only its own throttling.
	if err := os.WriteFile(filepath.Join(cg.Container(), "cgroup.kill"), []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the leaf to empty", func() bool {
		return readFile(t, cg.Container(), "pids.current") == "0"
	})
	before := fields(readFile(t, cg.Container(), "cpu.stat"))["nr_throttled"]
	err = inLeaf("timeout", "1.5", "sh", "-c", "while :; do :; done")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 124 {
		t.Fatalf("busy loop: %v, want timeout's exit status 124", err)
	}
	if st := fields(readFile(t, cg.Container(), "cpu.stat")); st["nr_throttled"] <= before {
		t.Errorf("busy loop under cpu.max 20000 100000 not throttled: nr_throttled %d before, %v after", before, st)
	}
	if err := cg.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cg.Container()); !os.IsNotExist(err) {
		t.Errorf("container leaf still there after Close: %v", err)
	}
}

// TestCgroupVMDelegateRetry: a failed unit of the same name (here a scope the OOM
// killer stopped) is reset, and the scope started on the second attempt.
func TestCgroupVMDelegateRetry(t *testing.T) {
	bus := requireCgroup2Delegation(t)
	name := fmt.Sprintf("ccrun-retry-%d", time.Now().UnixNano())
	systemctl := func(name string, args ...string) *exec.Cmd { // systemctl or systemd-run, --user when rootless
		if rootless() {
			args = append([]string{"--user"}, args...)
		}
		return exec.Command(name, args...)
	}
	_ = systemctl("systemd-run", "--scope", "--quiet", "--unit", name, "-p", "MemoryMax=10M", "--",
		"dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1").Run()
	if out, _ := systemctl("systemctl", "is-failed", name+".scope").Output(); strings.TrimSpace(string(out)) != "failed" {
		t.Fatalf("could not leave a failed %s.scope behind: %q", name, out)
	}
	sleep := exec.Command("sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sleep.Process.Kill(); _ = sleep.Wait() }()
	cg, err := cgroupv2.Delegate(context.Background(), bus, name+".scope", sleep.Process.Pid)
	if err != nil {
		t.Fatalf("Delegate over a failed unit of the same name: %v", err)
	}
	if got, _ := cgroupv2.ProcessDir(sleep.Process.Pid); got != cg.Dir || filepath.Base(got) != name+".scope" {
		t.Errorf("the process is in %s, want the new scope %s", got, cg.Dir)
	}
	_ = sleep.Process.Kill()
	_ = sleep.Wait()
	waitNoScope(t, cg.Dir)
}

// TestCgroupVMLimitsInside: the container sees its limits, its own cgroup as "/"
// and a read-only cgroup2 at /sys/fs/cgroup.
func TestCgroupVMLimitsInside(t *testing.T) {
	requireCgroup2Delegation(t)
	root := newRootfs(t)
	out := ccrun(t, "run", "--memory", "32m", "--cpus", "0.5", "--cpu-shares", "512", "--pids-limit", "64", "--rootfs", root, "sh", "-c",
		`c=/sys/fs/cgroup; echo cgroup=$(cat /proc/self/cgroup) memory.max=$(cat $c/memory.max) memory.swap.max=$(cat $c/memory.swap.max) `+
			`cpu.max=$(tr ' ' / < $c/cpu.max) cpu.weight=$(cat $c/cpu.weight) pids.max=$(cat $c/pids.max) `+
			`mount=$(grep ' /sys/fs/cgroup ' /proc/self/mounts | cut -d' ' -f3,4 | tr ' ' /) `+
			`write=$(mkdir $c/x 2>/dev/null && echo allowed || echo refused)`)
	got := keyValues(out)
	want := map[string]string{
		"cgroup": "0::/", "memory.max": "33554432", "memory.swap.max": "33554432", "cpu.max": "50000/100000",
		"cpu.weight": "20", "pids.max": "64", "write": "refused",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("inside: %s = %q, want %q (output: %s)", k, got[k], v, out)
		}
	}
	if m := got["mount"]; !strings.HasPrefix(m, "cgroup2/ro,") {
		t.Errorf("/sys/fs/cgroup mount type/options %q, want a read-only cgroup2", m)
	}
	figure(t, "%s inside: %s", who(), strings.TrimSpace(out))
}

// TestCgroupVMLimitsFromHost: the scope in the host's tree, its two leaves, the
// limits on the container's leaf; everything gone when the container ends.
func TestCgroupVMLimitsFromHost(t *testing.T) {
	requireCgroup2Delegation(t)
	root := newRootfs(t)
	before := ccrunScopes()
	cmd, out := startCcrun(t, "run", "--memory", "32m", "--cpus", "0.5", "--pids-limit", "64", "--rootfs", root, "sh", "-c", "echo ready; sleep 4")
	drain(out)
	scope := waitNewScope(t, before)
	if !regexp.MustCompile(`/ccrun-[0-9a-f]{64}\.scope$`).MatchString(scope) {
		t.Errorf("scope %s, want ccrun-<id>.scope", scope)
	}
	slice := "/machine.slice/"
	if rootless() {
		slice = fmt.Sprintf("/user@%d.service/user.slice/", os.Getuid())
	}
	if !strings.Contains(scope, slice) {
		t.Errorf("scope %s is not under %s", scope, slice)
	}
	leaf := filepath.Join(scope, "container")
	want := map[string]string{"memory.max": "33554432", "cpu.max": "50000 100000", "pids.max": "64"}
	for file, value := range want {
		if got := readFile(t, leaf, file); got != value {
			t.Errorf("host view: %s/%s = %q, want %q", leaf, file, got, value)
		}
	}
	if procs := readFile(t, scope, "cgroup.procs"); procs != "" {
		t.Errorf("the scope itself holds processes %q (no internal process rule)", procs)
	}
	if readFile(t, filepath.Join(scope, "supervisor"), "cgroup.procs") == "" || readFile(t, leaf, "cgroup.procs") == "" {
		t.Errorf("supervisor or container leaf is empty")
	}
	for _, c := range []string{"memory", "pids", "cpu"} {
		if !strings.Contains(readFile(t, scope, "cgroup.subtree_control"), c) {
			t.Errorf("scope does not pass the %s controller to its leaves", c)
		}
	}
	var st syscall.Stat_t
	if err := syscall.Stat(scope, &st); err != nil || int(st.Uid) != os.Getuid() {
		t.Errorf("scope owned by uid %d, want %d (delegated): %v", st.Uid, os.Getuid(), err)
	}
	figure(t, "%s host: scope %s", who(), scope)
	figure(t, "%s host: container/memory.max=%s cpu.max=%q pids.max=%s", who(),
		readFile(t, leaf, "memory.max"), readFile(t, leaf, "cpu.max"), readFile(t, leaf, "pids.max"))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ccrun: %v", err)
	}
	waitNoScope(t, scope)
}

// TestCgroupVMOOM: a 64 MiB buffer in a 32 MiB container is killed: 137 and the line.
func TestCgroupVMOOM(t *testing.T) {
	requireCgroup2Delegation(t)
	root := newRootfs(t)
	r := runCmd(t, "", "run", "--memory", "32m", "--memory-swap", "32m", "--rootfs", root, "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
	if r.Code != 137 || !strings.Contains(r.Stderr, "ccrun: container killed: out of memory (limit 32 MiB)\n") {
		t.Fatalf("memory hog: want exit 137 and the OOM line\n%s", r)
	}
	figure(t, "%s oom: exit %d, stderr %q", who(), r.Code, strings.TrimSpace(r.Stderr))
}

// TestCgroupVMForkBomb: a hundred background processes under --pids-limit 32 stop
// at the limit.
func TestCgroupVMForkBomb(t *testing.T) {
	requireCgroup2Delegation(t)
	root := newRootfs(t)
	// Only shell builtins once the bomb went off: no fork is left for anything else.
	out := ccrun(t, "run", "--pids-limit", "32", "--rootfs", root, "sh", "-c",
		`(for i in $(seq 100); do sleep 60 & echo $i > /tmp/n; done) 2>/dev/null; read n < /tmp/n; `+
			`read cur < /sys/fs/cgroup/pids.current; read max < /sys/fs/cgroup/pids.max; `+
			`while read k v; do [ "$k" = max ] && ev=$v; done < /sys/fs/cgroup/pids.events; `+
			`echo started=$n current=$cur max=$max events=$ev`)
	kv := keyValues(out)
	started, _ := strconv.Atoi(kv["started"])
	cur, _ := strconv.Atoi(kv["current"])
	events, _ := strconv.Atoi(kv["events"])
	if kv["max"] != "32" || started >= 32 || started < 20 || cur > 32 || events < 1 {
		t.Fatalf("fork bomb under pids.max 32: %s", out)
	}
	figure(t, "%s fork bomb: %s", who(), strings.TrimSpace(out))
}

// TestCgroupVMCPUThrottled: a busy loop under --cpus 0.2 is throttled.
func TestCgroupVMCPUThrottled(t *testing.T) {
	requireCgroup2Delegation(t)
	root := newRootfs(t)
	out := ccrun(t, "run", "--cpus", "0.2", "--rootfs", root, "sh", "-c",
		`timeout 2 sh -c 'while :; do :; done'; cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.stat`)
	st := fields(out)
	// At most 20 ms of CPU per 100 ms period it ran in, give or take a tick.
	if budget := st["nr_periods"]*20000*5/4 + 50000; st["nr_throttled"] == 0 || st["usage_usec"] > budget {
		t.Fatalf("busy loop of 2 s under --cpus 0.2: want throttled, within %d µs of CPU:\n%s", budget, out)
	}
	figure(t, "%s cpu: cpu.max %q, a 2 s busy loop used usage_usec %d over nr_periods %d, nr_throttled %d, throttled_usec %d", who(),
		strings.SplitN(out, "\n", 2)[0], st["usage_usec"], st["nr_periods"], st["nr_throttled"], st["throttled_usec"])
}

// TestCgroupVMDefaultPids: with a cgroup, pids.max is 2048 unless asked otherwise.
func TestCgroupVMDefaultPids(t *testing.T) {
	requireCgroup2Delegation(t)
	root := newRootfs(t)
	if got := strings.TrimSpace(ccrun(t, "run", "--rootfs", root, "cat", "/sys/fs/cgroup/pids.max")); got != "2048" {
		t.Errorf("default pids.max = %q, want 2048", got)
	}
	if got := strings.TrimSpace(ccrun(t, "run", "--pids-limit", "-1", "--rootfs", root, "cat", "/sys/fs/cgroup/pids.max")); got != "max" {
		t.Errorf("--pids-limit -1: pids.max = %q, want max", got)
	}
}

// TestCgroupVMNoScopeAfterSIGKILL: killing ccrun itself leaves no scope behind.
func TestCgroupVMNoScopeAfterSIGKILL(t *testing.T) {
	requireCgroup2Delegation(t)
	root := newRootfs(t)
	before := ccrunScopes()
	cmd, out := startCcrun(t, "run", "--memory", "64m", "--rootfs", root, "sh", "-c", "echo ready; sleep 300")
	drain(out)
	scope := waitNewScope(t, before)
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitNoScope(t, scope)
	figure(t, "%s SIGKILL of ccrun: %s gone after %v", who(), filepath.Base(scope), time.Since(start).Round(time.Millisecond))
}

// TestCgroupVMDirect: as root without systemd's help, inside a cgroup delegated to
// ccrun (here by systemd-run, standing in for a CI job or a container), the
// leaves are made directly.
func TestCgroupVMDirect(t *testing.T) {
	requireCgroup2Delegation(t)
	if rootless() {
		t.Skip("the direct cgroupfs path is tested as root")
	}
	root := newRootfs(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "systemd-run", "--quiet", "--scope", "-p", "Delegate=yes", "--",
		ccrunBin, "--debug", "--cgroup-manager=cgroupfs", "run", "--memory", "48m", "--pids-limit", "40", "--rootfs", root,
		"sh", "-c", `echo cgroup=$(cat /proc/self/cgroup) memory.max=$(cat /sys/fs/cgroup/memory.max) pids.max=$(cat /sys/fs/cgroup/pids.max)`).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-run ccrun: %v\n%s", err, out)
	}
	var line string // the container's, among ccrun's --debug lines
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "cgroup=") {
			line = l
		}
	}
	kv := keyValues(line)
	if kv["cgroup"] != "0::/" || kv["memory.max"] != "50331648" || kv["pids.max"] != "40" {
		t.Fatalf("direct cgroup: %s", out)
	}
	// The limits hold either way: check they came from the direct path.
	if !strings.Contains(string(out), `msg="cgroup manager"`) || !strings.Contains(string(out), "manager=cgroupfs") {
		t.Fatalf("ccrun did not make the leaves directly:\n%s", out)
	}
	figure(t, "root direct (cgroupfs in a delegated systemd-run scope): %s", strings.TrimSpace(string(out)))
}

// TestCgroupVMControllerNotDelegated: a limit whose controller the user's systemd
// does not delegate fails, naming the drop-in that would. The guest's user nocpu
// (uid 1001) has memory and pids delegated, not cpu; root runs ccrun as nocpu.
func TestCgroupVMControllerNotDelegated(t *testing.T) {
	requireCgroup2Delegation(t)
	if rootless() {
		t.Skip("run as root: it runs ccrun as the user nocpu, whose systemd is not delegated cpu")
	}
	svc := filepath.Join(cgroupv2.Root, "user.slice/user-1001.slice/user@1001.service")
	if _, err := user.Lookup("nocpu"); err != nil {
		t.Skip("needs the VM's user nocpu (integration/vm/build.sh), whose systemd runs without the cpu controller")
	}
	if c := readFile(t, svc, "cgroup.controllers"); strings.Contains(c, "cpu ") || !strings.Contains(c, "memory") {
		t.Fatalf("the guest's user@1001.service should have memory and pids but not cpu, has %q", c)
	}
	root := newRootfs(t)
	if err := os.Chmod(filepath.Dir(root), 0o755); err != nil { // t.TempDir's parent is 0700
		t.Fatal(err)
	}
	if out, err := exec.Command("chown", "-R", "nocpu:nocpu", root).CombinedOutput(); err != nil { // container root is nocpu
		t.Fatalf("chown: %v\n%s", err, out)
	}
	asNocpu := func(args ...string) result {
		cmd := exec.Command("runuser", append([]string{"-u", "nocpu", "--", "env", "-i", "PATH=/usr/bin:/bin",
			"HOME=/home/nocpu", "USER=nocpu", "XDG_RUNTIME_DIR=/run/user/1001", ccrunBin}, args...)...)
		cmd.Dir = "/"
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		r := result{Stdout: stdout.String(), Stderr: stderr.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			r.Code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := asNocpu("run", "--cpus", "0.5", "--rootfs", root, "true")
	for _, want := range []string{"ccrun: set --cpus: the cpu controller is not delegated to ", "(it has: memory pids)",
		"hint: ", "/etc/systemd/system/user@.service.d/delegate.conf", "Delegate=cpu cpuset io memory pids", "systemctl daemon-reload"} {
		if r.Code != 125 || !strings.Contains(r.Stderr, want) {
			t.Fatalf("--cpus without the cpu controller: want exit 125 and %q\n%s", want, r)
		}
	}
	figure(t, "cpu not delegated (user nocpu): exit %d: %s", r.Code, strings.Join(strings.SplitN(r.Stderr, "\n", 3)[:2], " | "))
	if r := asNocpu("run", "--memory", "32m", "--rootfs", root, "cat", "/sys/fs/cgroup/memory.max"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "33554432" {
		t.Errorf("--memory for nocpu, whose memory is delegated: want 33554432\n%s", r)
	}
}

func who() string {
	if rootless() {
		return "rootless"
	}
	return "root"
}
