package integration

import (
	"archive/tar"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ccrun/ccrun/pull/ocitest"
)

// The first run of an image pulls it from a TLS registry whose CA the user put
// in certs.d, with progress; the layers are stored once; the next run needs no
// registry; nothing stays mounted.
func TestPullAndRunFromRegistry(t *testing.T) {
	reg := startRegistry(t, registryOptions{TLS: true})
	bb := busyboxImage(t, ocitest.Config{})
	reg.push(t, writeImage(t, bb), "latest", "library/busybox:latest")
	two := busyboxImage(t, ocitest.Config{}, []ocitest.File{ocitest.Reg("two", "2\n")})
	reg.push(t, writeImage(t, two), "latest", "library/busybox:two")
	e := newImageEnv(t)
	e.trust(t, reg)
	ref := reg.Ref("library/busybox")

	r := e.run(t, "", "run", "--rm", ref, "echo", "hi")
	if r.Code != 0 || r.Stdout != "hi\n" {
		t.Fatalf("first run:\n%s", r)
	}
	if !strings.Contains(r.Stderr, "Copying blob") {
		t.Errorf("the first run pulled without progress lines:\n%s", r.Stderr)
	}
	out := e.ok(t, "images")
	if !regexp.MustCompile(regexp.QuoteMeta(ref) + `\s+latest\s+[0-9a-f]{12}\s+`).MatchString(out) {
		t.Errorf("ccrun images does not list %s:latest:\n%s", ref, out)
	}

	r = e.run(t, "", "pull", "-q", ref+":two")
	if r.Code != 0 || !regexp.MustCompile(`^[0-9a-f]{64}\n$`).MatchString(r.Stdout) || r.Stderr != "" {
		t.Errorf("pull -q prints the id alone, and nothing on stderr:\n%s", r)
	}
	if n := e.layerDirs(t); n != 2 {
		t.Errorf("two images sharing their base: %d layer directories, want 2", n)
	}

	reg.Stop()
	if out := e.ok(t, "run", "--rm", ref, "cat", "/etc/passwd"); !strings.HasPrefix(out, "root:x:0:0") {
		t.Errorf("second run without the registry: %q", out)
	}
	if out := e.ok(t, "run", "--rm", ref+":two", "cat", "/two"); out != "2\n" {
		t.Errorf("run of the second image: %q", out)
	}
	stderr := e.fails(t, "run", "--rm", "--pull=always", ref, "true")
	if !strings.Contains(stderr, ref+":latest") {
		t.Errorf("--pull=always without the registry: the error does not name %s:latest:\n%s", ref, stderr)
	}
	if m := mountsUnder(t, e.Root); m != "" {
		t.Errorf("mounts left on the host:\n%s", m)
	}
}

// Without the CA, TLS verification fails with a hint; --tls-verify=false
// accepts the self-signed registry.
func TestTLSVerify(t *testing.T) {
	reg := startRegistry(t, registryOptions{TLS: true})
	reg.push(t, writeImage(t, busyboxImage(t, ocitest.Config{})), "latest", "busybox")
	e := newImageEnv(t)
	stderr := e.fails(t, "pull", reg.Ref("busybox"))
	if !strings.Contains(stderr, reg.Ref("busybox:latest")) || !strings.Contains(stderr, "hint:") || !strings.Contains(stderr, "certs.d") {
		t.Errorf("pull from an untrusted registry:\n%s", stderr)
	}
	e.ok(t, "pull", "-q", "--tls-verify=false", reg.Ref("busybox"))
	// --cert-dir names the CA directly.
	e2 := newImageEnv(t)
	e2.ok(t, "pull", "-q", "--cert-dir", reg.CertDir, reg.Ref("busybox"))
}

// A digest reference runs the exact image; a tag moved since does not matter.
func TestRunByDigest(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	d := reg.push(t, writeImage(t, busyboxImage(t, ocitest.Config{}, []ocitest.File{ocitest.Reg("v", "1\n")})), "latest", "bb:latest")
	reg.push(t, writeImage(t, busyboxImage(t, ocitest.Config{}, []ocitest.File{ocitest.Reg("v", "2\n")})), "latest", "bb:latest")
	e := newImageEnv(t)
	if out := e.ok(t, "run", "--rm", "--tls-verify=false", reg.Ref("bb@"+d), "cat", "/v"); out != "1\n" {
		t.Errorf("run by digest: %q, want the first image's 1", out)
	}
	if out := e.ok(t, "run", "--rm", "--tls-verify=false", reg.Ref("bb"), "cat", "/v"); out != "2\n" {
		t.Errorf("run by tag: %q, want the second image's 2", out)
	}
	// The digest resolves from the store now: no registry needed.
	reg.Stop()
	if out := e.ok(t, "run", "--rm", "--pull=never", reg.Ref("bb@"+d), "cat", "/v"); out != "1\n" {
		t.Errorf("run by digest from the store: %q", out)
	}
}

