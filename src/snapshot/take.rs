//! One consistent read of a data directory a running Prometheus may be
//! changing: the blocks linked, the head replayed, the block list read
//! again, and all of it again when it changed (step 3 of the module doc of
//! [`super`]).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
#[cfg(feature = "failpoints")]
use std::time::Instant;

use super::link::{self, Method};
use super::{SnapBlock, SnapshotOptions, SnapshotReport};
use crate::error::{Error, Result};
use crate::format::meta::BlockMeta;
use crate::head::{self, Head};
use crate::layout;

/// How many times the blocks and the head are read at the most.
const MAX_READS: u32 = 8;

/// The blocks of one listing: `(ulid, dir, meta)`, compaction parents of
/// other blocks set apart.
pub(super) struct Listing {
    pub(super) blocks: Vec<(String, PathBuf, Option<BlockMeta>)>,
    pub(super) excluded: Vec<String>,
}

/// Lists DATA_DIR's blocks.
fn list_blocks(data_dir: &Path) -> Result<Listing> {
    let lay = layout::scan(data_dir)?;
    let mut all = Vec::new();
    for dir in &lay.blocks {
        let ulid = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let meta = crate::block::read_meta(dir).ok();
        all.push((ulid, dir.clone(), meta));
    }
    let parents: HashSet<String> = all
        .iter()
        .filter_map(|(_, _, m)| m.as_ref())
        .flat_map(|m| m.compaction.parents.iter().map(|p| p.ulid.clone()))
        .collect();
    let (excluded, blocks): (Vec<_>, Vec<_>) = all.into_iter().partition(|(u, _, m)| {
        parents.contains(u) || m.as_ref().is_some_and(|m| m.compaction.deletable)
    });
    Ok(Listing {
        blocks,
        excluded: excluded.into_iter().map(|(u, _, _)| u).collect(),
    })
}

/// What one consistent read took.
pub(super) struct Taken {
    /// The last listing, the one taken.
    pub(super) listing: Listing,
    /// The blocks linked or copied into the temporary directory, by ULID.
    pub(super) blocks: BTreeMap<String, SnapBlock>,
    /// The head replayed (`None` with skip_head or without `wal/`).
    pub(super) head: Option<Head>,
    /// The in-order blocks' greatest maxTime, the head's minValidTime.
    pub(super) min_valid_time: Option<i64>,
    /// Some block was copied, not linked.
    pub(super) link_fallback: bool,
}

/// Reads DATA_DIR's blocks into `tmp` and its head until both belong to the
/// same block list ([`MAX_READS`] times at the most); counts the rereads in
/// `report`.
pub(super) fn take(
    data_dir: &Path,
    tmp: &Path,
    opts: &SnapshotOptions,
    report: &mut SnapshotReport,
) -> Result<Taken> {
    let mut blocks: BTreeMap<String, SnapBlock> = BTreeMap::new();
    let mut link_fallback = false;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let last_try = attempt >= MAX_READS;
        let listing = list_blocks(data_dir)?;
        drop_gone(&mut blocks, &listing, tmp)?;
        let changed = link_new(&mut blocks, &listing, tmp, last_try, &mut link_fallback)?;
        if changed {
            report.rereads += 1;
            continue;
        }
        if attempt == 1 {
            test_pause("snapshot_blocks_taken");
        }
        let min_valid_time = min_valid_time(&listing);
        let mut head = None;
        if !opts.skip_head && data_dir.join("wal").is_dir() {
            match head::replay(data_dir, min_valid_time.unwrap_or(i64::MIN)) {
                Ok(h) => head = Some(h),
                Err(e) if head::vanished(&e) && !last_try => {
                    report.rereads += 1;
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        // Consistent if the block list did not change meanwhile.
        let again = list_blocks(data_dir)?;
        let same = again.blocks.len() == listing.blocks.len()
            && again
                .blocks
                .iter()
                .zip(&listing.blocks)
                .all(|(a, b)| a.0 == b.0);
        if !same && !last_try {
            report.rereads += 1;
            continue;
        }
        if !same {
            report.notices.push(
                "the block list kept changing during 8 reads: the last one is taken as it was"
                    .into(),
            );
        }
        return Ok(Taken {
            listing,
            blocks,
            head,
            min_valid_time,
            link_fallback,
        });
    }
}

/// Drops from `tmp` the blocks gone from the listing (compacted away
/// meanwhile).
fn drop_gone(
    blocks: &mut BTreeMap<String, SnapBlock>,
    listing: &Listing,
    tmp: &Path,
) -> Result<()> {
    let keep: HashSet<&str> = listing.blocks.iter().map(|(u, _, _)| u.as_str()).collect();
    let gone: Vec<String> = blocks
        .keys()
        .filter(|u| !keep.contains(u.as_str()))
        .cloned()
        .collect();
    for u in gone {
        let d = tmp.join(&u);
        std::fs::remove_dir_all(&d).map_err(|e| Error::io(&d, e))?;
        blocks.remove(&u);
    }
    Ok(())
}

/// Links (or copies) into `tmp` the listed blocks not taken yet. True if
/// one vanished meanwhile (then the listing is read again, unless this is
/// the last try).
fn link_new(
    blocks: &mut BTreeMap<String, SnapBlock>,
    listing: &Listing,
    tmp: &Path,
    last_try: bool,
    link_fallback: &mut bool,
) -> Result<bool> {
    let mut changed = false;
    for (ulid, dir, meta) in &listing.blocks {
        if blocks.contains_key(ulid) {
            continue;
        }
        let dst = tmp.join(ulid);
        match link::take_block(dir, &dst, true) {
            Ok((method, bytes)) => {
                if method == Method::Copy {
                    *link_fallback = true;
                }
                blocks.insert(
                    ulid.clone(),
                    SnapBlock {
                        ulid: ulid.clone(),
                        min_time: meta.as_ref().map(|m| m.min_time),
                        max_time: meta.as_ref().map(|m| m.max_time),
                        method,
                        bytes,
                    },
                );
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !last_try => {
                changed = true;
            }
            Err(e) => return Err(Error::io(dir, e)),
        }
    }
    Ok(changed)
}

/// The head's minValidTime: the in-order blocks' greatest maxTime.
fn min_valid_time(listing: &Listing) -> Option<i64> {
    listing
        .blocks
        .iter()
        .filter_map(|(_, _, m)| m.as_ref())
        .filter(|m| {
            !m.compaction
                .hints
                .iter()
                .any(|h| h.as_str() == "from-out-of-order")
        })
        .map(|m| m.max_time)
        .max()
}

/// Test hook, only in builds with the cargo feature `failpoints` (on under
/// `cargo test`; not an interface): with `PROMSNAP_TEST_PAUSE_AT` naming
/// `point` and `PROMSNAP_TEST_RESUME` a file path, prints `promsnap: test
/// pause at <point>` on stderr and waits until that file exists (60 s at
/// most), so that a test can change the data directory mid-read as a
/// running Prometheus would.
#[cfg(feature = "failpoints")]
fn test_pause(point: &str) {
    let named =
        std::env::var("PROMSNAP_TEST_PAUSE_AT").is_ok_and(|v| v.split(',').any(|p| p == point));
    let Some(resume) = std::env::var_os("PROMSNAP_TEST_RESUME") else {
        return;
    };
    if !named {
        return;
    }
    eprintln!("promsnap: test pause at {point}");
    let end = Instant::now() + std::time::Duration::from_secs(60);
    while !Path::new(&resume).exists() && Instant::now() < end {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Without the test hooks: never pauses.
#[cfg(not(feature = "failpoints"))]
fn test_pause(_point: &str) {}
