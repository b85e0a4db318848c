package ref

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeArchive writes a tarball of the named files, in order, gzip'd or not.
func writeArchive(t *testing.T, gz bool, files ...string) string {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for i := 0; i < len(files); i += 2 {
		if err := tw.WriteHeader(&tar.Header{Name: files[i], Mode: 0o644, Size: int64(len(files[i+1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	if gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		if _, err := zw.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		data = z.Bytes()
	}
	file := filepath.Join(t.TempDir(), "a.tar")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestArchiveImageID(t *testing.T) {
	id1, id2 := strings.Repeat("1", 64), strings.Repeat("2", 64)
	one := `[{"Config":"` + id1 + `.json","RepoTags":["alpine:3.19"],"Layers":["l/layer.tar"]}]`
	two := `[{"Config":"` + id1 + `.json","RepoTags":["alpine:3.19"]},{"Config":"blobs/sha256/` + id2 + `","RepoTags":["example.com/tool:1.0"]}]`
	tests := []struct {
		name    string
		gz      bool
		files   []string
		tag     string
		want    string
		wantBad bool
	}{
		{"the only image", false, []string{id1 + ".json", "{}", "manifest.json", one}, "", id1, false},
		{"gzip'd", true, []string{id1 + ".json", "{}", "manifest.json", one}, "", id1, false},
		{"by its tag, normalised", false, []string{"manifest.json", two}, "docker.io/library/alpine:3.19", id1, false},
		{"an OCI-shaped archive", false, []string{"manifest.json", two}, "example.com/tool:1.0", id2, false},
		{"two images, no tag asked", false, []string{"manifest.json", two}, "", "", true},
		{"no such tag", false, []string{"manifest.json", one}, "alpine:3.20", "", true},
		{"a config not named by its digest", false, []string{"manifest.json", `[{"Config":"config.json"}]`}, "", "", true},
		{"no manifest.json", false, []string{id1 + ".json", "{}"}, "", "", true},
		{"not JSON", false, []string{"manifest.json", "{"}, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeArchive(t, tt.gz, tt.files...)
			got, ok := ArchiveImageID(Ref{Transport: DockerArchive, Path: file, Tag: tt.tag})
			if got != tt.want || ok == tt.wantBad {
				t.Errorf("ArchiveImageID = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
	if _, ok := ArchiveImageID(Ref{Transport: DockerArchive, Path: filepath.Join(t.TempDir(), "none.tar")}); ok {
		t.Error("ArchiveImageID of a missing file")
	}
	if _, ok := ArchiveImageID(Ref{Transport: OCI, Path: "/x"}); ok {
		t.Error("ArchiveImageID of an oci: reference")
	}
}
