# The scenarios of `make bench`, sourced by bench.sh inside its private mount
# namespace (where /sys/fs/cgroup/unified is unmounted for crun's sake). Every row
# is one `bench time` or `bench rss` call appending a JSON line to $RESULTS; a row
# that fails is recorded as failed, with the tool's stderr, and the rest go on.
# shellcheck shell=bash

say() { printf 'bench: %s\n' "$*" >&2; }

# as_user runs a set-up command (never a timed one) as the benchmark user.
as_user() {
  runuser -u "$BENCH_USER" -- env -i PATH="$PATH" HOME="$UHOME" LANG=C.UTF-8 "$@"
}

# time_row and rss_row measure one row; the rootless rows pass -user "$BENCH_USER".
time_row() { "$BENCH" time -out "$RESULTS" "$@" || say "bench time $* failed"; }
rss_row() { "$BENCH" rss -out "$RESULTS" "$@" || say "bench rss $* failed"; }
skip_row() { "$BENCH" skip -out "$RESULTS" "$@"; }

counts() {
  if [ "$BENCH_QUICK" = 1 ]; then
    N_A=10 N_B=1 BATCH=20 N_C=3 N_D=1 N_E=2 N_F=10 WARM=1
  else
    N_A=100 N_B=3 BATCH=100 N_C=10 N_D=3 N_E=5 N_F=100 WARM=5
  fi
}

# The runtimes' command lines. ccrun and podman get stores of their own in the
# scratch directories; rootless podman a runtime directory of its own too.
setup_commands() {
  CCU=("$CC" --root "$USCRATCH/ccrun/storage" --runroot "$USCRATCH/ccrun/run")
  CCR=("$CC" --root "$SCRATCH/ccrun/storage" --runroot "$SCRATCH/ccrun/run")
  local podman_opts=(--storage-driver overlay --cgroup-manager cgroupfs --events-backend file)
  # podman refuses a run root longer than 50 characters: short names.
  PODU=(podman --root "$USCRATCH/pod/s" --runroot "$USCRATCH/pod/r" --tmpdir "$USCRATCH/pod/t" "${podman_opts[@]}")
  PODR=(podman --root "$SCRATCH/pod/s" --runroot "$SCRATCH/pod/r" --tmpdir "$SCRATCH/pod/t" "${podman_opts[@]}")
  PODU_ENV=XDG_RUNTIME_DIR=$USCRATCH/xdg
  # Peers' caches and config (blob-info-cache, cni) stay in the scratch, not in HOME.
  PEER_ENV=(-env "XDG_DATA_HOME=$USCRATCH/xdg/data" -env "XDG_CONFIG_HOME=$USCRATCH/xdg/config")
  # As root, podman asks for RLIMIT_NOFILE 1048576, which root without
  # CAP_SYS_RESOURCE cannot grant: the limits of crun's and runc's default specs.
  POD_ULIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=32768:32768)
  as_user mkdir -p -m 700 "$USCRATCH/xdg" "$USCRATCH/ccrun"
  mkdir -p "$SCRATCH/ccrun"
}

# why prints the line of a ccrun failure that says what went wrong.
why() { grep -m1 '^ccrun' <<<"$1" || head -1 <<<"$1"; }

# probe_images checks, untimed, what this ccrun can do yet, and fills its store with
# the busybox image: `ccrun pull` of the OCI layout, or else a first `ccrun run` of
# it, which pulls what is missing. Sets PULL_CMD to how (d) pulls (`pull`, or `run`
# of the image, which also runs it) and IMG_USER, IMG_ROOT, PULL_USER to "" when the
# step works, else to the reason.
probe_images() {
  local out
  PULL_USER= IMG_USER= IMG_ROOT= PULL_CMD=pull
  if ! out=$(as_user "$CC" pull --help 2>&1); then
    PULL_CMD=run
  fi
  if ! out=$(probe_one as_user "${CCU[@]}"); then
    IMG_USER="ccrun cannot run an image yet: $(why "$out")"
    PULL_USER="ccrun cannot pull yet: $(why "$out")"
  fi
  if ! out=$(probe_one "${CCR[@]}"); then
    IMG_ROOT="ccrun cannot run an image yet: $(why "$out")"
  fi
  [ -z "$IMG_USER" ] || say "rootless: $IMG_USER; measuring --rootfs only"
  [ -z "$IMG_ROOT" ] || say "root: $IMG_ROOT; measuring --rootfs only"
  [ "$PULL_CMD" = pull ] || say "ccrun has no pull command yet: (d) times 'ccrun run --rm IMAGE true' from an empty store"
  if ! out=$(as_user env "$PODU_ENV" "XDG_DATA_HOME=$USCRATCH/xdg/data" "XDG_CONFIG_HOME=$USCRATCH/xdg/config" "${PODU[@]}" load -q -i "$OCI_ARCHIVE" 2>&1); then
    say "rootless podman cannot load the image: $out"
  fi
  if ! out=$("${PODR[@]}" load -q -i "$OCI_ARCHIVE" 2>&1); then
    say "podman cannot load the image: $out"
  fi
}

