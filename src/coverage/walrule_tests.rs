//! Tests of the overtaking's dating by the `truncateWAL` rule (`walrule.rs`).
use super::*;
use crate::coverage::wal::tests::seg_range;
use crate::coverage::wal::{SegmentKind, SegmentRange, WalView, simulate_overtake};
use std::path::PathBuf;

const M: i64 = 60_000;

/// The truncation times of the operator replay's `up7m-r2` master (1 s
/// scrapes of itself, 1m blocks, started fresh): its ten level-1 blocks'
/// times (the first one 1.5 R after its first sample, then one a minute),
/// as the model places them, and the next forecast ones.
fn r2_truncations() -> Vec<i64> {
    let mut t = vec![1_796_617_488_123, 1_796_617_531_101];
    t.extend((0..10).map(|k| 1_796_617_591_123 + k * M));
    t
}

/// The reader's position in `up7m-r2`: stalled 14 s after the master's
/// first sample, in segment `00000000`.
const R2_POSITION: i64 = 1_796_617_405_092;

/// The `wal/` of `up7m-r2` as the operator copied it, 70 s after the slave
/// was up: `checkpoint.00000007` and segments 8–10 (their names, sample
/// ranges, sizes and the checkpoint's mtime as Prometheus 2.42 wrote them).
fn r2_late_copy() -> WalView {
    let s = |i: u32, min: i64, max: i64, size: u64, mtime: i64| SegmentRange {
        size,
        mtime: Some(mtime),
        ..seg_range(i, Some((min, max)))
    };
    WalView {
        dir: PathBuf::new(),
        observed_at: 1_796_618_027_092,
        observed_at_source: String::new(),
        segments: vec![
            s(
                8,
                1_796_617_892_092,
                1_796_617_951_092,
                163_840,
                1_796_617_951_217,
            ),
            s(
                9,
                1_796_617_952_092,
                1_796_618_011_092,
                163_840,
                1_796_618_011_197,
            ),
            s(
                10,
                1_796_618_012_092,
                1_796_618_027_092,
                65_536,
                1_796_618_027_805,
            ),
        ],
        checkpoint: Some(SegmentRange {
            name: "checkpoint.00000007".into(),
            kind: SegmentKind::Checkpoint,
            size: 32_768,
            mtime: Some(1_796_618_011_206),
            ..seg_range(7, None)
        }),
        segment_size: crate::coverage::wal::DEFAULT_SEGMENT_SIZE,
        findings: vec![],
    }
}

/// The master's log says the checkpoint `first=0 last=1` (deleting
/// segment 1, the one after the reader's) came with the fourth truncation,
/// 04:27:31; the late copy's `checkpoint.00000007` replays to exactly that.
#[test]
fn late_copy_dates_the_overtaking_at_the_truncation_that_deleted_the_segment() {
    let d = date_by_rule(&r2_late_copy(), R2_POSITION, &r2_truncations(), Some(0));
    let d = d.expect("dated");
    assert_eq!(d.rank, 4);
    assert_eq!(d.at, 1_796_617_651_123);
    assert_eq!(d.reader_segment, 0);
    assert_eq!(d.histories, 1);
    assert!(!d.ambiguous);
}

/// Without the reader's segment, it follows from the count: ten
/// truncations after the position opened segments 1..=10.
#[test]
fn reader_segment_follows_from_the_truncations_after_the_position() {
    let d = date_by_rule(&r2_late_copy(), R2_POSITION, &r2_truncations(), None);
    let d = d.expect("dated");
    assert_eq!((d.reader_segment, d.rank), (0, 4));
}

/// The whole simulation on the late copy: overtaken at 04:27:31, before
/// the slave was up (04:32:37), not at the latest truncation before the
/// checkpoint's mtime (04:33:31, after it), which lost the L2 window.
#[test]
fn late_copy_overtaking_precedes_the_slave() {
    let o = simulate_overtake(
        &r2_late_copy(),
        R2_POSITION,
        &r2_truncations(),
        M,
        2_000,
        Some(0),
    );
    assert!(o.already);
    assert_eq!(o.overtaken_at, Some(1_796_617_651_123));
    assert!(
        o.why.contains("truncation 4 after the position"),
        "{}",
        o.why
    );
    assert!(o.overtaken_at < Some(1_796_617_957_000));
}

