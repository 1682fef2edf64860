//! Tests of the WAL reading and the truncation simulation (`wal.rs`).
use super::*;

const M: i64 = 60_000;

fn seg(i: u32, min: i64, max: i64) -> SegmentRange {
    seg_range(i, Some((min, max)))
}

/// A sealed segment `i` of 1000 bytes whose samples span `range` (none:
/// no sample), its records whole: the segment every test here builds on.
pub(in crate::coverage) fn seg_range(i: u32, range: Option<(i64, i64)>) -> SegmentRange {
    SegmentRange {
        name: format!("{i:08}"),
        index: i,
        kind: SegmentKind::Segment,
        min_t: range.map(|r| r.0),
        max_t: range.map(|r| r.1),
        size: 1000,
        histogram_samples: 0,
        mtime: None,
        first_record_ok: true,
        last_record_ok: true,
        problem: None,
    }
}

/// A WAL observed at `observed_at` with `segments` and no checkpoint.
fn view(observed_at: i64, segments: Vec<SegmentRange>) -> WalView {
    WalView {
        dir: PathBuf::new(),
        observed_at,
        observed_at_source: String::new(),
        segments,
        checkpoint: None,
        segment_size: DEFAULT_SEGMENT_SIZE,
        findings: vec![],
    }
}

/// Low volume, R = 1 min: segments rotate only at truncations (:30).
/// Watcher stalled in segment 0: overtaken by the 4th truncation.
#[test]
fn low_volume_overtakes_at_fourth_truncation() {
    let t0 = 1_000 * M;
    let wal = view(
        t0 + 2 * M,
        vec![seg(0, t0, t0 + 90_000), seg(1, t0 + 90_000, t0 + 2 * M)],
    );
    // Truncations at t0+1.5m (past), 2.5m, 3.5m, 4.5m, 5.5m.
    let tr: Vec<i64> = (0..8).map(|k| t0 + 90_000 + k * M).collect();
    let o = simulate_overtake(&wal, t0 + 5_000, &tr, M, 2_000, None);
    assert_eq!(o.watcher_segment, Some(0));
    // Observed segments 0,1 active=1. 2.5m: [0,1]→2, last 0, m=0 skip.
    // 3.5m: [0,2]→3, last 1, m=0 skip. 4.5m: [0,3]→4, last 2, m=1 > 0 → overtaken.
    assert_eq!(o.overtaken_at, Some(t0 + 90_000 + 3 * M));
}

/// R = 1 min, truncations at :30 past each minute: segments 1 and 2 start
/// there; segment 3 starts at :10 after a 40 s gap: a restart.
#[test]
fn restart_hint_for_unexplained_segment_start() {
    let t0 = 1_000 * M;
    let wal = view(
        t0 + 5 * M,
        vec![
            seg(0, t0, t0 + 30_000),
            seg(1, t0 + 30_500, t0 + 90_000),
            seg(2, t0 + 90_400, t0 + 130_000),
            seg(3, t0 + 190_000, t0 + 4 * M),
        ],
    );
    // Phase: 1.5 R mod R = 30 s.
    let h = restart_hints(&wal, M, 0, 1_000, &[]);
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0].segment, "00000003");
    assert_eq!(h[0].at, t0 + 190_000);
    assert_eq!(h[0].gap, 60_000);
    // A full previous segment is a size rotation, not a restart.
    let mut full = wal.clone();
    full.segments[2].size = DEFAULT_SEGMENT_SIZE;
    assert!(restart_hints(&full, M, 0, 1_000, &[]).is_empty());
}

/// A busy master run with `--storage.tsdb.wal-segment-size=10MB` (the
/// sizes of `s20k-busy-soon`'s segments as 2.42 wrote them): segments 1 and
/// 2 open at size rotations, off the truncation grid, which the default
/// 128 MiB limit did not recognise (two false restart warnings). A closed
/// segment well short of the others still is no size rotation.
#[test]
fn size_rotations_of_a_10mb_segment_limit_are_no_restart() {
    let t0 = 1_000 * M;
    let mut wal = view(
        t0 + 3 * M,
        vec![
            seg(0, t0 + 13_000, t0 + 57_000),
            seg(1, t0 + 58_000, t0 + 102_000),
            seg(2, t0 + 103_000, t0 + 3 * M),
        ],
    );
    for (s, size) in wal
        .segments
        .iter_mut()
        .zip([10_354_688, 10_452_992, 2_097_152])
    {
        s.size = size;
    }
    assert!(restart_hints(&wal, M, 0, 1_000, &[]).is_empty());
    wal.segments[1].size = 4_000_000;
    let h = restart_hints(&wal, M, 0, 1_000, &[]);
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0].segment, "00000002");
}

