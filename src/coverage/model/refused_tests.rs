use super::super::{Cause, Certainty, ModelInput, ModelOutput, SECOND, compute};
use crate::coverage::slavelog::{Refused, SlaveLog};

const M: i64 = 60 * SECOND;
const DAY: i64 = 1_796_515_200_000;

/// 2 000 series at 1 s on 1m blocks, remote write long before the
/// snapshot, the slave up 6 s after it (the `s2k-snap40` shape).
pub(super) fn input(log: Option<SlaveLog>) -> (ModelInput, i64) {
    let b = DAY + 10 * M;
    let c = b + 40 * SECOND;
    let mut inp = ModelInput::new(M, c, b, c + 500);
    inp.series = Some(2_005);
    inp.scrape_interval = SECOND;
    inp.rw_start = Some(c - 170 * SECOND);
    inp.first_sample = Some(c - 170 * SECOND);
    inp.slave_up = Some(c + 6 * SECOND);
    inp.targets = Some(1);
    inp.facts.slave_log = log;
    (inp, c)
}

/// A log from `first` to `last` holding `refusals` (`(answered, sample)`).
pub(super) fn log(first: i64, last: i64, refusals: &[(i64, i64)]) -> SlaveLog {
    let mut l = SlaveLog {
        extent: crate::coverage::masterlog::LogSpan {
            first_ts: Some(first),
            last_ts: Some(last),
            ..Default::default()
        },
        refused: refusals.len() as u64,
        ..SlaveLog::default()
    };
    l.refusals = refusals
        .iter()
        .map(|&(at, sample)| Refused {
            at,
            sample,
            series: None,
        })
        .collect();
    l.sample_min = l.refusals.iter().map(|r| r.sample).min();
    l.sample_max = l.refusals.iter().map(|r| r.sample).max();
    l
}

fn l3(out: &ModelOutput) -> Vec<(i64, i64, Option<i64>, Certainty)> {
    out.loss_windows
        .iter()
        .filter(|w| w.cause == Cause::L3)
        .map(|w| (w.from, w.to, w.to_earliest, w.certainty))
        .collect()
}

/// Without the option nothing changes; with a log that shows no refusal
/// over the whole catch-up, no boundary window is left.
#[test]
fn a_quiet_log_over_the_catch_up_rules_out_the_boundary_loss() {
    let (inp, c) = input(None);
    let without = compute(&inp);
    assert!(!l3(&without).is_empty(), "{:#?}", without.loss_windows);
    let up = c + 6 * SECOND;
    let (inp, _) = input(Some(log(up - 100, up + 120 * SECOND, &[])));
    let out = compute(&inp);
    assert!(l3(&out).is_empty(), "{:#?}", out.loss_windows);
    let v = out.verdict.unwrap();
    assert!(v.contains("slave's log"), "{v}");
    assert!(v.contains("no refused request"), "{v}");
    // A log that ends before the catch-up's latest end narrows nothing.
    let (inp, _) = input(Some(log(up - 100, up + 2 * SECOND, &[])));
    let short = compute(&inp);
    assert_eq!(l3(&short), l3(&without));
    assert!(short.verdict.unwrap().contains("narrows nothing"));
    // Nor does one that starts after the slave's start.
    let (inp, _) = input(Some(log(up + 100, up + 120 * SECOND, &[])));
    assert_eq!(l3(&compute(&inp)), l3(&without));
}

