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
# Round three, the heal path (docs/HEAL-REPLAY.md):
#   heal      the first replay's master; `promsnap seed`; the slave up 15 s after the WAL
#             segment written at the snapshot is deleted (a real loss of minutes); after the
#             run the master is stopped and its files checksummed, then: `promsnap verify` of
#             the snapshot, `coverage`, the slave started again and `promsnap fill SLAVE --from
#             MASTER` into it while it runs (as the README allows), its HTTP API queried over
#             the lost range against a Prometheus on a copy of the master's data dir, `gaps
#             --against` with the slave stopped, the slave restarted and queried again,
#             `promtool tsdb analyze` of every block fill wrote and `promtool tsdb dump` of the
#             slave, the master's checksums again (heal/ holds it all)
#   noapi     `promsnap snapshot` of the running master's data dir and an admin-API snapshot
#             started at the same moment, compared (noapi-compare.txt); the slave seeded from
#             promsnap's with `promsnap copy`, up 40 s later
#   ooo       up40 with the slave's config holding `storage: tsdb: out_of_order_time_window: 10m`;
#             `answer` gives `--slave-ooo-window 10m` (the operator's slave config) to every
#             question, and asks once without it (no-ooo-flag)
#   extown    a master with `external_labels: {cluster: ext}` scraping itself and an exporter of
#             $REPLAY_SERIES series (default 100), half of them carrying their own `cluster="own"`
#             label (remote write keeps a series' own label); remote_write added when the slave
#             is ready (a loss from the snapshot to then); after the run `fill` is asked as the
#             README says (plain, with `--drop-label cluster`, and by `--match` in two runs)
#             and the slave is queried against the master (extown/ holds it all)
#   killed    a master with an exporter of $REPLAY_SERIES series (default 5000) and no slave:
#             `promsnap seed` and `promsnap fill` SIGKILLed at fractions of their undisturbed
#             run time; after each kill the target's files are listed, a copy of it is opened by
#             Prometheus (ready, queried, its log kept), and the run repeated to completion
#             and once more (killed/ holds it all; no `answer`)
# Round four, the issue's table blind (docs/LOSS-WINDOWS.md, "An operator's replay, round four"):
#   dd-up40, dd-skiphead, dd-up7m, dd-laterw   up40 (curl + `cp -r`), skiphead, up7m, laterw
#             with Prometheus' default flags (2h blocks: no block flag on either server) and
#             the Debian package's /etc/prometheus/prometheus.yml (global 15 s, external label
#             monitor: 'example', an Alertmanager target nothing listens on, the self-scrape every
#             5 s, job node an exporter of 1000 series every 15 s); the snapshot REPLAY_PHASE s
#             (default 100) after the master is ready; the loss measured with --drop-label monitor
# Round five, the issue's build list at drawn times (docs/LOSS-WINDOWS.md, "An operator's replay,
# round five"); each takes REPLAY_GRID (the snapshot's second on the minute grid) and REPLAY_DELAY
# (the slave-up delay after the snapshot), drawn beforehand; seeded with curl + `cp -r`:
#   bl-head-*   the first replay's master (1 s self-scrape), a snapshot with head
#   bl-skiphead the same, `?skip_head=true`
#   bl-two      two targets: the self-scrape every 1 s and an exporter of $REPLAY_SERIES series
#               (default 50) every 5 s
#   bl-restart  the master stopped (SIGTERM, waited for) and started again REPLAY_RESTART s
#               (default 20) after the snapshot, during the outage
#   bl-restart-up  (round eight) the master stopped (SIGTERM, waited for) and started again
#               REPLAY_RESTART_AFTER_UP s (default 20) after the slave is ready (and after the
#               wal/ copy), during the catch-up; the same times noted as for bl-restart
#   bl-busy     busy's master (20000 series at 1 s, 10MB segments, no WAL compression)
#   bl-laterw   remote_write added (kill -HUP) only when the slave is ready
#   REPLAY_DELAY=S (any scenario): the slave up S seconds after the snapshot (busy: not waited
#             for the segment's deletion)
#   REPLAY_AT_CUT=1 (any scenario): after the delay, the slave is started as soon as the master
#             opens its next WAL segment (a head compaction's truncation, or a size rotation),
#             so that the wal/ copy taken when it is ready holds that segment empty or nearly
#             (the time it was seen in the times file, wal_cut= and wal_cut_ms=)
#   REPLAY_GRID=S (any scenario): after the phase, the snapshot waits for the wall clock's second
#             S of the minute (0-59)
#   REPLAY_TAIL=S (any scenario): both servers run S seconds after the slave is ready (default 70)
#   REPLAY_PHASE=S (any scenario): the snapshot S seconds after the second block appears
#             (default 5, the harness's phase), after the second head GC (headgc, default 2), or
#             after the master is ready (dd-*)
#   `answer` also asks with only what an operator has (op*): the wal/ copied with `cp -a` when
#             the slave was ready, times as `date` printed them (op-date), as RFC 3339 made from
#             them, or copied from log lines (op-logtimes), the two stderr logs
#             (round six: also with the master's log taken away, the slave's kept: op-no-masterlog)
#             (round seven, bl-restart: the restart to the ms from the master's log, its SIGTERM
#             line (op-restart-logms) and its second ready line (op-restart-ready-logms))
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
[ $# -ge 1 ] || { sed -n '2,118p' "$0"; exit 2; }

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
  if [ "$shape" = debian ]; then debian_config "$@"; return; fi
  [ "$shape" = deb ] && gi=15s
  {
    printf 'global:\n  scrape_interval: %s\n  evaluation_interval: %s\n' $gi $gi
    [ "$shape" = extown ] && printf '  external_labels:\n    cluster: ext\n'
    printf 'scrape_configs:\n  - job_name: prometheus\n'
    # The Debian package's /etc/prometheus/prometheus.yml: the self-scrape every 5 s.
    [ "$shape" = deb ] && printf '    scrape_interval: 5s\n    scrape_timeout: 5s\n'
    printf '    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$mport"
    if [ -n "$eport" ]; then
      printf '  - job_name: node\n'
      [ "$shape" = two ] && printf '    scrape_interval: 5s\n'
      printf '    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$eport"
    fi
    if [ "$2" != none ]; then
      printf 'remote_write:\n  - url: http://127.0.0.1:%s/api/v1/write\n' "$2"
    fi
  } >"$1"
}

