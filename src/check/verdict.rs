//! What Prometheus' startup will do with a directory, from verify's findings:
//! start cleanly, repair (and drop what the findings' `time_range`s name), or
//! refuse to start.
//!
//! The verdict follows Prometheus 2.42's `Open`: it deletes temporary block
//! directories and blocks listed as parents of other blocks, runs the WAL
//! repair on a torn or corrupt segment (dropping the rest of it and the later
//! segments), deletes head chunk files from a corrupt one on and rebuilds the
//! head from the WAL, and stops on a segment gap, a corrupt checkpoint, a
//! head chunk file gap or a block it cannot open (`openBlocks` in
//! tsdb/db.go: an index or chunks that do not open); a block whose meta.json
//! is missing or unreadable is skipped there with a log line, not refused. Findings in blocks that
//! open (a bad chunk CRC, say) do not stop it: they fail queries later, and
//! are counted as damage, not as a startup outcome. A snapshot directory is
//! not opened by Prometheus; its verdict is about the backup.

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
    ) || (f.code == FindingCode::FileMissing
        && f.path.file_name().is_some_and(|n| n == "meta.json"))
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
        let is_refuse = f.severity == Severity::Error && REFUSE.contains(&f.code) && !in_skipped;
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
                .map(|r| {
                    format!(
                        "{}..{}",
                        crate::gofmt::rfc3339_ms(r[0]),
                        crate::gofmt::rfc3339_ms(r[1])
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self.outcome {
            "refuse" => format!(
                "Prometheus will refuse to start ({})",
                self.because
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
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
}
