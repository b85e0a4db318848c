package seccomp

import (
	"fmt"
	"testing"

	"github.com/ccrun/ccrun/rootless/caps"
)

const (
	allow      = retAllow
	deny       = retErrno | eperm
	noSys      = retErrno | enosys
	killedProc = retKillProcess
	sysAdmin   = uint64(1) << caps.SysAdmin
)

// compiled compiles p for the native ABI (or skips where ccrun has none).
func compiled(t *testing.T, p *Profile, capMask uint64) ([]instruction, *arch) {
	t.Helper()
	a, err := nativeArch()
	if err != nil {
		t.Skipf("no syscall table: %v", err)
	}
	prog, err := p.compile(env{arch: a, caps: capMask, kernel: 6<<16 | 18})
	if err != nil {
		t.Fatal(err)
	}
	return prog, a
}

// call is one syscall as a test makes it.
type call struct {
	name string
	args [6]uint64
}

func (c call) String() string { return fmt.Sprintf("%s%x", c.name, c.args[:2]) }

func (c call) data(t *testing.T, a *arch) seccompData {
	t.Helper()
	nr, ok := a.lookup(c.name)
	if !ok {
		t.Fatalf("%s is not a syscall of %s", c.name, a.goarch)
	}
	return seccompData{nr: int32(nr), arch: a.audit, args: c.args}
}

func sys(name string, args ...uint64) call {
	c := call{name: name}
	copy(c.args[:], args)
	return c
}

func TestDefaultDecisions(t *testing.T) {
	const hiGarbage = 0xdead_0000_0000_0000
	tests := []struct {
		call call
		caps uint64
		want uint32
	}{
		{sys("read", 0, 0, 10), caps.Default, allow},
		{sys("execve"), caps.Default, allow},
		{sys("getpid"), 0, allow},
		{sys("fchmodat2"), caps.Default, allow},
		{sys("chroot"), caps.Default, allow}, // CAP_SYS_CHROOT is a default
		{sys("chroot"), 0, deny},

		// Namespaces and mounts: only with CAP_SYS_ADMIN, never a user namespace.
		{sys("mount"), caps.Default, deny},
		{sys("mount"), caps.Default | sysAdmin, allow},
		{sys("umount2"), caps.Default, deny},
		{sys("fsopen"), caps.Default, deny},
		{sys("open_tree"), caps.Default, deny},
		{sys("move_mount"), caps.Default, deny},
		{sys("setns"), caps.Default, deny},
		{sys("setns"), caps.Default | sysAdmin, allow},
		{sys("unshare", cloneNewNS), caps.Default, deny},
		{sys("unshare", cloneNewNS), caps.Default | sysAdmin, allow},
		{sys("unshare", cloneNewUser), caps.Default, deny},
		{sys("unshare", cloneNewUser), caps.All, deny},
		{sys("unshare", cloneNewUser|cloneNewNS), caps.All, deny},
		{sys("pivot_root"), caps.Default, deny},
		{sys("pivot_root"), caps.All, deny},
		{sys("clone", 0x11), caps.Default, allow},                        // fork: SIGCHLD
		{sys("clone", 0x003d0f00), caps.Default, allow},                  // a pthread_create
		{sys("clone", cloneNewUser|0x11), caps.Default, deny},            // unshare -U
		{sys("clone", cloneNewNS|0x11), caps.Default, deny},              // unshare -m
		{sys("clone", cloneNewPID|cloneNewNet|0x11), caps.Default, deny}, // unshare -pn
		{sys("clone", cloneNewNS|0x11), caps.Default | sysAdmin, allow},  // with the capability
		{sys("clone", cloneNewUser|0x11), caps.Default | sysAdmin, deny}, // never a userns
		{sys("clone", hiGarbage|cloneNewUser|0x11), caps.All, deny},      // high bits change nothing
		{sys("clone3"), caps.Default, noSys},
		{sys("clone3"), caps.All, noSys},

		// Keyrings, bpf and friends.
		{sys("keyctl"), caps.Default, deny},
		{sys("add_key"), caps.Default, deny},
		{sys("request_key"), caps.Default, deny},
		{sys("keyctl"), caps.Default | sysAdmin, allow},
		{sys("bpf"), caps.Default, deny},
		{sys("bpf"), caps.Default | 1<<39, deny}, // CAP_BPF alone is not enough
		{sys("perf_event_open"), caps.Default, deny},
		{sys("kexec_load"), caps.All, deny},
		{sys("init_module"), caps.Default, deny},
		{sys("userfaultfd"), caps.All, deny},
		{sys("io_uring_setup"), caps.All, deny},
		{sys("ptrace"), caps.Default, allow},
		{sys("reboot"), caps.Default, deny},

		// Terminals: no typing into them (CVE-2016-7545, CVE-2017-5226).
		{sys("ioctl", 0, tiocsti), caps.Default, deny},
		{sys("ioctl", 0, hiGarbage|tiocsti), caps.Default, deny},
		{sys("ioctl", 0, tioclinux), caps.All, deny},
		{sys("ioctl", 0, 0x5401), caps.Default, allow}, // TCGETS
		{sys("ioctl", 0, 0x5413), caps.Default, allow}, // TIOCGWINSZ
		{sys("ioctl", 0, 0x80045430), caps.Default, allow},

		// Sockets: everything but AF_VSOCK, whatever the high bits say.
		{sys("socket", 2, 1), caps.Default, allow},
		{sys("socket", 1, 1), caps.Default, allow},
		{sys("socket", afVsock, 1), caps.Default, deny},
		{sys("socket", hiGarbage|afVsock, 1), caps.Default, deny},

		// personality: the docker list only.
		{sys("personality", 0), caps.Default, allow},
		{sys("personality", 0xffffffff), caps.Default, allow},
		{sys("personality", 0x0040000), caps.Default, deny}, // ADDR_NO_RANDOMIZE
		{sys("personality", 1<<32), caps.Default, deny},
	}
	progs := map[uint64][]instruction{}
	for _, tt := range tests {
		prog, ok := progs[tt.caps]
		a := native
		if !ok {
			prog, a = compiled(t, Default(), tt.caps)
			progs[tt.caps] = prog
		}
		if got := run(t, prog, tt.call.data(t, a)); got != tt.want {
			t.Errorf("%v with %s = %#x, want %#x", tt.call, caps.Format(tt.caps), got, tt.want)
		}
	}
}