// A multi-platform index resolves to this machine's platform; the foreign one
// is chosen only when asked with --platform.
func TestMultiPlatformIndex(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	foreign := "arm64"
	if runtime.GOARCH == "arm64" {
		foreign = "amd64"
	}
	dir := filepath.Join(t.TempDir(), "multi")
	l, err := ocitest.NewLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ms []ocitest.Descriptor
	// The foreign image comes first, so that "the first one" would be wrong. Its
	// busybox is this machine's, so that it can run when chosen.
	for _, arch := range []string{foreign, runtime.GOARCH} {
		im := busyboxImage(t, ocitest.Config{Architecture: arch}, []ocitest.File{ocitest.Reg("platform", arch+"\n")})
		m, err := l.Image(im)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	if _, err := l.Tag("latest", ms...); err != nil {
		t.Fatal(err)
	}
	reg.push(t, dir, "latest", "multi:latest")
	e := newImageEnv(t)
	ref := reg.Ref("multi")
	if out := e.ok(t, "run", "--rm", "--tls-verify=false", ref, "cat", "/platform"); out != runtime.GOARCH+"\n" {
		t.Errorf("default platform: %q, want %s", out, runtime.GOARCH)
	}
	out := e.ok(t, "run", "--rm", "-q", "--tls-verify=false", "--platform", "linux/"+foreign, ref, "cat", "/platform")
	if out != foreign+"\n" {
		t.Errorf("--platform linux/%s: %q", foreign, out)
	}
	if imgs := e.images(t); len(imgs) != 2 {
		t.Errorf("%d images after pulling two platforms, want 2: %+v", len(imgs), imgs)
	}

	// The same index as a local layout: an image stored from it is current only
	// for the platform it was chosen for.
	local := "oci:" + dir + ":latest"
	for _, arch := range []string{runtime.GOARCH, foreign, runtime.GOARCH} {
		args := []string{"run", "--rm", "-q", "--platform", "linux/" + arch, local, "cat", "/platform"}
		if out := e.ok(t, args...); out != arch+"\n" {
			t.Errorf("%s: %q, want %s", strings.Join(args, " "), out, arch)
		}
	}
}

// Later layers delete files (whiteouts), empty a directory (opaque), delete a
// whole directory and bring a file back; a zstd layer sits among gzip ones;
// and there are enough layers that absolute paths overflow the mount data
// page. Checked file by file inside the container.
func TestLayersWhiteoutsOpaque(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	im := busyboxImage(t, ocitest.Config{})
	add := func(compression string, files ...ocitest.File) {
		im.Layers = append(im.Layers, ocitest.Layer{Files: files, Compression: compression})
	}
	add("gzip", ocitest.Dir("data"), ocitest.Reg("data/keep", "keep\n"), ocitest.Reg("data/gone", "old\n"),
		ocitest.Dir("data/dir"), ocitest.Reg("data/dir/a", "a\n"),
		ocitest.Dir("opq"), ocitest.Reg("opq/old1", "1\n"), ocitest.Dir("opq/sub"), ocitest.Reg("opq/sub/old2", "2\n"))
	add("zstd", ocitest.Whiteout("data/gone"), ocitest.Reg("data/new", "new\n"))
	add("gzip", ocitest.Dir("opq"), ocitest.Opaque("opq"), ocitest.Reg("opq/fresh", "fresh\n"))
	add("none", ocitest.Whiteout("data/dir"))
	add("gzip", ocitest.Reg("data/gone", "back\n"))
	for i := range 45 {
		add("gzip", ocitest.Dir("layers"), ocitest.Reg(fmt.Sprintf("layers/%02d", i), fmt.Sprint(i)))
	}
	reg.push(t, writeImage(t, im), "latest", "layers:latest")
	e := newImageEnv(t)
	out := e.ok(t, "run", "--rm", "-q", "--tls-verify=false", reg.Ref("layers"), "sh", "-c",
		"find /data /opq | sort; cat /data/gone; ls /layers | wc -l; head -1 /proc/self/mountinfo")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{"/data", "/data/gone", "/data/keep", "/data/new", "/opq", "/opq/fresh", "back", "45"}
	if len(lines) != len(want)+1 || !slices.Equal(lines[:len(want)], want) {
		t.Fatalf("inside the container:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
	if root := lines[len(want)]; !strings.Contains(root, "overlay") || !strings.Contains(root, "lowerdir=l/") {
		t.Errorf("the root of 50 layers should be an overlay with short relative lower dirs:\n%s", root)
	}
}

// The image's config sets the command, environment, working directory and
// user; the flags of run override each.
func TestImageConfig(t *testing.T) {
	cfg := ocitest.Config{
		Entrypoint: []string{"/bin/sh", "-c"},
		Cmd:        []string{`echo "$GREETING $A $(id -u):$(id -g) $(pwd)"`},
		Env:        []string{"PATH=/bin", "GREETING=hello", "A=1"},
		WorkingDir: "/srv/app", // not in the image: created
		User:       "user",     // 1000:1000 in the image's /etc/passwd
	}
	e := newImageEnv(t)
	ref := "oci:" + writeImage(t, busyboxImage(t, cfg)) + ":latest"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"the image's config", nil, "hello 1 1000:1000 /srv/app"},
		{"-e, -w and -u override", []string{"-e", "A=2", "-w", "/tmp", "-u", "0:50"}, "hello 2 0:50 /tmp"},
		{"arguments replace CMD", []string{"--", "echo replaced $A"}, "replaced 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"run", "--rm", "-q"}
			cmdArgs := []string{}
			if i := slices.Index(tt.args, "--"); i >= 0 {
				args = append(args, tt.args[:i]...)
				cmdArgs = tt.args[i+1:]
			} else {
				args = append(args, tt.args...)
			}
			args = append(append(args, ref), cmdArgs...)
			if out := e.ok(t, args...); strings.TrimSpace(out) != tt.want {
				t.Errorf("ccrun %s: %q, want %q", strings.Join(args, " "), out, tt.want)
			}
		})
	}
	if out := e.ok(t, "run", "--rm", "-q", "--entrypoint", "/bin/echo", ref, "ccrun"); out != "ccrun\n" {
		t.Errorf("--entrypoint: %q", out)
	}
	// An unknown user name is an error, never root.
	ghost := "oci:" + writeImage(t, busyboxImage(t, ocitest.Config{Cmd: []string{"id"}, User: "ghost"})) + ":latest"
	if r := e.run(t, "", "run", "--rm", "-q", ghost); r.Code == 0 || !strings.Contains(r.Stderr, "ghost") {
		t.Errorf("image user ghost:\n%s", r)
	}
}

