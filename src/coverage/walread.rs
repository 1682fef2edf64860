//! Filling a [`WalView`] from a directory. TEMPORARY: lists segment files
//! (names, sizes, mtimes) only; sample time ranges come with the WAL reader.

use std::path::Path;

use super::wal::{DEFAULT_SEGMENT_SIZE, SegmentKind, SegmentRange, WalView};

fn mtime_ms(p: &Path) -> Option<i64> {
    let m = std::fs::metadata(p).ok()?.modified().ok()?;
    Some(m.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64)
}

/// Reads `dir` (a `wal/` directory, or a data dir holding one).
pub fn read_wal(dir: &Path, observed_at: Option<i64>) -> std::io::Result<WalView> {
    let wal = if dir.join("wal").is_dir() {
        dir.join("wal")
    } else {
        dir.to_path_buf()
    };
    let mut segments = Vec::new();
    let mut checkpoint: Option<SegmentRange> = None;
    let mut newest = None::<i64>;
    for ent in std::fs::read_dir(&wal)? {
        let ent = ent?;
        let name = ent.file_name().to_string_lossy().into_owned();
        let p = ent.path();
        let mt = mtime_ms(&p);
        newest = newest.max(mt);
        if let Ok(i) = name.parse::<u32>() {
            segments.push(SegmentRange {
                name,
                index: i,
                kind: SegmentKind::Segment,
                min_t: None,
                max_t: None,
                size: ent.metadata().map(|m| m.len()).unwrap_or(0),
                mtime: mt,
                first_record_ok: true,
                last_record_ok: true,
                problem: None,
            });
        } else if let Some(n) = name
            .strip_prefix("checkpoint.")
            .and_then(|n| n.parse::<u32>().ok())
            && checkpoint.as_ref().is_none_or(|c| c.index < n)
        {
            checkpoint = Some(SegmentRange {
                name,
                index: n,
                kind: SegmentKind::Checkpoint,
                min_t: None,
                max_t: None,
                size: 0,
                mtime: mt,
                first_record_ok: true,
                last_record_ok: true,
                problem: None,
            });
        }
    }
    segments.sort_by_key(|s| s.index);
    let mut findings = Vec::new();
    for w in segments.windows(2) {
        if let [a, b] = w
            && b.index != a.index + 1
        {
            findings.push(format!(
                "segments {:08}..{:08} missing: Prometheus' WAL watcher fails on non-sequential segments",
                a.index + 1,
                b.index - 1
            ));
        }
    }
    Ok(WalView {
        dir: wal,
        observed_at: observed_at.or(newest).unwrap_or(0),
        segments,
        checkpoint,
        segment_size: DEFAULT_SEGMENT_SIZE,
        findings,
    })
}
