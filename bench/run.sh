#!/usr/bin/env bash
# Whole-process benchmarks of promsnap against the real tools, on real data
# built by promtool 2.42. Writes BENCHMARKS.md at the repository root.
#
# usage: bench/run.sh [DATA_DIR]    (default: bench/data; ~6 GB free needed once)
# needs: promtool + prometheus (apt-get install -y prometheus), python3 with
#        pypdu + numpy (pip).
# Every comparison alternates the tools run by run in the same process tree
# (bench/alt.py), page cache warm (a warm-up round), and reports medians,
# their ratio, the spread of the runs and the load of the machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
data=${1:-$here/data}
runs=${BENCH_RUNS:-5}
mkdir -p "$data"
data=$(cd "$data" && pwd)
need() { command -v "$1" >/dev/null || { echo "missing $1: $2" >&2; exit 2; }; }
need promtool "apt-get install -y prometheus"
python3 -c 'import pypdu, numpy' 2>/dev/null || pip install -q pypdu numpy

# Data: bench/make-bench-data.sh builds it with the real promtool when missing.
make_data=${MAKE_BENCH_DATA:-$root/bench/make-bench-data.sh}
for which in 100k 1m wal walsnappy scale; do
  case $which in 100k) d=bench-100k ;; 1m) d=bench-1m ;; wal) d=wal-12m ;; walsnappy) d=wal-snappy ;; scale) d=scale-20 ;; esac
  [ -d "$data/$d" ] || bash "$make_data" "$data" "$which"
done
mkdir -p "$data/bench-100k/wal" "$data/bench-1m/wal"   # promtool refuses a dir without wal/

[ "${BENCH_BUILD:-1}" = 1 ] && (cd "$root" && cargo build --release --locked -q)   # BENCH_BUILD=0: binary as built
P="$root/target/release/promsnap"
out="$data/results"; rm -rf "$out"; mkdir -p "$out"
W="$data/work"; rm -rf "$W"; mkdir -p "$W"

cat > "$out/pdu_count.py" <<'PY'
import sys, pypdu
n = 0
for series in pypdu.load(sys.argv[1]):
    n += len(series.samples.as_array())
print(n)
PY

# Every comparison: the commands alternate run by run (A B A B ..., the order
# flipped every other round) from one process (bench/alt.py), and the load
# average before and after is kept with the times.
warm=${BENCH_WARMUP:-1}
alt() { python3 "$here/alt.py" "$1" "$out" --runs "$runs" --warmup "$warm" "${@:2}"; }

echo "== verify bench-1m vs promtool tsdb analyze (time and peak RSS of the same runs)"
alt verify-1m -- "$P verify $data/bench-1m" -- "promtool tsdb analyze $data/bench-1m" \
  -- "promtool tsdb analyze --extended $data/bench-1m"

echo "== verify bench-100k vs pypdu (decode every sample, check nothing)"
alt verify-100k -- "$P verify $data/bench-100k" -- "python3 $out/pdu_count.py $data/bench-100k"

echo "== verify --jobs 1 vs --jobs 2"
alt jobs-1m -- "$P verify --jobs 1 $data/bench-1m" -- "$P verify --jobs 2 $data/bench-1m"
alt jobs-100k -- "$P verify --jobs 1 $data/bench-100k" -- "$P verify --jobs 2 $data/bench-100k"

echo "== dump bench-100k vs promtool tsdb dump (and identical bytes), full and a 10-minute window"
win="--min-time=1764028800000 --max-time=1764029400000"
for kind in full window; do
  a=""; [ $kind = window ] && a=$win
  "$P" dump $a "$data/bench-100k" > "$W/dump-promsnap.txt"
  promtool tsdb dump $a "$data/bench-100k" > "$W/dump-promtool.txt"
  if cmp -s "$W/dump-promsnap.txt" "$W/dump-promtool.txt"; then r=identical; else r=DIFFERENT; fi
  echo "$r $(wc -l < "$W/dump-promsnap.txt") lines, $(stat -c %s "$W/dump-promsnap.txt") bytes" > "$out/dump-$kind-identical"
  rm -f "$W"/dump-*.txt