// The container's root directory keeps the owner and mode the image gives it.
// Rootless, an owner other than the image's root is one of your subordinate
// ids, which ccrun, outside the user namespace, cannot give the container's
// writable directory: the init does, from inside.
func TestImageRootOwner(t *testing.T) {
	e := newImageEnv(t)
	root := []ocitest.File{{Name: ".", Type: tar.TypeDir, Mode: 0o750, UID: 1000, GID: 1000}}
	ref := "oci:" + writeImage(t, busyboxImage(t, ocitest.Config{}, root)) + ":latest"
	out := e.ok(t, "run", "--rm", "-q", ref, "sh", "-c", "stat -c '%u:%g %a' /; touch /new && echo written")
	if want := "1000:1000 750\nwritten\n"; out != want {
		t.Errorf("the container's root: %q, want %q", out, want)
	}
	if cs := e.containers(t); len(cs) != 0 {
		t.Errorf("--rm left %d containers", len(cs))
	}
}

// An --rm container that wrote nothing leaves its directory as a spare, which
// the next run takes over: with the real kernel's leftovers in work/ (a
// volatile overlay refuses to mount over its own), and nothing of the last
// container's root. One that wrote something leaves nothing; image prune
// deletes the spares. (The image ships the mount points /proc, /dev and /sys,
// as Debian's and Alpine's do: without them the init makes them in upper/,
// which is then not empty.)
func TestSpareDirectories(t *testing.T) {
	e := newImageEnv(t)
	var mountPoints []ocitest.File
	for _, d := range []string{"proc", "dev", "sys"} {
		mountPoints = append(mountPoints, ocitest.File{Name: d, Type: tar.TypeDir, Mode: 0o755})
	}
	ref := "oci:" + writeImage(t, busyboxImage(t, ocitest.Config{}, mountPoints)) + ":latest"
	e.ok(t, "pull", "-q", ref)
	spares := func() []string {
		t.Helper()
		entries, err := os.ReadDir(filepath.Join(e.Root, "ccrun-containers"))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, en := range entries {
			if strings.HasPrefix(en.Name(), "spare-") {
				out = append(out, en.Name())
			}
		}
		return out
	}
	mode := e.ok(t, "run", "--rm", "localhost/image", "stat", "-c", "%a", "/")
	first := spares()
	if len(first) != 1 || len(e.containers(t)) != 0 {
		t.Fatalf("after a run that wrote nothing: spares %q, containers %q; want one spare, no container", first, e.containers(t))
	}
	e.ok(t, "run", "--rm", "localhost/image", "chmod", "700", "/")
	if out := e.ok(t, "run", "--rm", "localhost/image", "stat", "-c", "%a", "/"); out != mode {
		t.Errorf("the run after one that made / mode 700 sees mode %q, want the image's %q", out, mode)
	}
	if last := spares(); len(last) != 1 || last[0] == first[0] {
		t.Errorf("spares %q after %q: the runs did not take the spare over and leave it again", last, first)
	}
	e.ok(t, "run", "--rm", "localhost/image", "sh", "-c", "echo x > /x")
	e.ok(t, "run", "--rm", "localhost/image", "sh", "-c", "test ! -e /x")
	if got := spares(); len(got) != 1 || len(e.containers(t)) != 0 {
		t.Errorf("after runs that wrote and read: spares %q, containers %q; want one spare, no container", got, e.containers(t))
	}
	e.ok(t, "image", "prune")
	if got := spares(); len(got) != 0 {
		t.Errorf("image prune left spares %q", got)
	}
}

// Two containers of one image do not see each other's writes, and nothing
// reaches the shared layers. Without --rm the container stays, and keeps its
// image from removal until forced.
func TestContainersDoNotShareWrites(t *testing.T) {
	e := newImageEnv(t)
	ref := "oci:" + writeImage(t, busyboxImage(t, ocitest.Config{})) + ":latest"
	e.ok(t, "run", "-q", ref, "sh", "-c", "echo one > /etc/mark; rm /etc/group")
	r := e.run(t, "", "run", "-q", ref, "sh", "-c", "test -e /etc/mark && exit 1; cat /etc/group >/dev/null")
	if r.Code != 0 {
		t.Errorf("the second container saw the first one's writes:\n%s", r)
	}
	if n := len(e.containers(t)); n != 2 {
		t.Errorf("%d container records after two runs without --rm, want 2", n)
	}
	stderr := e.fails(t, "rmi", "localhost/image")
	if !strings.Contains(stderr, "in use") {
		t.Errorf("rmi of an image in use:\n%s", stderr)
	}
	e.ok(t, "rmi", "-f", "localhost/image")
	if n := len(e.containers(t)); n != 0 {
		t.Errorf("rmi -f left %d containers", n)
	}
	if n := e.layerDirs(t); n != 0 {
		t.Errorf("rmi -f left %d layer directories", n)
	}
}

