#!/usr/bin/env bash
# Packs a root filesystem directory into a one-layer OCI image layout, the format
# skopeo, podman and ccrun read with the oci: transport:
#
#   integration/bench/oci-image.sh ROOTFS LAYOUT TAG [CMD...]
#
# The layer is a reproducible gzip'd tar (sorted names, mtime 0, numeric owner 0),
# so the same ROOTFS always gives the same digests. See the OCI image spec:
# image-layout.md, manifest.md, config.md.
set -euo pipefail
rootfs=$1 layout=$2 tag=$3; shift 3
cmd=("$@"); [ ${#cmd[@]} -gt 0 ] || cmd=(sh)

mkdir -p "$layout/blobs/sha256"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# blob FILE MEDIATYPE: moves FILE into the layout and prints its descriptor.
blob() {
  local sum size
  sum=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  mv "$1" "$layout/blobs/sha256/$sum"
  printf '{"mediaType":"%s","digest":"sha256:%s","size":%s}' "$2" "$sum" "$size"
}

tar -C "$rootfs" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
  --xattrs --acls -cf "$tmp/layer.tar" .
diff_id=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
gzip -n -1 "$tmp/layer.tar"
layer=$(blob "$tmp/layer.tar.gz" application/vnd.oci.image.layer.v1.tar+gzip)

cmd_json=$(printf '%s\n' "${cmd[@]}" | jq -R . | jq -cs .)
jq -cn --arg diff "sha256:$diff_id" --argjson cmd "$cmd_json" '{
  architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
  config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: $cmd},
  rootfs: {type: "layers", diff_ids: [$diff]}}' > "$tmp/config.json"
config=$(blob "$tmp/config.json" application/vnd.oci.image.config.v1+json)

jq -cn --argjson config "$config" --argjson layer "$layer" '{
  schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: $config, layers: [$layer]}' > "$tmp/manifest.json"
manifest=$(blob "$tmp/manifest.json" application/vnd.oci.image.manifest.v1+json)

echo '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
index='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}'
[ -f "$layout/index.json" ] && index=$(cat "$layout/index.json")
jq -c --argjson m "$manifest" --arg tag "$tag" '
  .manifests = ([.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] != $tag)]
    + [$m + {annotations: {"org.opencontainers.image.ref.name": $tag}}])' <<<"$index" > "$layout/index.json"
