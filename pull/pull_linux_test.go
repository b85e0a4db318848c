package pull

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ccrun/ccrun/pull/ocitest"
	"github.com/ccrun/ccrun/pull/ref"
	"github.com/ccrun/ccrun/pull/store"
	"github.com/ccrun/ccrun/pull/store/full"
	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker/archive"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage/pkg/reexec"
)

func TestMain(m *testing.M) {
	// containers/storage unpacks layers in a chrooted child: this test binary,
	// re-executed as storage-untar.
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}

// requireRoot skips tests that drive containers/storage's overlay driver, which
// needs root; as a user, ccrun runs it inside its user namespace, which the
// integration suite covers.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the overlay layer store needs root here; the integration suite covers rootless pulls")
	}
}

func newStore(t *testing.T) *full.Store {
	t.Helper()
	dir := t.TempDir()
	st, err := full.Open(store.Paths{GraphRoot: filepath.Join(dir, "graph"), RunRoot: filepath.Join(dir, "run")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return st
}

// layout writes an image of the given layers to a fresh OCI layout and returns
// its reference (oci:DIR:latest).
func ociImage(t *testing.T, layers ...[]ocitest.File) (ref.Ref, *ocitest.Layout, ocitest.Descriptor) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "img")
	l, err := ocitest.NewLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	var im ocitest.Image
	for _, fs := range layers {
		im.Layers = append(im.Layers, ocitest.Layer{Files: fs})
	}
	im.Config.Cmd = []string{"/bin/true"}
	m, err := l.Image(im)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Tag("latest", m); err != nil {
		t.Fatal(err)
	}
	r, err := ref.Parse("oci:" + dir + ":latest")
	if err != nil {
		t.Fatal(err)
	}
	return r, l, m
}

var base = []ocitest.File{ocitest.Dir("etc"), ocitest.Reg("etc/hostname", "base\n"), ocitest.Dir("bin"), ocitest.Reg("bin/tool", "v1")}

// layerDirs counts the layers unpacked in the store.
func layerDirs(t *testing.T, st *full.Store) int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(st.Paths().GraphRoot, "overlay"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if len(e.Name()) == 64 {
			n++
		}
	}
	return n
}

func mountsOf(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), dir)
}

func TestPullLocal(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	st := newStore(t)
	ref, _, m := ociImage(t, base, []ocitest.File{ocitest.Reg("bin/tool", "v2")})
	id, err := Image(ctx, st, ref, Options{})
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := st.Images()
	if err != nil || len(imgs) != 1 || imgs[0].ID != id || imgs[0].Names[0] != "localhost/img:latest" || imgs[0].Size <= 0 {
		t.Fatalf("Images() = %+v, %v; want one image %s named localhost/img:latest", imgs, err, id)
	}
	for _, name := range []string{"localhost/img:latest", id[:12], "localhost/img@" + m.Digest} {
		if img, err := st.Lookup(name); err != nil || img.ID != id {
			t.Errorf("Lookup(%s) = %v, %v; want %s", name, img, err, id)
		}
	}
	if _, err := st.Lookup("localhost/other:latest"); !errors.Is(err, store.ErrUnknownImage) {
		t.Errorf("Lookup of a missing image: %v, want ErrUnknownImage", err)
	}
	cfg, err := st.ImageConfig(id)
	if err != nil || len(cfg.Config.Cmd) != 1 || cfg.Config.Cmd[0] != "/bin/true" {
		t.Errorf("ImageConfig = %+v, %v", cfg, err)
	}
	if id2, ok, err := Stored(ctx, st, ref); err != nil || !ok || id2 != id {
		t.Errorf("Stored = %s %v %v, want the pulled image", id2, ok, err)
	}
	if n := layerDirs(t, st); n != 2 {
		t.Errorf("%d layer directories, want 2", n)
	}
	if n := mountsOf(t, st.Paths().GraphRoot); n != 0 {
		t.Errorf("the store left %d mounts", n)
	}
}