debian_config() { # FILE SLAVE_PORT|none: the Debian package's /etc/prometheus/prometheus.yml
  # (global 15 s, external label monitor: 'example', an Alertmanager target, the self-scrape
  # every 5 s, job node every 15 s), the node target being the local exporter, plus remote_write
  {
    printf 'global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\n'
    printf '  external_labels:\n    monitor: '"'"'example'"'"'\n'
    printf 'alerting:\n  alertmanagers:\n  - static_configs:\n    - targets: ["127.0.0.1:%s"]\n' "$aport"
    printf 'rule_files:\n'
    printf 'scrape_configs:\n  - job_name: prometheus\n    scrape_interval: 5s\n    scrape_timeout: 5s\n'
    printf '    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$mport"
    printf '  - job_name: node\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$eport"
    if [ "$2" != none ]; then
      printf 'remote_write:\n  - url: http://127.0.0.1:%s/api/v1/write\n' "$2"
    fi
  } >"$1"
}

exporter() { # PORT N [own]: a fixed /metrics page of N gauge series, until killed (with `own`,
  # every other series carries a label cluster="own")
  exec python3 -c '
import http.server, sys
n = int(sys.argv[2])
own = len(sys.argv) > 3
lines = ["# HELP replay_series A fixed series.", "# TYPE replay_series gauge"]
lines += ["replay_series{i=\"%d\",group=\"g%d\"%s} %d" % (
    i, i % 16, ",cluster=\"own\"" if own and i % 2 else "", i % 97) for i in range(n)]
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
' "$@"
}

start_master() { # DIR: prometheus on the master's dir (appends to master.log); pid in $master
  prometheus --config.file="$1/master.yml" --storage.tsdb.path="$1/master" \
    --web.listen-address="127.0.0.1:$mport" --web.enable-admin-api \
    "${bflags[@]}" "${mflags[@]}" 2>>"$1/master.log" &
  master=$!
  echo "$master" >>"$1/server.pids"
}

start_slave() { # DIR: prometheus on the slave's dir (appends to slave.log); pid in $slave
  prometheus --config.file="$1/slave.yml" --storage.tsdb.path="$1/slave" \
    --web.listen-address="127.0.0.1:$sport" --web.enable-remote-write-receiver \
    "${sflags[@]}" 2>>"$1/slave.log" &
  slave=$!
  echo "$slave" >>"$1/server.pids"
}

stamp() { # DIR NAME: NAME's time in DIR/times: RFC 3339, ms, and as `date` prints it
  { echo "$2=$(now_rfc)"; echo "$2_ms=$(now_ms)"; echo "$2_date='$(date)'"; } >>"$1/times"
}
restart_master_now() { # DIR PORT: SIGTERM the master, wait for it, start it again until ready
  stamp "$1" master_restart
  kill "$master"; wait "$master" || true
  stamp "$1" master_stopped
  start_master "$1"
  wait_ready "$2"
  stamp "$1" master_restart_ready
}
newest_segment() { # WALDIR: the newest segment's file name
  find "$1" -maxdepth 1 -regextype posix-extended -regex '.*/[0-9]{8}' -printf '%f\n' | sort | tail -1
}

run_one() { # SCENARIO BASE
  local scen=$1 dir=$2/$1
  mkdir -p "$dir"
  mport=$(free_port)
  sport=$(free_port)
  aport=$(free_port) # an Alertmanager address nothing listens on (the Debian config names one)
  shape=base eport=""
  mflags=() sflags=()
  # 1m blocks, unless the scenario runs Prometheus' default flags (2h blocks: no block flags).
  bflags=(--storage.tsdb.min-block-duration=1m --storage.tsdb.max-block-duration=1m)
  local delay=40 skip=false seeder=cp rw_now=yes series=0 scrape_ms=1000 after=block
  local ooo="" wait_overtaken=no restart_slave=no restart_master=no
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
    heal) seeder=seed; wait_overtaken=yes ;;
    noapi) seeder=offline ;;
    extown) seeder=seed; rw_now=no; shape=extown; series=${REPLAY_SERIES:-100} ;;
    ooo) seeder=seed; ooo=10m ;;
    dd-up40) shape=debian; series=1000; scrape_ms=15000; bflags=(); after=ready ;;
    dd-skiphead) shape=debian; series=1000; scrape_ms=15000; bflags=(); after=ready; skip=true ;;
    dd-up7m) shape=debian; series=1000; scrape_ms=15000; bflags=(); after=ready; delay=420 ;;
    dd-laterw) shape=debian; series=1000; scrape_ms=15000; bflags=(); after=ready; rw_now=no ;;
    bl-head-*|bl-head) ;;
    bl-skiphead) skip=true ;;
    bl-two) shape=two; series=${REPLAY_SERIES:-50} ;;
    bl-restart) restart_master=yes ;;
    bl-restart-up) restart_master=up ;;
    bl-busy)
      series=${REPLAY_SERIES:-20000}
      mflags=(--storage.tsdb.wal-segment-size=10MB --no-storage.tsdb.wal-compression) ;;
    bl-laterw) rw_now=no ;;
    killed) run_killed "$dir"; return ;;
    *) echo "unknown scenario $scen" >&2; return 2 ;;
  esac
  if [ -n "${REPLAY_DELAY:-}" ]; then delay=$REPLAY_DELAY; wait_overtaken=no; fi
  local restart_at=${REPLAY_RESTART:-20} restart_up=${REPLAY_RESTART_AFTER_UP:-20}
  if [ "$series" -gt 0 ]; then
    eport=$(free_port)
    if [ "$shape" = extown ]; then exporter "$eport" "$series" own &
    else exporter "$eport" "$series" & fi
    echo "$!" >>"$dir/server.pids"
  fi
  if [ $rw_now = yes ]; then master_config "$dir/master.yml" "$sport"
  else master_config "$dir/master.yml" none; fi
  log "$scen: master on :$mport, slave on :$sport${eport:+, exporter of $series series on :$eport}"
  echo "master_start=$(now_rfc)" >"$dir/times"
  echo "master_start_date='$(date)'" >>"$dir/times"
  echo "scrape_ms=$scrape_ms" >>"$dir/times"
  start_master "$dir"
  wait_ready "$mport"
  [ $rw_now = yes ] && echo "rw_start=$(now_rfc)" >>"$dir/times"
  # The snapshot's phase: REPLAY_PHASE seconds after the second block (default 5), after the
  # second head GC (default 2), or after the master is ready (dd-*: default 100).
  local phase
  if [ $after = headgc ]; then
    # Until the master's log holds its second head GC (its second head compaction), then 2 s.
    while [ "$(grep -c 'Head GC completed' "$dir/master.log")" -lt 2 ]; do sleep 0.2; done
    phase=${REPLAY_PHASE:-2}
  elif [ $after = ready ]; then
    phase=${REPLAY_PHASE:-100}
  else
    # Until the master has written its second block (head compactions every minute).
    while [ "$(blocks_in "$dir/master")" -lt 2 ]; do
      # A master stopped from outside (its log says by what signal) would never write them.
      kill -0 "$master" 2>/dev/null || { log "$scen: the master exited before its second block"; return 1; }
      sleep 1
    done
    phase=${REPLAY_PHASE:-5}
  fi
  echo "phase=$after+${phase}s" >>"$dir/times"
  sleep "$phase"
  if [ -n "${REPLAY_GRID:-}" ]; then
    # Until the wall clock's second REPLAY_GRID of the minute (the next one at least 1 s ahead).
    python3 -c '