# probe_one [as_user] CCRUN...: puts the busybox layout in the store and runs it by
# name, printing what went wrong.
probe_one() {
  if [ "$PULL_CMD" = pull ]; then
    "$@" pull -q "oci:$OCI_BUSYBOX:latest" 2>&1 || return
  else
    "$@" run --rm -q "oci:$OCI_BUSYBOX:latest" true 2>&1 || return
  fi
  "$@" run --rm "$IMAGE" true 2>&1
}

# run_rows measures, in one `bench time` (rows sampled in turn), `CMD...` in every
# runtime: $1 scenario id, $2 title, $3 "user" or "root", then bench time flags,
# then --, then the command inside the container (true).
run_rows() {
  local sc=$1 title=$2 who=$3; shift 3
  local flags=() cmd rows=()
  while [ "$1" != -- ]; do flags+=("$1"); shift; done
  shift
  cmd=("$@")
  if [ "$who" = user ]; then
    flags+=(-user "$BENCH_USER")
    local cc=("${CCU[@]}") pod=("${PODU[@]}") img_skip=$IMG_USER rootfs=$UROOTFS
    local crun_b=$USCRATCH/crun crun_s=$USCRATCH/state/crun runc_b=$USCRATCH/runc runc_s=$USCRATCH/state/runc
    local unshare=(unshare -Ur --fork --pid --mount --uts --ipc) pod_env=(-env "$PODU_ENV" "${PEER_ENV[@]}")
  else
    local cc=("${CCR[@]}") pod=("${PODR[@]}") img_skip=$IMG_ROOT rootfs=$ROOTFS
    local crun_b=$SCRATCH/crun crun_s=$SCRATCH/state/crun runc_b=$SCRATCH/runc runc_s=$SCRATCH/state/runc
    local unshare=(unshare --fork --pid --mount --uts --ipc) pod_env=()
  fi
  if [ -z "$img_skip" ]; then
    rows+=(--- -name "ccrun run --rm IMAGE" -primary -- "${cc[@]}" run --rm "$IMAGE" "${cmd[@]}")
    rows+=(--- -name "ccrun run --rootfs DIR" -- "${cc[@]}" run --rootfs "$rootfs" "${cmd[@]}")
  else
    rows+=(--- -name "ccrun run --rm IMAGE" -skip "$img_skip")
    rows+=(--- -name "ccrun run --rootfs DIR" -primary -- "${cc[@]}" run --rootfs "$rootfs" "${cmd[@]}")
  fi
  rows+=(--- -name "crun run BUNDLE" -- crun --root "$crun_s" run -b "$crun_b" "bench{i}")
  if [ "$who" = user ] && [[ "$sc" == a-* ]]; then
    rows+=(--- -name "crun run BUNDLE, subordinate ids mapped" -- \
      crun --root "$USCRATCH/state/crun-subids" run -b "$USCRATCH/crun-subids" "bench{i}")
  fi
  rows+=(--- -name "runc run BUNDLE" -- runc --root "$runc_s" run -b "$runc_b" "bench{i}")
  rows+=(--- -name "podman run --rm --network none" "${pod_env[@]}" -- \
    "${pod[@]}" run --rm --pull never --network none "${POD_ULIMITS[@]}" "$IMAGE" "${cmd[@]}")
  if [[ "$sc" == a-* ]]; then
    rows+=(--- -name "${unshare[*]} (floor)" -- "${unshare[@]}" "${cmd[@]}")
  fi
  time_row -scenario "$sc" -title "$title" "${flags[@]}" "${rows[@]}"
}

scenario_a() {
  say "(a) run true, rootless and as root: $N_A runs each"
  run_rows a-rootless "(a) run true, rootless: one run" user -runs "$N_A" -warmup "$WARM" -- true
  run_rows a-root "(a) run true, as root: one run" root -runs "$N_A" -warmup "$WARM" -- true
}

scenario_b() {
  say "(b) $BATCH sequential runs, rootless: $N_B samples"
  run_rows b-sequential "(b) $BATCH sequential runs of true, rootless: all $BATCH" user \
    -runs "$N_B" -warmup 0 -batch "$BATCH" -- true
}

scenario_c() {
  say "(c) 10 concurrent runs, rootless: $N_C samples"
  run_rows c-concurrent "(c) 10 concurrent runs of true, rootless: until the last exits" user \
    -runs "$N_C" -warmup 1 -concurrent 10 -- true
}

