#!/usr/bin/env bash
# Build the ccrun test guest once: Debian bookworm, systemd as PID 1, unified
# cgroup v2, user "dev" (uid 1000) lingering so user@1000.service (with
# cgroup delegation) runs from boot, sshd for commands, a busybox root filesystem
# tarball for the containers. The project's copy of ../shared/vm (without podman:
# the guest only runs ccrun, and every package costs build time in CI).
#
#   integration/vm/build.sh            build if missing or if this script changed
#   integration/vm/build.sh --force    rebuild the disk image (reuses the debootstrap)
#   integration/vm/build.sh --clean    delete everything under $CCRUN_VM_DIR first
#
# Needs root (debootstrap, chroot) and Debian's apt. Output: $CCRUN_VM_DIR
# (default /var/cache/ccrun-vm): root.img, vmlinuz, initrd.img, ssh/id_ed25519.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

force=0 clean=0
for a in "$@"; do
  case $a in
    --force) force=1 ;;
    --clean) clean=1; force=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) vm_die "unknown argument: $a" ;;
  esac
done
[ "$(id -u)" = 0 ] || vm_die "build.sh must run as root (debootstrap, chroot)"

# Packages: systemd with user sessions (the user bus), newuidmap, sshd; the kernel.
BASE_PKGS=systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,udev,kmod,uidmap,iproute2,openssh-server,procps,less,e2fsprogs,util-linux
EXTRA_PKGS="linux-image-amd64 initramfs-tools zstd busybox-static"
IMG_SIZE=${CCRUN_VM_IMG_SIZE:-4G}

stamp_want=$( (cat "$here/build.sh" "$here/lib.sh") | sha256sum | cut -c1-16)
if [ $force = 0 ] && [ -f "$VM_DIR/image.stamp" ] && [ "$(cat "$VM_DIR/image.stamp")" = "$stamp_want" ] &&
   [ -f "$VM_IMG" ] && [ -f "$VM_KERNEL" ] && [ -f "$VM_INITRD" ] && [ -f "$VM_KEY" ]; then
  vm_log "image is up to date: $VM_IMG ($(cat "$VM_DIR/build-time.txt" 2>/dev/null || echo '?'))"
  exit 0
fi
if vm_qemu_alive; then vm_die "the guest is running; run integration/vm/stop.sh first"; fi

t0=$(date +%s) times=()
if [ $clean = 1 ]; then vm_log "removing $VM_DIR"; rm -rf --one-file-system "$VM_DIR"; fi
mkdir -p "$VM_DIR/ssh"

