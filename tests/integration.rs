//! Integration tests: one binary, one module per concern.

// Shared helpers: paths to testdata, running the binary, gzip oracles.
mod util;

// `promsnap ls` against promtool's `tsdb list` output.
mod ls;
// `promsnap dump` against promtool's `tsdb dump` output and the HTTP API.
mod dump;
// `promsnap copy`: hazards, idempotence, SIGKILL, and a real Prometheus on the copy.
mod copy;
// `promsnap coverage`: snapshot timelines and loss windows.
mod coverage;
// `promsnap gaps`: per-series holes and losses against another directory.
mod gaps;
// Machinery to run real Prometheus 2.42 servers on loopback.
mod realserver;
// The loss-run matrix on real servers (recorded by scripts/loss-matrix.sh; CI subset ≈5 min).
mod lossmatrix;
// The fast judge: `coverage` against every recorded loss run in testdata/loss-runs/.
mod lossruns;
// Thinned copies of big master WALs for the recorded runs.
mod walthin;
// `promsnap verify` on damaged copies of real blocks.
mod verify;
// `promsnap wal` and verify's WAL/checkpoint/chunks_head checks on damaged real WALs.
mod wal;
// Random mutations of real files: never a panic.
mod robustness;
// `promsnap analyze` against promtool's `tsdb analyze` output.
mod analyze;
