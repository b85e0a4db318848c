#!/usr/bin/env bash
# Builds a busybox root filesystem from Debian's busybox-static into DIR:
# /bin with every applet, /etc/passwd and /etc/group, /tmp and /root.
#
#   integration/setup/busybox-rootfs.sh DIR
set -euo pipefail
dir=${1:?usage: busybox-rootfs.sh DIR}
[ -x /bin/busybox ] || { echo "busybox-rootfs.sh: /bin/busybox missing: apt-get install busybox-static" >&2; exit 1; }
mkdir -p "$dir"/{bin,etc,tmp,root}
chmod 1777 "$dir/tmp"
cp /bin/busybox "$dir/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$dir/etc/passwd"
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' > "$dir/etc/group"