/// A master started 11.6 s past a block boundary (R = 1 min, grid phase
/// :30) compacts its head first 1.5 R after its first sample, at :41.6, off
/// the grid; segment 1 opens there. Given that truncation (the model places
/// it, and the first block's ULID time records it), it is no restart hint;
/// without it, it is one. Segment 2 starts at a grid truncation either way.
#[test]
fn no_restart_hint_at_a_fresh_masters_first_truncation() {
    let t0 = 1_000 * M;
    let first = t0 + 11_594;
    let wal = view(
        t0 + 4 * M,
        vec![
            seg(0, first, first + 91_000),
            seg(1, first + 92_000, t0 + 150_594),
            seg(2, t0 + 151_594, t0 + 4 * M),
        ],
    );
    let first_truncation = first + 90_000 + 1_012;
    let h = restart_hints(&wal, M, 0, 1_000, &[]);
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0].segment, "00000001");
    assert!(restart_hints(&wal, M, 0, 1_000, &[first_truncation]).is_empty());
    // A segment far from every truncation, known or on the grid, stays one.
    let mut late = wal.clone();
    late.segments[1].min_t = Some(first + 110_000);
    let h = restart_hints(&late, M, 0, 1_000, &[first_truncation]);
    assert_eq!(h.len(), 1, "{h:?}");
}

/// Two truncations 3 s apart (a master started 52 s past a block
/// boundary: its first block holds 2.5 s, the second comes at the
/// boundary + 1.5 R), as in the recorded `ci-overtaken-p52`: the reader
/// stalled in segment 0, segment 1 lasted 3 s, and the checkpoint of
/// segments 0..1 deletes it: overtaken, though the first truncation after
/// the position lies within R/4 of the oldest live segment's start.
#[test]
fn two_truncations_seconds_apart_overtake_the_reader_in_segment_0() {
    let a = 1_000 * M;
    let (t1, t2) = (a + 148_500, a + 151_500);
    let mut wal = view(
        t2 + 2 * M + 3_000,
        vec![
            seg(2, t2 + 100, t2 + M),
            seg(3, t2 + M + 100, t2 + 2 * M),
            seg(4, t2 + 2 * M + 100, t2 + 2 * M + 3_000),
        ],
    );
    wal.checkpoint = Some(SegmentRange {
        name: "checkpoint.00000001".into(),
        index: 1,
        kind: SegmentKind::Checkpoint,
        ..seg(1, t1, t2)
    });
    let tr = [t1, t2, t2 + M, t2 + 2 * M, t2 + 3 * M];
    let pos = a + 59_500;
    // The segment numbers decide: segment 0, and segment 1 is gone.
    let o = simulate_overtake(&wal, pos, &tr, M, 2_000, Some(0));
    assert!(o.already && !o.undecided, "{o:?}");
    assert_eq!(o.overtaken_at, Some(t2 + 2 * M));
    // Without them the times cannot tell one Compact call from two:
    // taken as overtaken, and said to be undecided.
    let o = simulate_overtake(&wal, pos, &tr, M, 2_000, None);
    assert!(o.already && o.undecided, "{o:?}");
    // One truncation (one Compact call wrote both blocks): the reader's
    // segment is the last deleted one, its successor live.
    let o = simulate_overtake(&wal, pos, &tr, M, 2_000, Some(1));
    assert!(!o.already && o.overtaken_at.is_none(), "{o:?}");
    assert_eq!(o.watcher_segment, Some(1));
}

