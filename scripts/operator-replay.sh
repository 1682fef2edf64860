#!/usr/bin/env bash
# An operator's replay of the replica-seeding procedure, by hand, outside the test harness
# (docs/LOSS-WINDOWS.md, "An operator's replay (outside the harness)").
#
#   scripts/operator-replay.sh run SCENARIO... [-- DIR]   run real servers, one dir per scenario
#   scripts/operator-replay.sh answer DIR/SCENARIO        ask `coverage` as an operator would
#                                                         (into DIR/SCENARIO/$REPLAY_ANSWERS,
#                                                         default answers/; the judge's
#                                                         verdicts in judged-answers.txt)
#
# Scenarios (each a master scraping itself every 1 s with 1m blocks, the admin API on and a
# remote_write to the slave's /api/v1/write; the slave an empty data dir seeded with the
# snapshot's blocks, started with --web.enable-remote-write-receiver):
#   up40      slave up about 40 s after the snapshot; seeded with `promsnap seed`
#   up40-cp   the same, seeded with curl + plain `cp -r`
#   skiphead  the same with a `?skip_head=true` snapshot (curl), seeded with plain `cp -r`
#   up7m      slave up about 7 min after the snapshot (several WAL truncations); curl + `cp -r`
#   skiphead-seed  the same with `promsnap seed --skip-head`
#   laterw    remote_write added to the master's config (kill -HUP; `POST /-/reload` would need
#             --web.enable-lifecycle) only when the slave is ready;
#             seeded with `promsnap seed`
# Round two (docs/LOSS-WINDOWS.md, "An operator's replay, round two"):
#   busy      a busy master: the same self-scrape plus a local exporter (python3 http.server
#             serving a fixed /metrics page of $REPLAY_SERIES series, default 20000) every 1 s,
#             --storage.tsdb.wal-segment-size=10MB --no-storage.tsdb.wal-compression (segments
#             rotate by size too); slave up 15 s after the WAL segment written at the snapshot
#             is deleted (the reader is overtaken; at most 8 min); seeded with `promsnap seed`
#   busy4k    the same with 4000 series: segments rotate only at truncations
#   deb-up1m  the Debian package's shape: global 15 s, the master scraping itself every 5 s and
#             an exporter of 1000 series (job node) every 15 s, 1m blocks; slave up about 1 min
#             after the snapshot; curl + `cp -r`
#   deb-up5m  the same, slave up about 5 min after the snapshot
#   slave-restart  the busy exporter (default WAL settings); slave up 40 s after the snapshot,
#             stopped (SIGTERM) 20 s after it was ready and started again; `promsnap seed`
#   master-restart  the master restarted (SIGTERM, started again) 20 s after the snapshot, the
#             slave up 60 s after the snapshot; curl + `cp -r`
#   headgc    the snapshot taken 2 s after the master's second `Head GC completed` log line
#             (not after its block dir appears); slave up 40 s later; curl + `cp -r`
# A suffix -rN (up40-r2) repeats a scenario in its own directory.
# The master is started by the script; it runs until its second block is written, is
# snapshotted, and keeps running until 70 s after the slave is ready; then both are stopped
# (SIGTERM). The real loss is measured with `promsnap gaps SLAVE --against MASTER` and
# `promtool tsdb dump` of both. `answer` then runs `promsnap coverage` with only what an
# operator has (the snapshot, the master's data dir as it is after the run, the wall times the
# script noted as an operator would, to the second, the servers' stderr logs) and judges each
# answer against the real loss (the done criteria of docs/LOSS-WINDOWS.md).
#
# Needs: prometheus and promtool 2.42 on the PATH, curl, python3; PROMSNAP (default
# target/release/promsnap, else target/debug/promsnap) the binary under test. Every server
# listens on 127.0.0.1 on a free port; all data goes to DIR (default: a new `mktemp -d -t` dir, printed); servers started are
# stopped on exit, also on error or Ctrl-C. Takes 5-12 minutes per scenario (real time);
# scenarios given together run concurrently. Not run by `cargo test` or CI.
set -euo pipefail
cd "$(dirname "$0")/.."
PROMSNAP=${PROMSNAP:-$PWD/target/release/promsnap}
[ -x "$PROMSNAP" ] || PROMSNAP=$PWD/target/debug/promsnap
[ $# -ge 1 ] || { sed -n '2,54p' "$0"; exit 2; }

base=""
cleanup() { # every server this run started (their pids in BASE/*/server.pids)
  [ -n "$base" ] || return 0
  local p
  for p in $(cat "$base"/*/server.pids 2>/dev/null); do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
now_rfc() { date -u +%Y-%m-%dT%H:%M:%SZ; }
now_ms() { date +%s%3N; }
log() { echo "[$(date -u +%T)] $*" | tee -a "$dir/replay.log" >&2; }

wait_ready() { # PORT: until /-/ready answers 200
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$1/-/ready" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

blocks_in() { # DATA: how many block dirs
  find "$1" -maxdepth 1 -regextype posix-extended -regex '.*/[0-9A-Z]{26}' | wc -l
}

master_config() { # FILE SLAVE_PORT|none (globals: mport, shape, eport)
  local gi=1s
  [ "$shape" = deb ] && gi=15s
  {
    printf 'global:\n  scrape_interval: %s\n  evaluation_interval: %s\n' $gi $gi
    printf 'scrape_configs:\n  - job_name: prometheus\n'
    # The Debian package's /etc/prometheus/prometheus.yml: the self-scrape every 5 s.
    [ "$shape" = deb ] && printf '    scrape_interval: 5s\n    scrape_timeout: 5s\n'
    printf '    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$mport"
    if [ -n "$eport" ]; then
      printf '  - job_name: node\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$eport"
    fi
    if [ "$2" != none ]; then
      printf 'remote_write:\n  - url: http://127.0.0.1:%s/api/v1/write\n' "$2"
    fi
  } >"$1"
}

exporter() { # PORT N: a fixed /metrics page of N gauge series, until killed
  exec python3 -c '
import http.server, sys
n = int(sys.argv[2])
lines = ["# HELP replay_series A fixed series.", "# TYPE replay_series gauge"]
lines += ["replay_series{i=\"%d\",group=\"g%d\"} %d" % (i, i % 16, i % 97) for i in range(n)]
body = ("\n".join(lines) + "\n").encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$1" "$2"
}

start_master() { # DIR: prometheus on the master's dir (appends to master.log); pid in $master
  prometheus --config.file="$1/master.yml" --storage.tsdb.path="$1/master" \
    --web.listen-address="127.0.0.1:$mport" --web.enable-admin-api \
    --storage.tsdb.min-block-duration=1m --storage.tsdb.max-block-duration=1m \
    "${mflags[@]}" 2>>"$1/master.log" &
  master=$!
  echo "$master" >>"$1/server.pids"
}

start_slave() { # DIR: prometheus on the slave's dir (appends to slave.log); pid in $slave
  prometheus --config.file="$1/slave.yml" --storage.tsdb.path="$1/slave" \
    --web.listen-address="127.0.0.1:$sport" --web.enable-remote-write-receiver \
    2>>"$1/slave.log" &
  slave=$!
  echo "$slave" >>"$1/server.pids"
}

newest_segment() { # WALDIR: the newest segment's file name
  find "$1" -maxdepth 1 -regextype posix-extended -regex '.*/[0-9]{8}' -printf '%f\n' | sort | tail -1
}

run_one() { # SCENARIO BASE
  local scen=$1 dir=$2/$1
  mkdir -p "$dir"
  mport=$(free_port)
  sport=$(free_port)
  shape=base eport=""
  mflags=()
  local delay=40 skip=false seeder=cp rw_now=yes series=0 scrape_ms=1000 after=block
  local wait_overtaken=no restart_slave=no restart_master=no
  case ${scen%-r[0-9]*} in
    up40) seeder=seed ;;
    up40-cp) ;;
    skiphead) skip=true ;;
    skiphead-seed) skip=true; seeder=seed ;;
    up7m) delay=420 ;;
    laterw) seeder=seed; rw_now=no ;;
    busy)
      seeder=seed; series=${REPLAY_SERIES:-20000}; wait_overtaken=yes
      mflags=(--storage.tsdb.wal-segment-size=10MB --no-storage.tsdb.wal-compression) ;;
    busy4k)
      seeder=seed; series=4000; wait_overtaken=yes
      mflags=(--storage.tsdb.wal-segment-size=10MB --no-storage.tsdb.wal-compression) ;;
    deb-up1m) shape=deb; series=1000; delay=60; scrape_ms=15000 ;;
    deb-up5m) shape=deb; series=1000; delay=300; scrape_ms=15000 ;;
    slave-restart) seeder=seed; series=${REPLAY_SERIES:-20000}; restart_slave=yes ;;
    master-restart) delay=60; restart_master=yes ;;
    headgc) after=headgc ;;
    *) echo "unknown scenario $scen" >&2; return 2 ;;
  esac
  if [ "$series" -gt 0 ]; then
    eport=$(free_port)
    exporter "$eport" "$series" &
    echo "$!" >>"$dir/server.pids"
  fi
  if [ $rw_now = yes ]; then master_config "$dir/master.yml" "$sport"
  else master_config "$dir/master.yml" none; fi
  log "$scen: master on :$mport, slave on :$sport${eport:+, exporter of $series series on :$eport}"
  echo "master_start=$(now_rfc)" >"$dir/times"
  echo "scrape_ms=$scrape_ms" >>"$dir/times"
  start_master "$dir"
  wait_ready "$mport"
  [ $rw_now = yes ] && echo "rw_start=$(now_rfc)" >>"$dir/times"
  if [ $after = headgc ]; then
    # Until the master's log holds its second head GC (its second head compaction), then 2 s.
    while [ "$(grep -c 'Head GC completed' "$dir/master.log")" -lt 2 ]; do sleep 0.2; done
    sleep 2
  else
    # Until the master has written its second block (head compactions every minute).
    while [ "$(blocks_in "$dir/master")" -lt 2 ]; do sleep 1; done
    sleep 5
  fi
  local q="" snap
  [ $skip = true ] && q="?skip_head=true"
  if [ $seeder = seed ]; then
    echo "snapshot=$(now_rfc)" >>"$dir/times"
    local sk=()
    [ $skip = true ] && sk=(--skip-head)
    "$PROMSNAP" seed "${sk[@]}" --from "http://127.0.0.1:$mport" --to "$dir/slave" --json \
      >"$dir/seed.json" 2>"$dir/seed.err" || log "$scen: seed exit $?"
    snap=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["snapshot"]["path"])' \
      "$dir/seed.json")
  else
    echo "snapshot=$(now_rfc)" >>"$dir/times"
    curl -sf -XPOST "http://127.0.0.1:$mport/api/v1/admin/tsdb/snapshot$q" >"$dir/snapshot.json"
    snap="$dir/master/snapshots/$(python3 -c \
      'import json,sys; print(json.load(open(sys.argv[1]))["data"]["name"])' "$dir/snapshot.json")"
    mkdir -p "$dir/slave"
    cp -r "$snap"/. "$dir/slave/"
  fi
  echo "snapshot_dir=$snap" >>"$dir/times"
  if [ $wait_overtaken = yes ]; then
    # The segment written at the snapshot: the slave comes up once it is deleted (15 s later).
    local seg waited=0
    seg=$(newest_segment "$dir/master/wal")
    log "$scen: snapshot $snap; slave once wal/$seg is deleted"
    while [ -e "$dir/master/wal/$seg" ] && [ $waited -lt 480 ]; do sleep 1; waited=$((waited + 1)); done
    log "$scen: wal/$seg deleted after ${waited}s (or the cap); slave in 15s"
    sleep 15
  elif [ $restart_master = yes ]; then
    log "$scen: snapshot $snap; master restarted in 20 s, slave in ${delay}s"
    sleep 20
    echo "master_restart=$(now_rfc)" >>"$dir/times"
    kill "$master"; wait "$master" || true
    start_master "$dir"
    wait_ready "$mport"
    echo "master_restart_ready=$(now_rfc)" >>"$dir/times"
    sleep $((delay - 20))
  else
    log "$scen: snapshot $snap; slave in ${delay}s"
    sleep "$delay"
  fi
  printf 'global:\n  scrape_interval: 1m\n' >"$dir/slave.yml"
  echo "slave_start=$(now_rfc)" >>"$dir/times"
  start_slave "$dir"
  wait_ready "$sport" || log "$scen: slave not ready"
  echo "slave_up=$(now_rfc)" >>"$dir/times"
  echo "slave_up_ms=$(now_ms)" >>"$dir/times"
  if [ $rw_now = no ]; then
    master_config "$dir/master.yml" "$sport"
    kill -HUP "$master"
    echo "rw_start=$(now_rfc)" >>"$dir/times"
  fi
  cp -r "$dir/master/wal" "$dir/master-wal-at-slave-up" 2>/dev/null || true
  if [ $restart_slave = yes ]; then
    log "$scen: slave up; restarted in 20 s"
    sleep 20
    echo "slave_stop=$(now_rfc)" >>"$dir/times"
    kill "$slave"; wait "$slave" || true
    start_slave "$dir"
    wait_ready "$sport" || log "$scen: slave not ready again"
    echo "slave_up2=$(now_rfc)" >>"$dir/times"
  fi
  log "$scen: slave up; both run 70 s more"
  sleep 70
  kill "$master"; wait "$master" || true
  echo "master_stop=$(now_rfc)" >>"$dir/times"
  sleep 2
  kill "$slave"; wait "$slave" || true
  cleanup_dir "$dir" # the exporter: nothing left for the exit trap to stop
  log "$scen: stopped; measuring"
  measure "$dir"
  log "$scen: done in $dir"
}

