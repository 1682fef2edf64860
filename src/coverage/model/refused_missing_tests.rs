use super::super::super::{Cause, Certainty, ModelInput, ModelOutput, SECOND, compute};
use crate::coverage::slavelog::{Missing, MissingKind, SlaveLog};

const M: i64 = 60 * SECOND;
const DAY: i64 = 1_796_515_200_000;

fn c0() -> i64 {
    DAY + 10 * M + 40 * SECOND
}

/// The model input of `refused`'s tests (2 005 series at 1 s on 1m
/// blocks, remote write long before the snapshot, the slave up 6 s after
/// it) with the slave's log `log`.
fn input(log: SlaveLog) -> ModelInput {
    super::super::tests::input(Some(log)).0
}

/// A log over the whole catch-up holding `refusals` (`(answered, sample)`,
/// none naming its series) and the spans `missing`.
fn log(refusals: &[(i64, i64)], missing: &[Missing]) -> SlaveLog {
    let up = c0() + 6 * SECOND;
    let mut l = super::super::tests::log(up - 100, up + 120 * SECOND, refusals);
    l.unnamed = refusals.len() as u64;
    l.missing = missing.to_vec();
    l.missing_lines = missing.iter().map(|m| m.lines).sum();
    l
}

fn cut(from_at: i64, to_at: i64, lo: i64, hi: i64, listed: bool) -> Missing {
    Missing {
        kind: MissingKind::Cut,
        lines: 300,
        from_at,
        to_at,
        sample_min: Some(lo),
        sample_max: Some(hi),
        starts_listed: listed,
    }
}

fn suppressed(from_at: i64, to_at: i64) -> Missing {
    Missing {
        kind: MissingKind::Suppressed,
        lines: 872,
        from_at,
        to_at,
        sample_min: None,
        sample_max: None,
        starts_listed: false,
    }
}

fn l3(out: &ModelOutput) -> Vec<(i64, i64, Certainty, String)> {
    out.loss_windows
        .iter()
        .filter(|w| w.cause == Cause::L3)
        .map(|w| (w.from, w.to, w.certainty, w.why.clone()))
        .collect()
}

/// A note whose hidden starts run from before the coverage end to after it
/// (`s10k-q20k-up40-r2`'s shape: one note for a shard's back-to-back
/// refusals): the requests it hides may lose everything from the first
/// scrape after the coverage end to the newest start's end. Not decided:
/// a risk, named in the assumptions. A note listing each start hides none.
#[test]
fn a_cut_note_may_hide_a_loss_up_to_its_newest_start() {
    let c = c0();
    let (first, last) = (c + 60 * SECOND, c + 60 * SECOND + 700);
    let (lo, hi) = (c - 10 * SECOND, c + 40 * SECOND);
    let refusals = [(first, lo), (last, hi)];
    // Four shards at most: ⌊2 005 / 4⌋ = 501 series a shard, a request of
    // 500 samples spans one scrape, so the oldest start's request does not
    // reach the newest's (no chain), and no window holds the span.
    let with = |listed: bool| {
        let mut inp = input(log(&refusals, &[cut(first, last, lo, hi, listed)]));
        inp.queue.max_shards = 4;
        inp
    };
    let out = compute(&with(false));
    let end = hi + SECOND;
    let w = l3(&out);
    let risk = w
        .iter()
        .find(|x| x.3.contains("'# cut' note"))
        .unwrap_or_else(|| panic!("{w:#?}"));
    assert_eq!((risk.0, risk.1, risk.2), (c + SECOND, end, Certainty::Risk));
    assert!(risk.3.contains("300 refusal line(s)"), "{}", risk.3);
    assert!(
        out.assumptions
            .iter()
            .any(|a| a.contains("300 lines logged") && a.contains("may hide a loss")),
        "{:#?}",
        out.assumptions
    );
    // The same refusals with every start listed: nothing hidden, no such
    // window; the log's own run (+40 s … +41 s) stays.
    let listed = compute(&with(true));
    let w = l3(&listed);
    assert!(!w.iter().any(|x| x.3.contains("'# cut' note")), "{w:#?}");
    assert!(w.iter().any(|x| x.0 == hi), "{w:#?}");
}

/// journald's notice over a quiet log: without it the log rules the
/// boundary loss out; with it (872 messages dropped up to +30 s, any of
/// which may be a refusal) the loss may run to +30 s, and no window is
/// narrowed before that.
#[test]
fn a_suppressed_span_is_no_evidence_of_no_refusal() {
    let c = c0();
    let quiet = compute(&input(log(&[], &[])));
    assert!(l3(&quiet).is_empty(), "{:#?}", quiet.loss_windows);
    let span = suppressed(c + 10 * SECOND, c + 30 * SECOND);
    let out = compute(&input(log(&[], &[span])));
    let w = l3(&out);
    // The model's windows stand, cut at +30 s; one holds the span's reach.
    assert!(
        w.iter()
            .any(|x| x.0 <= c + SECOND && x.1 >= c + 30 * SECOND),
        "{w:#?}"
    );
    // Dropped later than any window reaches: a window of its own.
    let late = compute(&input(log(
        &[],
        &[suppressed(c + 90 * SECOND, c + 110 * SECOND)],
    )));
    let w = l3(&late);
    assert!(
        w.iter().any(|x| x.0 <= c + SECOND
            && x.1 == c + 110 * SECOND
            && x.2 == Certainty::Risk
            && x.3.contains("journald suppressed 872")),
        "{w:#?}"
    );
    assert!(
        out.assumptions
            .iter()
            .any(|a| a.contains("journald's rate limit")),
        "{:#?}",
        out.assumptions
    );
    // Dropped before the coverage end: no sample after it can be in them,
    // and the quiet log rules the boundary loss out as before.
    let early = compute(&input(log(
        &[],
        &[suppressed(c - 20 * SECOND, c - 5 * SECOND)],
    )));
    assert!(l3(&early).is_empty(), "{:#?}", early.loss_windows);
}
