//! Tests of the queue model: 2.42's defaults, resharding, and the crossing
//! batch on one or several scrape grids.

use super::*;
use crate::coverage::scrapes::Schedule;

mod tests {
    use super::*;

    fn q242() -> Queue {
        QueueSettings::default().resolve(None, &mut Vec::new())
    }

    #[test]
    fn defaults_by_version() {
        let q = q242();
        assert_eq!(
            (q.max_samples_per_send, q.capacity, q.max_shards),
            (500, 2500, 200)
        );
        let v = Version::parse("2.44.0").unwrap();
        let q = QueueSettings::default().resolve(Some(v), &mut Vec::new());
        assert_eq!(
            (q.max_samples_per_send, q.capacity, q.max_shards),
            (2000, 10_000, 50)
        );
    }

    #[test]
    fn backoff_schedule() {
        let q = q242();
        // 30, 60, ..., 3840 ms, then every 5 s (+ drift).
        assert_eq!(next_retry(&q, 0, 1), 30 + ATTEMPT_DRIFT);
        let t = next_retry(&q, 0, 20_000);
        assert!((20_000..25_100).contains(&t), "{t}");
        // The reader: 5 ms doubling to 5 s.
        assert_eq!(next_wake(&q, 0, 1), 5);
        assert_eq!(next_wake(&q, 0, 5_116), 10_115);
    }

    /// A fresh master, ≈ 490 series, 1 s scrapes: the reader stalls about
    /// 7 scrapes after the first sample (500 + 2500 + 499 samples).
    #[test]
    fn stall_after_buffer() {
        let q = q242();
        let st = stall(&q, 0, 5_500, 493, 1_000);
        assert_eq!(st.first_send, 6_500 + READ_PERIOD);
        assert_eq!(st.buffered, 3_499);
        assert_eq!(st.position, 5_500 + 7_000);
    }

    /// Times read from a damaged WAL or log can sit at either end of i64,
    /// and flags can be huge: the stall, retry, wake and tick arithmetic
    /// saturates instead of overflowing.
    #[test]
    fn stall_and_schedules_saturate_on_extreme_times() {
        let mut q = q242();
        for (t_ws, first) in [(i64::MIN, i64::MAX), (i64::MAX, i64::MIN), (0, i64::MAX)] {
            let st = stall(&q, t_ws, first, u64::MAX, i64::MAX);
            assert!(st.first_send >= first.min(t_ws), "{st:?}");
            let _ = next_retry(&q, t_ws, first);
            let _ = next_wake(&q, t_ws, first);
            let _ = next_tick(t_ws, first);
        }
        q.max_samples_per_send = u64::MAX;
        q.capacity = u64::MAX;
        q.min_shards = u64::MAX;
        let st = stall(&q, 0, i64::MAX - 1, 1, 1);
        assert_eq!(st.position, i64::MAX);
    }
}

mod reshard_tests {
    use super::*;

    /// `ci-skiphead`'s shape: 505 series at 1 s, the reader stalled early,
    /// the slave up long after `C_snap`, the reshard tick before the reader
    /// wakes. The crossing batches start at the reader's stall position, so
    /// the expected end is one batch of the least-loaded shard after it, not
    /// a batch after `C_snap`.
    #[test]
    fn reshard_batches_start_at_the_reader() {
        let q = QueueSettings::default().resolve(None, &mut Vec::new());
        let st = stall(&q, 0, 5_000, 505, 1_000);
        // C_snap = the newest sample in the snapshot + 1 ms.
        let c = st.position + 20_001;
        let up = c + 78_000;
        // Queue start phase so that the tick after the first send comes
        // before the reader's wake-up.
        let cr = (0..10_000)
            .step_by(250)
            .map(|ws| crossing(&q, &st, ws, c, up, 505, 1_000, true, None))
            .find(|cr| cr.resharded)
            .expect("a resharded case");
        assert!(cr.shards >= 2);
        let per = 505 / cr.shards;
        let batch_end = st.position + 500_u64.div_ceil(per) as i64 * 1_000 - 1_000;
        assert!(
            (cr.point_end - batch_end).abs() <= 1_000,
            "{cr:?} vs a batch of {per} series from the reader: {batch_end}"
        );
        assert!(cr.earliest_end <= cr.point_end && cr.point_end <= cr.expected_end);
        // Starts at the first scrape after C_snap, not at C_snap.
        assert!(cr.start > c && cr.start <= c + 1_000, "{cr:?}");
    }

