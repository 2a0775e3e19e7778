#!/usr/bin/env bash
# Writes pgmerge's bash completion from the binary's help texts: the
# commands, and each command's options. Usage: make-completion.sh PGMERGE OUT
set -euo pipefail
bin=$1 out=$2
overview=$("$bin" --help)  # Whole, so no reader closes the pipe early.
commands=$(awk '/^Commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{on=0}' <<<"$overview")
opts() { "$bin" help "$1" | grep -E '^ +-' | grep -oE '(^|[ ,])--?[A-Za-z?][A-Za-z0-9-]*' | tr -d ' ,' | sort -u | tr '\n' ' '; }
{
  echo "# bash completion for pgmerge (generated from pgmerge --help)"
  echo "_pgmerge() {"
  echo "  local cur=\${COMP_WORDS[COMP_CWORD]} cmd=merge w"
  echo "  for w in \"\${COMP_WORDS[@]:1:COMP_CWORD-1}\"; do"
  echo "    case \$w in $(echo $commands | tr ' ' '|')) cmd=\$w; break;; esac"
  echo "  done"
  echo "  local opts"
  echo "  case \$cmd in"
  for c in $commands; do
    echo "    $c) opts=\"$(opts "$c")\";;"
  done
  echo "  esac"
  echo "  if [[ \$cur == -* ]]; then"
  echo "    COMPREPLY=(\$(compgen -W \"\$opts\" -- \"\$cur\"))"
  echo "  elif [[ \$COMP_CWORD == 1 ]]; then"
  echo "    COMPREPLY=(\$(compgen -W \"$commands help\" -- \"\$cur\") \$(compgen -f -- \"\$cur\"))"
  echo "  else"
  echo "    COMPREPLY=(\$(compgen -f -- \"\$cur\"))"
  echo "  fi"
  echo "}"
  echo "complete -o filenames -F _pgmerge pgmerge"
} > "$out.tmp"
mv "$out.tmp" "$out"
