//! # promsnap
//!
//! Read, verify, inspect and copy Prometheus TSDB storage offline, without
//! Prometheus: blocks (`meta.json`, `index`, `chunks/`, `tombstones`), the WAL
//! and its checkpoints, and `chunks_head/`. The byte formats are summarised
//! in `docs/FORMAT.md`; each decoder's module doc gives its layout.
//!
//! Modules, by layer:
//! - [`format`]: pure decoding over `&[u8]` (no I/O, no panics, fuzzed):
//!   meta.json, index, chunk segments and encodings, tombstones, WAL pages
//!   and records, head chunk files.
//! - [`error`]: the file-boundary error (a path plus an I/O or decode error).
//! - [`fileutil`]: memory maps and durable file-system primitives.
//! - [`block`], [`layout`]: opening block directories (memory-mapped,
//!   read-only) and recognising block, data and snapshot directories.
//! - [`head`]: the head rebuilt from `chunks_head/` and the WAL, as
//!   Prometheus replays it.
//! - [`selector`]: PromQL series selectors (`--match`).
//! - [`gofmt`]: Go's float and time formatting, for output identical to
//!   promtool's.
//! - [`vocab`]: the project's vocabulary below the commands: times (RFC 3339
//!   with ms, the one human format), ranges with their duration, label sets,
//!   what a snapshot without a block is (`verify` and `coverage` say it alike).
//! - One module per command: [`list`] (`ls`), [`dump`], [`check`]
//!   (`verify`), [`walinfo`] (`wal`), [`analyze`], [`gaps`], [`coverage`],
//!   [`copy`], [`seed`], [`fill`].
//! - [`write`]: the block writer (chunks, index, meta.json, tombstones) whose
//!   blocks promtool and Prometheus 2.42 read; [`fill`] uses it to write
//!   into a replica the samples it lacks, and [`snapshot`] to write a data
//!   dir's head as the snapshot's head block.
//! - [`salvage`]: after `verify` finds damage, damaged blocks rewritten
//!   without their damaged parts, or what blocks startup quarantined.
//! - [`objstore`]: blocks in S3-compatible object storage, in the bucket
//!   layout Thanos and Mimir read (`copy` to and from a bucket, `verify`, `ls`).
//!
//! The library never prints and never names a command-line flag; the
//! `promsnap` binary is a thin layer over it.
//!
//! Verify a directory (a block, a data directory or a snapshot):
//!
//! ```
//! use promsnap::check::{self, CheckOptions};
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"),
//!     "/testdata/prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98");
//! let result = check::verify_dir(dir.as_ref(), &CheckOptions::default())?;
//! for f in result.all_findings() {
//!     println!("{} {} {}: {}", f.severity.label(), f.code, f.path.display(), f.message);
//! }
//! assert!(!result.blocks.is_empty());
//! assert!(result.all_findings().all(|f| !f.is_error()));
//! # Ok::<(), promsnap::error::Error>(())
//! ```
//!
//! Iterate over every sample of a block:
//!
//! ```
//! use promsnap::block::BlockFiles;
//! use promsnap::format::chunkenc::{Value, samples_for_byte};
//! use promsnap::format::index::SeriesEntry;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"),
//!     "/testdata/prom-2.42-live/data/01M88ZEAF15198PYN7F74NS04J");
//! let files = BlockFiles::open(dir.as_ref())?;
//! let block = files.reader()?;
//! let (mut series, mut entry) = (block.index.series(), SeriesEntry::default());
//! let (mut n, mut sum) = (0u64, 0.0);
//! while let Some(r) = series.next_into(&mut entry) {
//!     r?;
//!     for meta in &entry.chunks {
//!         let rec = block.chunk(meta)?;
//!         for s in samples_for_byte(rec.encoding, rec.offset, rec.data, rec.data_offset)? {
//!             let s = s?;
//!             if let Value::Float(v) = s.value {
//!                 sum += v;
//!             }
//!             n += 1;
//!         }
//!     }
//! }
//! let meta = promsnap::block::read_meta(dir.as_ref())?;
//! assert_eq!(n, meta.stats.num_samples);
//! # let _ = sum;
//! # Ok(()) }
//! ```
//!
//! Read the write-ahead log of a data directory (segments, checkpoints,
//! `chunks_head/`), as `promsnap wal` does; [`head::replay`] rebuilds the
//! head's series and samples from the same files:
//!
//! ```
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/prom-2.42-live/data");
//! let report = promsnap::walinfo::inspect(dir.as_ref())?;
//! let wal = report.wal.as_ref().expect("a wal/ directory");
//! println!("{} segments, {} series, {} float samples, {:?}..{:?}",
//!     wal.segments.len(), wal.series, wal.totals.float_samples,
//!     wal.time.min_t, wal.time.max_t);
//! assert!(wal.totals.float_samples > 0);
//! let head = promsnap::head::replay(dir.as_ref(), i64::MIN)?;
//! assert!(!head.series.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
pub mod objstore;
pub mod salvage;
pub mod seed;
pub mod selector;
pub mod snapshot;
pub mod vocab;
pub mod walinfo;
pub mod write;

#[cfg(test)]
mod repo_tests;
