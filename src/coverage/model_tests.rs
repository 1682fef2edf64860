//! Tests of the loss-window calculator (`model.rs`).
use super::*;

const H: i64 = 3_600_000;
const M: i64 = MINUTE;
// A day on an even UTC hour, far from the epoch.
const DAY: i64 = 1_795_564_800_000; // 2026-11-25T00:00:00Z

fn seed(rw: Option<i64>, snap: i64, up: i64) -> ModelOutput {
    // Blocks every 2 h on even hours; head min 00:00; C_snap = snapshot.
    let mut inp = ModelInput::new(2 * H, snap, DAY, snap);
    inp.series = Some(100_000);
    inp.rw_start = rw;
    inp.slave_up = Some(up);
    compute(&inp)
}

#[test]
fn truncations_on_odd_hours() {
    let t = truncation_times(DAY, 2 * H, 0, DAY, 3);
    assert_eq!(t, vec![DAY + H, DAY + 3 * H, DAY + 5 * H]);
    // Unaligned fresh start at 00:30: first block written at 03:30, then 05:00.
    let t = truncation_times(DAY + 30 * M, 2 * H, 0, DAY, 2);
    assert_eq!(t, vec![DAY + 3 * H + 30 * M, DAY + 5 * H]);
    // A head min a few seconds past the grid is sample phase, not a fresh start.
    let t = truncation_times(DAY + 1_000, 2 * H, 0, DAY, 1);
    assert_eq!(t, vec![DAY + H]);
    let t = truncation_times(DAY, 2 * H, 0, DAY + 90 * M, 2);
    assert_eq!(t, vec![DAY + 3 * H, DAY + 5 * H]);
}

/// `s450-20s`'s grid: 1m blocks, a scrape every 20 s, the head's first
/// sample 11.6 s past the block boundary. Each head after a truncation starts
/// at the first scrape past its boundary, so every compaction comes that
/// phase after the aligned time, not only the first.
#[test]
fn truncations_keep_a_coarse_scrape_phase() {
    let b = DAY + 2 * M;
    let t = truncation_times_phased(b + 11_600, M, 10_000, b, 3, 20_000);
    assert_eq!(
        t,
        vec![
            b + 11_600 + 100_000,
            b + 11_600 + 160_000,
            b + 11_600 + 220_000
        ]
    );
    // 1 s scrapes: the head min 0.4 s past the boundary counts as aligned
    // (not a fresh start), and every compaction keeps that phase too.
    let t = truncation_times_phased(b + 400, M, 0, b, 2, 1_000);
    let aligned = truncation_times(b + 400, M, 0, b, 2);
    assert_eq!(t, aligned.iter().map(|x| x + 400).collect::<Vec<_>>());
}

