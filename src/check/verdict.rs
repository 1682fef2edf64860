//! What Prometheus' startup will do with a directory, from verify's findings:
//! start cleanly, repair (and drop what the findings' `time_range`s name), or
//! refuse to start.
//!
//! # What Prometheus 2.42 does on start (read in its sources, tag v2.42.0)
//!
//! In order (`open` in tsdb/db.go, then `Head.Init` in tsdb/head.go, the
//! head chunk files in tsdb/chunks/head_chunks.go, the WAL in tsdb/wlog/):
//!
//! 1. **Temporary directories are deleted**, in the data directory and in
//!    `wal/`: every directory named `<ULID>.tmp-for-creation`,
//!    `<ULID>.tmp-for-deletion` or `<ULID>.tmp`, and every `checkpoint.*.tmp`
//!    (an unfinished block write, block deletion or checkpoint). Nothing else
//!    is read from them. → `repair`, nothing dropped (the data is still in the
//!    head, the parent blocks or the WAL).
//! 2. **The lock** is taken (a running Prometheus holds it; a stale `lock`
//!    file is no obstacle).
//! 3. **The WAL directory is listed**: segment files (numeric names) must be
//!    consecutive, else it stops ("segments are not sequential"). → `refuse`
//!    (`wal_segment_gap`). A new segment numbered after the last one is
//!    created for writing: a segment left short by a crash is not padded and
//!    is read as it is — not damage.
//! 4. **The head chunk files are opened** (`chunks_head/`): if the newest one
//!    (number > 0) is shorter than 4 bytes or starts with a zero magic, it is
//!    deleted (a crash leaves it so) → `repair`, nothing dropped. Then a gap
//!    in the numbering, a header shorter than 8 bytes, a wrong magic or a
//!    wrong format version in any file stops it. → `refuse`
//!    (`head_chunk_file_gap`, `head_chunk_bad_magic`, and a
//!    `head_chunk_corrupt` whose offset lies in the 8-byte header).
//! 5. **Blocks are opened** (`openBlocks`): a block whose `meta.json` is
//!    missing or does not parse is skipped with an error in the log, its
//!    other files never opened (its data is not served: damage, no refusal).
//!    A block whose meta reads but whose index or chunks do not open is
//!    *corrupted*: the start fails, unless another block names it as a parent
//!    (then it is deleted). → `refuse` (`index_*` header errors, a missing
//!    index or chunk file, a duplicate ULID). Blocks named as parents of
//!    others, and blocks beyond retention, are deleted. → `repair`
//!    (`parent_block_present`). Blocks that open but hold a bad chunk CRC or a
//!    damaged series start fine: queries touching them fail later (counted as
//!    damage, not as a startup outcome).
//! 6. **The head chunk files are read** chunk by chunk. The first bad chunk
//!    (a CRC mismatch, a length past the end, bytes too few for a header that
//!    are not zeros — a cut file) makes it delete that file and every later
//!    one, reset the head and read the rest again; if that fails too, every
//!    head chunk file goes. The WAL replay that follows rebuilds those
//!    chunks' samples wherever the WAL (checkpoint included) still holds
//!    them. → `repair`; a loss only for samples older than anything the WAL
//!    holds (the finding's `time_range`).
//! 7. **The last checkpoint is replayed**, then every segment after it. The
//!    first error of the reader (a bad CRC, a torn record, fragments out of
//!    order, non-zero padding, a record that does not decode) stops the
//!    replay; what was read so far stays in the head. Samples of series with
//!    no series record are skipped with a log line ("Unknown series
//!    references"), not an error.
//! 8. **The WAL repair** then runs with the damaged segment's number: every
//!    segment numbered above it is deleted, the damaged one is rewritten with
//!    its whole records that start before the damage (the rest of its page
//!    included, which is why the loss starts at the torn record's page), and a
//!    new segment is started. The server starts. → `repair`, dropping what the
//!    findings' `time_range`s name. The repair takes the number from the
//!    error but always works in `wal/`: when the damage is in a **checkpoint**
//!    segment (number 0, usually), it deletes every WAL segment above that
//!    number — all of them — and then fails to rename the `wal/` segment of
//!    that number, which does not exist. → `refuse`
//!    (`wal_checkpoint_corrupt`), after the WAL segments are already gone;
//!    the next start finds only the checkpoint and the new empty segment, and
//!    starts with what the checkpoint held before its damage.
//!
//! A snapshot directory is not opened by Prometheus; its verdict is about
//! the backup.

