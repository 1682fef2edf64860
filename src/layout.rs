//! What a path is: a single block directory, a Prometheus data directory
//! (blocks + `wal/` + `chunks_head/`), or an admin-API snapshot
//! (`snapshots/<YYYYMMDDTHHMMSSZ>-<16 hex>/`, blocks only).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::format::meta::is_valid_ulid;

/// The kind of directory a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DirKind {
    /// One block directory (has `meta.json`).
    Block,
    /// A data directory: blocks and possibly `wal/`, `chunks_head/`.
    Data,
    /// An admin-API snapshot directory.
    Snapshot,
}

/// What is in a directory.
#[derive(Debug, Clone, Serialize)]
pub struct Layout {
    /// The path as given.
    pub root: PathBuf,
    /// Kind of directory.
    pub kind: DirKind,
    /// Block directories (strict ULID names), sorted by name.
    pub blocks: Vec<PathBuf>,
    /// Snapshot time (Unix ms) parsed from a snapshot directory name.
    pub snapshot_time: Option<i64>,
    /// `wal/` if present.
    pub wal: Option<PathBuf>,
    /// `wbl/` if present.
    pub wbl: Option<PathBuf>,
    /// `chunks_head/` if present.
    pub chunks_head: Option<PathBuf>,
    /// `*.tmp-for-creation`, `*.tmp-for-deletion`, `*.tmp` leftovers.
    pub tmp_dirs: Vec<PathBuf>,
    /// `chunk_snapshot.*` directories.
    pub chunk_snapshots: Vec<PathBuf>,
    /// Entries that are none of the above (ignored by Prometheus).
    pub stray: Vec<PathBuf>,
}

/// Entries Prometheus itself keeps in a data dir that are not blocks.
const KNOWN_FILES: &[&str] = &[
    "lock",
    "queries.active",
    "snapshots",
    "wal",
    "wbl",
    "chunks_head",
];

/// Parses `YYYYMMDDTHHMMSSZ-<16 hex>` into Unix milliseconds.
pub fn parse_snapshot_name(name: &str) -> Option<i64> {
    let (ts, hex) = name.split_once('-')?;
    if hex.len() != 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let b = ts.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = ts.get(r)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, s) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000)
}

/// Days since 1970-01-01 (its home is [`crate::vocab`]).
pub use crate::vocab::days_from_civil;

/// Classifies `root` and lists what it holds. Never writes anything.
pub fn scan(root: &Path) -> Result<Layout> {
    let md = std::fs::metadata(root).map_err(|e| Error::io(root, e))?;
    if !md.is_dir() {
        return Err(Error::Usage(format!(
            "{}: not a directory (expected a block, data or snapshot directory)",
            root.display()
        )));
    }
    let mut layout = Layout {
        root: root.to_path_buf(),
        kind: DirKind::Data,
        blocks: Vec::new(),
        snapshot_time: None,
        wal: None,
        wbl: None,
        chunks_head: None,
        tmp_dirs: Vec::new(),
        chunk_snapshots: Vec::new(),
        stray: Vec::new(),
    };
    if root.join("meta.json").is_file() {
        layout.kind = DirKind::Block;
        layout.blocks.push(root.to_path_buf());
        return Ok(layout);
    }
    let name = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    if let Some(t) = parse_snapshot_name(&name) {
        layout.kind = DirKind::Snapshot;
        layout.snapshot_time = Some(t);
    }
    let rd = std::fs::read_dir(root).map_err(|e| Error::io(root, e))?;
    let mut entries = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| Error::io(root, e))?;
        entries.push(ent.path());
    }
    entries.sort();
    for p in entries {
        let Some(n) = p.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            layout.stray.push(p);
            continue;
        };
        let is_dir = p.is_dir();
        if is_dir && is_valid_ulid(&n) {
            layout.blocks.push(p);
        } else if is_dir && is_tmp_dir_name(&n) {
            layout.tmp_dirs.push(p);
        } else if is_dir && n.starts_with("chunk_snapshot.") {
            layout.chunk_snapshots.push(p);
        } else if is_dir && n == "wal" {
            layout.wal = Some(p);
        } else if is_dir && n == "wbl" {
            layout.wbl = Some(p);
        } else if is_dir && n == "chunks_head" {
            layout.chunks_head = Some(p);
        } else if !KNOWN_FILES.contains(&n.as_str()) {
            layout.stray.push(p);
        }
    }
    Ok(layout)
}

