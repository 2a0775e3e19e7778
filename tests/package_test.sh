#!/usr/bin/env bash
# The .deb as a user gets it: `cpack -G DEB` from the build tree, unpacked
# with `dpkg -x` into a temporary root (no root needed), its pgmerge runs,
# its man page renders, its bash completion parses.
# Usage: package_test.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
( cd "$build" && cpack -G DEB -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1 ) || { cat "$tmp/cpack.log"; exit 1; }
deb=$(ls "$tmp"/pkg/pgmerge_*.deb)
dpkg-deb --field "$deb" Package Version Depends
depends=$(dpkg-deb --field "$deb" Depends)
[[ $depends == *libpq5* ]] || { echo "no libpq5 in Depends: $depends"; exit 1; }
dpkg -x "$deb" "$tmp/root"
version=$("$tmp/root/usr/bin/pgmerge" --version)
[[ $version == "pgmerge "[0-9]* ]] || { echo "pgmerge --version: $version"; exit 1; }
man_page=$tmp/root/usr/share/man/man1/pgmerge.1
test -s "$man_page"
# Renders without a warning, and carries every command's options.
MANWIDTH=100 MAN_KEEP_FORMATTING=0 man -l "$man_page" 2>"$tmp/man.err" | col -b > "$tmp/man.txt"
if [ -s "$tmp/man.err" ]; then cat "$tmp/man.err"; exit 1; fi
for want in "PGMERGE VERIFY" "PGMERGE SWAP" "--no-owner" "--review" "--fail-on-conflict"; do
  grep -q -- "$want" "$tmp/man.txt" || { echo "man page lacks $want"; exit 1; }
done
completion=$tmp/root/usr/share/bash-completion/completions/pgmerge
bash -n "$completion"
# Completing "pgmerge --no-o" offers --no-owner.
out=$(bash -c 'source "$1"; COMP_WORDS=(pgmerge --no-o); COMP_CWORD=1; _pgmerge; echo "${COMPREPLY[*]}"' _ "$completion")
[[ $out == *--no-owner* ]] || { echo "completion offered: $out"; exit 1; }
echo "package ok: $(basename "$deb")"