# --- host tools ---------------------------------------------------------------
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v ssh >/dev/null || need+=(openssh-client)
if [ ${#need[@]} -gt 0 ]; then
  vm_log "installing host packages: ${need[*]}"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}"
fi

# --- ssh key used by run.sh -----------------------------------------------------
[ -f "$VM_KEY" ] || ssh-keygen -q -t ed25519 -N '' -C ccrun-vm -f "$VM_KEY"

# --- chroot helpers --------------------------------------------------------------
R=$VM_ROOTFS
mounted=()
umount_all() {
  local i
  for ((i=${#mounted[@]}-1; i>=0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
  mounted=()
}
trap umount_all EXIT
mount_chroot() {
  mount -t proc proc "$R/proc"; mounted+=("$R/proc")
  mount -t sysfs sys "$R/sys"; mounted+=("$R/sys")
  mount --bind /dev "$R/dev"; mounted+=("$R/dev")
  mount -t devpts devpts "$R/dev/pts" -o newinstance,ptmxmode=0666 2>/dev/null && mounted+=("$R/dev/pts") || true
  mount -t tmpfs tmpfs "$R/run"; mounted+=("$R/run")
}
in_chroot() { LC_ALL=C DEBIAN_FRONTEND=noninteractive chroot "$R" /usr/bin/env PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

# --- stage 1: debootstrap ---------------------------------------------------------
if [ "$(cat "$R/.ccrun-stage1" 2>/dev/null)" != "$BASE_PKGS" ]; then
  vm_log "debootstrap $VM_SUITE into $R"
  rm -rf --one-file-system "$R"
  ts=$(date +%s)
  debootstrap --variant=minbase --include="$BASE_PKGS" "$VM_SUITE" "$R" "$VM_MIRROR" > "$VM_DIR/debootstrap.log" 2>&1 ||
    { tail -20 "$VM_DIR/debootstrap.log" >&2; vm_die "debootstrap failed (log: $VM_DIR/debootstrap.log)"; }
  echo "$BASE_PKGS" > "$R/.ccrun-stage1"
  times+=("debootstrap $(( $(date +%s) - ts ))s")
  vm_log "debootstrap took $(( $(date +%s) - ts ))s"
fi

# --- stage 2: kernel, busybox ---------------------------------------------------------
if [ "$(cat "$R/.ccrun-stage2" 2>/dev/null)" != "$EXTRA_PKGS" ]; then
  vm_log "installing in the guest: $EXTRA_PKGS"
  ts=$(date +%s)
  mirror_sec=${VM_MIRROR%/debian}/debian-security
  cat > "$R/etc/apt/sources.list" <<EOF
deb $VM_MIRROR $VM_SUITE main
deb $VM_MIRROR $VM_SUITE-updates main
deb $mirror_sec $VM_SUITE-security main
EOF
  printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"; chmod 755 "$R/usr/sbin/policy-rc.d"
  # initramfs: the Debian kernel has virtio/ext4/9p as modules; do not probe the build host.
  mkdir -p "$R/etc/initramfs-tools/conf.d"
  printf 'MODULES=list\nCOMPRESS=zstd\n' > "$R/etc/initramfs-tools/conf.d/ccrun.conf"
  printf '%s\n' virtio_pci virtio_blk virtio_net ext4 > "$R/etc/initramfs-tools/modules"
  mount_chroot
  in_chroot apt-get -o DPkg::Lock::Timeout=600 update -qq > "$VM_DIR/apt.log" 2>&1
  # shellcheck disable=SC2086
  in_chroot apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $EXTRA_PKGS >> "$VM_DIR/apt.log" 2>&1 ||
    { tail -30 "$VM_DIR/apt.log" >&2; vm_die "apt-get install in the guest failed (log: $VM_DIR/apt.log)"; }
  in_chroot apt-get clean
  umount_all
  rm -f "$R/usr/sbin/policy-rc.d"
  echo "$EXTRA_PKGS" > "$R/.ccrun-stage2"
  times+=("guest packages $(( $(date +%s) - ts ))s")
  vm_log "package install took $(( $(date +%s) - ts ))s"
fi

# --- stage 3: configuration (always re-applied; idempotent) ---------------------------
vm_log "configuring the guest"
ts=$(date +%s)
echo ccrun-vm > "$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tccrun-vm\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$R/etc/hosts"
printf '/dev/vda\t/\text4\trw,noatime\t0\t0\n' > "$R/etc/fstab"
[ -s "$R/etc/machine-id" ] || in_chroot systemd-machine-id-setup >/dev/null  # fixed id: every boot starts from this image

# network: qemu user-mode networking (slirp), static address, no DHCP wait
mkdir -p "$R/etc/systemd/network"
cat > "$R/etc/systemd/network/10-qemu.network" <<'EOF'
[Match]
Name=en* eth*
[Network]
Address=10.0.2.15/24
Gateway=10.0.2.2
LinkLocalAddressing=no
IPv6AcceptRA=no
EOF
printf 'nameserver 10.0.2.3\n' > "$R/etc/resolv.conf"
printf 'LANG=C.UTF-8\n' > "$R/etc/default/locale"

# user dev with subordinate ids, lingering (user@1000.service starts at boot)
if ! in_chroot getent passwd "$VM_USER" >/dev/null; then
  in_chroot useradd -m -u "$VM_UID" -U -s /bin/bash "$VM_USER"
fi
in_chroot usermod -p '*' "$VM_USER"   # no password, not "locked": key login only
for f in subuid subgid; do
  grep -v "^$VM_USER:" "$R/etc/$f" 2>/dev/null > "$R/etc/$f.new" || true
  echo "$VM_USER:100000:65536" >> "$R/etc/$f.new"; mv "$R/etc/$f.new" "$R/etc/$f"; chmod 644 "$R/etc/$f"
done
mkdir -p "$R/var/lib/systemd/linger"; touch "$R/var/lib/systemd/linger/$VM_USER"

# user nocpu (uid 1001): lingering too, but its systemd is delegated memory and pids
# only (an instance drop-in, read after delegate.conf below; the empty Delegate=
# resets the list): for the test of the error that names the drop-in to delegate cpu.
if ! in_chroot getent passwd nocpu >/dev/null; then
  in_chroot useradd -m -u 1001 -U -s /bin/bash nocpu
fi
for f in subuid subgid; do
  grep -q '^nocpu:' "$R/etc/$f" || echo "nocpu:165536:65536" >> "$R/etc/$f"
done
touch "$R/var/lib/systemd/linger/nocpu"
mkdir -p "$R/etc/systemd/system/user@1001.service.d"
printf '[Service]\nDelegate=\nDelegate=memory pids\n' > "$R/etc/systemd/system/user@1001.service.d/zz-nocpu.conf"

# cgroup delegation to the user manager: bookworm's user@.service already has
# "Delegate=pids memory cpu"; add cpuset and io as rootless podman recommends.
mkdir -p "$R/etc/systemd/system/user@.service.d"
printf '[Service]\nDelegate=cpu cpuset io memory pids\n' > "$R/etc/systemd/system/user@.service.d/delegate.conf"

# journald in memory only; no timers that wake up during tests
mkdir -p "$R/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' > "$R/etc/systemd/journald.conf.d/ccrun.conf"

# sshd: key login for dev and root, many multiplexed sessions
for u in root "$VM_USER"; do
  h=$(in_chroot getent passwd "$u" | cut -d: -f6)
  mkdir -p "$R$h/.ssh"; cp "$VM_KEY.pub" "$R$h/.ssh/authorized_keys"
  chmod 700 "$R$h/.ssh"; chmod 600 "$R$h/.ssh/authorized_keys"
  in_chroot chown -R "$u:" "$h/.ssh"
done
cat > "$R/etc/ssh/sshd_config.d/ccrun.conf" <<'EOF'
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
MaxSessions 200
MaxStartups 200:30:400
AcceptEnv CCRUN_*
EOF

# 9p shares: run.sh passes ccrun.shareN=/host/path on the kernel command line
# and exports that host path with mount_tag shareN; mount it at the same path.
printf '9p\n9pnet_virtio\n' > "$R/etc/modules-load.d/ccrun.conf"
cat > "$R/usr/local/sbin/ccrun-mount-shares" <<'EOF'
#!/bin/sh
# Mount the host directories that integration/vm/run.sh exported (kernel cmdline ccrun.shareN=PATH).
for w in $(cat /proc/cmdline); do
  case $w in
    ccrun.share[0-9]*=r[ow],/?*)
      tag=${w%%=*}; tag=${tag#ccrun.}; v=${w#*=}; mode=${v%%,*}; path=${v#*,}
      mkdir -p "$path"
      mountpoint -q "$path" ||
        mount -t 9p -o "$mode,trans=virtio,version=9p2000.L,msize=524288,access=user" "$tag" "$path" ||
        echo "ccrun: cannot mount $tag at $path" >&2
      ;;
  esac
done
exit 0
EOF
chmod 755 "$R/usr/local/sbin/ccrun-mount-shares"
cat > "$R/etc/systemd/system/ccrun-shares.service" <<'EOF'
[Unit]
Description=Mount host directories shared by integration/vm/run.sh
DefaultDependencies=no
# after tmpfiles: it empties /tmp at boot and must never see a host directory
After=systemd-modules-load.service local-fs.target systemd-tmpfiles-setup.service
Before=ssh.service multi-user.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/ccrun-mount-shares
[Install]
WantedBy=multi-user.target
EOF

# the containers' root: busybox-static as a tarball (tests unpack it with tar)
rm -rf "$R/tmp/bbroot"; mkdir -p "$R/tmp/bbroot/bin" "$R/usr/local/share/ccrun"
cp "$R/bin/busybox" "$R/tmp/bbroot/bin/busybox"
for a in $(in_chroot /bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$R/tmp/bbroot/bin/$a"; done
mkdir -p "$R/tmp/bbroot/"{etc,proc,sys,dev,tmp}
tar -C "$R/tmp/bbroot" --numeric-owner --owner=0 --group=0 -cf "$R/usr/local/share/ccrun/busybox-rootfs.tar" .
rm -rf "$R/tmp/bbroot"

# services: enable what we need, mask what only slows a test VM down
in_chroot systemctl enable systemd-networkd.service ccrun-shares.service ssh.service >/dev/null 2>&1
for u in systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
         e2scrub_all.timer e2scrub_reap.service fstrim.timer dpkg-db-backup.timer \
         getty@tty1.service systemd-timesyncd.service \
         modprobe@drm.service modprobe@efi_pstore.service systemd-tmpfiles-clean.timer; do
  ln -sf /dev/null "$R/etc/systemd/system/$u"
done

# --- stage 4: kernel, initrd, ext4 image ----------------------------------------------
kver=$(ls "$R/lib/modules" | sort -V | tail -1)
[ -n "$kver" ] || vm_die "no kernel in the guest"
cp "$R/boot/vmlinuz-$kver" "$VM_KERNEL"
cp "$R/boot/initrd.img-$kver" "$VM_INITRD"
umount_all
rm -rf "${R:?}/var/lib/apt/lists/"* "$R/var/cache/apt/"*.bin "$R/var/log/"*.log
vm_log "creating $IMG_SIZE ext4 image $VM_IMG"
rm -f "$VM_IMG.new"
mkfs.ext4 -q -F -L ccrun-root -E root_owner=0:0 -d "$R" "$VM_IMG.new" "$IMG_SIZE" >/dev/null
mv "$VM_IMG.new" "$VM_IMG"

t1=$(date +%s)
echo "$stamp_want" > "$VM_DIR/image.stamp"
times+=("configure+image $((t1 - ts))s")
echo "built $(date -u +%FT%TZ) in $((t1 - t0))s (${times[*]}); kernel $kver; image $(du -h "$VM_IMG" | cut -f1) used" > "$VM_DIR/build-time.txt"
vm_log "done in $((t1 - t0))s: $VM_IMG ($(du -h --apparent-size "$VM_IMG" | cut -f1) apparent, $(du -h "$VM_IMG" | cut -f1) used), kernel $kver"