func TestDefaultArchitectureChecks(t *testing.T) {
	prog, a := compiled(t, Default(), caps.Default)
	read, _ := a.lookup("read")
	type test struct {
		name string
		d    seccompData
		want uint32
	}
	tests := []test{
		{"native", seccompData{nr: int32(read), arch: a.audit}, allow},
		{"i386 int 0x80", seccompData{nr: 3, arch: 0x40000003}, killedProc},
		{"i386 unshare", seccompData{nr: 310, arch: 0x40000003}, killedProc},
		{"arm", seccompData{nr: 3, arch: 0x40000028}, killedProc},
		{"no arch", seccompData{nr: int32(read)}, killedProc},
		{"newer than the profile", seccompData{nr: int32(pmax(t, a)) + 1, arch: a.audit}, noSys},
		{"far beyond", seccompData{nr: 4000, arch: a.audit}, noSys},
	}
	if a.compatBit != 0 {
		tests = append(tests,
			test{"x32 read", seccompData{nr: int32(a.compatBit), arch: a.audit}, killedProc},
			test{"x32 unshare", seccompData{nr: int32(a.compatBit | 272), arch: a.audit}, killedProc},
			test{"negative", seccompData{nr: -1, arch: a.audit}, killedProc})
	}
	for _, tt := range tests {
		if got := run(t, prog, tt.d); got != tt.want {
			t.Errorf("%s: got %#x, want %#x", tt.name, got, tt.want)
		}
	}
}

// pmax is the newest syscall the default profile names.
func pmax(t *testing.T, a *arch) int {
	pl, err := Default().resolve(env{arch: a, caps: caps.Default})
	if err != nil {
		t.Fatal(err)
	}
	return pl.max
}

func TestDefaultIsSmall(t *testing.T) {
	for _, m := range []uint64{0, caps.Default, caps.Default | sysAdmin, caps.All} {
		prog, _ := compiled(t, Default(), m)
		t.Logf("caps %s: %d instructions", caps.Format(m), len(prog))
		if len(prog) > 300 {
			t.Errorf("caps %s: %d instructions, want at most 300", caps.Format(m), len(prog))
		}
	}
}

// BenchmarkCompileDefault is what every `ccrun run` pays in P1 for its filter.
func BenchmarkCompileDefault(b *testing.B) {
	for b.Loop() {
		if _, err := Default().Compile(caps.Default); err != nil {
			b.Fatal(err)
		}
	}
}
