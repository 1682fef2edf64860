//! The catch-up before a logged reshard (`caught_up::before_reshard`) on
//! recorded runs' logs: the master's reshard line and the slave's refused
//! requests as 2.42 wrote them.

use super::super::race::tests::reshard;
use super::super::{ModelInput, SECOND};
use super::before_reshard;
use crate::coverage::slavelog;

/// The run's input as the judge gives it: the slave's start from its
/// record, the series its master scrapes, one scrape interval, 2.42's
/// queue defaults, the slave's log.
fn input(up: i64, series: u64, interval: i64, slave_log: &str) -> ModelInput {
    let mut inp = ModelInput::new(60 * SECOND, up - 50 * SECOND, up - 110 * SECOND, up);
    inp.series = Some(series);
    inp.scrape_interval = interval;
    inp.slave_up = Some(up);
    inp.targets = Some(1);
    inp.facts.slave_log = Some(slavelog::parse_bytes(slave_log.as_bytes()));
    inp
}

/// `s350-3s-laterw-up50`: 24 refused requests from the slave's start to
/// 17:36:41.0, the last one's oldest sample 2.4 s before the coverage end;
/// the queue resharded 1 → 2 at 17:36:42.438. At the pace of those
/// refusals the samples up to the reshard went out before it: the reader
/// was at the present, and the run lost only the crossing batch (+3.0 s,
/// 285 series).
#[test]
fn a_reshard_after_the_backlog_is_placed_after_the_catch_up() {
    let m = include_str!("../../../testdata/loss-runs/s350-3s-laterw-up50/master-log.txt");
    let s = include_str!("../../../testdata/loss-runs/s350-3s-laterw-up50/slave-log.txt");
    let up = 1_796_578_595_245;
    let inp = input(up, 350, 3 * SECOND, s);
    let r = reshard(m, up);
    assert_eq!((r.from, r.to), (1, 2));
    let c = before_reshard(&inp, r, 350).expect("through before the reshard");
    assert_eq!(c.refused, 24);
    assert!(c.by <= r.at && c.last_at < c.by);
    // One request a scrape and a half of 350 series: the span from the
    // last refused one's oldest sample to the reshard, in requests.
    let scrapes = u64::try_from((r.at - c.last_sample) / (3 * SECOND) + 1).unwrap();
    assert_eq!(c.requests, (scrapes * 350).div_ceil(500));
    // A queue that held as many requests as the slave refused (capacity
    // 10 500: 21 batches in its channel, the batch it filled, the one it
    // sent and the one answered) shows no reading; one fewer does.
    let mut held = inp.clone();
    held.queue.capacity = 10_000;
    assert!(before_reshard(&held, r, 350).is_some());
    held.queue.capacity = 10_500;
    assert_eq!(before_reshard(&held, r, 350), None);
}

/// `deb10-ext-up13`: the queue resharded 1 → 21 at 00:23:55.462, 2 ms
/// after the slave had refused the seventh request: those were the ones
/// the stalled queue held (its channel of five batches, the batch it
/// filled and the one it sent), the reader still asleep. Nothing places
/// the reader: undecided (the run lost +4.8 … +19.5 s of every series).
#[test]
fn a_reshard_while_the_stalled_queue_drains_is_not_placed() {
    let m = include_str!("../../../testdata/loss-runs/deb10-ext-up13/master-log.txt");
    let s = include_str!("../../../testdata/loss-runs/deb10-ext-up13/slave-log.txt");
    let up = 1_796_603_030_787;
    let inp = input(up, 1_080, 10 * SECOND, s);
    let r = reshard(m, up);
    assert_eq!((r.from, r.to), (1, 21));
    assert_eq!(before_reshard(&inp, r, 1_080), None);
}

/// `s450-2s-late6-late6-r2`: 43 refusals before the 1 → 82 reshard, but a
/// backlog of minutes (the slave up after six truncations): at their pace
/// the reader was far from the present when the queue resharded (the run
/// lost +0.7 … +338.7 s).
#[test]
fn a_reshard_in_a_long_backlog_is_not_placed() {
    let m = include_str!("../../../testdata/loss-runs/s450-2s-late6-late6-r2/master-log.txt");
    let s = include_str!("../../../testdata/loss-runs/s450-2s-late6-late6-r2/slave-log.txt");
    let up = 1_796_580_756_901;
    let inp = input(up, 450, 2 * SECOND, s);
    let r = reshard(m, up);
    assert_eq!((r.from, r.to), (1, 82));
    assert_eq!(before_reshard(&inp, r, 450), None);
}

/// `deb10-tmo9-up43-r2`: a target answering 6–8.5 s late puts its samples
/// in the WAL after newer ones; the slave's refusals show it (a request
/// starting 4 s before the one refused ahead of it). The count in
/// timestamp order does not hold: undecided, though the reshard came 0.4 s
/// after the last refusal.
#[test]
fn samples_out_of_timestamp_order_leave_the_reshard_unplaced() {
    let m = include_str!("../../../testdata/loss-runs/deb10-tmo9-up43-r2/master-log.txt");
    let s = include_str!("../../../testdata/loss-runs/deb10-tmo9-up43-r2/slave-log.txt");
    let up = 1_796_604_191_242;
    let inp = input(up, 1_306, 10 * SECOND, s);
    let r = reshard(m, up);
    assert_eq!((r.from, r.to), (1, 2));
    let log = inp.facts.slave_log.as_ref().unwrap();
    assert!(log.refusals.windows(2).any(|p| p[1].sample < p[0].sample));
    assert_eq!(before_reshard(&inp, r, 1_306), None);
}
