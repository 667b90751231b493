#!/usr/bin/env bash
# Installs the pinned Synapse from PyPI into a cached virtualenv (idempotent).
# Prints the virtualenv's path on stdout.
# `install.sh scale` also installs the extras of the scale profile (README › Deploying): psycopg2
# (PostgreSQL, built against the headers scripts/install-postgresql.sh installs) and Synapse's Redis
# replication client, which its workers need.
set -euo pipefail
SYNAPSE_VERSION="1.163.2"
# Forwards Synapse's spam-checker callbacks to the appservice (README › Security, "Refused at the
# homeserver"); pinned like Synapse itself.
HTTP_ANTISPAM_VERSION="0.5.1"
cache="${CHAT_CACHE_DIR:-$HOME/.cache/coworking-chat}"
venv="$cache/synapse-$SYNAPSE_VERSION"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import synapse" 2>/dev/null; then
  echo "installing matrix-synapse==$SYNAPSE_VERSION into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "matrix-synapse==$SYNAPSE_VERSION" >&2
fi
if ! "$venv/bin/python" -c "import synapse_http_antispam" 2>/dev/null; then
  echo "installing synapse-http-antispam==$HTTP_ANTISPAM_VERSION into $venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "matrix-synapse==$SYNAPSE_VERSION" "synapse-http-antispam==$HTTP_ANTISPAM_VERSION" >&2
fi
if [ "${1:-}" = scale ] && ! "$venv/bin/python" -c "import psycopg2, txredisapi, hiredis" 2>/dev/null; then
  bash "$(dirname "$0")/../scripts/install-postgresql.sh" >/dev/null
  echo "installing matrix-synapse[postgres,redis]==$SYNAPSE_VERSION into $venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "matrix-synapse[postgres,redis]==$SYNAPSE_VERSION" "synapse-http-antispam==$HTTP_ANTISPAM_VERSION" >&2
fi
echo "$venv"