    /// A reshard tick within the phase uncertainty of the crossing: no file
    /// orders them, so the un-resharded sliver (lost on both paths) is given
    /// apart, starting where the resharded one starts and ending no later;
    /// a tick far from the crossing leaves nothing undecided.
    #[test]
    fn tick_at_the_crossing_is_undecided() {
        let q = QueueSettings::default().resolve(None, &mut Vec::new());
        let st = stall(&q, 0, 5_000, 505, 1_000);
        let c = st.position + 20_001;
        let up = c + 5_500;
        let all: Vec<Crossing> = (0..10_000)
            .step_by(50)
            .map(|ws| crossing(&q, &st, ws, c, up, 505, 1_000, true, None))
            .collect();
        let und: Vec<&Crossing> = all
            .iter()
            .filter(|cr| cr.undecided_short.is_some())
            .collect();
        assert!(!und.is_empty(), "no phase puts the tick at the crossing");
        for cr in &und {
            let (from, to, _) = cr.undecided_short.unwrap();
            assert!(cr.resharded, "{cr:?}");
            assert!(from <= to && to <= cr.expected_end, "{cr:?}");
            assert!(from >= c && from <= c + 1_000, "{cr:?}");
        }
        assert!(
            all.iter()
                .any(|cr| cr.resharded && cr.undecided_short.is_none()),
            "a tick far before the crossing is decided"
        );
    }

    /// The crossing's span runs from the reader's wake (a slave answering
    /// the refused backlog at once) to the modelled drain: a resharded case
    /// is decided only when the tick comes before that span; one inside it
    /// (after the wake) is undecided (issue 14, ninth pass).
    #[test]
    fn tick_after_the_wake_is_undecided() {
        let q = QueueSettings::default().resolve(None, &mut Vec::new());
        let st = stall(&q, 0, 5_000, 505, 1_000);
        // 300 s of backlog older than C_snap: a drain of 1.5 s at the
        // model's pace, longer than the phase uncertainty either side.
        let c = st.position + 300_001;
        let up = c + 5_500;
        let all: Vec<Crossing> = (0..10_000)
            .step_by(50)
            .map(|ws| crossing(&q, &st, ws, c, up, 505, 1_000, true, None))
            .collect();
        for cr in all.iter().filter(|cr| cr.resharded) {
            assert!(cr.cross_from <= cr.cross_to, "{cr:?}");
        }
        // The undecided phases span the drain too, not only the phase
        // uncertainty around the modelled crossing.
        let undecided = all
            .iter()
            .filter(|cr| cr.resharded && cr.undecided_short.is_some())
            .count() as i64;
        assert!(
            undecided * 50 > 2 * PHASE_UNCERTAINTY + 500,
            "{undecided} undecided phases of 50 ms"
        );
        assert!(
            all.iter()
                .any(|cr| cr.resharded && cr.undecided_short.is_none()),
            "a tick before the wake is decided"
        );
    }
}

mod flush_tests {
    use super::*;

    /// `s300-30s-2m`'s shape: 305 series every 30 s, the queue holding
    /// every sample up to `C_snap` when the slave comes up. Up 8 s after
    /// `C_snap`, the shard's deadline flushes the batch holding `C_snap`
    /// before the next scrape: no sliver. Up 53 s after it, the +30 s scrape
    /// is already queued and the count decides: it is lost.
    #[test]
    fn deadline_flush_before_the_next_scrape_loses_nothing() {
        let q = QueueSettings::default().resolve(None, &mut Vec::new());
        let st = stall(&q, 0, 500, 305, 30_000);
        let c = 500 + 6 * 30_000 + 1;
        let at = |up: i64| {
            (0..10_000)
                .step_by(500)
                .map(|ws| crossing(&q, &st, ws, c, up, 305, 30_000, true, None))
                .find(|cr| !cr.resharded)
                .expect("an un-resharded case")
        };
        let soon = at(c + 8_000);
        assert!(soon.expected_end < c, "{soon:?}");
        let later = at(c + 53_000);
        assert!(later.expected_end >= c + 29_999, "{later:?}");
    }
}

