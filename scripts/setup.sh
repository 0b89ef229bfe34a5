#!/usr/bin/env bash
# Quick start, step 1: install everything, put peti/petid on PATH, start petid with its default paths,
# make the built-in busybox image and show it working. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
ln -sf "$PWD/bin/peti" /usr/local/bin/peti
ln -sf "$PWD/bin/petid" /usr/local/bin/petid
if ! peti version >/dev/null 2>&1; then
  mkdir -p /var/log
  nohup petid >>/var/log/petid.log 2>&1 &
  for _ in $(seq 1 100); do peti version >/dev/null 2>&1 && break; sleep 0.1; done
  peti version >/dev/null || { echo "petid did not start; see /var/log/petid.log" >&2; exit 1; }
  echo "petid started (log: /var/log/petid.log)"
fi
bash scripts/make-busybox.sh
peti images busybox
peti run --rm busybox echo hello
