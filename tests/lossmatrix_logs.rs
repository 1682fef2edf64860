//! The server log lines a recorded run keeps (`master-log.txt`,
//! `slave-log.txt`; testdata/loss-runs/README.md): Prometheus 2.42 writes
//! logfmt lines (`ts=… caller=… level=… component=… msg=… key=value…`), or
//! JSON objects with the same keys under `--log.format=json` (a run's
//! `log_format`); the harness keeps whole lines, verbatim, selected by their
//! keys (read as `coverage` reads them, either format) and their `ts` inside
//! the run's measured range.
//!
//! A file over `LIMIT` bytes is cut: the lines of one `msg` and `err` inside
//! one wall-clock bucket (1 s, else 10 s, else 60 s: the first bucket size
//! that brings the file under the limit) are cut to the first and the last,
//! with one note line after the first saying how many were cut and what they
//! held. Every note line starts with `#`.
//!
//! Since the eighteenth set a cut `slave-log.txt` has a whole copy beside
//! it, `slave-log.txt.gz` (the same lines, none cut, gzip): a refused
//! request's line names its first sample's series, whose place among its
//! shard's samples of that scrape fixes where the request ends, and a note
//! keeps only the first and the last line's series.

/// The most a kept log file holds before its repeated lines are cut.
pub(crate) const LIMIT: usize = 20_000;

/// The `key`/`value` pairs of a log line (logfmt or JSON), as `coverage
/// --master-log` reads them.
pub(crate) fn fields(line: &str) -> Vec<(String, String)> {
    promsnap::coverage::logline::fields(line).kv
}

fn get<'a>(f: &'a [(String, String)], key: &str) -> Option<&'a str> {
    f.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// `2026-12-05T16:26:18.912Z` (RFC 3339, as 2.42 writes `ts`) in ms since
/// the epoch.
pub(crate) fn ts_ms(s: &str) -> Option<i64> {
    promsnap::vocab::parse_rfc3339_ms(s)
}

/// ms since the epoch as 2.42 writes `ts`.
pub(crate) fn ts_str(ms: i64) -> String {
    promsnap::gofmt::rfc3339_ms(ms)
}

/// The lines of `text` whose `ts` lies in `[from, to]` and that `keep`
/// selects, verbatim.
fn select(
    text: &str,
    from: i64,
    to: i64,
    keep: impl Fn(&[(String, String)]) -> bool,
) -> Vec<String> {
    text.lines()
        .filter(|l| {
            let f = fields(l);
            get(&f, "ts")
                .and_then(ts_ms)
                .is_some_and(|t| t >= from && t <= to)
                && keep(f.as_slice())
        })
        .map(str::to_string)
        .collect()
}

/// The master's lines for the queue `queue` (its `remote_name`, or the WAL
/// watcher's `queue`), its TSDB lines (head compactions, head GC,
/// checkpoints, WAL replay, snapshots) and its readiness and config
/// reloads.
pub(crate) fn master_lines(text: &str, queue: &str, from: i64, to: i64) -> Vec<String> {
    select(text, from, to, |f| {
        get(f, "remote_name") == Some(queue)
            || (get(f, "remote_name").is_none() && get(f, "queue") == Some(queue))
            || get(f, "component") == Some("tsdb")
            // The notifier's errors (an alertmanager that does not run, the
            // Debian-config masters): the noise a log reader must see past.
            || get(f, "component") == Some("notifier")
            || get(f, "msg").is_some_and(|m| {
                m.starts_with("Server is ready")
                    || m.starts_with("Loading configuration file")
                    || m.starts_with("Completed loading of configuration file")
            })
    })
}

/// The slave's lines about refused samples (2.42's remote-write handler
/// logs one line per refused request: "Out of order sample from remote
/// write", `err` "out of bounds" …, with the first refused sample's series
/// and `timestamp`), its other remote-write errors, and its head
/// compactions and readiness (which move what it refuses).
pub(crate) fn slave_lines(text: &str, from: i64, to: i64) -> Vec<String> {
    select(text, from, to, |f| {
        let msg = get(f, "msg").unwrap_or("");
        let err = get(f, "err").unwrap_or("");
        msg.contains("remote write")
            || msg.contains("Out of order")
            || err.contains("out of bounds")
            || err.contains("out of order")
            || msg.starts_with("Server is ready")
            || (get(f, "component") == Some("tsdb")
                && (msg == "write block" || msg == "Head GC completed"))
    })
}