use serde::Serialize;

use super::{Finding, FindingCode, Severity};

/// Prometheus' startup on the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Startup {
    /// `clean`, `repair` or `refuse`.
    pub outcome: &'static str,
    /// The finding codes behind the outcome (deduplicated, in order).
    pub because: Vec<FindingCode>,
    /// Time ranges `[from, to)` (ms) the repair or the damage loses
    /// (the findings' `time_range`s of errors, merged).
    pub drops: Vec<[i64; 2]>,
}

/// Codes after which Prometheus 2.42 does not start.
const REFUSE: &[FindingCode] = &[
    FindingCode::WalSegmentGap,
    FindingCode::WalCheckpointCorrupt,
    FindingCode::WalDirUnreadable,
    FindingCode::HeadChunkFileGap,
    FindingCode::HeadChunkBadMagic,
    FindingCode::HeadChunkDirUnreadable,
    FindingCode::MetaInvalid,
    FindingCode::MetaVersionUnsupported,
    FindingCode::IndexBadMagic,
    FindingCode::IndexBadVersion,
    FindingCode::IndexTocChecksum,
    FindingCode::IndexTruncated,
    FindingCode::FileMissing,
    FindingCode::DuplicateBlockUlid,
];

/// Codes after which Prometheus changes the directory on start (repairs,
/// deletes) but starts.
const REPAIR: &[FindingCode] = &[
    FindingCode::WalTornTail,
    FindingCode::WalChecksum,
    FindingCode::WalFragmentOrder,
    FindingCode::WalFragmentInvalid,
    FindingCode::WalPaddingNonzero,
    FindingCode::WalDecompress,
    FindingCode::WalRecordCorrupt,
    FindingCode::WalCheckpointTmpLeftover,
    FindingCode::HeadChunkChecksum,
    FindingCode::HeadChunkCorrupt,
    FindingCode::HeadChunkOutOfOrder,
    FindingCode::HeadChunkFileDeletedOnStartup,
    FindingCode::TmpDirLeftover,
    FindingCode::ParentBlockPresent,
];

/// A block whose meta.json is missing or does not read: 2.42's
/// `openBlocks` (tsdb/db.go) logs "Failed to read meta.json for a block
/// during reloadBlocks. Skipping" and goes on; the block's data is not
/// served (damage, counted as such), but the start is not refused. A block
/// whose meta.json reads but whose index or chunks do not open is
/// `corrupted` there, and `reloadBlocks` fails the start.
fn skipped_block(f: &Finding) -> bool {
    matches!(
        f.code,
        FindingCode::MetaInvalid | FindingCode::MetaVersionUnsupported
    ) || (matches!(
        f.code,
        FindingCode::FileMissing | FindingCode::FileUnreadable
    ) && f.path.file_name().is_some_and(|n| n == "meta.json"))
}

/// A block file that could not be opened at all (permission denied, a
/// directory in its place): Prometheus, opening it the same way, finds the
/// block corrupted and does not start (rule 5) — when it runs as a user
/// who cannot read it either. An unreadable range inside an opened file
/// (`offset` set: a read error on the device) only fails queries later.
fn block_file_unopenable(f: &Finding) -> bool {
    f.code == FindingCode::FileUnreadable && f.offset.is_none()
}

/// Size of a head chunk file's header (magic, version, padding).
const HEAD_CHUNK_HEADER: u64 = 8;

