#!/usr/bin/env bash
# Runs every fuzz target for a short while (default 20 s each).
# usage: fuzz/run-all.sh [SECONDS]
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 enables them on stable.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-20}
if ! command -v cargo-fuzz >/dev/null; then
  cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
# Targets that need files (salvage_index writes its block under the temp
# dir) get a scratch temp dir of their own, removed however the run ends.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/promsnap-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export TMPDIR=$scratch
# The first N of the files a glob names (no `ls | head`: under pipefail, ls
# killed by SIGPIPE when head has had enough fails the run).
first() { local n=$1; shift; local f; for f in "$@"; do [ -e "$f" ] || continue; [ "$n" -gt 0 ] || break; echo "$f"; n=$((n-1)); done; }
targets=$(cargo fuzz list)
[ -n "$targets" ] || { echo "no fuzz targets"; exit 1; }
for t in $targets; do
  echo "-- fuzz $t for ${secs}s"
  # Seed each target with the regression inputs kept in the repo, if any.
  mkdir -p "corpus/$t"
  if [ -d "../testdata/fuzz-regressions/$t" ]; then cp -n ../testdata/fuzz-regressions/$t/* "corpus/$t/" 2>/dev/null || true; fi
  # ... and with real files written by Prometheus, small ones first.
  case $t in
    meta) seeds=$(ls ../testdata/prom-2.42-nativehist/data/*/meta.json) ;;
    index|salvage_index) seeds=$(ls ../testdata/prom-2.42-nativehist/data/*/index) ;;
    tombstones) seeds=$(ls ../testdata/prom-2.42-nativehist/data/*/tombstones) ;;
    chunk_segment) seeds=$(ls ../testdata/prom-2.42-nativehist/data/01M891T624Z2K2QSYVTNJGBBMK/chunks/*) ;;
    wal_segment) seeds=$(first 1 ../testdata/prom-2.42-nativehist/data/wal/0*) ;;
    head_chunks) seeds=$(ls ../testdata/prom-2.42-nativehist/data/chunks_head/* 2>/dev/null) ;;
    http_response) printf 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' > "corpus/$t/seed-chunked"; seeds= ;;
    master_log) seeds="$(first 3 ../testdata/loss-runs/*/master-log.txt) $(first 1 ../testdata/loss-runs/*-json-*/master-log.txt)" ;;
    slave_log) seeds="$(first 3 ../testdata/loss-runs/*/slave-log.txt) $(first 1 ../testdata/loss-runs/*-json-*/slave-log.txt)" ;;
    # One line each: a JSON line and a logfmt line the servers wrote.
    log_line) i=0; for f in $(first 1 ../testdata/loss-runs/*-json-*/slave-log.txt) $(first 1 ../testdata/loss-runs/s4500-ms50-*/slave-log.txt); do
        i=$((i+1)); grep -v '^#' "$f" | head -n 1 | tr -d '\n' > "corpus/$t/seed-line-$i"; done; seeds= ;;
    s3_url) printf 's3://bucket/team-a/prom' > "corpus/$t/seed-url"; seeds= ;;
    aws_config) printf '[default]\naws_access_key_id = AK\n[ci]\nregion=x\0# config\n[profile ci]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:8333\n' > "corpus/$t/seed-ini"; seeds= ;;
    thanos_meta) i=0; for f in ../testdata/prom-2.42-nativehist/data/*/meta.json; do
        i=$((i+1)); { cat "$f"; printf '\377cluster=eu1\nreplica=a\n'; } > "corpus/$t/seed-$i"; done; seeds= ;;
    *) seeds= ;;
  esac
  i=0; for f in $seeds; do i=$((i+1)); cp "$f" "corpus/$t/seed-$i" 2>/dev/null || true; done
  cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 2>&1 | tail -n 3
done
echo "fuzz: all targets ran without a crash"
