package integration

// Hostile images. A layer is a tar archive written by whoever built the image,
// and unpacking it is the runtime's most exposed moment: every escape below
// once worked somewhere. Each case is either refused with a clear error or
// contained (it only changes the container's own files); and in every case the
// host's canary directory, the target of the attack, is checked to be exactly
// as it was.

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ccrun/ccrun/pull/ocitest"
)

// canary is a host directory an attack aims at, holding one file.
type canary struct{ Dir, File string }

func newCanary(t *testing.T) canary {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := canary{Dir: dir, File: filepath.Join(dir, "canary")}
	if err := os.WriteFile(c.File, []byte("canary\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}

// check fails the test unless the canary directory holds its one file,
// unchanged, with its mode, one link and no extended attributes.
func (c canary) check(t *testing.T) {
	t.Helper()
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != "canary" {
		t.Errorf("the host canary directory changed: %q", names)
	}
	if b, err := os.ReadFile(c.File); err != nil || string(b) != "canary\n" {
		t.Errorf("the host canary file changed: %q, %v", b, err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(c.File, &st); err != nil || st.Nlink != 1 || st.Mode&0o7777 != 0o644 {
		t.Errorf("the host canary file gained links or mode bits: nlink %d mode %o, %v", st.Nlink, st.Mode&0o7777, err)
	}
	if fi, err := os.Stat(c.Dir); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("the host canary directory's mode changed: %v, %v", fi.Mode(), err)
	}
	for _, p := range []string{c.Dir, c.File} {
		if n, _ := unix.Llistxattr(p, make([]byte, 1024)); n > 0 {
			t.Errorf("%s gained extended attributes", p)
		}
	}
}

// up climbs from any depth to / with "..", so that up+host path is a relative
// name pointing at the host path.
var up = strings.Repeat("../", 40)

type tarAttack struct {
	name string
	// cve names the published bug the case stands for.
	cve   string
	layer func(c canary) []ocitest.File
	// inside runs in the container when ccrun accepted the image; it exits 0
	// when it sees no sign of the host (the container's view is contained).
	inside string
}

var tarAttacks = []tarAttack{
	{
		name: "dot-dot name", cve: "CVE-2014-6407 (docker <1.3.2 path traversal on pull/load); zip slip",
		layer:  func(c canary) []ocitest.File { return []ocitest.File{ocitest.Reg(up+c.Dir[1:]+"/dotdot", "pwned")} },
		inside: "true",
	},
	{
		name: "absolute name", cve: "CVE-2014-9356 (full path names in an image)",
		layer:  func(c canary) []ocitest.File { return []ocitest.File{ocitest.Reg(c.Dir+"/absolute", "pwned")} },
		inside: "true",
	},
	{
		name: "absolute symlink, then a write through it", cve: "CVE-2014-9356; CVE-2018-15664's class (symlinks followed on the host)",
		layer: func(c canary) []ocitest.File {
			return []ocitest.File{ocitest.Symlink("escape", c.Dir), ocitest.Reg("escape/through", "pwned")}
		},
		inside: "! grep -qs canary /escape/canary",
	},
	{
		name: "relative symlink climbing out, then a write through it", cve: "CVE-2014-6407 (symlink attack on pull/load)",
		layer: func(c canary) []ocitest.File {
			return []ocitest.File{ocitest.Symlink("esc", up+c.Dir[1:]), ocitest.Reg("esc/through", "pwned")}
		},
		inside: "! grep -qs canary /esc/canary",
	},
	{
		name: "symlink, then a directory entry of that name (chmod through it)", cve: "CVE-2021-32760 (containerd chmod outside the unpack dir)",
		layer: func(c canary) []ocitest.File {
			d := ocitest.Dir("d")
			d.Mode = 0o777
			return []ocitest.File{ocitest.Symlink("d", c.Dir), d}
		},
		inside: "true",
	},
	{
		name: "hard link to an absolute host path", cve: "CVE-2014-6407 (hard link attack on pull/load)",
		layer:  func(c canary) []ocitest.File { return []ocitest.File{ocitest.Hardlink("hl", c.File)} },
		inside: "! grep -qs canary /hl",
	},
	{
		name: "hard link climbing out with ..", cve: "CVE-2014-6407",
		layer:  func(c canary) []ocitest.File { return []ocitest.File{ocitest.Hardlink("hl", up+c.File[1:])} },
		inside: "! grep -qs canary /hl",
	},
	{
		name: "hard link through a symlink", cve: "CVE-2014-6407; moby#9779",
		layer: func(c canary) []ocitest.File {
			return []ocitest.File{ocitest.Symlink("s", c.Dir), ocitest.Hardlink("hl", "s/canary")}
		},
		inside: "! grep -qs canary /hl",
	},
	{
		name: "whiteout of ..", cve: "whiteout path traversal (CVE-2020-10696 class, buildah tar handling)",
		layer: func(c canary) []ocitest.File {
			return []ocitest.File{ocitest.Reg(".wh..", ""), ocitest.Dir("sub"), ocitest.Reg("sub/.wh..", "")}
		},
		inside: "test -x /bin/busybox",
	},
	{
		name: "whiteout climbing out with ..", cve: "CVE-2020-10696 class",
		layer:  func(c canary) []ocitest.File { return []ocitest.File{ocitest.Reg(up+c.Dir[1:]+"/.wh.canary", "")} },
		inside: "true",
	},
	{
		name: "whiteout through a symlink", cve: "CVE-2020-10696 class; moby whiteout-through-symlink fixes",
		layer: func(c canary) []ocitest.File {
			return []ocitest.File{ocitest.Symlink("w", c.Dir), ocitest.Reg("w/.wh.canary", "")}
		},
		inside: "true",
	},
	{
		name: "opaque marker through a symlink", cve: "CVE-2020-10696 class (.wh..wh..opq empties a directory)",
		layer: func(c canary) []ocitest.File {
			return []ocitest.File{ocitest.Symlink("o", c.Dir), ocitest.Reg("o/.wh..wh..opq", "")}
		},
		inside: "true",
	},
}

func TestHostileLayers(t *testing.T) {
	e := newImageEnv(t)
	for _, a := range tarAttacks {
		t.Run(a.name, func(t *testing.T) {
			c := newCanary(t)
			ref := "oci:" + writeImage(t, busyboxImage(t, ocitest.Config{}, a.layer(c))) + ":latest"
			r := e.run(t, "", "run", "--rm", "-q", ref, "sh", "-c", a.inside)
			switch r.Code {
			case 0:
				t.Logf("contained (%s)", a.cve)
			case 125:
				if !strings.Contains(r.Stderr, "pull "+ref) {
					t.Errorf("refused, but the error does not name the image:\n%s", r)
				}
				t.Logf("refused (%s): %s", a.cve, strings.TrimSpace(r.Stderr))
			default:
				t.Errorf("the container saw the host (%s):\n%s", a.cve, r)
			}
			c.check(t)
		})
	}
}

// A device node in a layer must not open the device: the host's disk, and
// /dev/net/tun (which root opens without any capability). As a user, the store
// cannot even create them; as root, nothing in the container may open them (the
// root filesystem must be nodev: there is no device cgroup on a v1 host).
func TestHostileDeviceNodes(t *testing.T) {
	e := newImageEnv(t)
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		t.Fatal(err)
	}
	probes := []ocitest.File{
		{Name: "disk", Type: tar.TypeBlock, Mode: 0o666, Major: int64(unix.Major(st.Dev)), Minor: int64(unix.Minor(st.Dev))},
		{Name: "tun", Type: tar.TypeChar, Mode: 0o666, Major: 10, Minor: 200},
	}
	if !rootless() && !hostOpens("/dev/net/tun") {
		t.Skip("this machine's root cannot open /dev/net/tun itself: no device to probe with")
	}
	ref := "oci:" + writeImage(t, busyboxImage(t, ocitest.Config{}, probes)) + ":latest"
	r := e.run(t, "", "run", "--rm", "-q", ref, "sh", "-c",
		`ls -l /disk /tun; for n in /disk /tun; do `+
			`if { [ -b $n ] || [ -c $n ]; } && (exec 3<>$n) 2>/dev/null; then echo "opened $n"; exit 1; fi; done`)
	switch r.Code {
	case 0:
		t.Logf("contained: the nodes do not open:\n%s", r.Stdout)
	case 125:
		t.Logf("refused: %s", strings.TrimSpace(r.Stderr))
	default:
		t.Errorf("a device node from the image opened a host device:\n%s", r)
	}
}

// hostOpens reports whether this process can open a device read-write.
func hostOpens(path string) bool {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// A setuid-root file from an image gives a non-root container user nothing
// (no_new_privs), and the store keeps layer files out of other host users'
// reach (a setuid-root file there would be a host escalation).
func TestHostileSetuid(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the probe is a hand-made x86-64 ELF")
	}
	e := newImageEnv(t)
	euid := ocitest.File{Name: "bin/euid", Mode: 0o4755, Content: string(euidELF())}
	ref := "oci:" + writeImage(t, busyboxImage(t, ocitest.Config{}, []ocitest.File{euid})) + ":latest"
	r := e.run(t, "", "run", "--rm", "-q", "-u", "1000:1000", ref, "/bin/euid")
	if r.Code == 0 {
		t.Errorf("a setuid-root file from the image made user 1000 root:\n%s", r)
	} else if r.Code != 1000&0xff {
		t.Errorf("the probe did not run as 1000 (exit %d):\n%s", r.Code, r)
	}
	// Every layer file sits below a directory other users cannot enter.
	found := false
	err := filepath.Walk(e.Root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.Name() != "euid" || fi.Mode()&os.ModeSetuid == 0 {
			return nil
		}
		found = true
		for d := filepath.Dir(p); d != filepath.Dir(e.Root); d = filepath.Dir(d) {
			if di, err := os.Stat(d); err == nil && di.Mode().Perm()&0o001 == 0 {
				return nil
			}
		}
		t.Errorf("setuid file %s is reachable by every user", p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !found && !rootless() {
		t.Error("the setuid probe is not in the store")
	}
}

// euidELF is a 136-byte static x86-64 program: exit(geteuid()).
func euidELF() []byte {
	code := []byte{
		0xb8, 0x6b, 0, 0, 0, // mov eax, 107 (geteuid)
		0x0f, 0x05, // syscall
		0x89, 0xc7, // mov edi, eax
		0xb8, 0x3c, 0, 0, 0, // mov eax, 60 (exit)
		0x0f, 0x05, // syscall
	}
	const base, hdr = 0x400000, 64 + 56
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	w(uint16(2))               // ET_EXEC
	w(uint16(0x3e))            // EM_X86_64
	w(uint32(1))               // EV_CURRENT
	w(uint64(base + hdr))      // entry
	w(uint64(64))              // program headers
	w(uint64(0))               // no section headers
	w(uint32(0))               // flags
	w(uint16(64))              // ELF header size
	w(uint16(56))              // program header size
	w(uint16(1))               // one program header
	w([3]uint16{})             // no sections
	w(uint32(1))               // PT_LOAD
	w(uint32(5))               // R+X
	w(uint64(0))               // from offset 0
	w(uint64(base))            // vaddr
	w(uint64(base))            // paddr
	w(uint64(hdr + len(code))) // file size
	w(uint64(hdr + len(code))) // memory size
	w(uint64(0x1000))          // alignment
	b.Write(code)
	return b.Bytes()
}

// Configs with absurd users and working directories: refused, or resolved
// inside the container.
func TestHostileConfigs(t *testing.T) {
	e := newImageEnv(t)
	c := newCanary(t)
	tests := []struct {
		name   string
		cfg    ocitest.Config
		extra  []ocitest.File
		refuse bool // ccrun must fail (125, or the init's 126/127)
		either bool // refusing is as good as want
		want   string
	}{
		{name: "WORKDIR climbing out", cfg: ocitest.Config{Cmd: []string{"pwd"}, WorkingDir: up + c.Dir[1:] + "/wd"}, want: c.Dir + "/wd"},
		{name: "WORKDIR through an absolute symlink", cfg: ocitest.Config{Cmd: []string{"pwd"}, WorkingDir: "/link/wd"},
			extra: []ocitest.File{ocitest.Symlink("link", c.Dir)}, either: true, want: c.Dir + "/wd"},
		{name: "user with three fields", cfg: ocitest.Config{Cmd: []string{"id"}, User: "0:0:0"}, refuse: true},
		{name: "user as a path", cfg: ocitest.Config{Cmd: []string{"id"}, User: "../../etc/shadow"}, refuse: true},
		{name: "uid beyond 32 bits", cfg: ocitest.Config{Cmd: []string{"id"}, User: "99999999999"}, refuse: true},
		{name: "unknown user name", cfg: ocitest.Config{Cmd: []string{"id"}, User: "nosuchuser"}, refuse: true},
		{name: "NUL in the entrypoint", cfg: ocitest.Config{Entrypoint: []string{"/bin/sh\x00-c"}, Cmd: []string{"id"}}, refuse: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var extra [][]ocitest.File
			if tt.extra != nil {
				extra = append(extra, tt.extra)
			}
			ref := "oci:" + writeImage(t, busyboxImage(t, tt.cfg, extra...)) + ":latest"
			r := e.run(t, "", "run", "--rm", "-q", ref)
			refused := r.Code != 0 && strings.HasPrefix(r.Stderr, "ccrun: ")
			switch {
			case tt.either && refused:
				t.Logf("refused: %s", strings.TrimSpace(r.Stderr))
			case tt.refuse && r.Code == 0:
				t.Errorf("accepted:\n%s", r)
			case tt.refuse && !strings.HasPrefix(r.Stderr, "ccrun: "):
				t.Errorf("refused without a clear error:\n%s", r)
			case !tt.refuse && (r.Code != 0 || strings.TrimSpace(r.Stdout) != tt.want):
				t.Errorf("want the working directory %s inside the container:\n%s", tt.want, r)
			}
			c.check(t)
		})
	}
}
