#!/bin/bash
# Proves the README's two commands on a fresh machine: a new Debian 12 root file system (debootstrap,
# from this machine's own apt mirror) with only what a fresh machine of this project's kind has (Node.js
# and npm as on this machine, python3, make, g++, git, ca-certificates), a clean clone of this repository
# in it, then, in a chroot, `npm ci && npm run demo` and `npm ci && npm test` exactly as README.md gives
# them. Not part of `npm test` (it runs the whole suite again, VM boot included: 20+ minutes).
# Usage (root): vm/fresh-machine.sh [WORK_DIR]   Output: WORK_DIR/demo.log, WORK_DIR/test.log
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "fresh-machine: debootstrap and chroot need root" >&2; exit 1; }
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/fresh-machine.XXXXXX)}
root=$work/rootfs
mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)

mounted=()
cleanup() {
  local m
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do m=${mounted[i]}; umount -R -l "$m" 2>/dev/null || true; done
}
trap cleanup EXIT

if [ ! -x "$root/usr/bin/g++" ]; then
  echo "fresh-machine: debootstrap bookworm from $mirror into $root"
  mkdir -p "$root"
  debootstrap --variant=minbase --include=ca-certificates,python3,make,g++,git,procps,apt-utils,sudo \
    bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
fi
# The machine's Node.js and npm, as a fresh machine of this kind has them.
cp "$(command -v node)" "$root/usr/bin/node"
rm -rf "$root/usr/lib/node_modules/npm"
mkdir -p "$root/usr/lib/node_modules"
cp -a "$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")" "$root/usr/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# What this kind of machine is given besides its packages: its CA certificates and npm's global settings
# (the registry is reached through them), and the variables that point tools at that CA bundle.
if [ -d /usr/local/share/ca-certificates ]; then
  cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null
fi
npmrc=$(npm config get globalconfig)
for rc in "$npmrc" /root/.npmrc; do
  if [ -f "$rc" ]; then mkdir -p "$root$(dirname "$rc")"; cp "$rc" "$root$rc"; fi
done
cp -a /etc/apt/sources.list.d/. "$root/etc/apt/sources.list.d/" 2>/dev/null || true

rm -rf "$root/project"
git clone -q "$repo" "$root/project"
# rbind: the cgroup hierarchies under /sys/fs/cgroup are mounts of their own, and the systemd tests need them
for m in proc sys dev; do
  mount --rbind "/$m" "$root/$m"
  mount --make-rslave "$root/$m"
  mounted+=("$root/$m")
done

ca_env=()
for v in NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR; do [ -n "${!v:-}" ] && ca_env+=("$v=${!v}"); done
in_chroot() {
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin CI="${CI:-}" "${ca_env[@]}" \
    bash -c "cd /project && $1"
}
echo "fresh-machine: npm ci && npm run demo"
in_chroot "npm ci && npm run demo" 2>&1 | tee "$work/demo.log"
demo=${PIPESTATUS[0]}
echo "fresh-machine: npm ci && npm test"
in_chroot "npm ci && npm test" 2>&1 | tee "$work/test.log"
tests=${PIPESTATUS[0]}
echo "fresh-machine: demo exit $demo, test exit $tests (logs in $work)"
[ "$demo" = 0 ] && [ "$tests" = 0 ]
