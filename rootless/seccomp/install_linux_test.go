package seccomp

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ccrun/ccrun/rootless/caps"
)

// The kernel tests re-run this test binary with helperEnv set: the child installs
// a filter (which can never be removed) and reports what the kernel did.
const helperEnv = "CCRUN_SECCOMP_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	os.Exit(m.Run())
}

func runHelper(t *testing.T, mode string, attr *syscall.SysProcAttr) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.SysProcAttr = attr
	out, err := cmd.CombinedOutput()
	if err != nil {
		var start *os.PathError
		if attr != nil && errors.As(err, &start) {
			t.Skipf("cannot start a helper in a new user namespace (unprivileged user namespaces off?): %v", err)
		}
		t.Fatalf("helper %s: %v\n%s", mode, err, out)
	}
	return string(out)
}

func TestInstallDefaultInKernel(t *testing.T) {
	t.Parallel()
	out := runHelper(t, "nnp", nil)
	t.Log(out)
	if !strings.Contains(out, "all checks passed") {
		t.Fatalf("helper did not finish:\n%s", out)
	}
}

// TestInstallRefusedWithoutPrivilege: neither no_new_privs nor CAP_SYS_ADMIN,
// and the error says what is missing.
func TestInstallRefusedWithoutPrivilege(t *testing.T) {
	t.Parallel()
	out := runHelper(t, "nocaps", nil)
	if !strings.Contains(out, "refused: install seccomp filter: permission denied (the process needs no_new_privs or CAP_SYS_ADMIN)") {
		t.Fatalf("want a refusal naming the fix, got:\n%s", out)
	}
}

// TestInstallWithCapSysAdmin: with no_new_privs off, the kernel still takes a
// filter from a process holding CAP_SYS_ADMIN in its user namespace, as the
// init does with --security-opt no-new-privileges=false.
func TestInstallWithCapSysAdmin(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/ns/user"); err != nil {
		t.Skipf("no user namespaces: %v", err)
	}
	attr := &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out := runHelper(t, "caps", attr)
	t.Log(out)
	if !strings.Contains(out, "all checks passed") {
		t.Fatalf("helper did not finish:\n%s", out)
	}
}

// helper runs in the child: it installs the default filter and checks that what
// must fail fails with the right errno and what must work works.
func helper(mode string) int {
	runtime.LockOSThread()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		fmt.Println("open /dev/ptmx:", err)
		return 1
	}
	switch mode {
	case "nocaps":
		return installWithoutPrivilege()
	case "caps":
		if nnp, _ := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); nnp != 0 {
			fmt.Println("no_new_privs is set: this check means to test without it")
			return 1
		}
	}
	if mode == "nnp" {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			fmt.Println("no_new_privs:", err)
			return 1
		}
	}
	prog, err := Default().Compile(caps.Default)
	if err == nil {
		err = Install(prog)
	}
	if err != nil {
		fmt.Println("install:", err)
		return 1
	}
	failed := 0
	for _, c := range kernelChecks(ptmx) {
		if got := c.run(); got != c.want {
			fmt.Printf("FAIL %s: got %v, want %v\n", c.name, got, c.want)
			failed++
		} else {
			fmt.Printf("ok   %s: %v\n", c.name, got)
		}
	}
	if failed > 0 {
		return 1
	}
	fmt.Println("all checks passed")
	return 0
}

type kernelCheck struct {
	name string
	run  func() error
	want error
}

func rawErr(nr uintptr, args ...uintptr) func() error {
	return func() error {
		a := append(args, 0, 0, 0, 0, 0, 0)
		_, _, e := unix.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
		if e == 0 {
			return nil
		}
		return e
	}
}

func kernelChecks(ptmx *os.File) []kernelCheck {
	c := byte('x')
	status := func() error {
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), "Seccomp:\t2") {
			return errors.New("/proc/self/status does not say Seccomp: 2")
		}
		return nil
	}
	return []kernelCheck{
		{"unshare(CLONE_NEWUSER)", rawErr(unix.SYS_UNSHARE, unix.CLONE_NEWUSER), unix.EPERM},
		{"unshare(CLONE_NEWNS)", rawErr(unix.SYS_UNSHARE, unix.CLONE_NEWNS), unix.EPERM},
		{"clone(CLONE_NEWUSER)", rawErr(unix.SYS_CLONE, unix.CLONE_NEWUSER|uintptr(unix.SIGCHLD)), unix.EPERM},
		{"clone3", rawErr(unix.SYS_CLONE3, 0, 0), unix.ENOSYS},
		{"mount", rawErr(unix.SYS_MOUNT, 0, 0, 0, 0, 0), unix.EPERM},
		{"umount2", rawErr(unix.SYS_UMOUNT2, 0, 0), unix.EPERM},
		{"pivot_root", rawErr(unix.SYS_PIVOT_ROOT, 0, 0), unix.EPERM},
		{"keyctl", rawErr(unix.SYS_KEYCTL, 0), unix.EPERM},
		{"bpf", rawErr(unix.SYS_BPF, 0, 0, 0), unix.EPERM},
		{"ioctl(TIOCSTI)", rawErr(unix.SYS_IOCTL, ptmx.Fd(), unix.TIOCSTI, uintptr(unsafe.Pointer(&c))), unix.EPERM},
		{"syscall 1000", rawErr(1000), unix.ENOSYS},
		{"getpid", rawErr(unix.SYS_GETPID), nil},
		{"ioctl(TIOCGPTN)", func() error { _, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN); return err }, nil},
		{"read /proc/self/status", status, nil},
		{"fork and exec", forkExec, nil},
	}
}

// forkExec runs this binary again, as a plain test run that runs no test: Go's
// os/exec forks with clone(CLONE_VM|CLONE_VFORK), which the filter must allow.
func forkExec() error {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

// installWithoutPrivilege drops CAP_SYS_ADMIN from this thread's effective set
// (a thread-local change, hence the locked thread) and tries to install.
func installWithoutPrivilege() int {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		fmt.Println("capget:", err)
		return 1
	}
	data[0].Effective &^= 1 << caps.SysAdmin
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		fmt.Println("capset:", err)
		return 1
	}
	prog, err := Default().Compile(caps.Default)
	if err != nil {
		fmt.Println("compile:", err)
		return 1
	}
	fmt.Println("refused:", Install(prog))
	return 0
}