import sys, time
g = int(sys.argv[1]); now = time.time()
t = (now // 60) * 60 + g
while t < now + 1:
    t += 60
time.sleep(t - now)' "$REPLAY_GRID"
    echo "grid=$REPLAY_GRID" >>"$dir/times"
  fi
  local q="" snap
  [ $skip = true ] && q="?skip_head=true"
  [ -n "$ooo" ] && echo "slave_ooo=$ooo" >>"$dir/times"
  if [ $seeder = offline ]; then
    echo "snapshot=$(now_rfc)" >>"$dir/times"
    snap=$(offline_snapshot "$dir")
    mkdir -p "$dir/slave"
    "$PROMSNAP" copy "$snap" "$dir/slave" --json >"$dir/copy.json" 2>"$dir/copy.err" ||
      log "$scen: copy exit $?"
  elif [ $seeder = seed ]; then
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
  local snap_s
  snap_s=$(date +%s)
  if [ $wait_overtaken = yes ]; then
    # The segment written at the snapshot: the slave comes up once it is deleted (15 s later).
    local seg waited=0
    seg=$(newest_segment "$dir/master/wal")
    log "$scen: snapshot $snap; slave once wal/$seg is deleted"
    while [ -e "$dir/master/wal/$seg" ] && [ $waited -lt 480 ]; do sleep 1; waited=$((waited + 1)); done
    log "$scen: wal/$seg deleted after ${waited}s (or the cap); slave in 15s"
    sleep 15
  elif [ $restart_master = yes ]; then
    log "$scen: snapshot $snap; master restarted in $restart_at s, slave in ${delay}s"
    sleep "$restart_at"
    restart_master_now "$dir" "$mport"
    local left=$((snap_s + delay - $(date +%s)))
    if [ "$left" -gt 0 ]; then sleep "$left"; fi
  else
    log "$scen: snapshot $snap; slave in ${delay}s"
    sleep "$delay"
  fi
  if [ -n "${REPLAY_AT_CUT:-}" ]; then
    # Until the master opens its next segment (polled every 20 ms), then the slave at once.
    local cur
    cur=$(newest_segment "$dir/master/wal")
    while [ "$(newest_segment "$dir/master/wal")" = "$cur" ]; do sleep 0.02; done
    echo "wal_cut=$(now_rfc)" >>"$dir/times"; echo "wal_cut_ms=$(now_ms)" >>"$dir/times"
  fi
  printf 'global:\n  scrape_interval: 1m\n' >"$dir/slave.yml"
  # 2.42 takes the out-of-order window from its config file only.
  [ -n "$ooo" ] && printf 'storage:\n  tsdb:\n    out_of_order_time_window: %s\n' "$ooo" >>"$dir/slave.yml"
  echo "slave_start=$(now_rfc)" >>"$dir/times"
  start_slave "$dir"
  wait_ready "$sport" || log "$scen: slave not ready"
  echo "slave_up=$(now_rfc)" >>"$dir/times"
  echo "slave_up_ms=$(now_ms)" >>"$dir/times"
  echo "slave_up_date='$(date)'" >>"$dir/times"
  if [ $rw_now = no ]; then
    master_config "$dir/master.yml" "$sport"
    kill -HUP "$master"
    echo "rw_start=$(now_rfc)" >>"$dir/times"
    echo "rw_start_date='$(date)'" >>"$dir/times"
  fi
  # The operator's copy of the running master's wal/ (cp -a, as the brief of round four says).
  cp -a "$dir/master/wal" "$dir/master-wal-at-slave-up" 2>/dev/null || true
  if [ $restart_master = up ]; then
    # Round eight: the master restarted after the slave is ready (the copy above taken before).
    log "$scen: slave up; master restarted in $restart_up s"
    sleep "$restart_up"
    restart_master_now "$dir" "$mport"
  fi
  if [ $restart_slave = yes ]; then
    log "$scen: slave up; restarted in 20 s"
    sleep 20
    echo "slave_stop=$(now_rfc)" >>"$dir/times"
    kill "$slave"; wait "$slave" || true
    start_slave "$dir"
    wait_ready "$sport" || log "$scen: slave not ready again"
    echo "slave_up2=$(now_rfc)" >>"$dir/times"
  fi
  local tail_s=${REPLAY_TAIL:-70}
  log "$scen: slave up; both run $tail_s s more"
  sleep "$tail_s"
  kill "$master"; wait "$master" || true
  echo "master_stop=$(now_rfc)" >>"$dir/times"
  sleep 2
  kill "$slave"; wait "$slave" || true
  cleanup_dir "$dir" # the exporter: nothing left for the exit trap to stop
  log "$scen: stopped; measuring"
  measure "$dir"
  case ${scen%-r[0-9]*} in heal) heal_path "$dir" ;; extown) extown_heal "$dir" ;; esac
  log "$scen: done in $dir"
}