#[test]
fn already_overtaken_when_position_far_before_live_segments() {
    let t0 = 1_000 * M;
    let wal = view(
        t0 + 5 * M,
        vec![
            seg(2, t0 + 150_000, t0 + 210_000),
            seg(3, t0 + 210_000, t0 + 270_000),
            seg(4, t0 + 270_000, t0 + 5 * M),
        ],
    );
    let o = simulate_overtake(
        &wal,
        t0 + 5_000,
        &[t0 + 270_000, t0 + 330_000],
        M,
        2_000,
        None,
    );
    assert!(o.already);
    assert_eq!(o.overtaken_at, Some(t0 + 270_000));
    // In the last deleted segment: survives the next truncation.
    // Segments 2..4 start at truncations: the reader's segment (1) ended
    // at the one after its position (150 s), where the oldest live one
    // begins.
    let tr = [t0 + 150_000, t0 + 210_000, t0 + 270_000, t0 + 330_000];
    let o = simulate_overtake(&wal, t0 + 100_000, &tr, M, 2_000, None);
    assert!(!o.already);
    assert_eq!(o.watcher_segment, Some(1));
}

/// The same WAL copied 0.5 s after the 4.5m truncation opened segment 4,
/// before its checkpoint of segments 0–1 was written: that truncation is
/// under way and overtakes the reader in segment 0, not a later one.
#[test]
fn truncation_under_way_in_the_copy_still_deletes() {
    let t0 = 1_000 * M;
    let tc = t0 + 90_000 + 3 * M;
    let mut empty = seg(4, 0, 0);
    (empty.min_t, empty.max_t, empty.size) = (None, None, 0);
    let wal = view(
        tc + 500,
        vec![
            seg(0, t0, t0 + 90_000),
            seg(1, t0 + 90_000, t0 + 150_000),
            seg(2, t0 + 150_000, t0 + 210_000),
            seg(3, t0 + 210_000, tc),
            empty,
        ],
    );
    let tr: Vec<i64> = (0..8).map(|k| t0 + 90_000 + k * M).collect();
    let o = simulate_overtake(&wal, t0 + 5_000, &tr, M, 2_000, None);
    assert_eq!(o.watcher_segment, Some(0));
    assert_eq!(o.overtaken_at, Some(tc), "{}", o.why);
    // With its checkpoint written the truncation is done: the same answer
    // from the observed state (segments 0–1 gone) is the deleted branch's.
    let mut done = wal.clone();
    done.checkpoint = Some(SegmentRange {
        name: "checkpoint.00000001".into(),
        kind: SegmentKind::Checkpoint,
        ..seg(1, t0 + 90_000, t0 + 150_000)
    });
    assert!(truncation_under_way(&done, &tr, 0, 2_000).is_none());
}

/// A busy master whose segments are smaller than the size taken (10 MB
/// segments against the 128 MB default, as in the recorded `s15k-busy`):
/// the reader stalled in segment 0, and the copy, taken minutes later,
/// holds segments 4.. of which the oldest started at the first truncation
/// after the position. Four segments opened for one truncation: the WAL
/// rotated by size, no truncation can be told from another, and the
/// overtake is dated at the first truncation after the position, not the
/// last one before the copy (which would date it after a slave that came
/// up in between, and answer that nothing was lost).
#[test]
fn size_rotations_date_an_unplaceable_overtake_at_the_first_truncation() {
    let a = 1_000 * M;
    let pos = a + 5_000;
    let tr = [a + 96_000, a + 156_000, a + 216_000, a + 276_000];
    let mut wal = view(
        a + 290_000,
        vec![
            seg(4, a + 96_100, a + 155_000),
            seg(5, a + 156_100, a + 215_000),
            seg(6, a + 216_100, a + 275_000),
            seg(7, a + 276_100, a + 289_000),
        ],
    );
    wal.checkpoint = Some(SegmentRange {
        name: "checkpoint.00000003".into(),
        index: 3,
        kind: SegmentKind::Checkpoint,
        ..seg(3, a, a + 96_000)
    });
    let o = simulate_overtake(&wal, pos, &tr, M, 2_000, Some(0));
    assert!(o.already, "{o:?}");
    assert_eq!(o.overtaken_at, Some(tr[0]), "{o:?}");
    // (One segment opened per truncation keeps the latest truncation the
    // copy allows: two_truncations_seconds_apart_overtake_the_reader_in_segment_0.)
}

