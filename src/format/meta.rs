//! `meta.json`: block metadata.
//!
//! ```text
//! {
//!   "ulid": "01J…",                 block id, equals the directory name
//!   "minTime": 1718172000000,       inclusive lower bound (ms)
//!   "maxTime": 1718179200000,       exclusive upper bound (ms)
//!   "stats": {"numSamples", "numFloatSamples", "numHistogramSamples",
//!             "numSeries", "numChunks", "numTombstones"}   each omitted when 0
//!   "compaction": {"level", "sources", "deletable", "parents": [{ulid,minTime,maxTime}],
//!                  "failed", "hints"}
//!   "version": 1                    meta format version (not the index version)
//! }
//! ```
//! Unknown keys are tolerated (Thanos adds `"thanos"`).

use serde::{Deserialize, Serialize};

use super::error::{DecodeError, Section};

/// Block statistics as written by Prometheus; absent keys are 0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BlockStats {
    /// Samples in all chunks.
    pub num_samples: u64,
    /// Samples in float chunks (written since 3.6).
    pub num_float_samples: u64,
    /// Samples in histogram chunks (written since 3.6).
    pub num_histogram_samples: u64,
    /// Series with at least one chunk.
    pub num_series: u64,
    /// Chunks referenced by the index.
    pub num_chunks: u64,
    /// Tombstone intervals.
    pub num_tombstones: u64,
}

/// A direct input of a compacted block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockDesc {
    /// ULID of the parent.
    pub ulid: String,
    /// Its minTime.
    #[serde(default)]
    pub min_time: i64,
    /// Its maxTime.
    #[serde(default)]
    pub max_time: i64,
}

/// The `compaction` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Compaction {
    /// 1 for blocks cut from the head; 1 + max(level of inputs) otherwise.
    pub level: i64,
    /// ULIDs of all level-1 ancestors.
    pub sources: Vec<String>,
    /// Compaction produced an empty result: Prometheus deletes the block on reload.
    pub deletable: bool,
    /// Direct inputs.
    pub parents: Vec<BlockDesc>,
    /// A compaction using this block failed.
    pub failed: bool,
    /// Hints such as `from-out-of-order`.
    pub hints: Vec<String>,
}

/// A parsed `meta.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockMeta {
    /// Block ULID.
    pub ulid: String,
    /// Inclusive lower bound of sample timestamps (ms).
    pub min_time: i64,
    /// Exclusive upper bound of sample timestamps (ms).
    pub max_time: i64,
    /// Statistics.
    #[serde(default)]
    pub stats: BlockStats,
    /// Compaction history.
    #[serde(default)]
    pub compaction: Compaction,
    /// Meta format version; 1 for every reader since 2.2.
    pub version: i64,
}

impl BlockMeta {
    /// Parses `meta.json` bytes. The version must be 1 (or 2, the Prometheus
    /// 2.1 bug that Prometheus itself repairs on open).
    pub fn parse(bytes: &[u8]) -> Result<BlockMeta, DecodeError> {
        let meta: BlockMeta = serde_json::from_slice(bytes).map_err(|e| {
            // serde_json reports line/column; turn it into a byte offset.
            let offset = line_col_offset(bytes, e.line(), e.column());
            DecodeError::MetaJson {
                offset,
                found: describe_bad_json(bytes, &e),
            }
        })?;
        if meta.version != 1 && meta.version != 2 {
            return Err(DecodeError::BadVersion {
                section: Section::Meta,
                offset: 0,
                expected: "1",
                found: meta.version as u64,
            });
        }
        Ok(meta)
    }

    /// True for the block a snapshot writes from the head: level 1, its own
    /// ULID as only source, and a maxTime off the block-range grid and off
    /// the one-minute grid.
    ///
    /// The head's block ends one millisecond after its newest sample
    /// (`tsdb.DB.Snapshot` writes the head up to `MaxTime() + 1`), a scrape's
    /// time with its millisecond jitter; a head compaction ends on the grid
    /// of the block range, whole minutes for every range Prometheus is run
    /// with. When the range is not in the files (one block: 2 h assumed), a
    /// block from a `skip_head` snapshot ending on a 1m or 5m grid is off the
    /// assumed grid but on the minute's: a compacted block, not the head.
    pub fn is_snapshot_head_block(&self, block_range: i64) -> bool {
        self.compaction.level == 1
            && self.compaction.sources.len() == 1
            && self.compaction.sources.first() == Some(&self.ulid)
            && block_range > 0
            && self.max_time.rem_euclid(block_range) != 0
            && self.max_time.rem_euclid(60_000) != 0
    }
}

