package integration

// The image half of the suite: real registries (Debian's docker-registry, which
// is distribution 2.8) on 127.0.0.1, one with TLS from a CA made here and one
// with htpasswd basic auth, images built here from busybox-static and pushed
// with containers/image, and a private image store per test.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ccrun/ccrun/pull/ocitest"
	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/archive"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
)

const registryBin = "/usr/bin/docker-registry"

// registry is a docker-registry serving on 127.0.0.1.
type registry struct {
	Host string // 127.0.0.1:PORT
	// CertDir holds the CA (ca.crt) that signed the registry's certificate, in
	// the form of a certs.d directory; "" for plain HTTP.
	CertDir        string
	User, Password string // htpasswd credentials, or ""
	dir            string
	cmd            *exec.Cmd
}

type registryOptions struct {
	TLS  bool
	Auth bool // htpasswd basic auth (user "tester")
}

// startRegistry starts a registry for the test and stops it at cleanup.
func startRegistry(t *testing.T, o registryOptions) *registry {
	t.Helper()
	if _, err := os.Stat(registryBin); err != nil {
		t.Skipf("no %s: install docker-registry (make deps)", registryBin)
	}
	r := &registry{dir: t.TempDir()}
	if o.TLS {
		r.CertDir = filepath.Join(r.dir, "certs")
		makeCerts(t, r.CertDir)
	}
	if o.Auth {
		r.User, r.Password = "tester", "s3cret-"+fmt.Sprint(time.Now().UnixNano())
		makeHtpasswd(t, filepath.Join(r.dir, "htpasswd"), r.User, r.Password)
	}
	var err error
	for range 5 { // a port picked free may be taken before the registry binds it
		if err = r.start(t, o); err == nil {
			t.Cleanup(r.Stop)
			return r
		}
	}
	t.Fatalf("start registry: %v", err)
	return nil
}

func (r *registry) start(t *testing.T, o registryOptions) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	r.Host = fmt.Sprintf("127.0.0.1:%d", port)
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"+
		"storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n"+
		"http:\n  addr: %s\n  secret: ccrun-test\n", filepath.Join(r.dir, "data"), r.Host)
	if o.TLS {
		cfg += fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", filepath.Join(r.dir, "server.crt"), filepath.Join(r.dir, "server.key"))
	}
	if o.Auth {
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: ccrun-test\n    path: %s\n", filepath.Join(r.dir, "htpasswd"))
	}
	cfgPath := filepath.Join(r.dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	r.cmd = exec.Command(registryBin, "serve", cfgPath)
	r.cmd.Stdout, r.cmd.Stderr = &log, &log
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", registryBin, err)
	}
	exited := make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("registry on %s exited: %s", r.Host, log.String())
		default:
		}
		if r.ready() {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.Stop()
	return fmt.Errorf("registry on %s not ready after 10s: %s", r.Host, log.String())
}