/// The seed's question: "blocks every 2h; snapshot at 1h55m; slave up at
/// 2h01m — lost 5 minutes?" (docs/LOSS-WINDOWS.md).
#[test]
fn seed_question_snapshot_1h55_slave_2h01() {
    // A: remote write added at 02:50, snapshot at 02:55, slave up at 03:01.
    let out = seed(
        Some(DAY + 2 * H + 50 * M),
        DAY + 2 * H + 55 * M,
        DAY + 3 * H + M,
    );
    assert!(
        out.loss_windows
            .iter()
            .all(|w| matches!(w.cause, Cause::L3 | Cause::L4) && w.to - w.from < 20 * SECOND),
        "{:#?}",
        out.loss_windows
    );
    // The 03:00 truncation is survived (10 min < R/2); 05:00 overtakes.
    assert_eq!(out.deadline.at, DAY + 5 * H);
    assert!(out.verdict.unwrap().starts_with("No real loss"));

    // B: remote write added only when the slave is up: ≈ 6 min lost, not 5.
    let out = seed(Some(DAY + 3 * H + M), DAY + 2 * H + 55 * M, DAY + 3 * H + M);
    let l1: Vec<_> = out
        .loss_windows
        .iter()
        .filter(|w| w.cause == Cause::L1)
        .collect();
    assert_eq!(l1.len(), 1);
    assert_eq!(
        (l1[0].from, l1[0].to),
        (DAY + 2 * H + 55 * M, DAY + 3 * H + M)
    );

    // D: "1h55m" on the 2 h grid: snapshot 01:55, remote write 01:50,
    // slave 02:01. No compaction at 02:00; 03:00 is 70 min away: deadline.
    let out = seed(Some(DAY + H + 50 * M), DAY + H + 55 * M, DAY + 2 * H + M);
    assert_eq!(out.deadline.at, DAY + 3 * H);
    assert!(
        out.loss_windows
            .iter()
            .all(|w| matches!(w.cause, Cause::L3 | Cause::L4))
    );

    // E: remote write since 00:30: the 03:00 truncation overtakes (2h30 > 1h)
    // before the slave is up at 03:01: about 7 minutes lost.
    let out = seed(Some(DAY + 30 * M), DAY + 2 * H + 55 * M, DAY + 3 * H + M);
    let l2 = out
        .loss_windows
        .iter()
        .find(|w| w.cause == Cause::L2)
        .expect("L2");
    // From the master's first scrape after the coverage end (its last
    // sample 1 ms before it, 15 s scrapes): nothing lies between.
    assert_eq!(l2.from, DAY + 2 * H + 55 * M - 1 + 15 * SECOND);
    // The restart: after the retry backoff, the read of the rest of the
    // reader's segment (no WAL given: at most one block range of samples,
    // at the slowest reader speed), and the restart delay.
    assert_eq!(l2.to_earliest, Some(DAY + 3 * H + M + 5 * SECOND));
    assert!(l2.to > DAY + 3 * H + M + 10 * SECOND);
    assert_eq!(out.deadline.at, DAY + 3 * H);
}

/// The L2 end counts the read of the rest of the reader's segment from its
/// samples: more series, a later latest end; the earliest end (an instant
/// read) stays one restart delay after the slave is up.
#[test]
fn l2_end_grows_with_the_segment_samples() {
    let l2_of = |series: u64| {
        let mut inp = ModelInput::new(2 * H, DAY + 2 * H + 55 * M, DAY, DAY + 2 * H + 55 * M);
        inp.series = Some(series);
        inp.rw_start = Some(DAY + 30 * M);
        inp.slave_up = Some(DAY + 3 * H + M);
        compute(&inp)
            .loss_windows
            .into_iter()
            .find(|w| w.cause == Cause::L2)
            .expect("L2")
    };
    let (small, big) = (l2_of(100), l2_of(10_000));
    assert_eq!(small.to_earliest, big.to_earliest);
    assert!(big.to > small.to, "{small:?} {big:?}");
    // 100 series, one 2 h segment of 15 s scrapes: 48 100 samples, 4.8 s at
    // 10 000 samples/s, after the 5 s backoff, then the 5 s restart delay.
    let up = DAY + 3 * H + M;
    assert_eq!(small.to, up + 5 * SECOND + 4_810 + 5 * SECOND);
    let e = small.to_expected.expect("to_expected");
    assert!(small.to_earliest.unwrap() <= e && e <= small.to);
}

