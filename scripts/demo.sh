#!/usr/bin/env bash
# The main job on the bundled example: installs dependencies, builds, merges
# testdata/example/prod.sql with dev.sql, restores the result into a
# throwaway PostgreSQL 15 exactly as the workflow does
# (psql -v ON_ERROR_STOP=1 --single-transaction), prints the summary, and
# verifies the restored shadow against the merge's manifest, then swaps it in
# for the live database (`app`, restored from prod.sql) with `pgmerge swap`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null
pgmerge=${BUILD_DIR:-build}/tools/pgmerge
out=$(mktemp -d)
bin=/usr/lib/postgresql/15/bin
runas() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() { runas "$bin/pg_ctl" -D "$out/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$out"; }
trap cleanup EXIT
[ "$(id -u)" = 0 ] && chown postgres "$out"

echo "== pgmerge testdata/example/prod.sql testdata/example/dev.sql"
"$pgmerge" testdata/example/prod.sql testdata/example/dev.sql \
  --report "$out/report.json" -o "$out/merged.sql"

echo "== restoring into a throwaway PostgreSQL 15 (database: shadow)"
runas "$bin/initdb" -D "$out/data" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
runas "$bin/pg_ctl" -D "$out/data" -w -l "$out/server.log" \
  -o "-k $out -c listen_addresses='' -p 54328 -c fsync=off" start >/dev/null
# The live database first, as in production: the swap refuses schema
# changes on it made after the shadow was restored.
"$bin/createdb" -h "$out" -p 54328 -U postgres app
"$bin/psql" -X -q -h "$out" -p 54328 -U postgres -d app -v ON_ERROR_STOP=1 \
  --single-transaction -o /dev/null -f testdata/example/prod.sql
"$bin/createdb" -h "$out" -p 54328 -U postgres shadow
"$bin/psql" -X -q -h "$out" -p 54328 -U postgres -d shadow -v ON_ERROR_STOP=1 \
  --single-transaction -o /dev/null -f "$out/merged.sql"
"$bin/psql" -X -h "$out" -p 54328 -U postgres -d shadow -c \
  "SELECT u.id, u.email, u.name, count(p.id) AS posts FROM users u
   LEFT JOIN posts p ON p.user_id = u.id WHERE u.id > 10 GROUP BY u.id ORDER BY u.id"
echo "== pgmerge verify: the shadow against the merge's manifest"
"$pgmerge" verify --db "host=$out port=54328 user=postgres dbname=shadow" \
  --report "$out/report.json"
echo "== report: $(grep -c '"table"' "$out/report.json") tables; totals:"
python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['totals'])" "$out/report.json"

echo "== pgmerge swap: the live database app (prod.sql) replaced by the shadow"
"$pgmerge" swap --server "host=$out port=54328 user=postgres" --main app --shadow shadow \
  --report "$out/report.json" --state "$out/swap-state.json" --grace 1
"$bin/psql" -X -At -h "$out" -p 54328 -U postgres -d app -c \
  "SELECT 'app now has ' || count(*) || ' users (production had 12)' FROM users"