/// The series the refusal lines of `lines` name (`series`, as 2.42's
/// `labels.String()` writes it), for the thinned WAL to keep their series
/// records (`walthin`).
pub(crate) fn refused_series(lines: &[String]) -> std::collections::HashSet<String> {
    lines
        .iter()
        .filter_map(|l| {
            let f = fields(l);
            (get(&f, "msg").is_some_and(|m| m.contains("Out of order")))
                .then(|| get(&f, "series").map(str::to_string))
                .flatten()
        })
        .collect()
}

/// `lines` whole, gzip: the copy beside a cut file (the module's doc).
pub(crate) fn gzip_whole(header: &str, lines: &[String]) -> Vec<u8> {
    use std::io::Write as _;
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = writeln!(z, "# {header}\n# {} lines, none cut", lines.len());
    for l in lines {
        let _ = writeln!(z, "{l}");
    }
    z.finish().unwrap_or_default()
}

/// True when [`render`] cuts `lines`.
pub(crate) fn is_cut(lines: &[String]) -> bool {
    lines.iter().map(|l| counted_len(l) + 1).sum::<usize>() > LIMIT
}

/// One note for the lines cut out of a group.
fn note(cut: &[&str]) -> String {
    let fs: Vec<Vec<(String, String)>> = cut.iter().map(|l| fields(l)).collect();
    let first = &fs[0];
    let ts = |f: &Vec<(String, String)>| get(f, "ts").unwrap_or("").to_string();
    let mut s = format!(
        "# cut lines={} msg={:?}",
        cut.len(),
        get(first, "msg").unwrap_or("")
    );
    if let Some(e) = get(first, "err") {
        s.push_str(&format!(" err={e:?}"));
    }
    s.push_str(&format!(
        " ts_first={} ts_last={}",
        ts(first),
        ts(&fs[fs.len() - 1])
    ));
    let counts: Vec<i64> = fs
        .iter()
        .filter_map(|f| get(f, "count").and_then(|c| c.parse().ok()))
        .collect();
    if !counts.is_empty() {
        s.push_str(&format!(" count_sum={}", counts.iter().sum::<i64>()));
    }
    let stamps: Vec<i64> = fs
        .iter()
        .filter_map(|f| get(f, "timestamp").and_then(|c| c.parse().ok()))
        .collect();
    if let (Some(lo), Some(hi)) = (stamps.iter().min(), stamps.iter().max()) {
        s.push_str(&format!(" timestamp_min={lo} timestamp_max={hi}"));
        // Every distinct first-refused timestamp and how many cut lines had
        // it (since the tenth set): a refused request starts at its
        // `timestamp`, so min and max alone lose the starts in between
        // (a lagging shard's first refusal among the other shards').
        let mut distinct = std::collections::BTreeMap::<i64, usize>::new();
        for t in &stamps {
            *distinct.entry(*t).or_default() += 1;
        }
        let list: Vec<String> = distinct.iter().map(|(t, n)| format!("{t}:{n}")).collect();
        s.push_str(&format!("{STAMPS}{}", list.join(",")));
    }
    s
}

/// Where a note's list of distinct timestamps starts; the list is not
/// counted against `LIMIT` (it holds what the cut would otherwise lose).
const STAMPS: &str = " timestamps=";

/// A line's length as counted against `LIMIT`: a note without its list.
fn counted_len(l: &str) -> usize {
    match l.find(STAMPS) {
        Some(i) if l.starts_with('#') => i,
        _ => l.len(),
    }
}

/// `lines` with the groups of one `msg`/`err` inside one `bucket_ms` of
/// wall time cut to their first and last line and a note.
fn cut(lines: &[String], bucket_ms: i64) -> Vec<String> {
    use std::collections::BTreeMap;
    let key = |l: &str| {
        let f = fields(l);
        let b = get(&f, "ts")
            .and_then(ts_ms)
            .unwrap_or(0)
            .div_euclid(bucket_ms);
        (
            b,
            get(&f, "msg").unwrap_or("").to_string(),
            get(&f, "err").unwrap_or("").to_string(),
        )
    };
    let mut groups: BTreeMap<(i64, String, String), Vec<usize>> = BTreeMap::new();
    for (i, l) in lines.iter().enumerate() {
        groups.entry(key(l)).or_default().push(i);
    }
    // Per line: dropped, or the note to put after it.
    let mut drop = vec![false; lines.len()];
    let mut after: Vec<Option<String>> = vec![None; lines.len()];
    for idx in groups.values().filter(|g| g.len() >= 3) {
        let middle = &idx[1..idx.len() - 1];
        for &i in middle {
            drop[i] = true;
        }
        let cut_lines: Vec<&str> = middle.iter().map(|&i| lines[i].as_str()).collect();
        after[idx[0]] = Some(note(&cut_lines));
    }
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if !drop[i] {
            out.push(l.clone());
        }
        if let Some(n) = after[i].take() {
            out.push(n);
        }
    }
    out
}

