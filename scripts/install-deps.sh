#!/usr/bin/env bash
# Installs what Peti needs on Debian 12, idempotently: system packages via apt, npm dependencies, the build.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(crun conmon busybox-static catatonit tini attr zstd xz-utils iproute2 nftables file tar util-linux procps python3 docker-registry skopeo debootstrap)
missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "Peti needs Node.js 20 or newer on PATH" >&2
  exit 1
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm ci refuses this lock: npm records optional per-platform packages (node-unix-socket-*) inconsistently;
  # npm install honours the lock just the same.
  npm install --no-audit --no-fund --loglevel=error
fi
npm run build --silent
