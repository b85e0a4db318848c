package v1

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccrun/ccrun/cgroupv2"
)

// TestMain doubles as a memory hog: with CCRUN_TEST_HOG set it waits for a line on
// stdin (so the test can move it into a cgroup first), then touches that many MiB.
func TestMain(m *testing.M) {
	if n := os.Getenv("CCRUN_TEST_HOG"); n != "" {
		hog(n)
		return
	}
	os.Exit(m.Run())
}

func hog(mibs string) {
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	var n int
	for _, c := range mibs {
		n = n*10 + int(c-'0')
	}
	buf := make([]byte, n<<20)
	for i := range buf {
		if i%4096 == 0 {
			buf[i] = 1
		}
	}
	os.Exit(0)
}

func requireV1Root(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("cgroup v1 limits need root: run as root")
	}
	if cgroupv2.HostLayout() == cgroupv2.Unified {
		t.Skip("host is cgroup v2 only: no v1 hierarchies to test")
	}
	ms, err := cgroupv2.ProcessCgroups(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	mounts, err := cgroupv2.Mounts()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"memory", "cpu", "pids"} {
		if _, ok := hierarchyDir(ms, mounts, c); !ok {
			t.Skipf("no cgroup v1 hierarchy with the %s controller", c)
		}
	}
}

func testID(t *testing.T) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "test-" + hex.EncodeToString(b[:])
}

func read(t *testing.T, dir, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestCreateEnforceClose writes limits in real v1 cgroups, OOM-kills a hog in
// them, and checks that Close leaves nothing.
func TestCreateEnforceClose(t *testing.T) {
	requireV1Root(t)
	l := cgroupv2.Limits{Memory: 32 << 20, MemorySwap: 32 << 20, CPUs: 0.5, CPUShares: 512, Pids: 16}
	c, err := Create(testID(t), l)
	if err != nil {
		t.Fatal(err)
	}
	dirs := append([]string(nil), c.dirs...)
	t.Cleanup(func() {
		for _, d := range dirs {
			_ = remove(d)
		}
	})
	if len(dirs) != 3 {
		t.Fatalf("dirs = %q, want one per memory, cpu and pids", dirs)
	}
	want := map[string]string{
		"memory.limit_in_bytes": "33554432", "cpu.cfs_quota_us": "50000",
		"cpu.cfs_period_us": "100000", "cpu.shares": "512", "pids.max": "16",
	}
	for file, value := range want {
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, file)); err == nil {
				if got := read(t, d, file); got != value {
					t.Errorf("%s/%s = %s, want %s", d, file, got, value)
				}
			}
		}
	}

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CCRUN_TEST_HOG=64")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := c.Enter(cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		t.Fatal(err)
	}
	procCgroup := read(t, "/proc/"+itoa(int64(cmd.Process.Pid)), "cgroup")
	if strings.Count(procCgroup, "/ccrun-test-") < 3 {
		t.Errorf("hog not in the container's cgroups:\n%s", procCgroup)
	}
	_, _ = stdin.Write([]byte("go\n"))
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
		t.Errorf("hog of 64 MiB under a 32 MiB limit: %v, want killed by a signal", err)
	}
	if got, want := c.OOMMessage(), "container killed: out of memory (limit 32 MiB)"; got != want {
		t.Errorf("OOMMessage() = %q, want %q", got, want)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s still there after Close (stat: %v)", d, err)
		}
	}
}

// TestCloseKillsStragglers: Close empties a cgroup that still has a process.
func TestCloseKillsStragglers(t *testing.T) {
	requireV1Root(t)
	c, err := Create(testID(t), cgroupv2.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if err := c.Enter(cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the process in the cgroup survived Close")
	}
}
