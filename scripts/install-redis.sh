#!/usr/bin/env bash
# Makes sure redis-server is available (Debian package), installing it when missing and allowed.
set -euo pipefail
if command -v redis-server >/dev/null; then command -v redis-server; exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing redis-server (Debian package)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends redis-server >&2
  # The package starts a system service on 6379; the project starts its own on a free port.
  (systemctl disable --now redis-server >/dev/null 2>&1 || service redis-server stop >/dev/null 2>&1 || true)
  command -v redis-server
  exit 0
fi
echo "redis-server is missing: install Redis 7 or set REDIS_URL" >&2
exit 1