/// A copy whose checkpoint the replay does not reach (here the same copy
/// with `checkpoint.00000006`, as a checkpoint left by a failed deletion
/// would look): no history replays to it, and the earliest truncation the
/// rule allows is taken (never understating), said so.
#[test]
fn no_history_takes_the_earliest_the_rule_allows() {
    let mut wal = r2_late_copy();
    if let Some(c) = wal.checkpoint.as_mut() {
        c.index = 6;
        c.name = "checkpoint.00000006".into();
    }
    let d = date_by_rule(&wal, R2_POSITION, &r2_truncations(), Some(0)).expect("dated");
    assert_eq!(d.histories, 0);
    assert_eq!(d.rank, 4);
    let o = simulate_overtake(&wal, R2_POSITION, &r2_truncations(), M, 2_000, Some(0));
    assert!(
        o.why.contains("the earliest truncation the rule allows"),
        "{}",
        o.why
    );
}

/// The rule's own arithmetic, whatever the oldest segment was: the segment
/// after the reader's is deleted no earlier than the fourth truncation
/// after the reader's position (`m > rw` needs `L - 1 >= rw + 2`).
#[test]
fn the_rule_never_deletes_before_the_fourth_truncation() {
    for rw in 0..40 {
        for f0 in 0..=rw {
            let (k, _, _) = replay(rw, f0, 40);
            assert!(k.is_some_and(|k| k >= 4), "rw {rw} f0 {f0}: {k:?}");
        }
    }
}

/// The truncations the model places for the `s20k-busy` master (20 000
/// series scraped each second, 1m blocks, 10 MB segments, no compression,
/// started fresh): its first two level-1 blocks' times, then one a minute.
fn busy_truncations() -> Vec<i64> {
    let mut t = vec![1_796_444_526_491];
    t.extend((0..8).map(|k| 1_796_444_551_491 + k * M));
    t
}

/// The reader's position in `s20k-busy-overtaken` and `s20k-busy-soon`:
/// stalled at the master's first sample, in segment `00000000`.
const BUSY_POSITION: i64 = 1_796_444_435_455;

/// A live segment as a copy lists it: its sample range and size.
fn sized(i: u32, min: i64, max: i64, size: u64) -> SegmentRange {
    SegmentRange {
        size,
        ..seg_range(i, Some((min, max)))
    }
}

/// A `wal/` copy observed at `observed_at`: `segments` after
/// `checkpoint.<index>` of `size` bytes.
fn copy(observed_at: i64, segments: Vec<SegmentRange>, (index, size): (u32, u64)) -> WalView {
    WalView {
        dir: PathBuf::new(),
        observed_at,
        observed_at_source: String::new(),
        segments,
        checkpoint: Some(SegmentRange {
            name: format!("checkpoint.{index:08}"),
            kind: SegmentKind::Checkpoint,
            size,
            ..seg_range(index, None)
        }),
        segment_size: crate::coverage::wal::DEFAULT_SEGMENT_SIZE,
        findings: vec![],
    }
}

/// `s20k-busy`'s `wal/` as copied for its later slave (`s20k-busy-late6`),
/// 4m42s after `s20k-busy-overtaken`'s slave was up: `checkpoint.00000011`
/// and segments 12–14 (names, sample ranges and sizes as Prometheus 2.42
/// wrote them). Segment 12 is full (a page short of 10 MiB) and segment 13
/// starts 12 s before the next truncation: a size rotation.
fn busy_late_copy() -> WalView {
    copy(
        1_796_444_856_401,
        vec![
            sized(12, 1_796_444_794_470, 1_796_444_838_455, 10_452_992),
            sized(13, 1_796_444_839_455, 1_796_444_852_455, 3_276_800),
            sized(14, 1_796_444_853_472, 1_796_444_855_463, 695_631),
        ],
        (11, 1_540_096),
    )
}

/// The size replay on `s20k-busy`'s late copy dates the deletion of
/// segment 1 at the second truncation after the position (+22 s after the
/// coverage end), as the copy taken at `s20k-busy-overtaken`'s start shows
/// (checkpoint 1 and segment 2 live there): every rotation count the
/// ingest rate and the segment size allow that ends at the copy agrees.
#[test]
fn size_replay_dates_the_busy_late_copy_like_the_timely_copy() {
    let d = date_by_size(
        &busy_late_copy(),
        BUSY_POSITION,
        &busy_truncations(),
        0,
        (2_000, 15_000),
    );
    let d = d.expect("dated");
    assert_eq!((d.rank, d.at), (2, 1_796_444_551_491));
    assert!(d.histories > 0 && !d.ambiguous, "{d:?}");
    assert!(d.size_seen && !d.size_doubted, "{d:?}");
    assert_eq!(d.segment_size, 10_452_992);
}

