//! Integration tests: one binary, one module per concern.

// Shared helpers: paths to testdata, running the binary, gzip oracles.
mod util;

// `promsnap ls` against promtool's `tsdb list` output.
mod ls;
// `promsnap dump` against promtool's `tsdb dump` output and the HTTP API.
mod dump;
// `promsnap dump --json` against promtool's dump: same samples, bit-exact values.
mod dump_json;
// `--json` on exit 2: one error document on stdout, for every command.
mod json_errors;
// `promsnap copy`: hazards, idempotence, SIGKILL, and a real Prometheus on the copy.
mod copy;
// `promsnap coverage`: snapshot timelines and loss windows.
mod coverage;
// `coverage` and `verify` on a snapshot with no block (skip_head before the first block).
mod coverage_empty;
// `coverage --slave` on a young slave's head, with real servers (about 40 s).
mod coverage_slave;
// `promsnap gaps`: per-series holes and losses against another directory.
mod gaps;
// Machinery to run real Prometheus 2.42 servers on loopback.
mod realserver;
// `promsnap seed`: a live Prometheus 2.42 primary seeds a replica that then serves it (about 30 s).
mod seed;
// The loss-run matrix on real servers (recorded by scripts/loss-matrix.sh; CI subset ≈5 min).
mod lossmatrix;
// The fast judge: `coverage` against every recorded loss run in testdata/loss-runs/.
mod lossruns;
// Thinned copies of big master WALs for the recorded runs.
mod walthin;
// `promsnap verify` on damaged copies of real blocks.
mod verify;
// `verify` on files that cannot be read or vanish during the read, and odd WAL flags.
mod verify_unreadable;
// A meta.json maxTime far after the block was made: verify, copy and the real Prometheus.
mod verify_future;
// `promsnap verify` on indexes rewritten under valid CRCs: series, symbols, postings table.
mod verify_index;
// `promsnap wal` and verify's WAL/checkpoint/chunks_head checks on damaged real WALs.
mod wal;
// Random mutations of real files: never a panic.
mod robustness;
// `promsnap analyze` against promtool's `tsdb analyze` output.
mod analyze;
// The block writer against promtool and a real Prometheus.
mod write;
// `promsnap fill`: promtool, bad input, and a running late replica.
mod fill;
// `promsnap fill` into a replica whose remote-written series carry the
// master's external labels: the refusal, `--drop-label` against the real server.
mod fill_extlabels;
// `promsnap snapshot`: promtool and the real server on fixture dirs, and a live
// 2.42 snapshotted by its admin API and by us at the same moment (about 20 s).
mod snapshot;
// `promsnap salvage`: each damage class against promtool, bad input, and
// `--in-place` then a real Prometheus 2.42 serving the salvaged dir.
mod salvage;
// Live and crashed data dirs: a held lock, cut snapshots, and kill -9 of a real
// Prometheus 2.42 against verify's verdicts (about 4 minutes).
mod live;
// Object storage: upload, verify, ls and restore against a real S3 server
// (SeaweedFS `weed mini` on loopback), kills at every upload point.
mod s3;
// The peer corpus (other projects' TSDB bytes) through run.sh, when present.
mod peer;
// Operator mistakes: wrong directories, --jobs 0, zero intervals (usage errors,
// nothing written), and one human time format.
mod harden;
