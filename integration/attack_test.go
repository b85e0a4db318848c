package integration

// The attack suite: each test plays a container trying a known way out, and
// asserts that the attempt failed and the host was left alone. The same suite
// runs as root (container root is the host's root, less capabilities) and
// rootless (container root is the test user). The comment of each test names
// the published CVE or escape it stands for.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// inContainer runs a shell script in a fresh container on root, with flags
// before --rootfs.
func inContainer(t *testing.T, root string, flags []string, script string) result {
	t.Helper()
	args := append([]string{"run"}, flags...)
	args = append(args, "--rootfs", root, "sh", "-c", script)
	return runCmd(t, "", args...)
}

// Default capability sets, as /proc/self/status shows them (capabilities(7)).
const (
	podmanCapsHex = "00000000800405fb"
	noCapsHex     = "0000000000000000"
)

// TestAttackStatusShowsDefaults checks the kernel's own account of the
// container's privileges: podman's capability set in bounding, permitted and
// effective, nothing inheritable or ambient (ambient capabilities would survive
// every execve), no_new_privs, and a seccomp filter. This is the issue's
// acceptance check, `grep -E 'Cap|NoNewPrivs|Seccomp' /proc/self/status`.
func TestAttackStatusShowsDefaults(t *testing.T) {
	root := newRootfs(t)
	all := fmt.Sprintf("%016x", hostBoundingSet(t))
	tests := []struct {
		name  string
		flags []string
		want  map[string]string
	}{
		{"defaults", nil, map[string]string{
			"CapInh": noCapsHex, "CapPrm": podmanCapsHex, "CapEff": podmanCapsHex,
			"CapBnd": podmanCapsHex, "CapAmb": noCapsHex, "NoNewPrivs": "1", "Seccomp": "2"}},
		{"non-root user", []string{"-u", "1000:1000"}, map[string]string{
			"CapInh": noCapsHex, "CapPrm": noCapsHex, "CapEff": noCapsHex,
			"CapBnd": podmanCapsHex, "CapAmb": noCapsHex, "NoNewPrivs": "1", "Seccomp": "2"}},
		{"cap-drop ALL", []string{"--cap-drop", "ALL"}, map[string]string{
			"CapPrm": noCapsHex, "CapEff": noCapsHex, "CapBnd": noCapsHex, "Seccomp": "2"}},
		{"cap-add and cap-drop", []string{"--cap-add", "sys_admin", "--cap-drop", "CAP_NET_BIND_SERVICE"}, map[string]string{
			"CapEff": "00000000802401fb", "CapBnd": "00000000802401fb", "CapAmb": noCapsHex}},
		{"no-new-privileges=false", []string{"--security-opt", "no-new-privileges=false"}, map[string]string{
			"CapEff": podmanCapsHex, "NoNewPrivs": "0", "Seccomp": "2"}},
		{"seccomp=unconfined", []string{"--security-opt", "seccomp=unconfined"}, map[string]string{
			"CapEff": podmanCapsHex, "NoNewPrivs": "1", "Seccomp": "0"}},
		{"privileged", []string{"--privileged"}, map[string]string{
			"CapEff": all, "CapBnd": all, "CapInh": noCapsHex, "CapAmb": noCapsHex, "Seccomp": "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"run"}, tt.flags...), "--rootfs", root, "grep", "-E", "Cap|NoNewPrivs|Seccomp", "/proc/self/status")
			r := runCmd(t, "", args...)
			if r.Code != 0 {
				t.Fatalf("ccrun %s:\n%s", strings.Join(args, " "), r)
			}
			got := lines(r.Stdout)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q\n%s", k, got[k], v, r.Stdout)
				}
			}
		})
	}
}

