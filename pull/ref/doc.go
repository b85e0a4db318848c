// Package ref parses image references (busybox, registry.example.com:5000/team/tool:1.2,
// alpine@sha256:..., oci:DIR[:TAG], docker-archive:FILE[:NAME:TAG]) the way
// docker does, with the standard library alone.
//
// # The lesson
//
// An image reference names a repository in a registry, and a tag or a digest:
//
//	[registry[:port]/]path[:tag][@digest]
//
//	busybox                                  -> docker.io/library/busybox:latest
//	team/tool:1.2                            -> docker.io/team/tool:1.2
//	localhost:5000/tool                      -> localhost:5000/tool:latest
//	alpine:3.19@sha256:4bcff6...             -> docker.io/library/alpine@sha256:4bcff6...
//
// Docker normalises a reference by three rules:
//
//   - The first component is a registry only if it has a dot or a colon (a DNS
//     name, an IP address, a port), or is "localhost"; otherwise the reference
//     is on Docker Hub, docker.io, and a one-component name on Docker Hub is an
//     official image, under library/. index.docker.io is docker.io.
//   - A reference with neither tag nor digest means :latest.
//   - A digest names the content itself, so a tag beside it is dropped.
//
// The path is lower case: components of [a-z0-9] runs joined by '.', '_', "__"
// or dashes, separated by '/'; registry and path together are at most 255
// characters. A tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. A digest is
// ALGORITHM:HEX, of which only sha256, sha384 and sha512 in lower-case hex are
// accepted. 64 hexadecimal digits alone are an image id, not a name. The
// grammar is distribution/reference's:
// https://github.com/distribution/reference/blob/main/reference.go
//
// # Why ccrun has its own parser
//
// containers/image (go.podman.io/image/v5/docker/reference) and
// distribution/reference parse references with regular expressions compiled at
// package init; with go-digest and the rest of containers/image's init that
// costs every process that links them about 5 ms. Parsing a reference is on
// ccrun's run path (ccrun run busybox), which must not pay for a pull it does
// not do. This package is a hand-written scanner of the same grammar, with
// nothing built at init. Its one deliberate difference: a first component that
// has a dot but is not a host name (my_host.com/x) is rejected, where
// containers/image takes the whole reference for a path with no registry. The
// tests compare the two on a table and by fuzzing.
//
// For the same reason a run of a local source already in the store reads what
// the source names from the source itself: an OCI layout's index.json
// (LayoutDigest), a docker archive's manifest.json (ArchiveImageID). Only what
// those do not settle goes to the pull program.
//
// # See it
//
//	ccrun pull Busybox          # repository name must be lowercase
//	ccrun pull busybox:1.36@sha256:...   # stored as docker.io/library/busybox@sha256:...
package ref