/// A recorded run's file.
fn recorded(run: &str, file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/loss-runs")
        .join(run)
        .join(file)
}

/// `s13k-busy-up23`: the busy master's `wal/` copied 23 s after the
/// snapshot (segments 0–3, no checkpoint), its reader stalled in segment 0
/// since the master's start. Its log shows the checkpoint of segments 0..1
/// (`Creating checkpoint` at 07:31:30.521, complete at 07:31:30.588): with
/// the log, that dates the overtaking, not the forecast replay.
#[test]
fn the_logged_checkpoint_dates_the_overtaking() {
    let observed = 1_796_628_649_737;
    let wal = read_wal(&recorded("s13k-busy-up23", "master-wal"), Some(observed)).unwrap();
    let data = std::fs::read(recorded("s13k-busy-up23", "master-log.txt")).unwrap();
    let log = crate::coverage::masterlog::parse_bytes(&data, None);
    let logged = LoggedWal::of(&log).unwrap();
    let position = 1_796_628_532_277;
    let tr: Vec<i64> = (0..6).map(|k| 1_796_628_690_000 + k * M).collect();
    let ms = |s| crate::vocab::parse_rfc3339_ms(s).unwrap();
    let o = simulate_overtake_with(&wal, position, &tr, (M, 2_000), Some(0), Some(logged), &[]);
    assert_eq!(o.watcher_segment, Some(0));
    assert_eq!(o.overtaken_at, Some(ms("2026-12-07T07:31:30.521Z")));
    assert!(!o.already);
    assert!(o.why.contains("00000000..00000001"), "{}", o.why);
    // Without it the replay takes a forecast truncation.
    let o = simulate_overtake(&wal, position, &tr, M, 2_000, Some(0));
    assert!(o.overtaken_at.is_some_and(|t| tr.contains(&t)), "{o:?}");
}

/// A log that reaches past a forecast truncation and shows no checkpoint
/// there: over its span only logged checkpoints delete segments, and the
/// `truncateWAL` replay resumes after its reach.
#[test]
fn no_logged_checkpoint_defers_the_overtaking_past_the_log() {
    let t0 = 1_000 * M;
    let wal = view(
        t0 + 2 * M,
        vec![seg(0, t0, t0 + 90_000), seg(1, t0 + 90_000, t0 + 2 * M)],
    );
    let tr: Vec<i64> = (0..8).map(|k| t0 + 90_000 + k * M).collect();
    // Without a log: the 4th truncation (t0 + 4.5 m) overtakes.
    let plain = simulate_overtake(&wal, t0 + 5_000, &tr, M, 2_000, None);
    assert_eq!(plain.overtaken_at, Some(t0 + 90_000 + 3 * M));
    // A log from t0 to t0 + 5 m with TSDB lines and no checkpoint.
    let line = |t: i64, msg: &str| {
        format!(
            "ts={} caller=head.go:1219 level=info component=tsdb msg=\"{msg}\" \
             caller=truncateMemory duration=1ms\n",
            crate::coverage::fmt_time(t)
        )
    };
    let text = line(t0, "Head GC completed") + &line(t0 + 5 * M, "Head GC completed");
    let log = crate::coverage::masterlog::parse_bytes(text.as_bytes(), None);
    let logged = LoggedWal::of(&log).unwrap();
    let o = simulate_overtake_with(&wal, t0 + 5_000, &tr, (M, 2_000), None, Some(logged), &[]);
    assert!(o.overtaken_at.is_some_and(|t| t > t0 + 5 * M), "{o:?}");
    assert!(
        o.why
            .contains("shows no checkpoint deleting segment 00000001"),
        "{}",
        o.why
    );
}

