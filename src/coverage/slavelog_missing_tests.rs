use super::super::*;
use super::*;

/// A recorded run's slave log, cut by the recorder: real 2.42 lines and
/// four `# cut` notes of refusal lines (no `timestamps=` list).
const CUT: &str = include_str!("../../testdata/loss-runs/s10k-q20k-up40-r2/slave-log.txt");
/// One whose notes list every distinct first refused sample.
const LISTED: &str = include_str!("../../testdata/loss-runs/deb15-noext-late6-r2/slave-log.txt");

fn ms(s: &str) -> i64 {
    crate::vocab::parse_rfc3339_ms(s).unwrap()
}

/// A note's `key=value` pairs, as the recorder wrote them.
fn note_kv(line: &str) -> Vec<(String, String)> {
    crate::coverage::masterlog::logfmt(line.strip_prefix("# cut ").unwrap())
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

fn val<'a>(kv: &'a [(String, String)], k: &str) -> &'a str {
    kv.iter()
        .find(|(a, _)| a == k)
        .map(|(_, v)| v.as_str())
        .unwrap()
}

#[test]
fn a_cut_note_is_a_missing_span_with_its_oldest_and_newest_start() {
    let l = parse_bytes(CUT.as_bytes());
    let notes: Vec<&str> = CUT.lines().filter(|l| l.starts_with("# cut ")).collect();
    assert_eq!(l.missing.len(), notes.len());
    let mut sum = 0;
    let mut extra = 0;
    for (m, n) in l.missing.iter().zip(&notes) {
        let kv = note_kv(n);
        let lines: u64 = val(&kv, "lines").parse().unwrap();
        sum += lines;
        assert_eq!(m.kind, MissingKind::Cut);
        assert_eq!(m.lines, lines);
        assert_eq!(m.from_at, ms(val(&kv, "ts_first")));
        assert_eq!(m.to_at, ms(val(&kv, "ts_last")));
        let lo: i64 = val(&kv, "timestamp_min").parse().unwrap();
        let hi: i64 = val(&kv, "timestamp_max").parse().unwrap();
        assert_eq!((m.sample_min, m.sample_max), (Some(lo), Some(hi)));
        assert!(!m.starts_listed);
        // The oldest start answered at the first line's time, the newest
        // at the last's: refusals naming no series.
        assert!(l.refusals.contains(&Refused {
            at: m.from_at,
            sample: lo,
            series: None
        }));
        assert!(l.refusals.contains(&Refused {
            at: m.to_at,
            sample: hi,
            series: None
        }));
        extra += if lo == hi { 1 } else { 2 };
    }
    assert_eq!(l.missing_lines, sum);
    let real = CUT
        .lines()
        .filter(|x| !x.starts_with('#') && x.contains(REFUSED_MSG))
        .count();
    assert_eq!(l.refused as usize, real + extra);
    assert_eq!(l.unnamed as usize, extra);
    // The header comments are lines, not log lines.
    let comments = CUT
        .lines()
        .filter(|x| x.starts_with('#') && !x.starts_with("# cut "))
        .count();
    assert_eq!(l.extent.unreadable_lines as usize, comments);
    assert!(l.summary().contains("line(s) missing"), "{}", l.summary());
    let j = serde_json::to_value(&l).unwrap();
    assert_eq!(j["missing_lines"], sum);
    assert_eq!(j["missing"][0]["kind"], "cut");
}

#[test]
fn a_note_listing_its_starts_gives_each_one() {
    let l = parse_bytes(LISTED.as_bytes());
    let notes: Vec<&str> = LISTED
        .lines()
        .filter(|x| x.starts_with("# cut ") && x.contains(REFUSED_MSG))
        .collect();
    assert!(!notes.is_empty());
    for (m, n) in l.missing.iter().zip(&notes) {
        assert!(m.starts_listed);
        let kv = note_kv(n);
        for t in val(&kv, "timestamps").split(',') {
            let s: i64 = t.split(':').next().unwrap().parse().unwrap();
            assert!(
                l.refusals
                    .iter()
                    .any(|r| r.sample == s && r.series.is_none() && r.at <= m.to_at),
                "{s}"
            );
        }
    }
}

