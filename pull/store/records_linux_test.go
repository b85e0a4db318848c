package store

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/storage"
	"go.podman.io/storage/types"
)

// These tests build stores through containers/storage and check that ccrun's
// own reader of its records (records.go) reads them as the library does. They
// need root, as newTestStore does.

// fixture is a store made through containers/storage, closed: image a stands
// on four layers, b on two (sharing a's base), c on the base alone. a and b
// share the id prefix "abc"; b is also named "abc1" (a prefix of a's id), c by
// a's id.
type fixture struct {
	paths    Paths
	a, b, c  string
	aTop     string
	aDigest  string // of a's manifest
	bDigest  string // b's own digest (ImageOptions.Digest)
	aConfig  []byte
	oddKeys  []string // a's big data items beside its config and manifest
	baseName string   // the base layer's id
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the overlay layer store needs root here; the integration suite covers rootless")
	}
	dir := t.TempDir()
	f := fixture{
		paths:   Paths{GraphRoot: filepath.Join(dir, "graph"), RunRoot: filepath.Join(dir, "run")},
		a:       "abc1" + strings.Repeat("a", 60),
		b:       "abc2" + strings.Repeat("b", 60),
		c:       strings.Repeat("c", 64),
		aConfig: []byte(`{"os":"linux","architecture":"amd64","config":{"User":"1:2","Env":["A=1"],"Cmd":["/bin/true"],"WorkingDir":"/w"}}`),
		oddKeys: []string{"plain.key1", "UPPER", "a/b", "é", "café", "ab:", "sha256:", "manifest"},
	}
	lib := library(t, f.paths)
	// Free, not Shutdown: it also drops the store from the library's cache of
	// open stores, so openBoth loads it afresh from disk.
	defer lib.Free()
	layer := func(parent string) string {
		l, err := lib.CreateLayer("", parent, nil, "", false, nil)
		if err != nil {
			t.Fatal(err)
		}
		return l.ID
	}
	f.baseName = layer("")
	f.aTop = layer(layer(layer(f.baseName)))
	bTop := layer(f.baseName)
	manifest := []byte(`{"schemaVersion":2}`)
	f.aDigest = digest.FromBytes(manifest).String()
	f.bDigest = digest.FromString("b").String()
	created := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, img := range []struct {
		id    string
		names []string
		top   string
		opts  storage.ImageOptions
	}{
		{f.a, []string{"localhost/a:1", "localhost/a:2"}, f.aTop, storage.ImageOptions{CreationDate: created}},
		{f.b, []string{"localhost/b:1", "abc1"}, bTop, storage.ImageOptions{Digest: digest.Digest(f.bDigest)}},
		{f.c, []string{f.a, "localhost/c:1"}, f.baseName, storage.ImageOptions{}},
	} {
		if _, err := lib.CreateImage(img.id, img.names, img.top, "", &img.opts); err != nil {
			t.Fatal(err)
		}
	}
	byDigest := func(b []byte) (digest.Digest, error) { return digest.FromBytes(b), nil }
	items := map[string][]byte{"sha256:" + f.a: f.aConfig, "manifest-" + f.aDigest: manifest}
	for _, k := range f.oddKeys {
		items[k] = []byte("item " + k)
	}
	for k, v := range items {
		if err := lib.SetImageBigData(f.a, k, v, byDigest); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// library opens the store at p with containers/storage, as package full does
// (which this package's tests cannot import: it imports this package).
func library(t *testing.T, p Paths) storage.Store {
	t.Helper()
	lib, err := storage.GetStore(types.StoreOptions{
		GraphRoot: p.GraphRoot, RunRoot: p.RunRoot, GraphDriverName: "overlay",
		GraphDriverOptions: []string{"overlay.skip_mount_home=true"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return lib
}

// openBoth opens the fixture's store with containers/storage (loading it
// afresh from disk, as another process would) and with ccrun's own reader.
func openBoth(t *testing.T, p Paths) (lib storage.Store, st *Store) {
	t.Helper()
	lib = library(t, p)
	t.Cleanup(func() { lib.Free() })
	st, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	return lib, st
}

// sameImage compares what Lookup found with what the library's Store.Image did.
func sameImage(got *Image, want *storage.Image) bool {
	var digests []string
	for _, d := range want.Digests {
		digests = append(digests, d.String())
	}
	return got.ID == want.ID && slices.Equal(got.Names, want.Names) && got.TopLayer == want.TopLayer &&
		got.Created.Equal(want.Created) && slices.Equal(slices.Sorted(slices.Values(got.Digests)), slices.Sorted(slices.Values(digests)))
}

// Lookup means what the library's Store.Image means: by id, by name, by a
// unique id prefix; nothing for an ambiguous prefix or an unknown name.
func TestLookupAgreesWithContainersStorage(t *testing.T) {
	f := newFixture(t)
	lib, ro := openBoth(t, f.paths)
	names := []string{
		"localhost/a:1", "localhost/a:2", "localhost/b:1", "localhost/c:1",
		f.a, f.b, f.c, // a's id is also c's name: the id wins
		"abc1",           // b's name, and a prefix of a's id: the name wins
		"abc2", f.a[:20], // unique prefixes
		"abc", "ab", // ambiguous prefixes
		"c", "localhost/none:1", "ABC1", "localhost/a", "",
	}
	for _, name := range names {
		want, werr := lib.Image(name)
		if werr != nil && !errors.Is(werr, storage.ErrImageUnknown) {
			t.Fatal(werr)
		}
		got, err := ro.Lookup(name)
		switch {
		case werr != nil && !errors.Is(err, ErrUnknownImage):
			t.Errorf("Lookup(%q) = %+v, %v; containers/storage knows no such image", name, got, err)
		case werr == nil && (err != nil || !sameImage(got, want)):
			t.Errorf("Lookup(%q) = %+v, %v; containers/storage finds %+v", name, got, err, want)
		}
	}
	for name, want := range map[string]string{
		"localhost/a@" + f.aDigest: f.a, // a manifest's digest
		"localhost/b@" + f.bDigest: f.b, // the image's own digest
		"localhost/b@" + f.aDigest: "",  // a's digest, b's repository
		"localhost/a@" + f.bDigest: "",
	} {
		if want != "" {
			imgs, err := lib.ImagesByDigest(digest.Digest(strings.SplitN(name, "@", 2)[1]))
			if err != nil || !slices.ContainsFunc(imgs, func(i *storage.Image) bool { return i.ID == want }) {
				t.Fatalf("containers/storage does not find %.8s by the digest of %s: %v", want, name, err)
			}
		}
		got, err := ro.Lookup(name)
		if want == "" && !errors.Is(err, ErrUnknownImage) || want != "" && (err != nil || got.ID != want) {
			t.Errorf("Lookup(%s) = %+v, %v; want %.8q", name, got, err, want)
		}
	}
	want, err := lib.Images()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ro.Images()
	if err != nil || len(got) != len(want) {
		t.Fatalf("images() = %d images, %v; containers/storage lists %d", len(got), err, len(want))
	}
	for i := range want {
		j := slices.IndexFunc(got, func(im Image) bool { return im.ID == want[i].ID })
		if j < 0 || !sameImage(&got[j], &want[i]) {
			t.Errorf("images() has %+v for %+v", got[j], want[i])
		}
	}
}

// Big data is read from the file the library wrote it to, whatever its key;
// the config is the library's, byte for byte.
func TestImageConfigAgreesWithContainersStorage(t *testing.T) {
	f := newFixture(t)
	lib, ro := openBoth(t, f.paths)
	for _, k := range append([]string{"sha256:" + f.a, "manifest-" + f.aDigest}, f.oddKeys...) {
		want, err := lib.ImageBigData(f.a, k)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := readBigData(f.paths.GraphRoot, f.a, k); err != nil || string(got) != string(want) {
			t.Errorf("big data %q = %q, %v; containers/storage reads %q", k, got, err, want)
		}
	}
	var want Config
	if err := json.Unmarshal(f.aConfig, &want); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{f.a, "localhost/a:2", f.a[:8]} {
		raw, err := ro.imageConfig(name)
		if err != nil || string(raw) != string(f.aConfig) {
			t.Errorf("config of %s = %q, %v; want %q", name, raw, err, f.aConfig)
		}
		got, err := ro.ImageConfig(name)
		if err != nil || got.Config.User != "1:2" || got.Config.WorkingDir != "/w" || !slices.Equal(got.Config.Cmd, want.Config.Cmd) || !slices.Equal(got.Config.Env, want.Config.Env) {
			t.Errorf("ImageConfig(%s) = %+v, %v; want %+v", name, got, err, want)
		}
	}
	if _, err := lib.ImageBigData(f.b, "sha256:"+f.b); err == nil {
		t.Fatal("containers/storage has a config for b")
	}
	if got, err := ro.ImageConfig(f.b); err == nil {
		t.Errorf("ImageConfig of an image without one = %+v", got)
	}
	if _, err := ro.ImageConfig("localhost/none:1"); !errors.Is(err, ErrUnknownImage) {
		t.Errorf("ImageConfig of an unknown image: %v, want ErrUnknownImage", err)
	}
}

// driverDirs are the layer directories the overlay driver reports for layer id.
func driverDirs(t *testing.T, lib storage.Store, id string) ([]string, error) {
	t.Helper()
	drv, err := lib.GraphDriver()
	if err != nil {
		t.Fatal(err)
	}
	md, err := drv.Metadata(id)
	if err != nil {
		return nil, err
	}
	dirs := []string{md["UpperDir"]}
	if md["LowerDir"] != "" {
		dirs = append(dirs, strings.Split(md["LowerDir"], ":")...)
	}
	return dirs, nil
}

// A container stands on the directories the driver reports for its image's top
// layer, in its order, whichever way the store was opened.
func TestContainerLayersAgreeWithDriver(t *testing.T) {
	f := newFixture(t)
	lib, ro := openBoth(t, f.paths)
	for i, img := range []struct {
		name   string
		layers int
	}{{"localhost/a:1", 4}, {"localhost/b:1", 2}, {"localhost/c:1", 1}} {
		want, err := driverDirs(t, lib, mustLookup(t, ro, img.name).TopLayer)
		if err != nil || len(want) != img.layers {
			t.Fatalf("the driver reports %q, %v for %s; the fixture has %d layers", want, err, img.name, img.layers)
		}
		{
			c, err := ro.CreateContainer(strings.Repeat(string(rune('1'+i)), 64), img.name, img.name, true)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range c.Layers {
				got = append(got, l.Dir)
				if l.Short == "" {
					t.Errorf("layer %s has no short link", l.Dir)
				}
			}
			if !slices.Equal(got, want) || c.Home != filepath.Join(f.paths.GraphRoot, "overlay") {
				t.Errorf("%s: layers %q in %s; the driver reports %q", img.name, got, c.Home, want)
			}
			if err := c.Release(true); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func mustLookup(t *testing.T, st *Store, name string) *Image {
	t.Helper()
	img, err := st.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// The driver's files as a store may hold them, made by hand, odd ones
// included: layerDirs reports what Metadata reports, and fails where it fails.
func TestLayerDirsAgreeWithDriver(t *testing.T) {
	f := newFixture(t)
	lib, _ := openBoth(t, f.paths)
	home := overlayHome(f.paths.GraphRoot)
	layer := func(id string, files map[string]string) {
		if err := os.MkdirAll(filepath.Join(home, id, "diff"), 0o700); err != nil {
			t.Fatal(err)
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(home, id, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	link := func(short, target string) {
		if err := os.Symlink(target, filepath.Join(home, "l", short)); err != nil {
			t.Fatal(err)
		}
	}
	link("TESTLINKA", "../xa/diff")
	link("TESTLINKB", "../xb/diff")
	link("TESTLINKGONE", "../xgone/diff") // its layer is gone
	layer("xa", nil)
	layer("xb", map[string]string{"lower": "l/TESTLINKA"})
	cases := map[string]map[string]string{
		"xbase":          nil,
		"xlayers":        {"lower-layers": "xb:xa"},
		"xlayers-first":  {"lower-layers": "xa", "lower": "l/TESTLINKB:l/TESTLINKA"},
		"xlower":         {"lower": "l/TESTLINKB:l/TESTLINKA"},
		"xdangling":      {"lower": "l/TESTLINKGONE:l/TESTLINKA"},
		"xmissing-link":  {"lower": "l/TESTLINKNONE:l/TESTLINKA"},
		"xempty-lower":   {"lower": ""},
		"xempty-layers":  {"lower-layers": ""},
		"xnot-a-link":    {"lower": "xa"},
		"xmissing-layer": nil, // no directory at all
	}
	for id, files := range cases {
		if id != "xmissing-layer" {
			layer(id, files)
		}
		want, werr := driverDirs(t, lib, id)
		got, err := layerDirs(home, id)
		if (err == nil) != (werr == nil) || !slices.Equal(got, want) {
			t.Errorf("%s: layerDirs = %q, %v; the driver reports %q, %v", id, got, err, want, werr)
		}
	}
	if got, err := layerDirs(home, "xlayers"); err != nil || len(got) != 3 {
		t.Errorf("xlayers: %q, %v; want 3 layers", got, err) // the table is not all failures
	}
	if _, err := layerDirs(home, "xmissing-link"); err == nil {
		t.Error("xmissing-link: no error") // nor all successes
	}
}

// Two images claiming one name (which the library repairs on load): the later
// in images.json keeps it, as in the library.
func TestDuplicateNamesAgree(t *testing.T) {
	f := newFixture(t)
	file := filepath.Join(f.paths.GraphRoot, "overlay-images", "images.json")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r["id"] == f.b {
			r["names"] = append(r["names"].([]any), "localhost/a:1")
		}
	}
	if b, err = json.Marshal(recs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// Read before containers/storage repairs the file.
	ro, err := Open(f.paths)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*Image{}
	for _, name := range []string{"localhost/a:1", f.a, f.b} {
		if got[name], err = ro.Lookup(name); err != nil {
			t.Fatal(err)
		}
	}
	lib, _ := openBoth(t, f.paths)
	for name, img := range got {
		want, err := lib.Image(name)
		if err != nil || !sameImage(img, want) {
			t.Errorf("Lookup(%.16s) = %+v; containers/storage finds %+v, %v", name, img, want, err)
		}
	}
	if got["localhost/a:1"].ID != f.b {
		t.Errorf("the duplicate name went to %.8s, want the later image %.8s", got["localhost/a:1"].ID, f.b)
	}
}

// handStore writes, by hand, the files of a store holding one image of two
// layers, in the format the tests above check against containers/storage.
func handStore(t *testing.T) (Paths, string) {
	t.Helper()
	dir := t.TempDir()
	p := Paths{GraphRoot: filepath.Join(dir, "graph"), RunRoot: filepath.Join(dir, "run")}
	id, base, top := hexID('a'), hexID('1'), hexID('2')
	home := overlayHome(p.GraphRoot)
	files := map[string]string{
		"overlay-images/images.json": `[{"id":"` + id + `","names":["localhost/hand:1"],"layer":"` + top + `",` +
			`"big-data-names":["sha256:` + id + `"],"created":"2025-01-02T03:04:05Z"}]`,
		"overlay-images/" + id + "/" + bigDataFile("sha256:"+id): `{"config":{"Cmd":["/bin/hand"]}}`,
		"overlay/" + base + "/link":                              "BASELINK",
		"overlay/" + top + "/link":                               "TOPLINK",
		"overlay/" + top + "/lower":                              "l/BASELINK",
		"overlay/" + top + "/lower-layers":                       base,
		"overlay/" + top + "/diff/etc/hand":                      "top",
	}
	for name, content := range files {
		path := filepath.Join(p.GraphRoot, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for short, layer := range map[string]string{"BASELINK": base, "TOPLINK": top} {
		if err := os.MkdirAll(filepath.Join(home, layer, "diff"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(home, "l"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("../"+layer+"/diff", filepath.Join(home, "l", short)); err != nil {
			t.Fatal(err)
		}
	}
	return p, id
}

// The run path, as any user: a store opened read-only finds the image, its
// config and its layers, and makes a container over them, with no
// containers/storage and no privilege.
func TestReadOnlyRun(t *testing.T) {
	p, id := handStore(t)
	st, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	img, err := st.Lookup("localhost/hand:1")
	if err != nil || img.ID != id {
		t.Fatalf("Lookup = %+v, %v; want image %.8s", img, err, id)
	}
	if cfg, err := st.ImageConfig(img.ID); err != nil || !slices.Equal(cfg.Config.Cmd, []string{"/bin/hand"}) {
		t.Errorf("ImageConfig = %+v, %v", cfg, err)
	}
	if err := st.CleanDead(); err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateContainer(hexID('c'), img.ID, "localhost/hand:1", true)
	if err != nil {
		t.Fatal(err)
	}
	home := overlayHome(p.GraphRoot)
	want := []LayerDir{{filepath.Join(home, hexID('2'), "diff"), "l/TOPLINK"}, {filepath.Join(home, hexID('1'), "diff"), "l/BASELINK"}}
	if !slices.Equal(c.Layers, want) || c.ChownUpper {
		t.Errorf("layers %+v, ChownUpper %v; want %+v, false", c.Layers, c.ChownUpper, want)
	}
	if b, err := os.ReadFile(filepath.Join(c.Layers[0].Dir, "etc/hand")); err != nil || string(b) != "top" {
		t.Errorf("top layer's etc/hand = %q, %v", b, err)
	}
	if err := c.Release(true); err != nil {
		t.Fatal(err)
	}
}

// A Store reads images.json once for several lookups, but a version that
// replaced it since (as the library writes it: a new file renamed over the
// old) is read again, however soon: an rmi between a run's lookup and its
// container's creation must be seen.
func TestImageIndexSeesAReplacedFile(t *testing.T) {
	p, id := handStore(t)
	st, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if img, err := st.Lookup("localhost/hand:1"); err != nil || img.ID != id {
		t.Fatalf("Lookup = %+v, %v", img, err)
	}
	file := filepath.Join(imagesDir(p.GraphRoot), "images.json")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	renamed := strings.Replace(string(b), "localhost/hand:1", "localhost/hand:2", 1)
	if err := os.WriteFile(file+".tmp", []byte(renamed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(file+".tmp", file); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Lookup("localhost/hand:1"); !errors.Is(err, ErrUnknownImage) {
		t.Errorf("the old name after the file was replaced: %v, want ErrUnknownImage", err)
	}
	if img, err := st.Lookup("localhost/hand:2"); err != nil || img.ID != id {
		t.Errorf("the new name: %+v, %v", img, err)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Lookup(id); !errors.Is(err, ErrUnknownImage) {
		t.Errorf("after images.json is gone: %v, want ErrUnknownImage", err)
	}
}