cleanup_dir() { # DIR: stop what is left of this scenario's servers
  local p
  for p in $(cat "$1/server.pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  : >"$1/server.pids"
}

measure() { # DIR: the real loss, from both stopped servers' data dirs
  local dir=$1
  "$PROMSNAP" gaps "$dir/slave" --against "$dir/master" --json >"$dir/gaps.json" || true
  "$PROMSNAP" gaps "$dir/slave" --against "$dir/master" >"$dir/gaps.txt" || true
  promtool tsdb dump "$dir/master" >"$dir/master.dump" 2>/dev/null || true
  promtool tsdb dump "$dir/slave" >"$dir/slave.dump" 2>/dev/null || true
}

answer() { # DIR: coverage as an operator asks it, then the judge
  local dir=$1
  local slave_stop="" slave_up2="" master_restart="" master_restart_ready="" scrape_ms=1000
  # shellcheck disable=SC1091
  . "$dir/times"
  local out="$dir/${REPLAY_ANSWERS:-answers}" m="$dir/master" up_s
  [ -s "$dir/gaps.json" ] || measure "$dir"
  mkdir -p "$out"
  up_s=$(date -d "$slave_up" +%s)
  local local_up
  local_up=$(TZ=Europe/Berlin date -d "$slave_up" +%Y-%m-%dT%H:%M:%S%:z)
  local -a base=("$snapshot_dir")
  # The same logs as `journalctl -o json` exports them (each line a MESSAGE in a JSON envelope),
  # as an operator of a systemd unit has them.
  for l in master slave; do
    python3 -c '
import json, sys
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    print(json.dumps({"__REALTIME_TIMESTAMP": "0", "_SYSTEMD_UNIT": "prometheus.service",
                      "SYSLOG_IDENTIFIER": "prometheus", "MESSAGE": line}))
' "$dir/$l.log" >"$dir/$l.journal.json"
  done
  # The slave's ready time as its own log has it (what the answer's warning says to give).
  local log_up
  log_up=$(sed -n 's/^ts=\([^ ]*\) .*Server is ready to receive web requests.*/\1/p' \
    "$dir/slave.log" | head -1)
  local -A v=(
    [full]="--master $m --rw-start $rw_start --slave-up $slave_up"
    [full-logs]="--master $m --rw-start $rw_start --slave-up $slave_up --master-log $dir/master.log --slave-log $dir/slave.log"
    [no-rwstart]="--master $m --slave-up $slave_up"
    [no-rwstart-logs]="--master $m --slave-up $slave_up --master-log $dir/master.log --slave-log $dir/slave.log"
    [no-master]="--rw-start $rw_start --slave-up $slave_up"
    [unix-ms]="--master $m --rw-start $rw_start --slave-up ${slave_up_ms}"
    [offset-time]="--master $m --rw-start $rw_start --slave-up $local_up"
    [unix-s]="--master $m --rw-start $rw_start --slave-up $up_s"
    [wal-at-up]="--master $dir/master-wal-at-slave-up --rw-start $rw_start --slave-up $slave_up"
    [slave-2h]="--master $m --rw-start $rw_start --slave-up $slave_up --slave-block-range 2h --master-log $dir/master.log --slave-log $dir/slave.log"
    [no-slave-up]="--master $m --rw-start $rw_start"
    [logs-ready-up]="--master $m --rw-start $rw_start --slave-up ${log_up:-$slave_up} --master-log $dir/master.log --slave-log $dir/slave.log"
    [journald-logs]="--master $m --rw-start $rw_start --slave-up $slave_up --master-log $dir/master.journal.json --slave-log $dir/slave.journal.json"
    [slave-dir]="--master $m --rw-start $rw_start --slave-up $slave_up --slave $dir/slave"
  )
  local logs="--master-log $dir/master.log --slave-log $dir/slave.log"
  local full="--master $m --rw-start $rw_start --slave-up $slave_up"
  # What an operator knows of a restart: when they stopped it and when it was ready again.
  if [ -n "$slave_stop" ]; then
    v[slave-restart]="$full --slave-restart $slave_stop,$slave_up2"
    v[slave-restart-logs]="$full --slave-restart $slave_stop,$slave_up2 $logs"
    v[slave-restart-wal-at-up]="--master $dir/master-wal-at-slave-up --rw-start $rw_start --slave-up $slave_up --slave-restart $slave_stop,$slave_up2"
    v[slave-up2]="--master $m --rw-start $rw_start --slave-up $slave_up2"
  fi
  if [ -n "$master_restart" ]; then
    v[master-restart]="$full --master-restart $master_restart"
    v[master-restart-ready]="$full --master-restart $master_restart_ready"
    v[master-restart-logs]="$full --master-restart $master_restart $logs"
    v[master-restart-wal-at-up]="--master $dir/master-wal-at-slave-up --rw-start $rw_start --slave-up $slave_up --master-restart $master_restart"
    v[master-restart-no-master]="--rw-start $rw_start --slave-up $slave_up --master-restart $master_restart"
  fi
  if [ "$scrape_ms" != 1000 ]; then
    v[scrape-given]="$full --scrape-interval $((scrape_ms / 1000))s"
    v[scrape-given-logs]="$full --scrape-interval $((scrape_ms / 1000))s $logs"
  fi
  for k in "${!v[@]}"; do
    local rc=0
    # shellcheck disable=SC2086
    "$PROMSNAP" coverage "${base[@]}" ${v[$k]} >"$out/$k.txt" 2>&1 || rc=$?
    echo "exit $rc" >>"$out/$k.txt"
    # shellcheck disable=SC2086
    "$PROMSNAP" coverage "${base[@]}" ${v[$k]} --json >"$out/$k.json" 2>/dev/null || true
  done
  python3 scripts/operator-replay-judge.py "$dir" "${REPLAY_ANSWERS:-answers}"
}

case $1 in
  run)
    shift
    scens=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do scens+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    base=${1:-$(mktemp -d -t operator-replay.XXXXXX)}
    mkdir -p "$base"
    base=$(realpath "$base")
    echo "data in $base" >&2
    jobs_=()
    for s in "${scens[@]}"; do
      ( dir=$base/$s; mkdir -p "$dir"; trap - EXIT; run_one "$s" "$base" ) &
      jobs_+=($!)
    done
    for j in "${jobs_[@]}"; do wait "$j" || true; done
    ;;
  answer) shift; for d in "$@"; do dir=$d; answer "$d"; done ;;
  *) sed -n '2,54p' "$0"; exit 2 ;;
esac
