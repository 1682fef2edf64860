//! The isolation race decided per target (`l4::isolation_race`) on its
//! edges: a scrape in flight at the head read, none, the jitter band, a
//! stopped target, one sample, one target, no tails at all.

use super::super::{Cause, Certainty, LossWindow, ModelInput, SECOND};
use super::{Fate, JITTER, fate, isolation_race};
use crate::coverage::uptail::UpTail;

/// The coverage end of these cases.
const C0: i64 = 1_796_590_600_001;

fn tail(job: &str, times: &[i64], series: u64) -> UpTail {
    UpTail {
        job: Some(job.into()),
        instance: Some(format!("127.0.0.1:{}", 9000 + job.len())),
        times: times.to_vec(),
        series,
        stale: false,
    }
}

/// `n` scrapes every `iv` ending at `last`.
fn grid(last: i64, iv: i64, n: i64) -> Vec<i64> {
    (0..n).rev().map(|k| last - k * iv).collect()
}

fn run(targets: Option<u64>, tails: Option<Vec<UpTail>>) -> (Vec<LossWindow>, Vec<String>) {
    let mut inp = ModelInput::new(60 * SECOND, C0, C0 - 60 * SECOND, C0 + 100);
    inp.scrape_interval = 15 * SECOND;
    inp.targets = targets;
    inp.up_tails = tails;
    let (mut w, mut a) = (Vec::new(), Vec::new());
    isolation_race(&inp, &mut w, &mut a);
    (w, a)
}

/// The Debian class: self-scrape every 5 s (its newest sample is the
/// coverage end's), node every 15 s whose next scrape (4 s before the
/// coverage end) is not in the block: that one scrape is lost, expected,
/// with node's series; the self-scrape loses nothing.
#[test]
fn a_scrape_stamped_before_the_coverage_end_and_missing_is_lost() {
    let node_next = C0 - 1 - 4 * SECOND;
    let tails = vec![
        tail("prometheus", &grid(C0 - 1, 5 * SECOND, 8), 700),
        tail("node", &grid(node_next - 15 * SECOND, 15 * SECOND, 5), 430),
    ];
    let (w, a) = run(Some(2), Some(tails));
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].cause, Cause::L4);
    assert_eq!(w[0].certainty, Certainty::Expected);
    assert!(w[0].from <= node_next && node_next <= w[0].to, "{w:?}");
    assert!(w[0].to - w[0].from <= 2 * JITTER);
    assert_eq!(w[0].series, Some(430));
    assert!(w[0].why.contains("node/"), "{}", w[0].why);
    assert!(a.iter().any(|s| s.contains("recording rules")), "{a:?}");
}

/// Every target's next scrape is stamped after the coverage end: no L4
/// window, an assumption that says why.
#[test]
fn next_scrapes_after_the_coverage_end_lose_nothing() {
    let tails = vec![
        tail("prometheus", &grid(C0 - 1, 5 * SECOND, 8), 700),
        tail("node", &grid(C0 - 1 - 3 * SECOND, 15 * SECOND, 8), 430),
    ];
    let (w, a) = run(Some(2), Some(tails));
    assert!(w.is_empty(), "{w:?}");
    assert!(
        a.iter()
            .any(|s| s.contains("2 target(s) whose next scrape")),
        "{a:?}"
    );
}

/// A next scrape within the jitter of the coverage end is undecided: a
/// bound over that one scrape for that target's series, not an expected
/// loss and not nothing; just outside the band both ways it is decided.
#[test]
fn a_next_scrape_in_the_jitter_band_is_a_bound() {
    let iv = 15 * SECOND;
    for (d, want) in [
        (-JITTER - 1, Some(Certainty::Expected)),
        (-JITTER, Some(Certainty::Bound)),
        (0, Some(Certainty::Bound)),
        (JITTER, Some(Certainty::Bound)),
        (JITTER + 1, None),
    ] {
        let next = C0 - 1 + d;
        let tails = vec![
            tail("prometheus", &grid(C0 - 1, 5 * SECOND, 8), 700),
            tail("node", &grid(next - iv, iv, 8), 430),
        ];
        let (w, _) = run(Some(2), Some(tails));
        assert_eq!(w.first().map(|w| w.certainty), want, "offset {d}: {w:?}");
        if let Some(w) = w.first() {
            assert!(w.from <= next && next <= w.to.max(next), "{w:?}");
            assert!(w.to < C0 && w.to - w.from <= 2 * JITTER, "{w:?}");
            assert_eq!(w.series, Some(430));
        }
    }
}

