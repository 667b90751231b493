#!/usr/bin/env bash
# Builds Mailpit 1.33.1 (a small SMTP server with a web UI and an HTTP API) from the Go module proxy
# into the cache: the embedded mail server of development and tests (README "Notifications").
# Idempotent; prints the binary's path. Not needed when SMTP_URL points at a real mail server.
set -euo pipefail
# shellcheck source=scripts/lib/goBuildCached.sh
source "$(dirname "$0")/lib/goBuildCached.sh"
cache="${CHAT_CACHE_DIR:-$HOME/.cache/coworking-chat}"
version=1.33.1
build_mailpit() {
  GOBIN="$1" GOFLAGS=-mod=mod go install -trimpath "github.com/axllent/mailpit@v$version" >&2
  mv "$1/mailpit" "$2"
}
go_build_cached "Mailpit $version" "$cache/mailpit-$version/mailpit" "or set SMTP_URL to a mail server" build_mailpit
