#!/usr/bin/env bash
# Runs the whole stack on the embedded defaults with the demo network (installs what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
# htmlencode (under matrix-appservice-bridge) calls the deprecated util._extend; nothing to act on here.
export NODE_OPTIONS="--disable-warning=DEP0060 ${NODE_OPTIONS:-}"
exec tsx bin/dev.ts
