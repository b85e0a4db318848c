package store

import (
	// go-digest knows sha384 and sha512 only when they are linked, as they
	// are in the pull program, which writes the records.
	_ "crypto/sha512"
	"slices"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

// The file names containers/storage gives big data items (makeBigDataBaseName);
// records_linux_test.go checks them against the library itself.
func TestBigDataFile(t *testing.T) {
	for key, want := range map[string]string{
		"manifest":           "manifest",
		"config.v1":          "config.v1",
		"sha256:0123":        "=c2hhMjU2OjAxMjM=",
		"manifest-sha256:ab": "=bWFuaWZlc3Qtc2hhMjU2OmFi",
		"Config":             "=Q29uZmln",
		"a b":                "=YSBi",
		"a/b":                "=YS9i",
		"UPPER":              "=VVBQRVI=",
		"\xffx":              "=/3g=",
		// The library's test never looks past the first other character,
		// and keeps the key when that character is the last.
		"é":       "é",
		"ab:":     "ab:",
		"café":    "café",
		"x\xff":   "x\xff",
		"sha256:": "sha256:",
	} {
		if got := bigDataFile(key); got != want {
			t.Errorf("bigDataFile(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestSplitLower(t *testing.T) {
	for _, c := range []struct {
		content string
		want    []string
	}{
		{"l/AB", []string{"l/AB"}},
		{"l/AB:l/CD:l/EF", []string{"l/AB", "l/CD", "l/EF"}},
		{"b1:a1", []string{"b1", "a1"}},
		{"", []string{""}},             // an empty file is one empty entry, as in the driver
		{"l/AB\n", []string{"l/AB\n"}}, // nothing trimmed: the driver writes no newline
	} {
		if got := splitLower([]byte(c.content)); !slices.Equal(got, c.want) {
			t.Errorf("splitLower(%q) = %q, want %q", c.content, got, c.want)
		}
	}
}

func TestLinkLayer(t *testing.T) {
	for target, want := range map[string]string{
		"../" + strings.Repeat("a", 64) + "/diff": strings.Repeat("a", 64),
		"../b/diff":                 "b",
		"/abs/store/overlay/c/diff": "c",
	} {
		if got := linkLayer(target); got != want {
			t.Errorf("linkLayer(%q) = %q, want %q", target, got, want)
		}
	}
}

// Lookup's meaning, on images.json contents: by id, else by name, else by a
// unique id prefix. records_linux_test.go checks it against the library.
func TestIndexLookup(t *testing.T) {
	a, b, c := "abc1"+strings.Repeat("1", 64)[4:], "abc2"+strings.Repeat("2", 64)[4:], "de f"+strings.Repeat("3", 64)[4:]
	file := `[
	 {"id":"` + a + `","names":["localhost/a:1","shared"],"layer":"l1","created":"2025-01-01T00:00:00Z"},
	 {"id":"` + b + `","names":["abc1","` + a + `","shared"],"created":"2025-01-02T00:00:00Z"},
	 {"id":"` + c + `","names":["localhost/c:1"]}
	]`
	ix, err := indexImages([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		a:               a, // an id beats a name
		"localhost/a:1": a,
		"abc1":          b, // a name beats a prefix
		"abc2":          b,
		"abc":           "", // ambiguous
		"de":            "", // an id with a space is not in the prefix index
		"localhost/c:1": c,
		c:               c,
		"shared":        b, // the later image keeps a name two claim
		"":              "",
		"zzz":           "",
	} {
		r, ok := ix.lookup(name)
		got := ""
		if ok {
			got = r.ID
		}
		if got != want {
			t.Errorf("lookup(%q) = %.8q, want %.8q", name, got, want)
		}
	}
	if r := ix.byID[a]; !slices.Equal(r.Names, []string{"localhost/a:1"}) {
		t.Errorf("names of the image that lost a duplicate = %q, want it without the name", r.Names)
	}
	for name, file := range map[string]string{"empty": "", "null": "null"} {
		if ix, err := indexImages([]byte(file)); err != nil || len(ix.images) != 0 {
			t.Errorf("%s images.json: %d images, %v; want none", name, len(ix.images), err)
		}
	}
}

// Digests are the record's digest, then its manifests', each once; an invalid
// one refuses the file, as the library refuses to load it.
func TestRecordDigests(t *testing.T) {
	d1, d2 := "sha256:"+strings.Repeat("1", 64), "sha256:"+strings.Repeat("2", 64)
	r := imageRecord{ID: "x", Digest: d1, BigDataDigests: map[string]string{
		"manifest-" + d1: d1,
		"manifest-" + d2: d2,
		"manifest":       d2,
		"sha256:" + "x":  "sha256:" + strings.Repeat("3", 64), // a config, not a manifest
	}}
	got, err := r.digests()
	if err != nil || !slices.Equal(got, []string{d1, d2}) {
		t.Errorf("digests = %q, %v; want %q", got, err, []string{d1, d2})
	}
	for _, bad := range []imageRecord{
		{ID: "x", Digest: "sha256:short"},
		{ID: "x", BigDataDigests: map[string]string{"manifest": "md5:" + strings.Repeat("1", 64)}},
	} {
		if got, err := bad.digests(); err == nil {
			t.Errorf("digests of %+v = %q, want an error", bad, got)
		}
	}
	if _, err := indexImages([]byte(`[{"id":"x","digest":"` + strings.Repeat("z", 10) + `"}]`)); err == nil {
		t.Error("indexImages accepted an invalid digest")
	}
}

// validDigest accepts and refuses what go-digest's Validate does, which
// containers/storage runs on each digest it loads.
func TestValidDigestAgreesWithGoDigest(t *testing.T) {
	hex64 := strings.Repeat("0123456789abcdef", 4)
	for _, d := range []string{
		"sha256:" + hex64, "sha384:" + hex64 + hex64[:32], "sha512:" + hex64 + hex64,
		"sha256:" + hex64[:63], "sha256:" + hex64 + "0", "sha256:" + strings.ToUpper(hex64),
		"sha256:" + hex64[:63] + "g", "sha256:", ":" + hex64, "sha256" + hex64, "",
		"md5:0123456789abcdef0123456789abcdef", "sha256+b64:" + hex64, "SHA256:" + hex64,
		"sha384:" + hex64, "sha512:" + hex64 + hex64[:63] + " ",
	} {
		want := digest.Digest(d).Validate()
		if got := validDigest(d); (got == nil) != (want == nil) {
			t.Errorf("validDigest(%q) = %v; go-digest says %v", d, got, want)
		}
	}
}