// --rm deletes the container; a ccrun killed with SIGKILL cannot, and the next
// run deletes what it left.
func TestRmAndKilledRun(t *testing.T) {
	e := newImageEnv(t)
	ref := "oci:" + writeImage(t, busyboxImage(t, ocitest.Config{})) + ":latest"
	// A directory of another user of the container, closed to everyone else:
	// rootless, that is one of your subordinate ids, which you cannot delete
	// from outside a user namespace (ccrun then deletes it from inside one).
	closed := "mkdir /d && touch /d/f && chown -R 1000:1000 /d && chmod 700 /d"
	e.ok(t, "run", "--rm", "-q", ref, "sh", "-c", closed)
	if cs := e.containers(t); len(cs) != 0 {
		t.Fatalf("--rm left %d containers", len(cs))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	marker := fmt.Sprintf("ccrun-killed-%d", time.Now().UnixNano())
	cmd := e.command(ctx, "run", "--rm", "-q", ref, "sh", "-c", closed+"; sleep 30 # "+marker)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The container's record is written last, once it is set up (ccrun's own
	// command line holds the marker from the start).
	waitFor(t, 10*time.Second, "the container to start", func() bool {
		cs := e.containers(t)
		if len(cs) != 1 || len(processesWith(marker)) == 0 {
			return false
		}
		_, err := os.Stat(filepath.Join(e.Root, "ccrun-containers", cs[0], "container.json"))
		if err != nil {
			return false
		}
		fi, err := os.Stat(filepath.Join(e.Root, "ccrun-containers", cs[0], "upper", "d"))
		return err == nil && fi.Mode().Perm() == 0o700
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	// The killed supervisor holds the container's liveness lock until the last of
	// its threads has exited, a little after its processes look gone in /proc.
	waitFor(t, 10*time.Second, "the killed run's lock to be released", func() bool {
		cs := e.containers(t)
		return len(cs) == 1 && lockFree(t, filepath.Join(e.Root, "ccrun-containers", cs[0]))
	})
	if cs := e.containers(t); len(cs) != 1 {
		t.Fatalf("after SIGKILL: %d container records, want the dead one", len(cs))
	}
	e.ok(t, "run", "--rm", "-q", ref, "true")
	if cs := e.containers(t); len(cs) != 0 {
		t.Errorf("the next run left the dead --rm container: %q", cs)
	}
}

// Login checks the password and stores it; pull uses it; logout forgets it.
// Docker's own config file works too.
func TestRegistryAuth(t *testing.T) {
	reg := startRegistry(t, registryOptions{TLS: true, Auth: true})
	reg.push(t, writeImage(t, busyboxImage(t, ocitest.Config{})), "latest", "private/bb")
	e := newImageEnv(t)
	e.trust(t, reg)
	authFile := filepath.Join(e.Home, "auth.json")
	e.setenv("REGISTRY_AUTH_FILE=" + authFile)
	ref := reg.Ref("private/bb")

	stderr := e.fails(t, "pull", ref)
	if !strings.Contains(stderr, ref) || !strings.Contains(stderr, "ccrun login "+reg.Host) {
		t.Errorf("pull without credentials:\n%s", stderr)
	}
	r := e.run(t, "wrong\n", "login", "-u", reg.User, "--password-stdin", reg.Host)
	if r.Code != 125 {
		t.Errorf("login with a wrong password:\n%s", r)
	}
	if _, err := os.Stat(authFile); err == nil {
		t.Error("a refused login wrote the auth file")
	}
	r = e.run(t, reg.Password+"\n", "login", "-u", reg.User, "--password-stdin", reg.Host)
	if r.Code != 0 || !strings.Contains(r.Stdout, "Login Succeeded") {
		t.Fatalf("login:\n%s", r)
	}
	if b, err := os.ReadFile(authFile); err != nil || !strings.Contains(string(b), reg.Host) {
		t.Errorf("auth file after login: %q, %v", b, err)
	}
	e.ok(t, "pull", "-q", ref)
	e.ok(t, "rmi", ref)
	e.ok(t, "logout", reg.Host)
	e.fails(t, "pull", ref)
	e.fails(t, "logout", reg.Host)

	// ~/.docker/config.json, as docker login leaves it.
	dockerDir := filepath.Join(e.Home, ".docker")
	if err := os.MkdirAll(dockerDir, 0o700); err != nil {
		t.Fatal(err)
	}
	auth := base64.StdEncoding.EncodeToString([]byte(reg.User + ":" + reg.Password))
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Host, auth)
	if err := os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := e.ok(t, "run", "--rm", "-q", ref, "echo", "in"); out != "in\n" {
		t.Errorf("run with docker's credentials: %q", out)
	}
}

// Many runs and pulls at once: every pull of the same image into an empty
// store succeeds and the store holds one copy; runs do not wait for each other.
func TestConcurrentPullsAndRuns(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	reg.push(t, writeImage(t, busyboxImage(t, ocitest.Config{})), "latest", "bb")
	e := newImageEnv(t)
	ref := reg.Ref("bb")
	const n = 4
	parallel := func(args func(i int) []string) []result {
		out := make([]result, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); out[i] = e.run(t, "", args(i)...) }()
		}
		wg.Wait()
		return out
	}
	for i, r := range parallel(func(i int) []string {
		return []string{"run", "--rm", "-q", "--tls-verify=false", ref, "echo", fmt.Sprint(i)}
	}) {
		if r.Code != 0 || r.Stdout != fmt.Sprintf("%d\n", i) {
			t.Errorf("concurrent first run %d:\n%s", i, r)
		}
	}
	if imgs := e.images(t); len(imgs) != 1 {
		t.Errorf("%d images after concurrent pulls of one, want 1", len(imgs))
	}
	if d := e.layerDirs(t); d != 1 {
		t.Errorf("%d layer directories, want 1", d)
	}
	start := time.Now()
	for i, r := range parallel(func(int) []string { return []string{"run", "--rm", "-q", ref, "sleep", "1"} }) {
		if r.Code != 0 {
			t.Errorf("concurrent run %d:\n%s", i, r)
		}
	}
	if d := time.Since(start); d > time.Duration(n-1)*time.Second {
		t.Errorf("%d runs of sleep 1 took %v: they wait for each other", n, d)
	}
}

