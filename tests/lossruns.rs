//! The fast judge of `promsnap coverage` (issue 14): every run recorded under
//! `testdata/loss-runs/` (see its README.md) is given to `coverage` exactly as
//! an operator would give it — the snapshot, the master's `wal/` copied at
//! the slave's start, the observation time, the slave's ready time, the
//! remote-write start (and when the master was stopped for a restart, an
//! operator's fact; the master's and the slave's logs where the run kept
//! them) — and the
//! predicted loss windows are held against the real loss that
//! `gaps SLAVE --against MASTER` measured in that run:
//!
//! 1. every real loss longer than two scrape intervals lies in a predicted
//!    window whose start is within one scrape interval of the real start and
//!    whose end range (`to_earliest` … `to`) contains the real end ± one
//!    scrape interval;
//! 2. nothing longer than two scrape intervals is predicted that did not
//!    happen (each such window is matched by a real loss as in 1, or a
//!    real loss holds its start and its earliest end, ± one scrape
//!    interval);
//! 3. where the real loss is only a boundary sliver (nothing longer than two
//!    scrape intervals), the predicted windows (length of their union) are
//!    at most the real ones plus 10 s.
//!
//! A length is a loss's samples times the scrape interval, as the issue
//! counts "1 s just after `C_snap`" (`loss_len`): a real loss's from its
//! first lost sample to its last, a predicted window's the most scrape
//! instants its time bounds can hold.
//!
//! The test prints a table, predicted vs real per run (relative to `C_snap`),
//! and fails listing the runs that miss a criterion.
//! `PROMSNAP_WRITE_MATRIX=1` also writes it to `testdata/loss-runs/MATRIX.md`.

use std::path::{Path, PathBuf};

use crate::lossmatrix::RunRecord;
use crate::util::{promsnap, testdata};

#[path = "lossruns_inputs.rs"]
mod inputs;

/// A window, inclusive ms.
#[derive(Debug, Clone)]
pub(crate) struct Win {
    pub(crate) cause: String,
    pub(crate) certainty: String,
    pub(crate) from: i64,
    pub(crate) to: i64,
    pub(crate) to_earliest: i64,
    /// The most likely end inside the range (`to_expected`), if given.
    pub(crate) to_expected: Option<i64>,
    pub(crate) series: Option<u64>,
    /// The resharded catch-up's risk window (`coverage`'s L3 risk of a
    /// reshard no file decides).
    pub(crate) reshard_risk: bool,
}

/// One run judged.
#[derive(Debug, Clone)]
pub(crate) struct Judged {
    pub(crate) run: String,
    pub(crate) rec: Option<RunRecord>,
    pub(crate) coverage_end: Option<i64>,
    pub(crate) predicted: Vec<Win>,
    pub(crate) real: Vec<Win>,
    pub(crate) failures: Vec<String>,
}

fn sec(ms: i64) -> String {
    format!("{:+.1}s", ms as f64 / 1000.0)
}

/// Copies the evidence's `master-wal/` to a temporary dir with the files'
/// mtimes and sizes as they were at the copy (`wal-files.json`; git does not
/// keep mtimes, and a thinned segment is shorter than the real one: it is
/// extended with zeros, which a WAL reader takes for page padding, so that
/// `coverage` sees the real segment sizes).
fn wal_with_mtimes(ev: &Path, tmp: &Path) -> PathBuf {
    let dst = tmp.join("wal");
    crate::util::copy_dir(&ev.join("master-wal"), &dst);
    if let Ok(s) = std::fs::read_to_string(ev.join("wal-files.json"))
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&s)
    {
        for f in v.as_array().into_iter().flatten() {
            let (Some(name), Some(mt)) = (f["name"].as_str(), f["mtime"].as_i64()) else {
                continue;
            };
            let p = dst.join(name);
            if let Ok(file) = std::fs::File::options().write(true).open(&p) {
                if let Some(size) = f["size"].as_u64()
                    && file.metadata().is_ok_and(|m| m.len() < size)
                {
                    let _ = file.set_len(size);
                }
                let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(mt as u64);
                let _ = file.set_modified(t);
            }
        }
    }
    dst
}

