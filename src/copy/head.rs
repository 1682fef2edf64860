//! The time range a data directory's head holds: the samples Prometheus
//! would replay from `wal/` (newest checkpoint and the segments after it),
//! `wbl/`, and the chunks in `chunks_head/`, as [`crate::walinfo`] reads
//! them. Used only to warn before a copied block lands inside (or beyond)
//! data Prometheus will replay; a damaged WAL is `verify`'s business.

use std::path::Path;

use crate::walinfo::{self, TimeRange};

/// Sample time range `[min, max]` (inclusive, ms) found in a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct HeadRange {
    /// Oldest sample or chunk start.
    pub min_time: i64,
    /// Newest sample or chunk end.
    pub max_time: i64,
}

/// The head's range of a data directory; `None` when it holds no sample (or
/// cannot be read at all).
pub fn head_range(data_dir: &Path) -> Option<HeadRange> {
    let report = walinfo::inspect(data_dir).ok()?;
    let ranges: Vec<TimeRange> = [
        report.wal.as_ref().map(|w| w.time),
        report.wbl.as_ref().map(|w| w.time),
        report.chunks_head.as_ref().map(|c| c.time),
    ]
    .into_iter()
    .flatten()
    .collect();
    let min_time = ranges.iter().filter_map(|r| r.min_t).min()?;
    let max_time = ranges.iter().filter_map(|r| r.max_t).max()?;
    Some(HeadRange { min_time, max_time })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_fixture_head_covers_the_snapshot_head_block() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/prom-2.42-live/data");
        let h = head_range(&dir).expect("head range");
        // The snapshot taken with the head cut block 01M88ZMVFV… covering
        // [1795597800128, 1795597954511) from this head.
        assert!(h.min_time <= 1_795_597_800_128, "{h:?}");
        assert!(h.max_time >= 1_795_597_954_000, "{h:?}");
    }

    #[test]
    fn no_head_no_range() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98");
        assert_eq!(head_range(&dir), None);
    }
}
