//! What Prometheus' startup will do with a directory, from verify's findings:
//! start cleanly, repair (and drop what the findings' `time_range`s name), or
//! refuse to start.
//!
//! The verdict follows Prometheus 2.42's `Open`: it deletes temporary block
//! directories and blocks listed as parents of other blocks, runs the WAL
//! repair on a torn or corrupt segment (dropping the rest of it and the later
//! segments), deletes head chunk files from a corrupt one on and rebuilds the
//! head from the WAL, and stops on a segment gap, a corrupt checkpoint, a
//! head chunk file gap or a block it cannot open. Findings in blocks that
//! open (a bad chunk CRC, say) do not stop it: they fail queries later, and
//! are counted as damage, not as a startup outcome. A snapshot directory is
//! not opened by Prometheus; its verdict is about the backup.

use serde::Serialize;

use super::{Finding, Severity};

/// Prometheus' startup on the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Startup {
    /// `clean`, `repair` or `refuse`.
    pub outcome: &'static str,
    /// The finding codes behind the outcome (deduplicated, in order).
    pub because: Vec<&'static str>,
    /// Time ranges `[from, to)` (ms) the repair or the damage loses
    /// (the findings' `time_range`s of errors, merged).
    pub drops: Vec<[i64; 2]>,
}

/// Codes after which Prometheus 2.42 does not start.
const REFUSE: &[&str] = &[
    "wal_segment_gap",
    "wal_checkpoint_corrupt",
    "wal_dir_unreadable",
    "head_chunk_file_gap",
    "head_chunk_bad_magic",
    "head_chunk_dir_unreadable",
    "meta_invalid",
    "meta_version_unsupported",
    "index_bad_magic",
    "index_bad_version",
    "index_toc_checksum",
    "index_truncated",
    "file_missing",
    "duplicate_block_ulid",
];

/// Codes after which Prometheus changes the directory on start (repairs,
/// deletes) but starts.
const REPAIR: &[&str] = &[
    "wal_torn_tail",
    "wal_checksum",
    "wal_fragment_order",
    "wal_fragment_invalid",
    "wal_padding_nonzero",
    "wal_decompress",
    "wal_record_corrupt",
    "wal_checkpoint_tmp_leftover",
    "head_chunk_checksum",
    "head_chunk_corrupt",
    "head_chunk_out_of_order",
    "head_chunk_file_deleted_on_startup",
    "tmp_dir_leftover",
    "parent_block_present",
];

/// The startup verdict of one directory's findings.
pub fn startup<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Startup {
    let mut refuse = Vec::new();
    let mut repair = Vec::new();
    let mut drops: Vec<[i64; 2]> = Vec::new();
    for f in findings {
        if f.severity == Severity::Info {
            continue;
        }
        let is_refuse = f.severity == Severity::Error && REFUSE.contains(&f.code);
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
                self.because.join(", ")
            ),
            "repair" => format!(
                "Prometheus will repair and drop {drops} ({})",
                self.because.join(", ")
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
        let torn = Finding::new(Severity::Warning, "wal_torn_tail", p, "");
        assert_eq!(startup([&torn]).outcome, "repair");
        let gap = Finding::new(Severity::Error, "wal_segment_gap", p, "");
        let s = startup([&torn, &gap]);
        assert_eq!((s.outcome, s.because), ("refuse", vec!["wal_segment_gap"]));
        let a = Finding::new(Severity::Error, "wal_checksum", p, "").costs(1, 5);
        let b = Finding::new(Severity::Error, "wal_record_corrupt", p, "").costs(4, 9);
        let i = Finding::new(Severity::Info, "wal_segment_short", p, "");
        let s = startup([&a, &b, &i]);
        assert_eq!(s.outcome, "repair");
        assert_eq!(s.drops, vec![[1, 9]]);
    }
}
