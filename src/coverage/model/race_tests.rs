//! The reshard race rule (`race::reader_behind`) on recorded runs' logs:
//! the master's reshard line and the slave's refused requests as 2.42
//! wrote them.

use super::super::{ModelInput, SECOND};
use super::reader_behind;
use crate::coverage::masterlog::{self, Reshard};
use crate::coverage::slavelog;

/// The run's input as the judge gives it: the coverage end and the
/// slave's start from its record, the series its WAL holds, 2.42's queue
/// defaults with `min_shards` where the run set it, the slave's log.
fn input(c: i64, up: i64, series: u64, interval: i64, slave_log: &str) -> ModelInput {
    let mut inp = ModelInput::new(60 * SECOND, c, c - 60 * SECOND, c + 200);
    inp.series = Some(series);
    inp.scrape_interval = interval;
    inp.slave_up = Some(up);
    inp.targets = Some(1);
    inp.facts.slave_log = Some(slavelog::parse_bytes(slave_log.as_bytes()));
    inp
}

/// The first reshard the master's log shows after `up`.
pub(in crate::coverage::model) fn reshard(master_log: &str, up: i64) -> Reshard {
    masterlog::parse_bytes(master_log.as_bytes(), None)
        .first_reshard(up, i64::MAX)
        .unwrap()
}

/// `s450-2s-late6-up50`: the queue resharded 1 → 88 at 17:40:03.324, 4.2 s
/// after the slave first refused; the slave refused nothing between the
/// requests the stalled queue held (first samples up to 84 s before the
/// coverage end) and the reshard: the reader still asleep, the reshard
/// first. The run lost +2 … +64 s of every series.
#[test]
fn a_reader_asleep_at_the_reshard_puts_the_reshard_first() {
    let m = include_str!("../../../testdata/loss-runs/s450-2s-late6-up50/master-log.txt");
    let s = include_str!("../../../testdata/loss-runs/s450-2s-late6-up50/slave-log.txt");
    let (c, up) = (1_796_578_743_419, 1_796_578_794_829);
    let inp = input(c, up, 455, 2 * SECOND, s);
    let r = reshard(m, up);
    assert_eq!((r.from, r.to), (1, 88));
    let b = reader_behind(&inp, r).expect("the reshard came first");
    // The newest first sample refused by then, 84 s before the coverage
    // end; one shard of 455 series holds 3 999 samples, 9 scrapes.
    assert_eq!(c - b.refused, 84_001);
    assert_eq!(b.scrapes, 9);
    assert!(b.reader_at_most + 2 * SECOND <= c);
}

/// `s2400-min3-bsd10s-up45`: three shards, resharded 3 → 200 at
/// 17:49:56.041; the reader had woken (a refusal at 56.014) but the slave
/// had refused first samples only up to 91 s before the coverage end, and
/// three shards of 801 series hold 5 scrapes past that: the reader was
/// still behind, the reshard first (the run lost +1 … +41 s).
#[test]
fn a_woken_reader_far_behind_at_the_reshard_puts_the_reshard_first() {
    let m = include_str!("../../../testdata/loss-runs/s2400-min3-bsd10s-up45/master-log.txt");
    let s = include_str!("../../../testdata/loss-runs/s2400-min3-bsd10s-up45/slave-log.txt");
    let (c, up) = (1_796_579_345_859, 1_796_579_391_217);
    let mut inp = input(c, up, 2_405, SECOND, s);
    inp.queue.min_shards = 3;
    let r = reshard(m, up);
    assert_eq!((r.from, r.to), (3, 200));
    let b = reader_behind(&inp, r).expect("the reshard came first");
    assert_eq!(c - b.refused, 91_001);
    assert_eq!(b.scrapes, 5);
    // A queue holding a hundred times as much could have carried the
    // reader past the coverage end: the logs no longer order them.
    inp.queue.capacity = 250_000;
    assert_eq!(reader_behind(&inp, r), None);
}

/// `s450-2s-late6-up50-r2`: the 1 → 4 reshard at 18:08:07.898 came after
/// the slave had refused a request starting at the last scrape before the
/// coverage end: the reader may have passed it, the logs leave the order
/// open (the run lost the crossing batch only: the crossing came first).
/// Nor does a log that starts after the slave's start decide anything.
#[test]
fn a_reader_through_the_backlog_leaves_the_order_open() {
    let m = include_str!("../../../testdata/loss-runs/s450-2s-late6-up50-r2/master-log.txt");
    let s = include_str!("../../../testdata/loss-runs/s450-2s-late6-up50-r2/slave-log.txt");
    let (c, up) = (1_796_580_427_600, 1_796_580_479_045);
    let inp = input(c, up, 455, 2 * SECOND, s);
    let r = reshard(m, up);
    assert_eq!((r.from, r.to), (1, 4));
    assert_eq!(reader_behind(&inp, r), None);
    // The asleep run's reshard against its log without the slave's ready
    // line: the log then starts at the first refusal, after the start.
    let s = include_str!("../../../testdata/loss-runs/s450-2s-late6-up50/slave-log.txt");
    let m = include_str!("../../../testdata/loss-runs/s450-2s-late6-up50/master-log.txt");
    let (c, up) = (1_796_578_743_419, 1_796_578_794_829);
    let late: String = s
        .lines()
        .filter(|l| !l.contains("Server is ready"))
        .map(|l| format!("{l}\n"))
        .collect();
    let inp = input(c, up, 455, 2 * SECOND, &late);
    assert_eq!(reader_behind(&inp, reshard(m, up)), None);
}