// ready reports whether the registry answers /v2/ (401 counts: it is up).
func (r *registry) ready() bool {
	resp, err := r.client().Get(r.URL() + "/v2/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized
}

func (r *registry) URL() string {
	if r.CertDir != "" {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// client trusts the registry's CA.
func (r *registry) client() *http.Client {
	tr := &http.Transport{}
	if r.CertDir != "" {
		pool := x509.NewCertPool()
		ca, _ := os.ReadFile(filepath.Join(r.CertDir, "ca.crt"))
		pool.AppendCertsFromPEM(ca)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{Transport: tr, Timeout: 2 * time.Second}
}

// Stop kills the registry (a second run must then need no network).
func (r *registry) Stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		for i := 0; i < 200 && r.ready(); i++ {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// Ref is the registry reference of repo:tag.
func (r *registry) Ref(repo string) string { return r.Host + "/" + repo }

// push copies the image tagged tag in the OCI layout dir to repo (REPO[:TAG])
// on the registry, every platform of an index included, and returns the
// digest of what it pushed (the manifest, or the index).
func (r *registry) push(t *testing.T, dir, tag, repo string) string {
	t.Helper()
	src, err := layout.ParseReference(dir + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := docker.ParseReference("//" + r.Ref(repo))
	if err != nil {
		t.Fatal(err)
	}
	sys := &types.SystemContext{BlobInfoCacheDir: t.TempDir()}
	if r.CertDir != "" {
		sys.DockerCertPath = r.CertDir
	} else {
		sys.DockerInsecureSkipTLSVerify = types.OptionalBoolTrue
	}
	if r.User != "" {
		sys.DockerAuthConfig = &types.DockerAuthConfig{Username: r.User, Password: r.Password}
	}
	pc, err := signature.NewPolicyContext(&signature.Policy{Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()}})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Destroy()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	manifest, err := copy.Image(ctx, pc, dst, src, &copy.Options{
		SourceCtx: &types.SystemContext{}, DestinationCtx: sys, ImageListSelection: copy.CopyAllImages,
	})
	if err != nil {
		t.Fatalf("push %s to %s: %v", dir, r.Ref(repo), err)
	}
	return digest.FromBytes(manifest).String()
}

// exportArchive writes the image of an OCI layout reference (DIR:TAG) as a
// docker-archive tarball (what `docker save` makes) tagged name.
func exportArchive(src, file, name string) error {
	srcRef, err := layout.ParseReference(src)
	if err != nil {
		return err
	}
	dst, err := archive.ParseReference(file + ":" + name)
	if err != nil {
		return err
	}
	pc, err := signature.NewPolicyContext(&signature.Policy{Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()}})
	if err != nil {
		return err
	}
	defer pc.Destroy()
	_, err = copy.Image(context.Background(), pc, dst, srcRef, &copy.Options{})
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// makeCerts makes a CA and a certificate for 127.0.0.1 signed by it: the
// registry's server.crt and server.key go to the parent of certDir, the CA to
// certDir/ca.crt (the layout of a certs.d/HOST:PORT directory).
func makeCerts(t *testing.T, certDir string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ccrun test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(certDir)
	writePEM(t, filepath.Join(dir, "server.crt"), "CERTIFICATE", der)
	writePEM(t, filepath.Join(dir, "server.key"), "EC PRIVATE KEY", keyDER)
	if err := os.MkdirAll(certDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(certDir, "ca.crt"), "CERTIFICATE", caDER)
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeHtpasswd writes a bcrypt htpasswd file with apache2-utils' htpasswd.
func makeHtpasswd(t *testing.T, path, user, password string) {
	t.Helper()
	out, err := exec.Command("htpasswd", "-Bbn", user, password).Output()
	if err != nil {
		t.Skipf("htpasswd -B (apache2-utils, make deps): %v", err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// imageEnv is a private image store and home for one test, and the
// environment ccrun runs with. Cleanup empties the store with ccrun itself:
// rootless, layer files belong to subordinate ids the test cannot delete.
type imageEnv struct {
	Root, RunRoot, Home string
	Env                 []string // added to the test's environment
}

func newImageEnv(t *testing.T) *imageEnv {
	t.Helper()
	if _, err := os.Stat(ocitest.BusyboxPath); err != nil {
		t.Skipf("no %s: install busybox-static (make deps)", ocitest.BusyboxPath)
	}
	dir := t.TempDir()
	e := &imageEnv{Root: filepath.Join(dir, "root"), RunRoot: filepath.Join(dir, "run"), Home: filepath.Join(dir, "home")}
	if err := os.MkdirAll(e.Home, 0o700); err != nil {
		t.Fatal(err)
	}
	e.Env = []string{"HOME=" + e.Home}
	t.Cleanup(func() {
		if _, err := os.Stat(e.Root); err != nil {
			return
		}
		if r := e.run(t, "", "rmi", "-a", "-f"); r.Code != 0 {
			t.Errorf("empty the test store: %s", r)
		}
		if r := e.run(t, "", "image", "prune", "-a"); r.Code != 0 {
			t.Errorf("prune the test store: %s", r)
		}
		if mounts := mountsUnder(t, e.Root); mounts != "" {
			t.Errorf("mounts left under the store:\n%s", mounts)
		}
	})
	return e
}

// setenv adds or replaces a variable of ccrun's environment.
func (e *imageEnv) setenv(kv string) { e.Env = append(e.Env, kv) }

// trust makes ccrun trust a registry's CA the way a user would: a certs.d
// directory (~/.config/containers/certs.d rootless, /etc/containers/certs.d as
// root, which containers/image reads for root only).
func (e *imageEnv) trust(t *testing.T, r *registry) {
	t.Helper()
	base := filepath.Join(e.Home, ".config", "containers", "certs.d")
	if !rootless() {
		base = "/etc/containers/certs.d"
	}
	dir := filepath.Join(base, r.Host)
	_, err := os.Stat(base)
	baseExisted := err == nil
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if !rootless() {
		t.Cleanup(func() {
			os.RemoveAll(dir)
			if !baseExisted {
				os.Remove(base) // only if empty: another test may be using it
			}
		})
	}
	ca, err := os.ReadFile(filepath.Join(r.CertDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), ca, 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs ccrun on the test's store and returns what it printed.
func (e *imageEnv) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	return runExec(t, ctx, e.command(ctx, args...), stdin)
}

// command is ccrun with the store flags and the environment, not started.
func (e *imageEnv) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, ccrunBin, append([]string{"--root", e.Root, "--runroot", e.RunRoot}, args...)...)
	cmd.Env = append(withoutUserDirs(testEnv()), e.Env...)
	// A process left holding ccrun's output must not hang the test forever.
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// withoutUserDirs drops the variables that would lead ccrun to the user's own
// configuration, credentials or runtime directory instead of the test's home.
func withoutUserDirs(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "REGISTRY_AUTH_FILE", "DOCKER_CONFIG", "CONTAINERS_REGISTRIES_CONF":
		default:
			out = append(out, kv)
		}
	}
	return out
}

// ok runs ccrun and fails the test unless it exits 0; it returns stdout.
func (e *imageEnv) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := e.run(t, "", args...)
	if r.Code != 0 {
		t.Fatalf("ccrun %s:\n%s", strings.Join(args, " "), r)
	}
	return r.Stdout
}

// fails runs ccrun, expects ccrun itself to fail (125) and returns stderr.
func (e *imageEnv) fails(t *testing.T, args ...string) string {
	t.Helper()
	r := e.run(t, "", args...)
	if r.Code != 125 {
		t.Fatalf("ccrun %s: want exit 125\n%s", strings.Join(args, " "), r)
	}
	return r.Stderr
}

// layerDirs counts the layers unpacked in the store (containers' own writable
// layers included).
func (e *imageEnv) layerDirs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.Root, "overlay"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	n := 0
	for _, en := range entries {
		if len(en.Name()) == 64 {
			n++
		}
	}
	return n
}

// containers lists the containers in the store: ccrun's directories of them
// (<root>/ccrun-containers/<id>/), and the containers/storage containers that
// ccrun made before it had its own, of which there must be none.
func (e *imageEnv) containers(t *testing.T) []string {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join(e.Root, "overlay-containers", "containers.json")); err == nil {
		var cs []struct{ ID string }
		if err := json.Unmarshal(b, &cs); err != nil || len(cs) != 0 {
			t.Errorf("containers/storage holds containers: %s (%v)", b, err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(e.Root, "ccrun-containers"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var ids []string
	for _, en := range entries {
		if len(en.Name()) == 64 {
			ids = append(ids, en.Name())
		}
	}
	return ids
}

// images is `ccrun images --format json`.
func (e *imageEnv) images(t *testing.T) []imageInfo {
	t.Helper()
	var imgs []imageInfo
	if err := json.Unmarshal([]byte(e.ok(t, "images", "--format", "json")), &imgs); err != nil {
		t.Fatal(err)
	}
	return imgs
}

type imageInfo struct {
	ID      string   `json:"id"`
	Names   []string `json:"names"`
	Digests []string `json:"digests"`
	Size    int64    `json:"size"`
}

// mountsUnder returns the lines of our mount table that mention dir.
func mountsUnder(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(hostMounts(t), "\n") {
		if strings.Contains(l, dir) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// busyboxImage is a one-layer busybox image, with extra files in a layer of
// their own when given.
func busyboxImage(t *testing.T, cfg ocitest.Config, extra ...[]ocitest.File) ocitest.Image {
	t.Helper()
	files, err := ocitest.Busybox()
	if err != nil {
		t.Skip(err)
	}
	if cfg.Cmd == nil && cfg.Entrypoint == nil {
		cfg.Cmd = []string{"sh"}
	}
	if cfg.Env == nil {
		cfg.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	im := ocitest.Image{Layers: []ocitest.Layer{{Files: files}}, Config: cfg}
	for _, fs := range extra {
		im.Layers = append(im.Layers, ocitest.Layer{Files: fs})
	}
	return im
}

// writeImage writes im as an OCI layout tagged latest in a fresh directory.
func writeImage(t *testing.T, im ocitest.Image) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "image")
	if err := ocitest.Write(dir, "latest", im); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fakeRegistry is a registry written for faults: it serves images from OCI
// layouts over plain HTTP (the distribution API's GET /v2/NAME/manifests/REF and
// /v2/NAME/blobs/DIGEST), and misbehaves per repository as a test says.
type fakeRegistry struct {
	Host string
	srv  *httptest.Server
	mu   sync.Mutex
	// repos maps a repository to the layout that holds its images.
	repos map[string]string
	// faults, when set for a repository, answer first; a fault returns false
	// to let the request be served normally.
	faults map[string]fault
}

// fault misbehaves on some requests; it returns whether it answered.
type fault func(w http.ResponseWriter, r *http.Request) bool

func startFakeRegistry(t *testing.T) *fakeRegistry {
	t.Helper()
	f := &fakeRegistry{repos: map[string]string{}, faults: map[string]fault{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	f.Host = strings.TrimPrefix(f.srv.URL, "http://")
	return f
}

// add serves the layout at dir as repository repo.
func (f *fakeRegistry) add(repo, dir string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.repos[repo] = dir
}

// fault makes repo answer with h first, or normally again when h is nil.
func (f *fakeRegistry) fault(repo string, h fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if h == nil {
		delete(f.faults, repo)
	} else {
		f.faults[repo] = h
	}
}

var apiPath = regexp.MustCompile(`^/v2/(.+)/(manifests|blobs)/([^/]+)$`)

func (f *fakeRegistry) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v2/" {
		w.WriteHeader(http.StatusOK)
		return
	}
	m := apiPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	dir, h := f.repos[m[1]], f.faults[m[1]]
	f.mu.Unlock()
	if h != nil && h(w, r) {
		return
	}
	if dir == "" {
		http.Error(w, `{"errors":[{"code":"NAME_UNKNOWN"}]}`, http.StatusNotFound)
		return
	}
	desc, err := resolveInLayout(dir, m[2], m[3])
	if err != nil {
		http.Error(w, `{"errors":[{"code":"MANIFEST_UNKNOWN"}]}`, http.StatusNotFound)
		return
	}
	serveBlob(w, r, dir, desc)
}

// resolveInLayout finds a tag (manifests) or a digest (either) in a layout.
func resolveInLayout(dir, kind, ref string) (ocitest.Descriptor, error) {
	var idx struct{ Manifests []ocitest.Descriptor }
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err == nil {
		err = json.Unmarshal(b, &idx)
	}
	if err != nil {
		return ocitest.Descriptor{}, err
	}
	for _, d := range idx.Manifests {
		if d.Annotations["org.opencontainers.image.ref.name"] == ref || d.Digest == ref {
			return d, nil
		}
	}
	if strings.HasPrefix(ref, "sha256:") {
		fi, err := os.Stat(filepath.Join(dir, "blobs", "sha256", ref[len("sha256:"):]))
		if err != nil {
			return ocitest.Descriptor{}, err
		}
		mt := ""
		if kind == "manifests" {
			mt = ocitest.MediaManifest
		}
		return ocitest.Descriptor{Digest: ref, Size: fi.Size(), MediaType: mt}, nil
	}
	return ocitest.Descriptor{}, os.ErrNotExist
}

func serveBlob(w http.ResponseWriter, r *http.Request, dir string, d ocitest.Descriptor) {
	data, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", d.Digest[len("sha256:"):]))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if d.MediaType != "" {
		w.Header().Set("Content-Type", d.MediaType)
	}
	w.Header().Set("Docker-Content-Digest", d.Digest)
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

// manifestOf reads the manifest tagged tag in a layout.
func manifestOf(t *testing.T, dir, tag string) (ocitest.Descriptor, struct {
	Config ocitest.Descriptor
	Layers []ocitest.Descriptor
}) {
	t.Helper()
	d, err := resolveInLayout(dir, "manifests", tag)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Config ocitest.Descriptor
		Layers []ocitest.Descriptor
	}
	b, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", d.Digest[len("sha256:"):]))
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		t.Fatal(err)
	}
	return d, m
}