/// With the master's log holding the reader's restart (`error tailing WAL`,
/// then `Replaying WAL` after the watcher's 5 s wait), L2 ends at the
/// restart; an error logged before the slave is up is not that restart,
/// and without the lines the rule is the model's.
#[test]
fn l2_ends_at_the_restart_the_masters_log_shows() {
    use super::super::masterlog::{MasterLog, ReaderRestart, Refusal};
    let up = DAY + 3 * H + M;
    use super::super::slavelog::{Refused, SlaveLog};
    let l2_logs =
        |restarts: Vec<ReaderRestart>, refusals: Vec<Refusal>, slave: Option<SlaveLog>| {
            let mut inp = ModelInput::new(2 * H, DAY + 2 * H + 55 * M, DAY, DAY + 2 * H + 55 * M);
            inp.series = Some(10_000);
            inp.rw_start = Some(DAY + 30 * M);
            inp.slave_up = Some(up);
            inp.facts.master_log = Some(MasterLog {
                queue: Some("q".into()),
                reader_restarts: restarts,
                refusals,
                ..MasterLog::default()
            });
            inp.facts.slave_log = slave;
            compute(&inp)
                .loss_windows
                .into_iter()
                .find(|w| w.cause == Cause::L2)
                .expect("L2")
        };
    let l2_refused = |restarts, refusals| l2_logs(restarts, refusals, None);
    let l2_with = |restarts| l2_refused(restarts, Vec::new());
    let model = l2_with(Vec::new());
    let (error_at, replay_at) = (up + 7 * SECOND, up + 12 * SECOND + 2);
    let placed = l2_with(vec![ReaderRestart {
        error_at,
        replay_at: Some(replay_at),
    }]);
    assert_eq!(placed.from, model.from);
    assert_eq!(placed.to, replay_at);
    assert_eq!(placed.to_expected, Some(replay_at));
    assert_eq!(placed.to_earliest, Some(error_at + 5 * SECOND));
    assert!(placed.why.contains("error tailing WAL"), "{}", placed.why);
    // Requests refused from the restart on held the old segment's samples
    // still queued and the new ones batched with them: the loss reaches
    // the last of them within `batch_send_deadline` of the one before.
    let refusal = |at| Refusal { at, samples: 100 };
    let mixed = l2_refused(
        vec![ReaderRestart {
            error_at,
            replay_at: Some(replay_at),
        }],
        vec![
            refusal(replay_at - 100),
            refusal(replay_at + 300),
            refusal(replay_at + 4_000),
            refusal(replay_at + 20_000),
        ],
    );
    assert_eq!(mixed.to, replay_at + 4_000);
    assert_eq!(mixed.to_expected, Some(replay_at + 4_000));
    assert_eq!(mixed.to_earliest, Some(error_at + 5 * SECOND));
    // The master's log drops a refusal identical to one in the minute
    // before; the slave's log holds each refused request's answer.
    let slave = SlaveLog {
        refusals: vec![Refused {
            at: replay_at + 2_500,
            sample: DAY + 2 * H,
            series: None,
        }],
        ..SlaveLog::default()
    };
    let both = l2_logs(
        vec![ReaderRestart {
            error_at,
            replay_at: Some(replay_at),
        }],
        vec![refusal(replay_at + 300)],
        Some(slave),
    );
    assert_eq!(both.to, replay_at + 2_500);
    // Before the slave is up: not the restart after the overtaking.
    let early = l2_with(vec![ReaderRestart {
        error_at: up - SECOND,
        replay_at: Some(up + 4 * SECOND),
    }]);
    assert_eq!((early.to, early.to_expected), (model.to, model.to_expected));
    // An error without its replay in the log places nothing.
    let open = l2_with(vec![ReaderRestart {
        error_at,
        replay_at: None,
    }]);
    assert_eq!((open.to, open.to_expected), (model.to, model.to_expected));
}

