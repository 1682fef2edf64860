#!/usr/bin/env bash
# Checks that two promsnap builds give byte-identical `wal --json` output (and
# exit codes) on every WAL under the given roots: each data directory with a
# wal/ or wbl/, each wal/ and wbl/ itself, and each checkpoint.N directory.
# For an optimisation of the WAL scan: the output must not move.
#
# usage: bench/wal-json-identical.sh BASE_BINARY NEW_BINARY ROOT...
#        (e.g. testdata, a bench data dir, a fixtures dir)
set -u
[ $# -ge 3 ] || { echo "usage: $0 BASE_BINARY NEW_BINARY ROOT..." >&2; exit 2; }
a=$1 b=$2
shift 2
n=0 bad=0
while IFS= read -r d; do
  oa=$("$a" wal --json "$d" 2>&1; echo "exit $?")
  ob=$("$b" wal --json "$d" 2>&1; echo "exit $?")
  n=$((n + 1))
  if [ "$oa" != "$ob" ]; then
    bad=$((bad + 1))
    echo "DIFFERENT: $d"
  fi
done < <({
  find "$@" -type d \( -name wal -o -name wbl \) -print | while IFS= read -r w; do
    dirname "$w"
    echo "$w"
  done
  find "$@" -type d -name 'checkpoint.*' -print
} | sort -u)
echo "$n directories compared, $bad different"
[ "$bad" -eq 0 ]