/// Refused requests that start before the coverage end bound the boundary
/// loss's end: at most one batch span of a shard's series after their
/// start, and no later than their answer.
#[test]
fn the_crossing_ends_by_the_latest_refused_request() {
    let up = c0() + 6 * SECOND;
    let c = c0();
    // One shard (no master's log: max_shards 200 taken, ⌊2 005 / 200⌋ = 10
    // series a shard, 500 samples = 50 s): answered at +8 s, so by +8 s.
    let (inp, _) = input(Some(log(
        up - 100,
        up + 120 * SECOND,
        &[(c + 8 * SECOND, c - 5 * SECOND)],
    )));
    let out = compute(&inp);
    let w = l3(&out);
    assert!(!w.is_empty());
    assert!(w.iter().all(|&(_, to, _, _)| to <= c + 8 * SECOND), "{w:?}");
    // The same refusal answered much later ends by its batch span.
    let (inp, _) = input(Some(log(
        up - 100,
        up + 120 * SECOND,
        &[(c + 90 * SECOND, c - 45 * SECOND)],
    )));
    let out = compute(&inp);
    assert!(
        l3(&out)
            .iter()
            .all(|&(_, to, _, _)| to <= c - 45 * SECOND + 50 * SECOND),
        "{:?}",
        l3(&out)
    );
}

fn c0() -> i64 {
    DAY + 10 * M + 40 * SECOND
}

/// Refused requests that start after the coverage end are lost from their
/// start: two runs apart are two windows, each from its first start.
#[test]
fn refusals_after_the_coverage_end_are_runs_of_loss() {
    let c = c0();
    let up = c + 6 * SECOND;
    let mut inp = input(None).0;
    inp.queue.max_shards = 2_005 / 90;
    let far = [
        (c + 40 * SECOND, c + 12 * SECOND),
        (c + 40 * SECOND, c + 20 * SECOND),
        (c + 41 * SECOND, c + 25 * SECOND),
    ];
    inp.facts.slave_log = Some(log(up - 100, up + 120 * SECOND, &far));
    let out = compute(&inp);
    let runs = super::runs(&inp, inp.facts.slave_log.as_ref().unwrap());
    // 22 shards: 91 series a shard, 500 samples = 6 scrapes.
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(
        (runs[0].from, runs[0].last_start, runs[0].to),
        (c + 12 * SECOND, c + 12 * SECOND, c + 18 * SECOND)
    );
    assert_eq!(
        (runs[1].from, runs[1].last_start, runs[1].to),
        (c + 20 * SECOND, c + 25 * SECOND, c + 31 * SECOND)
    );
    let w = l3(&out);
    for r in &runs {
        assert!(
            w.iter()
                .any(|&(f, to, _, k)| f == r.from && to == r.to && k == Certainty::Expected),
            "{w:?}"
        );
    }
    assert!(out.verdict.unwrap().contains("lost after the coverage end"));
}

/// Each run is a window; the verdict names the first few and counts the
/// rest.
#[test]
fn many_runs_are_counted_in_the_verdict() {
    let c = c0();
    let up = c + 6 * SECOND;
    let mut inp = input(None).0;
    inp.queue.max_shards = 2_005 / 90;
    let far: Vec<(i64, i64)> = (0..8)
        .map(|k| (c + 200 * SECOND, c + (10 + 20 * k) * SECOND))
        .collect();
    inp.facts.slave_log = Some(log(up - 100, up + 300 * SECOND, &far));
    let out = compute(&inp);
    let added = l3(&out)
        .iter()
        .filter(|w| far.iter().any(|&(_, s)| s == w.0))
        .count();
    assert_eq!(added, 8);
    let v = out.verdict.unwrap();
    assert_eq!(v.matches("lost after the coverage end").count(), 5, "{v}");
    assert!(v.contains("and 3 more such run(s)"), "{v}");
}

