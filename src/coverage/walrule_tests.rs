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
