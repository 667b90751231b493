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
# A second patch (scripts/ferretdb/patches/id_pushdown.go) answers a filter's top-level `_id` from
# that index also beside further conditions (`{_id, status: 'pending'}`) and for `_id: {$in: [...]}`;
# upstream does it only for a filter of `_id` equality alone and otherwise reads and decodes the
# whole table (FerretDB still applies the whole filter to what SQLite returns, so results are the
# same). This is a correctness fix too: FerretDB updates a document by reading it and writing the
# whole document back later, without a lock. With a whole-table scan in between, the read can be
# seconds old when the write lands, and every write made to that document meanwhile is lost (seen
# in CI: a customer's deactivation and erasure, made while a conditional `updateOne` scanned the
# customers, were overwritten by it). By `_id` the window is the moment between one indexed read
# and its write.
#
# A third (scripts/ferretdb/patches/resource.go) replaces FerretDB's resource tracking, a leak
# detector for its own tests that records a stack and a panicking finalizer for every iterator,
# cursor and transaction: 16 % of FerretDB's CPU in the appservice's ingest (B2, 2026-12-01: 901 →
# 758 clock ticks, two runs each), and in a running server its only effect is a crash on a leak.
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
    # Query's `_id` pushdown, replaced by scripts/ferretdb/patches/id_pushdown.go (see above).
    sqlite=vendor/github.com/FerretDB/FerretDB/internal/backends/sqlite
    cp "$here/ferretdb/patches/id_pushdown.go" "$sqlite/"
    perl -0pi -e 's/\tif params\.Filter\.Len\(\) == 1 \{\n\t\tv, _ := params\.Filter\.Get\("_id"\)\n\t\tswitch v\.\(type\) \{\n\t\tcase string, types\.ObjectID:\n\t\t\twhereClause = fmt\.Sprintf\(` WHERE %s = \?`, metadata\.IDColumn\)\n\t\t\targs = \[\]any\{string\(must\.NotFail\(sjson\.MarshalSingleValue\(v\)\)\)\}\n\t\t\}\n\t\}\n/\tif where, whereArgs, ok := idPushdown(params.Filter); ok {\n\t\twhereClause, args = where, whereArgs\n\t}\n/' "$sqlite/collection.go"
    grep -q 'idPushdown(params.Filter)' "$sqlite/collection.go" || { echo "FerretDB's Query is not the expected code; _id pushdown patch not applied" >&2; exit 1; }
    resource=vendor/github.com/FerretDB/FerretDB/internal/util/resource/resource.go
    grep -q '^func Track(obj any, token \*Token) {' "$resource" || { echo "FerretDB's resource.Track is not the expected code; resource patch not applied" >&2; exit 1; }
    cp "$here/ferretdb/patches/resource.go" "$resource"
    go build -mod=vendor -trimpath -o "$2" . >&2
  )
}
go_build_cached "FerretDB 1.24.2" "$cache/ferretdb-1.24.2-notrack3/ferretdb" "or set MONGODB_URI to a MongoDB server" build_ferretdb
