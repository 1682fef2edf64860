//! `promsnap fill` into a replica whose remote-written series carry the
//! master's `external_labels` (`testdata/gaps-extlabels`: the `up` series
//! of a real 2.42 master with `monitor: 'example'` and of its replica
//! seeded from a `skip_head` snapshot, C_snap ± 60 s; see tests/gaps.rs):
//! without `--drop-label` fill refuses and writes nothing; with it, the
//! hole is filled in the series remote write continues, and the real
//! Prometheus and promtool read the filled replica with every metric once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::util::{copy_dir, promsnap, run_json, testdata};
use crate::write::{Prom, have};

const MONITOR: &str = ", monitor=\"example\"";

/// Copies of the fixture's master and slave under `tmp`.
fn pair(tmp: &Path) -> (PathBuf, PathBuf) {
    pair_of("gaps-extlabels", tmp)
}

/// Copies of a fixture's master and slave under `tmp`.
fn pair_of(fixture: &str, tmp: &Path) -> (PathBuf, PathBuf) {
    let d = testdata(fixture);
    let (master, slave) = (tmp.join("master"), tmp.join("slave"));
    copy_dir(&d.join("master"), &master);
    copy_dir(&d.join("slave"), &slave);
    (master, slave)
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `promtool tsdb dump` of a data dir (a `wal/` made if missing, as
/// promtool wants one): per series as promtool prints it, its sample times.
fn dump_times(dir: &Path) -> BTreeMap<String, Vec<i64>> {
    std::fs::create_dir_all(dir.join("wal")).unwrap();
    let mut m: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for line in crate::util::promtool_tsdb_dump(dir).lines() {
        let (series, rest) = line.rsplit_once("} ").unwrap();
        let t = rest.rsplit(' ').next().unwrap().parse().unwrap();
        m.entry(format!("{series}}}")).or_default().push(t);
    }
    for v in m.values_mut() {
        v.sort_unstable();
        v.dedup();
    }
    m
}

/// The samples the master has and the slave lacks under either label set,
/// from promtool's dumps: (count, first, last).
fn lacking(
    master: &BTreeMap<String, Vec<i64>>,
    slave: &BTreeMap<String, Vec<i64>>,
) -> (u64, i64, i64) {
    let (mut n, mut first, mut last) = (0, i64::MAX, i64::MIN);
    for (k, ts) in master {
        let tagged = k.replace('}', &format!("{MONITOR}}}"));
        for t in ts {
            let has = |s: &str| slave.get(s).is_some_and(|v| v.contains(t));
            if !has(k) && !has(&tagged) {
                n += 1;
                first = first.min(*t);
                last = last.max(*t);
            }
        }
    }
    (n, first, last)
}

fn fill(slave: &Path, master: &Path, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut args = vec![
        "fill",
        slave.to_str().unwrap(),
        "--from",
        master.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    run_json(&args)
}

/// Without `--drop-label`: exit 2, the label and the flag named, the
/// report's `refused` and `labels_only_in_target`, and nothing written (a
/// dry run too).
#[test]
fn fill_refuses_a_replica_whose_series_carry_the_masters_external_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let (master, slave) = pair(tmp.path());
    let before = entries(&slave);
    let out = promsnap(&[
        "fill",
        slave.to_str().unwrap(),
        "--from",
        master.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("monitor=\"example\" (2 series)"), "{err}");
    assert!(err.contains("--drop-label monitor"), "{err}");
    assert!(err.contains("--exact-labels"), "{err}");
    assert_eq!(entries(&slave), before, "nothing written");
    for extra in [&[][..], &["--dry-run"][..]] {
        let (code, v) = fill(&slave, &master, extra);
        assert_eq!(code, Some(2), "{v}");
        assert_eq!(v["refused"], true, "{v}");
        assert_eq!(
            v["labels_only_in_target"],
            serde_json::json!([{"name": "monitor", "series": 2, "values": ["example"]}])
        );
        assert_eq!(v["samples_added"], 0);
        assert_eq!(v["ranges"], serde_json::json!([]));
        assert_eq!(entries(&slave), before, "nothing written {extra:?}");
    }
    // A range that covers only the hole, before the node target's
    // remote-written series starts: refused all the same, and with
    // `--drop-label` written into the remote-written series.
    let hole = ["--max-time", "1796591200000"];
    let (code, v) = fill(&slave, &master, &hole);
    assert_eq!(
        (code, &v["refused"]),
        (Some(2), &serde_json::json!(true)),
        "{v}"
    );
    let (code, v) = fill(
        &slave,
        &master,
        &[hole[0], hole[1], "--drop-label", "monitor", "--dry-run"],
    );
    assert_eq!(code, Some(0), "{v}");
    assert!(v["samples_added"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["target_labels_samples"], v["samples_added"], "{v}");
    assert_eq!(v["target_labels_series"], 2, "{v}");
    // SOURCE's series may not carry a dropped label.
    let (code, v) = fill(&slave, &master, &["--drop-label", "job"]);
    assert_eq!(code, Some(2), "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.starts_with("--drop-label: "), "{msg}");
    assert!(msg.contains("carries the label job"), "{msg}");
    assert_eq!(entries(&slave), before);
}

/// `sum` and `count` over the window `[from, to]` (ms) of every `up`
/// series' samples, as a server answers them at `to` (one ms more than
/// `to - from`: the same samples whether the range's start is in or out).
fn counts(p: &Prom, from: i64, to: i64) -> (String, String) {
    let w = format!("{}ms", to - from + 1);
    let at = to as f64 / 1000.0;
    let value = |q: &str| {
        let r = p.query(q, at);
        assert_eq!(r.len(), 1, "{q}: {r:?}");
        r[0]["value"][1].as_str().unwrap().to_string()
    };
    (
        value(&format!("sum(count_over_time(up[{w}]))")),
        value(&format!("count(count_over_time(up[{w}]))")),
    )
}

/// With `--drop-label monitor`: exactly the master's samples the replica
/// lacks under either label set are written, all under the remote-written
/// series; promtool dumps each master series once over the two label sets
/// and analyzes the new block; the real Prometheus answers over the hole
/// as the master does, where `--exact-labels` doubles every series.
#[test]
fn fill_drop_label_heals_the_hole_without_doubling_a_series() {
    if !have("promtool") || !have("prometheus") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (master, slave) = pair(tmp.path());
    let exact = tmp.path().join("exact");
    copy_dir(&slave, &exact);
    let m = dump_times(&master);
    let s0 = dump_times(&slave);
    let (want, from, to) = lacking(&m, &s0);
    assert!(want > 0 && from < to);
    // The seeded series end before the hole.
    assert!(m.keys().all(|k| s0[k].last() < Some(&from)));

    let before = entries(&slave);
    let (code, dry) = fill(&slave, &master, &["--drop-label", "monitor", "--dry-run"]);
    assert_eq!(code, Some(0), "{dry}");
    assert_eq!(entries(&slave), before, "a dry run writes nothing");
    let (code, r) = fill(&slave, &master, &["--drop-label", "monitor"]);
    assert_eq!(code, Some(0), "{r}");
    for v in [&dry, &r] {
        assert_eq!(v["samples_added"], want, "{v}");
        assert_eq!(v["target_labels_samples"], want, "{v}");
        assert_eq!(v["target_labels_series"], 2, "{v}");
        assert_eq!(v["dropped_labels"], serde_json::json!(["monitor"]));
        assert_eq!(v["labels_only_in_target"], serde_json::json!([]));
        assert_eq!(v["refused"], false);
    }
    let ranges = r["ranges"].as_array().unwrap();
    assert_eq!(ranges.len(), 1, "{r}");
    assert_eq!(
        (
            ranges[0]["min_time"].as_i64(),
            ranges[0]["max_time"].as_i64()
        ),
        (Some(from), Some(to + 1))
    );
    let block = ranges[0]["block"].as_str().unwrap();

    // promtool: the seeded series unchanged, each master series once over
    // its two label sets, and the new block analyzed.
    let s1 = dump_times(&slave);
    for (k, ts) in &m {
        let tagged = k.replace('}', &format!("{MONITOR}}}"));
        assert_eq!(s1.get(k), s0.get(k), "{k}: the seeded series is untouched");
        let mut both: Vec<i64> = s1[k].iter().chain(&s1[&tagged]).copied().collect();
        both.sort_unstable();
        assert_eq!(&both, ts, "{k}");
    }
    assert_eq!(s1.len(), 4);
    let a = std::process::Command::new("promtool")
        .args(["tsdb", "analyze"])
        .arg(&slave)
        .arg(block)
        .output()
        .unwrap();
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(String::from_utf8_lossy(&a.stdout).contains("Series: 2"));
    let (code, again) = fill(&slave, &master, &["--drop-label", "monitor"]);
    assert_eq!(
        (code, &again["samples_added"]),
        (Some(0), &serde_json::json!(0))
    );

    // The opt-out writes by exact label set: every master sample after the
    // seeding a second time, without the label.
    let (code, x) = fill(&exact, &master, &["--exact-labels"]);
    assert_eq!(code, Some(0), "{x}");
    assert!(x["samples_added"].as_u64().unwrap() > want, "{x}");

    servers_agree(tmp.path(), (&master, &slave, &exact), &m, from, want);
}

/// The real Prometheus on the master, the replica filled with
/// `--drop-label` and the one filled with `--exact-labels`, over [first
/// missing (`from`), last master sample]: the first two answer alike, the
/// third counts every series twice.
fn servers_agree(
    base: &Path,
    (master, slave, exact): (&Path, &Path, &Path),
    m: &BTreeMap<String, Vec<i64>>,
    from: i64,
    want: u64,
) {
    // The real Prometheus over [first missing, last master sample]: the
    // replica's seeded series end before it.
    let end = m.values().filter_map(|v| v.last()).copied().max().unwrap();
    let cfg = "global:\n  scrape_interval: 1h\n";
    let pm = Prom::start(base, "master", cfg, master, &[]);
    let ps = Prom::start(base, "slave", cfg, slave, &[]);
    let pe = Prom::start(base, "exact", cfg, exact, &[]);
    let (sum, count) = counts(&pm, from, end);
    assert_eq!(count, "2");
    assert_eq!(
        counts(&ps, from, end),
        (sum.clone(), count),
        "filled with --drop-label"
    );
    let (sum_e, count_e) = counts(&pe, from, end);
    assert_eq!(count_e, "4", "--exact-labels: every series doubled");
    assert_eq!(
        sum_e.parse::<u64>().unwrap(),
        2 * sum.parse::<u64>().unwrap() - want
    );
    for p in [&pm, &ps, &pe] {
        assert!(!p.log_text().contains("level=error"), "{}", p.log_text());
    }
}

/// `/api/v1/series` of the scraped job over `[from, to]` (ms): the label
/// sets, `monitor` left out, sorted (a label set held twice, with and
/// without it, comes twice).
fn series_over(p: &Prom, from: i64, to: i64) -> Vec<String> {
    let path = format!(
        "/api/v1/series?match[]={}&start={:.3}&end={:.3}",
        crate::write::urlencode("{job=\"prometheus\"}"),
        from as f64 / 1000.0,
        to as f64 / 1000.0
    );
    let (st, body) = crate::write::http_get(p.port, &path).unwrap();
    assert_eq!(st, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut out: Vec<String> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let mut m = s.as_object().unwrap().clone();
            m.remove("monitor");
            serde_json::Value::Object(m).to_string()
        })
        .collect();
    out.sort();
    out
}

/// The newest maxTime (exclusive, ms) of a data dir's blocks.
fn blocks_until(dir: &Path) -> i64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("meta.json")).ok())
        .map(|m| {
            serde_json::from_str::<serde_json::Value>(&m).unwrap()["maxTime"]
                .as_i64()
                .unwrap()
        })
        .max()
        .unwrap()
}

/// A live pair (about 2 minutes): a master with `external_labels: monitor:
/// example` scrapes itself every second and remote-writes to a slave seeded
/// from its snapshot; the slave first runs without the remote-write
/// receiver (the master's batches get 404 and are dropped: a real loss),
/// then with it, so it holds each series without `monitor` up to the
/// seeding and with it from the resumed remote write. `fill --max-time`
/// (a range that ends before the remote-written series start) refuses
/// without `--drop-label`; with it, the running slave serves over the lost
/// seconds the master's series of the scraped job, each once, and as many
/// samples of three of them.
// One real-server scenario, step by step; its steps share the running servers.
#[allow(clippy::too_many_lines)]
#[test]
fn fill_drop_label_heals_a_running_replica_fed_with_external_labels() {
    use crate::fill::{now_ms, snapshot, start_on, wait_until};
    use std::time::Duration;
    if !have("prometheus") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let (mdata, sdata) = (base.join("master"), base.join("slave"));
    let slave_port = crate::write::free_port();
    let mcfg = format!(
        "global:\n  scrape_interval: 1s\n  external_labels:\n    monitor: example\n\
         scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:SELF_PORT']\n\
         remote_write:\n  - url: http://127.0.0.1:{slave_port}/api/v1/write\n    queue_config:\n      batch_send_deadline: 1s\n      min_backoff: 100ms\n      max_backoff: 200ms\n"
    );
    let master = Prom::start(base, "master", &mcfg, &mdata, &["--web.enable-admin-api"]);
    std::thread::sleep(Duration::from_secs(8));
    let (st, body) = snapshot(master.port);
    assert_eq!(st, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let name = v["data"]["name"].as_str().unwrap().to_string();
    copy_dir(&mdata.join("snapshots").join(&name), &sdata);
    let seeded_to = blocks_until(&sdata);
    let scfg = "global:\n  scrape_interval: 1h\n";
    let s1 = start_on(base, "slave1", scfg, &sdata, slave_port, &[]);
    std::thread::sleep(Duration::from_secs(10));
    drop(s1);
    let lost_to = now_ms();
    let recv = ["--web.enable-remote-write-receiver".to_string()];
    let slave = start_on(base, "slave2", scfg, &sdata, slave_port, &recv);
    let newest = || -> i64 {
        let r = slave.query(
            "timestamp(up{monitor=\"example\"})",
            now_ms() as f64 / 1000.0,
        );
        r.iter()
            .filter_map(|s| s["value"][1].as_str()?.parse::<f64>().ok())
            .map(|t| (t * 1000.0) as i64)
            .min()
            .unwrap_or(i64::MIN)
    };
    wait_until(
        "remote write to reach the slave",
        Duration::from_secs(90),
        || newest() >= lost_to + 5_000,
    );

    let before = entries(&sdata);
    let max = ["--max-time".to_string(), lost_to.to_string()];
    let max: Vec<&str> = max.iter().map(String::as_str).collect();
    let (code, v) = fill(&sdata, &mdata, &max);
    assert_eq!(code, Some(2), "{v}");
    assert_eq!(v["labels_only_in_target"][0]["name"], "monitor", "{v}");
    assert_eq!(entries(&sdata), before, "nothing written");

    let mut args = max.clone();
    args.extend(["--drop-label", "monitor"]);
    let (code, r) = fill(&sdata, &mdata, &args);
    assert_eq!(code, Some(0), "{r}");
    let added = r["samples_added"].as_u64().unwrap();
    assert!(added > 0, "{r}");
    // The hole lies after every seeded sample: all in the remote-written
    // series, but for series remote write has not brought back (if any).
    assert!(
        r["target_labels_samples"].as_u64().unwrap() * 10 >= added * 9,
        "{r}"
    );
    let cutoff = r["deferred"]["cutoff"].as_i64().unwrap_or(i64::MAX);
    let v = crate::util::promsnap(&["verify", sdata.to_str().unwrap()]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));

    // Over [seeded_to, min(lost_to, cutoff - 1)]: the master's series and
    // samples of the job, once each, once the slave has reloaded its blocks.
    let to = lost_to.min(cutoff - 1);
    assert!(to > seeded_to + 3_000, "{r}");
    let w = format!("{}ms", to - seeded_to);
    let at = to as f64 / 1000.0;
    let qs: Vec<String> = [
        "up",
        "scrape_duration_seconds",
        "prometheus_tsdb_head_series",
    ]
    .iter()
    .map(|m| format!("sum(count_over_time({m}[{w}]))"))
    .collect();
    let want: Vec<_> = qs.iter().map(|q| master.query(q, at)).collect();
    let want_series = series_over(&master, seeded_to, to);
    assert!(want_series.len() > 100, "{want_series:?}");
    wait_until(
        "the slave to serve the filled block",
        Duration::from_secs(90),
        || qs.iter().map(|q| slave.query(q, at)).collect::<Vec<_>>() == want,
    );
    assert_eq!(series_over(&slave, seeded_to, to), want_series);
    // The slave never logs an error; the master only about the refused
    // remote writes.
    let log = slave.log_text();
    assert!(!log.contains("level=error"), "{log}");
    for l in master.log_text().lines() {
        assert!(
            !l.contains("level=error") || l.contains("remote"),
            "master: {l}"
        );
    }
}

/// A master whose own series carry the name of its external label
/// (`testdata/fill-extown`: a real 2.42 master with `external_labels:
/// {cluster: ext}` and an exporter whose series `i="1"` carries
/// `cluster="own"`, and its replica; remote write keeps the own label, so
/// that series has one label set on both sides). `--drop-label cluster`
/// refuses, naming the series' own value and the two runs; the two runs,
/// selected by the value, fill the 41 s hole with every metric once, as
/// promtool reads the filled replica.
#[test]
fn drop_label_the_master_carries_itself_refuses_and_names_the_two_runs() {
    if !have("promtool") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (master, slave) = pair_of("fill-extown", tmp.path());
    let before = entries(&slave);
    let (m, s) = (master.to_str().unwrap(), slave.to_str().unwrap());
    let out = promsnap(&["fill", s, "--from", m, "--drop-label", "cluster"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for want in [
        "carries the label cluster=\"own\" itself",
        "`--drop-label cluster --match '{cluster!=\"VALUE\"}'`",
        "then `--match '{cluster=\"VALUE\"}'` without --drop-label",
    ] {
        assert!(err.contains(want), "missing {want:?} in {err}");
    }
    assert_eq!(entries(&slave), before, "nothing written");
    let runs: [&[&str]; 2] = [
        &["--drop-label", "cluster", "--match", "{cluster!=\"own\"}"],
        &["--match", "{cluster=\"own\"}"],
    ];
    for run in runs {
        let mut args = vec!["fill", s, "--from", m];
        args.extend_from_slice(run);
        let out = promsnap(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{run:?}: {err}");
    }
    // Per metric, `cluster="ext"` taken off: the master's times, each once
    // (a sample written under both label sets would show twice).
    let want = dump_times(&master);
    let mut got: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (k, ts) in dump_times(&slave) {
        got.entry(k.replace(", cluster=\"ext\"", ""))
            .or_default()
            .extend(ts);
    }
    for ts in got.values_mut() {
        ts.sort_unstable();
    }
    assert_eq!(got.len(), 2);
    assert_eq!(got, want);
}

/// The same pair without `--drop-label`: the name `cluster` is on series
/// of both sides, so no name is the target's alone, but the replica's
/// `cluster="ext"` series is a master series' whole label set with the
/// label added. Plain fill refuses (exit 2, `labels_added_in_target`
/// names it, nothing written) where it wrote the hole a second time
/// under the master's label set beside the remote-written series.
#[test]
fn plain_fill_refuses_an_external_label_whose_name_the_master_uses_too() {
    let tmp = tempfile::tempdir().unwrap();
    let (master, slave) = pair_of("fill-extown", tmp.path());
    let before = entries(&slave);
    let (m, s) = (master.to_str().unwrap(), slave.to_str().unwrap());
    let out = promsnap(&["fill", s, "--from", m, "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["refused"], true, "{v}");
    assert_eq!(v["labels_only_in_target"], serde_json::json!([]));
    let added = &v["labels_added_in_target"][0];
    assert_eq!(added["name"], "cluster", "{v}");
    assert_eq!(added["values"], serde_json::json!(["ext"]), "{v}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("give --drop-label cluster"), "{err}");
    assert_eq!(entries(&slave), before, "nothing written");
}
