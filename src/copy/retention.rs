//! Time and size retention as Prometheus applies them to a data directory
//! (docs/FORMAT.md §8): which copied blocks it would delete at once (refused) and
//! which target blocks the copy pushes out (noticed).

use std::path::Path;

use super::{
    Action, BlockFile, CopyOptions, DEFAULT_RETENTION_MS, PlannedBlock, Reason, TargetBlock,
    block_files,
};
use crate::check::FindingCode;
use crate::vocab::time as ts;

/// One block as Prometheus' retention sees it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Retained {
    pub(super) max_time: i64,
    /// Bytes Prometheus counts for the block ([`prometheus_block_size`]).
    pub(super) bytes: u64,
    /// A block this run copies (else one already in the target).
    pub(super) copied: bool,
}

/// The order Prometheus' retention walks blocks in: newest maxTime first.
/// Prometheus' sort leaves blocks with equal maxTime in no defined order;
/// here copied blocks come after target blocks among them, so that a copied
/// block Prometheus might delete is flagged.
fn newest_first(blocks: &[Retained]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..blocks.len()).collect();
    order.sort_by_key(|&i| {
        blocks
            .get(i)
            .map(|b| (std::cmp::Reverse(b.max_time), b.copied))
    });
    order
}

/// Prometheus' time retention (`BeyondTimeRetention`, tsdb/db.go): with the
/// blocks sorted newest maxTime first, the first block whose maxTime is
/// `retention` or more (`>=`, Prometheus 2.52 and later; before 2.52 strictly
/// more) older than the newest block's is deleted, and every block after it.
/// The newest block itself is never deleted. `retention <= 0`: none.
/// Returns, per block of `blocks`, whether it is deleted.
pub(super) fn beyond_time_retention(blocks: &[Retained], retention: i64) -> Vec<bool> {
    let mut deleted = vec![false; blocks.len()];
    if retention <= 0 {
        return deleted;
    }
    let order = newest_first(blocks);
    let Some(newest) = order.first().and_then(|&i| blocks.get(i)) else {
        return deleted;
    };
    let newest = newest.max_time;
    let first = order.iter().enumerate().skip(1).find(|&(_, &i)| {
        blocks
            .get(i)
            .is_some_and(|b| newest.saturating_sub(b.max_time) >= retention)
    });
    if let Some((k, _)) = first {
        for &i in order.iter().skip(k) {
            if let Some(d) = deleted.get_mut(i) {
                *d = true;
            }
        }
    }
    deleted
}

/// Prometheus' size retention (`BeyondSizeRetention`, tsdb/db.go): starting
/// from the head's bytes (`wal/`, `wbl/`, `chunks_head/`), the blocks are
/// added newest maxTime first; the first block that brings the total over
/// `max_bytes` (strictly: a total equal to it is kept) is deleted, and every
/// block after it — the newest block included, if it alone exceeds the
/// budget. `max_bytes == 0`: none. Returns, per block, `Some(total)` (the
/// running total including it) if it is deleted.
pub(super) fn beyond_size_retention(
    blocks: &[Retained],
    head_bytes: u64,
    max_bytes: u64,
) -> Vec<Option<u64>> {
    let mut deleted = vec![None; blocks.len()];
    if max_bytes == 0 {
        return deleted;
    }
    let mut total = head_bytes;
    let mut over = false;
    for i in newest_first(blocks) {
        let Some(b) = blocks.get(i) else { continue };
        total = total.saturating_add(b.bytes);
        over = over || total > max_bytes;
        if over && let Some(d) = deleted.get_mut(i) {
            *d = Some(total);
        }
    }
    deleted
}

/// The bytes Prometheus counts as a block's size: its index, tombstones,
/// meta.json and chunk segment files (the files of `chunks/` named by a
/// decimal number); other files do not count.
pub(super) fn prometheus_block_size(files: &[BlockFile]) -> u64 {
    files
        .iter()
        .filter(|f| {
            let name = f.rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
            match f.rel.parent().and_then(|p| p.to_str()) {
                Some("") => matches!(name, "index" | "tombstones" | "meta.json"),
                Some("chunks") => is_chunk_segment_name(name),
                _ => false,
            }
        })
        .map(|f| f.size)
        .fold(0u64, u64::saturating_add)
}

