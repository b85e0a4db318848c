// Package pull copies container images from registries (and from local OCI
// layouts and docker-archive tarballs) into ccrun's image store, the way docker
// pull does, with containers/image (go.podman.io/image/v5).
//
// # The lesson
//
// An image reference names a repository in a registry, and a tag or a digest:
//
//	busybox                      -> docker.io/library/busybox:latest
//	registry.example.com:5000/team/tool:1.2
//	alpine@sha256:4bcff6...      (a digest: this exact content, forever)
//
// The first component is a registry only if it has a dot or a port, or is
// localhost; otherwise the name is on Docker Hub, under library/ when it has no
// slash. Package ref parses references by exactly that rule and never consults
// a list of "search registries": guessing where a short name lives is how a typo
// pulls an attacker's image, and a prompt would hang a script.
//
// A registry speaks the distribution HTTP API
// (https://github.com/opencontainers/distribution-spec): GET /v2/NAME/manifests/REF
// returns a manifest, and GET /v2/NAME/blobs/DIGEST every blob it lists. The
// manifest names the config (a JSON blob: entrypoint, env, working directory,
// user, and the digest of each uncompressed layer) and the layers (tar archives,
// gzip'd or zstd'd). Everything is content-addressed: a blob's name is the
// sha256 of its bytes, so a client checks every byte it receives, and a
// reference by digest pins the whole image. A tag may instead point at an index
// (a "manifest list"): one manifest per platform, of which the client picks its
// own os/architecture (or the one --platform asks for).
//
// containers/image does the protocol: the bearer-token dance (a 401 names a
// token service; the client fetches a token with the user's credentials and
// retries), certs.d directories of CA certificates, registries.conf mirrors,
// schema conversions, decompression, digest verification and progress. This
// package chooses what it is given: the transports (docker://, oci:, the
// docker-archive tarball and the store, and nothing else: every transport
// linked in costs start-up time), where credentials are read from (AuthFiles), and where temporary
// files go (inside the store, so that a killed pull leaves nothing elsewhere).
//
// Only the pull program (cmd/ccrun-pull, see package program) links this
// package: containers/image's package init alone costs more than the rest of a
// container's start, and ccrun pays it only when it pulls.
//
// Local sources get a name of their own: oci:/images/busybox:v1 is stored as
// localhost/busybox:v1, so it can be run by that name later.
//
// # Read
//
// containers-registries.conf(5), containers-auth.json(5), containers-certs.d(5),
// https://github.com/opencontainers/image-spec (manifest.md, image-index.md,
// config.md, layer.md).
//
// # See it
//
//	ccrun --debug pull busybox 2>&1 | grep -i -e manifest -e blob
//	ccrun pull --platform linux/arm64 busybox && ccrun images
package pull
