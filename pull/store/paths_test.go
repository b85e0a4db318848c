package store

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDefaultPaths(t *testing.T) {
	tests := []struct {
		name     string
		rootless bool
		env      map[string]string
		want     Paths
		wantErr  bool
	}{
		{"root", false, map[string]string{"HOME": "/root", "XDG_RUNTIME_DIR": "/run/user/0"},
			Paths{GraphRoot: "/var/lib/ccrun/storage", RunRoot: "/run/ccrun"}, false},
		{"user in a session", true, map[string]string{"HOME": "/home/u", "XDG_RUNTIME_DIR": "/run/user/1000"},
			Paths{GraphRoot: "/home/u/.local/share/ccrun/storage", RunRoot: "/run/user/1000/ccrun"}, false},
		{"user with XDG_DATA_HOME", true, map[string]string{"HOME": "/home/u", "XDG_DATA_HOME": "/data", "XDG_RUNTIME_DIR": "/run/user/1000"},
			Paths{GraphRoot: "/data/ccrun/storage", RunRoot: "/run/user/1000/ccrun"}, false},
		{"user under su: no runtime dir", true, map[string]string{"HOME": "/home/u"},
			Paths{GraphRoot: "/home/u/.local/share/ccrun/storage", RunRoot: "/tmp/ccrun-run-1000", SharedParent: true}, false},
		{"TMPDIR is honoured", true, map[string]string{"HOME": "/home/u", "TMPDIR": "/var/tmp"},
			Paths{GraphRoot: "/home/u/.local/share/ccrun/storage", RunRoot: "/var/tmp/ccrun-run-1000", SharedParent: true}, false},
		{"relative XDG values are ignored", true, map[string]string{"HOME": "/home/u", "XDG_DATA_HOME": "data", "XDG_RUNTIME_DIR": "run"},
			Paths{GraphRoot: "/home/u/.local/share/ccrun/storage", RunRoot: "/tmp/ccrun-run-1000", SharedParent: true}, false},
		{"no HOME", true, map[string]string{}, Paths{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DefaultPaths(Env{Rootless: tt.rootless, UID: 1000, Getenv: func(k string) string { return tt.env[k] }})
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("DefaultPaths = %+v, %v; want %+v (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestOverride(t *testing.T) {
	p := Paths{GraphRoot: "/g", RunRoot: "/tmp/ccrun-run-1", SharedParent: true}
	got, err := p.Override("/other", "")
	if err != nil || got != (Paths{GraphRoot: "/other", RunRoot: "/tmp/ccrun-run-1", SharedParent: true}) {
		t.Errorf("--root only: %+v, %v", got, err)
	}
	got, err = p.Override("", "/r")
	if err != nil || got != (Paths{GraphRoot: "/g", RunRoot: "/r"}) {
		t.Errorf("--runroot: %+v, %v (an explicit run root is not checked)", got, err)
	}
	wd, _ := os.Getwd()
	got, err = p.Override("rel", "")
	if err != nil || got.GraphRoot != filepath.Join(wd, "rel") {
		t.Errorf("relative --root: %+v, %v", got, err)
	}
}

// The private run root in /tmp must be a directory of ours that nobody else
// can write to.
func TestCheckPrivate(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.Mkdir(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := mk("good", 0o700)
	if err := checkPrivate(good, os.Geteuid()); err != nil {
		t.Errorf("a 0700 directory of ours: %v", err)
	}
	if err := checkPrivate(mk("open", 0o777), os.Geteuid()); !IsNotPrivate(err) {
		t.Errorf("a world-writable directory: %v, want refused", err)
	}
	if err := checkPrivate(mk("group", 0o770), os.Geteuid()); !IsNotPrivate(err) {
		t.Errorf("a group-writable directory: %v, want refused", err)
	}
	if err := checkPrivate(good, os.Geteuid()+1); !IsNotPrivate(err) {
		t.Errorf("someone else's directory: %v, want refused", err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	if err := checkPrivate(link, os.Geteuid()); !IsNotPrivate(err) {
		t.Errorf("a symbolic link: %v, want refused", err)
	}
	// prepareRunRoot creates a missing one 0700, and refuses a planted one.
	p := Paths{RunRoot: filepath.Join(dir, "fresh"), SharedParent: true}
	if err := prepareRunRoot(p); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p.RunRoot); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("created run root: %v, %v; want mode 0700", fi.Mode(), err)
	}
	if err := prepareRunRoot(Paths{RunRoot: filepath.Join(dir, "open"), SharedParent: true}); !IsNotPrivate(err) {
		t.Errorf("prepareRunRoot of a world-writable directory: %v", err)
	}
}

func TestRepoOf(t *testing.T) {
	for in, want := range map[string]string{
		"docker.io/library/busybox:latest":   "docker.io/library/busybox",
		"127.0.0.1:5000/busybox:1":           "127.0.0.1:5000/busybox",
		"127.0.0.1:5000/busybox":             "127.0.0.1:5000/busybox",
		"docker.io/library/busybox@sha256:1": "docker.io/library/busybox",
	} {
		if got := repoOf(in); got != want {
			t.Errorf("repoOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConfigKey(t *testing.T) {
	id := "abc"
	if k := configKey(id, []string{"manifest-sha256:1", "sha256:abc"}); k != "sha256:abc" {
		t.Errorf("configKey = %q", k)
	}
	if k := configKey(id, []string{"manifest-sha256:1", "sha256:def"}); k != "sha256:def" {
		t.Errorf("configKey of an image whose id is not its config digest = %q", k)
	}
}