done
python3 "$here/alt.py" dump-100k "$out" --runs "${DUMP_RUNS:-3}" --warmup 0 --shell \
  -- "$P dump $data/bench-100k > /dev/null" -- "promtool tsdb dump $data/bench-100k > /dev/null"
python3 "$here/alt.py" dump-window "$out" --runs "$runs" --warmup "$warm" --shell \
  -- "$P dump $win $data/bench-100k > /dev/null" -- "promtool tsdb dump $win $data/bench-100k > /dev/null"
# What the output alone costs: the same bytes through cat, and promsnap's
# dump on one core.
alt dump-floor --shell -- "taskset -c 0 $P dump $data/bench-100k > /dev/null" \
  -- "$P dump $data/bench-100k | cat > /dev/null"

echo "== copy bench-1m (verified) vs cp -r + sync"
alt copy-1m --shell --prepare "rm -rf $W/dst $W/cp; sync" \
  -- "$P copy $data/bench-1m $W/dst > /dev/null" -- "cp -r $data/bench-1m $W/cp && sync" \
  -- "$P verify $data/bench-1m > /dev/null"
alt copy-modes-1m --shell --prepare "rm -rf $W/dst $W/cp; sync" \
  -- "$P copy --verify quick $data/bench-1m $W/dst > /dev/null" \
  -- "$P copy --verify none $data/bench-1m $W/dst > /dev/null" -- "cp -r $data/bench-1m $W/cp && sync"
alt link-1m --shell --prepare "rm -rf $W/dst" -- "$P copy --link --verify none $data/bench-1m $W/dst > /dev/null" \
  -- "$P copy --link $data/bench-1m $W/dst > /dev/null"
rm -rf "$W/dst" "$W/cp"

echo "== wal: wal-12m (uncompressed, promtool tsdb bench write) and wal-snappy (the real server, snappy)"
# Every byte the command reads: the WAL segments and chunks_head/.
du -sb "$data/wal-12m/storage" | cut -f1 > "$out/wal-bytes"
du -sb "$data/wal-snappy/storage" | cut -f1 > "$out/wal-snappy-bytes"
"$P" wal --json "$data/wal-snappy/storage" > "$out/wal-snappy-report.json" || true
alt wal-j1 -- "taskset -c 0 $P wal $data/wal-12m/storage" -- "taskset -c 0 $P wal $data/wal-snappy/storage"

echo "== scaling: verify per byte, bench-100k vs bench-1m; 20 blocks vs one"
du -sb "$data/bench-100k" | cut -f1 > "$out/bytes-100k"
du -sb "$data/bench-1m" | cut -f1 > "$out/bytes-1m"
# The third command verifies the one block 20 times in a row: "20 × one
# block's time" measured over as long a stretch as the 20-block run, so that
# a change in the machine's load hits both sides alike (20 × a 0.4 s run
# multiplied its noise by 20).
python3 "$here/alt.py" scale-20 "$out" --runs "${SCALE_RUNS:-$runs}" --warmup "$warm" --shell \
  -- "$P verify --jobs 1 $data/bench-1m" -- "$P verify --jobs 1 $data/scale-20" \
  -- "for i in \$(seq 20); do $P verify --jobs 1 $data/bench-1m || exit 1; done"

echo "== ls and analyze vs promtool"
alt ls -- "$P ls $data/bench-1m" -- "promtool tsdb list $data/bench-1m"
alt analyze-1m -- "$P analyze $data/bench-1m" -- "promtool tsdb analyze $data/bench-1m"

