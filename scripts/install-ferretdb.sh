#!/usr/bin/env bash
# Builds FerretDB 1.24.2 (MongoDB wire protocol on SQLite) from the Go module proxy into the cache,
# through the small embedding program in scripts/ferretdb (the upstream command panics when
# installed with `go install`: see README "MongoDB"). Idempotent; prints the binary's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${CHAT_CACHE_DIR:-$HOME/.cache/coworking-chat}"
bin="$cache/ferretdb-1.24.2/ferretdb"
if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { echo "FerretDB needs Go to build (or set MONGODB_URI to a MongoDB server)" >&2; exit 1; }
  echo "building FerretDB 1.24.2 into $bin" >&2
  mkdir -p "$(dirname "$bin")"
  (cd "$here/ferretdb" && GOFLAGS=-mod=mod go build -trimpath -o "$bin.tmp" . >&2)
  mv "$bin.tmp" "$bin"
fi
echo "$bin"