/// A backlog longer than half the block range, sent on several shards, is
/// at risk of a lagging shard's batch being refused by the slave's
/// appendable min time: a risk window (never "No real loss"); a shorter
/// backlog carries no such risk.
#[test]
fn lagging_shard_risk_only_past_half_the_block_range() {
    let run = |up: i64| {
        let mut inp = ModelInput::new(2 * H, DAY + 2 * H + 55 * M, DAY, DAY + 2 * H + 55 * M);
        inp.series = Some(100_000);
        inp.rw_start = Some(DAY + 2 * H + 50 * M);
        inp.slave_up = Some(up);
        compute(&inp)
    };
    let short = run(DAY + 3 * H + M);
    assert!(
        short
            .loss_windows
            .iter()
            .all(|w| w.certainty != Certainty::Risk)
    );
    let long = run(DAY + 4 * H);
    let risk = long
        .loss_windows
        .iter()
        .find(|w| w.certainty == Certainty::Risk)
        .expect("a lagging-shard risk");
    assert_eq!(risk.cause, Cause::L3);
    assert_eq!((risk.from, risk.to), (DAY + 2 * H + 55 * M, DAY + 4 * H));
    assert!(risk.series.is_some_and(|n| n < 100_000));
    let v = long.verdict.expect("verdict");
    assert!(
        !v.starts_with("No real loss") && v.contains("at risk"),
        "{v}"
    );
}

#[test]
fn skip_head_loses_from_last_block() {
    // skip_head: C_snap = B_last = 00:00; remote write from the slave start.
    let mut inp = ModelInput::new(2 * H, DAY, DAY, DAY + 2 * H + 55 * M);
    inp.head_included = false;
    inp.rw_start = Some(DAY + 3 * H + M);
    inp.slave_up = Some(DAY + 3 * H + M);
    let out = compute(&inp);
    let l1 = &out.loss_windows[0];
    assert_eq!(l1.cause, Cause::L1);
    assert_eq!(l1.to - l1.from, 3 * H + M);
}

/// The stalled reader's drain of its segment after the slave is up goes as
/// fast as the shards send: `min_shards` until the queue's next reshard tick,
/// then the desired shards, which a long outage (counted in the first send)
/// drives to `max_shards`. A small rest is sent by one shard before the
/// tick; a busy master's 800 000 samples take the time to the tick and a
/// fraction of a second after it, not the 32 s one shard would need.
#[test]
fn l2_drain_speeds_up_at_the_reshard_tick() {
    let mut inp = ModelInput::new(M, DAY + 10 * M, DAY, DAY + 10 * M);
    inp.series = Some(9_000);
    inp.scrape_interval = SECOND;
    let st = queue::stall(&inp.queue, DAY, DAY + SECOND, 9_000, SECOND);
    // First successful send 3 s past a tick (ticks every 10 s from DAY).
    let r = DAY + 10 * M + 3 * SECOND;
    let per_ms = (queue::READ_RATE / 1000.0) as i64;
    let (small, n) = super::l2::expected_drain(&inp, &st, DAY, r, 10_000);
    assert_eq!((small, n), (10_000 / per_ms, inp.queue.min_shards));
    let (big, n) = super::l2::expected_drain(&inp, &st, DAY, r, 800_000);
    assert_eq!(n, inp.queue.max_shards);
    let before_tick = 7 * SECOND;
    let after = (800_000 - before_tick * per_ms) / (n as i64 * per_ms);
    assert_eq!(big, before_tick + after);
    assert!(big < 800_000 / per_ms);
}

/// `s2k-snap40`'s shape (1m blocks, 2 000 series at 1 s, remote write 170 s
/// before the snapshot, slave up 6 s after it): a reshard during the
/// catch-up is possible, no file decides it; the master's log does.
fn resharded(log: Option<super::super::masterlog::MasterLog>) -> (ModelOutput, i64) {
    let b = DAY + 10 * M;
    let c = b + 40 * SECOND;
    let mut inp = ModelInput::new(M, c, b, c + 500);
    inp.series = Some(2_005);
    inp.scrape_interval = SECOND;
    inp.rw_start = Some(c - 170 * SECOND);
    inp.first_sample = Some(c - 170 * SECOND);
    inp.slave_up = Some(c + 6 * SECOND);
    inp.targets = Some(1);
    inp.facts.master_log = log;
    (compute(&inp), c)
}