/// The whole simulation on that copy: overtaken before `s20k-busy-overtaken`'s
/// slave was up (04:22:53.895, +44 s: an L2 loss), after
/// `s20k-busy-soon`'s (04:22:15.668, +6 s: no L2 loss), not at the latest
/// truncation before the copy (04:27:31, after both).
#[test]
fn busy_late_copy_overtaking_lies_between_the_two_slaves() {
    let o = simulate_overtake(
        &busy_late_copy(),
        BUSY_POSITION,
        &busy_truncations(),
        M,
        2_000,
        Some(0),
    );
    assert!(o.already);
    assert_eq!(o.overtaken_at, Some(1_796_444_551_491));
    assert!(o.overtaken_at > Some(1_796_444_535_668));
    assert!(o.overtaken_at < Some(1_796_444_573_895));
    assert!(
        o.why.contains("truncation 2 after the position"),
        "{}",
        o.why
    );
}

/// `s600-lag7s`'s late copy (an exporter stamping samples 7 s before its
/// scrape; 128 MiB segments, so rotations only at truncations): its
/// segments' first samples lie 6 s before the truncations that opened
/// them, which reads as a size rotation; that bound on the segment size
/// leaves no history ending at the copy and is dropped, and the replay
/// dates the deletion at the fourth truncation, as the timely copy does.
#[test]
fn a_lagging_timestamp_is_not_taken_for_a_size_rotation() {
    let wal = copy(
        1_796_499_634_617,
        vec![
            sized(2, 1_796_499_505_382, 1_796_499_571_377, 163_840),
            sized(3, 1_796_499_565_379, 1_796_499_631_377, 163_840),
            sized(4, 1_796_499_625_379, 1_796_499_634_377, 7_917),
        ],
        (1, 32_768),
    );
    let mut truncs = vec![1_796_499_473_381];
    truncs.extend((0..5).map(|k| 1_796_499_511_376 + k * M));
    let d = date_by_size(&wal, 1_796_499_389_377, &truncs, 0, (2_000, 15_000));
    let d = d.expect("dated");
    assert_eq!((d.rank, d.at), (4, 1_796_499_631_376));
    assert!(d.size_doubted && d.histories > 0, "{d:?}");
}

/// The segment limit the copies show: `s20k-busy`'s closed segment 12, a
/// page short of 10 MiB, marks rotations by size (the master ran with
/// `--storage.tsdb.wal-segment-size=10MB`), so rotations are forecast at
/// 10 MiB, not at the 128 MiB default; the quiet `r2` master's small
/// segments show none, and the default stays.
#[test]
fn the_segment_limit_is_the_size_rotated_segments() {
    let busy = busy_late_copy();
    assert_eq!(segment_limit(&busy), MIN_SEGMENT_SIZE);
    assert!(busy.segments[0].size >= full_segment(&busy));
    let quiet = r2_late_copy();
    assert_eq!(
        segment_limit(&quiet),
        crate::coverage::wal::DEFAULT_SEGMENT_SIZE
    );
    assert!(quiet.segments.iter().all(|s| s.size < full_segment(&quiet)));
}

/// `s20k-busy`'s copy grows about 250 kB/s: 1.5 truncation intervals fill
/// a 10 MB segment, so segments a copy no longer holds may have rotated by
/// size; the quiet `r2` master's cannot.
#[test]
fn a_busy_wal_could_fill_the_smallest_segment_a_quiet_one_not() {
    assert!(could_fill_a_segment(&busy_late_copy(), &busy_truncations()));
    assert!(!could_fill_a_segment(&r2_late_copy(), &r2_truncations()));
    assert!(!could_fill_a_segment(&busy_late_copy(), &[]));
}

/// Round eight's `bl-restart-up`, the master's data dir after the run (no
/// log): the reader in segment 0 of a fresh master, checkpoint.00000003,
/// segment 4 opened by the truncation at 01:31:31.623 (0.3 s after the
/// slave's ready time), 5 by the master's restart 6 s after 4's last sample
/// (a SIGTERM 29 s after the ready time), 6 by the next truncation. Counted
/// as a size rotation, the restart's segment made the histories disagree
/// and the earliest (01:30:31.623, a minute early) was taken; as a process
/// start, the one history left dates the deletion of segment 1 at
/// 01:31:31.623, when it happened.
#[test]
fn a_restarts_segment_is_no_size_rotation() {
    let wal = copy(
        1_796_693_589_618,
        vec![
            sized(4, 1_796_693_492_618, 1_796_693_519_618, 98_304),
            sized(5, 1_796_693_525_618, 1_796_693_550_618, 65_536),
            sized(6, 1_796_693_551_618, 1_796_693_589_618, 98_304),
        ],
        (3, 32_768),
    );
    let mut truncs = vec![1_796_693_367_623, 1_796_693_371_622];
    truncs.extend((0..10).map(|k| 1_796_693_431_623 + k * M));
    let d = date_by_size(&wal, 1_796_693_284_618, &truncs, 0, (2_000, 15_000));
    let d = d.expect("dated");
    assert_eq!(d.at, 1_796_693_491_623, "{d:?}");
}
