#!/usr/bin/env bash
# Regenerates base.sql, prod.sql and dev.sql from base-data.sql and
# prod-changes.sql / dev-changes.sql with a real
# PostgreSQL 15 (pg_dump's own output, so the example is what users have).
# Usage: testdata/example/make.sh   (needs initdb/pg_ctl/pg_dump 15)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=/usr/lib/postgresql/15/bin
tmp=$(mktemp -d)
trap 'runas "$bin/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
runas() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$tmp"
runas "$bin/initdb" -D "$tmp/data" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
runas "$bin/pg_ctl" -D "$tmp/data" -w -l "$tmp/log" \
  -o "-k $tmp -c listen_addresses='' -p 54329 -c fsync=off" start >/dev/null
export PGHOST=$tmp PGPORT=54329 PGUSER=postgres
for side in base prod dev; do
  "$bin/createdb" "$side"
  "$bin/psql" -qX -v ON_ERROR_STOP=1 -d "$side" -f "$here/base-data.sql"
  if [ "$side" != base ]; then
    "$bin/psql" -qX -v ON_ERROR_STOP=1 -d "$side" -f "$here/$side-changes.sql"
  fi
  # \restrict keys are random per run; fix them so the files are stable.
  "$bin/pg_dump" --no-owner --no-privileges "$side" |
    sed -E 's/^\\(un)?restrict .*/\\\1restrict pgmergeexample/' > "$here/$side.sql"
done
echo "wrote $here/base.sql $here/prod.sql $here/dev.sql"
