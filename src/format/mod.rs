//! Pure decoding of every Prometheus TSDB on-disk format: `&[u8]` in, typed
//! values or a [`DecodeError`] out. No I/O, no threads, no panics.
//!
//! Map of a data directory and the module that decodes each file:
//!
//! ```text
//! <data>/
//!   <ULID>/meta.json        meta        block metadata (JSON)
//!   <ULID>/index            index       symbols, series, postings, TOC
//!   <ULID>/chunks/000001    chunks      chunk segment files; samples: chunkenc
//!   <ULID>/tombstones       tombstones  deleted intervals
//!   wal/00000000            wal         32 KiB pages of CRC'd fragments; records: record
//!   wal/checkpoint.N/       wal         same format
//!   chunks_head/000001      head_chunks memory-mapped head chunks
//! ```
//!
//! Facts are those of the prometheus/prometheus `tsdb/` sources; each module's
//! doc gives the byte layout it decodes.
#![cfg_attr(
    not(test),
    warn(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

pub mod chunkenc;
pub mod chunks;
pub mod crc;
pub mod decode;
pub mod error;
pub mod head_chunks;
pub mod index;
pub mod meta;
pub mod record;
pub mod refs;
pub mod tombstones;
pub mod wal;

pub use error::{DecodeError, Section};
pub use refs::{ChunkRef, SeriesRef};
