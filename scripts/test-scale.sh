#!/usr/bin/env bash
# `npm run test:scale`: the end-to-end files that use only the portal API and the Matrix
# client-server API (jest.scale.config.js) against the scale profile: Synapse on PostgreSQL in
# worker mode behind nginx, Redis replication (README › Deploying, "Scale-out"). Extra arguments go to Jest.
set -euo pipefail
cd "$(dirname "$0")/.."
export STACK_PROFILE=scale
started=$(date +%s)
status=0
bash scripts/test.sh --config jest.scale.config.js "$@" || status=$?
echo "test:scale: $(( $(date +%s) - started )) s (exit $status)" >&2
exit $status