/// The recorded lines as `journalctl -u prometheus` prints them (short
/// form: `MMM DD HH:MM:SS host identifier[pid]: message`), with journald's
/// notice (systemd's `server_dispatch_message`: "Suppressed %i messages
/// from %s", under its own identifier) where the cut note was.
fn journal_short(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if let Some(note) = line.strip_prefix("# cut ") {
            let kv = crate::coverage::masterlog::logfmt(note);
            let n = &kv.iter().find(|(k, _)| *k == "lines").unwrap().1;
            out.push_str(&format!(
                "Dec 06 05:30:22 host systemd-journald[312]: Suppressed {n} messages from \
                 prometheus.service\n"
            ));
        } else if !line.starts_with('#') {
            out.push_str(&format!("Dec 06 05:30:22 host prometheus[812]: {line}\n"));
        }
    }
    out
}

/// Each notice is a span from the line before it to the line after it
/// (the first message let through again); nothing of what was dropped is
/// known.
#[test]
fn journald_notices_in_the_short_form_are_spans_between_their_neighbours() {
    let l = parse_bytes(journal_short(CUT).as_bytes());
    let cut = parse_bytes(CUT.as_bytes());
    assert_eq!(l.missing.len(), cut.missing.len());
    let lines: Vec<&str> = CUT.lines().collect();
    for (i, m) in l.missing.iter().enumerate() {
        let at = lines
            .iter()
            .enumerate()
            .filter(|(_, x)| x.starts_with("# cut "))
            .nth(i)
            .unwrap()
            .0;
        let ts = |x: &str| {
            ms(x.split_whitespace()
                .next()
                .unwrap()
                .strip_prefix("ts=")
                .unwrap())
        };
        assert_eq!(m.kind, MissingKind::Suppressed);
        assert_eq!(m.lines, cut.missing[i].lines);
        assert_eq!(m.from_at, ts(lines[at - 1]));
        assert_eq!(m.to_at, ts(lines[at + 1]));
        assert_eq!((m.sample_min, m.sample_max), (None, None));
    }
    // Only the logged refusals are refusals; the notices are no log line.
    let real = CUT
        .lines()
        .filter(|x| !x.starts_with('#') && x.contains(REFUSED_MSG))
        .count();
    assert_eq!(l.refused as usize, real);
    assert_eq!(l.extent.unreadable_lines, 0);
    // A Prometheus line that quotes the words is not journald's notice.
    let q = "Dec 06 05:30:22 host prometheus[812]: ts=2026-12-06T05:30:22.000Z level=info \
             msg=\"Suppressed 3 messages from prometheus.service\"\n";
    assert!(parse_bytes(q.as_bytes()).missing.is_empty());
}

/// `journalctl -o json`: every field a string; the notice carries
/// `MESSAGE_ID` (SD_MESSAGE_JOURNAL_DROPPED) and `N_DROPPED`.
#[test]
fn journald_notices_in_json_are_read() {
    let real: Vec<&str> = CUT.lines().filter(|x| !x.starts_with('#')).collect();
    // journald's own time of each record: 2 s after the last refusal's.
    let own = ms("2026-12-06T05:30:24Z");
    let rec = |msg: &str, id: &str, extra: &str| {
        format!(
            "{{\"__REALTIME_TIMESTAMP\":\"{}\",\"MESSAGE\":{},\
             \"SYSLOG_IDENTIFIER\":\"{id}\"{extra}}}\n",
            own * 1_000,
            serde_json::to_string(msg).unwrap()
        )
    };
    let mut text = String::new();
    text.push_str(&rec(real[1], "prometheus", ""));
    text.push_str(&rec(
        "Suppressed 872 messages from prometheus.service",
        "systemd-journald",
        &format!(",\"MESSAGE_ID\":\"{JOURNAL_DROPPED_ID}\",\"N_DROPPED\":\"872\""),
    ));
    text.push_str(&rec(real[2], "prometheus", ""));
    let l = parse_bytes(text.as_bytes());
    assert_eq!(l.refused, 2);
    assert_eq!(l.missing.len(), 1);
    let m = l.missing[0];
    assert_eq!((m.kind, m.lines), (MissingKind::Suppressed, 872));
    assert_eq!(
        (Some(m.from_at), Some(m.to_at)),
        (l.refused_first_at, l.refused_last_at)
    );
    // Last in the log: it reaches its own time.
    let mut tail = rec(real[1], "prometheus", "");
    tail.push_str(&rec(
        "Suppressed 5 messages from prometheus.service",
        "systemd-journald",
        "",
    ));
    let t = parse_bytes(tail.as_bytes());
    assert_eq!(t.missing[0].lines, 5);
    assert_eq!(t.missing[0].to_at, own);
    assert_eq!(Some(t.missing[0].from_at), t.refused_first_at);
    // Another identifier's message with the same words is not the notice.
    let other = rec("Suppressed 5 messages from x.service", "prometheus", "");
    assert!(parse_bytes(other.as_bytes()).missing.is_empty());
}