mod grid_tests {
    use super::*;

    /// Grids of `(interval, phase, series)`, every target scraped since the
    /// WAL's start.
    fn schedule(grids: &[(i64, i64, u64)]) -> Schedule {
        let grids = grids
            .iter()
            .map(
                |&(interval, phase, series)| crate::coverage::scrapes::ScrapeGrid {
                    interval,
                    phase,
                    series,
                    lag: 0,
                    first: i64::MIN,
                },
            )
            .collect();
        Schedule { grids }
    }

    /// `s600x2-1s5s`'s shape: 305 series every 1 s and 305 every 5 s on
    /// the same phase, one shard. The crossing batch ends where the samples
    /// counted scrape by scrape (a burst every fifth second) reach a batch
    /// boundary, and a batch ending inside one scrape loses part of its
    /// series.
    #[test]
    fn crossing_batch_cut_on_two_grids() {
        let q = QueueSettings::default().resolve(None, &mut Vec::new());
        let g = schedule(&[(1_000, 825, 305), (5_000, 825, 305)]);
        let st = stall(&q, 0, 5_825, 366, 1_000);
        for c in (95_826..105_826).step_by(1_000) {
            let cr = (0..10_000)
                .step_by(250)
                .map(|ws| crossing(&q, &st, ws, c, c + 5_500, 366, 1_000, true, Some(&g)))
                .find(|cr| !cr.resharded)
                .expect("an un-resharded case");
            // Scrape by scrape from the first sample.
            let (mut n, mut t) = (0u64, st.first_sample);
            let per = |t: i64| 305 + if (t - 825) % 5_000 == 0 { 305 } else { 0 };
            while t < c {
                n += per(t);
                t += 1_000;
            }
            let end = st.first_batch + (n - st.first_batch).div_ceil(500) * 500;
            let lost = end - n;
            let mut got = 0;
            let mut last = c - 1;
            while got < lost {
                got += per(t);
                last = t;
                t += 1_000;
            }
            if lost == 0 {
                assert!(cr.expected_end < c, "{c}: {cr:?}");
                continue;
            }
            assert_eq!(cr.expected_end, last, "{c}: {cr:?}");
            let one = lost <= per(c - 1 + 1_000 - (c - 1 - 825).rem_euclid(1_000));
            assert_eq!(cr.series.is_some(), one, "{c}: {cr:?}");
        }
    }

    /// `deb3t-30s-up7`'s shape: three targets every 5 s, 15 s and 30 s
    /// (the global interval), the queue resharding before the crossing. A
    /// series goes to shard `ref % n`, so every new shard's first batch
    /// holds series of every grid: the loss starts with the first sample
    /// after `C_snap` on any grid (the 5 s one's), not on the grid of the
    /// first sample read (the 30 s one's, up to 30 s later).
    #[test]
    fn resharded_loss_starts_on_the_finest_grid() {
        let q = QueueSettings::default().resolve(None, &mut Vec::new());
        let g = schedule(&[
            (5_000, 4_691, 578),
            (15_000, 2_836, 205),
            (30_000, 7_680, 537),
        ]);
        // The first sample read is the 30 s grid's.
        let st = stall(&q, 0, 7_680, 1_320, 30_000);
        for c in (100_000..160_000).step_by(7_000) {
            let (cr, plain) = (0..10_000)
                .step_by(250)
                .map(|ws| {
                    (
                        crossing(&q, &st, ws, c, c + 78_000, 1_320, 30_000, true, Some(&g)),
                        crossing(&q, &st, ws, c, c + 78_000, 1_320, 30_000, true, None),
                    )
                })
                .find(|(cr, _)| cr.resharded)
                .expect("a resharded case");
            let first = g.nth_sample_after(c - 1, 1).unwrap().0;
            assert_eq!(cr.start, first, "{c}: {cr:?}");
            assert!(first >= c && first < c + 5_000, "{c}: {first}");
            // One grid: its own next scrape.
            assert_eq!((plain.start - 7_680).rem_euclid(30_000), 0, "{plain:?}");
            assert!(plain.start >= c && plain.start < c + 30_000, "{plain:?}");
        }
    }