#[test]
fn resharded_catch_up_is_a_risk_without_the_log() {
    use super::super::masterlog::{MasterLog, Refusal, Reshard};
    let (out, c) = resharded(None);
    let risk: Vec<_> = out
        .loss_windows
        .iter()
        .filter(|w| w.cause == Cause::L3 && w.certainty == Certainty::Risk)
        .collect();
    assert_eq!(risk.len(), 1, "{:#?}", out.loss_windows);
    // Latest end: the slave's start + 2 × 5 s + 10 s + 5 s.
    assert_eq!(risk[0].to, c + 6 * SECOND + 25 * SECOND);
    assert!(risk[0].to_earliest.unwrap() < c + 10 * SECOND);
    assert!(
        out.assumptions
            .iter()
            .any(|a| a.contains("no master's log given"))
    );

    // The log: resharded 1 -> 200 at +9.2 s, refusals up to +16.1 s.
    let log = MasterLog {
        queue: Some("q".into()),
        reshards: vec![Reshard {
            at: c + 9_200,
            from: 1,
            to: 200,
        }],
        refusals: [7_900, 12_000, 16_100]
            .iter()
            .map(|&t| Refusal {
                at: c + t,
                samples: 500,
            })
            .collect(),
        ..Default::default()
    };
    let (out, c) = resharded(Some(log.clone()));
    let l3: Vec<_> = out
        .loss_windows
        .iter()
        .filter(|w| w.cause == Cause::L3)
        .collect();
    assert_eq!(l3.len(), 1, "{:#?}", out.loss_windows);
    assert_eq!(l3[0].certainty, Certainty::Expected);
    // 200 shards of 10 series: a batch spans 50 s, a queue 250 s (more
    // than half the 1m range): the reach is the catch-up's end.
    assert_eq!(l3[0].to, c + 31 * SECOND);
    assert!(l3[0].to_earliest.unwrap() < c + 10 * SECOND);
    assert!(l3[0].from <= c + SECOND);

    // No reshard in the catch-up, in a log that reaches past its latest
    // end: the crossing batch only, no risk.
    let quiet = MasterLog {
        reshards: vec![],
        extent: crate::coverage::masterlog::LogSpan {
            first_ts: Some(c - 200 * SECOND),
            last_ts: Some(c + 60 * SECOND),
            ..Default::default()
        },
        ..log
    };
    let (out, c) = resharded(Some(quiet));
    let l3: Vec<_> = out
        .loss_windows
        .iter()
        .filter(|w| w.cause == Cause::L3)
        .collect();
    assert_eq!(l3.len(), 1, "{:#?}", out.loss_windows);
    assert_eq!(l3[0].certainty, Certainty::Expected);
    // One shard's crossing batch: 500 of 2 005 samples, one scrape.
    assert!(l3[0].to < c + 2 * SECOND, "{:#?}", l3);
}

/// A log without a reshard that ends before the catch-up's latest end
/// (copied while the slave was catching up), or starts after the slave's
/// start, rules nothing out outside it: the risk stays, and the
/// assumptions say what the log covers.
#[test]
fn a_log_that_does_not_cover_the_catch_up_does_not_rule_out_a_reshard() {
    use super::super::masterlog::MasterLog;
    let (_, c) = resharded(None);
    let log = |first: i64, last: i64| MasterLog {
        queue: Some("q".into()),
        extent: crate::coverage::masterlog::LogSpan {
            first_ts: Some(c + first),
            last_ts: Some(c + last),
            ..Default::default()
        },
        ..Default::default()
    };
    let risk = |o: &ModelOutput| {
        o.loss_windows
            .iter()
            .filter(|w| w.cause == Cause::L3 && w.certainty == Certainty::Risk)
            .count()
    };
    // The latest end is +31 s (the slave's start + 2 × 5 s + 10 s + 5 s).
    let (short, _) = resharded(Some(log(-SECOND, 20 * SECOND)));
    assert_eq!(risk(&short), 1, "{:#?}", short.loss_windows);
    assert!(
        short
            .assumptions
            .iter()
            .any(|a| a.contains("not the whole catch-up")),
        "{:#?}",
        short.assumptions
    );
    let (long, _) = resharded(Some(log(-SECOND, 31 * SECOND)));
    assert_eq!(risk(&long), 0, "{:#?}", long.loss_windows);
    // A log that starts after the slave's start (+6 s) misses the first
    // ticks: the risk stays.
    let (late, _) = resharded(Some(log(7 * SECOND, 60 * SECOND)));
    assert_eq!(risk(&late), 1, "{:#?}", late.loss_windows);
}

