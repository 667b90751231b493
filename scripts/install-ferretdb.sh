#!/usr/bin/env bash
# Builds FerretDB 1.24.2 (MongoDB wire protocol on SQLite) from the Go module proxy into the cache,
# through the small embedding program in scripts/ferretdb (the upstream command panics when
# installed with `go install`: see README "MongoDB"). Idempotent; prints the binary's path.
#
# One line of FerretDB is patched at build time: its SQLite backend filters `_id` with the SQL
# expression `_ferretdb_sjson->'$._id'`, while the `_id` index it creates is on
# `_ferretdb_sjson->"_id"`; SQLite only uses an expression index for the identical expression, so
# every lookup, update and delete by `_id` scanned the whole table. With `->'_id'` (the same value)
# SQLite searches the index: a lookup by `_id` among 20,000 customers went from 25 ms to 0.6 ms.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/lib/goBuildCached.sh
source "$here/lib/goBuildCached.sh"
cache="${CHAT_CACHE_DIR:-$HOME/.cache/coworking-chat}"
build_ferretdb() {
  cp "$here/ferretdb/go.mod" "$here/ferretdb/go.sum" "$here/ferretdb/main.go" "$1/"
  (
    cd "$1"
    GOFLAGS=-mod=mod go mod vendor >&2
    metadata=vendor/github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata/metadata.go
    grep -q "IDColumn = DefaultColumn + \"->'\$._id'\"" "$metadata" || { echo "FerretDB's IDColumn is not the expected line; patch not applied" >&2; exit 1; }
    sed -i "s|IDColumn = DefaultColumn + \"->'\$._id'\"|IDColumn = DefaultColumn + \"->'_id'\"|" "$metadata"
    go build -mod=vendor -trimpath -o "$2" . >&2
  )
}
go_build_cached "FerretDB 1.24.2" "$cache/ferretdb-1.24.2-idindex/ferretdb" "or set MONGODB_URI to a MongoDB server" build_ferretdb
