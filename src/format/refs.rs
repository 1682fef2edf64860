//! The two reference types of the TSDB formats, each with one home.
//!
//! - [`SeriesRef`]: which series a record, entry or tombstone is about. In a
//!   block index it is the series entry's id (v2: entry offset / 16, v1: the
//!   offset); in the WAL, checkpoints, `chunks_head/` and tombstones it is the
//!   head's series reference, the number a `series` record gave the series.
//! - [`ChunkRef`]: where a chunk's bytes are, as one packed `u64`: the upper
//!   32 bits name a file (block: the 0-based index in the sorted `chunks/`
//!   listing; head: the `chunks_head/` file number), the lower 32 bits are the
//!   byte offset of the chunk record in that file. [`ChunkRef::segment`] and
//!   [`ChunkRef::offset`] are the one place that splits it.
//!
//! Both are `#[repr(transparent)]` over `u64` (no cost over the raw number)
//! and serialize as the plain number.

use std::fmt;

use serde::{Deserialize, Serialize};

/// `From` both ways with `u64`, and `Display`/`LowerHex` as the number.
macro_rules! plain_number {
    ($t:ident) => {
        impl From<u64> for $t {
            #[inline]
            fn from(v: u64) -> Self {
                $t(v)
            }
        }

        impl From<$t> for u64 {
            #[inline]
            fn from(r: $t) -> u64 {
                r.0
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::LowerHex for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::LowerHex::fmt(&self.0, f)
            }
        }
    };
}

plain_number!(SeriesRef);
plain_number!(ChunkRef);

/// A series reference: index series id, or head/WAL series ref.
#[repr(transparent)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SeriesRef(pub u64);

impl SeriesRef {
    /// The raw number.
    #[inline]
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<u32> for SeriesRef {
    #[inline]
    fn from(v: u32) -> Self {
        SeriesRef(u64::from(v))
    }
}

/// A packed chunk reference: file (segment) in the upper 32 bits, byte
/// offset in the lower 32.
#[repr(transparent)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct ChunkRef(pub u64);

impl ChunkRef {
    /// Packs a file (segment) number and a byte offset.
    #[inline]
    pub const fn new(segment: u32, offset: u32) -> Self {
        ChunkRef(((segment as u64) << 32) | offset as u64)
    }

    /// The raw packed number.
    #[inline]
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The upper 32 bits: block chunk segment index (0-based, in the sorted
    /// `chunks/` listing) or `chunks_head/` file number.
    #[inline]
    pub const fn segment(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// The lower 32 bits: byte offset of the chunk record in its file.
    #[inline]
    pub const fn offset(self) -> u32 {
        self.0 as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_ref_splits_into_segment_and_offset() {
        let r = ChunkRef::new(3, 0x0010_0008);
        assert_eq!(r.get(), (3 << 32) | 0x0010_0008);
        assert_eq!(r.segment(), 3);
        assert_eq!(r.offset(), 0x0010_0008);
        let max = ChunkRef(u64::MAX);
        assert_eq!((max.segment(), max.offset()), (u32::MAX, u32::MAX));
    }

    #[test]
    fn refs_are_plain_numbers_in_json_and_text() {
        assert_eq!(serde_json::to_string(&SeriesRef(42)).unwrap(), "42");
        assert_eq!(
            serde_json::to_string(&ChunkRef::new(1, 8)).unwrap(),
            "4294967304"
        );
        assert_eq!(
            serde_json::from_str::<SeriesRef>("7").unwrap(),
            SeriesRef(7)
        );
        assert_eq!(SeriesRef(9).to_string(), "9");
        assert_eq!(format!("{:>4}", ChunkRef(5)), "   5");
        assert!(SeriesRef(1) < SeriesRef(2));
        assert_eq!(std::mem::size_of::<ChunkRef>(), 8);
    }
}
