//! # promsnap
//!
//! Read, verify, inspect and copy Prometheus TSDB storage offline, without
//! Prometheus: blocks (`meta.json`, `index`, `chunks/`, `tombstones`), the WAL
//! and its checkpoints, and `chunks_head/`.
//!
//! Layers:
//! - [`format`]: pure decoding over `&[u8]` (no I/O, no panics).
//! - [`block`], [`layout`]: opening block, data and snapshot directories
//!   (memory-mapped, read-only).
//! - [`dump`], [`list`]: what `promsnap dump` and `promsnap ls` print.
//! - [`write`]: the block writer (chunks, index, meta.json, tombstones) whose
//!   blocks promtool and Prometheus 2.42 read; [`fill`] uses it to write
//!   into a replica the samples it lacks.
#![deny(missing_docs)]

pub mod analyze;
pub mod block;
pub mod check;
pub mod copy;
pub mod coverage;
pub mod dump;
pub mod error;
pub mod fileutil;
pub mod fill;
pub mod format;
pub mod gaps;
pub mod gofmt;
pub mod head;
pub mod layout;
pub mod list;
pub mod selector;
pub mod walinfo;
pub mod write;
