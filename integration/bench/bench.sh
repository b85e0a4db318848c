#!/usr/bin/env bash
# `make bench`: ccrun against its peers (crun, runc, podman, skopeo), measured side by
# side in one run on the same busybox image, rootless unless said. For each scenario
# it prints median, min and max and ccrun's ratio to each peer (below 1.00: ccrun is
# faster or smaller), then writes the same as JSON (path printed at the end).
#
#   (a) run `true`, rootless and as root       (d) pull a ~50 MB debootstrap image
#   (b) 100 sequential runs                        from a local registry
#   (c) 10 concurrent runs of one image        (e) peak RSS of the runtime's processes
#                                              (f) `ccrun version` start-up
#
# Run as root on Debian 12: it installs the peers, builds the images, and measures the
# rootless half as $BENCH_USER with that user's credentials and a clean environment
# (HOME, PATH; no XDG_RUNTIME_DIR, as in CI). Knobs, all optional:
#
#   BENCH_USER=ccrun-test   unprivileged user with /etc/subuid ranges
#   BENCH_QUICK=1           a few runs of each, to try the harness (about 2 minutes)
#   BENCH_JSON=FILE         where the JSON goes (default bin/bench.json)
#   BENCH_CACHE=DIR         keeps the debootstrap tarball between runs
#                           (default ~/.cache/ccrun-bench; empty: build it every time)
#   BENCH_SCENARIOS="a b c" only these scenarios (default: a b c d e f)
#   CCRUN_BIN=PATH          the ccrun to measure (default bin/ccrun)
#
# Host quirks it works around, and how (see integration/bench/README.md):
#   - crun 1.8 refuses the hybrid cgroup layout ("cgroups in hybrid mode not
#     supported"): everything is measured inside one private mount namespace
#     (unshare -m, made by root) where /sys/fs/cgroup/unified is unmounted; the
#     rootless peers drop to the user inside it. A user alone cannot unmount it (the
#     mount is locked in a user namespace) but can mount a tmpfs over it:
#     `unshare -Ur -m sh -c 'mount -t tmpfs none /sys/fs/cgroup/unified; crun ...'`.
#   - /dev/net/tun is root-only: podman runs with --network none.
#   - rootless podman gets its own XDG_RUNTIME_DIR and storage under the user's HOME,
#     so its pause process and locks are the benchmark's own; the trap kills it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

# ---------------------------------------------------------------------------- measure
# Runs inside the private mount namespace; everything it needs comes in the
# environment from the setup below.
if [ "${1:-}" = --measure ]; then
  # shellcheck source=integration/bench/scenarios.sh
  . "$here/scenarios.sh"
  measure
  exit
fi

# ------------------------------------------------------------------------------ setup
[ "$(id -u)" = 0 ] || { echo "bench.sh: run as root (it installs peers and drops to \$BENCH_USER for the rootless half)" >&2; exit 1; }
export PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export BENCH_USER=${BENCH_USER:-ccrun-test}
export BENCH_QUICK=${BENCH_QUICK:-0}
json=${BENCH_JSON:-$repo/bin/bench.json}
cache=${BENCH_CACHE-$HOME/.cache/ccrun-bench}
ccrun_bin=${CCRUN_BIN:-$repo/bin/ccrun}
started=$(date +%s)

say() { printf 'bench: %s\n' "$*" >&2; }

install_peers() {
  local pkgs=(crun runc podman conmon catatonit skopeo uidmap busybox-static
              docker-registry debootstrap jq curl util-linux)
  local missing=() p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # The package starts a registry on :5000; the benchmark runs its own.
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
  if ! getent passwd "$BENCH_USER" >/dev/null || ! grep -q "^$BENCH_USER:" /etc/subuid; then
    "$repo/integration/setup/deps.sh" "$BENCH_USER"
  fi
}

install_peers
[ -x "$ccrun_bin" ] || { echo "bench.sh: $ccrun_bin missing: run make build (make bench does)" >&2; exit 1; }