    /// `deb3t-15-10-skiphead-r2`'s shape: targets every 5 s, 10 s and 15 s,
    /// a `skip_head` coverage end (a block boundary, off every grid), one
    /// shard, no reshard before the crossing. The crossing batch holds the
    /// samples that follow, in WAL order, the last one read before
    /// `C_snap`: its loss starts with the first scrape after `C_snap` on any
    /// grid (not on the first sample's grid at the global interval), and it
    /// holds what the batch has left after the samples the reader forwarded
    /// before `C_snap`. Where the files count those (`Reads::before_c`: a
    /// target the grids project back before its first scrape), their count
    /// decides, not the grids'.
    #[test]
    fn short_crossing_starts_on_any_grid_and_counts_what_was_read() {
        let q = QueueSettings::default().resolve(None, &mut Vec::new());
        let g = schedule(&[
            (5_000, 607, 534),
            (10_000, 8_794, 305),
            (15_000, 3_153, 519),
        ]);
        let st = stall(&q, 0, 607, 840, 15_000);
        let mut checked = 0;
        for c in (60_000..600_000).step_by(60_000) {
            let projected = g.samples_between(st.first_sample, c - 1);
            // The grids' count, and one without the 15 s target's first
            // two scrapes (it came later).
            for before in [projected, projected - 2 * 519] {
                let reads = Reads {
                    series: 1_358,
                    unsent: 0,
                    before_c: (before != projected).then_some(before),
                    tick_late: 0,
                };
                let Some(cr) = (0..15_000)
                    .step_by(250)
                    .map(|ws| {
                        crossing_with_unsent(
                            &q,
                            &st,
                            ws,
                            c,
                            c + 5_500,
                            reads,
                            15_000,
                            true,
                            Some(&g),
                        )
                    })
                    .find(|cr| !cr.resharded)
                else {
                    continue;
                };
                // Batches of 500 after the first one, in WAL order.
                let end = st.first_batch + (before - st.first_batch).div_ceil(500) * 500;
                let lost = end - before;
                if lost == 0 {
                    assert!(cr.expected_end < c, "{c}: {cr:?}");
                    continue;
                }
                // The first scrape after C_snap is the 5 s grid's, within 5 s.
                let first = c + (607 - c).rem_euclid(5_000);
                assert_eq!(cr.start, first, "{c}: {cr:?}");
                // Scrape by scrape after C_snap until `lost` samples.
                let per = |t: i64| {
                    [
                        (5_000, 607, 534),
                        (10_000, 8_794, 305),
                        (15_000, 3_153, 519),
                    ]
                    .iter()
                    .filter(|(i, p, _)| (t - p).rem_euclid(*i) == 0)
                    .map(|x| x.2)
                    .sum::<u64>()
                };
                let (mut got, mut t) = (0, c);
                while got < lost {
                    got += per(t);
                    t += 1;
                }
                assert_eq!(cr.expected_end, t - 1, "{c}: {cr:?}");
                // Within less than the shortest interval each series once:
                // the lost samples are as many series.
                let once = t - 1 - first < 5_000;
                assert_eq!(cr.series, once.then_some(lost), "{c}: {cr:?}");
                checked += 1;
            }
        }
        assert!(checked >= 10, "{checked}");
    }

    /// One target (no grids): a master scraping itself grows its own series
    /// in its first minutes, so scrapes × today's series count overstates
    /// what the reader read before `C_snap`; when the snapshot's blocks
    /// hold that count (`before_c`), the crossing batch loses what is left
    /// of it after them: one scrape of that many series.
    #[test]
    fn one_grid_counts_what_the_blocks_hold_before_c() {
        let q = QueueSettings::default().resolve(None, &mut Vec::new());
        let st = stall(&q, 0, 594, 417, 1_000);
        let mut checked = 0;
        for c in (8_000..60_000).step_by(1_000) {
            let projected = 417 * ((c - 1 - 594) / 1_000 + 1) as u64;
            // Fewer series in the first scrapes than today.
            let before = projected - 40 * 5;
            let reads = Reads {
                series: 417,
                unsent: 0,
                before_c: Some(before),
                tick_late: 0,
            };
            let Some(cr) = (0..1_000)
                .step_by(50)
                .map(|ws| crossing_with_unsent(&q, &st, ws, c, c + 5_500, reads, 1_000, true, None))
                .find(|cr| !cr.resharded)
            else {
                continue;
            };
            let end = st.first_batch + (before - st.first_batch).div_ceil(500) * 500;
            let lost = end - before;
            if lost == 0 || lost >= 417 {
                continue;
            }
            assert_eq!(cr.series, Some(lost), "{c}: {cr:?}");
            checked += 1;
        }
        assert!(checked >= 3, "{checked}");
    }