scenario_d() {
  local sc=(-scenario d-pull -title "(d) pull minbase (${MINBASE_MB} MB) from a local registry, rootless" -user "$BENCH_USER" -runs "$N_D" -warmup 0)
  local src=$REGISTRY/minbase:latest d
  if [ -z "$REGISTRY" ]; then
    skip_row "${sc[@]}" -name "ccrun pull" -reason "no registry image (see the warnings above)"
    return
  fi
  say "(d) pull $MINBASE_MB MB, rootless: $N_D samples"
  # Each sample starts from an empty store; the prepare step (as root) empties it.
  empty() { echo "rm -rf '$1' && mkdir -p '$1' && chown $BENCH_USER: '$1'"; }
  d=$USCRATCH/p
  local rows=()
  if [ -z "$PULL_USER" ] && [ "$PULL_CMD" = pull ]; then
    rows+=(--- -name "ccrun pull" -primary -prepare "$(empty "$d/ccrun")" -- \
      "$CC" --root "$d/ccrun/storage" --runroot "$d/ccrun/run" pull -q --tls-verify=false "$src")
  elif [ -z "$PULL_USER" ]; then
    rows+=(--- -name "ccrun run --rm IMAGE true (pull + run)" -primary -prepare "$(empty "$d/ccrun")" -- \
      "$CC" --root "$d/ccrun/storage" --runroot "$d/ccrun/run" run --rm -q --tls-verify=false "$src" true)
  else
    rows+=(--- -name "ccrun pull" -skip "$PULL_USER")
  fi
  rows+=(--- -name "podman pull" -env "$PODU_ENV" "${PEER_ENV[@]}" -prepare "$(empty "$d/podman")" -- \
    podman --root "$d/podman/s" --runroot "$d/podman/r" --tmpdir "$USCRATCH/pod/t" \
    --storage-driver overlay --cgroup-manager cgroupfs --events-backend file \
    pull -q --tls-verify=false "$src")
  rows+=(--- -name "skopeo copy to containers-storage" "${PEER_ENV[@]}" -prepare "$(empty "$d/skopeo")" -- \
    skopeo copy -q --src-tls-verify=false "docker://$src" \
    "containers-storage:[overlay@$d/skopeo/storage+$d/skopeo/run]$src")
  rows+=(--- -name "skopeo copy to dir: (download only)" "${PEER_ENV[@]}" -prepare "$(empty "$d/dir")" -- \
    skopeo copy -q --src-tls-verify=false "docker://$src" "dir:$d/dir/minbase")
  rows+=(--- -name "tar -xzf of its layer (unpack only)" -prepare "$(empty "$d/tar")" -- \
    tar -C "$d/tar" -xzf "$MINBASE_TGZ")
  time_row "${sc[@]}" "${rows[@]}"
}

scenario_e() {
  say "(e) peak RSS during run (sleep 1), rootless: $N_E runs"
  local sc=(-scenario e-rss -title "(e) peak RSS of the runtime's processes during a run (sleep 1), rootless" -user "$BENCH_USER" -runs "$N_E")
  if [ -z "$IMG_USER" ]; then
    rss_row "${sc[@]}" -name "ccrun run --rm IMAGE (all its processes)" -primary -exe "ccrun=$CC" -- \
      "${CCU[@]}" run --rm "$IMAGE" sleep 1
    rss_row "${sc[@]}" -name "ccrun run --rootfs DIR" -exe "ccrun=$CC" -- \
      "${CCU[@]}" run --rootfs "$UROOTFS" sleep 1
  else
    skip_row "${sc[@]}" -name "ccrun run --rm IMAGE (all its processes)" -reason "$IMG_USER"
    rss_row "${sc[@]}" -name "ccrun run --rootfs DIR (all its processes)" -primary -exe "ccrun=$CC" -- \
      "${CCU[@]}" run --rootfs "$UROOTFS" sleep 1
  fi
  rss_row "${sc[@]}" -name "podman + conmon (crun apart)" -env "$PODU_ENV" "${PEER_ENV[@]}" \
    -exe podman=/usr/bin/podman -exe conmon=/usr/bin/conmon -exe crun=/usr/bin/crun -sum podman,conmon -- \
    "${PODU[@]}" run --rm --pull never --network none "${POD_ULIMITS[@]}" "$IMAGE" sleep 1
}

scenario_f() {
  say "(f) start-up: version, $N_F runs"
  local sc=(-scenario f-version -title "(f) start-up: print the version" -user "$BENCH_USER" -runs "$N_F" -warmup "$WARM")
  time_row "${sc[@]}" -name "ccrun version" -primary -- "$CC" version
  time_row "${sc[@]}" -name "crun --version" -- crun --version
  time_row "${sc[@]}" -name "runc --version" -- runc --version
  time_row "${sc[@]}" -name "podman --version" -env "$PODU_ENV" "${PEER_ENV[@]}" -- podman --version
}

measure() {
  # crun 1.8 refuses the hybrid layout; this namespace is private, the host keeps it.
  if mountpoint -q /sys/fs/cgroup/unified; then
    umount /sys/fs/cgroup/unified
  fi
  counts
  setup_commands
  probe_images
  local s
  for s in ${BENCH_SCENARIOS:-a b c d e f}; do
    "scenario_$s"
  done
}
