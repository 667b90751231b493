#!/usr/bin/env bash
# Writes a PNG of every screen of the web client (member and administrator, desktop and 375 px)
# to screenshots/ (git-ignored), against the real stack: the every-screen browser test with
# SCREENSHOTS_DIR set, and the batched email as a mail client renders it. Also runs axe-core on each.
set -euo pipefail
cd "$(dirname "$0")/.."
export SCREENSHOTS_DIR="${SCREENSHOTS_DIR:-$PWD/screenshots}"
bash scripts/test.sh tests/browser/everyScreen.test.ts tests/browser/digestEmail.test.ts
echo "screenshots: $(ls "$SCREENSHOTS_DIR"/*.png | wc -l) files in $SCREENSHOTS_DIR" >&2