/// Copies the evidence's `snapshot/` (block metas) to a temporary dir and,
/// when the run has a `targets.json`, writes a stand-in `index` (and
/// `chunks/`) into its newest block holding exactly the snapshot's `up`
/// series, so that `coverage` reads the scrape targets (L4) from a block
/// as it does on a real snapshot: each `up` series with the timestamps of
/// its `up_tail` entry (value 1) when the recording has one, plus enough
/// `promsnap_standin{job, instance, i}` series to make that entry's
/// `series` count; without `up_tail` (the runs recorded before it), one
/// sample at the block's minTime. The block keeps its recorded meta.json.
fn snapshot_with_targets(ev: &Path, name: &str, tmp: &Path) -> PathBuf {
    let dst = tmp.join("snapshot").join(name);
    let src = ev.join("snapshot").join(name);
    if src.is_dir() {
        crate::util::copy_dir(&src, &dst);
    } else {
        // A snapshot that held no block (since the nineteenth set: the
        // `skip_head` snapshot of a 2h master that never compacted its
        // head); git keeps no empty directory, so the evidence has none.
        std::fs::create_dir_all(&dst).unwrap();
    }
    let Some(t) = std::fs::read_to_string(ev.join("targets.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
    else {
        return dst;
    };
    let Some(ulid) = t["block"].as_str() else {
        return dst;
    };
    let bdir = dst.join(ulid);
    let Some(meta) = std::fs::read_to_string(bdir.join("meta.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
    else {
        return dst;
    };
    let (Some(min), Some(max)) = (meta["minTime"].as_i64(), meta["maxTime"].as_i64()) else {
        return dst;
    };
    let labels = |name: &str, u: &serde_json::Value, i: Option<u64>| {
        let mut l = vec![(b"__name__".to_vec(), name.as_bytes().to_vec())];
        if let Some(i) = i {
            l.push((b"i".to_vec(), i.to_string().into_bytes()));
        }
        for k in ["instance", "job"] {
            if let Some(v) = u[k].as_str().filter(|v| !v.is_empty()) {
                l.push((k.as_bytes().to_vec(), v.as_bytes().to_vec()));
            }
        }
        l
    };
    type Labels = Vec<(Vec<u8>, Vec<u8>)>;
    let mut series: std::collections::BTreeMap<Labels, Vec<i64>> = t["up"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| (labels("up", u, None), vec![min]))
        .collect();
    for u in t["up_tail"].as_array().into_iter().flatten() {
        let times: Vec<i64> = u["times"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_i64())
            .collect();
        if !times.is_empty() {
            series.insert(labels("up", u, None), times);
        }
        for i in 1..u["series"].as_u64().unwrap_or(0) {
            series.insert(labels("promsnap_standin", u, Some(i)), vec![min]);
        }
    }
    let scratch = tmp.join("targets-block");
    std::fs::create_dir_all(&scratch).unwrap();
    let mut w = promsnap::write::BlockWriter::create(&scratch, min, max).unwrap();
    for (l, times) in &series {
        let samples: Vec<_> = times
            .iter()
            .map(|&t| (t, promsnap::format::chunkenc::Value::Float(1.0)))
            .collect();
        w.add_series(l, &samples).unwrap();
    }
    if let Some(b) = w.finish().unwrap() {
        std::fs::copy(b.dir.join("index"), bdir.join("index")).unwrap();
        crate::util::copy_dir(&b.dir.join("chunks"), &bdir.join("chunks"));
    }
    dst
}

fn parse_windows(v: &serde_json::Value) -> Vec<Win> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| {
            let from = w["from"].as_i64()?;
            let to = w["to"].as_i64()?;
            Some(Win {
                cause: w["cause"].as_str().unwrap_or("?").to_string(),
                certainty: w["certainty"].as_str().unwrap_or("").to_string(),
                from,
                to,
                to_earliest: w["to_earliest"].as_i64().unwrap_or(to),
                to_expected: w["to_expected"].as_i64(),
                series: w["series"].as_u64(),
                reshard_risk: w["why"]
                    .as_str()
                    .is_some_and(|s| s.starts_with(RESHARD_RISK)),
            })
        })
        .collect()
}

/// A loss's length as issue 14 counts it: the samples it holds times the
/// scrape interval `i` (one lost 1 s scrape is "1 s just after `C_snap`").
/// A real loss runs from its first lost sample to its last, `to − from + i`;
/// a predicted window `[from, to]` holds at most ⌊(to − from) / i⌋ + 1
/// scrape instants of a target's grid, whatever its phase. Both measures
/// are of the same kind, and neither is shorter than the time between the
/// ends.
pub(crate) fn loss_len(w: &Win, i: i64) -> i64 {
    span_len(w.cause == "real", w.from, w.to, i)
}

/// [`loss_len`] of `[from, to]`, a real loss or a predicted window.
pub(crate) fn span_len(real: bool, from: i64, to: i64, i: i64) -> i64 {
    let i = i.max(1);
    if to < from {
        0
    } else if real {
        to - from + i
    } else {
        ((to - from) / i + 1) * i
    }
}

/// Longer than two scrape intervals (criteria 1-3), by [`loss_len`].
pub(crate) fn is_long(w: &Win, i: i64) -> bool {
    loss_len(w, i) > 2 * i
}

/// Total length of the union of windows (ms), each run of overlapping
/// windows measured by [`span_len`].
fn union_len(ws: &[Win], i: i64) -> i64 {
    let mut v: Vec<(i64, i64)> = ws.iter().map(|w| (w.from, w.to)).collect();
    v.sort_unstable();
    let real = ws.iter().all(|w| w.cause == "real");
    let mut total = 0;
    let mut cur: Option<(i64, i64)> = None;
    for (a, b) in v {
        cur = match cur {
            Some((ca, cb)) if a <= cb => Some((ca, cb.max(b))),
            Some((ca, cb)) => {
                total += span_len(real, ca, cb, i);
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    total + cur.map_or(0, |(a, b)| span_len(real, a, b, i))
}

/// The series a run's slave queue sends when `run.json` has a
/// `write_relabel_keep_i` rule: the exporter's series `lm_value{i="0"…}`
/// of each target whose `i` the rule's regex matches whole (Prometheus
/// anchors relabel regexes); the targets' own `up`/`scrape_*` series have
/// no `i` and are dropped.
fn sent_series(raw: &serde_json::Value) -> Option<u64> {
    let re = raw["write_relabel_keep_i"].as_str()?;
    let re = regex::Regex::new(&format!("^(?:{re})$")).ok()?;
    let targets = raw["targets"].as_u64()?.max(1);
    let per_target: Vec<u64> = match raw["target_series"].as_array() {
        Some(v) => v.iter().filter_map(|n| n.as_u64()).collect(),
        None => vec![raw["series"].as_u64()? / targets; targets as usize],
    };
    Some(
        per_target
            .iter()
            .map(|&n| (0..n).filter(|i| re.is_match(&i.to_string())).count() as u64)
            .sum(),
    )
}

/// The arguments `coverage` gets for a run, as an operator gives them
/// (without `--json`): the evidence copied into `tmp` (the snapshot at
/// `tmp/snapshot/<name>`, the master's `wal/` at `tmp/wal`).
pub(crate) fn coverage_args(ev: &Path, rec: &RunRecord, tmp: &Path) -> Vec<String> {
    let wal = wal_with_mtimes(ev, tmp);
    let snap = snapshot_with_targets(ev, &rec.snapshot_name, tmp);
    let scrape = rec.scrape_interval_ms;
    let mut args: Vec<String> = vec![
        "coverage".into(),
        snap.to_string_lossy().into_owned(),
        "--master".into(),
        wal.to_string_lossy().into_owned(),
        "--observed-at".into(),
        rec.wal_observed_at.to_string(),
        "--slave-up".into(),
        rec.slave_up.to_string(),
        "--rw-start".into(),
        rec.rw_start.to_string(),
        "--scrape-interval".into(),
        format!("{scrape}ms"),
    ];
    // The operator's fact of a restart: when the master was stopped (SIGTERM;
    // it scrapes nothing after that, until it is up again).
    for r in &rec.restarts {
        args.push("--master-restart".into());
        args.push(r.stopped.to_string());
    }
    // The master's queue_config, as an operator knows it from its config.
    if let Some(q) = rec.queue_config {
        for (flag, v) in [
            ("--queue-capacity", q.capacity),
            ("--max-samples-per-send", q.max_samples_per_send),
            ("--max-shards", q.max_shards),
        ] {
            if let Some(v) = v {
                args.push(flag.into());
                args.push(v.to_string());
            }
        }
    }
    // min_shards and batch_send_deadline, when the run recorded them (read
    // from run.json itself: the deadline as Prometheus writes it, "10s", or
    // in ms), with a unit as the flag requires.
    let raw: serde_json::Value = std::fs::read_to_string(ev.join("run.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(serde_json::Value::Null);
    // A slave up and receiving before the snapshot, then stopped, wiped and
    // seeded (since the eleventh set): when it stopped, as the operator knows.
    if let Some(t) = raw["slave_before_snapshot"]["stopped"].as_i64() {
        args.push("--slave-received-until".into());
        args.push(t.to_string());
    }
    let qc = &raw["queue_config"];
    if let Some(n) = qc["min_shards"].as_u64() {
        args.push("--min-shards".into());
        args.push(n.to_string());
    }
    let deadline = qc["batch_send_deadline_ms"]
        .as_i64()
        .map(|ms| format!("{ms}ms"))
        .or_else(|| {
            qc["batch_send_deadline"]
                .as_i64()
                .map(|ms| format!("{ms}ms"))
        })
        .or_else(|| qc["batch_send_deadline"].as_str().map(str::to_string));
    if let Some(d) = deadline {
        args.push("--batch-send-deadline".into());
        args.push(d);
    }
    // max_backoff (the seventh set's s1k-mb30s, s300-2s-mb1s); coverage has
    // no option for min_backoff.
    if let Some(ms) = qc["max_backoff_ms"].as_i64() {
        args.push("--max-backoff".into());
        args.push(format!("{ms}ms"));
    }
    // A write_relabel_configs keep rule on the slave's queue: the series it
    // sends, as the operator counts them from the rule and the targets.
    if let Some(n) = sent_series(&raw) {
        args.push("--sent-series".into());
        args.push(n.to_string());
    }
    // The slave's config and its restarts, as the operator knows them. Its
    // block range: the harness starts every slave with 1m blocks (also
    // under the 2m masters) unless `slave_block` says otherwise.
    args.push("--slave-block-range".into());
    args.push(rec.slave_block.clone().unwrap_or_else(|| "1m".into()));
    if let Some(ms) = rec.slave_ooo_window_ms {
        args.push("--slave-ooo-window".into());
        args.push(format!("{ms}ms"));
    }
    for r in rec.slave_restarts.iter().flatten() {
        args.push("--slave-restart".into());
        args.push(format!("{},{}", r.stopped, r.ready));
    }
    log_args(ev, rec, tmp, &mut args);
    args
}

/// The servers' logs a run kept, as an operator gives them.
fn log_args(ev: &Path, rec: &RunRecord, tmp: &Path, args: &mut Vec<String>) {
    // The master's log of the slave's queue, when the run kept it (its
    // reshards and refused requests decide the resharded catch-up).
    let log = ev.join("master-log.txt");
    if log.is_file() {
        args.push("--master-log".into());
        args.push(log.to_string_lossy().into_owned());
        // The recording keeps every line of the queue from the master's
        // start to `gaps_to` (its header says so): the log was taken then.
        args.push("--master-log-at".into());
        args.push(rec.gaps_to.to_string());
    }
    // The slave's log, when the run kept it (one line per refused request:
    // where each starts). The recording cut it to 20 KB, each `# cut` note
    // standing for the refusal lines it replaced; `coverage` reads such a
    // note as a documented span of missing lines (`slavelog::missing`), so
    // the file is given as recorded.
    // Since the eighteenth set a cut log has its whole copy beside it
    // (`slave-log.txt.gz`, every selected line): that one is given.
    let slog = ev.join("slave-log.txt");
    if slog.is_file() {
        let whole = std::fs::read(ev.join("slave-log.txt.gz")).ok().map(|z| {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&z[..]), &mut s)
                .unwrap();
            s.lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| format!("{l}\n"))
                .collect::<String>()
        });
        let p = match whole {
            Some(text) => {
                let p = tmp.join("slave-log.txt");
                std::fs::write(&p, text).unwrap();
                p
            }
            None => slog,
        };
        args.push("--slave-log".into());
        args.push(p.to_string_lossy().into_owned());
        // Its header: every kept line up to `gaps_to`.
        args.push("--slave-log-at".into());
        args.push(rec.gaps_to.to_string());
    }
}

/// Runs `coverage` on one run's evidence and applies the done criteria.
// The judge's rules, in order, over one run's evidence.
#[allow(clippy::too_many_lines)]
pub(crate) fn judge(ev: &Path) -> Judged {
    let run = ev
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut j = Judged {
        run,
        rec: None,
        coverage_end: None,
        predicted: Vec::new(),
        real: Vec::new(),
        failures: Vec::new(),
    };
    let rec: RunRecord = match std::fs::read_to_string(ev.join("run.json"))
        .map_err(|e| e.to_string())
        .and_then(|s| serde_json::from_str(&s).map_err(|e| e.to_string()))
    {
        Ok(r) => r,
        Err(e) => {
            j.failures.push(format!("run.json: {e}"));
            return j;
        }
    };
    let real: serde_json::Value = std::fs::read_to_string(ev.join("real-loss.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(serde_json::Value::Null);
    j.real = real["merged"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            Some(Win {
                cause: "real".into(),
                certainty: String::new(),
                from: m["from"].as_i64()?,
                to: m["to"].as_i64()?,
                to_earliest: m["to"].as_i64()?,
                to_expected: None,
                series: m["series"].as_u64(),
                reshard_risk: false,
            })
        })
        .collect();

    let tmp = tempfile::tempdir().unwrap();
    let mut args = coverage_args(ev, &rec, tmp.path());
    let scrape = rec.scrape_interval_ms;
    args.push("--json".into());
    let argv: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let out = promsnap(&argv);
    // An error document (`{"error": …}`, exit 2: coverage refused the
    // question) is no answer either (since the nineteenth set; before, it
    // was judged as an answer predicting nothing).
    let cov: Option<serde_json::Value> = serde_json::from_slice(&out.stdout)
        .ok()
        .filter(|v: &serde_json::Value| v.get("error").is_none());
    let Some(cov) = cov else {
        j.failures.push(format!(
            "coverage failed (exit {:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
        j.rec = Some(rec);
        return j;
    };
    // PROMSNAP_LOSS_VERDICT=1: print each run's verdict (to quote a miss).
    if std::env::var_os("PROMSNAP_LOSS_VERDICT").is_some() {
        eprintln!("{}: verdict: {}", j.run, cov["verdict"]);
    }
    // PROMSNAP_LOSS_DUMP=DIR: keep each run's answer, JSON and text (to diff
    // two builds of the estimator).
    dump(&j.run, "", &out.stdout, &argv[..argv.len() - 1]);
    j.coverage_end = cov["coverage_end"].as_i64();
    j.predicted = parse_windows(&cov["loss_windows"]);
    let c = j.coverage_end.unwrap_or(0);
    // A loss's length: the samples it holds times the scrape interval, a
    // real loss's and a predicted window's alike (`loss_len`).
    let long = |w: &Win| is_long(w, scrape);

    // 1. Every long real loss lies in a matching predicted window.
    let matches = |p: &Win, r: &Win| {
        (p.from - r.from).abs() <= scrape && r.to >= p.to_earliest - scrape && r.to <= p.to + scrape
    };
    for r in j.real.iter().filter(|r| long(r)) {
        if !j.predicted.iter().any(|p| matches(p, r)) {
            j.failures.push(format!(
                "real loss {}..{} not in a predicted window (start ±{} s, end in its range ±{} s)",
                sec(r.from - c),
                sec(r.to - c),
                scrape as f64 / 1e3,
                scrape as f64 / 1e3
            ));
        }
    }
    // 2. Nothing long predicted that did not happen.
    //    A `risk` window (a loss that can happen, on a path no file
    //    decides) is not a prediction that it does. A predicted window
    //    happened when a real loss matches it as in 1, or when a real loss
    //    holds its start and its earliest end (± one scrape interval):
    //    every sample it says is lost was lost. For a window starting with
    //    the real loss that is the ninth pass's reading (a loss lasting at
    //    least as long); the tenth pass extends it to a window that starts
    //    inside a real loss (a run of refused requests the slave's log
    //    places there). Criterion 1 still requires some window to place
    //    each long real loss's start and end.
    let covers = |r: &Win, p: &Win| r.from <= p.from + scrape && r.to >= p.to_earliest - scrape;
    for p in j
        .predicted
        .iter()
        .filter(|p| long(p) && p.certainty != "risk")
    {
        if !j
            .real
            .iter()
            .filter(|r| long(r))
            .any(|r| matches(p, r) || covers(r, p))
        {
            j.failures.push(format!(
                "predicted {} ({}) {}..{} (end from {}) did not happen",
                p.cause,
                p.certainty,
                sec(p.from - c),
                sec(p.to - c),
                sec(p.to_earliest - c)
            ));
        }
    }
    // 3. A boundary sliver is predicted at most 10 s longer than it is
    //    (lengths of the windows' union, so that a lone missing sample far
    //    from the boundary adds nothing).
    if !j.real.iter().any(long) {
        let expected: Vec<Win> = j
            .predicted
            .iter()
            .filter(|p| p.certainty != "risk")
            .cloned()
            .collect();
        let (ps, rs) = (union_len(&expected, scrape), union_len(&j.real, scrape));
        if ps > rs + 10_000 {
            j.failures.push(format!(
                "boundary sliver predicted {:.1} s long, real {:.1} s (+10 s allowed)",
                ps as f64 / 1e3,
                rs as f64 / 1e3
            ));
        }
    }
    // 4. No lost sample is called safe: every real loss, a sliver too, lies
    //    within one scrape interval of some predicted window (any
    //    certainty). The criteria above hold a sliver's length, not its
    //    place; a verdict of "no real loss" while a scrape was lost is the
    //    understatement the issue names as the worst answer. A loss within
    //    two scrape intervals of the measurement's end (`gaps_to`: the
    //    master stopped, its last scrape in flight) is the measurement's
    //    edge, not the estimate's.
    for r in j.real.iter().filter(|r| r.from < rec.gaps_to - 2 * scrape) {
        if !j
            .predicted
            .iter()
            .any(|p| p.from - scrape <= r.to && p.to + scrape >= r.from)
        {
            j.failures.push(format!(
                "real loss {}..{} outside every predicted window (± {} s): a lost sample called safe",
                sec(r.from - c),
                sec(r.to - c),
                scrape as f64 / 1e3
            ));
        }
    }
    j.rec = Some(rec);
    j
}

/// With `PROMSNAP_LOSS_DUMP=DIR`, writes `DIR/<run><tag>.json` (the answer
/// `json`) and, when `text_args` are given, `DIR/<run><tag>.txt` (the same
/// run without `--json`): two builds' answers to diff.
pub(crate) fn dump(run: &str, tag: &str, json: &[u8], text_args: &[&str]) {
    let Some(dir) = std::env::var_os("PROMSNAP_LOSS_DUMP").map(PathBuf::from) else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    // Temporary paths differ between runs: name them by their role.
    let tmp = std::env::temp_dir();
    let clean = |b: &[u8]| {
        let s = String::from_utf8_lossy(b).into_owned();
        regex::Regex::new(&format!(
            r"{}/\.tmp[A-Za-z0-9]+",
            regex::escape(&tmp.to_string_lossy())
        ))
        .unwrap()
        .replace_all(&s, "TMP")
        .into_owned()
    };
    std::fs::write(dir.join(format!("{run}{tag}.json")), clean(json)).unwrap();
    if !text_args.is_empty() {
        let out = promsnap(text_args);
        let text = format!("{}\n--- stderr\n{}", clean(&out.stdout), clean(&out.stderr));
        std::fs::write(dir.join(format!("{run}{tag}.txt")), text).unwrap();
    }
}

/// Every recorded run under `dir` (directories holding a run.json).
pub(crate) fn recorded(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.join("run.json").is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn wins(ws: &[Win], c: i64) -> String {
    if ws.is_empty() {
        return "none".into();
    }
    ws.iter()
        .map(|w| {
            let end = if w.to_earliest != w.to {
                match w.to_expected {
                    Some(x) => format!(
                        "{} … **{}** … {}",
                        sec(w.to_earliest - c),
                        sec(x - c),
                        sec(w.to - c)
                    ),
                    None => format!("{} … {}", sec(w.to_earliest - c), sec(w.to - c)),
                }
            } else {
                sec(w.to - c)
            };
            let ser = w
                .series
                .map(|n| format!(" ({n} series)"))
                .unwrap_or_default();
            if w.cause == "real" {
                format!("[{}, {}]{ser}", sec(w.from - c), end)
            } else {
                format!(
                    "{} {} [{}, {}]{ser}",
                    w.cause,
                    w.certainty,
                    sec(w.from - c),
                    end
                )
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The matrix as a markdown table.
pub(crate) fn table(rs: &[Judged]) -> String {
    let mut s = String::from(
        "| run | series × targets | scrape | skip_head | rw late | restarts | slave up (after C_snap) | predicted | real (gaps --against) | end range | verdict |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for j in rs {
        let c = j.coverage_end.unwrap_or(0);
        let (meta, up) = match &j.rec {
            Some(r) => (
                format!(
                    "{} × {} | {} s | {} | {} | {}",
                    r.series / r.targets.max(1),
                    r.targets,
                    if r.scrape_interval_ms % 1000 == 0 {
                        (r.scrape_interval_ms / 1000).to_string()
                    } else {
                        format!("{:.1}", r.scrape_interval_ms as f64 / 1e3)
                    },
                    if r.skip_head { "yes" } else { "no" },
                    if r.rw_late { "yes" } else { "no" },
                    r.restarts.len()
                ),
                // No coverage end (a snapshot without a block): "—".
                match j.coverage_end {
                    Some(_) => sec(r.slave_up - c),
                    None => "—".into(),
                },
            ),
            None => ("? | ? | ? | ? | ?".into(), "?".into()),
        };
        let verdict = if j.failures.is_empty() {
            "PASS".to_string()
        } else {
            format!("FAIL: {}", j.failures.join("; "))
        };
        s.push_str(&format!(
            "| {} | {meta} | {up} | {} | {} | {:.1} s | {verdict} |\n",
            j.run,
            wins(&j.predicted, c),
            wins(&j.real, c),
            range_width(&j.predicted) as f64 / 1e3
        ));
    }
    let widths: Vec<i64> = rs.iter().map(|j| range_width(&j.predicted)).collect();
    let n = widths.len().max(1) as f64;
    s.push_str(&format!(
        "\nEnd range (the widest `to_earliest … to` of a run's predicted windows): mean {:.1} s, max {:.1} s over {} runs; {} of {} runs pass.\n",
        widths.iter().sum::<i64>() as f64 / 1e3 / n,
        widths.iter().copied().max().unwrap_or(0) as f64 / 1e3,
        widths.len(),
        rs.iter().filter(|j| j.failures.is_empty()).count(),
        rs.len()
    ));
    s.push_str(&risk_stats(rs));
    s
}

/// The end range without risk windows, and the resharded catch-up's
/// risks: how many runs carry one, how many lost past every other
/// window's end (inside the risk's range).
fn risk_stats(rs: &[Judged]) -> String {
    let n = rs.len().max(1) as f64;
    // The same without risk windows, and the resharded catch-up's risks:
    // how many runs carry one, how many lost past its earliest end.
    let firm: Vec<i64> = rs
        .iter()
        .map(|j| {
            let w: Vec<Win> = j
                .predicted
                .iter()
                .filter(|w| w.certainty != "risk")
                .cloned()
                .collect();
            range_width(&w)
        })
        .collect();
    let with_risk: Vec<&Judged> = rs
        .iter()
        .filter(|j| j.predicted.iter().any(|w| w.reshard_risk))
        .collect();
    // Lost past every end the other windows give, inside the risk's range.
    let lost_past = with_risk
        .iter()
        .filter(|j| {
            let i = j.rec.as_ref().map_or(1000, |r| r.scrape_interval_ms);
            let firm_end = j
                .predicted
                .iter()
                .filter(|w| !w.reshard_risk)
                .map(|w| w.to)
                .max()
                .unwrap_or(i64::MIN);
            j.predicted.iter().filter(|w| w.reshard_risk).any(|w| {
                j.real
                    .iter()
                    .any(|r| r.to > firm_end + i && r.to <= w.to + i)
            })
        })
        .count();
    format!(
        "Without risk windows: mean {:.1} s, max {:.1} s. A resharded catch-up's risk window (L3 \
         risk, no master's log): {} runs, {} of which lost past every other window's end.\n",
        firm.iter().sum::<i64>() as f64 / 1e3 / n,
        firm.iter().copied().max().unwrap_or(0) as f64 / 1e3,
        with_risk.len(),
        lost_past
    )
}

/// How `coverage` words the resharded catch-up's risk window.
const RESHARD_RISK: &str = "if the queue reshards while the reader is behind";

/// The usefulness of a prediction: the widest end range (`to − to_earliest`)
/// of its windows (0 when every end is a point).
pub(crate) fn range_width(ws: &[Win]) -> i64 {
    ws.iter().map(|w| w.to - w.to_earliest).max().unwrap_or(0)
}

/// `promtool tsdb dump` of the series `i="0"` of both dirs: the master's
/// samples the slave lacks, as runs, against what `gaps` found for them.
/// With `up_series` (a Debian-config master: no exporter series), the `up`
/// series instead, the slave's `monitor` external label removed (its
/// seeded and remote-written series joined, as `gaps --drop-label`).
// One comparison per series, in order.
#[allow(clippy::too_many_lines)]
pub(crate) fn crosscheck(
    master: &Path,
    slave: &Path,
    from: i64,
    to: i64,
    per_series: &[serde_json::Value],
    up_series: bool,
) -> serde_json::Value {
    let matcher = if up_series {
        "--match={__name__=\"up\"}"
    } else {
        "--match={i=\"0\"}"
    };
    let dump =
        |dir: &Path| crate::lossmatrix::promtool_times(dir, from, to, matcher).expect("promtool");
    let (mm, sm) = (dump(master), dump(slave));
    let mut series = Vec::new();
    for (labels, ts) in &mm {
        let have: std::collections::HashSet<i64> = sm
            .get(labels)
            .map(|v| v.iter().copied().collect())
            .unwrap_or_default();
        let mut runs: Vec<(i64, i64)> = Vec::new();
        let mut cur: Option<(i64, i64)> = None;
        for &t in ts {
            if have.contains(&t) {
                if let Some(r) = cur.take() {
                    runs.push(r);
                }
            } else {
                cur = Some(cur.map_or((t, t), |(a, _)| (a, t)));
            }
        }
        runs.extend(cur);
        let target = labels
            .split("target=\"")
            .nth(1)
            .and_then(|x| x.split('"').next())
            .unwrap_or("");
        let instance = labels
            .split("instance=\"")
            .nth(1)
            .and_then(|x| x.split('"').next())
            .unwrap_or("");
        let ours: Vec<(i64, i64)> = per_series
            .iter()
            .filter(|p| {
                let s = p["series"].to_string();
                if up_series {
                    s.starts_with("\"{__name__=\\\"up\\\"")
                        && s.contains(&format!("instance=\\\"{instance}\\\""))
                } else {
                    s.contains("i=\\\"0\\\"") && s.contains(&format!("target=\\\"{target}\\\""))
                }
            })
            .flat_map(|p| {
                p["ranges"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|r| Some((r["from"].as_i64()?, r["to"].as_i64()?)))
            })
            .collect();
        series.push(serde_json::json!({
            "series": labels,
            "master_samples": ts.len(),
            "slave_samples": have.len(),
            "promtool_missing_runs": runs,
            "gaps_missing_runs": ours,
            "agree": runs == ours,
        }));
    }
    serde_json::json!({
        "what": if up_series {
            "promtool tsdb dump --match='{__name__=\"up\"}' of master and slave over [from, to], \
             the slave's monitor=\"example\" removed"
        } else {
            "promtool tsdb dump --match='{i=\"0\"}' of master and slave over [from, to]"
        },
        "from": from,
        "to": to,
        "series": series,
    })
}

/// Masters recorded after the estimator was fitted, with parameter values
/// never recorded before: the out-of-sample evidence (MATRIX.md lists them
/// apart). The second set (`s1k-15s` …) was recorded before the rule
/// changes the first set led to were made (the L2 drain, the lagging-shard
/// risk).
const OUT_OF_SAMPLE_MASTERS: &[&str] = &[
    "s2k-2s",
    "s300x3-10s",
    "s5k-2m",
    "s800-q",
    "s1k-15s",
    "s3k-q",
    "s600x2-1s5s",
    "s400-3m",
    "s9k-busyz",
    "s300-30s-2m",
    "s1700x3-2s",
    "s1500-q2k",
    "s1200-restart-2s",
    "s700-3s-skip",
    "s250-late-2m",
    "s450-20s",
    "s150-5s-laterw",
    "s120-20s",
    "s1100-nz",
    "s1900x4-mix",
    "s2k-q500x3",
    "s3500-3s",
    "s900-restart-skip",
    "s60-90s",
    "s1k-2s-qmin",
    "s600-5s-nz",
    "s400-restart-laterw",
    "s6k-2s-nz",
    "s500-7s-4m",
    "s350-2s-late9",
    "s12k-busyz",
    "s800x2-updown",
    "s2k-relabel",
    "s1k-500ms",
    "s1500-2rw",
    "s700-q1",
    "s400-1500ms",
    "s1500-relabel",
    "s1k-churn",
    "s1300-srestart",
    "s700-sblk2m",
    "s600-lag7s",
    "s5k-snapcomp",
    "s2500-q5k",
    "s80-5s-d10s",
    "s150-d1s",
    "s400-q50",
    "s900-2s-lag3s",
    "s500-slow",
    "s700-ooo",
    "s600-snap25",
    "s889x30",
    "s1k-mb30s",
    "s800-snapb3",
    "s400-2s-snap50",
    "s300-2s-mb1s",
    "s1200-2s-slow",
    "s2k-snap40",
    "s300-5s-ooo",
    "s500-snapph25",
    "s7k-ms20",
    "s650-b1m3m",
    "s4k-ms5",
    "s8k-rt2s",
    "s5500-ms50",
    "s3200-q10k2k",
    "s4500-ms50",
    "s6500-up45",
    "s4200-10s",
    "s40-4s-d30s",
    "s7500-15s",
    "s3300-spp1k",
    "s2600-2s-min2",
    "s5800-up38",
    "s2200-q1k250",
    "s9500-10s",
    "s6200-q5k-ms10",
    "s3k-20s",
    "s1800-min8",
    "s10k-q20k",
    "s3900-up47",
    "s6kx3-10s",
    "s2400-5s",
    "s1500-30s",
    "s7k-2s",
    // The tenth set (lossrec8), listed in docs/LOSS-WINDOWS.md before it
    // was recorded.
    "s4800-spp200",
    "s6800-cap4k",
    "s3400-spp750-ms25",
    "s8500-ms30",
    "s11k",
    "s4400-2m",
    "s7300-cap1800-ms80",
    "s3100-spp300-cap1200",
    "s1350-3s",
    "s2100-7s",
    "s950-12s",
    "s1650-2m-skip",
    "s2300-laterw",
    "s1950-restart",
    "s640-12s-skip",
    "s280-3s-laterw",
    // The eleventh set (docs/LOSS-WINDOWS.md: listed before recording).
    "s4700-ms45",
    "s9k-q18k-ms90",
    "s3600-2m-spp400",
    "s6300-2m-cap3k-ms60",
    "s5200-cap2200-spp600",
    "s7700-ms15",
    "s730-pre",
    "s260-nh",
    "s2700-2s-2m",
    "s1150-4s-skip",
    "s430-6s-3m",
    "s170-10s-laterw",
    "s2900-restart",
    "s880x2-2s",
    // The twelfth set (docs/LOSS-WINDOWS.md: listed before recording).
    "s2200-15s-2m",
    "s3k-30s-2m-spp250",
    "s2500x3-1s15s30s",
    "s1400-pre",
    "s2600-5s-skip",
    "s4200-6s-skip",
    "s1800x2-5s15s",
    "s2k-15s-pre",
    "s8200-q16k-ms75",
    "s9500-q19k-ms115",
    "s15k-busy",
    "s5600-15s-cap1k",
    "s1300-30s-3m",
    // JSON logs (listed before recording).
    "s4600-ms55-json",
    "s3000-5s-skip-json",
    // The thirteenth set (docs/LOSS-WINDOWS.md: listed before recording).
    "s300-2s-skip",
    "s600-3s-skip",
    "s450-2s-late6",
    "s380-late8",
    "s350-3s-laterw",
    "s600-2s-sblk2m",
    "s1200-sblk3m",
    "s1500-bsd1s",
    "s2400-min3-bsd10s",
    "s1600-10s-skip",
    "s800-2s-restart",
    "s900-srestart",
    "s2400-2s-relabel",
    "s420-late9",
    "deb15-ext",
    "deb15-noext",
    "deb1s-ext",
    "deb1s-noext",
    "deb5s-ext",
    "deb15-ext-soon",
    "deb5s-noext",
    // The fifteenth set (docs/LOSS-WINDOWS.md): the head, several targets,
    // long intervals, slow targets; `up_tail` recorded.
    "deb15h-ext",
    "deb3t-slow",
    "deb10-ext",
    "deb3t-15-10",
    "deb30-ext",
    "deb10-tmo9",
    "deb3t-30s",
    "s600-15s-1t",
    "deb15h-noext",
    "deb5s-slow",
    // The sixteenth set (docs/LOSS-WINDOWS.md: listed before recording).
    "deb1s-ph41",
    "deb3t-ev7",
    "deb3t-q300",
    "s7500x3-2s3s5s",
    "deb1s-ev4",
    // The seventeenth set (docs/LOSS-WINDOWS.md: listed before recording).
    "deb1s-ph14",
    "deb15-ph57",
    "s13k-busy",
    "s8400x3-3s2s5s",
    "deb3t-ev3",
    "s5k-ms2",
    "s3600-2s-fix3",
    "s900-25s",
    "s18k-busy",
    // The eighteenth set (docs/LOSS-WINDOWS.md: listed before recording).
    "deb1s-ph5",
    "deb15-ph47",
    "deb15-rp2",
    "deb1s-restart",
    "deb1s-headgc",
    "s6100-ms35",
    "s1250-4s-skip",
    "s12k-ms2-spp100",
    "s4k-cap250-spp125",
    // The nineteenth set (docs/LOSS-WINDOWS.md: listed before recording).
    "self1s-2h",
    "deb15-2h",
    "self1s-seed",
    "deb15-seed",
    "self1s-ph13",
    "self1s-sblk2h",
    // The twentieth set (docs/LOSS-WINDOWS.md: listed before recording).
    "self1s-long",
    "s1050-15s",
    "s2k-min6-cap300",
    "s19k-busy",
    "self1s-ph46h",
    // The twenty-first set (docs/LOSS-WINDOWS.md: listed before recording).
    "self1s-edge",
    "s800-10s-2m",
    "self1s-2rst",
    "self1s-ph21h",
    // The twenty-second set (docs/LOSS-WINDOWS.md: listed before recording).
    "self1s-drawn",
    "self1s-rstup",
    "self1s-rstpre",
    "s1000-2500ms",
    "self1s-rstup7",
    // The twenty-third set (docs/LOSS-WINDOWS.md: listed before recording).
    "self1s-kpre",
    "self1s-kup",
    "self1s-tup135",
    "self1s-tup75",
    "self1s-tup25",
    // The twenty-fourth set (docs/LOSS-WINDOWS.md: listed before recording).
    "self1s-tup227",
    "self1s-tup338",
    "self1s-tup354",
    "self1s-kup155",
    "self1s-lm4k-tup92",
];

/// Runs of out-of-sample masters recorded again to fit a rule on (the
/// lagging shards refused whole after a reshard; their `master-log.txt` and
/// `slave-log.txt` show it): judged with the fitted runs, not as out of
/// sample.
const FITTED_REPEATS: &[&str] = &[
    "s12k-busyz-up35-r3",
    "s1k-mb30s-soon-r3",
    "s1k-mb30s-up20-r3",
    "s2k-snap40-soon-r3",
    "s2k-snap40-up25-r3",
    "s5k-2m-up90-r2",
    "s5k-snapcomp-skiphead-r3",
    "s1200-2s-slow-soon-r3",
    "s1200-2s-slow-up30-r3",
    // Recorded again with both logs kept (lossrec7), to fit the remaining
    // misses on.
    "s900-2s-lag3s-soon-r2",
    "s900-2s-lag3s-up25-r2",
    "s4500-ms50-up55-r3",
    "s700-sblk2m-soon-r3",
    "s80-5s-d10s-soon-r2",
    "s5k-2m-up90-r3",
];

/// What would place a lagging shard's loss (docs/LOSS-WINDOWS.md, "Ninth
/// pass"): the rule bounds its end (one batch span after the last refusal
/// instant minus half the block range, by the end of the resharded
/// catch-up), not its start.
macro_rules! second_loss {
    () => {
        " (ninth pass) The rule bounds the end of such a loss (a refused request's newest sample is \
         at most one batch span after its refusal instant minus half the block range, all by the end \
         of the resharded catch-up: inside the window's far end), not its start: the oldest sample of \
         a lagging shard's first refused request, a per-shard pace no file and no master's log line \
         records. (tenth pass) The slave's log places it (coverage --slave-log: each refused request \
         starts at its logged timestamp and spans one batch of its shard's series), where the log \
         holds that request's line"
    };
}

/// Recorded runs the estimator is known to get wrong, each with what is not
/// modelled. Issue 14 stays open while this list is not empty.
const KNOWN_MISSES: &[(&str, &str)] = &[
    (
        "s4500-ms50-up55-r2",
        concat!(
            "the second recording of s4500-ms50-up55: first attempt +58.8 s, reshard 1 -> 50 at +60.4 s in the \
         refused backlog again; the slave refused 886 whole requests from +58.8 to +64.0 s, the last ones \
         starting at +17 .. +29 s: besides the crossing batches (+1 .. +6 s, 1 844 series), 810 series (about \
         nine of the 50 shards) lost +12 .. +34 s. coverage predicts L3 +1 .. +5 s and a one-shard risk. (Its \
         up35 slave resharded the same way at +40.4 s but its last refused requests started at +1 s: it lost \
         +1 .. +6 s and passed). With its slave-log.txt (tenth pass) coverage predicts L3 +1 .. +5..+35 s and \
         a run +17 .. +29..+35 s: the recording cut the log to 20 KB, and the refusals starting at +12 .. \
         +16 s are among the 92 lines one '# cut' note replaced (first samples -16 .. +23 s); the lines kept \
         start at +17, +23 and +29 s, so the run starts 5 s late. The whole log would place it. Read as a \
         span of missing lines (issue 14), the note may hide a loss from +1 s to +29 s (its newest start's \
         end), which the crossing window +1 .. +35 s already holds: no start between is known, so none is \
         placed at +12 s.",
            second_loss!()
        ),
    ),
    (
        "s500-restart-overtaken-r2",
        "after the master's restart (its new reader started in segment 2, after the restart; \
         checkpoint.00000001 deleted segments 0-1 only: not overtaken, as predicted), the slave received samples for 7 s \
         (until +183 s) and nothing after, with no error in either log and 2 499 samples left unsent at \
         shutdown: a second loss to the end of the observation. 2.42's code read for it (issue 14): \
         sendSamples drops a batch only on a non-recoverable error (a 4xx such as out of order/bounds), \
         one batch per error and logged as 'non-recoverable error' -- not 27 s of every series, and no \
         such line; Append drops samples of series missing from its map, but only after a checkpoint's \
         garbage collection (garbageCollectSeries: UpdateSeriesSegment for the series in the checkpoint, \
         then SeriesReset of the older ones), and checkpoint.00000001 keeps every series (each was \
         scraped after the restart, so the head kept it); the restarted watcher replays series only and \
         tails from its start time, which explains no loss after the slave is up. 2 499 samples enqueued \
         at the hard shutdown is one shard's channel full (capacity 2 500): a send that never returned, \
         which no file predicts. A fourth recording with both logs (s500-restart-overtaken-r4: slave up \
         +174.5 s, the old process killed +75.3 s after 'Failed to flush all samples on shutdown' count=999, \
         the new one replaying from +105.4 s) lost +1 .. +15 s only: the loss after the slave was up did not \
         recur",
    ),
    (
        "s5k-2m-up90",
        concat!(
            "out of sample. Besides the predicted sliver (+1..+4 s, all series), 116 series (= 5 005 / 43: one \
         shard of the 43 the queue resharded to) lost +68..+73 s, 24..19 s before the slave was up: the \
         slave logged that batch 'out of bounds' 13 s after the reshard (07:22:03.9, sample 07:21:18.7). \
         tsdb/head.go appendableMinValidTime: the slave's head (1m blocks in the recordings) refuses \
         samples older than its newest sample minus half its block range, so a shard lagging that far \
         behind the others loses its batch whole. The lost run is exactly one batch (500 samples = \
         max_samples_per_send) of one new shard, so it is that shard's first batch after the reshard, \
         starting at the reader's position at the reshard tick (reshardLoop starts the new shards there). \
         That position (+68 s, 8.5 s after the slave was up) is where one shard's sequential sends of \
         accepted samples had brought the reader by the tick: 340 000 samples at a send speed no file \
         records (40 000 samples/s, faster than the reader speed measured from the 400 answers); a start within 1 s would \
         need that speed to 1.5 %. The files give the rest, and coverage states it as an L3 risk window \
         (C_snap .. slave up, 117 series: one shard of the 43 expected): the first reshard tick after the \
         slave is up, one refused batch = 500 samples of 117 series, about 5 scrapes (real: 6), and that the \
         start lies anywhere in the window at a speed no file records; the start is not predicted. Its \
         recording kept no slave-log.txt (recorded before the eighth set): the line quoted above, read from \
         the raw log, is the one coverage --slave-log would place it from (tenth pass).",
            second_loss!()
        ),
    ),
    (
        "s4700-ms45-up57-r2",
        "out of sample (eleventh set, the repeat; the first recording passed): 4 700 series at 1 s, \
         max_shards 45, slave up +57.5 s. The master's log: first refused batch +58.8 s, reshard \
         1 -> 45 at +60.5 s inside the refused backlog (45 -> 5 at +70.5 s). The slave's log: the \
         crossing batches refused from -3 s and -2 s (45 requests), and one request starting at +6 s. \
         Real loss +1 .. +2 s of all series (the crossing batches) and +6 .. +11 s of 105 series (one \
         shard of the 45: a 500-sample batch of 105 series spans about 5 scrapes). coverage (main, \
         with the slave's log) predicts L3 +1 .. +2..+11 s and +6 .. +6..+11 s: the second matches; \
         the first's earliest end is the real one, but it reads as a 10 s window and the real loss \
         at its start is a two-scrape sliver (2 s by the judge's measure), so to the judge a long \
         window that did not happen (the criterion reads a window to its far end, like the tenth \
         set's slivers). Twelfth pass: ending the crossing window with its own refused requests \
         (+3 s here, still three scrape instants: long) understates six runs whose recorded logs \
         were cut without every refused start (docs/LOSS-WINDOWS.md), so it is not done. \
         A refused request's far end (docs/LOSS-WINDOWS.md): by 2.42's code every crossing \
         request here ends by +2 s (the 20th batch of each new shard, first samples the 23rd of \
         105 or the 9th/10th of 104 of their shard's samples of -3 s / -2 s), which coverage \
         would place from each line's series and the master's WAL; the recording cut 43 of the 45 \
         crossing lines (their series lost) and thinned the WAL (no refs), so the last place \
         (+3 s) stands. Recordings since keep both (slave-log.txt.gz, the named series): \
         s4700-ms45-up57-r3, the same class recorded with them, passes with the crossing \
         [+1, +2 s] placed (real +1 .. +2 s).",
    ),
    (
        "s9500-q19k-ms115-up52",
        "out of sample (twelfth set; passed with main's estimator under the judge's old measure): \
         9 500 series at 1 s, capacity 19 000, max_shards 115, slave up +52.8 s. Real loss +1 s of \
         4 524 series, +24 .. +25 s of 633 and +28 .. +33 s of 1 133. coverage (with the slave's log) \
         predicts L3 +1 s, +24 .. +25..+26 s and +28 .. +32..+33 s: every start and end is right, \
         but read to its far end the middle window holds three 1 s instants (long, by the twelfth \
         pass's measure) while the loss it predicts is two scrapes: a long window that did not \
         happen (criterion 2), the class of s4700-ms45-up57-r2 (a window read to its far end). \
         By 2.42's code the run's second request (+25 s) is the same shard's next batch (the \
         133rd of its 633 samples of +25 s) and ends there: the line is inside a cut note (its \
         series lost) and the thinned WAL has no refs, so its last place (+26 s) stands \
         (docs/LOSS-WINDOWS.md, a refused request's far end).",
    ),
    (
        "deb15-ext-t40",
        "out of sample (fourteenth set): the Debian package's config (global 15 s, job prometheus \
         self-scrape 5 s, job node 15 s: two targets; the judge gives --scrape-interval 15s). \
         coverage (main) predicts L4 at most 10 s before C_snap (the isolation race of two targets) \
         and the crossing batch after it: union 30 s by the judge's measure (each window plus one \
         15 s interval) against a real sliver of one scrape (15 s), 5 s over the 10 s allowed \
         (criterion 3). No sample before C_snap was lost in any deb15 run (the L4 bound did not \
         happen). Honest (a bound), too wide; not an understatement. The skip_head runs of the \
         class pass since their one compacted block is no longer read as a head block. What would \
         narrow L4 on a head snapshot is not in these runs' evidence: whether a target's scrape \
         stamped before C_snap was still being committed at the head read (the commit's end: its \
         scrape_duration_seconds sample in the master WAL, dropped by the thinning, and the head \
         block's newest sample per target, not kept: the snapshot is kept as meta.json and the \
         targets' up series only). The WAL's record order alone does not decide it: a commit \
         written to the WAL before the one holding C_snap - 1 can still be appending in memory at \
         the read. Real +4.4 s of 8 series (external labels dropped). Recorded again with \
         up_tail (sixteenth set, deb15-ext-t40-r3): no target's next scrape due by the coverage \
         end, no L4 window, passes.",
    ),
    (
        "deb15-noext-t40",
        "out of sample (fourteenth set, the control without external labels): the miss of \
         deb15-ext-t40 (L4 bound 10 s + the crossing batch, union 30 s by the judge's measure, \
         real one 15 s scrape). Real +5 s of 136 series. Recorded again with up_tail (sixteenth \
         set, deb15-noext-t40-r3): passes, no L4 window.",
    ),
    (
        "deb15-ext-soon-soon",
        "out of sample (fourteenth set): the miss of deb15-ext-t40 (L4 bound 10 s + the crossing \
         batch, union 30 s by the judge's measure, real one 15 s scrape). Slave up +5 s; real \
         +3.7 s of 143 series. Recorded again with up_tail (sixteenth set, -r3, -r4): both pass, \
         no L4 window.",
    ),
    (
        "deb15-ext-soon-up90",
        "out of sample (fourteenth set): the miss of deb15-ext-t40 (L4 bound 10 s + the crossing \
         batch, union 30 s by the judge's measure, real one 15 s scrape). Slave up +90 s; real \
         +3.7 s of 143 series. Recorded again with up_tail (sixteenth set, -r3, -r4): both pass, \
         no L4 window.",
    ),
    (
        "deb15-ext-t40-r2",
        "out of sample (fourteenth set, the repeat): the miss of deb15-ext-t40 (L4 bound 10 s + \
         the crossing batch, union 30 s by the judge's measure, real one 15 s scrape). Real \
         +3.6 s of 143 series. Its master recorded again with up_tail: deb15-ext-t40-r3 \
         passes.",
    ),
    (
        "deb15-noext-t40-r2",
        "out of sample (fourteenth set, the control's repeat): the miss of deb15-ext-t40 (L4 \
         bound 10 s + the crossing batch, union 30 s by the judge's measure, real one 15 s \
         scrape). Real +5 s of 138 series. Its master recorded again with up_tail: \
         deb15-noext-t40-r3 passes.",
    ),
];

/// Judges every recorded run; fails listing the runs that miss a criterion
/// (other than the known misses above).
#[test]
fn recorded_runs_meet_the_done_criteria() {
    let dir = testdata("loss-runs");
    let mut runs = recorded(&dir);
    // PROMSNAP_LOSS_JUDGE=a,b: judge only the runs whose names start with
    // one of these (a look at new recordings; MATRIX.md is not written).
    let only = std::env::var("PROMSNAP_LOSS_JUDGE").ok();
    if let Some(only) = &only {
        runs.retain(|r| {
            let name = r.file_name().map(|n| n.to_string_lossy().into_owned());
            name.is_some_and(|n| only.split(',').any(|p| n.starts_with(p)))
        });
    }
    if runs.is_empty() {
        eprintln!("lossruns: no recorded runs under {}", dir.display());
        return;
    }
    let results: Vec<Judged> = runs.iter().map(|r| judge(r)).collect();
    let oos = |j: &Judged| {
        j.rec
            .as_ref()
            .is_some_and(|r| OUT_OF_SAMPLE_MASTERS.contains(&r.master.as_str()))
            && !FITTED_REPEATS.contains(&j.run.as_str())
    };
    let (fresh, fitted): (Vec<Judged>, Vec<Judged>) = results.iter().cloned().partition(oos);
    let t = format!(
        "## Runs the estimator was fitted on\n\n{}\n## Out-of-sample runs\n\n\
         Masters {OUT_OF_SAMPLE_MASTERS:?}: parameter values never recorded before (series count, scrape \
         interval, targets, slave-up times, block range, queue_config), recorded after the estimator was \
         fitted.\n\n{}",
        table(&fitted),
        table(&fresh)
    );
    eprintln!("{t}");
    if std::env::var_os("PROMSNAP_WRITE_MATRIX").is_some() && only.is_none() {
        let head = "# The loss-run matrix: `coverage` predicted vs `gaps --against` real\n\n\
            Generated by `scripts/loss-matrix.sh table` from the runs in this directory \
            (README.md). Times are relative to `C_snap` (the coverage end `coverage` reports). \
            A verdict is the three done criteria of `tests/lossruns.rs`; `end range` is the widest \
            `to_earliest … to` of the run's predicted windows (how far the prediction is from a point).\n\n";
        std::fs::write(dir.join("MATRIX.md"), format!("{head}{t}")).unwrap();
    }
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| !r.failures.is_empty())
        .map(|r| r.run.as_str())
        .collect();
    let unexpected: Vec<&str> = failed
        .iter()
        .copied()
        .filter(|r| !KNOWN_MISSES.iter().any(|(k, _)| k == r))
        .collect();
    assert!(
        unexpected.is_empty(),
        "{} of {} recorded runs miss the done criteria: {failed:?} (known misses: {:?})",
        failed.len(),
        results.len(),
        KNOWN_MISSES.iter().map(|(k, _)| *k).collect::<Vec<_>>()
    );
    // A known miss that now passes must leave the list: the list says what
    // the estimator still gets wrong, nothing else.
    for (k, why) in KNOWN_MISSES {
        if results.iter().any(|r| r.run == *k) {
            assert!(
                failed.contains(k),
                "{k} meets the done criteria now: remove it from KNOWN_MISSES ({why})"
            );
        }
    }
}

/// Per segment (and checkpoint segment) of a `promsnap wal --json`: name →
/// (min_t, max_t, records).
fn wal_segments(v: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    let w = &v["wal"];
    let mut out = Vec::new();
    let seg = |s: &serde_json::Value| serde_json::json!([s["min_t"], s["max_t"], s["records"]]);
    for s in w["segments"].as_array().into_iter().flatten() {
        out.push((s["name"].as_str().unwrap_or("").to_string(), seg(s)));
    }
    for c in w["checkpoints"].as_array().into_iter().flatten() {
        for s in c["segments"].as_array().into_iter().flatten() {
            let n = format!(
                "{}/{}",
                c["name"].as_str().unwrap_or(""),
                s["name"].as_str().unwrap_or("")
            );
            out.push((n, seg(s)));
        }
    }
    out
}

/// A thinned `master-wal/` keeps every segment's sample time range and
/// record count of the real copy (its `wal-summary.json`), and reads clean.
#[test]
fn thinned_wal_copies_keep_segment_time_ranges() {
    let mut n = 0;
    for ev in recorded(&testdata("loss-runs")) {
        let Ok(s) = std::fs::read_to_string(ev.join("run.json")) else {
            continue;
        };
        let rec: RunRecord = serde_json::from_str(&s).unwrap();
        if rec.wal_evidence != "thinned" {
            continue;
        }
        n += 1;
        let real: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(ev.join("wal-summary.json")).unwrap())
                .unwrap();
        let out = promsnap(&["wal", ev.join("master-wal").to_str().unwrap(), "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}: wal exit", rec.run);
        let thin: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let (a, b) = (wal_segments(&real), wal_segments(&thin));
        assert!(!a.is_empty(), "{}: no segments", rec.run);
        assert_eq!(
            a, b,
            "{}: thinned segments differ from the real ones",
            rec.run
        );
    }
    eprintln!("lossruns: {n} thinned WAL copies checked");
}

/// `--master-log-at`: a quiet master's log (`s7k-ms20-up20-r2`: no line of
/// its queue after the slave's start, its last line before the catch-up's
/// latest end) rules out no reshard by itself; taken when the recording says
/// it holds every line (`gaps_to`), it reaches that far and rules the
/// reshard out. A time before its last line is a usage error.
#[test]
fn a_quiet_log_reaches_when_it_was_taken() {
    let ev = testdata("loss-runs/s7k-ms20-up20-r2");
    let rec: RunRecord =
        serde_json::from_str(&std::fs::read_to_string(ev.join("run.json")).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut args = coverage_args(&ev, &rec, tmp.path());
    let at = args.iter().position(|a| a == "--master-log-at").unwrap();
    args.drain(at..=at + 1);
    args.push("--json".into());
    let run = |extra: &[String]| {
        let mut a = args.clone();
        a.extend_from_slice(extra);
        let argv: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
        promsnap(&argv)
    };
    let risks = |out: &std::process::Output| -> (serde_json::Value, usize) {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let n = v["loss_windows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["certainty"] == "risk")
            .count();
        (v, n)
    };
    let quiet = run(&[]);
    assert_eq!(quiet.status.code(), Some(0));
    let (v, n) = risks(&quiet);
    let last = v["facts"]["master_log"]["last_ts"].as_i64().unwrap();
    assert!(v["facts"]["master_log"]["taken_at"].is_null());
    assert!(n > 0, "a quiet log keeps the reshard risk: {v:#}");
    assert!(
        v["assumptions"]
            .to_string()
            .contains("not the whole catch-up"),
        "{v:#}"
    );
    let taken = run(&["--master-log-at".into(), rec.gaps_to.to_string()]);
    assert_eq!(taken.status.code(), Some(0));
    let (v, n) = risks(&taken);
    assert_eq!(v["facts"]["master_log"]["taken_at"], rec.gaps_to);
    assert_eq!(n, 0, "a log taken after the catch-up decides it: {v:#}");
    let early = run(&["--master-log-at".into(), (last - 1).to_string()]);
    assert_eq!(early.status.code(), Some(2));
    let err = String::from_utf8_lossy(&early.stderr);
    assert!(err.contains("--master-log-at"), "{err}");
}

/// A log line as 2.42's default logfmt writes it (go-kit's logfmt: `ts`,
/// `caller`, `level`, `component` first as Prometheus adds them, then the
/// others; a value with a space, `=`, `"` or nothing quoted and escaped)
/// from its `--log.format=json` line; other lines unchanged.
pub(crate) fn json_line_as_logfmt(line: &str) -> String {
    let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(line) else {
        return line.to_string();
    };
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let quote = |s: &str| {
        if s.is_empty() || s.contains([' ', '=', '"', '\\', '\n', '\t']) {
            format!("{s:?}")
        } else {
            s.to_string()
        }
    };
    let first = ["ts", "caller", "level", "component"];
    let keys = first
        .iter()
        .filter(|k| m.contains_key(**k))
        .map(|k| k.to_string())
        .chain(m.keys().filter(|k| !first.contains(&k.as_str())).cloned());
    keys.map(|k| format!("{k}={}", quote(&text(&m[&k]))))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The runs recorded with `--log.format=json` (`log_format` in run.json)
/// give `coverage` the same answer, windows, verdict, assumptions and facts
/// (but for the count of JSON lines read), whether their logs are given as
/// the servers wrote them or converted line by line to logfmt; and the JSON
/// logs are read (their queue's lines, their refusals), not skipped.
#[test]
fn json_logs_give_the_answer_their_logfmt_gives() {
    let dir = testdata("loss-runs");
    let (mut n, mut reshards, mut refused) = (0, 0, 0);
    for ev in recorded(&dir) {
        let rec: RunRecord =
            serde_json::from_str(&std::fs::read_to_string(ev.join("run.json")).unwrap()).unwrap();
        if rec.log_format.as_deref() != Some("json") {
            continue;
        }
        n += 1;
        let tmp = tempfile::tempdir().unwrap();
        let mut args = coverage_args(&ev, &rec, tmp.path());
        args.push("--json".into());
        let conv = tmp.path().join("logfmt");
        std::fs::create_dir_all(&conv).unwrap();
        let mut converted = args.clone();
        for flag in ["--master-log", "--slave-log"] {
            let Some(i) = converted.iter().position(|a| a == flag) else {
                continue;
            };
            let text = std::fs::read_to_string(&converted[i + 1]).unwrap();
            let out: String = text
                .lines()
                .map(|l| json_line_as_logfmt(l) + "\n")
                .collect();
            let p = conv.join(&flag[2..]);
            std::fs::write(&p, out).unwrap();
            converted[i + 1] = p.to_string_lossy().into_owned();
        }
        let run = |a: &[String]| -> serde_json::Value {
            let argv: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
            let out = promsnap(&argv);
            assert_eq!(out.status.code(), Some(0), "{}", rec.run);
            serde_json::from_slice(&out.stdout).unwrap()
        };
        let (mut j, l) = (run(&args), run(&converted));
        let json_lines = j["facts"]["master_log"]["json_lines"].clone();
        for log in ["master_log", "slave_log"] {
            if j["facts"][log].is_null() {
                continue;
            }
            assert!(
                j["facts"][log]["json_lines"].as_u64().unwrap_or(0) > 0,
                "{}: {log} not read as JSON: {:#}",
                rec.run,
                j["facts"][log]
            );
            assert!(l["facts"][log]["json_lines"].is_null(), "{}", rec.run);
            j["facts"][log]
                .as_object_mut()
                .unwrap()
                .remove("json_lines");
        }
        assert!(
            !j["facts"]["master_log"]["queue"].is_null(),
            "{}: the master's JSON log names no queue",
            rec.run
        );
        assert_eq!(j, l, "{}: JSON and logfmt logs answer differently", rec.run);
        let (m, s) = (&j["facts"]["master_log"], &j["facts"]["slave_log"]);
        let count = |v: &serde_json::Value| v.as_array().map_or(0, Vec::len);
        eprintln!(
            "lossruns: {}: master log {} lines ({} JSON), {} reshards; slave log {} lines, {} \
             refused requests",
            rec.run,
            m["lines"],
            json_lines,
            count(&m["reshards"]),
            s["lines"],
            s["refused"]
        );
        reshards += count(&m["reshards"]);
        refused += s["refused"].as_u64().unwrap_or(0);
    }
    eprintln!("lossruns: {n} runs with JSON logs compared with their logfmt");
    // The JSON logs held the events that decide (reshards, refusals).
    assert!(
        n == 0 || (reshards > 0 && refused > 0),
        "{reshards} {refused}"
    );
}

/// The reshard race ordered by the slave's log (`coverage/model/race.rs`,
/// docs/LOSS-WINDOWS.md "The reshard race from 2.42's code"): the five
/// runs of the thirteenth set that lost the resharded catch-up, each held
/// until then by its risk window only, now hold that long loss in an
/// `expected` window (start within a scrape, end inside its range), and
/// still meet every criterion.
#[test]
fn the_reshard_race_runs_hold_their_long_loss_in_an_expected_window() {
    for run in [
        "s450-2s-late6-up50",
        "s2400-min3-bsd10s-up45",
        "s2400-min3-bsd10s-up45-r2",
        "s2400-2s-relabel-soon",
        "s600-2s-sblk2m-up55-r2",
    ] {
        let j = judge(&testdata(&format!("loss-runs/{run}")));
        assert!(j.failures.is_empty(), "{run}: {:?}", j.failures);
        let i = j.rec.as_ref().unwrap().scrape_interval_ms;
        let long: Vec<&Win> = j.real.iter().filter(|r| is_long(r, i)).collect();
        assert!(!long.is_empty(), "{run}: no long real loss");
        for r in long {
            assert!(
                j.predicted.iter().any(|p| p.certainty == "expected"
                    && (p.from - r.from).abs() <= i
                    && r.to >= p.to_earliest - i
                    && r.to <= p.to + i),
                "{run}: real loss {}..{} in no expected window: {:?}",
                r.from,
                r.to,
                j.predicted
            );
        }
    }
}

/// The judge's stand-in head block carries a recording's `up_tail` (the
/// format the recorder writes into `targets.json`) as `coverage` reads a
/// real head block: each target's `up` timestamps exactly, and its series
/// count; `coverage` on it decides L4 from them. Written on a copy of
/// `deb15-ext-t40`'s evidence with tails added (its recording predates the
/// field): node's newest `up` at the coverage end's millisecond, the 5 s
/// self-scrape's 4 s before it (next scrape after the end: no L4), then
/// 6 s before it (next scrape 1 s before the end, not in the block: that
/// scrape is lost, expected, with its 705 series).
#[test]
fn the_stand_in_carries_the_up_tail() {
    for (lag, lost) in [(4_000, false), (6_000, true)] {
        stand_in_with_tails(lag, lost);
    }
}

fn stand_in_with_tails(lag: i64, lost: bool) {
    let ev = testdata("loss-runs/deb15-ext-t40");
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("ev");
    let name = "20261206T205655Z-25bf0a5f67ab5c57";
    crate::util::copy_dir(&ev.join("snapshot"), &copy.join("snapshot"));
    let mut t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ev.join("targets.json")).unwrap()).unwrap();
    let ulid = t["block"].as_str().unwrap().to_string();
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            copy.join("snapshot")
                .join(name)
                .join(&ulid)
                .join("meta.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let end = meta["maxTime"].as_i64().unwrap() - 1;
    // targets.json lists node, then prometheus.
    let plan = [("node", 0, 15_000, 430u64), ("prometheus", lag, 5_000, 705)];
    let mut tails = Vec::new();
    for (job, back, iv, series) in plan {
        let u = t["up"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["job"] == job)
            .unwrap()
            .clone();
        // As the recorder reads them: the newest 8 inside the head block.
        let min = meta["minTime"].as_i64().unwrap();
        let times: Vec<i64> = (0..8)
            .rev()
            .map(|j| end - back - j * iv)
            .filter(|&x| x >= min)
            .collect();
        tails.push(serde_json::json!({"job": job, "instance": u["instance"],
                                      "times": times, "series": series}));
    }
    t["up_tail"] = serde_json::Value::Array(tails.clone());
    std::fs::write(copy.join("targets.json"), t.to_string()).unwrap();
    let dst = snapshot_with_targets(&copy, name, &tmp.path().join("out"));
    let read = promsnap::coverage::uptail::read(&dst.join(&ulid)).expect("tails");
    assert_eq!(read.len(), 2);
    for w in &tails {
        let got = read
            .iter()
            .find(|x| x.job.as_deref() == w["job"].as_str())
            .unwrap();
        let want: Vec<i64> = serde_json::from_value(w["times"].clone()).unwrap();
        assert_eq!(got.times, want, "{w}");
        assert_eq!(Some(got.series), w["series"].as_u64(), "{w}");
    }
    let out = promsnap(&[
        "coverage",
        "--json",
        "--scrape-interval",
        "15s",
        dst.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let l4: Vec<&serde_json::Value> = v["loss_windows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["cause"] == "L4")
        .collect();
    if lost {
        let next = end - lag + 5_000;
        assert_eq!(l4.len(), 1, "{l4:?}");
        assert_eq!(l4[0]["certainty"], "expected");
        assert_eq!(l4[0]["series"], 705);
        let (from, to) = (
            l4[0]["from"].as_i64().unwrap(),
            l4[0]["to"].as_i64().unwrap(),
        );
        assert!(from <= next && next <= to && to <= end, "{l4:?}");
    } else {
        assert!(l4.is_empty(), "{l4:?}");
    }
}