export SCRATCH UHOME USCRATCH
SCRATCH=$(mktemp -d)
UHOME=$(getent passwd "$BENCH_USER" | cut -d: -f6)
chmod 755 "$SCRATCH"
USCRATCH=
registry_pid=
# Root podman keeps a blob-info-cache there whatever --root says; remove it after
# if the benchmark made it.
[ -e /var/lib/containers ] && made_var_lib= || made_var_lib=1

cleanup() {
  local rc=$? f
  set +e
  if [ -n "$registry_pid" ]; then
    kill "$registry_pid" 2>/dev/null
    wait "$registry_pid" 2>/dev/null
  fi
  # Rootless podman's pause process (catatonit) outlives its containers.
  if [ -n "$USCRATCH" ]; then
    for f in $(find "$USCRATCH" -name pause.pid 2>/dev/null); do
      kill "$(cat "$f")" 2>/dev/null || true
    done
  fi
  # Every mount was made in a private mount namespace; say so loudly if one leaked.
  if findmnt -rn -o TARGET | grep -qE "^($SCRATCH|${USCRATCH:-/nonexistent})"; then
    say "WARNING: mounts left under the scratch directories:"
    findmnt -rn -o TARGET | grep -E "^($SCRATCH|${USCRATCH:-/nonexistent})" >&2
  fi
  rm -rf "$SCRATCH" ${USCRATCH:+"$USCRATCH"}
  [ -z "$made_var_lib" ] || rm -rf /var/lib/containers
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

USCRATCH=$(runuser -u "$BENCH_USER" -- mktemp -d -p "$UHOME" ccrun-bench.XXXXXX)
chmod 755 "$USCRATCH"

# as_user runs a set-up command (never a timed one) as the benchmark user.
as_user() {
  runuser -u "$BENCH_USER" -- env -i PATH="$PATH" HOME="$UHOME" LANG=C.UTF-8 "$@"
}

say "building the harness and copying ccrun (scratch $SCRATCH, user scratch $USCRATCH)"
export BENCH="$SCRATCH/bin/bench" CC="$SCRATCH/bin/ccrun"
(cd "$repo" && CGO_ENABLED=0 go build -o "$BENCH" ./integration/bench)
# A copy: others may rebuild bin/ccrun meanwhile, and (e) finds ccrun's processes by
# the inode of this very file.
install -m 755 "$ccrun_bin" "$CC"

# --------------------------------------------------------------------------- images
# One busybox image in every form: the OCI layout (ccrun, skopeo), an oci-archive
# (podman load), and its layer unpacked as the rootfs of ccrun --rootfs and of the
# crun and runc bundles, so every runtime runs the very same files.
say "building the busybox image: OCI layout, oci-archive, rootfs, bundles"
img=$SCRATCH/img
mkdir -p "$img"

# layer_of LAYOUT: the path of the first layer blob of the layout's first manifest.
layer_of() {
  local m
  m=$(jq -r '.manifests[0].digest' "$1/index.json" | cut -d: -f2)
  echo "$1/blobs/sha256/$(jq -r '.layers[0].digest' "$1/blobs/sha256/$m" | cut -d: -f2)"
}

# ccrun stores oci:DIR:TAG as localhost/<base of DIR>:TAG.
if [ -x "$repo/integration/setup/busybox-oci.sh" ]; then
  SOURCE_DATE_EPOCH=0 "$repo/integration/setup/busybox-oci.sh" "$img/busybox" latest 2>/dev/null
else
  mkdir -p "$img/tree/bin" && cp /bin/busybox "$img/tree/bin/"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$img/tree/bin/$a"; done
  "$here/oci-image.sh" "$img/tree" "$img/busybox" latest sh
fi
mkdir -p "$img/rootfs"
tar -C "$img/rootfs" --numeric-owner -xzf "$(layer_of "$img/busybox")"
# busybox-oci.sh ships /proc, /dev and /sys; the fallback tree above does not.
mkdir -p "$img"/rootfs/{proc,dev,sys}
# podman load names an oci-archive's image after its ref.name annotation.
cp -a "$img/busybox" "$img/podman"
jq '.manifests[0].annotations["org.opencontainers.image.ref.name"] = "localhost/busybox:latest"' \
  "$img/busybox/index.json" > "$img/podman/index.json"
(cd "$img/podman" && tar -cf "$img/busybox.tar" .)
export IMAGE=localhost/busybox:latest OCI_BUSYBOX=$img/busybox OCI_ARCHIVE=$img/busybox.tar

# bundle DIR RUNTIME [--rootless]: RUNTIME's own default spec, running `true`.
bundle() {
  local dir=$1 rt=$2; shift 2
  mkdir -p "$dir"
  cp -a "$img/rootfs" "$dir/rootfs"
  (cd "$dir" && "$rt" spec "$@" && jq '.process.args=["true"] | .process.terminal=false' config.json > c.json && mv c.json config.json)
}
bundle "$SCRATCH/crun" crun
bundle "$SCRATCH/runc" runc
mkdir -p "$SCRATCH/state"/{crun,runc}
# The rootless copies belong to the user: runc's rootless spec maps only the user's
# own uid, so root-owned files would be nobody's in the container.
for rt in crun runc; do
  as_user mkdir -p "$USCRATCH/$rt" "$USCRATCH/state/$rt"
  cp -a "$img/rootfs" "$USCRATCH/$rt/rootfs"
  chown -R "$BENCH_USER:" "$USCRATCH/$rt/rootfs"
  as_user sh -c "cd '$USCRATCH/$rt' && $rt spec --rootless && jq '.process.args=[\"true\"] | .process.terminal=false' config.json > c.json && mv c.json config.json"
done
# The like-for-like crun: the same rootless bundle, but mapping the user's
# subordinate ids as ccrun does (crun then runs newuidmap and newgidmap, the
# setuid helpers ccrun runs too, instead of writing a single-id map itself).
subids() { awk -F: -v u="$BENCH_USER" '$1 == u { print $2; exit }' "$1"; }
idmap() { printf '[{"containerID":0,"hostID":%d,"size":1},{"containerID":1,"hostID":%d,"size":65536}]' "$1" "$2"; }
umap=$(idmap "$(id -u "$BENCH_USER")" "$(subids /etc/subuid)")
gmap=$(idmap "$(id -g "$BENCH_USER")" "$(subids /etc/subgid)")
as_user mkdir -p "$USCRATCH/crun-subids" "$USCRATCH/state/crun-subids"
cp -a "$img/rootfs" "$USCRATCH/crun-subids/rootfs"
chown -R "$BENCH_USER:" "$USCRATCH/crun-subids/rootfs"
as_user sh -c "cd '$USCRATCH/crun-subids' && crun spec --rootless && jq --argjson u '$umap' --argjson g '$gmap' \
  '.process.args=[\"true\"] | .process.terminal=false | .linux.uidMappings=\$u | .linux.gidMappings=\$g' config.json > c.json && mv c.json config.json"
cp -a "$img/rootfs" "$USCRATCH/rootfs" && chown -R "$BENCH_USER:" "$USCRATCH/rootfs"
export ROOTFS=$SCRATCH/img/rootfs UROOTFS=$USCRATCH/rootfs

# ------------------------------------------------------------------ the pull image
# A debootstrap minbase (about 50 MB gzipped), pushed to a local registry.
minbase_tar() {
  local out=$1 root
  if [ -n "$cache" ] && [ -s "$cache/minbase-bookworm.tar" ]; then
    cp "$cache/minbase-bookworm.tar" "$out"
    return
  fi
  say "debootstrap --variant=minbase bookworm (a few minutes; cached in ${cache:-nowhere})"
  root=$SCRATCH/minbase
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$SCRATCH/debootstrap.log" 2>&1 ||
    { tail -20 "$SCRATCH/debootstrap.log" >&2; return 1; }
  # No device nodes (runtimes mount /dev; a user cannot mknod), no apt caches.
  rm -rf "$root"/dev/* "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" --numeric-owner -cf "$out" .
  rm -rf "$root"
  if [ -n "$cache" ]; then
    mkdir -p "$cache" && cp "$out" "$cache/minbase-bookworm.tar"
  fi
}

start_registry() {
  local port cfg i attempt
  cfg=$SCRATCH/registry.yml
  # A free-looking port can still be taken before the registry binds it (by an
  # outgoing connection's ephemeral port): stay below the ephemeral range, and
  # try a few.
  for attempt in 1 2 3 4 5; do
    for i in $(seq 20); do
      port=$(shuf -i 20000-32000 -n 1)
      ss -ltnH "sport = :$port" | grep -q . || break
    done
    cat > "$cfg" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $SCRATCH/registry}}
http: {addr: 127.0.0.1:$port}
EOF
    /usr/bin/docker-registry serve "$cfg" >"$SCRATCH/registry.log" 2>&1 &
    registry_pid=$!
    for i in $(seq 100); do
      curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && { REGISTRY=127.0.0.1:$port; return; }
      kill -0 "$registry_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  done
  cat "$SCRATCH/registry.log" >&2
  return 1
}

export BENCH_SCENARIOS=${BENCH_SCENARIOS:-a b c d e f}
export REGISTRY= MINBASE_TGZ=$SCRATCH/minbase.tar.gz MINBASE_MB=
if [[ " $BENCH_SCENARIOS " != *" d "* ]]; then
  :
elif minbase_tar "$SCRATCH/minbase.tar" && start_registry; then
  mkdir -p "$SCRATCH/minbase-root"
  tar -C "$SCRATCH/minbase-root" --numeric-owner -xf "$SCRATCH/minbase.tar"
  "$here/oci-image.sh" "$SCRATCH/minbase-root" "$SCRATCH/minbase-oci" latest bash
  rm -rf "$SCRATCH/minbase-root" "$SCRATCH/minbase.tar"
  skopeo copy -q --dest-tls-verify=false oci:"$SCRATCH/minbase-oci":latest docker://"$REGISTRY"/minbase:latest
  # The same layer, for the tar -xzf floor.
  cp "$(layer_of "$SCRATCH/minbase-oci")" "$MINBASE_TGZ"
  MINBASE_MB=$(( $(stat -c %s "$MINBASE_TGZ") / 1000000 ))
  say "registry on $REGISTRY holds minbase:latest ($MINBASE_MB MB compressed)"
else
  say "WARNING: no pull image (debootstrap or the registry failed): scenario (d) is skipped"
  REGISTRY=
fi

# --------------------------------------------------------------------------- measure
export RESULTS=$SCRATCH/results.jsonl
jq -cn --arg date "$(date -u +%FT%TZ)" --arg host "$(hostname)" --arg kernel "$(uname -r)" \
  --arg cpus "$(nproc)" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --arg ccrun "$("$CC" version 2>&1 | head -1)" \
  --arg crun "$(crun --version | head -1)" --arg runc "$(runc --version | head -1)" \
  --arg podman "$(podman --version)" --arg skopeo "$(skopeo --version)" \
  --arg cgroups "v1 hybrid; measured in a private mount namespace without /sys/fs/cgroup/unified" \
  '{meta: {date: $date, host: $host, kernel: $kernel, cpus: $cpus, load: $load, cgroups: $cgroups,
           ccrun: $ccrun, crun: $crun, runc: $runc, podman: $podman, skopeo: $skopeo}}' > "$RESULTS"

unshare -m --propagation private "$BASH" "$0" --measure
jq -cn --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" '{meta: {load_end: $load}}' >> "$RESULTS"

mkdir -p "$(dirname "$json")"
"$BENCH" report -json "$json" "$RESULTS" | tee "${json%.json}.txt"
echo
echo "bench: JSON: $json (table: ${json%.json}.txt); took $(( $(date +%s) - started )) s"
