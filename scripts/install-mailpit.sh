#!/usr/bin/env bash
# Builds Mailpit 1.33.1 (a small SMTP server with a web UI and an HTTP API) from the Go module proxy
# into the cache: the embedded mail server of development and tests (README "Notifications").
# Idempotent; prints the binary's path. Not needed when SMTP_URL points at a real mail server.
set -euo pipefail
cache="${CHAT_CACHE_DIR:-$HOME/.cache/coworking-chat}"
version=1.33.1
bin="$cache/mailpit-$version/mailpit"
if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { echo "Mailpit needs Go to build (or set SMTP_URL to a mail server)" >&2; exit 1; }
  echo "building Mailpit $version into $bin" >&2
  mkdir -p "$(dirname "$bin")"
  build="$(mktemp -d)"
  trap 'rm -rf "$build"' EXIT
  GOBIN="$build" GOFLAGS=-mod=mod go install -trimpath "github.com/axllent/mailpit@v$version" >&2
  mv "$build/mailpit" "$bin.$$"
  mv "$bin.$$" "$bin"
fi
echo "$bin"
