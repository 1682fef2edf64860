use super::*;
use crate::coverage::causes::NativeHistograms;
use crate::coverage::snapshot::BlockSpan;

const R: i64 = 60_000;

fn block(min_time: i64, max_time: i64, num_samples: u64, num_series: u64) -> BlockSpan {
    BlockSpan {
        ulid: String::new(),
        min_time,
        max_time,
        level: 1,
        num_samples,
        num_series,
        head_block: false,
        in_order: true,
        created: None,
        bytes: 0,
    }
}

/// The operator's replay's master: 417 series scraped every second,
/// 1-minute blocks, started fresh at `m0` (off the grid), the reader stalled
/// 14 s after its first sample; truncations 1.5 R after it, then every R.
fn replay_master(series: u64) -> (ModelInput, i64, Vec<i64>) {
    let m0: i64 = 1_796_000_000_000 + 23_000;
    let grid = m0.div_euclid(R) * R;
    let c = grid + 2 * R;
    let mut inp = ModelInput::new(R, c, grid + R, c + 5_000);
    inp.first_sample = Some(m0);
    inp.series = Some(series);
    inp.blocks = vec![
        block(
            m0,
            grid + R,
            series * ((grid + R - m0) / 1_000) as u64,
            series,
        ),
        block(grid + R, c, series * 60, series),
    ];
    let first = m0 + R + R / 2;
    let truncs: Vec<i64> = (0..12).map(|k| first + k * R).collect();
    (inp, m0 + 14_000, truncs)
}

/// A small master's first truncations delete no segment: the deadline is
/// the fourth truncation after the position (a fresh master's reader in
/// segment 0, and the earliest of every history when the segment is not
/// known), where the high-volume rule names the first.
#[test]
fn a_small_master_is_overtaken_at_the_fourth_truncation_not_the_first() {
    let (inp, position, truncs) = replay_master(417);
    let (bytes, per_s) = segment_bytes_bound(&inp, R).unwrap();
    assert!(bytes < MIN_SEGMENT_SIZE, "{bytes}");
    assert!((per_s - 417.0).abs() < 1.0, "{per_s}");
    let (at, why) = deadline_by_rule(&inp, position, &truncs, R, 0, Some(0)).unwrap();
    assert_eq!(at, truncs[3]);
    assert!(why.contains("4th truncation"), "{why}");
    let (at, _) = deadline_by_rule(&inp, position, &truncs, R, 0, None).unwrap();
    assert_eq!(at, truncs[3]);
    // A truncation just before the position estimated may have come after
    // the stall: within the tolerance it counts, one truncation earlier.
    let (at, _) = deadline_by_rule(&inp, truncs[0] + 2_000, &truncs, R, 3_000, Some(0)).unwrap();
    assert_eq!(at, truncs[3]);
    let (at, _) = deadline_by_rule(&inp, truncs[0] + 2_000, &truncs, R, 1_000, Some(0)).unwrap();
    assert_eq!(at, truncs[4]);
    // Fewer truncations forecast than the rule needs: no deadline named.
    let (at, why) = deadline_by_rule(&inp, position, &truncs[..3], R, 0, Some(0)).unwrap();
    assert_eq!(at, i64::MAX);
    assert!(why.contains("none of the 3 truncations"), "{why}");
}

/// A master whose blocks show enough samples to fill 2.42's smallest
/// segment between two truncations may rotate by size: no rule deadline
/// (the high-volume rule holds); native histograms have no bound a sample.
#[test]
fn a_master_that_may_rotate_by_size_keeps_the_high_volume_rule() {
    let (inp, position, truncs) = replay_master(2_000);
    let (bytes, _) = segment_bytes_bound(&inp, R).unwrap();
    assert!(bytes >= MIN_SEGMENT_SIZE, "{bytes}");
    let why = deadline_by_rule(&inp, position, &truncs, R, 0, Some(0)).unwrap_err();
    assert!(why.contains("rotate a segment by size"), "{why}");
    let (mut inp, position, truncs) = replay_master(417);
    inp.native = Some(NativeHistograms {
        block: None,
        series: Some(1),
        samples: Some(10),
        wal_samples_after_coverage_end: None,
    });
    assert!(deadline_by_rule(&inp, position, &truncs, R, 0, Some(0)).is_err());
    let (mut inp, position, truncs) = replay_master(417);
    inp.blocks.clear();
    assert!(deadline_by_rule(&inp, position, &truncs, R, 0, Some(0)).is_err());
}

#[test]
fn ordinals() {
    let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(ordinal).to_vec();
    assert_eq!(
        got,
        [
            "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"
        ]
    );
}
