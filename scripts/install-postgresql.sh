#!/usr/bin/env bash
# Makes sure PostgreSQL is available (Debian packages), installing it when missing and allowed:
# Synapse's database in the scale profile (SQLite is for testing only, and Synapse's workers need
# PostgreSQL). Also the headers psycopg2 builds against (synapse/install.sh scale). The stack runs
# its own cluster from these binaries on a free port (scripts/stack/postgresServer.ts); the
# package's system cluster is stopped. Prints the directory of the server binaries.
set -euo pipefail
bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
have() { [ -n "$(bindir)" ] && [ -x "$(bindir)/initdb" ] && [ -x /usr/bin/pg_config ] && dpkg -s libpq-dev python3-dev gcc >/dev/null 2>&1; }
if have; then bindir; exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing PostgreSQL (Debian packages)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql libpq-dev python3-dev gcc >&2
  (systemctl disable --now postgresql >/dev/null 2>&1 || service postgresql stop >/dev/null 2>&1 || true)
  bindir
  exit 0
fi
echo "PostgreSQL is missing: install it (apt-get install postgresql libpq-dev python3-dev gcc) to run STACK_PROFILE=scale" >&2
exit 1