# The block writer (issue 15): rewrite bench-1m sample for sample, and fill a
# 10-minute hole across bench-100k's 100k series.
# hf_shell NAME [--prepare CMD] CMD...: shell commands timed in alternation
# by alt.py (peak RSS and CPU time of the same runs included).
hf_shell() {
  local name=$1 prep=() args=()
  shift
  if [ "$1" = --prepare ]; then prep=(--prepare "$2"); shift 2; fi
  for c in "$@"; do args+=(-- "$c"); done
  python3 "$here/alt.py" "$name" "$out" --runs "$runs" --warmup "$warm" "${prep[@]}" --shell "${args[@]}"
}
writer_bench() {
  echo "== writer: rewrite bench-1m (decode, re-encode, write, fsync) vs cp -r + sync"
  (cd "$root" && cargo build --release --locked -q --example rewrite_block)
  local RW="$root/target/release/examples/rewrite_block"
  hf_shell rewrite-1m --prepare "rm -rf $W/rw $W/cp; mkdir -p $W/rw; sync" \
    "$RW $data/bench-1m/01* $W/rw" "cp -r $data/bench-1m $W/cp && sync"
  rm -rf "$W/rw" "$W/cp"

  echo "== writer: fill a 10-minute hole across bench-100k"
  # TARGET: bench-100k's block with 10 minutes of every series deleted by a
  # real Prometheus (admin API delete_series, which writes the tombstones).
  local ft="$W/fill-target" blk port pid start
  rm -rf "$ft"; mkdir -p "$ft"
  cp -r "$data"/bench-100k/01* "$ft/"
  blk=$(basename "$(ls -d "$ft"/01* | head -1)")
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'global:\n  scrape_interval: 1h\n' > "$W/fill-prom.yml"
  prometheus --config.file="$W/fill-prom.yml" --storage.tsdb.path="$ft" --web.enable-admin-api \
    --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$port" >"$W/fill-prom.log" 2>&1 &
  pid=$!
  for _ in $(seq 120); do curl -fs "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break; sleep 0.5; done
  start=$(python3 -c "import json; m=json.load(open('$ft/$blk/meta.json')); print((m['minTime']+m['maxTime'])//2000)")
  curl -fs -X POST -g "http://127.0.0.1:$port/api/v1/admin/tsdb/delete_series?match[]={__name__=~\".%2B\"}&start=$start&end=$((start + 599))" >/dev/null
  kill "$pid"; wait "$pid" || true
  [ "$(stat -c %s "$ft/$blk/tombstones")" -gt 9 ] || { echo "no deletion in the tombstones" >&2; return 1; }
  local clean="find $ft -maxdepth 1 -name '01*' ! -name $blk -exec rm -rf {} +"
  "$P" fill "$ft" --from "$data/bench-100k" --dry-run --json > "$out/fill-100k.report.json" || true
  hf_shell fill-100k --prepare "$clean" "$P fill $ft --from $data/bench-100k > /dev/null"
  rm -rf "$ft"
}
[ "${BENCH_WRITER:-1}" = 1 ] && writer_bench

if [ "${BENCH_KERNELS:-1}" = 1 ]; then
  echo "== kernels (criterion, short runs)"
  seg=$(ls "$data"/bench-100k/*/chunks/000001 | head -1)
  quick="--warm-up-time 1 --measurement-time 3"
  (cd "$root" && rm -rf target/criterion &&
    CHUNKENC_SEGMENT=$seg cargo bench --locked -q --bench chunkenc -- $quick >/dev/null 2>&1 &&
    cargo bench --locked -q --bench index -- $quick >/dev/null 2>&1 &&
    PROMSNAP_BENCH_WAL=$data/wal-snappy/storage/wal/00000000 \
      cargo bench --locked -q --bench wal -- $quick >/dev/null 2>&1) || echo "kernel benches failed" >&2
  cp -r "$root/target/criterion" "$out/criterion" 2>/dev/null || true
fi

python3 "$here/report.py" "$out" "$root/BENCHMARKS.md"
echo "wrote $root/BENCHMARKS.md"