/// A chunk segment file name: a decimal number (`strconv.ParseUint` in
/// Prometheus: digits only, no sign, fits 64 bits).
fn is_chunk_segment_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|c| c.is_ascii_digit()) && name.parse::<u64>().is_ok()
}

/// The target blocks Prometheus loads (those with a readable meta.json) and
/// the blocks still to be copied, for the retention rules; the second value
/// maps each entry back: `Ok(target index)` or `Err(copied block index)`.
/// Target blocks come first, in the same positions whatever `blocks` holds.
fn retained(
    blocks: &[PlannedBlock],
    target_blocks: &[TargetBlock],
    target_bytes: &[u64],
) -> (Vec<Retained>, Vec<std::result::Result<usize, usize>>) {
    let mut out = Vec::new();
    let mut from = Vec::new();
    for (i, t) in target_blocks.iter().enumerate() {
        let Some(m) = &t.meta else { continue };
        out.push(Retained {
            max_time: m.max_time,
            bytes: target_bytes.get(i).copied().unwrap_or(0),
            copied: false,
        });
        from.push(Ok(i));
    }
    for (i, b) in blocks.iter().enumerate() {
        if b.action != Action::Copy {
            continue;
        }
        let Some(m) = &b.meta else { continue };
        out.push(Retained {
            max_time: m.max_time,
            bytes: prometheus_block_size(&b.files),
            copied: true,
        });
        from.push(Err(i));
    }
    (out, from)
}

/// Time retention relative to the newest block (Prometheus' rule, see
/// [`beyond_time_retention`]): copied blocks deleted at once are refused;
/// target blocks pushed out are noticed.
pub(super) fn retention(
    blocks: &mut [PlannedBlock],
    target_blocks: &[TargetBlock],
    opts: &CopyOptions,
    notices: &mut Vec<Reason>,
) {
    // Prometheus applies its default time retention only when neither
    // retention flag is set.
    let size_set = opts.retention_size.is_some_and(|b| b > 0);
    let retention = match opts.retention {
        Some(r) => r,
        None if size_set => return,
        None => {
            notices.push(Reason::new(
                FindingCode::RetentionDefault,
                concat!(
                    "retention checked against Prometheus' default of 15d; give the ",
                    "target's retention, its --storage.tsdb.retention.time"
                ),
            ));
            DEFAULT_RETENTION_MS
        }
    };
    if retention <= 0 {
        return;
    }
    let (all, from) = retained(blocks, target_blocks, &[]);
    let deleted = beyond_time_retention(&all, retention);
    let newest = all.iter().map(|r| r.max_time).max().unwrap_or(i64::MIN);
    for (k, src) in from.iter().enumerate() {
        let (Err(i), Some(true)) = (src, deleted.get(k)) else {
            continue;
        };
        let Some(b) = blocks.get_mut(*i) else {
            continue;
        };
        let Some(max_time) = b.meta.as_ref().map(|m| m.max_time) else {
            continue;
        };
        let age = newest.saturating_sub(max_time);
        let how = if age == retention {
            "exactly"
        } else {
            "more than"
        };
        let mut msg = format!(
            concat!(
                "maxTime {} is {how} the retention of {} older than the newest ",
                "block's maxTime {}: Prometheus deletes it at once"
            ),
            ts(max_time),
            crate::gofmt::duration_ms(retention),
            ts(newest),
            how = how
        );
        if age == retention {
            msg.push_str(concat!(
                " (Prometheus 2.52 and later delete a block exactly at the limit; ",
                "earlier versions keep it)"
            ));
        }
        b.refuse(Reason::new(FindingCode::Retention, msg));
    }
    pushed_out_by_time(blocks, target_blocks, retention, notices);
}

