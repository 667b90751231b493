#!/usr/bin/env bash
# Runs the whole stack on the embedded defaults with the demo network (installs what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
exec tsx bin/dev.ts
