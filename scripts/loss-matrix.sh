#!/usr/bin/env bash
# The loss-run matrix (issue 14): record runs of real Prometheus 2.42 masters
# and slaves, or judge the recorded ones.
#
#   scripts/loss-matrix.sh all            record every master (concurrently)
#   scripts/loss-matrix.sh ci             record the CI subset's master
#   scripts/loss-matrix.sh NAME...        record these masters (see matrix() in tests/lossmatrix.rs)
#   scripts/loss-matrix.sh table          judge testdata/loss-runs/*, write testdata/loss-runs/MATRIX.md
#   scripts/loss-matrix.sh package NAME... write the evidence again from a recording's raw data
#   scripts/loss-matrix.sh thin           thin the master-wal/ copies still kept whole (in place)
#
# PROMSNAP_LOSS_TAG=r2 suffixes the run names (<master>-<slave>-r2) of a repeated recording.
# PROMSNAP_LOSS_SLAVES=up35,soon records only these slaves of each master named (a repeat of
# one run without the others: PROMSNAP_LOSS_TAG=r3 PROMSNAP_LOSS_SLAVES=up35 ... s12k-busyz).
# PROMSNAP_LOSS_START_PHASE=S starts each master S seconds past a block boundary (wall clock);
# S=52 with 1m blocks puts two head compactions, 3 s apart, before the snapshot (ci-*-p52).
# (A master may carry its own start phase, MasterSpec::start_phase; the variable overrides it.)
#
# Evidence goes to testdata/loss-runs/<master>-<slave>/ (PROMSNAP_LOSS_OUT to change it); the raw
# data dirs and server logs to PROMSNAP_LOSS_RAW (default: /tmp/promsnap-loss-raw). Each master
# runs in its own process; logs in $PROMSNAP_LOSS_RAW/<master>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n '2,20p' "$0"; exit 2; }

if [ "$1" = table ]; then
  PROMSNAP_WRITE_MATRIX=1 exec cargo test --test integration lossruns:: -- --nocapture
fi

if [ "$1" = thin ]; then
  exec cargo test --test integration lossmatrix::thin_recorded -- --ignored --nocapture
fi

raw=${PROMSNAP_LOSS_RAW:-/tmp/promsnap-loss-raw}
if [ "$1" = package ]; then
  shift
  names=$(IFS=,; echo "$*")
  PROMSNAP_LOSS_MATRIX=$names PROMSNAP_LOSS_RAW=$raw \
    exec cargo test --test integration lossmatrix::package -- --ignored --nocapture
fi

masters=("$@")
if [ "$1" = all ]; then
  masters=(ci s50 s500x2-5s s20k-busy s500-restart s2k-2s s300x3-10s s5k-2m s800-q s1k-15s s3k-q s600x2-1s5s s400-3m
           s9k-busyz s300-30s-2m s1700x3-2s s1500-q2k s1200-restart-2s s250-late-2m
           s700-3s-skip s450-20s s150-5s-laterw
           s120-20s
           s1100-nz s1900x4-mix s2k-q500x3 s3500-3s s900-restart-skip s60-90s s1k-2s-qmin
           s600-5s-nz s400-restart-laterw s6k-2s-nz
           s500-7s-4m s350-2s-late9 s2k-relabel s800x2-updown s12k-busyz s1k-500ms
           s1500-2rw s700-q1 s400-1500ms s1500-relabel
           s1k-churn s1300-srestart s700-sblk2m s2500-q5k s600-lag7s s5k-snapcomp
           s80-5s-d10s s150-d1s s400-q50 s900-2s-lag3s
           s500-slow s700-ooo s600-snap25 s889x30 s1k-mb30s s800-snapb3 s400-2s-snap50 s300-2s-mb1s
           s1200-2s-slow s2k-snap40 s300-5s-ooo s500-snapph25
           s7k-ms20 s650-b1m3m s4k-ms5 s8k-rt2s s5500-ms50 s3200-q10k2k s4500-ms50 s6500-up45
           s4200-10s s40-4s-d30s s7500-15s s3300-spp1k s2600-2s-min2 s5800-up38
           s2200-q1k250 s9500-10s s6200-q5k-ms10 s3k-20s s1800-min8 s10k-q20k s3900-up47
           s6kx3-10s s2400-5s s1500-30s s7k-2s
           s4800-spp200 s6800-cap4k s3400-spp750-ms25 s8500-ms30 s11k s4400-2m s7300-cap1800-ms80
           s3100-spp300-cap1200 s1350-3s s2100-7s s950-12s s1650-2m-skip s2300-laterw s1950-restart
           s640-12s-skip s280-3s-laterw
           s4700-ms45 s9k-q18k-ms90 s3600-2m-spp400 s6300-2m-cap3k-ms60 s5200-cap2200-spp600 s7700-ms15
           s730-pre s260-nh s2700-2s-2m s1150-4s-skip s430-6s-3m s170-10s-laterw s2900-restart s880x2-2s
           s2200-15s-2m s3k-30s-2m-spp250 s2500x3-1s15s30s s1400-pre s2600-5s-skip s4200-6s-skip s1800x2-5s15s
           s2k-15s-pre s8200-q16k-ms75 s9500-q19k-ms115 s15k-busy s5600-15s-cap1k s1300-30s-3m
           s4600-ms55-json s3000-5s-skip-json
           s300-2s-skip s600-3s-skip s450-2s-late6 s380-late8 s350-3s-laterw s600-2s-sblk2m s1200-sblk3m
           s1500-bsd1s s2400-min3-bsd10s s1600-10s-skip s800-2s-restart s900-srestart s2400-2s-relabel s420-late9
           deb15-ext deb15-noext deb1s-ext deb1s-noext deb5s-ext deb15-ext-soon deb5s-noext
           deb15h-ext deb3t-slow deb10-ext deb3t-15-10 deb30-ext deb10-tmo9 deb3t-30s s600-15s-1t deb15h-noext deb5s-slow
           deb1s-ph41 deb3t-ev7 deb3t-q300 s7500x3-2s3s5s deb1s-ev4
           deb1s-ph14 deb15-ph57 s13k-busy s8400x3-3s2s5s deb3t-ev3 s5k-ms2 s3600-2s-fix3 s900-25s s18k-busy
           deb1s-ph5 deb15-ph47 deb15-rp2 deb1s-restart deb1s-headgc s6100-ms35 s1250-4s-skip s12k-ms2-spp100
           s4k-cap250-spp125
           self1s-2h deb15-2h self1s-seed deb15-seed self1s-ph13 self1s-sblk2h
           self1s-long s1050-15s s2k-min6-cap300 s19k-busy self1s-ph46h
           self1s-edge s800-10s-2m self1s-2rst self1s-ph21h
           self1s-drawn self1s-rstup self1s-rstpre s1000-2500ms self1s-rstup7
           self1s-kpre self1s-kup self1s-tup135 self1s-tup75 self1s-tup25
           self1s-tup227 self1s-tup338 self1s-tup354 self1s-kup155 self1s-lm4k-tup92)
fi
mkdir -p "$raw"
cargo test --test integration --no-run
pids=()
for m in "${masters[@]}"; do
  PROMSNAP_LOSS_MATRIX=$m PROMSNAP_LOSS_RAW=$raw \
    cargo test --test integration lossmatrix::record -- --ignored --nocapture >"$raw/$m.log" 2>&1 &
  pids+=($!)
  echo "recording $m (pid $!, log $raw/$m.log)"
done
rc=0
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then echo "${masters[$i]}: recorded"; else echo "${masters[$i]}: FAILED"; rc=1; fi
done
exit $rc
