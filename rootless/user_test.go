package rootless

import (
	"reflect"
	"strings"
	"testing"
)

const testPasswd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/sh
broken line
bob:x:notanumber:1:bob:/home/bob:/bin/sh
eve:x:1001:notagid:eve:/home/eve:/bin/sh
`

const testGroup = `root:x:0:
tty:x:5:alice
staff:x:50:alice,carol
alice:x:1000:
video:x:44:
`

func TestResolveUser(t *testing.T) {
	tests := []struct {
		spec    string
		want    *Identity
		wantErr string
	}{
		{"", &Identity{UID: 0, GID: 0, Groups: []uint32{0}, Home: "/root"}, ""},
		{"0", &Identity{UID: 0, GID: 0, Groups: []uint32{0}, Home: "/root"}, ""},
		{"alice", &Identity{UID: 1000, GID: 1000, Groups: []uint32{1000, 5, 50}, Home: "/home/alice"}, ""},
		{"1000", &Identity{UID: 1000, GID: 1000, Groups: []uint32{1000, 5, 50}, Home: "/home/alice"}, ""},
		{"alice:video", &Identity{UID: 1000, GID: 44, Home: "/home/alice"}, ""},
		{"1000:44", &Identity{UID: 1000, GID: 44, Home: "/home/alice"}, ""},
		{"4242", &Identity{UID: 4242, GID: 0, Home: "/"}, ""}, // numeric ids need no entry
		{"4242:4242", &Identity{UID: 4242, GID: 4242, Home: "/"}, ""},
		{"daemon", &Identity{UID: 1, GID: 1, Groups: []uint32{1}, Home: "/usr/sbin"}, ""},
		{"mallory", nil, `user "mallory": no such user`},
		{"bob", nil, `user "bob": no such user`}, // its line is malformed
		{"eve", nil, `user "eve": no such user`}, // a malformed gid must not read as 0
		{"alice:nogroup", nil, `group "nogroup": no such group`},
		{":0", nil, "want user[:group]"},
		{"0:", nil, "want user[:group]"},
		{"4294967295", nil, "no such user"}, // -1 is not an id
	}
	for _, tt := range tests {
		got, err := ResolveUser(tt.spec, strings.NewReader(testPasswd), strings.NewReader(testGroup))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ResolveUser(%q) error = %v, want %q", tt.spec, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ResolveUser(%q) = %+v, %v; want %+v", tt.spec, got, err, tt.want)
		}
	}
}

func TestResolveUserWithoutEtcFiles(t *testing.T) {
	got, err := ResolveUser("123:456", nil, nil)
	if err != nil || got.UID != 123 || got.GID != 456 || got.Home != "/" {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, err := ResolveUser("nobody", nil, nil); err == nil {
		t.Fatal("a name without /etc/passwd resolved; it must be an error, never root")
	}
}

func TestEnviron(t *testing.T) {
	tests := []struct {
		env      []string
		terminal bool
		want     []string
	}{
		{nil, false, []string{"PATH=" + DefaultPath, "HOSTNAME=box", "HOME=/root"}},
		{nil, true, []string{"PATH=" + DefaultPath, "HOSTNAME=box", "HOME=/root", "TERM=xterm"}},
		{[]string{"PATH=/bin", "HOME=/x", "TERM=vt100", "HOSTNAME=h"}, true, []string{"PATH=/bin", "HOME=/x", "TERM=vt100", "HOSTNAME=h"}},
		{[]string{"A=1", "A=2"}, false, []string{"A=1", "A=2", "PATH=" + DefaultPath, "HOSTNAME=box", "HOME=/root"}},
		{[]string{"HOME="}, false, []string{"HOME=", "PATH=" + DefaultPath, "HOSTNAME=box"}}, // set empty on purpose
	}
	for _, tt := range tests {
		if got := Environ(tt.env, "box", "/root", tt.terminal); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Environ(%q, %v) = %q, want %q", tt.env, tt.terminal, got, tt.want)
		}
	}
}

func TestStandardMounts(t *testing.T) {
	m := StandardMounts(PlanOptions{DevptsGID: 5, Cgroup2: true})
	var targets []string
	for _, x := range m {
		targets = append(targets, x.Target)
		if !x.NoSuid {
			t.Errorf("%s is mounted without nosuid", x.Target)
		}
	}
	want := []string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"}
	if !reflect.DeepEqual(targets, want) {
		t.Fatalf("targets = %v, want %v (order matters: /dev before what is under it)", targets, want)
	}
	if opts := strings.Join(m[2].Options, ","); !strings.Contains(opts, "newinstance") || !strings.Contains(opts, "gid=5") {
		t.Errorf("devpts options %q: want a new instance with gid=5", opts)
	}
	single := StandardMounts(PlanOptions{DevptsGID: -1})
	if opts := strings.Join(single[2].Options, ","); strings.Contains(opts, "gid=") {
		t.Errorf("devpts options %q: gid= must be left out when gid 5 is not mapped", opts)
	}
	if single[len(single)-1].Target == "/sys/fs/cgroup" {
		t.Error("cgroup2 mounted without a cgroup")
	}
	for _, x := range m {
		if (x.Target == "/sys" || x.Target == "/sys/fs/cgroup") && !x.ReadOnly {
			t.Errorf("%s must be read-only", x.Target)
		}
	}
}

func TestLookPath(t *testing.T) {
	if p, err := LookPath("/abs/cmd", ""); err != nil || p != "/abs/cmd" {
		t.Errorf("a path with a slash is used as is: %q %v", p, err)
	}
	if p, err := LookPath("sh", "/nonexistent:/bin"); err != nil || p != "/bin/sh" {
		t.Errorf("LookPath(sh) = %q, %v", p, err)
	}
	_, err := LookPath("no-such-command-here", "/bin")
	var ee *ExecError
	if !asExecError(err, &ee) || ee.Code != 127 {
		t.Errorf("missing command: %v, want an ExecError with code 127", err)
	}
	dir := t.TempDir()
	if err := writeFile(dir+"/plain", 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LookPath("plain", dir)
	if !asExecError(err, &ee) || ee.Code != 126 {
		t.Errorf("non-executable command: %v, want an ExecError with code 126", err)
	}
}
