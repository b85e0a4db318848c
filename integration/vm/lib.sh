# shellcheck shell=bash
# Shared settings for integration/vm/{build,run,stop}.sh. Sourced, not executed.

VM_DIR=${CCRUN_VM_DIR:-/var/cache/ccrun-vm}    # images, keys, pid, logs (a cache: not /tmp)
VM_PORT=${CCRUN_VM_PORT:-5122}                 # host loopback port -> guest sshd
VM_MEM=${CCRUN_VM_MEM:-2048}                   # MiB
VM_CPUS=${CCRUN_VM_CPUS:-2}
VM_ACCEL=${CCRUN_VM_ACCEL:-tcg}                # tcg (works here) or kvm (not usable on these hosts)
VM_BOOT_TIMEOUT=${CCRUN_VM_BOOT_TIMEOUT:-300}  # seconds to wait for the guest to be ready
VM_MIRROR=${CCRUN_VM_MIRROR:-http://deb.debian.org/debian}
VM_SUITE=bookworm
VM_USER=dev
VM_UID=1000

VM_ROOTFS=$VM_DIR/rootfs
VM_IMG=$VM_DIR/root.img
VM_KERNEL=$VM_DIR/vmlinuz
VM_INITRD=$VM_DIR/initrd.img
VM_KEY=$VM_DIR/ssh/id_ed25519
VM_PIDFILE=$VM_DIR/qemu.pid
VM_CONSOLE=$VM_DIR/console.log
VM_STATE=$VM_DIR/running.env                   # shares/port of the running guest
VM_CTL=$VM_DIR/ssh/ctl-%r                      # ssh ControlMaster socket

vm_log() { printf '[vm] %s\n' "$*" >&2; }
vm_die() { printf '[vm] error: %s\n' "$*" >&2; exit 125; }

vm_qemu_alive() {
  [ -s "$VM_PIDFILE" ] || return 1
  local pid
  pid=$(cat "$VM_PIDFILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
    grep -q qemu-system "/proc/$pid/cmdline" 2>/dev/null
}

# ssh to the guest as $1 (dev|root); remaining args passed to ssh.
vm_ssh() {
  local user=$1; shift
  ssh -p "$VM_PORT" -i "$VM_KEY" \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o LogLevel=ERROR -o BatchMode=yes -o ConnectTimeout=10 \
    -o ServerAliveInterval=15 -o ServerAliveCountMax=8 \
    -o ControlMaster=auto -o ControlPath="$VM_CTL" -o ControlPersist=1800 \
    "$user@127.0.0.1" "$@"
}