/// The copy taken 0.6 s after a truncation cut segment 9, before a scrape
/// reached it: segments 6–8 and an empty 9, the reader in 6, the segment
/// before 9 ending at the forecast truncation's scrape. 2.42 listed 6..8
/// before the cut: that truncation checkpoints nothing (6 + (7 − 6)·2/3 =
/// 6), the next one (listing 6..9) checkpoints 6..7 and overtakes the
/// reader. Read as there before it, 9 had moved the overtaking a minute
/// early. With a master restart given after 8's last sample (a process
/// start opens a segment too) the files cannot tell: the pessimistic
/// reading stays, and its why says so.
#[test]
fn an_empty_newest_segment_at_a_forecast_truncation_is_its_own_cut() {
    let t0 = 1_000 * M;
    let p = t0 + 3 * M;
    let mut empty = seg(9, 0, 0);
    (empty.min_t, empty.max_t, empty.size) = (None, None, 0);
    let wal = view(
        p,
        vec![
            seg(6, t0, t0 + M),
            seg(7, t0 + M, t0 + 2 * M),
            seg(8, t0 + 2 * M, p),
            empty,
        ],
    );
    let tr = [p + 19, p + 19 + M, p + 19 + 2 * M];
    let pos = t0 + 30_000;
    let o = simulate_overtake(&wal, pos, &tr, M, 2_000, None);
    assert_eq!(o.watcher_segment, Some(6));
    assert_eq!(o.overtaken_at, Some(tr[1]), "{}", o.why);
    assert!(o.why.contains("is the cut of the truncation"), "{}", o.why);
    // A restart given after 8's last sample: unsure, taken as there before.
    let r = simulate_overtake_with(&wal, pos, &tr, (M, 2_000), None, None, &[p + 500]);
    assert_eq!(r.overtaken_at, Some(tr[0]), "{}", r.why);
    assert!(r.why.contains("master restart given"), "{}", r.why);
    // 8 ending well before the truncation: nothing ties 9 to it.
    let far = [p + 5_000, p + 5_000 + M];
    let f = simulate_overtake(&wal, pos, &far, M, 2_000, None);
    assert_eq!(f.overtaken_at, Some(far[0]), "{}", f.why);
    assert!(!f.why.contains("cut"), "{}", f.why);
    // A truncation between 8's last sample and the observation made the
    // cut (past at the copy): the next one listed 9 already.
    let mut later = wal.clone();
    later.observed_at = p + 1_000;
    let tr = [p - 60_000, p + 2, p + 2 + M, p + 2 + 2 * M];
    let l = simulate_overtake(&later, pos, &tr, M, 2_000, None);
    assert_eq!(l.overtaken_at, Some(tr[2]), "{}", l.why);
    assert!(!l.why.contains("is the cut"), "{}", l.why);
}

/// After a master restart 2.42 compacted its head 6 s after the start
/// (segment 6 opens there, off the grid of :30) and again one minute
/// later (`db.run` tries a compaction one minute after the last one):
/// segment 7 opens 60 s after segment 6, also off the grid, at a
/// truncation and no restart. Segment 8 is back on the grid. One opening
/// 25 s after segment 6 is explained by neither and stays a hint.
#[test]
fn a_segment_a_minute_after_an_off_grid_one_is_the_compaction_timers() {
    let t0 = 1_000 * M;
    let s6 = t0 + 103_500;
    let wal = view(
        t0 + 4 * M,
        vec![
            seg(6, s6, s6 + 59_000),
            seg(7, s6 + 60_000, t0 + 210_000),
            seg(8, t0 + 210_500, t0 + 4 * M),
        ],
    );
    assert!(restart_hints(&wal, M, 0, 1_000, &[]).is_empty());
    let mut odd = wal.clone();
    odd.segments[0].max_t = Some(s6 + 24_000);
    odd.segments[1].min_t = Some(s6 + 25_000);
    let h = restart_hints(&odd, M, 0, 1_000, &[]);
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0].segment, "00000007");
}

