#!/usr/bin/env bash
# Quick start, step 2: the whole test suite (unit + end-to-end against real daemons), installing what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run lint --silent
npm test
