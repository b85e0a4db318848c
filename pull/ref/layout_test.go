package ref

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLayoutDigest(t *testing.T) {
	const (
		d1  = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		d2  = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
		oci = "application/vnd.oci.image.manifest.v1+json"
	)
	entry := func(mediaType, digest, tag string) string {
		a := ""
		if tag != "" {
			a = `,"annotations":{"org.opencontainers.image.ref.name":"` + tag + `"}`
		}
		return `{"mediaType":"` + mediaType + `","digest":"` + digest + `","size":1` + a + `}`
	}
	index := func(entries ...string) string {
		return `{"schemaVersion":2,"manifests":[` + strings.Join(entries, ",") + `]}`
	}
	tests := []struct {
		name, index, tag, want string
	}{
		{"by tag", index(entry(oci, d1, "v1"), entry(oci, d2, "v2")), "v2", d2},
		{"the only image, no tag asked", index(entry(oci, d1, "latest")), "", d1},
		{"an index entry", index(entry("application/vnd.oci.image.index.v1+json", d1, "v1")), "v1", d1},
		{"a docker manifest", index(entry("application/vnd.docker.distribution.manifest.v2+json", d1, "v1")), "v1", d1},
		{"no such tag", index(entry(oci, d1, "v1")), "v3", ""},
		{"two images, no tag asked", index(entry(oci, d1, "v1"), entry(oci, d2, "v2")), "", ""},
		{"one tag twice", index(entry(oci, d1, "v1"), entry(oci, d2, "v1")), "v1", ""},
		{"an unsupported type", index(entry("application/vnd.oci.image.layer.v1.tar", d1, "v1")), "v1", ""},
		{"a digest of another algorithm", index(entry(oci, "sha512:"+strings.Repeat("a", 128), "v1")), "v1", ""},
		{"a short digest", index(entry(oci, "sha256:abc", "v1")), "v1", ""},
		{"upper-case hex", index(entry(oci, strings.ToUpper(d1), "v1")), "v1", ""},
		{"not JSON", "{", "v1", ""},
		{"no index.json", "", "v1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.index != "" {
				if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte(tt.index), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, ok := LayoutDigest(Ref{Transport: OCI, Path: dir, Tag: tt.tag, Name: "localhost/x:latest"})
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("LayoutDigest = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
	if _, ok := LayoutDigest(Ref{Transport: DockerArchive, Path: "/x.tar"}); ok {
		t.Error("LayoutDigest of a docker-archive: reference")
	}
}