/// Notices for the target blocks that the blocks still copied push out of
/// the time retention `retention`.
fn pushed_out_by_time(
    blocks: &[PlannedBlock],
    target_blocks: &[TargetBlock],
    retention: i64,
    notices: &mut Vec<Reason>,
) {
    let (before, _) = retained(&[], target_blocks, &[]);
    let deleted_before = beyond_time_retention(&before, retention);
    let (after, from) = retained(blocks, target_blocks, &[]);
    let deleted_after = beyond_time_retention(&after, retention);
    for (k, src) in from.iter().enumerate() {
        let Ok(ti) = src else { continue };
        let was = deleted_before.get(k).copied().unwrap_or(false);
        if was || !deleted_after.get(k).copied().unwrap_or(false) {
            continue;
        }
        let Some(t) = target_blocks.get(*ti) else {
            continue;
        };
        let Some(tm) = &t.meta else { continue };
        notices.push(Reason::new(
            FindingCode::DstRetention,
            format!(
                concat!(
                    "target block {} (maxTime {}) falls out of the retention of {} ",
                    "once the copied blocks are loaded: Prometheus will delete it"
                ),
                t.ulid,
                ts(tm.max_time),
                crate::gofmt::duration_ms(retention)
            ),
        ));
    }
}

/// The size of each target block as Prometheus counts it (0 for a block
/// without meta.json, and for one that cannot be read: with a notice).
fn target_sizes(dst: &Path, target_blocks: &[TargetBlock], notices: &mut Vec<Reason>) -> Vec<u64> {
    target_blocks
        .iter()
        .map(|t| {
            if t.meta.is_none() {
                return 0;
            }
            match block_files(&dst.join(&t.ulid)) {
                Ok(f) => prometheus_block_size(&f),
                Err(e) => {
                    notices.push(Reason::new(
                        FindingCode::Unreadable,
                        format!(
                            concat!(
                                "target block {}: its size cannot be read ({e}); size retention ",
                                "counts it as 0 bytes"
                            ),
                            t.ulid,
                            e = e
                        ),
                    ));
                    0
                }
            }
        })
        .collect()
}

