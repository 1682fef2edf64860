//! Integration tests: one binary, one module per concern.

// Shared helpers: paths to testdata, running the binary, gzip oracles.
mod util;

// `promsnap ls` against promtool's `tsdb list` output.
mod ls;
// `promsnap dump` against promtool's `tsdb dump` output and the HTTP API.
mod dump;
// `promsnap verify` on damaged copies of real blocks.
mod verify;
// `promsnap wal` and verify's WAL/checkpoint/chunks_head checks on damaged real WALs.
mod wal;
