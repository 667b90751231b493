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
#
# A second patch pushes `_id` equality down also when the filter has further conditions
# (`{_id, status: 'pending'}`); upstream does it only for a filter of `_id` alone and otherwise
# reads and decodes the whole table (FerretDB still applies the whole filter to what SQLite
# returns, so the result is the same). This is a correctness fix too: FerretDB updates a document
# by reading it and writing the whole document back later, without a lock. With a whole-table scan
# in between, the read can be seconds old when the write lands, and every write made to that
# document meanwhile is lost (seen in CI: a customer's deactivation and erasure, made while a
# conditional `updateOne` scanned 20,000 customers, were overwritten by it). By `_id` the window is
# the few microseconds between one indexed read and its write.
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
    collection=vendor/github.com/FerretDB/FerretDB/internal/backends/sqlite/collection.go
    [ "$(grep -c 'if params.Filter.Len() == 1 {' "$collection")" = 2 ] || { echo "FerretDB's _id pushdown is not the expected code; patch not applied" >&2; exit 1; }
    # The first of the two is Query (the second is Explain, left as it is).
    sed -i '0,/if params.Filter.Len() == 1 {/s||if params.Filter.Has("_id") {|' "$collection"
    go build -mod=vendor -trimpath -o "$2" . >&2
  )
}
go_build_cached "FerretDB 1.24.2" "$cache/ferretdb-1.24.2-idpushdown/ferretdb" "or set MONGODB_URI to a MongoDB server" build_ferretdb
