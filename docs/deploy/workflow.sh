#!/usr/bin/env bash
# The deployment pgmerge serves, as one script: development's media into
# production's object store, production dumped on a logical slot, merged
# with development's dump into a shadow database as the application role,
# reviewed, verified, caught up with the writes since the dump, and swapped
# in for the live database. With REVIEW=1 it stops after a dry run's review. Each step stops the script on failure; nothing
# on the live database changes before the swap, and the swap itself stops
# (main reopened untouched) on any write it cannot account for.
#
# Settings (environment; defaults match docker-compose.yml beside this file):
#   PGHOST, PGPORT, PGUSER, PGPASSWORD   the production server (libpq's)
#   MAIN_DB      the live database (app)
#   SHADOW_DB    the database the merge is restored into (app_shadow)
#   APP_ROLE     the role the application owns its objects as (app)
#   DEV_DUMP     development's pg_dump file (plain, compressed, custom...)
#   BASE_DUMP    the dump development was seeded from (optional: exact merge)
#   DEV_MEDIA    development's media (a directory or an mc alias/bucket)
#   PROD_MEDIA   production's object store (MC_HOST_<alias> set for it)
#   WORK_DIR     where dumps, reports and the review go (./pgmerge-run)
#   REVIEW=1     stop after the review, for a person to read it first
set -euo pipefail
: "${MAIN_DB:=app}" "${SHADOW_DB:=app_shadow}" "${APP_ROLE:=app}"
: "${DEV_DUMP:?set DEV_DUMP to the development dump}" "${WORK_DIR:=./pgmerge-run}"
mkdir -p "$WORK_DIR"
cd "$WORK_DIR"
say() { printf '%s workflow: %s\n' "$(date -u +%H:%M:%SZ)" "$*" >&2; }

if [ -n "${DEV_MEDIA:-}" ] && [ -n "${PROD_MEDIA:-}" ]; then
  say "1. media: development's objects into production's store (nothing overwritten)"
  pgmerge mirror "$DEV_MEDIA" "$PROD_MEDIA" --report mirror.json
fi

base=()
[ -n "${BASE_DUMP:-}" ] && base=(--base "$BASE_DUMP")
if [ "${REVIEW:-0}" = 1 ]; then
  # A plain dump: a review holds no logical slot (and its WAL) open.
  say "2. review only: production's dump, the dry run, review.md"
  pg_dump -d "$MAIN_DB" -f prod-review.sql
  pgmerge prod-review.sql "$DEV_DUMP" "${base[@]}" --dry-run --report plan.json --review review.md
  say "review.md is ready; run again without REVIEW=1 to restore and swap"
  exit 0
fi

say "2. production's dump (on a logical slot when wal_level=logical)"
pgmerge dump -d "$MAIN_DB" -f prod.sql

say "3. merge into $SHADOW_DB as $APP_ROLE, with the review beside the report"
dropdb --if-exists "$SHADOW_DB"
createdb -O "$APP_ROLE" "$SHADOW_DB"
pgmerge prod.sql "$DEV_DUMP" "${base[@]}" --no-owner --no-privileges --role "$APP_ROLE" \
  --report report.json --review review.md \
  | psql -X -q -v ON_ERROR_STOP=1 --single-transaction -d "$SHADOW_DB" -o /dev/null

say "4. verify the shadow against the merge's manifest"
pgmerge verify -d "$SHADOW_DB" --report report.json

say "5. catch up the writes made on $MAIN_DB since its dump"
if [ -f prod.sql.pgmerge.json ]; then
  pgmerge catch-up --main "$MAIN_DB" --shadow "$SHADOW_DB" --report report.json --drop-slot
fi

say "6. swap: $SHADOW_DB becomes $MAIN_DB"
pgmerge swap --main "$MAIN_DB" --shadow "$SHADOW_DB" --report report.json --json > swap.json
say "done: $(cat swap.json | tr -d '\n' | cut -c1-200)"
