package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAttackImageSymlinks: the image decides what its directories are, and a
// runtime that joins strings ("root" + "/dev") follows the image's symlinks out
// of the root, mounting or writing on the host (CVE-2015-3629: /proc and /dev
// symlinks in libcontainer; CVE-2021-30465: a mount target swapped for a
// symlink in runc; CVE-2018-15664: docker cp following a symlink). Each case
// points a path the runtime touches at a host directory, absolutely or with
// enough ../ to climb out, and checks that nothing appeared there and that the
// host's mount table is unchanged. Refusing to start is fine; the message must
// then come from ccrun.
func TestAttackImageSymlinks(t *testing.T) {
	type attack struct {
		name  string
		link  string // path in the root replaced by a symlink to the host directory
		rel   bool   // a relative link climbing out with ../ rather than an absolute one
		flags []string
		cmd   string
	}
	attacks := []attack{
		{name: "dev absolute", link: "dev", cmd: "true"},
		{name: "dev relative", link: "dev", rel: true, cmd: "true"},
		{name: "proc absolute", link: "proc", cmd: "true"},
		{name: "proc relative", link: "proc", rel: true, cmd: "true"},
		{name: "sys absolute", link: "sys", cmd: "true"},
		{name: "workdir absolute", link: "work", flags: []string{"-w", "/work/made-by-ccrun"}, cmd: "pwd"},
		{name: "workdir relative", link: "work", rel: true, flags: []string{"-w", "/work/made-by-ccrun"}, cmd: "pwd"},
		{name: "workdir is the link", link: "work", flags: []string{"-w", "/work"}, cmd: "touch made-by-container"},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			root := newRootfs(t)
			host := t.TempDir()
			target := host
			if a.rel {
				target = strings.Repeat("../", 16) + strings.TrimPrefix(host, "/")
			}
			if err := os.Symlink(target, filepath.Join(root, a.link)); err != nil {
				t.Fatal(err)
			}
			mounts := hostMounts(t)
			args := append(append([]string{"run"}, a.flags...), "--rootfs", root, "sh", "-c", a.cmd)
			r := runCmd(t, "", args...)
			if got := dirListing(t, host); got != "" {
				t.Errorf("the container wrote into the host directory its %s points at: %s\n%s", a.link, got, r)
			}
			if hostMounts(t) != mounts {
				t.Errorf("the host's mount table changed")
			}
			if r.Code != 0 && !strings.HasPrefix(r.Stderr, "ccrun: ") {
				t.Errorf("refused without a clear message:\n%s", r)
			}
			t.Logf("exit %d: %s", r.Code, strings.TrimSpace(r.Stdout+r.Stderr))
		})
	}
}

// TestAttackImageUserFile: names in -u are looked up in the image's
// /etc/passwd. An image whose /etc/passwd is a symlink to a host file must not
// make ccrun read the host's: the user it defines there stays unknown.
func TestAttackImageUserFile(t *testing.T) {
	root := newRootfs(t)
	hostPasswd := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(hostPasswd, []byte("hostonly:x:4242:4242::/:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	passwd := filepath.Join(root, "etc/passwd")
	if err := os.Remove(passwd); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(hostPasswd, passwd); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, "", "run", "-u", "hostonly", "--rootfs", root, "id", "-u")
	if strings.Contains(r.Stdout, "4242") {
		t.Fatalf("ccrun read the host's file through the image's /etc/passwd symlink:\n%s", r)
	}
	if r.Code == 0 {
		t.Errorf("want an unknown user error, got:\n%s", r)
	}
}
