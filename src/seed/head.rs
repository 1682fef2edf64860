//! Which block of an admin-API snapshot Prometheus wrote from its head,
//! told by the snapshot's contents against the primary's blocks rather than
//! by the block-range grid (a backfilled block also ends off the grid, and
//! `skip_head` writes no head block at all).
//!
//! The snapshot hard-links the primary's blocks under their own ULIDs; the
//! head block is the one new block: level 1, its own only source, neither a
//! block of the primary's data directory nor a compaction source or parent
//! of one (a block the primary compacted after the snapshot lives on in the
//! sources and parents of the block that replaced it), and the newest of
//! the snapshot's blocks by ULID time (it was created at the snapshot).

use std::collections::HashSet;
use std::path::Path;

use crate::block::read_meta;
use crate::format::meta::ulid_time;
use crate::layout;

/// The ULID of `snapshot`'s head block (`Some(None)`: it has none), or
/// `None` when the primary's data directory cannot be read (then the grid
/// rule must do).
pub fn head_block_by_contents(snapshot: &Path, data_dir: &Path) -> Option<Option<String>> {
    let primary = layout::scan(data_dir).ok()?;
    let mut known: HashSet<String> = HashSet::new();
    for dir in &primary.blocks {
        if let Some(n) = dir.file_name() {
            known.insert(n.to_string_lossy().into_owned());
        }
        if let Ok(m) = read_meta(dir) {
            known.extend(m.compaction.sources.iter().cloned());
            known.extend(m.compaction.parents.iter().map(|p| p.ulid.clone()));
        }
    }
    let snap = layout::scan(snapshot).ok()?;
    let metas: Vec<_> = snap
        .blocks
        .iter()
        .filter_map(|d| read_meta(d).ok())
        .collect();
    let newest = metas.iter().filter_map(|m| ulid_time(&m.ulid)).max();
    let head = metas
        .iter()
        .filter(|m| {
            m.compaction.level == 1
                && m.compaction.sources.len() == 1
                && m.compaction.sources.first() == Some(&m.ulid)
                && !known.contains(&m.ulid)
                && ulid_time(&m.ulid) == newest
        })
        .max_by_key(|m| m.max_time)
        .map(|m| m.ulid.clone());
    Some(head)
}