/// A reshard's line comes before `shards.stop` flushes the old shards: a
/// request refused less than the flush deadline after a reshard down may
/// be one of theirs, its span that of the larger count (the
/// `s9k-q18k-ms90-up45-r2` shape: 9 005 series, 1 -> 90, then 90 -> 8
/// 0.4 s before the last refusal).
#[test]
fn a_refusal_just_after_a_reshard_down_spans_the_old_shards() {
    use crate::coverage::masterlog::{MasterLog, Reshard};
    let (mut inp, c) = input(None);
    inp.series = Some(9_005);
    let t = c + 60 * SECOND;
    inp.facts.master_log = Some(MasterLog {
        queue: Some("q".into()),
        reshards: vec![
            Reshard {
                at: t - 10 * SECOND,
                from: 1,
                to: 90,
            },
            Reshard {
                at: t,
                from: 90,
                to: 8,
            },
        ],
        ..Default::default()
    });
    let sample = c + 28 * SECOND;
    // 90 shards of 100 series: 500 samples span 5 scrapes.
    let end = |at| {
        super::request_end(
            &inp,
            &Refused {
                at,
                sample,
                series: None,
            },
        )
    };
    assert_eq!(end(t + 370), sample + 5 * SECOND);
    // Past the flush deadline only the 8 new shards send: 1 125 series a
    // shard, one scrape.
    assert_eq!(end(t + 61 * SECOND), sample + SECOND);
    // Before the reshard down, the 90 shards.
    assert_eq!(end(t - 100), sample + 5 * SECOND);
}

/// On several scrape grids a refused request's span counts each target's
/// series a shard (⌊series / shards⌋, the slowest shard's) at that
/// target's own interval: a shard holding series of targets slower than
/// the global interval fills its 500 samples over a longer span than the
/// global count gives (the `s7500x3-2s3s5s` shape). Where every target is
/// scraped at least as often as the global interval, the global count
/// stays the bound.
#[test]
fn a_refused_request_on_several_grids_spans_each_grids_own_interval() {
    use crate::coverage::scrapes::{Schedule, ScrapeGrid};
    let (mut inp, c) = input(None);
    let grid = |interval: i64, series: u64| ScrapeGrid {
        interval,
        phase: c - 40 * SECOND,
        series,
        lag: 0,
        first: i64::MIN,
    };
    // 400 series every 2 s and 1 000 every 5 s in 100 shards: 4 and 10 a
    // shard; the global interval 2 s, 14 series a shard by the old count.
    inp.series = Some(1_400);
    inp.scrape_interval = 2 * SECOND;
    inp.queue.max_shards = 100;
    inp.targets = Some(2);
    inp.scrape_grids = Some(Schedule {
        grids: vec![grid(2 * SECOND, 400), grid(5 * SECOND, 1_000)],
    });
    let sample = c + 10 * SECOND;
    let r = Refused {
        at: sample + 300 * SECOND,
        sample,
        series: None,
    };
    // Every 10 s a shard gets 5 × 4 + 2 × 10 = 40 samples: 480 by +120 s,
    // then +122 s (484), +124 s (488), +125 s (498), +126 s (502).
    assert_eq!(super::request_end(&inp, &r), sample + 126 * SECOND);
    // By the global interval alone: ⌈500 / 14⌉ = 36 scrapes of 2 s.
    inp.scrape_grids = None;
    assert_eq!(super::request_end(&inp, &r), sample + 72 * SECOND);
    // Targets faster than a 15 s global interval: the global count (36
    // scrapes of 15 s) is longer than the grids' and stays.
    inp.scrape_interval = 15 * SECOND;
    inp.scrape_grids = Some(Schedule {
        grids: vec![grid(5 * SECOND, 400), grid(5 * SECOND, 1_000)],
    });
    let r = Refused {
        at: sample + 900 * SECOND,
        sample,
        series: None,
    };
    assert_eq!(super::request_end(&inp, &r), sample + 36 * 15 * SECOND);
}