/// A target whose newest `up` is older than one interval plus the
/// timeout before the coverage end (stopped, or its commits failed) keeps
/// the bound over the last scrape interval, for its series only.
#[test]
fn a_stopped_target_keeps_the_bound() {
    let iv = 5 * SECOND;
    let tails = vec![
        tail("prometheus", &grid(C0 - 1, iv, 8), 700),
        tail("node", &grid(C0 - 1 - 2 * iv - JITTER - 1, iv, 8), 430),
    ];
    let (_, f) = fate(&tails[1], C0, 10 * SECOND);
    assert!(matches!(f, Fate::Unknown(_)), "{f:?}");
    let (w, _) = run(Some(2), Some(tails));
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].certainty, Certainty::Bound);
    assert_eq!((w[0].from, w[0].to), (C0 - 10 * SECOND, C0 - 1));
    assert_eq!(w[0].series, Some(430));
    // Just inside one interval plus its timeout (capped by the interval):
    // in flight.
    let t = tail("node", &grid(C0 - 1 - 2 * iv - JITTER, iv, 8), 430);
    assert!(matches!(fate(&t, C0, 10 * SECOND).1, Fate::InFlight(_)));
}

/// Tails that decide nothing (one `up` sample each: the judge's stand-in
/// for the runs recorded without tails) give today's answers exactly: the
/// bound over every series with several targets, the one-target
/// assumption with one.
#[test]
fn one_sample_tails_keep_todays_answers() {
    let one = |j: &str| tail(j, &[C0 - 60 * SECOND], 10);
    let (w, a) = run(Some(2), Some(vec![one("a"), one("b")]));
    let (w0, a0) = run(Some(2), None);
    assert_eq!((&w, &a), (&w0, &a0));
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].series, None);
    assert_eq!((w[0].from, w[0].to), (C0 - 10 * SECOND, C0 - 1));
    let (w, a) = run(Some(1), Some(vec![one("a")]));
    assert!(w.is_empty());
    assert_eq!(a, run(Some(1), None).1);
    // No `up` at all: targets unknown, the bound.
    let (w, _) = run(None, None);
    assert_eq!(w.len(), 1);
    assert!(w[0].why.contains("scrape targets unknown"), "{}", w[0].why);
}

/// One target with a tail: its next scrape after the coverage end, no
/// window; with a tail showing its next scrape missing (something else,
/// a rule group, set the coverage end) that scrape is lost as with two.
#[test]
fn one_target_with_a_tail() {
    let (w, a) = run(
        Some(1),
        Some(vec![tail("a", &grid(C0 - 1, 5 * SECOND, 8), 50)]),
    );
    assert!(w.is_empty(), "{w:?}");
    assert!(
        a.iter()
            .any(|s| s.contains("1 target(s) whose next scrape")),
        "{a:?}"
    );
    let next = C0 - 1 - 2 * SECOND;
    let (w, _) = run(
        Some(1),
        Some(vec![tail("a", &grid(next - 5 * SECOND, 5 * SECOND, 8), 50)]),
    );
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].certainty, Certainty::Expected);
    assert_eq!(w[0].series, Some(50));
}

/// Two targets in flight on the same tick share one window, series summed;
/// on different ticks, one window each.
#[test]
fn targets_in_flight_together_share_a_window() {
    let iv = 15 * SECOND;
    let next = C0 - 1 - 6 * SECOND;
    let tails = vec![
        tail("self", &grid(C0 - 1, SECOND, 8), 5),
        tail("a", &grid(next - iv, iv, 8), 100),
        tail("bb", &grid(next + 40 - iv, iv, 8), 200),
        tail("ccc", &grid(next - 3 * SECOND - iv, iv, 8), 300),
    ];
    let (w, _) = run(Some(4), Some(tails));
    assert_eq!(w.len(), 2, "{w:?}");
    let mut series: Vec<_> = w.iter().map(|w| w.series).collect();
    series.sort();
    assert_eq!(series, [Some(300), Some(300)]);
    assert!(w.iter().all(|w| w.certainty == Certainty::Expected));
}

/// A tail with an unreadable chunk (no times) counts as undecided-by-tail;
/// alone it keeps the bound.
#[test]
fn an_unreadable_tail_keeps_the_bound() {
    let (w, _) = run(Some(2), Some(vec![tail("a", &[], 5), tail("b", &[], 6)]));
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].series, None);
}

/// A target whose newest `up` is a staleness marker (2.42 writes one only
/// when the target's scrape loop ends) has no scrape in flight, however
/// long before the coverage end its last scrape was.
#[test]
fn a_target_whose_scrapes_stopped_loses_nothing() {
    let mut gone = tail("node", &grid(C0 - 1 - 8 * SECOND, 5 * SECOND, 8), 430);
    gone.stale = true;
    assert_eq!(fate(&gone, C0, 10 * SECOND).1, Fate::Stopped);
    let (w, a) = run(
        Some(2),
        Some(vec![
            tail("prometheus", &grid(C0 - 1, 5 * SECOND, 8), 700),
            gone,
        ]),
    );
    assert!(w.is_empty(), "{w:?}");
    assert!(a.iter().any(|s| s.contains("its scrapes stopped")), "{a:?}");
}
