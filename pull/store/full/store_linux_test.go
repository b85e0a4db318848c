package full

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.podman.io/storage"
	"go.podman.io/storage/pkg/reexec"

	"github.com/ccrun/ccrun/pull/store"
)

func TestMain(m *testing.M) {
	// containers/storage re-executes the test binary for some layer work.
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}

func hexID(c byte) string { return strings.Repeat(string(c), 64) }

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Lstat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// newTestStore opens a store with one image of one empty layer. The overlay
// driver needs root here; rootless, ccrun drives it inside its user
// namespace, which the integration suite covers.
func newTestStore(t *testing.T) (*Store, *store.Image) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the overlay layer store needs root here; the integration suite covers rootless")
	}
	dir := t.TempDir()
	st, err := Open(store.Paths{GraphRoot: filepath.Join(dir, "graph"), RunRoot: filepath.Join(dir, "run")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	layer, err := st.s.CreateLayer("", "", nil, "", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.s.CreateImage("", []string{"localhost/test:1"}, layer.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	img, err := st.Lookup("localhost/test:1")
	if err != nil {
		t.Fatal(err)
	}
	return st, img
}

// A container is a directory of ccrun's, reached from the driver's directory
// through its link, and nothing in containers/storage.
func TestCreateContainer(t *testing.T) {
	st, img := newTestStore(t)
	id := hexID('c')
	c, err := st.CreateContainer(id, img.ID, "localhost/test:1", true)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(st.Paths().GraphRoot, "ccrun-containers", id, "upper")
	if got, err := filepath.EvalSymlinks(c.Upper); err != nil || got != want {
		t.Errorf("upper %s resolves to %s, %v; want %s", c.Upper, got, err, want)
	}
	if rel, err := filepath.Rel(c.Home, c.Work); err != nil || filepath.IsAbs(rel) || rel[0] == '.' {
		t.Errorf("work %s is not below the driver's directory %s", c.Work, c.Home)
	}
	if len(c.Layers) != 1 || c.Layers[0].Short == "" {
		t.Errorf("layers = %+v, want the image's one, with its short link", c.Layers)
	}
	if cs, err := st.s.Containers(); err != nil || len(cs) != 0 {
		t.Errorf("containers/storage holds %d containers, %v; want none", len(cs), err)
	}
	if err := c.Release(true); err != nil {
		t.Fatal(err)
	}
	if exists(t, filepath.Dir(want)) {
		t.Error("Release(true) left the container's directory")
	}
}

// A run that found the image before an rmi removed it cannot make a container
// of it.
func TestCreateContainerOfRemovedImage(t *testing.T) {
	st, img := newTestStore(t)
	if _, err := st.Remove(img, "", false); err != nil {
		t.Fatal(err)
	}
	if c, err := st.CreateContainer(hexID('c'), img.ID, "x", true); !errors.Is(err, store.ErrUnknownImage) {
		t.Fatalf("CreateContainer of a removed image: %+v, %v; want ErrUnknownImage", c, err)
	}
	if exists(t, filepath.Join(st.Paths().GraphRoot, "ccrun-containers", hexID('c'))) {
		t.Error("a directory was left for the refused container")
	}
}

// rmi refuses an image a stopped container uses; -f removes the container
// first, but never a running one; image prune leaves the image alone.
func TestRemoveImageInUse(t *testing.T) {
	st, img := newTestStore(t)
	running, err := st.CreateContainer(hexID('1'), img.ID, "x", false)
	if err != nil {
		t.Fatal(err)
	}
	stopped, err := st.CreateContainer(hexID('2'), img.ID, "x", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := stopped.Release(false); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Remove(img, "", false); !errors.Is(err, store.ErrImageInUse) {
		t.Errorf("rmi: %v, want store.ErrImageInUse", err)
	}
	if _, err := st.Remove(img, "", true); !errors.Is(err, store.ErrRunning) {
		t.Errorf("rmi -f with a running container: %v, want it refused", err)
	}
	if deleted, err := st.Prune(true); err != nil || len(deleted) != 0 {
		t.Errorf("prune -a deleted %v, %v; want nothing", deleted, err)
	}
	if err := running.Release(false); err != nil {
		t.Fatal(err)
	}
	if r, err := st.Remove(img, "", true); err != nil || r.Deleted != img.ID {
		t.Errorf("rmi -f of stopped containers: %+v, %v", r, err)
	}
	if es, err := os.ReadDir(filepath.Join(st.Paths().GraphRoot, "ccrun-containers")); err != nil || len(es) != 0 {
		t.Errorf("containers left: %v, %v", es, err)
	}
}

// Containers made by an earlier ccrun as containers/storage containers still
// hold their image, and are cleaned like ours.
func TestLegacyContainers(t *testing.T) {
	st, img := newTestStore(t)
	dead, err := st.s.CreateContainer("", nil, img.ID, "", `{"rm":true,"image":"x"}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	live, err := st.s.CreateContainer("", nil, img.ID, "", `{"rm":true}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := st.s.CreateContainer("", nil, img.ID, "", `{}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	lock, err := store.OpenLock(st.legacyLockPath(live.ID))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := store.TryLock(lock); !ok || err != nil {
		t.Fatal("lock the live container:", err)
	}
	if err := st.CleanDead(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.s.Container(dead.ID); !errors.Is(err, storage.ErrContainerUnknown) {
		t.Errorf("the dead legacy --rm container: %v, want it deleted", err)
	}
	for _, c := range []*storage.Container{live, kept} {
		if _, err := st.s.Container(c.ID); err != nil {
			t.Errorf("a running or stopped legacy container: %v, want it kept", err)
		}
	}
	if _, err := st.Remove(img, "", true); !errors.Is(err, store.ErrRunning) {
		t.Errorf("rmi -f with a running legacy container: %v, want it refused", err)
	}
	if err := lock.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Remove(img, "", false); !errors.Is(err, store.ErrImageInUse) {
		t.Errorf("rmi with a stopped legacy container: %v, want store.ErrImageInUse", err)
	}
	if _, err := st.s.Container(live.ID); err == nil {
		t.Error("rmi left the legacy --rm container whose run has died")
	}
	if r, err := st.Remove(img, "", true); err != nil || r.Deleted != img.ID {
		t.Errorf("rmi -f: %+v, %v", r, err)
	}
	if cs, err := st.s.Containers(); err != nil || len(cs) != 0 {
		t.Errorf("legacy containers left: %d, %v", len(cs), err)
	}
}