/// The file's text: a header note, then every one of `lines`, none cut
/// whatever the size (a master with `whole_slave_log`, since the
/// eighteenth set).
pub(crate) fn render_whole(header: &str, lines: &[String]) -> String {
    let mut s = format!(
        "# {header}\n# {} lines, none cut (kept whole)\n",
        lines.len()
    );
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s
}

/// The file's text: a header note, then `lines`, cut as the module says
/// when they are over `LIMIT` bytes.
pub(crate) fn render(header: &str, lines: &[String]) -> String {
    let size = |v: &[String]| v.iter().map(|l| counted_len(l) + 1).sum::<usize>();
    let mut body = lines.to_vec();
    let mut how = format!("{} lines, none cut", lines.len());
    if size(&body) > LIMIT {
        for bucket in [1_000, 10_000, 60_000] {
            body = cut(lines, bucket);
            how = format!(
                "{} lines; over {LIMIT} bytes, so the lines of one msg and err within one {} s of \
                 wall time were cut to the first and the last, a '# cut' note after the first \
                 (with every distinct refused timestamp:count)",
                lines.len(),
                bucket / 1_000
            );
            if size(&body) <= LIMIT {
                break;
            }
        }
    }
    let mut s = format!("# {header}\n# {how}\n");
    for l in body {
        s.push_str(&l);
        s.push('\n');
    }
    s
}

