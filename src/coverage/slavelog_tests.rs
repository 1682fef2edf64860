use super::*;

/// A recorded run's slave log (real 2.42 lines; the harness's `# cut`
/// notes are spans of missing lines, its other `#` lines comments).
const REC: &str = include_str!("../../testdata/loss-runs/s4500-ms50-up55-r3/slave-log.txt");

fn ms(s: &str) -> i64 {
    crate::vocab::parse_rfc3339_ms(s).unwrap()
}

#[test]
fn reads_every_refused_request_of_a_recorded_log() {
    let l = parse_bytes(REC.as_bytes());
    let real_lines: Vec<&str> = REC.lines().filter(|l| !l.starts_with('#')).collect();
    let refusal_lines = real_lines
        .iter()
        .filter(|l| l.contains(REFUSED_MSG))
        .count();
    // Each refusal line, and the starts its `# cut` notes name (no series).
    let named = l.refusals.iter().filter(|r| r.series.is_some()).count();
    assert_eq!(named, refusal_lines);
    assert_eq!(l.refused as usize, l.refusals.len());
    assert_eq!(l.unnamed as usize, refusal_lines.abs_diff(l.refusals.len()));
    assert_eq!(l.extent.lines as usize, REC.lines().count());
    let notes = REC.lines().filter(|x| x.starts_with("# cut ")).count();
    assert_eq!(l.missing.len(), notes);
    assert_eq!(
        l.extent.unreadable_lines as usize,
        REC.lines().count() - real_lines.len() - notes
    );
    // The first refusal, as the file has it.
    assert_eq!(
        l.refusals[0],
        Refused {
            at: ms("2026-12-06T04:39:08.843Z"),
            sample: 1_796_531_796_102,
            series: series_key(
                r#"{__name__="lm_value", i="0", instance="127.0.0.1:44805", job="lm", target="t0"}"#
            ),
        }
    );
    assert_eq!(l.ready, vec![ms("2026-12-06T04:39:05.499Z")]);
    assert_eq!(l.extent.first_ts, Some(ms("2026-12-06T04:39:05.499Z")));
    assert_eq!(l.errs.get("out of bounds"), Some(&l.refused));
    let newest = l.refusals.iter().map(|r| r.sample).max();
    assert_eq!(l.sample_max, newest);
    assert!(!l.truncated);
    assert!(l.covers(ms("2026-12-06T04:39:05.569Z"), l.extent.last_ts.unwrap()));
    // More than a second before its first line (the ready line): not held.
    assert!(!l.covers(ms("2026-12-06T04:39:04.499Z"), l.extent.last_ts.unwrap()));
}

#[test]
fn taken_at_reaches_and_is_not_before_the_last_line() {
    let l = parse_bytes(REC.as_bytes());
    let last = l.extent.last_ts.unwrap();
    assert_eq!(taken_at(l.clone(), Some(last - 1)).unwrap_err(), last);
    let t = taken_at(l.clone(), Some(last + 60_000)).unwrap();
    assert_eq!(t.extent.reaches(), Some(last + 60_000));
    assert!(t.summary().contains("(taken then)"), "{}", t.summary());
    assert_eq!(taken_at(l, None).unwrap().extent.reaches(), Some(last));
}

#[test]
fn lines_without_a_sample_time_and_garbage_are_counted_not_kept() {
    let text = "ts=2026-12-06T04:39:08.843Z caller=write_handler.go:51 level=error component=web \
                msg=\"Out of order sample from remote write\" err=\"out of bounds\"\n\
                ts=2026-12-06T04:39:09Z msg=\"Out of order sample from remote write\" timestamp=x\n\
                \u{0}\u{ff}garbage ts= msg=\"\n\
                Dec 06 host prometheus[1]: ts=2026-12-06T05:39:10.000+01:00 level=error \
                component=web msg=\"Out of order sample from remote write\" \
                err=\"out of order sample\" series=\"{a=\\\"b c\\\"}\" timestamp=1796531796102\n";
    let l = parse_bytes(text.as_bytes());
    assert_eq!(l.refused, 1);
    assert_eq!(l.refusals_without_sample, 2);
    assert_eq!(l.extent.unreadable_lines, 1);
    assert_eq!(l.refusals[0].at, ms("2026-12-06T04:39:10Z"));
    assert_eq!(l.errs.get("out of order sample"), Some(&1));
}

#[test]
fn memory_is_bounded() {
    // A line longer than MAX_LINE is cut, not kept whole.
    let mut long = String::from("ts=2026-12-06T04:39:08.843Z msg=\"x");
    long.push_str(&"y".repeat(MAX_LINE * 2));
    long.push_str("\"\n");
    let l = parse_bytes(long.as_bytes());
    assert_eq!(l.extent.lines, 1);
    assert_eq!(l.refused, 0);
    // Many distinct err texts fold into `other`.
    let mut many = String::new();
    for k in 0..(MAX_ERRS + 5) {
        many.push_str(&format!(
            "ts=2026-12-06T04:39:08.843Z msg=\"{REFUSED_MSG}\" err=\"e{k}\" timestamp={k}\n"
        ));
    }
    let l = parse_bytes(many.as_bytes());
    assert_eq!(l.errs.len(), MAX_ERRS + 1);
    assert_eq!(l.errs.get("other"), Some(&5));
    assert_eq!(l.refused as usize, MAX_ERRS + 5);
}

/// A ready time noted to the second (truncated) is up to a second before the
/// slave's own ready line, the log's first: the slave answered remote write
/// with 503 until then (retried, nothing dropped), so the log holds every
/// refusal from that time on. A second or more before, it does not; nor
/// does a log that does not reach the end asked, or that holds no ready
/// line.
#[test]
fn covers_from_a_ready_time_noted_to_the_second() {
    let l = parse_bytes(REC.as_bytes());
    let last = l.extent.last_ts.unwrap();
    let ready = ms("2026-12-06T04:39:05.499Z");
    assert_eq!(l.extent.first_ts, Some(ready));
    // The operator's `date -u +%FT%TZ` at the ready second.
    let noted = ms("2026-12-06T04:39:05.000Z");
    assert_eq!(l.ready_after(noted), Some(ready));
    assert!(l.covers(noted, last));
    assert!(l.covers(ready - 999, last));
    assert_eq!(l.ready_after(ready - 1_000), None);
    assert!(!l.covers(ready - 1_000, last));
    assert!(!l.covers(noted, last + 1));
    // Without its ready line the log starts after the time given: not held.
    let no_ready: String = REC
        .lines()
        .filter(|x| !x.contains(READY_MSG))
        .map(|x| format!("{x}\n"))
        .collect();
    let n = parse_bytes(no_ready.as_bytes());
    assert!(n.ready.is_empty());
    assert!(n.extent.first_ts.unwrap() > noted);
    assert!(!n.covers(noted, n.extent.last_ts.unwrap()));
}