// An image sharing its base with another is stored with one copy of the base.
func TestLayersStoredOnce(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	st := newStore(t)
	one, _, _ := ociImage(t, base)
	two, _, _ := ociImage(t, base, []ocitest.File{ocitest.Reg("two", "2")})
	two.Name = "localhost/two:latest"
	for _, r := range []ref.Ref{one, two, one} {
		if _, err := Image(ctx, st, r, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := layerDirs(t, st); n != 2 {
		t.Errorf("%d layer directories for 2 distinct layers", n)
	}
	if imgs, _ := st.Images(); len(imgs) != 2 {
		t.Errorf("%d images, want 2", len(imgs))
	}
}

// A blob that does not match its digest fails the pull, which names the image
// and leaves no image and no layer behind, even the good layer before it.
func TestPullBadDigestLeavesNothing(t *testing.T) {
	requireRoot(t)
	st := newStore(t)
	ref, l, m := ociImage(t, base, []ocitest.File{ocitest.Reg("bin/tool", "v2")})
	var man struct{ Layers []ocitest.Descriptor }
	readJSON(t, l.BlobPath(m), &man)
	bad := l.BlobPath(man.Layers[1])
	data, err := os.ReadFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Image(context.Background(), st, ref, Options{})
	if err == nil || !strings.Contains(err.Error(), ref.String()) {
		t.Fatalf("pull of a corrupt image: %v, want an error naming %s", err, ref)
	}
	if imgs, _ := st.Images(); len(imgs) != 0 {
		t.Errorf("images after a failed pull: %+v", imgs)
	}
	if n := layerDirs(t, st); n != 0 {
		t.Errorf("%d layer directories left after a failed pull", n)
	}
	// The next pull of a good image works.
	good, _, _ := ociImage(t, base)
	if _, err := Image(context.Background(), st, good, Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestContainers(t *testing.T) {
	requireRoot(t)
	st := newStore(t)
	ref, _, _ := ociImage(t, base, []ocitest.File{ocitest.Reg("bin/tool", "v2")})
	id, err := Image(context.Background(), st, ref, Options{})
	if err != nil {
		t.Fatal(err)
	}
	img, err := st.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateContainer(strings.Repeat("c", 64), id, "img", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Layers) != 2 {
		t.Fatalf("container sees %d layers, want 2", len(c.Layers))
	}
	if b, err := os.ReadFile(filepath.Join(c.Layers[0].Dir, "bin/tool")); err != nil || string(b) != "v2" {
		t.Errorf("top layer first: bin/tool = %q, %v", b, err)
	}
	for _, l := range c.Layers {
		if l.Short == "" {
			t.Errorf("layer %s has no short link", l.Dir)
		} else if got, err := filepath.EvalSymlinks(filepath.Join(c.Home, l.Short)); err != nil || got != l.Dir {
			t.Errorf("short link %s -> %s, %v; want %s", l.Short, got, err, l.Dir)
		}
	}
	for _, d := range []string{c.Upper, c.Work, c.Target} {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			t.Errorf("container directory %s: %v", d, err)
		}
	}

	// While the container exists its image stays, even forced while it runs.
	if _, err := st.Remove(img, "", false); !errors.Is(err, store.ErrImageInUse) {
		t.Errorf("Remove of an image in use: %v, want ErrImageInUse", err)
	}
	if _, err := st.Remove(img, "", true); err == nil {
		t.Error("Remove -f of the image of a running container succeeded")
	}
	if err := st.CleanDead(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Upper); err != nil {
		t.Fatalf("CleanDead removed a running container: %v", err)
	}

	// A supervisor killed with --rm leaves its record unlocked: the next
	// CleanDead deletes it.
	if err := st.Release(c, false); err != nil {
		t.Fatal(err)
	}
	if err := st.CleanDead(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Upper); !os.IsNotExist(err) {
		t.Errorf("dead --rm container still there: %v", err)
	}
	if _, err := st.Remove(img, "", false); err != nil {
		t.Errorf("Remove after the container is gone: %v", err)
	}
	if n := layerDirs(t, st); n != 0 {
		t.Errorf("%d layer directories left after removing the only image", n)
	}
}

func TestRemoveStoppedContainerWithForce(t *testing.T) {
	requireRoot(t)
	st := newStore(t)
	ref, _, _ := ociImage(t, base)
	id, err := Image(context.Background(), st, ref, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateContainer(strings.Repeat("d", 64), id, "img", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Release(c, false); err != nil {
		t.Fatal(err)
	}
	if err := st.CleanDead(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Upper); err != nil {
		t.Fatalf("CleanDead removed a container run without --rm: %v", err)
	}
	img, _ := st.Lookup(id)
	if _, err := st.Remove(img, "", false); !errors.Is(err, store.ErrImageInUse) {
		t.Errorf("Remove: %v, want ErrImageInUse", err)
	}
	r, err := st.Remove(img, "", true)
	if err != nil || r.Deleted != id {
		t.Errorf("Remove -f = %+v, %v", r, err)
	}
	if _, err := os.Stat(c.Upper); !os.IsNotExist(err) {
		t.Errorf("the stopped container survived rmi -f: %v", err)
	}
}

func TestRemoveNameAndPrune(t *testing.T) {
	requireRoot(t)
	st := newStore(t)
	ctx := context.Background()
	one, _, _ := ociImage(t, base)
	id, err := Image(ctx, st, one, Options{})
	if err != nil {
		t.Fatal(err)
	}
	two := one
	two.Name = "localhost/alias:v1"
	if _, err := Image(ctx, st, two, Options{}); err != nil {
		t.Fatal(err)
	}
	img, _ := st.Lookup(id)
	if len(img.Names) != 2 {
		t.Fatalf("names = %q, want 2", img.Names)
	}
	if _, err := st.Remove(img, "", false); err == nil {
		t.Error("Remove by id of an image with two names succeeded without -f")
	}
	r, err := st.Remove(img, "localhost/alias:v1", false)
	if err != nil || r.Deleted != "" || len(r.Untagged) != 1 {
		t.Errorf("Remove of one name = %+v, %v; want it untagged only", r, err)
	}
	if deleted, err := st.Prune(false); err != nil || len(deleted) != 0 {
		t.Errorf("Prune of a named image: %q, %v", deleted, err)
	}
	if deleted, err := st.Prune(true); err != nil || len(deleted) != 1 {
		t.Errorf("Prune -a: %q, %v", deleted, err)
	}
	if n := layerDirs(t, st); n != 0 {
		t.Errorf("%d layer directories after prune -a", n)
	}
}

// ccrun decides whether a stored oci: image is current from index.json alone
// (ref.LayoutDigest); it must name the digest containers/image would read.
func TestLayoutDigestIsContainersImages(t *testing.T) {
	r, l, m := ociImage(t, base)
	if _, err := l.Tag("v2", m); err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"latest", "v2"} {
		r.Tag = tag
		want, err := manifestDigest(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := ref.LayoutDigest(r); !ok || got != want {
			t.Errorf("tag %s: LayoutDigest = %q, %v; containers/image reads %q", tag, got, ok, want)
		}
	}
}

// ccrun decides whether a stored docker-archive: image is current from the
// archive's manifest.json alone (ref.ArchiveImageID); it must be the id the
// store gives the image when it is pulled from that archive.
func TestArchiveImageIDIsTheStoredID(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	st := newStore(t)
	oci, _, _ := ociImage(t, base, []ocitest.File{ocitest.Reg("bin/tool", "archived")})
	file := filepath.Join(t.TempDir(), "tool.tar")
	src, err := source(oci)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := archive.ParseReference(file + ":example.com/tool:1.0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := policyContext(&types.SystemContext{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Destroy()
	if _, err := copy.Image(ctx, pc, dst, src, &copy.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{"docker-archive:" + file, "docker-archive:" + file + ":example.com/tool:1.0"} {
		r, err := ref.Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		id, err := Image(ctx, st, r, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := ref.ArchiveImageID(r); !ok || got != id {
			t.Errorf("%s: ArchiveImageID = %q, %v; the store's id is %s", spec, got, ok, id)
		}
	}
}

// ccrun's own reader of the store (package store: a run, in the unprivileged
// host process) reads a pulled image of three layers as containers/storage
// does: the same image by every name, the same config, and the layer
// directories the overlay driver reports, in its order.
func TestStoreReaderReadsThePull(t *testing.T) {
	requireRoot(t)
	st := newStore(t)
	r, _, m := ociImage(t, base, []ocitest.File{ocitest.Reg("bin/tool", "v2")}, []ocitest.File{ocitest.Reg("etc/hostname", "top\n")})
	id, err := Image(context.Background(), st, r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ro, err := store.Open(st.Paths())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost/img:latest", id, id[:12], "localhost/img@" + m.Digest} {
		want, werr := st.Lookup(name)
		got, err := ro.Lookup(name)
		if werr != nil || err != nil || got.ID != id || !slices.Equal(got.Names, want.Names) || !slices.Equal(got.Digests, want.Digests) || !got.Created.Equal(want.Created) {
			t.Errorf("Lookup(%s): read-only %+v, %v; full %+v, %v", name, got, err, want, werr)
		}
	}
	// And as containers/storage itself finds it.
	for _, name := range []string{"localhost/img:latest", id, id[:12]} {
		want, werr := st.Storage().Image(name)
		got, err := ro.Lookup(name)
		if werr != nil || err != nil || got.ID != want.ID || !slices.Equal(got.Names, want.Names) || got.TopLayer != want.TopLayer {
			t.Errorf("Lookup(%s): read-only %+v, %v; containers/storage %+v, %v", name, got, err, want, werr)
		}
	}
	if imgs, err := st.Storage().ImagesByDigest(digest.Digest(m.Digest)); err != nil || len(imgs) != 1 || imgs[0].ID != id {
		t.Errorf("containers/storage finds %+v, %v by the manifest's digest; want %s", imgs, err, id)
	}
	want, werr := st.ImageConfig(id)
	got, err := ro.ImageConfig(id)
	if werr != nil || err != nil || !reflect.DeepEqual(got, want) || !slices.Equal(got.Config.Cmd, []string{"/bin/true"}) {
		t.Errorf("ImageConfig: read-only %+v, %v; full %+v, %v", got, err, want, werr)
	}

	img, err := ro.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	drv, err := st.Storage().GraphDriver()
	if err != nil {
		t.Fatal(err)
	}
	md, err := drv.Metadata(img.TopLayer)
	if err != nil {
		t.Fatal(err)
	}
	wantDirs := append([]string{md["UpperDir"]}, strings.Split(md["LowerDir"], ":")...)
	c, err := ro.CreateContainer(strings.Repeat("e", 64), id, "img", true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Release(true); err != nil {
			t.Error(err)
		}
	})
	var dirs []string
	for _, l := range c.Layers {
		dirs = append(dirs, l.Dir)
	}
	if len(wantDirs) != 3 || !slices.Equal(dirs, wantDirs) {
		t.Errorf("layers %q; the driver reports %q", dirs, wantDirs)
	}
	for i, f := range []struct{ path, content string }{{"etc/hostname", "top\n"}, {"bin/tool", "v2"}, {"bin/tool", "v1"}} {
		if b, err := os.ReadFile(filepath.Join(c.Layers[i].Dir, f.path)); err != nil || string(b) != f.content {
			t.Errorf("layer %d: %s = %q, %v; want %q", i, f.path, b, err, f.content)
		}
	}
}