// A run of an image in the store only reads containers/storage: every file of
// its records and locks stays as it was (a container is a directory of
// ccrun's), with --rm and without.
func TestRunWritesNothingToTheImageStore(t *testing.T) {
	e := newImageEnv(t)
	ref := "oci:" + writeImage(t, busyboxImage(t, ocitest.Config{})) + ":latest"
	e.ok(t, "pull", "-q", ref)
	before := storeFiles(t, e.Root)
	e.ok(t, "run", "--rm", "localhost/image", "true")
	e.ok(t, "run", "localhost/image", "sh", "-c", "echo x > /x")
	if after := storeFiles(t, e.Root); !maps.Equal(before, after) {
		t.Errorf("a run changed containers/storage's files:\nbefore %v\nafter  %v", before, after)
	}
	cs := e.containers(t)
	if len(cs) != 1 {
		t.Fatalf("containers after a run with --rm and one without: %q, want one", cs)
	}
	var rec struct {
		ID      string `json:"id"`
		ImageID string `json:"image_id"`
		Image   string `json:"image"`
	}
	b, err := os.ReadFile(filepath.Join(e.Root, "ccrun-containers", cs[0], "container.json"))
	if err == nil {
		err = json.Unmarshal(b, &rec)
	}
	if imgs := e.images(t); err != nil || rec.ID != cs[0] || len(imgs) != 1 || rec.ImageID != imgs[0].ID || rec.Image != "localhost/image:latest" {
		t.Errorf("record %s: %+v, %v", b, rec, err)
	}
}

// storeFiles maps the files containers/storage keeps its records and locks in
// (all of the store but the layers' contents and ccrun's own files) to their
// size and modification time.
func storeFiles(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case rel == "overlay" || strings.HasPrefix(rel, "ccrun-"):
			if de.IsDir() {
				return fs.SkipDir
			}
			return nil
		case de.Type().IsRegular():
			fi, err := de.Info()
			if err != nil {
				return err
			}
			files[rel] = fmt.Sprintf("%d@%d", fi.Size(), fi.ModTime().UnixNano())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// rmi and runs of the same image at the same time: either rmi wins and the
// runs find no image, or a run creates its container first and rmi refuses.
// Never a container of a removed image (its layers gone under it).
func TestRmiRacesRuns(t *testing.T) {
	e := newImageEnv(t)
	ref := "oci:" + writeImage(t, busyboxImage(t, ocitest.Config{})) + ":latest"
	const runs = 4
	// rmi starts before the runs in some rounds, after them in others, so
	// that it goes first in some, last in others, and in between in some.
	for round, delay := range []time.Duration{-40, -10, -7, -5, -3, -1, 0, 20} {
		id := strings.TrimSpace(e.ok(t, "pull", "-q", ref))
		results := make([]result, runs+1)
		var wg sync.WaitGroup
		for i := range runs + 1 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i == runs {
					time.Sleep(max(delay, 0) * time.Millisecond)
					results[i] = e.run(t, "", "rmi", "localhost/image")
					return
				}
				time.Sleep(max(-delay, 0) * time.Millisecond)
				results[i] = e.run(t, "", "run", "--pull=never", "localhost/image", "true")
			}()
		}
		wg.Wait()
		rmi := results[runs]
		t.Logf("round %d: rmi %+d ms after the runs: exit %d; runs exit %d %d %d %d", round, delay, rmi.Code, results[0].Code, results[1].Code, results[2].Code, results[3].Code)
		for i, r := range results[:runs] {
			switch {
			case r.Code == 0 && rmi.Code == 0:
				t.Errorf("round %d: run %d and the rmi both succeeded:\n%s\nrmi:\n%s", round, i, r, rmi)
			case r.Code != 0 && !strings.Contains(r.Stderr, "not known"):
				t.Errorf("round %d: run %d failed otherwise than for want of the image:\n%s", round, i, r)
			}
		}
		if rmi.Code != 0 && !strings.Contains(rmi.Stderr, "in use") {
			t.Errorf("round %d: rmi failed otherwise than for a container:\n%s", round, rmi)
		}
		for _, c := range e.containers(t) {
			b, err := os.ReadFile(filepath.Join(e.Root, "ccrun-containers", c, "container.json"))
			if err != nil || !strings.Contains(string(b), id) {
				t.Errorf("round %d: container %.12s is not of image %.12s: %s %v", round, c, id, b, err)
			}
		}
		if rmi.Code != 0 {
			e.ok(t, "rmi", "-f", "localhost/image")
		}
		if cs := e.containers(t); len(cs) != 0 {
			t.Fatalf("round %d: rmi -f left containers %q", round, cs)
		}
	}
}

