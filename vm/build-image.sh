#!/bin/bash
# Builds the VM test's Debian 12 image: a bookworm root filesystem (debootstrap, from the mirror this
# machine's own apt sources name) with the VM test's additions of vm/image/, as an ext4 image plus the kernel and
# initrd to boot it directly. Usage: build-image.sh OUT_DIR (created; must not exist). Needs root.
set -euo pipefail
out=${1:?usage: build-image.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
[ ! -e "$out" ] || { echo "build-image: $out already exists" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "build-image: debootstrap needs root" >&2; exit 1; }

# The first bookworm mirror in the machine's apt sources (deb822 .sources first, then one-line .list files).
mirror_from_apt_sources() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
      { uris = ""; ok = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris); split(uris, u, /[ \t]+/); uris = u[1] }
          if ($i ~ /^Suites:/ && (" " $i " ") ~ /[ \t]bookworm[ \t]/) ok = 1
        }
        if (ok && uris != "") { print uris; exit } }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -E 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && $3 == "bookworm" { print $2 }'
  done
}
mirror=$(mirror_from_apt_sources | sed -n 1p)
[ -n "$mirror" ] || { echo "build-image: no bookworm mirror in /etc/apt/sources.list{,.d/}" >&2; exit 1; }

work=$(mktemp -d "$(dirname "$out")/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
packages=$(grep -v -e '^#' -e '^[[:space:]]*$' "$here/image-packages.txt" | paste -sd, -)
# The debootstrapped tree is kept beside the images, keyed by the package list, so a change to the
# stand-ins below does not debootstrap again; downloaded .debs are kept too.
cache=$(cd "$(dirname "$out")" && pwd)
base="$cache/rootfs-$(printf '%s' "$packages" | sha256sum | cut -c1-16).tar.zst"
mkdir -p "$root"
if [ ! -s "$base" ]; then
  echo "build-image: debootstrap bookworm from $mirror"
  mkdir -p "$cache/debs"
  debootstrap --variant=minbase --cache-dir="$cache/debs" --include="$packages" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" "$root/debootstrap/debootstrap.log" >&2; exit 1; }
  tar -C "$root" --numeric-owner --xattrs -cf - . | zstd -q -1 -T0 -o "$work/base.tar.zst"
  mv "$work/base.tar.zst" "$base"
else
  echo "build-image: root filesystem from $base"
  zstd -q -d -c "$base" | tar -C "$root" --numeric-owner --xattrs -xf -
fi

# The AWS CLI v2 installer's place; the stand-in serves SSM and S3 from the data disk.
install -m 0755 "$here/image/aws" "$root/usr/local/bin/aws"

# What makes this root filesystem a fresh instance of an image.
cat >"$root/etc/fstab" <<'FSTAB'
LABEL=vmroot / ext4 rw,discard,errors=remount-ro 0 1
# VM test only: the test's data disk (stand-in aws's answers, check script), read-only
LABEL=VMTEST /mnt/vmtest ext4 ro,nofail,x-systemd.device-timeout=30s 0 0
FSTAB
mkdir -p "$root/mnt/vmtest"
# the locale cloud-init sets by default (en_US.UTF-8), generated like on the official image
sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' "$root/etc/locale.gen"
chroot "$root" locale-gen >/dev/null
echo localhost >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id" "$root/etc/resolv.conf"
install -m 0644 "$here/image/99-vmtest-datasource.cfg" "$root/etc/cloud/cloud.cfg.d/"
install -m 0644 "$here/image/vmtest-check.service" "$root/etc/systemd/system/"
mkdir -p "$root/etc/systemd/system/cloud-init.target.wants"
ln -s ../vmtest-check.service "$root/etc/systemd/system/cloud-init.target.wants/vmtest-check.service"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log

kernel=$(find "$root/boot" -name 'vmlinuz-*' | sort | tail -n 1)
initrd=$(find "$root/boot" -name 'initrd.img-*' | sort | tail -n 1)
if [ -z "$kernel" ] || [ -z "$initrd" ]; then echo "build-image: no kernel/initrd in /boot" >&2; exit 1; fi
mkdir "$work/out"
install -m 0644 "$kernel" "$work/out/vmlinuz"
install -m 0644 "$initrd" "$work/out/initrd.img"
mkfs.ext4 -q -L vmroot -d "$root" "$work/out/root.ext4" 4G
mv "$work/out" "$out"
echo "build-image: done in $out"
