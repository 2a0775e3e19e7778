#!/usr/bin/env bash
# Writes pgmerge(1) from the binary's own help texts (`pgmerge --help`, then
# `pgmerge help CMD` for each command), so the man page never says other
# than --help does. Usage: make-man.sh PGMERGE OUT.1
set -euo pipefail
bin=$1 out=$2
version=$("$bin" --version | awk '{print $NF}')
# roff: a leading . or ' would be a request; backslashes are escapes.
esc() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
overview=$("$bin" --help)  # Whole, so no reader closes the pipe early.
commands=$(awk '/^Commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{on=0}' <<<"$overview")
{
  echo ".TH PGMERGE 1 \"\" \"pgmerge $version\" \"User Commands\""
  echo ".SH NAME"
  echo "pgmerge \\- merge two PostgreSQL dumps so production takes development's changes"
  echo ".SH SYNOPSIS"
  echo ".B pgmerge"
  echo "PROD DEV [OPTION...]"
  echo ".br"
  echo ".B pgmerge"
  echo "COMMAND [OPTION...]"
  echo ".SH DESCRIPTION"
  echo ".nf"
  "$bin" --help | esc
  echo ".fi"
  for c in $commands; do
    echo ".SH \"PGMERGE ${c^^}\""
    echo ".nf"
    "$bin" help "$c" | esc
    echo ".fi"
  done
  echo ".SH SEE ALSO"
  echo ".BR pg_dump (1),"
  echo ".BR pg_restore (1),"
  echo ".BR psql (1)"
} > "$out.tmp"
mv "$out.tmp" "$out"