// --pull=never refuses what the store lacks; missing pulls it once.
func TestPullPolicy(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	reg.push(t, writeImage(t, busyboxImage(t, ocitest.Config{})), "latest", "bb")
	e := newImageEnv(t)
	ref := reg.Ref("bb")
	stderr := e.fails(t, "run", "--rm", "--pull=never", ref, "true")
	if !strings.Contains(stderr, ref) || !strings.Contains(stderr, "ccrun pull") {
		t.Errorf("--pull=never of a missing image:\n%s", stderr)
	}
	r := e.run(t, "", "run", "--rm", "--tls-verify=false", ref, "true")
	if r.Code != 0 || !strings.Contains(r.Stderr, "Copying") {
		t.Fatalf("--pull=missing of a missing image:\n%s", r)
	}
	r = e.run(t, "", "run", "--rm", "--tls-verify=false", ref, "true")
	if r.Code != 0 || r.Stderr != "" {
		t.Errorf("--pull=missing of a stored image pulled again:\n%s", r)
	}
	r = e.run(t, "", "run", "--rm", "--pull=always", "--tls-verify=false", ref, "true")
	if r.Code != 0 || !strings.Contains(r.Stderr, "Copying") {
		t.Errorf("--pull=always:\n%s", r)
	}
}

// oci:DIR:TAG and docker-archive:FILE run without a registry; a local source
// is copied again only when it changed.
func TestLocalSources(t *testing.T) {
	e := newImageEnv(t)
	dir := filepath.Join(t.TempDir(), "bb")
	if err := ocitest.Write(dir, "v1", busyboxImage(t, ocitest.Config{}, []ocitest.File{ocitest.Reg("v", "1\n")})); err != nil {
		t.Fatal(err)
	}
	ref := "oci:" + dir + ":v1"
	r := e.run(t, "", "run", "--rm", ref, "cat", "/v")
	if r.Code != 0 || r.Stdout != "1\n" || !strings.Contains(r.Stderr, "Copying") {
		t.Fatalf("first run of %s:\n%s", ref, r)
	}
	if r := e.run(t, "", "run", "--rm", ref, "cat", "/v"); r.Code != 0 || r.Stderr != "" {
		t.Errorf("second run copied the unchanged image again:\n%s", r)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := ocitest.Write(dir, "v1", busyboxImage(t, ocitest.Config{}, []ocitest.File{ocitest.Reg("v", "2\n")})); err != nil {
		t.Fatal(err)
	}
	if out := e.ok(t, "run", "--rm", "-q", ref, "cat", "/v"); out != "2\n" {
		t.Errorf("run after the source changed: %q", out)
	}
	if out := e.ok(t, "run", "--rm", "localhost/bb:v1", "cat", "/v"); out != "2\n" {
		t.Errorf("run by the stored name: %q", out)
	}

	archive := filepath.Join(t.TempDir(), "tool.tar")
	if err := exportArchive(dir+":v1", archive, "example.com/tool:1.0"); err != nil {
		t.Fatal(err)
	}
	if out := e.ok(t, "run", "--rm", "-q", "docker-archive:"+archive, "cat", "/v"); out != "2\n" {
		t.Errorf("docker-archive: %q", out)
	}
	if r := e.run(t, "", "run", "--rm", "docker-archive:"+archive, "cat", "/v"); r.Code != 0 || r.Stdout != "2\n" || r.Stderr != "" {
		t.Errorf("second run copied the unchanged archive again:\n%s", r)
	}
	if !strings.Contains(e.ok(t, "images"), "localhost/tool") {
		t.Errorf("the archive's image is not listed as localhost/tool")
	}
}

// The README's offline demo: busybox-oci.sh builds an OCI layout with coreutils
// alone, and ccrun runs it.
func TestBusyboxOCIScript(t *testing.T) {
	src := os.Getenv("CCRUN_SRC")
	if src == "" {
		src = ".."
	}
	script := filepath.Join(src, "integration", "setup", "busybox-oci.sh")
	if _, err := os.Stat(script); err != nil {
		t.Skipf("no %s (set CCRUN_SRC to the source tree): %v", script, err)
	}
	e := newImageEnv(t)
	dir := filepath.Join(t.TempDir(), "busybox")
	if out, err := exec.Command(script, dir, "latest").CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	if out := e.ok(t, "run", "--rm", "oci:"+dir+":latest", "echo", "hi"); out != "hi\n" {
		t.Errorf("run of the script's image: %q", out)
	}
}

// A registries.conf mirror serves a registry that is down.
func TestRegistryMirror(t *testing.T) {
	mirror := startRegistry(t, registryOptions{})
	mirror.push(t, writeImage(t, busyboxImage(t, ocitest.Config{})), "latest", "team/bb")
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	down := fmt.Sprintf("127.0.0.1:%d", port)
	e := newImageEnv(t)
	conf := filepath.Join(e.Home, "registries.conf")
	content := fmt.Sprintf("[[registry]]\nlocation = %q\ninsecure = true\n[[registry.mirror]]\nlocation = %q\ninsecure = true\n", down, mirror.Host)
	if err := os.WriteFile(conf, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	e.setenv("CONTAINERS_REGISTRIES_CONF=" + conf)
	if out := e.ok(t, "run", "--rm", "-q", down+"/team/bb", "echo", "mirrored"); out != "mirrored\n" {
		t.Errorf("run through a mirror: %q", out)
	}
}

// images -q and --format json for scripts; rmi by name, tag and id prefix;
// image prune removes what lost its name.
func TestImagesRmiPrune(t *testing.T) {
	e := newImageEnv(t)
	one := writeImage(t, busyboxImage(t, ocitest.Config{}))
	e.ok(t, "pull", "-q", "oci:"+one+":latest")
	two := filepath.Join(t.TempDir(), "other")
	if err := ocitest.Write(two, "latest", busyboxImage(t, ocitest.Config{}, []ocitest.File{ocitest.Reg("x", "x")})); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(e.ok(t, "pull", "-q", "oci:"+two+":latest"))
	ids := strings.Fields(e.ok(t, "images", "-q"))
	if len(ids) != 2 || !slices.Contains(ids, id[:12]) {
		t.Errorf("images -q = %q, want two ids with %s", ids, id[:12])
	}
	imgs := e.images(t)
	if len(imgs) != 2 || imgs[0].Size <= 0 || len(imgs[0].Digests) == 0 {
		t.Errorf("images --format json = %+v", imgs)
	}
	out := e.ok(t, "rmi", id[:12])
	if !strings.Contains(out, "Deleted: "+id) {
		t.Errorf("rmi by id prefix: %q", out)
	}
	e.ok(t, "rmi", "localhost/image:latest")
	if imgs := e.images(t); len(imgs) != 0 {
		t.Errorf("images left after rmi: %+v", imgs)
	}
	if stderr := e.fails(t, "rmi", "localhost/image"); !strings.Contains(stderr, "not known") {
		t.Errorf("rmi of a missing image:\n%s", stderr)
	}
	// A newer pull of the same name leaves the old image dangling.
	e.ok(t, "pull", "-q", "oci:"+one+":latest")
	if err := os.RemoveAll(one); err != nil {
		t.Fatal(err)
	}
	if err := ocitest.Write(one, "latest", busyboxImage(t, ocitest.Config{}, []ocitest.File{ocitest.Reg("y", "y")})); err != nil {
		t.Fatal(err)
	}
	e.ok(t, "pull", "-q", "oci:"+one+":latest")
	if imgs := e.images(t); len(imgs) != 2 {
		t.Fatalf("want the new image and the dangling one: %+v", imgs)
	}
	if out := e.ok(t, "image", "prune"); strings.Count(out, "Deleted:") != 1 {
		t.Errorf("image prune: %q, want one dangling image deleted", out)
	}
	if imgs := e.images(t); len(imgs) != 1 || len(imgs[0].Names) != 1 {
		t.Errorf("after prune: %+v", imgs)
	}
}

// A registry that serves a blob not matching its digest, a malformed or a huge
// manifest, or an error: the pull fails with an error naming the reference, and
// nothing is added to the store (not even the good layer before the bad one).
func TestPullFaults(t *testing.T) {
	f := startFakeRegistry(t)
	dir := writeImage(t, busyboxImage(t, ocitest.Config{}, []ocitest.File{ocitest.Reg("x", "x\n")}))
	_, man := manifestOf(t, dir, "latest")
	manifests := func(w http.ResponseWriter, r *http.Request, body []byte, status int) bool {
		if !strings.Contains(r.URL.Path, "/manifests/") {
			return false
		}
		w.Header().Set("Content-Type", ocitest.MediaManifest)
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return true
	}
	faults := map[string]struct {
		fault fault
		says  string
	}{
		"bad-digest": {func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.HasSuffix(r.URL.Path, man.Layers[1].Digest) {
				return false
			}
			data, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", man.Layers[1].Digest[7:]))
			if err != nil {
				panic(err)
			}
			data[len(data)/2] ^= 0xff
			_, _ = w.Write(data)
			return true
		}, "digest"},
		"malformed": {func(w http.ResponseWriter, r *http.Request) bool {
			return manifests(w, r, []byte(`{"schemaVersion": 2, "layers": [`), http.StatusOK)
		}, "malformed manifest"},
		"huge": {func(w http.ResponseWriter, r *http.Request) bool {
			return manifests(w, r, []byte(`{"schemaVersion":2,"x":"`+strings.Repeat("x", 5<<20)+`"}`), http.StatusOK)
		}, "maximum"},
		"error": {func(w http.ResponseWriter, r *http.Request) bool {
			return manifests(w, r, []byte(`{"errors":[{"code":"UNKNOWN","message":"the disk is on fire"}]}`), http.StatusInternalServerError)
		}, "500"},
	}
	e := newImageEnv(t)
	for repo, tt := range faults {
		t.Run(repo, func(t *testing.T) {
			f.add(repo, dir)
			f.fault(repo, tt.fault)
			ref := f.Host + "/" + repo
			stderr := e.fails(t, "pull", "-q", "--tls-verify=false", ref)
			if !strings.Contains(stderr, ref+":latest") || !strings.Contains(strings.ToLower(stderr), tt.says) {
				t.Errorf("want an error naming %s:latest and saying %q:\n%s", ref, tt.says, stderr)
			}
			if imgs := e.images(t); len(imgs) != 0 {
				t.Errorf("images after a failed pull: %+v", imgs)
			}
			if n := e.layerDirs(t); n != 0 {
				t.Errorf("%d layer directories after a failed pull", n)
			}
		})
	}
	f.add("good", dir)
	e.ok(t, "pull", "-q", "--tls-verify=false", f.Host+"/good")
}

// A pull killed half-way through a layer leaves nothing half-used: the next
// pull succeeds and the image runs; no temporary files stay behind.
func TestPullKilledHalfway(t *testing.T) {
	f := startFakeRegistry(t)
	dir := writeImage(t, busyboxImage(t, ocitest.Config{}))
	_, man := manifestOf(t, dir, "latest")
	f.add("bb", dir)
	half, gone := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.fault("bb", func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, man.Layers[0].Digest) {
			return false
		}
		data, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", man.Layers[0].Digest[7:]))
		if err != nil {
			panic(err)
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		_, _ = w.Write(data[:len(data)/2])
		w.(http.Flusher).Flush()
		first := false
		once.Do(func() { first = true; close(half) })
		select { // until the puller is gone; a puller that outlives ccrun fails below
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
			return true
		}
		if first {
			close(gone)
		}
		return true
	})
	e := newImageEnv(t)
	ref := f.Host + "/bb"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := e.command(ctx, "pull", "-q", "--tls-verify=false", ref)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-half:
	case <-time.After(30 * time.Second):
		t.Fatal("the pull never reached the layer")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal("the puller lives on after ccrun was killed")
	}
	f.fault("bb", nil)
	e.ok(t, "pull", "-q", "--tls-verify=false", ref)
	if out := e.ok(t, "run", "--rm", ref, "echo", "whole"); out != "whole\n" {
		t.Errorf("run after the repeated pull: %q", out)
	}
	if imgs := e.images(t); len(imgs) != 1 {
		t.Errorf("%d images, want 1", len(imgs))
	}
	if left, _ := os.ReadDir(filepath.Join(e.Root, "ccrun-tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// Until the container is being started, a signal does to ccrun run what it
// does to any Go program: a Ctrl-C during the pull of its image stops the pull,
// with no container started and nothing left behind; SIGUSR1 does nothing. (From then on, ccrun forwards
// signals to the container: TestSignalForwarding.)
func TestInterruptDuringPull(t *testing.T) {
	e := newImageEnv(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// A registry that accepts and then says nothing: the pull hangs.
	conns := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := e.command(ctx, "run", "--rm", "-q", "--tls-verify=false", l.Addr().String()+"/bb", "true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var conn net.Conn
	select {
	case conn = <-conns:
		defer conn.Close()
	case <-time.After(30 * time.Second):
		t.Fatal("the pull never reached the registry")
	}
	// SIGUSR1 does nothing yet, as in any Go program that does not catch it.
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		t.Fatalf("SIGUSR1 during the pull ended ccrun: %v", err)
	case <-time.After(2 * time.Second):
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = <-waited
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Errorf("ccrun after SIGINT during the pull: %v, want it ended by SIGINT", err)
	}
	// The puller is gone with it: its connection closes.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, conn); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Error("the puller lives on after ccrun was interrupted")
	}
	if cs := e.containers(t); len(cs) != 0 {
		t.Errorf("containers left: %q", cs)
	}
}

// On a terminal, pull draws progress bars; elsewhere it prints lines (checked in
// TestPullAndRunFromRegistry); with -q, nothing (TestPullAndRunFromRegistry).
func TestPullProgressOnTerminal(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	reg.push(t, writeImage(t, busyboxImage(t, ocitest.Config{})), "latest", "bb")
	e := newImageEnv(t)
	master, slave := openPty(t, 24, 100)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := e.command(ctx, "pull", "--tls-verify=false", reg.Ref("bb"))
	var stdout strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, slave
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	screen := make(chan string)
	go func() {
		var b []byte
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil { // EIO once every writer is gone
				screen <- string(b)
				return
			}
		}
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("pull on a terminal: %v\n%s", err, <-screen)
	}
	out := <-screen
	if !strings.Contains(out, "Copying blob") || !strings.Contains(out, "\x1b[") {
		t.Errorf("no progress bars on the terminal:\n%q", out)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).MatchString(stdout.String()) {
		t.Errorf("stdout: %q, want the image id", stdout.String())
	}
}

// lockFree reports whether nobody holds a flock on path.
func lockFree(t *testing.T, path string) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false
	}
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) == nil
}
