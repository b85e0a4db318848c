package ref

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const dgst = "sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa"
	tests := []struct {
		in, transport, store, registry string
	}{
		{"busybox", Docker, "docker.io/library/busybox:latest", "docker.io"},
		{"busybox:1.36", Docker, "docker.io/library/busybox:1.36", "docker.io"},
		{"library/busybox", Docker, "docker.io/library/busybox:latest", "docker.io"},
		{"team/tool", Docker, "docker.io/team/tool:latest", "docker.io"},
		{"docker.io/busybox", Docker, "docker.io/library/busybox:latest", "docker.io"},
		{"index.docker.io/busybox", Docker, "docker.io/library/busybox:latest", "docker.io"},
		{"docker://busybox", Docker, "docker.io/library/busybox:latest", "docker.io"},
		{"registry.example.com:5000/team/tool:1.2", Docker, "registry.example.com:5000/team/tool:1.2", "registry.example.com:5000"},
		{"localhost/tool", Docker, "localhost/tool:latest", "localhost"},
		{"127.0.0.1:5000/busybox", Docker, "127.0.0.1:5000/busybox:latest", "127.0.0.1:5000"},
		{"busybox@" + dgst, Docker, "docker.io/library/busybox@" + dgst, "docker.io"},
		// A tag beside a digest is dropped: the digest decides.
		{"busybox:1.36@" + dgst, Docker, "docker.io/library/busybox@" + dgst, "docker.io"},
		{"oci:/images/busybox:latest", OCI, "localhost/busybox:latest", ""},
		{"oci:/images/busybox", OCI, "localhost/busybox:latest", ""},
		{"oci:/images/Busy Box:v1.2", OCI, "localhost/busy-box:v1.2", ""},
		{"oci:/images/bb:not/a tag", OCI, "localhost/bb:not-a-tag", ""},
		{"oci:/images/bb:.hidden", OCI, "localhost/bb:latest", ""},
		{"oci:/images/bb:" + strings.Repeat("t", 129), OCI, "localhost/bb:latest", ""},
		{"oci:/images/...", OCI, "localhost/image:latest", ""},
		{"docker-archive:/tmp/alpine.tar", DockerArchive, "localhost/alpine:latest", ""},
		{"docker-archive:/tmp/alpine.tar.gz", DockerArchive, "localhost/alpine:latest", ""},
		{"docker-archive:/tmp/alpine.tgz", DockerArchive, "localhost/alpine:latest", ""},
		// A directory keeps its dots: two versions are two images.
		{"oci:/images/alpine-3.18", OCI, "localhost/alpine-3.18:latest", ""},
		{"oci:/images/alpine-3.19:edge", OCI, "localhost/alpine-3.19:edge", ""},
		{"docker-archive:/tmp/a.tar:alpine:3.19", DockerArchive, "docker.io/library/alpine:3.19", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if r.Transport != tt.transport || r.StoreName() != tt.store || r.Registry() != tt.registry {
				t.Errorf("Parse(%q) = %s %s registry %q, want %s %s registry %q",
					tt.in, r.Transport, r.StoreName(), r.Registry(), tt.transport, tt.store, tt.registry)
			}
			if r.Local() != (tt.transport != Docker) {
				t.Errorf("Local() = %v", r.Local())
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, err string }{
		{"BusyBox", `parse image reference "BusyBox": repository name must be lowercase`},
		{"busybox:", "invalid tag"},
		{"busy box", `repository name component "busy box"`},
		{"a//b", "empty component"},
		{"oci:", "no path"},
		{strings.Repeat("a", 64), "image id"},
		{"busybox@sha256:1234", "invalid checksum digest format"},
		{"busybox@md5:" + strings.Repeat("a", 32), "unsupported digest algorithm"},
		{"busybox@sha256:" + strings.Repeat("a", 63) + "a0", "invalid checksum digest length"},
		{"my_host.com/x", `registry "my_host.com" is not a host[:port]`},
		{"localhost/" + strings.Repeat("a", 250), "must not be more than 255 characters"},
		{"docker-archive:/a.tar:@x", "docker-archive:/a.tar:@x"},
		{"oci:/images/a..b", "cannot name the image after its path"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", tt.in, r)
			}
			if !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse(%q): %v, want an error with %q", tt.in, err, tt.err)
			}
		})
	}
}

// String must round-trip: what ccrun prints in an error, a user can paste back.
func TestRefString(t *testing.T) {
	for _, in := range []string{"docker.io/library/busybox:latest", "oci:/images/bb:v1", "oci:/images/bb", "docker-archive:/tmp/a.tar", "docker-archive:/tmp/a.tar:alpine:3.19"} {
		r, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if r.String() != in {
			t.Errorf("Parse(%q).String() = %q", in, r.String())
		}
	}
}

func TestDomain(t *testing.T) {
	tests := []struct{ in, want string }{
		{"docker.io/library/busybox:latest", "docker.io"},
		{"localhost:5000/tool:1", "localhost:5000"},
		{"localhost/tool:1", "localhost"},
		{"library/busybox", ""},
		{"busybox", ""},
	}
	for _, tt := range tests {
		if got := Domain(tt.in); got != tt.want {
			t.Errorf("Domain(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParsePlatform(t *testing.T) {
	tests := []struct {
		in   string
		want Platform
		ok   bool
	}{
		{"linux/amd64", Platform{"linux", "amd64", ""}, true},
		{"linux/arm/v7", Platform{"linux", "arm", "v7"}, true},
		{"amd64", Platform{}, false},
		{"linux//v7", Platform{}, false},
		{"linux/arm/v7/x", Platform{}, false},
		{"", Platform{}, false},
	}
	for _, tt := range tests {
		p, err := ParsePlatform(tt.in)
		if (err == nil) != tt.ok || p != tt.want {
			t.Errorf("ParsePlatform(%q) = %+v, %v; want %+v ok=%v", tt.in, p, err, tt.want, tt.ok)
		}
	}
}

func TestNormalizeRegistry(t *testing.T) {
	tests := []struct{ in, want string }{
		{"registry.example.com:5000", "registry.example.com:5000"},
		{"https://registry.example.com:5000/v2/", "registry.example.com:5000"},
		{"http://localhost:5000", "localhost:5000"},
		{"https://index.docker.io/v1/", "docker.io"},
		{"registry-1.docker.io", "docker.io"},
		{"docker.io", "docker.io"},
		{"localhost", "localhost"},
		{"Registry.Example.com", "Registry.Example.com"},
		{"busybox", ""},     // a repository, not a registry
		{"my_host.com", ""}, // not a host name
		{"r.example:port", ""},
		{"[::1]:5000", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeRegistry(tt.in)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("NormalizeRegistry(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestLooksLikeID(t *testing.T) {
	for s, want := range map[string]bool{
		"3f57d9401f8d": true, "abc": true, strings.Repeat("a", 64): true,
		"ab": false, "busybox": false, "ABC123": false, strings.Repeat("a", 65): false, "abc:1": false,
	} {
		if got := LooksLikeID(s); got != want {
			t.Errorf("LooksLikeID(%q) = %v, want %v", s, got, want)
		}
	}
}