    /// 2.42's desired-shards formula takes its input rate from `samplesIn`,
    /// which counts every sample the master appends — native histograms
    /// too, sent or not — while the queue sends only the floats without
    /// `send_native_histograms`: the same backlog then asks for more shards.
    #[test]
    fn unsent_histograms_raise_the_desired_shards() {
        let q = QueueSettings::default().resolve(None, &mut Vec::new());
        let st = stall(&q, 0, 5_000, 505, 1_000);
        let c = st.position + 20_001;
        let up = c + 78_000;
        let at = |unsent| {
            let reads = Reads {
                series: 505,
                unsent,
                before_c: None,
                tick_late: 0,
            };
            crossing_with_unsent(&q, &st, 0, c, up, reads, 1_000, true, None)
        };
        let (floats, all) = (at(0), at(505));
        assert_eq!(crossing(&q, &st, 0, c, up, 505, 1_000, true, None), floats);
        assert!(
            all.catch_up_shards > floats.catch_up_shards,
            "{floats:?} {all:?}"
        );
    }

    /// A master's first seconds: its rule group's two series (`ALERTS`,
    /// `ALERTS_FOR_STATE`) evaluated every second from 2.791 s, its two
    /// targets (1 073 series) first scraped at 5.809 s, the queue started at
    /// 0. 2.42's shard sends the first batch at its deadline tick (5 s) with
    /// the 6 samples read by then, not a full batch of 500: every later
    /// batch ends at 6 + k·500, and the crossing batch loses what is left of
    /// it after the samples read before `C_snap`.
    #[test]
    fn first_batch_is_what_the_deadline_tick_finds() {
        use crate::coverage::scrapes::ScrapeGrid;
        let q = QueueSettings::default().resolve(None, &mut Vec::new());
        let grid = |phase, series, first| ScrapeGrid {
            interval: 1_000,
            phase,
            series,
            lag: 0,
            first,
        };
        let g = |targets_from: i64| Schedule {
            grids: vec![
                grid(2_791, 2, 2_791),
                grid(targets_from, 1_073, targets_from),
            ],
        };
        let late = g(5_809);
        let read = |g: &Schedule| {
            let g = g.clone();
            move |t| g.samples_read(2_791, t)
        };
        let st = stall_read(&q, 0, 2_791, 1_075, 1_000, read(&late));
        assert_eq!((st.first_send, st.first_batch), (5_000, 6), "{st:?}");
        // Without the files' count: a full first batch.
        assert_eq!(stall(&q, 0, 2_791, 1_075, 1_000).first_batch, 500);
        // Targets scraped before the tick: full before it.
        let early = stall_read(&q, 0, 2_791, 1_075, 1_000, read(&g(3_809)));
        assert_eq!(early.first_batch, 500, "{early:?}");
        let mut checked = 0;
        for c in (60_000..600_000).step_by(60_000) {
            let Some(before) = late.samples_read(2_791, c - 1) else {
                panic!("no count from the first sample");
            };
            let reads = Reads {
                series: 1_075,
                unsent: 0,
                before_c: Some(before),
                tick_late: 0,
            };
            let Some(cr) = (0..15_000)
                .step_by(250)
                .map(|ws| {
                    crossing_with_unsent(&q, &st, ws, c, c + 5_500, reads, 1_000, true, Some(&late))
                })
                .find(|cr| !cr.resharded)
            else {
                continue;
            };
            let lost = 6 + (before - 6).div_ceil(500) * 500 - before;
            if lost > 0 {
                assert_eq!(cr.series, Some(lost), "{c}: {cr:?}");
                checked += 1;
            }
        }
        assert!(checked >= 5, "{checked}");
    }
}
