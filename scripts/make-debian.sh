#!/usr/bin/env bash
# Makes debian:bookworm offline-capable (DESIGN.md §6): `debootstrap --variant=minbase bookworm` into a rootfs,
# packed as a tar that is kept (PETI_DEBIAN_CACHE, default /var/cache/peti/debian-bookworm.tar) so later runs only
# import it, then imported into the daemon named by PETI_HOST. Idempotent: an existing image is kept unless --force.
# Exit 3 when debootstrap is missing or the mirror cannot be reached (callers may skip on that).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
peti="$here/bin/peti"
tag=${PETI_DEBIAN_TAG:-debian:bookworm}
cache=${PETI_DEBIAN_CACHE:-/var/cache/peti/debian-bookworm.tar}
mirror=${PETI_DEBIAN_MIRROR:-http://deb.debian.org/debian}
if [ "${1:-}" != "--force" ] && "$peti" image inspect "$tag" >/dev/null 2>&1; then
  echo "$tag already present"
  exit 0
fi
if [ ! -s "$cache" ]; then
  command -v debootstrap >/dev/null || { echo "debootstrap is not installed (apt-get install debootstrap)" >&2; exit 3; }
  mkdir -p "$(dirname "$cache")"
  root=$(mktemp -d /var/tmp/peti-debian.XXXXXX)
  trap 'umount -R "$root/proc" "$root/sys" 2>/dev/null || true; rm -rf "$root"' EXIT
  if ! debootstrap --variant=minbase bookworm "$root" "$mirror" > "$root.log" 2>&1; then
    echo "debootstrap failed (mirror $mirror unreachable?):" >&2
    tail -5 "$root.log" >&2
    rm -f "$root.log"
    exit 3
  fi
  rm -f "$root.log"
  # what a container image does not carry: apt lists and caches, logs
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*
  tar --numeric-owner --xattrs -C "$root" -cf "$cache.tmp" .
  mv "$cache.tmp" "$cache"
fi
"$peti" import -c 'CMD ["bash"]' "$cache" "$tag" >/dev/null
echo "made $tag"
