//! Tombstones file (`<block>/tombstones`).
//!
//! ```text
//! BE32 magic 0x0130BA30 | u8 version 1
//! repeated: uvarint series_ref | varint mint | varint maxt
//! BE32 CRC32C over the entries only (the version byte is not covered)
//! ```
//! Each entry deletes the closed interval `[mint, maxt]` of one series.
//! Upstream spec: prometheus `tsdb/docs/format/tombstones.md` (which wrongly
//! describes a trailing offset; the code has none).

use std::collections::HashMap;

use crate::format::decode::{Decoder, crc32c};
use crate::format::error::{DecodeError, Result, Section};
use crate::format::refs::SeriesRef;

/// Tombstones magic number.
pub const MAGIC_TOMBSTONES: u32 = 0x0130_BA30;

/// One deleted interval `[mint, maxt]` (closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Interval {
    /// First deleted timestamp.
    pub mint: i64,
    /// Last deleted timestamp.
    pub maxt: i64,
}

/// One entry as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stone {
    /// Block series id.
    pub series_ref: SeriesRef,
    /// Interval.
    pub interval: Interval,
    /// Absolute offset of the entry.
    pub offset: u64,
}

/// Parses a tombstones file into its entries in file order.
pub fn parse(file: &[u8]) -> Result<Vec<Stone>> {
    if file.len() < 5 {
        return Err(DecodeError::UnexpectedEof {
            offset: 0,
            wanted: 5,
            available: file.len() as u64,
        });
    }
    let mut d = Decoder::new(file, 0);
    let magic = d.be_u32()?;
    if magic != MAGIC_TOMBSTONES {
        return Err(DecodeError::BadMagic {
            section: Section::Tombstones,
            offset: 0,
            expected: MAGIC_TOMBSTONES,
            found: magic,
        });
    }
    let version = d.u8()?;
    if version != 1 {
        return Err(DecodeError::BadVersion {
            section: Section::Tombstones,
            offset: 4,
            expected: "1",
            found: u64::from(version),
        });
    }
    if d.remaining() < 4 {
        return Err(DecodeError::UnexpectedEof {
            offset: 5,
            wanted: 4,
            available: d.remaining() as u64,
        });
    }
    let body_len = d.remaining() - 4;
    let mut body = d.take(body_len)?;
    let stored = d.be_u32()?;
    let computed = crc32c(body.rest());
    if stored != computed {
        return Err(DecodeError::Checksum {
            section: Section::Tombstones,
            offset: 5,
            stored,
            computed,
        });
    }
    let mut out = Vec::new();
    while !body.is_empty() {
        let offset = body.offset();
        let series_ref = SeriesRef(body.uvarint()?);
        let mint = body.varint()?;
        let maxt = body.varint()?;
        out.push(Stone {
            series_ref,
            interval: Interval { mint, maxt },
            offset,
        });
    }
    Ok(out)
}

/// Deleted intervals per series, merged and sorted, as Prometheus applies them.
#[derive(Debug, Clone, Default)]
pub struct Tombstones {
    by_series: HashMap<SeriesRef, Vec<Interval>>,
}

impl Tombstones {
    /// Builds the merged view from stored entries (any order; overlapping and
    /// adjacent intervals are merged).
    pub fn from_stones(stones: &[Stone]) -> Self {
        let mut t = Tombstones::default();
        for s in stones {
            t.add(s.series_ref, s.interval);
        }
        t
    }

    /// Adds one interval for `series_ref`.
    pub fn add(&mut self, series_ref: SeriesRef, iv: Interval) {
        let v = self.by_series.entry(series_ref).or_default();
        v.push(iv);
        v.sort_by_key(|i| i.mint);
        let mut merged: Vec<Interval> = Vec::with_capacity(v.len());
        for i in v.drain(..) {
            match merged.last_mut() {
                Some(last) if i.mint <= last.maxt.saturating_add(1) => {
                    last.maxt = last.maxt.max(i.maxt)
                }
                _ => merged.push(i),
            }
        }
        *v = merged;
    }

    /// Deleted intervals of one series (sorted, disjoint).
    pub fn get(&self, series_ref: SeriesRef) -> &[Interval] {
        self.by_series
            .get(&series_ref)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// True when no series has a tombstone.
    pub fn is_empty(&self) -> bool {
        self.by_series.is_empty()
    }

    /// Series with tombstones.
    pub fn series(&self) -> impl Iterator<Item = SeriesRef> + '_ {
        self.by_series.keys().copied()
    }
}

/// True if `t` lies in one of the sorted, disjoint `intervals`.
#[inline]
pub fn is_deleted(t: i64, intervals: &[Interval]) -> bool {
    intervals.iter().any(|i| i.mint <= t && t <= i.maxt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_as_prometheus_writes_it() {
        assert_eq!(
            parse(&[0x01, 0x30, 0xBA, 0x30, 0x01, 0, 0, 0, 0]).unwrap(),
            vec![]
        );
    }

    #[test]
    fn one_entry_and_crc_excludes_version() {
        // series 16 (uvarint 0x10), mint 100 (zigzag 200 = c8 01), maxt 200 (zigzag 400 = 90 03)
        let body = [0x10, 0xc8, 0x01, 0x90, 0x03];
        let mut f = vec![0x01, 0x30, 0xBA, 0x30, 0x01];
        f.extend_from_slice(&body);
        f.extend_from_slice(&crc32c(&body).to_be_bytes());
        let s = parse(&f).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].series_ref.get(), 16);
        assert_eq!(
            s[0].interval,
            Interval {
                mint: 100,
                maxt: 200
            }
        );
        assert_eq!(s[0].offset, 5);
        f[4] = 2;
        assert!(matches!(parse(&f), Err(DecodeError::BadVersion { .. })));
        f[4] = 1;
        f[6] ^= 1;
        assert!(matches!(parse(&f), Err(DecodeError::Checksum { .. })));
    }

    #[test]
    fn merges_overlapping_and_adjacent() {
        let mut t = Tombstones::default();
        t.add(SeriesRef(1), Interval { mint: 10, maxt: 20 });
        t.add(SeriesRef(1), Interval { mint: 0, maxt: 5 });
        t.add(SeriesRef(1), Interval { mint: 21, maxt: 30 });
        t.add(SeriesRef(1), Interval { mint: 6, maxt: 6 });
        assert_eq!(
            t.get(SeriesRef(1)),
            &[
                Interval { mint: 0, maxt: 6 },
                Interval { mint: 10, maxt: 30 }
            ]
        );
        assert!(is_deleted(6, t.get(SeriesRef(1))));
        assert!(!is_deleted(7, t.get(SeriesRef(1))));
        assert!(!is_deleted(31, t.get(SeriesRef(1))));
    }
}