/// `s4400-2m-up75`'s shape (2m master blocks, 4 405 series at 1 s, slave up
/// 75 s after the snapshot, the log's 1 -> 200 reshard at +80.3 s): the
/// slave's head refuses what lies more than half *its* block range behind
/// its newest sample. Taken as the master's (60 s) the far end is the
/// catch-up's end − 60 s + one batch; a 1m slave refuses from 30 s on, 30 s
/// further; without the slave's range the window carries the end for any
/// range as `bound_to`, and the assumptions say so.
#[test]
fn second_loss_far_end_follows_the_slaves_block_range() {
    use super::super::masterlog::{MasterLog, Reshard};
    let run = |slave_range: Option<i64>| {
        let b = DAY + 10 * M;
        let c = b + 112 * SECOND;
        let mut inp = ModelInput::new(2 * M, c, b, c + 300);
        inp.series = Some(4_405);
        inp.scrape_interval = SECOND;
        inp.rw_start = Some(c - 190 * SECOND);
        inp.first_sample = Some(c - 184 * SECOND);
        inp.slave_up = Some(c + 75 * SECOND);
        inp.targets = Some(1);
        inp.facts.slave_block_range = slave_range;
        inp.facts.master_log = Some(MasterLog {
            queue: Some("q".into()),
            reshards: vec![Reshard {
                at: c + 80_300,
                from: 1,
                to: 200,
            }],
            extent: crate::coverage::masterlog::LogSpan {
                first_ts: Some(c - 190 * SECOND),
                last_ts: Some(c + 160 * SECOND),
                ..Default::default()
            },
            ..Default::default()
        });
        let out = compute(&inp);
        let w = out
            .loss_windows
            .iter()
            .filter(|w| w.cause == Cause::L3 && w.certainty == Certainty::Expected)
            .max_by_key(|w| w.to)
            .cloned()
            .unwrap_or_else(|| panic!("{:#?}", out.loss_windows));
        (w, out.assumptions, c)
    };
    // The catch-up ends by up + 2 × 5 s + 10 s + 5 s = +100 s; 200 shards of
    // 22 series: one batch spans ⌈500 / 22⌉ = 23 scrapes.
    let (master, notes, c) = run(None);
    assert_eq!(master.to, c + 100 * SECOND - 60 * SECOND + 23 * SECOND);
    assert_eq!(master.bound_to, Some(c + 100 * SECOND));
    assert!(
        notes
            .iter()
            .any(|a| a.contains("slave's block range not given"))
    );
    // The window says so in its type, where it is built: read against half
    // the range, its bound the reach with any slave range.
    assert!(master.slave_range.half_range && master.slave_range.any_range);
    let (one_minute, notes, c) = run(Some(M));
    assert_eq!(one_minute.to, c + 100 * SECOND - 30 * SECOND + 23 * SECOND);
    assert_eq!(one_minute.bound_to, None);
    assert!(!notes.iter().any(|a| a.contains("block range not given")));
    assert!(one_minute.slave_range.half_range && !one_minute.slave_range.any_range);
    // A slave range as long as the master's: the master's reading, no bound.
    let (same, _, c) = run(Some(2 * M));
    assert_eq!(same.to, c + 63 * SECOND);
    assert_eq!(same.bound_to, None);
}

