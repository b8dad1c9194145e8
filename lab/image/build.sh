#!/usr/bin/env bash
# build.sh OUT.tar.zst : debootstrap the Debian 12 (bookworm) root filesystem of a lab host and pack it.
# The image is generic: no SSH key, no CA bundle, no hostname — labhost injects those per host at `up`,
# so a cached image never holds a secret or a session-specific certificate.
# labhost rebuilds the image when the sha256 of this file changes, so the package list lives here.
set -euo pipefail
OUT=${1:?usage: build.sh OUT.tar.zst}
SUITE=bookworm
MIRROR=${LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=(
  systemd systemd-sysv dbus openssh-server
  python3 python3-apt python3-venv python3-pip python3-packaging
  iproute2 sudo ca-certificates procps curl less
)

work=$(mktemp -d /var/tmp/rocketce-lab-image.XXXXXX)
cleanup() {
  # An interrupted debootstrap can leave /proc, /sys... mounted inside the rootfs: unmount before deleting.
  awk -v w="$work/" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
root=$work/rootfs
include=$(IFS=,; echo "${PACKAGES[*]}")
debootstrap --variant=minbase --include="$include" "$SUITE" "$root" "$MIRROR"

# Each host must get its own machine-id at first boot.
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
echo labhost > "$root/etc/hostname"
install -d -m 0700 "$root/root/.ssh"
# Host keys are generated per host at `up` (one identity per lab host, not one per image).
rm -f "$root"/etc/ssh/ssh_host_*
printf 'PermitRootLogin prohibit-password\nUseDNS no\nHostKey /etc/ssh/ssh_host_ed25519_key\n' \
  > "$root/etc/ssh/sshd_config.d/10-lab.conf"
# Units that cannot work in a container (no block devices, the controller owns the clock) or that would
# fight the tests for the apt lock.
for unit in e2scrub_reap.service systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log

mkdir -p "$(dirname "$OUT")"
tar -C "$root" --numeric-owner -cf - . | zstd -q -T0 -3 -o "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
