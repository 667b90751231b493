#!/usr/bin/env bash
# Reliability suite (chaos/runChaos.ts): installs what is missing, then runs R1–R6 against one local
# stack on loopback. Prints one line per scenario; exits non-zero if any loses or duplicates data.
# STACK_PROFILE=scale runs it on the scale profile (README › Deploying, "Scale-out").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
exec tsx chaos/runChaos.ts "$@"