/// An expected boundary window longer than two scrape intervals (the new
/// shards' first batches after a reshard) is a loss in the headline, not
/// "No real loss beyond the boundary sliver"; one of two scrapes stays a
/// sliver.
#[test]
fn a_long_expected_boundary_window_is_a_loss_in_the_verdict() {
    let c = 1_000_000;
    let d = Deadline {
        at: c + 600_000,
        latest: c + 600_000,
        watcher_position: c,
        basis: "wal".into(),
        why: String::new(),
    };
    let window = |to| {
        vec![LossWindow::new(
            Cause::L3,
            c,
            to,
            Certainty::Expected,
            String::new(),
        )]
    };
    let long = super::verdict::verdict(&window(c + 18_000), c + 60_000, &d, c, 1_000);
    assert!(long.starts_with("Loss expected"), "{long}");
    let sliver = super::verdict::verdict(&window(c + 1_000), c + 60_000, &d, c, 1_000);
    assert!(
        sliver.starts_with("No real loss beyond the boundary sliver"),
        "{sliver}"
    );
}

/// `s1950-restart-up60`: the master was stopped (SIGTERM) 18.3 s after the
/// coverage end and was ready again 90 s later (its shutdown waited for
/// the queue's flush deadline, then it was killed); its WAL, copied when
/// the slave came up, holds no sample between its last scrape before the
/// stop and the restart (the new segment is empty). Given as its ready
/// time, L6 ends at that last scrape, the real loss's last sample (`gaps`:
/// +1.0 … +18.0 s); given as the stop, the same. A copy taken before the
/// restart shows no silence around it: the window stays as given.
#[test]
fn l6_given_at_the_ready_time_ends_at_the_masters_last_sample() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/loss-runs/s1950-restart-up60/master-wal");
    let (c, rw, up) = (1_796_545_874_003, 1_796_545_774_665, 1_796_545_982_700);
    let (stopped, ready, real_last) = (1_796_545_892_286, 1_796_545_982_492, 1_796_545_892_002);
    let mut inp = ModelInput::new(M, c, c - M, c);
    inp.wal = Some(crate::coverage::wal::read_wal(&dir, Some(1_796_545_982_596)).unwrap());
    for given in [ready, stopped] {
        let (l6, _) = causes::restart_windows(c, rw, Some(up), Some(0), &[given], &mut Vec::new());
        assert_eq!(l6.len(), 1);
        assert_eq!(l6[0].to, given);
        let cut = l6_stop::restart_silence(&inp, l6[0].clone(), &[]).unwrap();
        assert_eq!((cut.from, cut.to), (l6[0].from, real_last));
        assert!(cut.why.contains("its WAL shows no sample"), "{}", cut.why);
    }
    // Observed before the ready time: the WAL does not show the restart.
    inp.wal = Some(crate::coverage::wal::read_wal(&dir, Some(ready - 1_000)).unwrap());
    let (l6, _) = causes::restart_windows(c, rw, Some(up), Some(0), &[ready], &mut Vec::new());
    assert_eq!(
        l6_stop::restart_silence(&inp, l6[0].clone(), &[])
            .unwrap()
            .to,
        ready
    );
}

