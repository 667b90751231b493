#!/usr/bin/env bash
# Benchmarks (bench/runBenchmarks.ts): installs what is missing, then runs B1–B9 against one local
# stack. BENCH_SCALE=small finishes within minutes; writes bench-results.json and prints a table.
# BENCH_PROFILE=scale runs them on the scale profile (STACK_PROFILE=scale: Synapse workers on
# PostgreSQL behind nginx; README › Deploying, "Scale-out").
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${BENCH_PROFILE:-}" ]; then export STACK_PROFILE="$BENCH_PROFILE"; fi
bash scripts/setup.sh
# B7 holds 10,000 event streams on one API process (and as many client sockets in the load
# generator's process): raise the soft limit on open files to the hard one.
ulimit -n "$(ulimit -Hn)"
export PATH="$PWD/node_modules/.bin:$PATH"
exec tsx bench/runBenchmarks.ts "$@"
