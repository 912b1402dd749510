#!/usr/bin/env bash
# Start a throwaway local PostgreSQL for the storage tests and print its SQLAlchemy URL.
# Installs Debian's server if missing. The cluster lives in a temporary directory, listens only
# on a Unix socket and 127.0.0.1:54329, and is stopped by `.ci/postgres.sh stop`.
set -euo pipefail
PGDIR=${QUOTAPLAN_PG_DIR:-/tmp/quotaplan-pg}
PORT=${QUOTAPLAN_PG_PORT:-54329}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

if [ "${1:-start}" = stop ]; then
  [ -n "$BIN" ] && [ -d "$PGDIR" ] && as_pg "$BIN/pg_ctl -D $PGDIR/data -m fast stop" >/dev/null 2>&1 || true
  exit 0
fi
if [ -z "$BIN" ] || [ ! -x "$BIN/postgres" ]; then
  echo "installing Debian's postgresql server..." >&2
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) >&2
  BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
  rm -rf "$PGDIR"; mkdir -p "$PGDIR"
  [ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
  as_pg "$BIN/initdb -D $PGDIR/data -U postgres --auth=trust -E UTF8" >/dev/null
fi
if ! as_pg "$BIN/pg_ctl -D $PGDIR/data status" >/dev/null 2>&1; then
  as_pg "$BIN/pg_ctl -D $PGDIR/data -l $PGDIR/log -w -o '-p $PORT -k $PGDIR -c listen_addresses=127.0.0.1' start" >/dev/null
fi
"$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='quotaplan_test'" | grep -q 1 \
  || "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres quotaplan_test
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/quotaplan_test"