// hostBoundingSet is what --privileged can grant: as root, this process's
// bounding set (root on these hosts lacks CAP_SYS_RESOURCE); rootless, every
// capability, since a new user namespace starts with a full bounding set
// (user_namespaces(7)).
func hostBoundingSet(t *testing.T) uint64 {
	t.Helper()
	if rootless() {
		b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
		if err != nil {
			t.Fatal(err)
		}
		var last int
		if _, err := fmt.Sscan(string(b), &last); err != nil {
			t.Fatal(err)
		}
		return 1<<(last+1) - 1
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var m uint64
	if _, err := fmt.Sscanf(lines(string(b))["CapBnd"], "%x", &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestAttackProcSysIsReadOnly: a container root that can write /proc/sys owns
// the host. core_pattern names a program the kernel runs as host root on every
// crash (the "core_pattern escape" behind many privileged-container breakouts),
// sysrq-trigger reboots or crashes the machine. /proc/sys and sysrq-trigger
// must be read-only. The writes put back the current value ('h' only prints
// help to the kernel log) so that even a failure of this test changes nothing.
func TestAttackProcSysIsReadOnly(t *testing.T) {
	root := newRootfs(t)
	before := fileDigest(t, "/proc/sys/kernel/core_pattern")
	script := `for f in /proc/sys/kernel/core_pattern /proc/sys/kernel/modprobe /proc/sys/vm/overcommit_memory /proc/sys/kernel/hostname; do
  [ -e $f ] || continue
  v=$(cat $f) && { echo "$v" > $f; } 2>/dev/null && echo "WROTE $f"
done
{ echo h > /proc/sysrq-trigger; } 2>/dev/null && echo "WROTE /proc/sysrq-trigger"
touch /proc/sys/ccrun-attack 2>/dev/null && echo "CREATED in /proc/sys"
grep -E ' /proc/(sys|sysrq-trigger|irq|bus|fs) ' /proc/mounts | awk '{print $2, substr($4,1,2)}'
`
	r := inContainer(t, root, nil, script)
	if strings.Contains(r.Stdout, "WROTE") || strings.Contains(r.Stdout, "CREATED") {
		t.Errorf("the container wrote kernel settings:\n%s", r)
	}
	for _, p := range existing([]string{"/proc/sys", "/proc/sysrq-trigger"}) {
		if !strings.Contains(r.Stdout, p+" ro") {
			t.Errorf("%s is not mounted read-only in the container:\n%s", p, r)
		}
	}
	if fileDigest(t, "/proc/sys/kernel/core_pattern") != before {
		t.Fatal("the host's core_pattern changed")
	}
}

// TestAttackMaskedPaths: kernel files that leak the host's secrets or state
// (/proc/kcore is the host's memory, /proc/keys its keyrings, /proc/timer_list
// and sched_debug its processes) are masked: files by /dev/null, which reads
// empty, directories by an empty read-only tmpfs. The mask must be the real
// /dev/null, character device 1:3 (CVE-2019-19921 and CVE-2023-27561 masked
// with whatever the image had put there).
func TestAttackMaskedPaths(t *testing.T) {
	root := newRootfs(t)
	files := existing([]string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/latency_stats",
		"/proc/timer_stats", "/proc/sched_debug"})
	dirs := existing([]string{"/proc/acpi", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"})
	var script strings.Builder
	for _, f := range files {
		fmt.Fprintf(&script, "echo %s $(stat -L -c %%t:%%T %s) $(head -c 64 %s | wc -c)\n", f, f, f)
	}
	for _, d := range dirs {
		fmt.Fprintf(&script, "echo %s entries=$(ls -A %s | wc -l)\n", d, d)
		fmt.Fprintf(&script, "touch %s/ccrun-attack 2>/dev/null && echo CREATED %s\n", d, d)
	}
	script.WriteString("true\n")
	r := inContainer(t, root, nil, script.String())
	if r.Code != 0 {
		t.Fatalf("container failed:\n%s", r)
	}
	for _, f := range files {
		if want := f + " 1:3 0"; !strings.Contains(r.Stdout, want+"\n") {
			t.Errorf("%s is not masked by /dev/null (want %q):\n%s", f, want, r.Stdout)
		}
	}
	for _, d := range dirs {
		if want := d + " entries=0"; !strings.Contains(r.Stdout, want+"\n") {
			t.Errorf("%s is not masked by an empty directory (want %q):\n%s", d, want, r.Stdout)
		}
	}
	if strings.Contains(r.Stdout, "CREATED") {
		t.Errorf("a masked directory is writable:\n%s", r.Stdout)
	}
}

// existing keeps the paths that exist on this host (timer_stats and sched_debug
// are gone from modern kernels; acpi and powercap depend on the machine).
func existing(paths []string) []string {
	var out []string
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// TestAttackMountUnshareMknod: with CAP_SYS_ADMIN a container can mount over
// its own masks, and with a new user namespace it gets CAP_SYS_ADMIN back:
// the way in for CVE-2022-0185 (fsconfig heap overflow), CVE-2022-0492 (cgroup
// release_agent) and CVE-2024-1086 (nf_tables). Device nodes would reach the
// host's disks (CAP_MKNOD). Every one of these must fail, and the host's mount
// table must not change.
func TestAttackMountUnshareMknod(t *testing.T) {
	root := newRootfs(t)
	if err := os.MkdirAll(filepath.Join(root, "mnt"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := hostMounts(t)
	attempts := []string{
		"mount -t tmpfs none /mnt",
		"mount -t proc proc /mnt",
		"mount --bind /bin /mnt",
		"mount -o remount,rw /proc/sys",
		"umount /proc/sys",
		"umount -l /proc/kcore",
		"umount -l /proc",
		"mknod /tmp/sda b 8 0",
		"mknod /tmp/mem c 1 1",
		"unshare -U true",
		"unshare -r true",
		"unshare -m true",
		"unshare -n true",
		"unshare -p -f true",
		"unshare -i -u true",
		"nsenter -t 1 -m true",
		"pivot_root /mnt /mnt",
		"swapoff -a",
		"hostname evil",
	}
	var script strings.Builder
	for _, a := range attempts {
		fmt.Fprintf(&script, "%s >/dev/null 2>&1 && echo 'SUCCEEDED: %s'\n", a, a)
	}
	script.WriteString("echo done\n")
	r := inContainer(t, root, nil, script.String())
	if !strings.Contains(r.Stdout, "done") {
		t.Fatalf("container failed:\n%s", r)
	}
	for _, l := range strings.Split(r.Stdout, "\n") {
		if strings.HasPrefix(l, "SUCCEEDED") {
			t.Errorf("%s", l)
		}
	}
	if after := hostMounts(t); after != before {
		t.Errorf("the host's mount table changed")
	}
}

// TestAttackNoUserNamespaceEvenWithSysAdmin: --cap-add SYS_ADMIN opens mount and
// namespace syscalls, but never a new user namespace, whose root would hold
// every capability again. The control run with seccomp=unconfined shows that the
// filter is what stops it (creating a user namespace needs no capability).
func TestAttackNoUserNamespaceEvenWithSysAdmin(t *testing.T) {
	root := newRootfs(t)
	script := "unshare -m true && echo mountns=ok; unshare -U true && echo userns=ok; unshare -r true && echo mapped=ok; echo done"
	r := inContainer(t, root, []string{"--cap-add", "SYS_ADMIN"}, script)
	if !strings.Contains(r.Stdout, "done") {
		t.Fatalf("container failed:\n%s", r)
	}
	if !strings.Contains(r.Stdout, "mountns=ok") {
		t.Errorf("with CAP_SYS_ADMIN, unshare -m should work:\n%s", r)
	}
	if strings.Contains(r.Stdout, "userns=ok") || strings.Contains(r.Stdout, "mapped=ok") {
		t.Errorf("a user namespace was created inside the container:\n%s", r)
	}
	control := inContainer(t, root, []string{"--security-opt", "seccomp=unconfined"}, "unshare -U true && echo userns=ok")
	if !strings.Contains(control.Stdout, "userns=ok") {
		t.Logf("control: without seccomp unshare -U failed too (kernel policy?):\n%s", control)
	}
}

// TestAttackSeccompProfileFile: a profile in docker's JSON format is loaded and
// enforced, errnoRet included.
func TestAttackSeccompProfileFile(t *testing.T) {
	root := newRootfs(t)
	profile := filepath.Join(t.TempDir(), "profile.json")
	json := `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}`
	if err := os.WriteFile(profile, []byte(json), 0o644); err != nil {
		t.Fatal(err)
	}
	r := inContainer(t, root, []string{"--security-opt", "seccomp=" + profile}, "mkdir /tmp/x; grep Seccomp: /proc/self/status")
	if !strings.Contains(r.Stderr, "Permission denied") || !strings.Contains(r.Stdout, "Seccomp:\t2") {
		t.Errorf("want mkdir to fail with EACCES under the profile:\n%s", r)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOPE"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r = inContainer(t, root, []string{"--security-opt", "seccomp=" + bad}, "echo ran")
	if r.Code != 125 || strings.Contains(r.Stdout, "ran") || !strings.Contains(r.Stderr, `unknown action "SCMP_ACT_NOPE"`) {
		t.Errorf("a broken profile must stop ccrun with a clear error:\n%s", r)
	}
}

// TestAttackLeakedDescriptors (CVE-2024-21626, runc "Leaky Vessels"): runc
// leaked a descriptor of the host's /sys/fs/cgroup into the container, and
// `-w /proc/self/fd/7` made it the container's working directory, from which
// ../../.. was the host's root. Here ccrun itself is handed open descriptors of
// a host directory and file (fd 3 and 4), as a careless parent would. Only 0, 1
// and 2 may reach the container, and no working directory may lead out.
func TestAttackLeakedDescriptors(t *testing.T) {
	root := newRootfs(t)
	hostDir := t.TempDir()
	secret := "host-secret-" + filepath.Base(hostDir)
	if err := os.WriteFile(filepath.Join(hostDir, "secret"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	dir, err := os.Open(hostDir)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	file, err := os.Open(filepath.Join(hostDir, "secret"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	files := []*os.File{dir, file}

	r := runWithFiles(t, files, "run", "--rootfs", root, "sh", "-c",
		"ls /proc/self/fd | tr '\\n' ' '; echo; readlink /proc/1/cwd; ls -l /proc/1/fd; cat /proc/1/fd/3 /proc/1/fd/4 2>/dev/null; true")
	if r.Code != 0 {
		t.Fatalf("container failed:\n%s", r)
	}
	// ls opens the directory it lists: that is the 3.
	if first := strings.SplitN(r.Stdout, "\n", 2)[0]; first != "0 1 2 3 " {
		t.Errorf("descriptors in the container: %q, want only 0 1 2 (and ls's own 3)\n%s", first, r)
	}
	if !strings.Contains(r.Stdout, "\n/\n") {
		t.Errorf("PID 1's working directory is not the container's /:\n%s", r)
	}
	if strings.Contains(r.Stdout, secret) || strings.Contains(r.Stdout, hostDir) {
		t.Errorf("a host descriptor reached the container:\n%s", r)
	}

	for _, wd := range []string{"/proc/self/fd/3", "/proc/self/fd/4", "/proc/self/fd/5", "/proc/self/fd/7",
		"/proc/self/cwd", "/proc/1/cwd", "/proc/self/root/../../..", "/proc/thread-self/fd/3"} {
		r := runWithFiles(t, files, "run", "-w", wd, "--rootfs", root, "sh", "-c",
			"pwd; cat secret ../secret ../../secret ../../../secret 2>/dev/null; ls -a ../../.. | tr '\\n' ' '")
		if strings.Contains(r.Stdout, secret) || strings.Contains(r.Stdout, filepath.Base(hostDir)) {
			t.Errorf("-w %s reached the host:\n%s", wd, r)
		}
		if r.Code == 0 && !strings.HasPrefix(r.Stdout, "/") {
			t.Errorf("-w %s: the working directory is not a path of the container:\n%s", wd, r)
		}
	}
}

// TestAttackTerminalInjection (CVE-2016-7545 in SELinux's sandbox, CVE-2017-5226
// in bubblewrap, the same hole in runc and lxc): a container that shares the
// caller's terminal pushes "a command and Enter" into its input queue with
// TIOCSTI, and the caller's shell runs it after the container exits. Without
// -t the container must not have the caller's terminal as its controlling
// terminal, and the filter denies TIOCSTI anyway; the run with
// seccomp=unconfined checks the first line of defence alone.
func TestAttackTerminalInjection(t *testing.T) {
	root := newRootfs(t)
	installAttackTool(t, root)
	const payload = "echo PWNED-BY-CONTAINER\n"
	for _, flags := range [][]string{nil, {"--security-opt", "seccomp=unconfined"}} {
		name := "default"
		if flags != nil {
			name = "seccomp=unconfined"
		}
		t.Run(name, func(t *testing.T) {
			term := newCallerTerminal(t)
			args := append(append([]string{"run", "-i"}, flags...), "--rootfs", root, "sh", "-c",
				"/attack ctty; /attack tiocsti 0 '"+payload+"'; /attack tiocsti 1 '"+payload+"'")
			out := term.run(t, args...)
			if !strings.Contains(out, "tiocsti:") {
				t.Fatalf("the attack did not run:\n%s", out)
			}
			if strings.Contains(out, "tiocsti: ok") || strings.Contains(out, "PWNED") {
				t.Errorf("the container typed into the caller's terminal:\n%s", out)
			}
			if strings.Contains(out, "ctty: ok") {
				t.Errorf("the container has the caller's terminal as its controlling terminal:\n%s", out)
			}
			t.Logf("terminal showed:\n%s", out)
			if in := term.pendingInput(t); in != "" {
				t.Errorf("the caller's shell would now read %q", in)
			}
		})
	}
}

// TestAttackRuntimeBinary (CVE-2019-5736): a container process opened
// /proc/<runc>/exe while runc entered the container, and rewrote the runc
// binary on the host, to run as root the next time anyone ran a container. No
// ccrun process may be visible in the container, with or without --init, and
// --init's reaper runs from a sealed memfd, so that every /proc/PID/exe the
// container can see is something it may not write. The host binary must be
// unchanged afterwards.
func TestAttackRuntimeBinary(t *testing.T) {
	root := newRootfs(t)
	installAttackTool(t, root)
	var st syscall.Stat_t
	if err := syscall.Stat(ccrunBin, &st); err != nil {
		t.Fatal(err)
	}
	ccrunID := fmt.Sprintf("dev=%d ino=%d ", st.Dev, st.Ino)
	before := fileDigest(t, ccrunBin)
	for _, flags := range [][]string{nil, {"--init"}} {
		r := inContainer(t, root, flags, "sleep 5 & /attack exes; kill %1; cat /proc/[0-9]*/cmdline | tr '\\0' ' '")
		if r.Code != 0 && r.Code != 143 {
			t.Fatalf("flags %v: container failed:\n%s", flags, r)
		}
		if !strings.Contains(r.Stdout, "exe /proc/1/exe") {
			t.Fatalf("flags %v: the attack did not run:\n%s", flags, r)
		}
		if strings.Contains(r.Stdout, ccrunID) {
			t.Errorf("flags %v: the ccrun binary is reachable through /proc/PID/exe:\n%s", flags, r.Stdout)
		}
		if strings.Contains(r.Stdout, "WRITABLE") {
			t.Errorf("flags %v: an executable of a container process can be rewritten:\n%s", flags, r.Stdout)
		}
		if regexp.MustCompile(`ccrun:\[|ccrun (run|init)`).MatchString(r.Stdout) {
			t.Errorf("flags %v: a ccrun process is visible in the container:\n%s", flags, r.Stdout)
		}
	}
	if fileDigest(t, ccrunBin) != before {
		t.Fatal("the ccrun binary on the host changed")
	}
}

// TestAttackNoNewPrivileges: with no_new_privs, executing a setuid-root file
// does not make an unprivileged user root (the way a compromised service in a
// container climbs back up through sudo, su or a planted setuid shell).
// no-new-privileges=false restores the classic behaviour, which shows that the
// setuid bit works on this file system and that the flag is what stops it.
func TestAttackNoNewPrivileges(t *testing.T) {
	root := newRootfs(t)
	installAttackTool(t, root)
	suid := filepath.Join(root, "suid-attack")
	if err := os.Rename(filepath.Join(root, "attack"), suid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(suid, os.ModeSetuid|0o755); err != nil {
		t.Fatal(err)
	}
	r := inContainer(t, root, []string{"-u", "1000:1000"}, "/suid-attack euid")
	if r.Code != 0 || !strings.Contains(r.Stdout, "euid=1000") {
		t.Errorf("a setuid file made the user root despite no_new_privs (want euid=1000):\n%s", r)
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(root, &fs); err == nil && fs.Flags&unix.ST_NOSUID != 0 {
		t.Skipf("%s is on a nosuid file system: the control run cannot show the setuid bit working", root)
	}
	control := inContainer(t, root, []string{"-u", "1000:1000", "--security-opt", "no-new-privileges=false"}, "/suid-attack euid")
	if control.Code != 0 || !strings.Contains(control.Stdout, "euid=0") {
		t.Errorf("control with no-new-privileges=false: want euid=0 from the setuid file:\n%s", control)
	}
}
