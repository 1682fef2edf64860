#!/usr/bin/env bash
# Records the two real runs of testdata/empty-seed/: a replica seeded from a
# snapshot with no block (the admin API's skip_head=true before the master cut
# its first block; 2.42's default 2 h block range), with remote write on since
# the master started (`since-start`) and enabled only when the replica came up
# (`late`). Needs prometheus 2.42 and a built promsnap (PROMSNAP, default
# target/debug/promsnap). Usage: scripts/record-empty-seed.sh OUT_DIR
set -euo pipefail
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
P=${PROMSNAP:-$(pwd)/target/debug/promsnap}
now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
ready() { # port
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/-/ready" >/dev/null && return; sleep 0.2; done
  echo "port $1 not ready" >&2; exit 2
}
run() { # name rw_late
  local name=$1 late=$2 w; w=$(mktemp -d)
  local mp=19491 sp=19492 rw
  rw="remote_write: [{url: 'http://127.0.0.1:$sp/api/v1/write'}]"
  printf 'global: {scrape_interval: 1s}\nscrape_configs: [{job_name: m, static_configs: [{targets: [127.0.0.1:%s]}]}]\n' \
    "$mp" >"$w/m.yml"
  [ "$late" = 1 ] || echo "$rw" >>"$w/m.yml"
  printf 'global: {scrape_interval: 1s}\n' >"$w/s.yml"
  prometheus --config.file="$w/m.yml" --storage.tsdb.path="$w/master" \
    --web.listen-address=127.0.0.1:$mp --web.enable-admin-api --web.enable-lifecycle >"$w/master.log" 2>&1 &
  local mpid=$!
  ready $mp
  local master_ready; master_ready=$(now)
  sleep 10
  local snap; snap=$(curl -sf -XPOST "http://127.0.0.1:$mp/api/v1/admin/tsdb/snapshot?skip_head=true" |
    sed 's/.*"name":"\([^"]*\)".*/\1/')
  [ -z "$(ls -A "$w/master/snapshots/$snap")" ] || { echo "snapshot $snap not empty" >&2; exit 2; }
  sleep 10
  mkdir "$w/slave" # seeded from the empty snapshot: nothing to copy
  prometheus --config.file="$w/s.yml" --storage.tsdb.path="$w/slave" \
    --web.listen-address=127.0.0.1:$sp --web.enable-remote-write-receiver >"$w/slave.log" 2>&1 &
  local spid=$!
  ready $sp
  local slave_up; slave_up=$(now)
  local rw_start=null
  if [ "$late" = 1 ]; then
    echo "$rw" >>"$w/m.yml"
    rw_start="\"$(now)\""
    curl -sf -XPOST "http://127.0.0.1:$mp/-/reload"
  fi
  cp -a "$w/master/wal" "$w/wal-at-slave-up"
  sleep 20
  kill "$mpid"; wait "$mpid" || true # the queue flushes on shutdown
  kill "$spid"; wait "$spid" || true
  mkdir -p "$OUT/$name"
  rm -rf "$OUT/$name/wal"; cp -a "$w/wal-at-slave-up" "$OUT/$name/wal"
  "$P" gaps "$w/slave" --against "$w/master" --json >"$w/gaps.json" || true
  python3 - "$w/gaps.json" "$OUT/$name" "$snap" "$master_ready" "$slave_up" "$rw_start" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
out, snap, master_ready, slave_up, rw = sys.argv[2:7]
json.dump({"snapshot": snap, "master_ready": master_ready, "slave_up": slave_up,
           "rw_start": json.loads(rw), "missing": g["missing"]["merged"]},
          open(out + "/run.json", "w"), indent=1)
PY
  cp "$w/master.log" "$OUT/$name/master-log.txt"
  rm -rf "$w"
}
run since-start 0
run late 1