/// What a meta.json that does not parse holds, in words: an empty file,
/// bytes that are not JSON at all (with the first few, in hex), or JSON
/// with serde's complaint.
fn describe_bad_json(bytes: &[u8], e: &serde_json::Error) -> String {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    match start.and_then(|i| bytes.get(i)) {
        None => format!("{} (an empty or blank file)", e),
        Some(b'{' | b'[' | b'"') => e.to_string(),
        Some(_) => {
            let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
            format!(
                "{} bytes that are not JSON (the file starts {}…)",
                bytes.len(),
                head.join(" ")
            )
        }
    }
}

fn line_col_offset(bytes: &[u8], line: usize, column: usize) -> u64 {
    if line == 0 {
        return 0;
    }
    let mut cur_line = 1;
    for (i, &b) in bytes.iter().enumerate() {
        if cur_line == line {
            return (i + column.saturating_sub(1)) as u64;
        }
        if b == b'\n' {
            cur_line += 1;
        }
    }
    bytes.len() as u64
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Checks a ULID string with the strict rules Prometheus uses for block
/// directory names: 26 upper-case Crockford base32 characters, first ≤ '7'.
pub fn is_valid_ulid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 26
        && b.first().is_some_and(|&c| c <= b'7')
        && b.iter().all(|c| CROCKFORD.contains(c))
}

/// The millisecond timestamp encoded in a ULID's first 10 characters.
pub fn ulid_time(s: &str) -> Option<u64> {
    if !is_valid_ulid(s) {
        return None;
    }
    let mut t: u64 = 0;
    for c in s.bytes().take(10) {
        let v = CROCKFORD.iter().position(|&x| x == c)? as u64;
        t = (t << 5) | v;
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_meta_is_described_as_not_json() {
        let garbage: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 + 0x81) as u8).collect();
        let msg = BlockMeta::parse(&garbage).unwrap_err().to_string();
        assert!(msg.contains("1000000 bytes that are not JSON"), "{msg}");
        assert!(msg.contains("the file starts 81 88 8f"), "{msg}");
        assert!(!msg.contains("expected value"), "{msg}");
        let msg = BlockMeta::parse(b"").unwrap_err().to_string();
        assert!(msg.contains("an empty or blank file"), "{msg}");
        // JSON that is not a meta.json keeps serde's words.
        let msg = BlockMeta::parse(br#"{"ulid": 3}"#).unwrap_err().to_string();
        assert!(msg.contains("invalid type"), "{msg}");
    }

    #[test]
    fn parses_level1_and_tolerates_unknown_keys() {
        let j = br#"{"ulid":"01M88Z547SWC2057Y39068VCCB","minTime":1,"maxTime":5,
            "stats":{"numSamples":3,"numSeries":1,"numChunks":1},
            "compaction":{"level":1,"sources":["01M88Z547SWC2057Y39068VCCB"]},
            "version":1,"thanos":{"labels":{}}}"#;
        let m = BlockMeta::parse(j).unwrap();
        assert_eq!(m.stats.num_samples, 3);
        assert_eq!(m.compaction.level, 1);
        assert!(m.is_snapshot_head_block(2));
        assert!(!m.is_snapshot_head_block(5));
        // On the one-minute grid: a head compaction's end, whatever range
        // is assumed.
        let on_minute = BlockMeta {
            max_time: 1_796_590_560_000,
            ..m
        };
        assert!(!on_minute.is_snapshot_head_block(7_200_000));
        let off = BlockMeta {
            max_time: 1_796_590_615_295,
            ..on_minute
        };
        assert!(off.is_snapshot_head_block(7_200_000));
    }

    #[test]
    fn rejects_version_and_garbage() {
        let j = br#"{"ulid":"x","minTime":1,"maxTime":5,"version":3}"#;
        assert!(matches!(
            BlockMeta::parse(j),
            Err(DecodeError::BadVersion { found: 3, .. })
        ));
        let e = BlockMeta::parse(b"{\n \"ulid\": 5").unwrap_err();
        assert!(matches!(e, DecodeError::MetaJson { .. }));
    }

    #[test]
    fn ulid_rules() {
        assert!(is_valid_ulid("01M88Z547SWC2057Y39068VCCB"));
        assert!(!is_valid_ulid("01M88Z547SWC2057Y39068VCC"));
        assert!(!is_valid_ulid("81M88Z547SWC2057Y39068VCCB"));
        assert!(!is_valid_ulid("01M88Z547SWC2057Y39068VCCI"));
        // 01M88Z547S: a time in 2026.
        let t = ulid_time("01M88Z547SWC2057Y39068VCCB").unwrap();
        assert!(t > 1_790_000_000_000 && t < 1_800_000_000_000, "{t}");
    }
}
