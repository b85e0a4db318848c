#!/usr/bin/env bash
# Builds an OCI image layout of Debian's static busybox, with nothing but tar, gzip,
# sha256sum and printf: no docker, no registry, no network.
#
#   integration/setup/busybox-oci.sh OUT_DIR [TAG]      (TAG defaults to latest)
#   ccrun run --rm oci:OUT_DIR:TAG echo hi
#
# The layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
#   OUT_DIR/oci-layout        {"imageLayoutVersion": "1.0.0"}
#   OUT_DIR/index.json        the entry point: one manifest, tagged TAG
#   OUT_DIR/blobs/sha256/...  every file named by the sha256 of its content:
#                             the manifest, the config, and one gzip'd layer tar
# The config names the layer by the sha256 of its *uncompressed* tar (the diff id);
# the manifest names it by the sha256 of the gzip'd blob (the digest).
set -euo pipefail
out=${1:?usage: busybox-oci.sh OUT_DIR [TAG]}
tag=${2:-latest}
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "busybox-oci.sh: no $busybox (apt-get install busybox-static)" >&2; exit 1; }

case "$(uname -m)" in
  x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; armv7l) arch=arm ;; i?86) arch=386 ;;
  ppc64le) arch=ppc64le ;; s390x) arch=s390x ;; riscv64) arch=riscv64 ;; *) arch=$(uname -m) ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
# /proc, /dev and /sys are empty mount points, as in Debian's and Alpine's base
# images: a runtime need not create them in each container's upper directory.
mkdir -p "$root"/{bin,etc,root,tmp,home/user,proc,dev,sys} "$out/blobs/sha256"
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'user:x:1000:1000:user:/home/user:/bin/sh' \
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' > "$root/etc/passwd"
printf '%s\n' 'root:x:0:' 'tty:x:5:' 'user:x:1000:' 'nogroup:x:65534:' > "$root/etc/group"
chown -R 0:0 "$root" 2>/dev/null || true
chown 1000:1000 "$root/home/user" 2>/dev/null || true

# put BLOB_FILE: moves a file into blobs/sha256 under its digest; prints "DIGEST SIZE".
put() {
  local sum size
  sum=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  mv "$1" "$out/blobs/sha256/$sum"
  printf '%s %s\n' "$sum" "$size"
}

# The layer: owners as numbers, entries sorted and dated for a reproducible tar.
epoch=${SOURCE_DATE_EPOCH:-$(date +%s)}
tar --numeric-owner --owner=0 --group=0 --sort=name --mtime="@$epoch" -C "$root" -cf "$work/layer.tar" .
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n -9 "$work/layer.tar"
read -r layer layer_size < <(put "$work/layer.tar.gz")

created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
printf '{"created":"%s","architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"%s","created_by":"busybox-oci.sh"}]}' \
  "$created" "$arch" "$diff_id" "$created" > "$work/config.json"
read -r config config_size < <(put "$work/config.json")

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" > "$work/manifest.json"
read -r manifest manifest_size < <(put "$work/manifest.json")

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}\n' \
  "$manifest" "$manifest_size" "$arch" "$tag" > "$out/index.json"
printf '{"imageLayoutVersion":"1.0.0"}\n' > "$out/oci-layout"
echo "busybox-oci.sh: $out:$tag (manifest sha256:$manifest, layer $layer_size bytes)" >&2