offline_snapshot() { # DIR: `promsnap snapshot` of the running master and an admin-API snapshot
  # started at the same moment; prints the path of promsnap's (outside the data dir)
  local dir=$1 name
  name="$(date -u +%Y%m%dT%H%M%SZ)-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
  mkdir -p "$dir/offline"
  curl -sf -XPOST "http://127.0.0.1:$mport/api/v1/admin/tsdb/snapshot" >"$dir/snapshot.json" &
  local cpid=$!
  local rc=0
  "$PROMSNAP" snapshot "$dir/master" "$dir/offline/$name" --json >"$dir/offline.json" \
    2>"$dir/offline.err" || rc=$?
  wait "$cpid" || true
  echo "offline_rc=$rc" >>"$dir/times"
  local api
  api="$dir/master/snapshots/$(python3 -c \
    'import json,sys; print(json.load(open(sys.argv[1]))["data"]["name"])' "$dir/snapshot.json")"
  echo "api_snapshot_dir=$api" >>"$dir/times"
  compare_snapshots "$dir" "$dir/offline/$name" "$api" >"$dir/noapi-compare.txt" 2>&1 || true
  echo "$dir/offline/$name"
}

compare_snapshots() { # DIR OFFLINE API: blocks, head block ranges, dumps up to the earlier end
  local dir=$1 off=$2 api=$3
  mkdir -p "$dir/cmp"
  for s in off api; do
    local d=$off
    [ $s = api ] && d=$api
    "$PROMSNAP" ls "$d" --json >"$dir/cmp/$s.ls.json" 2>&1 || true
    "$PROMSNAP" verify "$d" >"$dir/cmp/$s.verify.txt" 2>&1 || echo "exit $?" >>"$dir/cmp/$s.verify.txt"
    # promtool needs a wal/ dir in a snapshot: dump a hard-linked copy with an empty one.
    rm -rf "$dir/cmp/$s.d"; cp -al "$d" "$dir/cmp/$s.d"; mkdir -p "$dir/cmp/$s.d/wal"
    promtool tsdb dump "$dir/cmp/$s.d" 2>/dev/null | sort >"$dir/cmp/$s.dump" || true
    promtool tsdb list "$dir/cmp/$s.d" >"$dir/cmp/$s.list" 2>&1 || true
  done
  python3 - "$dir/cmp" <<'PY'
import json, re, sys
d = sys.argv[1]
def blocks(s):
    doc = json.load(open(f"{d}/{s}.ls.json"))
    bl = doc.get("blocks", doc) if isinstance(doc, dict) else doc
    return [(b.get("ulid"), b.get("min_time"), b.get("max_time"), b.get("level"),
             "head" if b.get("snapshot_head") else "") for b in bl]
def dump(s):
    out = {}
    for line in open(f"{d}/{s}.dump"):
        m = re.match(r"^(.*\}) (\S+) (\d+)$", line.strip())
        if m:
            out.setdefault(m.group(1), {})[int(m.group(3))] = m.group(2)
    return out
bo, ba = blocks("off"), blocks("api")
print("offline blocks:"); [print("  ", b) for b in bo]
print("api blocks:"); [print("  ", b) for b in ba]
so = {(b[1], b[2]) for b in bo}; sa = {(b[1], b[2]) for b in ba}
print("same block ranges:", so == sa, "only offline:", sorted(so - sa), "only api:", sorted(sa - so))
uo = {b[0] for b in bo}; ua = {b[0] for b in ba}
print("shared ULIDs:", len(uo & ua), "only offline:", sorted(uo - ua), "only api:", sorted(ua - uo))
do, da = dump("off"), dump("api")
end = min(max((max(v) for v in do.values()), default=0), max((max(v) for v in da.values()), default=0))
n = diff = 0
for k in set(do) | set(da):
    a = {t: v for t, v in do.get(k, {}).items() if t <= end}
    b = {t: v for t, v in da.get(k, {}).items() if t <= end}
    n += len(b)
    if a != b:
        diff += 1
        if diff <= 5:
            print("  differs:", k, "offline-only", sorted(set(a) - set(b))[:3], "api-only", sorted(set(b) - set(a))[:3])
print(f"dump up to {end}: series {len(set(do) | set(da))}, api samples {n}, series differing {diff}")
for s, dd in (("offline", do), ("api", da)):
    print(f"{s}: newest sample {max((max(v) for v in dd.values()), default=0)}, series {len(dd)}, samples {sum(len(v) for v in dd.values())}")
PY
}

oracle_start() { # DIR: a Prometheus on a copy of the stopped master's data dir (the query oracle)
  local dir=$1
  rm -rf "$dir/heal/oracle"; cp -a "$dir/master" "$dir/heal/oracle"
  rm -rf "$dir/heal/oracle/snapshots"
  printf 'global:\n  scrape_interval: 1m\n' >"$dir/heal/oracle.yml"
  oport=$(free_port)
  prometheus --config.file="$dir/heal/oracle.yml" --storage.tsdb.path="$dir/heal/oracle" \
    --web.listen-address="127.0.0.1:$oport" 2>>"$dir/heal/oracle.log" &
  oracle=$!
  echo "$oracle" >>"$dir/server.pids"
  wait_ready "$oport"
}

