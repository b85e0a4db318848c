package ref

import (
	// go-digest knows sha384 and sha512 only when their hashes are linked, as
	// they are in ccrun; without them the oracle would reject those digests.
	_ "crypto/sha256"
	_ "crypto/sha512"
	"errors"
	"strings"
	"testing"

	"go.podman.io/image/v5/docker/reference"
)

// oracle is what ccrun parsed references with before this package:
// containers/image's ParseDockerRef. domain is "" for the deviation (see
// docker.go): a first component taken for a registry that is no host name.
func oracle(s string) (name, domain string, ok bool) {
	named, err := reference.ParseDockerRef(s)
	if err != nil {
		return "", "", false
	}
	return named.String(), reference.Domain(named), true
}

// oldNormalizeRegistry is pull.NormalizeRegistry as it was, on containers/image.
func oldNormalizeRegistry(s string) (string, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "":
		return "", errors.New("no registry given")
	case "index.docker.io", "registry-1.docker.io":
		s = "docker.io"
	}
	if named, err := reference.ParseNormalizedNamed(s + "/x"); err != nil || reference.Domain(named) != s {
		return "", errors.New("not a registry")
	}
	return s, nil
}

const (
	hex64  = "7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa"
	sha256 = "sha256:" + hex64
)

// differential is the table both parsers must agree on.
var differential = []string{
	// Docker Hub short names, namespaces, tags.
	"busybox", "busybox:1.36", "busybox:latest", "library/busybox", "team/tool", "team/sub/tool:v1",
	"a", "a/b/c/d/e", "0", "9lives", "busybox:TAG_Upper", "busybox:_x", "busybox:x.y-z_w",
	// Registries.
	"docker.io/busybox", "docker.io/library/busybox", "docker.io/team/tool", "index.docker.io/busybox",
	"index.docker.io/team/tool", "registry-1.docker.io/busybox", "docker.io", "index.docker.io",
	"localhost/tool", "localhost:5000/tool", "localhost:5000/tool:1", "localhost", "localhost:5000",
	"localhost/", "localhost:/x", "localhost:x/y", "localhost:5000:6000/x",
	"127.0.0.1:5000/busybox", "127.0.0.1/x", "1.2.3.4.5/x", "registry.example.com:5000/team/tool:1.2",
	"Registry.Example.COM/team/tool", "a-b.c/x", "-ab.c/x", "ab-.c/x", "a..b/x", ".a/x", "a./x",
	"foo:5000/x", "foo/bar", "Foo/bar", "FOO.com/bar", "x.y/Z", "my_host.com/x", "a_b.c/d", "a__b.c/d",
	// IPv6 hosts: containers/image has no IPv6 in its grammar.
	"[::1]:5000/x", "[::1]/x", "[fe80::1%eth0]:5000/x", "[2001:db8::1]:5000/team/tool:1",
	// Upper case.
	"BusyBox", "busyBox:1", "Library/busybox", "team/Tool", "busybox@SHA256:" + hex64,
	// Separators.
	"a__b", "a___b", "a--b", "a---b", "a-b", "a.b", "a..b", "a._b", "a_.b", "a-_b", "a_-b", "_a", "a_",
	"-a", "a-", ".a", "a.", "a/.b", "a/b.", "a//b", "/a", "a/", "a-/b", "a/-b", "a.b.c_d__e---f",
	// Tags.
	"busybox:", "busybox::", "busybox:a:b", "busybox:.x", "busybox:-x", "busybox:x/y", "busybox:x y",
	"busybox:" + strings.Repeat("t", 127), "busybox:" + strings.Repeat("t", 128), "busybox:" + strings.Repeat("t", 129),
	// Digests.
	"busybox@" + sha256, "busybox:1.36@" + sha256, "busybox:@" + sha256, "team/tool@" + sha256,
	"localhost:5000/tool:1@" + sha256, "busybox@", "busybox@sha256", "busybox@sha256:", "busybox@sha256:1234",
	"busybox@sha256:" + strings.ToUpper(hex64), "busybox@sha256:" + hex64 + "0", "busybox@sha256:" + hex64[1:],
	"busybox@sha384:" + strings.Repeat("ab", 48), "busybox@sha512:" + strings.Repeat("ab", 64),
	"busybox@sha512:" + strings.Repeat("ab", 48), "busybox@md5:" + strings.Repeat("a", 32),
	"busybox@sha256+b64:" + hex64, "busybox@1sha:" + hex64, "busybox@sha256:" + strings.Repeat("g", 64),
	"busybox@" + sha256 + "@" + sha256, "busybox@" + sha256 + ":tag", "@" + sha256, sha256,
	// Identifiers.
	hex64, hex64[:63], hex64 + "a", strings.ToUpper(hex64), hex64 + ":tag", "docker.io/" + hex64,
	strings.Repeat("g", 64),
	// Lengths: registry and path together at most 255.
	"localhost/" + strings.Repeat("a", 245), "localhost/" + strings.Repeat("a", 246),
	strings.Repeat("a", 237), strings.Repeat("a", 238), // docker.io/library/ adds 18
	"a/" + strings.Repeat("b", 243), "a/" + strings.Repeat("b", 244),
	// Odd characters.
	"", " ", "busy box", " busybox", "busybox ", "busybox\n", "busy\x00box", "bücher", "busybox:tä",
	"\xff", "docker://busybox", "busybox#1", "a+b", "a/b+c", "a@b", ":", "@", "/", "//", ":tag",
}

