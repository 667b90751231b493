#!/usr/bin/env bash
# Benchmarks (bench/runBenchmarks.ts): installs what is missing, then runs B1–B5 against one local
# stack. BENCH_SCALE=small finishes within minutes; writes bench-results.json and prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
exec tsx bench/runBenchmarks.ts "$@"