#[test]
fn logfmt_fields_and_times() {
    let l = r#"ts=2026-12-05T16:26:18.912Z caller=write_handler.go:53 level=error component=web msg="Out of order sample from remote write" err="out of bounds" series="{__name__=\"lm_value\", i=\"5\"}" timestamp=1764951934000"#;
    let f = fields(l);
    assert_eq!(get(&f, "level"), Some("error"));
    assert_eq!(get(&f, "err"), Some("out of bounds"));
    assert_eq!(get(&f, "series"), Some(r#"{__name__="lm_value", i="5"}"#));
    assert_eq!(get(&f, "timestamp"), Some("1764951934000"));
    let t = ts_ms("2026-12-05T16:26:18.912Z").unwrap();
    assert_eq!(ts_str(t), "2026-12-05T16:26:18.912Z");
    // 2026-12-05T00:00:00Z, counted by days since the epoch.
    assert_eq!(ts_ms("2026-12-05T00:00:00Z"), Some(20_792 * 86_400_000));
    assert_eq!(ts_ms("1970-01-01T00:00:01.5Z"), Some(1_500));
    let lines: Vec<String> = (0..400)
        .map(|i| {
            format!(
                "ts={} caller=x level=error component=web msg=\"Out of order sample from remote write\" \
                 err=\"out of bounds\" series=\"{{}}\" timestamp={}",
                ts_str(t + i * 10),
                1_000 + i
            )
        })
        .collect();
    let s = render("test", &lines);
    assert!(s.len() <= LIMIT, "{}", s.len());
    assert!(s.contains("# cut lines="), "{s}");
    assert!(s.contains("timestamp_min=1001"), "{s}");
    // Every timestamp survives: on a line kept whole, or in a note's list.
    for i in 0..400 {
        let t = 1_000 + i;
        assert!(
            s.lines().any(|l| {
                l.ends_with(&format!(" timestamp={t}"))
                    || (l.starts_with('#')
                        && (l.contains(&format!("={t}:1")) || l.contains(&format!(",{t}:1"))))
            }),
            "{t} lost: {s}"
        );
    }
}

/// A JSON log (`--log.format=json`) keeps the lines its logfmt form keeps:
/// the kept lines of the JSON runs (real 2.42 lines), each converted to
/// logfmt, are selected alike, and a long log of them is cut into the same
/// groups with the same notes.
#[test]
fn json_lines_are_kept_and_cut_as_their_logfmt() {
    use crate::lossruns::json_line_as_logfmt;
    let dir = crate::util::testdata("loss-runs");
    let mut seen = 0;
    for run in ["s4600-ms55-json-up48", "s3000-5s-skip-json-up42"] {
        let (from, to) = (i64::MIN, i64::MAX);
        for (file, queue) in [
            ("master-log.txt", Some(&run[run.len() - 4..])),
            ("slave-log.txt", None),
        ] {
            let text = std::fs::read_to_string(dir.join(run).join(file)).unwrap();
            let json: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
            assert!(json.iter().all(|l| l.starts_with('{')), "{run}/{file}");
            let logfmt: String = json.iter().map(|l| json_line_as_logfmt(l) + "\n").collect();
            let json = json.join("\n");
            let (a, b) = match queue {
                Some(q) => (
                    master_lines(&json, q, from, to),
                    master_lines(&logfmt, q, from, to),
                ),
                None => (slave_lines(&json, from, to), slave_lines(&logfmt, from, to)),
            };
            assert!(!a.is_empty(), "{run}/{file}");
            assert_eq!(a.len(), b.len(), "{run}/{file}");
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(fields(x).len(), fields(y).len());
                assert_eq!(json_line_as_logfmt(x), *y);
            }
            seen += a.len();
            // 30 copies of the refusals a second apart: over LIMIT, cut.
            let refusals: Vec<&String> = a.iter().filter(|l| l.contains("Out of order")).collect();
            if refusals.is_empty() {
                continue;
            }
            let many: Vec<String> = (0..30)
                .flat_map(|_| refusals.iter().map(|l| (*l).clone()))
                .collect();
            let conv: Vec<String> = many.iter().map(|l| json_line_as_logfmt(l)).collect();
            let (rj, rl) = (render("t", &many), render("t", &conv));
            assert!(rj.contains("# cut lines="), "{run}");
            let notes = |r: &str| {
                r.lines()
                    .filter(|l| l.starts_with('#'))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            };
            assert_eq!(notes(&rj), notes(&rl), "{run}");
        }
    }
    assert!(seen > 0);
}

/// A cut log's whole copy holds every line (the judge gives it to
/// `coverage`), and the series the refusal lines name are the ones the
/// thinned WAL keeps: every line of a recorded whole log
/// (`s1150-4s-skip-skiphead-r2`, 60 refusals, nothing cut).
#[test]
fn a_cut_logs_whole_copy_and_its_named_series() {
    use std::io::Read as _;
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/loss-runs/s1150-4s-skip-skiphead-r2/slave-log.txt"
    ))
    .unwrap();
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    let named = refused_series(&lines);
    let refusals = lines.iter().filter(|l| l.contains("Out of order")).count();
    // One request per shard and batch: every line names another series.
    assert_eq!(named.len(), refusals);
    assert!(named.iter().any(|n| n.contains(r#"i="0""#)), "{named:?}");
    // Repeated past the limit, the file is cut and the copy keeps it all.
    let many: Vec<String> = (0..40).flat_map(|_| lines.clone()).collect();
    assert!(is_cut(&many));
    let z = gzip_whole("test", &many);
    let mut s = String::new();
    flate2::read::GzDecoder::new(&z[..])
        .read_to_string(&mut s)
        .unwrap();
    let back: Vec<&str> = s.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(back, many.iter().map(String::as_str).collect::<Vec<_>>());
}

/// `render_whole` keeps every line of a log far over `LIMIT`, where
/// `render` cuts it.
#[test]
fn a_whole_log_keeps_every_refusal() {
    let lines: Vec<String> = (0..400)
        .map(|i| {
            format!(
                "ts=2026-12-07T10:00:{:02}.{:03}Z caller=write_handler.go:103 level=error \
                 component=web msg=\"Out of order sample from remote write\" \
                 err=\"out of bounds\" series=\"{{i=\\\"{i}\\\"}}\" timestamp={}",
                i / 10,
                (i % 10) * 100,
                1_765_101_600_000_i64 + i
            )
        })
        .collect();
    let whole = render_whole("h", &lines);
    assert!(whole.len() > LIMIT);
    assert!(!whole.contains("# cut lines="));
    assert_eq!(whole.lines().filter(|l| !l.starts_with('#')).count(), 400);
    assert!(render("h", &lines).contains("# cut lines="));
}
