#!/usr/bin/env bash
# Runs the integration suite as an unprivileged user: compiles the test binary,
# copies it and ccrun into a scratch directory that user can read, and runs it there
# with a clean login-like environment (no XDG_RUNTIME_DIR, as under su or in CI).
#
#   integration/setup/as-user.sh USER /path/to/ccrun [go test flags...]
set -euo pipefail
user=$1 bin=$2; shift 2
here=$(cd "$(dirname "$0")/../.." && pwd)
tags="containers_image_openpgp exclude_graphdriver_btrfs exclude_graphdriver_devicemapper"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
chmod 755 "$scratch"
(cd "$here" && go test -c -tags "$tags" -o "$scratch/integration.test" ./integration/)
install -m 755 "$bin" "$scratch/ccrun"
# The checkout may sit where the user cannot read (/root): TestBusyboxOCIScript
# finds its script through CCRUN_SRC, so give it a readable copy, not a skip.
install -D -m 755 "$here/integration/setup/busybox-oci.sh" "$scratch/src/integration/setup/busybox-oci.sh"
home=$(getent passwd "$user" | cut -d: -f6)
cd "$scratch"
runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" USER="$user" \
  LANG=C.UTF-8 CCRUN_BIN="$scratch/ccrun" CCRUN_SRC="$scratch/src" CCRUN_INIT_CLONE="${CCRUN_INIT_CLONE:-}" \
  "$scratch/integration.test" -test.count=1 -test.timeout=20m "$@"