/// A head chunk file whose header is damaged (a short header or a wrong
/// format version: `head_chunk_corrupt` inside the first 8 bytes) stops
/// 2.42 when it opens the files, before any repair; damage further in is
/// repaired (the file and the later ones deleted).
fn head_chunk_header_damage(f: &Finding) -> bool {
    f.code == FindingCode::HeadChunkCorrupt
        && f.severity == Severity::Error
        && f.offset.is_some_and(|o| o < HEAD_CHUNK_HEADER)
}

/// Codes of WAL damage after which 2.42's repair cuts the segment at the
/// damaged record and deletes the later segments.
const WAL_CUT: &[FindingCode] = &[
    FindingCode::WalTornTail,
    FindingCode::WalChecksum,
    FindingCode::WalFragmentOrder,
    FindingCode::WalFragmentInvalid,
    FindingCode::WalPaddingNonzero,
    FindingCode::WalDecompress,
    FindingCode::WalRecordCorrupt,
];

/// Narrows the loss of each WAL finding whose repair drops records (an
/// error with a `time_range` and the damaged record's offset) to what the
/// restart really loses: samples the dropped records hold that neither a
/// block nor an m-mapped chunk in `chunks_head/` still holds (rule 6/8 of
/// the module docs: the replay skips WAL samples a chunk already covers).
pub fn narrow_wal_losses(
    findings: &mut [Finding],
    chunks_head: Option<&std::path::Path>,
    min_valid_time: Option<i64>,
) {
    for f in findings.iter_mut() {
        let (Some(_), Some(offset)) = (f.time_range, f.offset) else {
            continue;
        };
        if f.severity != Severity::Error || !WAL_CUT.contains(&f.code) {
            continue;
        }
        let mvt = min_valid_time.unwrap_or(i64::MIN);
        let torn = f.code == FindingCode::WalTornTail;
        match crate::head::wal_repair_loss(chunks_head, &f.path, offset, torn, mvt) {
            Some((a, b)) => {
                f.time_range = Some([a, b.saturating_add(1)]);
                f.message.push_str(&format!(
                    concat!(
                        "; of these, the restart loses {} (the rest is still in blocks ",
                        "or in chunks_head/)"
                    ),
                    crate::vocab::range(a, b.saturating_add(1))
                ));
            }
            None => {
                f.time_range = None;
                f.message.push_str(concat!(
                    "; the restart loses none of them: blocks and chunks_head/ still ",
                    "hold every readable sample"
                ));
            }
        }
    }
}

/// The startup verdict of one directory's findings.
pub fn startup<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Startup {
    let mut refuse = Vec::new();
    let mut repair = Vec::new();
    let mut drops: Vec<[i64; 2]> = Vec::new();
    let findings: Vec<&Finding> = findings.into_iter().collect();
    // Block dirs 2.42 skips (their meta.json): none of their findings
    // refuses the start, as Prometheus never opens their other files.
    let skipped: Vec<&std::path::Path> = findings
        .iter()
        .filter(|f| skipped_block(f))
        .filter_map(|f| f.path.parent())
        .collect();
    for f in findings {
        if f.severity == Severity::Info {
            continue;
        }
        let in_skipped = skipped.iter().any(|d| f.path.starts_with(d));
        let is_refuse = f.severity == Severity::Error
            && (REFUSE.contains(&f.code)
                || head_chunk_header_damage(f)
                || block_file_unopenable(f))
            && !in_skipped;
        if is_refuse {
            if !refuse.contains(&f.code) {
                refuse.push(f.code);
            }
        } else if REPAIR.contains(&f.code) && !repair.contains(&f.code) {
            repair.push(f.code);
        }
        if f.severity == Severity::Error
            && let Some(r) = f.time_range
        {
            drops.push(r);
        }
    }
    drops.sort_unstable();
    let mut merged: Vec<[i64; 2]> = Vec::new();
    for r in drops {
        match merged.last_mut() {
            Some(l) if r[0] <= l[1] => l[1] = l[1].max(r[1]),
            _ => merged.push(r),
        }
    }
    let (outcome, because) = if !refuse.is_empty() {
        ("refuse", refuse)
    } else if !repair.is_empty() {
        ("repair", repair)
    } else {
        ("clean", Vec::new())
    };
    Startup {
        outcome,
        because,
        drops: merged,
    }
}