/// A remote write start given to the second, 300 ms before the coverage
/// end by its digits: the second reaches past the coverage end, so the
/// real start may be after it. An L1 risk to the second's end, with its
/// assumption; the same start to the millisecond makes none.
#[test]
fn a_start_to_the_second_straddling_the_coverage_end_is_an_l1_risk_to_its_end() {
    let c = DAY + 90 * M + 300;
    let mut inp = ModelInput::new(2 * H, c, DAY, c);
    inp.series = Some(1_000);
    inp.rw_start = Some(c - 300);
    inp.slave_up = Some(c + M);
    inp.facts.noted.rw_start = 1_000;
    let out = compute(&inp);
    let l1: Vec<&LossWindow> = out
        .loss_windows
        .iter()
        .filter(|w| w.cause == Cause::L1)
        .collect();
    assert_eq!(l1.len(), 1, "{:?}", out.loss_windows);
    assert_eq!(l1[0].certainty, Certainty::Risk);
    assert_eq!((l1[0].from, l1[0].to), (c, c - 300 + 999));
    assert!(
        out.assumptions
            .iter()
            .any(|a| a.contains("reaches past the coverage end")),
        "{:?}",
        out.assumptions
    );
    inp.facts.noted.rw_start = 1;
    let exact = compute(&inp);
    assert!(!exact.loss_windows.iter().any(|w| w.cause == Cause::L1));
}

/// A resharded catch-up's risk window that reaches past the expected
/// one-scrape sliver leads the verdict with both paths.
#[test]
fn a_reshard_risk_past_the_sliver_leads_with_both_paths() {
    let c = DAY + 90 * M;
    let sliver = LossWindow::new(
        Cause::L3,
        c + 1_000,
        c + 1_000,
        Certainty::Expected,
        String::new(),
    );
    let risk = LossWindow::new(
        Cause::L3,
        c + 1_000,
        c + 7 * M,
        Certainty::Risk,
        format!("{} (a race …)", reshard::RISK_LEAD),
    );
    let e = either(&[sliver.clone(), risk.clone()], c).unwrap();
    assert_eq!(
        (e.expected, e.up_to, e.up_to_end),
        (1, 7 * M - 1_000 + 1, c + 7 * M)
    );
    let d = Deadline {
        at: i64::MAX,
        latest: i64::MAX,
        watcher_position: c,
        basis: String::new(),
        why: String::new(),
    };
    let v = verdict::verdict(&[sliver.clone(), risk], c + M, &d, c, 1_000);
    assert!(
        v.starts_with("Loss either one scrape or up to 6m59.001s"),
        "{v}"
    );
    // Without the risk, no lead.
    assert!(either(&[sliver], c).is_none());
}

/// A recorded master's log (2.42, 1 m blocks, 1 s scrapes) whose queue's
/// reader failed at 16:29:57.701 (`error tailing WAL`) and started again
/// at 16:30:02.703, after the slave was up at 16:29:50.536: without the
/// master's WAL the L2 loss up to that restart is expected (what happened,
/// not a forecast), with or without the remote write start; without the
/// log it stays a risk.
#[test]
fn a_reader_restart_in_the_masters_log_makes_l2_expected_without_the_wal() {
    let log = include_bytes!("../../testdata/master-log/overtaken-after-up.log");
    let c = 1_796_660_376_445;
    let restart = 1_796_661_002_703;
    let l2 = |rw: Option<i64>, logged: bool| {
        let mut inp = ModelInput::new(M, c, 1_796_660_340_444, 1_796_660_377_000);
        inp.series = Some(417);
        inp.scrape_interval = 1_000;
        inp.first_sample = Some(1_796_660_189_444);
        inp.rw_start = rw;
        inp.slave_up = Some(1_796_660_990_536);
        if logged {
            inp.facts.master_log = Some(super::super::masterlog::parse_bytes(log, None));
        }
        compute(&inp)
            .loss_windows
            .into_iter()
            .filter(|w| w.cause == Cause::L2)
            .collect::<Vec<_>>()
    };
    for rw in [Some(1_796_660_184_000), None] {
        let w = l2(rw, true);
        let e = w.iter().find(|w| w.certainty == Certainty::Expected);
        let e = e.unwrap_or_else(|| panic!("{rw:?}: {w:?}"));
        assert_eq!(e.to, restart, "{rw:?}");
        assert!(e.why.contains("error tailing WAL"), "{}", e.why);
        let w = l2(rw, false);
        assert!(w.iter().all(|w| w.certainty == Certainty::Risk), "{w:?}");
    }
}