func TestDifferential(t *testing.T) {
	if len(differential) < 80 {
		t.Fatalf("%d cases, want at least 80", len(differential))
	}
	for _, s := range differential {
		compare(t, s)
	}
}

// TestDifferentialPieces compares the two on every assembly of tricky pieces:
// random bytes seldom make a valid digest or a port.
func TestDifferentialPieces(t *testing.T) {
	domains := []string{"", "docker.io/", "index.docker.io/", "localhost/", "localhost:5000/", "LocalHost/",
		"a.b/", "A-b.C:1/", "a-.b/", "a_b.c/", "a:/", ":1/", "1.2.3.4:65536/", "[::1]:5/", "x/"}
	paths := []string{"", "a", "busybox", "a/b", "library/a", "a__b", "a_.b", "a-", "a--b/c.d", "Ab", "a//b", hex64}
	tags := []string{"", ":", ":t", ":T_1.-", ":-t", ":.t", ":" + strings.Repeat("t", 128), ":" + strings.Repeat("t", 129), ":t:u"}
	digests := []string{"", "@", "@" + sha256, "@sha256:" + strings.ToUpper(hex64), "@sha384:" + strings.Repeat("a", 96),
		"@sha512:" + strings.Repeat("a", 64), "@sha257:" + hex64, "@" + sha256 + "@"}
	for _, d := range domains {
		for _, p := range paths {
			for _, tg := range tags {
				for _, dg := range digests {
					compare(t, d+p+tg+dg)
				}
			}
		}
	}
}

func TestNormalizeRegistryDifferential(t *testing.T) {
	for _, s := range differential {
		compareRegistry(t, s)
		compareRegistry(t, "https://"+s+"/v2/")
	}
}

func FuzzParseDockerRef(f *testing.F) {
	for _, s := range differential {
		f.Add(s)
	}
	f.Fuzz(compare)
}

func FuzzNormalizeRegistry(f *testing.F) {
	for _, s := range differential {
		f.Add(s)
	}
	f.Fuzz(compareRegistry)
}

// compare fails t unless ParseDockerRef and containers/image agree on s.
func compare(t *testing.T, s string) {
	want, wantDomain, ok := oracle(s)
	got, err := ParseDockerRef(s)
	switch {
	case ok && wantDomain == "":
		// The one deliberate deviation (docker.go): containers/image takes a
		// first component that is no host name for a path with no registry;
		// ParseDockerRef rejects it.
		if err == nil {
			t.Errorf("ParseDockerRef(%q) = %q, want an error (containers/image: %q with no registry)", s, got, want)
		}
	case ok && err != nil:
		t.Errorf("ParseDockerRef(%q): %v; containers/image: %q", s, err, want)
	case !ok && err == nil:
		t.Errorf("ParseDockerRef(%q) = %q; containers/image rejects it", s, got)
	case ok && got != want:
		t.Errorf("ParseDockerRef(%q) = %q; containers/image: %q", s, got, want)
	case ok && Domain(got) != wantDomain:
		t.Errorf("Domain(%q) = %q; containers/image: %q", got, Domain(got), wantDomain)
	}
}

// compareRegistry fails t unless NormalizeRegistry and its containers/image
// version agree on s.
func compareRegistry(t *testing.T, s string) {
	want, wantErr := oldNormalizeRegistry(s)
	got, err := NormalizeRegistry(s)
	if got != want || (err == nil) != (wantErr == nil) {
		t.Errorf("NormalizeRegistry(%q) = %q, %v; containers/image: %q, %v", s, got, err, want, wantErr)
	}
}