/// True for a "data directory" that holds nothing Prometheus writes: no
/// block, no WAL, WBL or head chunks, no leftover of a block write, not even
/// the `lock`, `queries.active` or `snapshots/` a running Prometheus leaves
/// (an empty directory, a directory of other files, a `wal/` directory, a
/// `snapshots/` directory given instead of one snapshot).
pub fn nothing_recognisable(layout: &Layout) -> bool {
    layout.kind == DirKind::Data
        && layout.blocks.is_empty()
        && layout.wal.is_none()
        && layout.wbl.is_none()
        && layout.chunks_head.is_none()
        && layout.tmp_dirs.is_empty()
        && layout.chunk_snapshots.is_empty()
        && !["lock", "queries.active", "snapshots"]
            .iter()
            .any(|n| layout.root.join(n).exists())
}

/// For a directory with [`nothing_recognisable`], what it is instead, in
/// words: a WAL directory, the parent of snapshots, blocks or data
/// directories (named, so the right one can be given), empty, or other files.
pub fn what_it_is_instead(layout: &Layout) -> String {
    let name = |p: &PathBuf| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let wal_like = layout.stray.iter().any(|p| {
        let n = name(p);
        (n.len() == 8 && n.bytes().all(|b| b.is_ascii_digit()))
            || (n.starts_with("checkpoint.") && p.is_dir())
    });
    if wal_like {
        return concat!(
            "it looks like a WAL directory (numbered segments, checkpoints): ",
            "give the data directory that holds it"
        )
        .to_string();
    }
    let mut inner: Vec<String> = Vec::new();
    for p in layout.stray.iter().filter(|p| p.is_dir()) {
        let n = name(p);
        let kind = if parse_snapshot_name(&n).is_some() {
            "snapshot"
        } else if p.join("meta.json").is_file() {
            "block"
        } else if p.join("wal").is_dir() || p.join("chunks_head").is_dir() {
            "data directory"
        } else {
            continue;
        };
        inner.push(format!("{kind} {}", p.display()));
    }
    if !inner.is_empty() {
        let more = inner.len().saturating_sub(3);
        inner.truncate(3);
        return format!(
            "it holds {}{}: give one of them",
            inner.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    if layout.stray.is_empty() {
        "it is empty".to_string()
    } else {
        format!(
            "it holds only {} entr{} Prometheus does not write",
            layout.stray.len(),
            if layout.stray.len() == 1 { "y" } else { "ies" }
        )
    }
}

/// [`scan`] for a path to read from (a command's source): a directory with
/// [`nothing_recognisable`] is a usage error that says what it is instead,
/// rather than an empty result.
pub fn scan_source(root: &Path) -> Result<Layout> {
    let layout = scan(root)?;
    if nothing_recognisable(&layout) {
        return Err(Error::Usage(format!(
            "{}: not a Prometheus data directory, nor a block or snapshot directory (no block, no wal/, no chunks_head/): {}",
            root.display(),
            what_it_is_instead(&layout)
        )));
    }
    Ok(layout)
}

/// True for the temporary directory names Prometheus deletes on startup.
pub fn is_tmp_dir_name(name: &str) -> bool {
    [".tmp-for-creation", ".tmp-for-deletion", ".tmp"]
        .iter()
        .any(|suf| name.strip_suffix(suf).is_some_and(is_valid_ulid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names() {
        // 2026-11-25T09:12:34Z
        assert_eq!(
            parse_snapshot_name("20261125T091234Z-788eafc011a10c98"),
            Some(1_795_597_954_000)
        );
        assert_eq!(
            parse_snapshot_name("20261125T091234Z-788eafc011a10c9"),
            None
        );
        assert_eq!(
            parse_snapshot_name("20261325T091234Z-788eafc011a10c98"),
            None
        );
        assert_eq!(parse_snapshot_name("01M88Z547SWC2057Y39068VCCB"), None);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn tmp_names() {
        assert!(is_tmp_dir_name(
            "01M88Z547SWC2057Y39068VCCB.tmp-for-creation"
        ));
        assert!(is_tmp_dir_name("01M88Z547SWC2057Y39068VCCB.tmp"));
        assert!(!is_tmp_dir_name("wal.tmp"));
    }
}
