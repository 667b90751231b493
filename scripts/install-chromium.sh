#!/usr/bin/env bash
# Debian's Chromium for the browser tests, screenshots and B9 (Playwright never downloads a browser
# here: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1). Idempotent: nothing to do when /usr/bin/chromium and the emoji font exist.
set -euo pipefail
# The emoji font lets reactions and screenshots show emoji instead of empty boxes.
[ -x /usr/bin/chromium ] && [ -d /usr/share/fonts/truetype/noto ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-chromium: /usr/bin/chromium is missing; run as root or: apt-get install -y chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core fonts-noto-color-emoji >&2
