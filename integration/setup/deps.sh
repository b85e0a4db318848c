#!/usr/bin/env bash
# Installs what ccrun's tests need on a fresh Debian 12 machine, and creates the
# unprivileged test user with subordinate id ranges. Idempotent; run as root.
#
#   integration/setup/deps.sh [TEST_USER]
set -euo pipefail
user=${1:-ccrun-test}
[ "$(id -u)" = 0 ] || { echo "deps.sh: run as root (it installs packages and a test user)" >&2; exit 1; }

pkgs=(uidmap busybox-static docker-registry openssl apache2-utils tmux iproute2 util-linux
      qemu-system-x86 qemu-utils debootstrap openssh-client e2fsprogs)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps.sh: installing ${missing[*]}" >&2
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's docker-registry package starts a registry on :5000 at install; the tests
# start their own registries on 127.0.0.1 with their own config.
systemctl disable --now docker-registry >/dev/null 2>&1 || true

# The unprivileged user the rootless half of the suite runs as.
if ! getent passwd "$user" >/dev/null; then
  useradd --create-home --shell /bin/bash --user-group "$user"
fi
for f in /etc/subuid /etc/subgid; do
  touch "$f"
  grep -q "^$user:" "$f" || echo "$user:200000:65536" >> "$f"
done
# A second user with no subordinate ids: ccrun must fall back to a single mapping.
nosub=${user}-nosub
getent passwd "$nosub" >/dev/null || useradd --create-home --shell /bin/bash --user-group "$nosub"
sed -i "/^$nosub:/d" /etc/subuid /etc/subgid

echo "deps.sh: ready (test user $user: $(grep "^$user:" /etc/subuid))" >&2
