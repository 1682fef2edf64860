//! Names in a WAL directory (`tsdb/wlog/wlog.go` `listSegments`,
//! `tsdb/wlog/checkpoint.go`), and in a data directory for head chunk files
//! and memory snapshots. Pure string handling; no I/O.
//!
//! ```text
//! wal/00000000 ...                  segments, %08d (any all-digit name is read)
//! wal/checkpoint.00000012/          checkpoint folding segments <= 12; holds segments
//! wal/checkpoint.00000012.tmp/      an unfinished checkpoint (leftover)
//! chunks_head/000001 ...            head chunk files, %06d
//! chunk_snapshot.000012.0000001024/ memory snapshot at WAL segment 12, offset 1024
//! ```

/// Prefix of checkpoint directory names.
pub const CHECKPOINT_PREFIX: &str = "checkpoint.";
/// Prefix of memory-snapshot directory names.
pub const CHUNK_SNAPSHOT_PREFIX: &str = "chunk_snapshot.";
/// Suffix of unfinished checkpoints and snapshots.
pub const TMP_SUFFIX: &str = ".tmp";

/// The segment number of an all-digit file name (`00000012` → 12), as
/// Prometheus's `strconv.Atoi` accepts it; `None` for anything else.
pub fn parse_segment_name(name: &str) -> Option<u32> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

/// The canonical segment file name (`%08d`).
pub fn segment_name(index: u32) -> String {
    format!("{index:08}")
}

/// A parsed `checkpoint.N[.tmp]` directory name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointName {
    /// N: the last WAL segment folded into the checkpoint.
    pub index: u32,
    /// True for the `.tmp` form (an unfinished checkpoint).
    pub tmp: bool,
}

/// Parses `checkpoint.00000012` or `checkpoint.00000012.tmp`.
pub fn parse_checkpoint_name(name: &str) -> Option<CheckpointName> {
    let rest = name.strip_prefix(CHECKPOINT_PREFIX)?;
    let (digits, tmp) = match rest.strip_suffix(TMP_SUFFIX) {
        Some(d) => (d, true),
        None => (rest, false),
    };
    Some(CheckpointName {
        index: parse_segment_name(digits)?,
        tmp,
    })
}

/// The canonical checkpoint directory name (`checkpoint.%08d`).
pub fn checkpoint_name(index: u32) -> String {
    format!("{CHECKPOINT_PREFIX}{index:08}")
}

/// A parsed `chunk_snapshot.N.M[.tmp]` directory name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSnapshotName {
    /// N: the WAL segment the snapshot is consistent with.
    pub segment: u32,
    /// M: the offset in that segment.
    pub offset: u64,
    /// True for the `.tmp` form.
    pub tmp: bool,
}

/// Parses `chunk_snapshot.000012.0000001024[.tmp]`.
pub fn parse_chunk_snapshot_name(name: &str) -> Option<ChunkSnapshotName> {
    let rest = name.strip_prefix(CHUNK_SNAPSHOT_PREFIX)?;
    let (rest, tmp) = match rest.strip_suffix(TMP_SUFFIX) {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (seg, off) = rest.split_once('.')?;
    if off.is_empty() || !off.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(ChunkSnapshotName {
        segment: parse_segment_name(seg)?,
        offset: off.parse().ok()?,
        tmp,
    })
}

/// Missing numbers in a sorted list of segment numbers, as inclusive
/// `(first_missing, last_missing)` ranges. Prometheus refuses a WAL whose
/// segments are not sequential.
pub fn gaps(sorted: &[u32]) -> Vec<(u32, u32)> {
    sorted
        .windows(2)
        .filter_map(|w| match *w {
            [a, b] if b > a.saturating_add(1) => Some((a + 1, b - 1)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests may panic
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(parse_segment_name("00000012"), Some(12));
        assert_eq!(parse_segment_name("12"), Some(12));
        assert_eq!(parse_segment_name("+12"), None);
        assert_eq!(parse_segment_name(""), None);
        assert_eq!(parse_segment_name("99999999999"), None);
        assert_eq!(segment_name(3), "00000003");
        assert_eq!(
            parse_checkpoint_name("checkpoint.00000003"),
            Some(CheckpointName {
                index: 3,
                tmp: false
            })
        );
        assert_eq!(
            parse_checkpoint_name("checkpoint.00000003.tmp"),
            Some(CheckpointName {
                index: 3,
                tmp: true
            })
        );
        assert_eq!(parse_checkpoint_name("checkpoint."), None);
        assert_eq!(checkpoint_name(1), "checkpoint.00000001");
        assert_eq!(
            parse_chunk_snapshot_name("chunk_snapshot.000012.0000001024"),
            Some(ChunkSnapshotName {
                segment: 12,
                offset: 1024,
                tmp: false
            })
        );
        assert_eq!(
            parse_chunk_snapshot_name("chunk_snapshot.000012.0000001024.tmp").map(|c| c.tmp),
            Some(true)
        );
        assert_eq!(parse_chunk_snapshot_name("chunk_snapshot.12"), None);
    }

    #[test]
    fn gap_ranges() {
        assert_eq!(gaps(&[]), vec![]);
        assert_eq!(gaps(&[1, 2, 3]), vec![]);
        assert_eq!(gaps(&[1, 3, 7]), vec![(2, 2), (4, 6)]);
    }
}