impl Startup {
    /// One sentence for human output.
    pub fn sentence(&self) -> String {
        let drops = if self.drops.is_empty() {
            "nothing".to_string()
        } else {
            self.drops
                .iter()
                .map(|r| crate::vocab::range(r[0], r[1]))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self.outcome {
            "refuse" => format!(
                "Prometheus will refuse to start ({}){}",
                self.because
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                if self.because.contains(&FindingCode::WalCheckpointCorrupt) {
                    concat!(
                        "; its WAL repair deletes every WAL segment before it gives up: ",
                        "keep a copy, or let an in-place salvage cut the checkpoint first"
                    )
                } else {
                    ""
                }
            ),
            "repair" => format!(
                "Prometheus will repair and drop {drops} ({})",
                self.because
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ if !self.drops.is_empty() => {
                format!("Prometheus will start cleanly; damaged data: {drops}")
            }
            _ => "Prometheus will start cleanly".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn outcomes() {
        let p = Path::new("x");
        assert_eq!(startup([]).outcome, "clean");
        let torn = Finding::new(Severity::Warning, FindingCode::WalTornTail, p, "");
        assert_eq!(startup([&torn]).outcome, "repair");
        let gap = Finding::new(Severity::Error, FindingCode::WalSegmentGap, p, "");
        let s = startup([&torn, &gap]);
        assert_eq!(
            (s.outcome, s.because),
            ("refuse", vec![FindingCode::WalSegmentGap])
        );
        let a = Finding::new(Severity::Error, FindingCode::WalChecksum, p, "").costs(1, 5);
        let b = Finding::new(Severity::Error, FindingCode::WalRecordCorrupt, p, "").costs(4, 9);
        let i = Finding::new(Severity::Info, FindingCode::WalSegmentShort, p, "");
        let s = startup([&a, &b, &i]);
        assert_eq!(s.outcome, "repair");
        assert_eq!(s.drops, vec![[1, 9]]);
    }

    #[test]
    fn a_block_file_that_cannot_be_opened_refuses_and_its_meta_skips() {
        let index = Path::new("01M88ZEAF15198PYN7F74NS04J/index");
        let f = Finding::new(Severity::Error, FindingCode::FileUnreadable, index, "");
        assert_eq!(startup([&f]).outcome, "refuse");
        // A read error inside an opened chunk file fails queries, not the start.
        let chunks = Path::new("01M88ZEAF15198PYN7F74NS04J/chunks/000001");
        let at = Finding::new(Severity::Error, FindingCode::FileUnreadable, chunks, "").at(4096);
        assert_eq!(startup([&at]).outcome, "clean");
        // meta.json unreadable: the block is skipped, its other files unopened.
        let meta = Path::new("01M88ZEAF15198PYN7F74NS04J/meta.json");
        let m = Finding::new(Severity::Error, FindingCode::FileUnreadable, meta, "");
        assert_eq!(startup([&m, &f]).outcome, "clean");
    }

    #[test]
    fn head_chunk_header_damage_refuses_and_chunk_damage_repairs() {
        let p = Path::new("chunks_head/000002");
        // A wrong format version (byte 4): 2.42 fails when it opens the files.
        let version = Finding::new(Severity::Error, FindingCode::HeadChunkCorrupt, p, "").at(4);
        let s = startup([&version]);
        assert_eq!(
            (s.outcome, s.because),
            ("refuse", vec![FindingCode::HeadChunkCorrupt])
        );
        // A chunk cut or damaged after the header: the files are deleted
        // from there on and the head rebuilt from the WAL.
        let cut = Finding::new(Severity::Error, FindingCode::HeadChunkCorrupt, p, "").at(8);
        assert_eq!(startup([&cut]).outcome, "repair");
        let crc = Finding::new(Severity::Warning, FindingCode::HeadChunkChecksum, p, "").at(30);
        assert_eq!(startup([&crc]).outcome, "repair");
    }
}