/// With a log of 2.42's own lines (every refusal names its series) the loss
/// from the coverage end ends with the requests that start by it and the
/// runs their spans reach; a later run is a window of its own. A log with a
/// line naming no series (a summary, which may have dropped refusals) keeps
/// the bound of the latest refused request (the `s1150-4s-skip-skiphead-r2`
/// shape: one shard's crossing requests, then the new shards' first batches
/// far after the coverage end).
#[test]
fn the_crossing_ends_with_its_own_requests_in_a_log_of_named_lines() {
    let c = c0();
    let up = c + 6 * SECOND;
    let run = |named: bool| {
        let (mut inp, _) = input(None);
        // One shard of 2 005 series: 500 samples within one scrape.
        inp.queue.max_shards = 1;
        let mut l = log(
            up - 100,
            up + 300 * SECOND,
            &[
                (c + 7 * SECOND, c - SECOND),
                (c + 200 * SECOND, c + 40 * SECOND),
            ],
        );
        for (k, r) in l.refusals.iter_mut().enumerate() {
            r.series = named.then_some(k as u64 + 1);
        }
        l.unnamed = if named { 0 } else { 2 };
        inp.facts.slave_log = Some(l);
        compute(&inp)
    };
    let named = run(true);
    let w = l3(&named);
    // The crossing: from the first scrape after the coverage end, by the
    // crossing request's end (c - 1 s + one scrape).
    let crossing: Vec<_> = w.iter().filter(|x| x.0 <= c + SECOND).collect();
    assert!(!crossing.is_empty(), "{w:?}");
    assert!(crossing.iter().all(|x| x.1 <= c), "{w:?}");
    // The later run stands as its own window.
    assert!(w.iter().any(|x| x.0 == c + 40 * SECOND), "{w:?}");
    // Summarized: the crossing window keeps the latest request's bound.
    let cut = run(false);
    let w = l3(&cut);
    assert!(w.iter().any(|x| x.0 <= c + SECOND && x.1 > c), "{w:?}");
}

/// A refused request whose series the master's WAL places ends at its
/// place among its shard's samples: ⌊(j + 500 − 1) / per⌋ scrapes after its
/// start, for every shard count the master's log allows, not at the
/// worst place's ⌈(500 − 1) / per⌉ (the `s4700-ms45-up57-r2` shape: 4 705
/// series in one record in ref order, 1 -> 45 shards, a crossing request
/// starting at ref 446, the 10th of its shard's 104 samples: +2 scrapes
/// from its start plus 2, not 3).
#[test]
fn a_placed_refusal_ends_at_its_place_among_its_shards_samples() {
    use crate::coverage::masterlog::{MasterLog, Reshard};
    use crate::coverage::places::Places;
    let (mut inp, c) = input(None);
    inp.series = Some(4_705);
    let t = c + 40 * SECOND;
    inp.facts.master_log = Some(MasterLog {
        queue: Some("q".into()),
        reshards: vec![Reshard {
            at: t,
            from: 1,
            to: 45,
        }],
        ..Default::default()
    });
    inp.series_places = Some(Places::of_record((1..=4_705).collect(), &[(7, 446)]));
    let sample = c - 2 * SECOND;
    let r = |at| Refused {
        at,
        sample,
        series: Some(7),
    };
    // Past the flush deadline only the 45 shards: ⌊(9 + 499) / 104⌋ = 4.
    assert_eq!(
        super::request_end(&inp, &r(t + 70 * SECOND)),
        sample + 4 * SECOND
    );
    // Not placed: ⌈500 / 104⌉ = 5 scrapes.
    let unplaced = Refused {
        series: None,
        ..r(t + 70 * SECOND)
    };
    assert_eq!(super::request_end(&inp, &unplaced), sample + 5 * SECOND);
    // Within the flush deadline the one old shard may have sent it too
    // (⌊(445 + 499) / 4 705⌋ = 0): the later of the two, 4 scrapes.
    assert_eq!(
        super::request_end(&inp, &r(t + 2 * SECOND)),
        sample + 4 * SECOND
    );
    // A record that is not a whole scrape of the target places nothing.
    inp.series_places = Some(Places::of_record((1..=100).collect(), &[(7, 46)]));
    assert_eq!(
        super::request_end(&inp, &r(t + 70 * SECOND)),
        sample + 5 * SECOND
    );
}