compare_query() { # DIR TAG: the raw samples of every series over the lost range, slave vs oracle
  local dir=$1 tag=$2
  python3 - "$dir" "$tag" "$sport" "$oport" <<'PY'
import json, sys, urllib.parse, urllib.request
d, tag, sport, oport = sys.argv[1:5]
gaps = json.load(open(f"{d}/gaps.json"))
merged = gaps["missing"]["merged"]
lo = min(m["from"] for m in merged); hi = max(m["to"] for m in merged)
def q(port):
    # A range selector at `hi` reaching back to `lo`: the raw samples of every series.
    query = '{__name__=~".+"}[%dms]' % (hi - lo + 1)
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode(
        {"query": query, "time": "%.3f" % (hi / 1000)})
    doc = json.load(urllib.request.urlopen(url, timeout=120))
    out = {}
    for r in doc["data"]["result"]:
        k = json.dumps(r["metric"], sort_keys=True)
        out[k] = [(round(float(t) * 1000), v) for t, v in r["values"]]
    return out
s, o = q(sport), q(oport)
ns = sum(len(v) for v in s.values()); no = sum(len(v) for v in o.values())
missing = sum(len(set(v) - set(s.get(k, []))) for k, v in o.items())
extra = sum(len(set(v) - set(o.get(k, []))) for k, v in s.items())
lines = [f"{tag}: range [{lo}, {hi}] ({(hi - lo) / 1e3:.1f} s): slave {len(s)} series {ns} samples; "
         f"master {len(o)} series {no} samples; master samples the slave lacks: {missing}; "
         f"slave samples the master lacks: {extra}"]
bad = [k for k in o if set(o[k]) - set(s.get(k, []))]
for k in bad[:5]:
    lines.append(f"  lacks {k}: {sorted(set(o[k]) - set(s.get(k, [])))[:4]}")
open(f"{d}/heal/query-{tag}.txt", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
}

master_sums() { # DIR OUT: checksums of every file of the master's data dir
  (cd "$1/master" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$2"
}

heal_path() { # DIR: after the run (both stopped, the real loss measured): heal the slave
  local dir=$1 h=$1/heal rc
  mkdir -p "$h"
  # shellcheck disable=SC1091
  . "$dir/times"
  master_sums "$dir" "$h/master.sha256.before"
  rc=0; "$PROMSNAP" verify "$snapshot_dir" >"$h/verify.txt" 2>&1 || rc=$?
  log "heal: verify of the snapshot: exit $rc"
  rc=0; "$PROMSNAP" coverage "$snapshot_dir" --master "$dir/master" --rw-start "$rw_start" \
    --slave-up "$slave_up" >"$h/coverage.txt" 2>&1 || rc=$?
  "$PROMSNAP" coverage "$snapshot_dir" --master "$dir/master" --rw-start "$rw_start" \
    --slave-up "$slave_up" --json >"$h/coverage.json" 2>/dev/null || true
  log "heal: coverage exit $rc: $(grep -m1 '^Verdict' "$h/coverage.txt")"
  # The slave started again (as after its outage), the fill run into it while it runs.
  oracle_start "$dir"
  start_slave "$dir"
  wait_ready "$sport" || log "heal: slave not ready"
  rc=0; "$PROMSNAP" fill "$dir/slave" --from "$dir/master" --dry-run >"$h/fill-dry.txt" 2>&1 || rc=$?
  log "heal: fill --dry-run exit $rc"
  rc=0; "$PROMSNAP" fill "$dir/slave" --from "$dir/master" >"$h/fill.txt" 2>&1 || rc=$?
  "$PROMSNAP" fill "$dir/slave" --from "$dir/master" --dry-run --json >"$h/fill-after.json" 2>&1 || true
  log "heal: fill exit $rc: $(grep -m1 -i 'added\|wrote\|written' "$h/fill.txt" || true)"
  find "$dir/slave" -maxdepth 1 >"$h/slave-ls-after-fill.txt"
  rc=0; "$PROMSNAP" fill "$dir/slave" --from "$dir/master" --json >"$h/fill2.json" 2>&1 || rc=$?
  log "heal: second fill exit $rc"
  log "heal: waiting 70 s for the running slave's block reload"
  sleep 70
  compare_query "$dir" running >&2 || log "heal: query failed"
  kill "$slave"; wait "$slave" || true
  grep -i 'level=error\|level=warn' "$dir/slave.log" >"$h/slave-log-problems.txt" || true
  "$PROMSNAP" gaps "$dir/slave" --against "$dir/master" --json >"$h/gaps-after.json" 2>&1 || true
  "$PROMSNAP" gaps "$dir/slave" --against "$dir/master" >"$h/gaps-after.txt" 2>&1 || true
  log "heal: gaps after fill: $(grep -m3 -i 'missing\|lack\|nothing' "$h/gaps-after.txt" | tr '\n' ' ')"
  start_slave "$dir"
  wait_ready "$sport" || log "heal: slave not ready after restart"
  compare_query "$dir" restarted >&2 || log "heal: query failed"
  kill "$slave"; wait "$slave" || true
  kill "$oracle"; wait "$oracle" || true
  : >"$h/promtool-analyze.txt"
  for b in $(python3 -c '
import re, sys
print(" ".join(sorted(set(re.findall(r"\b[0-9A-HJKMNP-TV-Z]{26}\b", open(sys.argv[1]).read())))))
' "$h/fill.txt"); do
    echo "== $b" >>"$h/promtool-analyze.txt"
    promtool tsdb analyze "$dir/slave" "$b" >>"$h/promtool-analyze.txt" 2>&1 ||
      echo "promtool analyze $b: exit $?" >>"$h/promtool-analyze.txt"
  done
  rc=0; promtool tsdb dump "$dir/slave" >"$h/slave-after.dump" 2>"$h/slave-after.dump.err" || rc=$?
  echo "promtool dump of the slave: exit $rc" >>"$h/promtool-analyze.txt"
  promtool tsdb list "$dir/slave" >"$h/slave-list.txt" 2>&1 || true
  "$PROMSNAP" verify "$dir/slave" >"$h/slave-verify.txt" 2>&1 || true
  master_sums "$dir" "$h/master.sha256.after"
  if cmp -s "$h/master.sha256.before" "$h/master.sha256.after"; then
    log "heal: the master's files are unchanged"
  else
    log "heal: THE MASTER'S FILES CHANGED"
  fi
}

extown_compare() { # DIR TAG: the slave's series without cluster="ext" against the master's
  local dir=$1 tag=$2
  python3 - "$dir" "$tag" "$sport" "$oport" <<'PY'
import json, sys, urllib.parse, urllib.request, collections
d, tag, sport, oport = sys.argv[1:5]
t = dict(l.strip().split("=", 1) for l in open(f"{d}/times") if "=" in l)
import datetime
ms = lambda x: int(datetime.datetime.fromisoformat(x.replace("Z", "+00:00")).timestamp() * 1000)
lo, hi = ms(t["snapshot"]) - 120_000, ms(t["master_stop"])
def q(port, strip):
    query = '{__name__=~".+"}[%dms]' % (hi - lo)
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode(
        {"query": query, "time": "%.3f" % (hi / 1000)})
    doc = json.load(urllib.request.urlopen(url, timeout=120))
    out = collections.defaultdict(list)
    names = collections.defaultdict(set)
    for r in doc["data"]["result"]:
        m = dict(r["metric"])
        if strip and m.get("cluster") == "ext":
            del m["cluster"]
        k = json.dumps(m, sort_keys=True)
        names[k].add(json.dumps(r["metric"], sort_keys=True))
        out[k] += [round(float(x) * 1000) for x, _ in r["values"]]
    return out, names
s, sn = q(sport, True)
o, _ = q(oport, False)
lack = sum(len(set(v) - set(s.get(k, []))) for k, v in o.items())
extra = sum(len(set(v) - set(o.get(k, []))) for k, v in s.items())
dup = sum(len(v) - len(set(v)) for v in s.values())
multi = sum(1 for k in sn if len(sn[k]) > 1)
lines = [f"{tag}: [{lo}, {hi}]: slave {len(s)} series (without cluster=\"ext\") {sum(len(v) for v in s.values())} samples; "
         f"master {len(o)} series {sum(len(v) for v in o.values())} samples; the slave lacks {lack}, "
         f"has {extra} the master has not; timestamps held twice (one metric doubled): {dup}; "
         f"series held under several label sets: {multi}"]
open(f"{d}/extown/query-{tag}.txt", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
}

extown_heal() { # DIR: fill asked as the README says, with external labels and an own `cluster`
  local dir=$1 e=$1/extown rc
  mkdir -p "$e"
  local -A asks=(
    [plain]=""
    [drop]="--drop-label cluster"
  )
  for k in plain drop; do
    rc=0
    # shellcheck disable=SC2086
    "$PROMSNAP" fill "$dir/slave" --from "$dir/master" ${asks[$k]} --dry-run >"$e/fill-$k.txt" 2>&1 || rc=$?
    echo "exit $rc" >>"$e/fill-$k.txt"
    log "extown: fill ${asks[$k]} --dry-run: exit $rc"
  done
  rc=0
  "$PROMSNAP" gaps "$dir/slave" --against "$dir/master" --drop-label cluster >"$e/gaps-drop.txt" 2>&1 || rc=$?
  echo "exit $rc" >>"$e/gaps-drop.txt"
  # The two runs by value: the series without an own cluster label (the external label dropped),
  # then those with cluster="own" by exact label set.
  rc=0
  "$PROMSNAP" fill "$dir/slave" --from "$dir/master" --drop-label cluster \
    --match '{cluster!="own"}' >"$e/fill-match1.txt" 2>&1 || rc=$?
  echo "exit $rc" >>"$e/fill-match1.txt"
  log "extown: fill --drop-label cluster --match '{cluster!=\"own\"}': exit $rc"
  rc=0
  "$PROMSNAP" fill "$dir/slave" --from "$dir/master" --match '{cluster="own"}' \
    >"$e/fill-match2.txt" 2>&1 || rc=$?
  echo "exit $rc" >>"$e/fill-match2.txt"
  log "extown: fill --match '{cluster=\"own\"}': exit $rc"
  rc=0
  "$PROMSNAP" gaps "$dir/slave" --against "$dir/master" --match '{cluster!="own"}' --drop-label cluster \
    >"$e/gaps-after-1.txt" 2>&1 || rc=$?
  "$PROMSNAP" gaps "$dir/slave" --against "$dir/master" --match '{cluster="own"}' \
    >"$e/gaps-after-2.txt" 2>&1 || rc=$?
  rm -rf "$dir/heal"; mkdir -p "$dir/heal"
  oracle_start "$dir"
  start_slave "$dir"
  wait_ready "$sport" || log "extown: slave not ready"
  extown_compare "$dir" restarted >&2 || log "extown: query failed"
  kill "$slave"; wait "$slave" || true
  kill "$oracle"; wait "$oracle" || true
  promtool tsdb list "$dir/slave" >"$e/slave-list.txt" 2>&1 || true
  "$PROMSNAP" verify "$dir/slave" >"$e/slave-verify.txt" 2>&1 || true
}

killed_target_check() { # DIR TAG TARGET: list TARGET; a copy of it opened by Prometheus
  local k=$1/killed tag=$2 t=$3 p port rc
  if [ ! -d "$t" ]; then
    echo "$tag: no target dir (killed before it was created)" >>"$k/summary.txt"
    return 0
  fi
  {
    echo "== $tag"
    find "$t" -maxdepth 2 -printf '%P %s\n' | sort
  } >>"$k/states.txt"
  rm -rf "$k/open"; cp -a "$t" "$k/open" || true
  port=$(free_port)
  printf 'global:\n  scrape_interval: 1m\n' >"$k/open.yml"
  prometheus --config.file="$k/open.yml" --storage.tsdb.path="$k/open" \
    --web.listen-address="127.0.0.1:$port" 2>"$k/open-$tag.log" &
  p=$!
  echo "$p" >>"$1/server.pids"
  rc=0; wait_ready "$port" || rc=1
  local n
  n=$(curl -sf "http://127.0.0.1:$port/api/v1/query?query=count(%7B__name__%3D~%22.%2B%22%7D)" || echo fail)
  kill "$p"; wait "$p" || true
  echo "$tag: prometheus ready=$([ $rc = 0 ] && echo yes || echo NO); count={$n}; problems: $(grep -c 'level=error\|level=warn' "$k/open-$tag.log")" >>"$k/summary.txt"
  promtool tsdb list "$k/open" >>"$k/states.txt" 2>&1 || echo "promtool list: exit $?" >>"$k/states.txt"
}

run_killed() { # DIR: seed and fill killed mid-run, checked, run again
  local dir=$1 k=$1/killed
  mkdir -p "$k"
  mflags=()
  local series=${REPLAY_SERIES:-5000}
  eport=$(free_port); shape=base
  exporter "$eport" "$series" &
  echo "$!" >>"$dir/server.pids"
  master_config "$dir/master.yml" none
  log "killed: master on :$mport, exporter of $series series on :$eport"
  start_master "$dir"
  wait_ready "$mport"
  while [ "$(blocks_in "$dir/master")" -lt 2 ]; do sleep 1; done
  sleep 5
  # An undisturbed seed: its run time sets the kill points.
  local t0 t1 dur
  t0=$(now_ms)
  "$PROMSNAP" seed --from "http://127.0.0.1:$mport" --to "$k/seed-full" --json >"$k/seed-full.json" 2>&1 || true
  t1=$(now_ms); dur=$((t1 - t0))
  log "killed: undisturbed seed took ${dur} ms"
  echo "seed undisturbed: ${dur} ms, exit in seed-full.json" >>"$k/summary.txt"
  local f
  for f in 5 20 40 60 80 95; do
    local t=$k/seed-k$f ms=$((dur * f / 100)) pid
    local sl
    sl=$(python3 -c "print($ms/1000)")
    "$PROMSNAP" seed --from "http://127.0.0.1:$mport" --to "$t" --json >"$k/seed-k$f.json" 2>&1 &
    pid=$!
    sleep "$sl"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    killed_target_check "$dir" "seed-k$f" "$t"
    local rc=0
    "$PROMSNAP" seed --from "http://127.0.0.1:$mport" --to "$t" --json >"$k/seed-k$f-rerun.json" 2>&1 || rc=$?
    echo "seed-k$f (${ms} ms): rerun exit $rc" >>"$k/summary.txt"
    rc=0
    "$PROMSNAP" seed --from "http://127.0.0.1:$mport" --to "$t" --json >"$k/seed-k$f-rerun2.json" 2>&1 || rc=$?
    echo "seed-k$f: second rerun exit $rc" >>"$k/summary.txt"
    "$PROMSNAP" verify "$t" >"$k/seed-k$f-verify.txt" 2>&1 || echo "exit $?" >>"$k/seed-k$f-verify.txt"
  done
  log "killed: seed done; master runs 90 s more for fill"
  sleep 90
  kill "$master"; wait "$master" || true
  cleanup_dir "$dir"
  # fill: the seeded replica (an early snapshot) from the stopped master's data dir.
  rm -rf "$k/fill-full"; cp -a "$k/seed-full" "$k/fill-full"
  t0=$(now_ms)
  "$PROMSNAP" fill "$k/fill-full" --from "$dir/master" --json >"$k/fill-full.json" 2>&1 || true
  t1=$(now_ms); dur=$((t1 - t0))
  log "killed: undisturbed fill took ${dur} ms"
  echo "fill undisturbed: ${dur} ms" >>"$k/summary.txt"
  promtool tsdb dump "$k/fill-full" 2>/dev/null | sort >"$k/fill-full.dump" || true
  for f in 5 20 40 60 80 95; do
    local t=$k/fill-k$f ms=$((dur * f / 100)) pid
    rm -rf "$t"; cp -a "$k/seed-full" "$t"
    local sl
    sl=$(python3 -c "print($ms/1000)")
    "$PROMSNAP" fill "$t" --from "$dir/master" --json >"$k/fill-k$f.json" 2>&1 &
    pid=$!
    sleep "$sl"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    killed_target_check "$dir" "fill-k$f" "$t"
    local rc=0
    "$PROMSNAP" fill "$t" --from "$dir/master" --json >"$k/fill-k$f-rerun.json" 2>&1 || rc=$?
    local rc2=0
    "$PROMSNAP" fill "$t" --from "$dir/master" --json >"$k/fill-k$f-rerun2.json" 2>&1 || rc2=$?
    promtool tsdb dump "$t" 2>/dev/null | sort >"$k/fill-k$f.dump" || true
    local same=no
    cmp -s "$k/fill-k$f.dump" "$k/fill-full.dump" && same=yes
    echo "fill-k$f (${ms} ms): rerun exit $rc, second rerun exit $rc2, dump equal to the undisturbed fill's: $same" >>"$k/summary.txt"
  done
  log "killed: done in $k"
}

cleanup_dir() { # DIR: stop what is left of this scenario's servers
  local p
  for p in $(cat "$1/server.pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  : >"$1/server.pids"
}

measure() { # DIR: the real loss, from both stopped servers' data dirs
  local dir=$1 drop=()
  # The Debian config's external label: remote write adds it to every series it sends.
  grep -q "monitor: 'example'" "$dir/master.yml" && drop=(--drop-label monitor)
  "$PROMSNAP" gaps "$dir/slave" --against "$dir/master" "${drop[@]}" --json >"$dir/gaps.json" || true
  "$PROMSNAP" gaps "$dir/slave" --against "$dir/master" "${drop[@]}" >"$dir/gaps.txt" || true
  promtool tsdb dump "$dir/master" >"$dir/master.dump" 2>/dev/null || true
  promtool tsdb dump "$dir/slave" >"$dir/slave.dump" 2>/dev/null || true
}

answer() { # DIR: coverage as an operator asks it, then the judge
  local dir=$1
  local slave_stop="" slave_up2="" master_restart="" master_restart_ready="" scrape_ms=1000
  local slave_ooo="" master_start_date="" rw_start_date="" slave_up_date=""
  local master_restart_date="" master_restart_ready_date=""
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
  if [ -n "$slave_ooo" ]; then
    # The slave's out-of-order window is the operator's own config: given to every question,
    # and one question asked without it.
    v[no-ooo-flag]="$full"
    for k in "${!v[@]}"; do
      [ "$k" = no-ooo-flag ] || v[$k]="${v[$k]} --slave-ooo-window $slave_ooo"
    done
  fi
  # Round four: only what an operator has and types. The copy of wal/ taken (cp -a) when the
  # slave was ready; the remote write's start as the master's start (remote write on since then)
  # or as the reload that added it; times as `date` printed them, as RFC 3339 made from them, or
  # copied from a log line (the master's first line or its reload's `Completed loading`, the
  # slave's `Server is ready`); the two stderr logs as captured.
  local w=$dir/master-wal-at-slave-up rw_date rw_rfc rw_log
  if [ -n "${master_start_date:-}" ]; then
    if [ -n "${rw_start_date:-}" ]; then
      rw_date=$rw_start_date
      rw_log=$(sed -n 's/^ts=\([^ ]*\) .*Completed loading of configuration file.*/\1/p' \
        "$dir/master.log" | tail -1)
    else
      rw_date=$master_start_date
      rw_log=$(sed -n '1s/^ts=\([^ ]*\) .*/\1/p' "$dir/master.log")
    fi
    rw_rfc=$(date -u -d "$rw_date" +%Y-%m-%dT%H:%M:%SZ)
    local up_rfc
    up_rfc=$(date -u -d "$slave_up_date" +%Y-%m-%dT%H:%M:%SZ)
    v[op]="--master $w --rw-start $rw_rfc --slave-up $up_rfc $logs"
    v[op-nologs]="--master $w --rw-start $rw_rfc --slave-up $up_rfc"
    v[op-logtimes]="--master $w --rw-start ${rw_log:-$rw_rfc} --slave-up ${log_up:-$up_rfc} $logs"
    v[op-no-rwstart]="--master $w --slave-up ${log_up:-$up_rfc} $logs"
    v[op-datadir]="--master $m --rw-start $rw_rfc --slave-up $up_rfc $logs"
    v[op-nowal]="--rw-start $rw_rfc --slave-up $up_rfc $logs"
    # Round six: the slave's log only (the master's log taken away).
    v[op-no-masterlog]="--master $w --rw-start $rw_rfc --slave-up $up_rfc --slave-log $dir/slave.log"
    if [ -n "${master_restart_date:-}" ]; then
      # The restart as the operator noted it: `date` when they stopped it (SIGTERM sent), and
      # when it was ready again.
      local mr_rfc mr_ready
      mr_rfc=$(date -u -d "$master_restart_date" +%Y-%m-%dT%H:%M:%SZ)
      mr_ready=$(date -u -d "$master_restart_ready_date" +%Y-%m-%dT%H:%M:%SZ)
      for k in op op-nologs op-logtimes op-no-rwstart op-nowal op-no-masterlog; do
        v[$k-norestart]="${v[$k]}"
        v[$k]="${v[$k]} --master-restart $mr_rfc"
      done
      v[op-restart-ready]="--master $w --rw-start $rw_rfc --slave-up $up_rfc $logs --master-restart $mr_ready"
      # Round seven: the restart to the millisecond, copied from the master's log: its
      # `Received SIGTERM` line, and its second `Server is ready` line (the ready time).
      local mr_logms mr_ready_logms
      mr_logms=$(sed -n 's/^ts=\([^ ]*\) .*Received SIGTERM.*/\1/p' "$dir/master.log" | head -1)
      mr_ready_logms=$(sed -n 's/^ts=\([^ ]*\) .*Server is ready to receive web requests.*/\1/p' \
        "$dir/master.log" | sed -n 2p)
      [ -n "$mr_logms" ] &&
        v[op-restart-logms]="--master $w --rw-start $rw_rfc --slave-up $up_rfc $logs --master-restart $mr_logms"
      [ -n "$mr_ready_logms" ] &&
        v[op-restart-ready-logms]="--master $w --rw-start $rw_rfc --slave-up $up_rfc $logs --master-restart $mr_ready_logms"
    fi
    if [ "$scrape_ms" != 1000 ]; then
      v[op-scrape]="--master $w --rw-start $rw_rfc --slave-up $up_rfc $logs --scrape-interval $((scrape_ms / 1000))s"
    fi
    # The times exactly as `date` printed them (spaces: asked outside the word-split loop).
    local rc=0 mr=()
    [ -n "${master_restart_date:-}" ] && mr=(--master-restart "$master_restart_date")
    # shellcheck disable=SC2086
    "$PROMSNAP" coverage "$snapshot_dir" --master "$w" --rw-start "$rw_date" \
      --slave-up "$slave_up_date" "${mr[@]}" $logs >"$out/op-date.txt" 2>&1 || rc=$?
    echo "exit $rc" >>"$out/op-date.txt"
    # shellcheck disable=SC2086
    "$PROMSNAP" coverage "$snapshot_dir" --master "$w" --rw-start "$rw_date" \
      --slave-up "$slave_up_date" "${mr[@]}" $logs --json >"$out/op-date.json" 2>/dev/null || true
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
  *) sed -n '2,118p' "$0"; exit 2 ;;
esac