/// Size retention (Prometheus' rule, see [`beyond_size_retention`]) with
/// `--retention-size`: copied blocks deleted at once are refused; target
/// blocks pushed out are noticed. The target's head is counted as it is on
/// disk now (it grows while Prometheus runs).
pub(super) fn size_retention(
    blocks: &mut [PlannedBlock],
    dst: &Path,
    target_blocks: &[TargetBlock],
    opts: &CopyOptions,
    notices: &mut Vec<Reason>,
) {
    let Some(max_bytes) = opts.retention_size.filter(|&b| b > 0) else {
        return;
    };
    let head_bytes = ["wal", "wbl", "chunks_head"]
        .iter()
        .map(|d| crate::fileutil::dir_size(&dst.join(d)))
        .fold(0u64, u64::saturating_add);
    let target_bytes = target_sizes(dst, target_blocks, notices);
    let size = |n: u64| crate::gofmt::base2_bytes(i64::try_from(n).unwrap_or(i64::MAX));
    let (all, from) = retained(blocks, target_blocks, &target_bytes);
    let deleted = beyond_size_retention(&all, head_bytes, max_bytes);
    for (k, src) in from.iter().enumerate() {
        let (Err(i), Some(Some(total))) = (src, deleted.get(k)) else {
            continue;
        };
        let Some(b) = blocks.get_mut(*i) else {
            continue;
        };
        let msg = format!(
            concat!(
                "the target's head ({} in wal/, wbl/, chunks_head/) and the blocks, ",
                "the target's and the copied, from the newest down to this one ",
                "(maxTime {}) take {}, more than the size retention of {}: Prometheus ",
                "deletes it at once"
            ),
            size(head_bytes),
            b.meta
                .as_ref()
                .map_or_else(|| "?".to_string(), |m| ts(m.max_time)),
            size(*total),
            size(max_bytes)
        );
        b.refuse(Reason::new(FindingCode::SizeRetention, msg));
    }
    // Target blocks pushed out by the blocks still copied.
    let (before, _) = retained(&[], target_blocks, &target_bytes);
    let deleted_before = beyond_size_retention(&before, head_bytes, max_bytes);
    let (after, from) = retained(blocks, target_blocks, &target_bytes);
    let deleted_after = beyond_size_retention(&after, head_bytes, max_bytes);
    for (k, src) in from.iter().enumerate() {
        let Ok(ti) = src else { continue };
        let was = deleted_before.get(k).copied().flatten().is_some();
        if was || deleted_after.get(k).copied().flatten().is_none() {
            continue;
        }
        let Some(t) = target_blocks.get(*ti) else {
            continue;
        };
        notices.push(Reason::new(
            FindingCode::DstSizeRetention,
            format!(
                concat!(
                    "target block {} ({}) falls beyond the size retention of {} once ",
                    "the copied blocks are loaded: Prometheus will delete it"
                ),
                t.ulid,
                size(target_bytes.get(*ti).copied().unwrap_or(0)),
                size(max_bytes)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::meta::BlockMeta;
    use std::path::PathBuf;

    const H: i64 = 3_600_000;

    fn r(max_time: i64, bytes: u64, copied: bool) -> Retained {
        Retained {
            max_time,
            bytes,
            copied,
        }
    }

    fn meta(ulid: &str, min_time: i64, max_time: i64) -> BlockMeta {
        BlockMeta {
            ulid: ulid.into(),
            min_time,
            max_time,
            stats: Default::default(),
            compaction: Default::default(),
            version: 1,
        }
    }

    fn planned(ulid: &str, min_time: i64, max_time: i64, bytes: u64) -> PlannedBlock {
        PlannedBlock {
            ulid: ulid.into(),
            src: PathBuf::from(ulid),
            meta: Some(meta(ulid, min_time, max_time)),
            files: vec![
                BlockFile {
                    rel: PathBuf::from("chunks/000001"),
                    size: bytes,
                },
                BlockFile {
                    rel: PathBuf::from("meta.json"),
                    size: 0,
                },
            ],
            bytes,
            action: Action::Copy,
            reasons: Vec::new(),
            warnings: Vec::new(),
            verified: false,
        }
    }

    fn target(ulid: &str, min_time: i64, max_time: i64) -> TargetBlock {
        TargetBlock {
            ulid: ulid.into(),
            meta: Some(meta(ulid, min_time, max_time)),
        }
    }

    fn codes(b: &PlannedBlock) -> Vec<&'static str> {
        b.reasons.iter().map(|r| r.code.as_str()).collect()
    }

    #[test]
    fn time_retention_boundary_is_inclusive_like_prometheus() {
        // Newest maxTime 100h, retention 10h: a block whose maxTime is
        // exactly 10h older is deleted (>=, Prometheus >= 2.52), one 1 ms
        // younger is kept.
        let blocks = [
            r(100 * H, 1, false),
            r(90 * H, 1, true),
            r(90 * H + 1, 1, true),
            r(50 * H, 1, false),
        ];
        assert_eq!(
            beyond_time_retention(&blocks, 10 * H),
            [false, true, false, true]
        );
        // 1 ms more retention keeps the boundary block.
        assert_eq!(
            beyond_time_retention(&blocks, 10 * H + 1),
            [false, false, false, true]
        );
        // No retention, no blocks.
        assert_eq!(beyond_time_retention(&blocks, 0), [false; 4]);
        assert!(beyond_time_retention(&[], 10 * H).is_empty());
    }

    #[test]
    fn the_newest_block_is_never_deleted_by_time() {
        // Equal newest maxTimes: none of them is older than the newest.
        let blocks = [r(5, 1, true), r(5, 1, false), r(4, 1, true)];
        assert_eq!(beyond_time_retention(&blocks, 1), [false, false, true]);
        // Extreme maxTimes do not overflow.
        let blocks = [r(i64::MAX, 1, false), r(i64::MIN, 1, true)];
        assert_eq!(beyond_time_retention(&blocks, H), [false, true]);
    }

    #[test]
    fn size_retention_counts_the_head_then_blocks_newest_first() {
        // Head 10 bytes; newest first: 40 (total 50), 30 (80), 20 (100), 5 (105).
        let blocks = [
            r(2 * H, 30, true),
            r(4 * H, 40, false),
            r(H, 20, false),
            r(0, 5, true),
        ];
        // A total equal to the limit is kept (>, not >=).
        assert_eq!(
            beyond_size_retention(&blocks, 10, 100),
            [None, None, None, Some(105)]
        );
        // One byte less: the 20-byte block brings the total over, it and
        // every older block go.
        assert_eq!(
            beyond_size_retention(&blocks, 10, 99),
            [None, None, Some(100), Some(105)]
        );
        // Once over, older blocks go even if they alone would fit.
        let blocks = [r(3, 50, false), r(2, 1000, false), r(1, 1, true)];
        assert_eq!(
            beyond_size_retention(&blocks, 0, 100),
            [None, Some(1050), Some(1051)]
        );
        // The newest block too, when the head and it exceed the limit.
        assert_eq!(
            beyond_size_retention(&[r(9, 60, true)], 50, 100),
            [Some(110)]
        );
        // No limit.
        assert_eq!(beyond_size_retention(&blocks, 10, 0), [None; 3]);
        // Saturating, never overflowing.
        assert_eq!(
            beyond_size_retention(&[r(1, u64::MAX, true)], u64::MAX, u64::MAX - 1),
            [Some(u64::MAX)]
        );
    }

    #[test]
    fn size_retention_ties_put_copied_blocks_last() {
        // Same maxTime: Prometheus' order is undefined; the copied block is
        // counted after the target block, so it is the one flagged.
        let blocks = [r(7, 60, true), r(7, 60, false)];
        assert_eq!(beyond_size_retention(&blocks, 0, 100), [Some(120), None]);
    }

    #[test]
    fn block_size_counts_what_prometheus_counts() {
        let f = |rel: &str, size| BlockFile {
            rel: PathBuf::from(rel),
            size,
        };
        let files = [
            f("chunks/000001", 1000),
            f("chunks/000002", 200),
            f("chunks/+3", 7),
            f("chunks/notes", 7),
            f("index", 30),
            f("tombstones", 4),
            f("extra.txt", 7),
            f("sub/index", 7),
            f("meta.json", 5),
        ];
        assert_eq!(prometheus_block_size(&files), 1239);
        assert!(is_chunk_segment_name("000001"));
        assert!(!is_chunk_segment_name("99999999999999999999999"));
        assert!(!is_chunk_segment_name(""));
    }

    #[test]
    fn retention_refuses_copied_blocks_at_the_exact_boundary() {
        let opts = CopyOptions {
            retention: Some(10 * H),
            ..CopyOptions::default()
        };
        let mut blocks = vec![
            planned("AT_LIMIT", 88 * H, 90 * H, 1),
            planned("INSIDE", 88 * H, 90 * H + 1, 1),
            planned("NEWEST", 98 * H, 100 * H, 1),
        ];
        let mut notices = Vec::new();
        retention(&mut blocks, &[], &opts, &mut notices);
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(codes(&blocks[0]), ["retention"]);
        let msg = &blocks[0].reasons[0].message;
        assert!(msg.contains("exactly") && msg.contains("2.52"), "{msg}");
        assert!(codes(&blocks[1]).is_empty());
        assert!(codes(&blocks[2]).is_empty());
        // A target block newer than everything copied sets the reference.
        let mut blocks = vec![planned("OLD", 0, 95 * H, 1)];
        let t = [target("T", 104 * H, 105 * H)];
        retention(&mut blocks, &t, &opts, &mut notices);
        assert_eq!(codes(&blocks[0]), ["retention"]);
        // A copied block newer than the target pushes target blocks out.
        let mut blocks = vec![planned("NEW", 118 * H, 120 * H, 1)];
        let mut notices = Vec::new();
        retention(&mut blocks, &t, &opts, &mut notices);
        assert!(codes(&blocks[0]).is_empty());
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0].code, "dst_retention");
        // Exactly at the boundary, the target block is pushed out too.
        let mut blocks = vec![planned("NEW", 114 * H, 115 * H, 1)];
        let mut notices = Vec::new();
        retention(&mut blocks, &t, &opts, &mut notices);
        assert_eq!(notices.len(), 1, "{notices:?}");
        let mut blocks = vec![planned("NEW", 114 * H, 115 * H - 1, 1)];
        let mut notices = Vec::new();
        retention(&mut blocks, &t, &opts, &mut notices);
        assert!(notices.is_empty(), "{notices:?}");
    }

    #[test]
    fn default_time_retention_only_without_a_size_retention() {
        let old = || {
            vec![
                planned("OLD", 0, H, 1),
                planned("NEW", 999 * H, 1000 * H, 1),
            ]
        };
        let mut blocks = old();
        let mut notices = Vec::new();
        retention(&mut blocks, &[], &CopyOptions::default(), &mut notices);
        assert_eq!(codes(&blocks[0]), ["retention"]);
        assert_eq!(notices[0].code, "retention_default");
        // With a size retention and no time retention, Prometheus applies
        // no time retention.
        let opts = CopyOptions {
            retention_size: Some(1 << 30),
            ..CopyOptions::default()
        };
        let mut blocks = old();
        let mut notices = Vec::new();
        retention(&mut blocks, &[], &opts, &mut notices);
        assert!(codes(&blocks[0]).is_empty());
        assert!(notices.is_empty());
        // A size of 0 is no size retention: the default applies again.
        let opts = CopyOptions {
            retention_size: Some(0),
            ..CopyOptions::default()
        };
        let mut blocks = old();
        retention(&mut blocks, &[], &opts, &mut notices);
        assert_eq!(codes(&blocks[0]), ["retention"]);
    }

    #[test]
    fn size_retention_refuses_copied_blocks_and_notices_pushed_out_targets() {
        let tmp = tempfile::tempdir().unwrap();
        let dst = tmp.path();
        // Target: one block of 300 bytes (files on disk), a head of 100 bytes.
        let tdir = dst.join("T");
        std::fs::create_dir_all(tdir.join("chunks")).unwrap();
        std::fs::write(tdir.join("chunks/000001"), vec![0u8; 290]).unwrap();
        std::fs::write(tdir.join("meta.json"), vec![b' '; 10]).unwrap();
        std::fs::create_dir_all(dst.join("wal/checkpoint.00000001")).unwrap();
        std::fs::write(dst.join("wal/00000002"), vec![0u8; 60]).unwrap();
        std::fs::write(dst.join("wal/checkpoint.00000001/00000000"), vec![0u8; 20]).unwrap();
        std::fs::create_dir_all(dst.join("chunks_head")).unwrap();
        std::fs::write(dst.join("chunks_head/000001"), vec![0u8; 20]).unwrap();
        let t = [target("T", 0, 10 * H)];
        let opts = |max| CopyOptions {
            retention_size: Some(max),
            ..CopyOptions::default()
        };
        // Newest first: NEW 500 (head 100 → 600), T 300 (900), OLD 200 (1100).
        let blocks = || {
            vec![
                planned("OLD", 0, 5 * H, 200),
                planned("NEW", 10 * H, 20 * H, 500),
            ]
        };
        // Everything fits exactly.
        let mut b = blocks();
        let mut notices = Vec::new();
        size_retention(&mut b, dst, &t, &opts(1100), &mut notices);
        assert!(b.iter().all(|b| b.action == Action::Copy));
        assert!(notices.is_empty(), "{notices:?}");
        // One byte less: OLD is deleted at once.
        let mut b = blocks();
        size_retention(&mut b, dst, &t, &opts(1099), &mut notices);
        assert_eq!(codes(&b[0]), ["size_retention"]);
        let msg = &b[0].reasons[0].message;
        assert!(msg.contains("100B") && msg.contains("1KiB76B"), "{msg}");
        assert!(codes(&b[1]).is_empty());
        assert!(notices.is_empty(), "{notices:?}");
        // 899: the target block is pushed out by NEW (it fitted before).
        let mut b = blocks();
        size_retention(&mut b, dst, &t, &opts(899), &mut notices);
        assert_eq!(codes(&b[0]), ["size_retention"]);
        assert!(codes(&b[1]).is_empty());
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0].code, "dst_size_retention");
        // 599: even the newest block goes.
        let mut b = blocks();
        let mut notices = Vec::new();
        size_retention(&mut b, dst, &t, &opts(599), &mut notices);
        assert_eq!(codes(&b[0]), ["size_retention"]);
        assert_eq!(codes(&b[1]), ["size_retention"]);
        // Nothing is copied, so the target block is as it was (deleted by
        // Prometheus anyway: 400 > 399 is not our doing).
        assert!(notices.is_empty(), "{notices:?}");
        // No size retention: nothing happens.
        let mut b = blocks();
        size_retention(&mut b, dst, &t, &CopyOptions::default(), &mut notices);
        assert!(b.iter().all(|b| b.action == Action::Copy));
    }
}
