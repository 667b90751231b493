#!/usr/bin/env bash
# Installs everything the project needs, idempotently; a second run reuses the caches.
#  - npm packages (including Node 24 from the npm registry, used by every script)
#  - Synapse from PyPI into a cached virtualenv (synapse/install.sh)
#  - redis-server (Debian package) unless REDIS_URL is set
#  - FerretDB from the Go module proxy unless MONGODB_URI is set (the offline MongoDB)
#  - the web client's bundle (web/dist, served by the portal API at /chat/) when its sources changed
#  - Debian's Chromium for the browser tests and screenshots (scripts/install-chromium.sh)
#  - Mailpit from the Go module proxy unless SMTP_URL is set (the embedded mail server)
#  - with STACK_PROFILE=scale: PostgreSQL and nginx (Debian packages) and Synapse's PostgreSQL and
#    Redis extras (README › Deploying, "Scale-out")
set -euo pipefail
cd "$(dirname "$0")/.."
# Browser tests use Debian's Chromium (scripts/install-chromium.sh); no package may download a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
stamp=node_modules/.setup-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "setup: installing npm packages" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  touch "$stamp"
fi
node_bin="$PWD/node_modules/.bin/node"
"$node_bin" -e 'const [maj]=process.versions.node.split(".");if(+maj<22){console.error("Node >= 22 required, got "+process.version);process.exit(1)}'
bash synapse/install.sh >/dev/null
if [ "${STACK_PROFILE:-dev}" = scale ]; then
  bash scripts/install-postgresql.sh >/dev/null
  bash scripts/install-nginx.sh >/dev/null
  bash synapse/install.sh scale >/dev/null
fi
[ -n "${REDIS_URL:-}" ] || bash scripts/install-redis.sh >/dev/null
[ -n "${MONGODB_URI:-}" ] || bash scripts/install-ferretdb.sh >/dev/null
# The web client: rebuilt when a source (its own, or the live events' vocabulary it imports), its
# config or the lockfile is newer than the bundle.
if [ ! -f web/dist/index.html ] || [ -n "$(find web/src live/liveEvents.ts web/index.html web/vite.config.mts package-lock.json -newer web/dist/index.html -print -quit)" ]; then
  echo "setup: building the web client" >&2
  "$node_bin" node_modules/vite/bin/vite.js build --config web/vite.config.mts --logLevel warn >&2
fi
bash scripts/install-chromium.sh >/dev/null
[ -n "${SMTP_URL:-}" ] || bash scripts/install-mailpit.sh >/dev/null