/// `bl-restart` replayed with the copy taken at a head compaction
/// (`testdata/restart-cut`, docs/LOSS-WINDOWS.md, "A master restart
/// without the master's log"): the master restarted during the outage; its
/// `wal/` copied 0.16 s after the compaction at 19:23:31.1 cut segment 9
/// (thinned: names and sample ranges as 2.42 wrote them), 6–8 and 9 empty.
/// Its log holds the truth the copy cannot: that compaction checkpointed
/// nothing, the next one (19:24:31) segments 6..7. Forecast on the log's
/// compaction times without the log's checkpoints, the reader placed at
/// the restarted queue's start: the cut's truncation deletes nothing, the
/// next one is the deadline, as the log shows it; with the restart given
/// after 8's last sample the copy cannot tell, and the cut's one stays.
#[test]
fn the_recorded_copy_at_a_compaction_holds_the_truncations_own_cut() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/restart-cut");
    let wal = read_wal(&dir.join("wal"), None).unwrap();
    let text = std::fs::read(dir.join("master.log")).unwrap();
    let log = crate::coverage::masterlog::parse_bytes(&text, None);
    let tr: Vec<i64> = log.tsdb.head_compactions.iter().map(|c| c.at).collect();
    let pos = log.starts[1];
    let (last, empty) = (&wal.segments[2], &wal.segments[3]);
    assert_eq!((last.index, empty.index, empty.min_t), (8, 9, None));
    let cut = tr.iter().copied().find(|&t| t > wal.observed_at).unwrap();
    let next = tr.iter().copied().find(|&t| t > cut).unwrap();
    // The log: nothing checkpointed at the cut, 6..7 at the next one.
    assert!(
        log.tsdb
            .checkpoints
            .iter()
            .all(|c| (c.at - cut).abs() > M / 2)
    );
    let logged = log.tsdb.checkpoints.last().unwrap();
    assert!((logged.first, logged.last) == (6, 7) && logged.at - next < 1_000);
    let o = simulate_overtake(&wal, pos, &tr, M, 2_000, None);
    assert_eq!(o.overtaken_at, Some(next), "{}", o.why);
    assert!(o.why.contains("is the cut of the truncation"), "{}", o.why);
    let restart = last.max_t.unwrap();
    let r = simulate_overtake_with(&wal, pos, &tr, (M, 2_000), None, None, &[restart]);
    assert_eq!(r.overtaken_at, Some(cut), "{}", r.why);
    assert!(r.why.contains("never understating"), "{}", r.why);
}

/// The copy's empty newest segment read as the restarted master's: the
/// segment before it (opened by the truncation at +1:31.0, one sample at
/// +1:32.0) ends before the restart given; not with a truncation within a
/// scrape and a second after that last sample, nor a full-sized segment
/// before it, nor an observation time given, nor a restart before it.
#[test]
fn an_empty_newest_segment_after_the_stop_is_the_restarts() {
    let t0 = 1_000 * M;
    let (last, restart, tol) = (t0 + 92_000, t0 + 182_000, 2_000);
    let segs = || {
        vec![
            seg(0, t0, t0 + 71_000),
            seg(1, t0 + 72_000, t0 + 91_000),
            seg(2, last, last),
            seg_range(3, None),
        ]
    };
    let wal = view(last, segs());
    let tr = [t0 + 31_000, t0 + 91_000, t0 + 151_000];
    assert_eq!(walcut::restart_opened(&wal, &tr, tol, restart), Some(last));
    assert_eq!(walcut::restart_opened(&wal, &tr, tol, last), None);
    // A long segment before it, a truncation within `tol` of its end (after
    // or, forecast, 1 s before): perhaps its cut.
    let mut long = segs();
    long.remove(2);
    long[1].max_t = Some(last);
    long[2].index = 2;
    let wal2 = view(last, long);
    let at = [t0 + 31_000, last + 500];
    assert_eq!(walcut::restart_opened(&wal2, &at, tol, restart), None);
    assert_eq!(walcut::restart_opened(&wal2, &tr, tol, restart), None);
    let far = [t0 + 31_000, t0 + 151_000];
    assert_eq!(
        walcut::restart_opened(&wal2, &far, tol, restart),
        Some(last)
    );
    let mut full = segs();
    full[2].size = DEFAULT_SEGMENT_SIZE;
    assert_eq!(
        walcut::restart_opened(&view(last, full), &tr, tol, restart),
        None
    );
    let mut given = view(last, segs());
    given.observed_at_source = crate::coverage::walread::OBSERVED_GIVEN.into();
    assert_eq!(walcut::restart_opened(&given, &tr, tol, restart), None);
}
