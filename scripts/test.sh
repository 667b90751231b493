#!/usr/bin/env bash
# The one test command: installs what is missing, then runs every test layer (unit, integration,
# end-to-end against a real Synapse) with Jest on the project's Node.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
# matrix-js-sdk and file-type are ES modules; Jest loads them with the VM modules flag.
export NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning ${NODE_OPTIONS:-}"
exec jest "$@"
