#!/usr/bin/env bash
# The README's demo: as an ordinary user, build an OCI image of Debian's busybox-static
# locally (no registry, no network) and run a container from it with ccrun.
#
#   integration/setup/demo.sh USER /path/to/ccrun
set -euo pipefail
user=$1 bin=$2
here=$(cd "$(dirname "$0")" && pwd)
# The checkout may sit where USER cannot read (/root): give it copies of its own.
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
chmod 755 "$tools"
install -m 755 "$bin" "$tools/ccrun"
install -m 755 "$here/busybox-oci.sh" "$tools/busybox-oci.sh"
home=$(getent passwd "$user" | cut -d: -f6)
cd /
runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" USER="$user" \
  sh -c '
    set -e
    img=$(mktemp -d)
    trap "rm -rf \"$img\"" EXIT
    SOURCE_DATE_EPOCH=1700000000 "$0/busybox-oci.sh" "$img/busybox" >/dev/null 2>&1
    set -x
    "$0/ccrun" run --rm -q "oci:$img/busybox:latest" sh -c "echo hello from \$(hostname), pid \$\$; id; cat /proc/self/uid_map"
  ' "$tools"
