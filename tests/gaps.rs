//! `promsnap gaps` on the real 2.42 data in testdata.

use std::collections::BTreeMap;

use crate::util::{promsnap, run_json, testdata};

const WITH_HEAD: &str = crate::util::LIVE_WITH_HEAD;
const SKIP_HEAD: &str = crate::util::LIVE_SKIP_HEAD;

/// The skip_head snapshot, held against the one with the head block: what
/// is missing is exactly the head block's range, for every series.
#[test]
fn skip_head_snapshot_misses_the_head_range() {
    let a = testdata(SKIP_HEAD);
    let b = testdata(WITH_HEAD);
    let (code, v) = run_json(&[
        "gaps",
        a.to_str().unwrap(),
        "--against",
        b.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, Some(0), "{:#}", v["errors"]);
    let merged = v["missing"]["merged"].as_array().unwrap();
    assert_eq!(merged.len(), 1, "{merged:#?}");
    let m = &merged[0];
    // Head block [09:10:00.128, 09:12:34.511): first and last missing samples.
    assert!(m["from"].as_i64().unwrap() >= 1_795_597_800_000);
    assert!(m["from"].as_i64().unwrap() < 1_795_597_801_000);
    assert_eq!(m["to"], 1_795_597_954_510i64);
    assert_eq!(m["series"], v["against"]["series"]);
    assert!(v["dir"]["blocks"] == 3 && v["against"]["blocks"] == 4);
}

#[test]
fn same_data_has_nothing_missing_and_time_bounds_apply() {
    let a = testdata(WITH_HEAD);
    let (_, v) = run_json(&[
        "gaps",
        a.to_str().unwrap(),
        "--against",
        a.to_str().unwrap(),
        "--from",
        "2026-11-25T09:05:00Z",
        "--to",
        "2026-11-25T09:07:00Z",
        "--match",
        "up",
        "--json",
    ]);
    assert_eq!(v["missing"]["merged"].as_array().unwrap().len(), 0);
    assert_eq!(v["from"], 1_795_597_500_000i64);
    // `up` for two jobs, 1 s apart, over 2 minutes.
    assert_eq!(v["dir"]["series"], 2);
    let n = v["dir"]["samples"].as_u64().unwrap();
    assert!((238..=242).contains(&n), "{n}");
}

#[test]
fn holes_in_a_single_series_are_found() {
    // Hold the 1 s series against a 2 s interval: no holes; against 500ms: all steps are holes.
    let a = testdata(WITH_HEAD);
    let (_, v) = run_json(&["gaps", a.to_str().unwrap(), "--match", "up", "--json"]);
    assert_eq!(
        v["holes"]["merged"].as_array().unwrap().len(),
        0,
        "{:#}",
        v["holes"]
    );
    let (_, v) = run_json(&[
        "gaps",
        a.to_str().unwrap(),
        "--match",
        "up",
        "--interval",
        "500ms",
        "--from",
        "2026-11-25T09:05:00Z",
        "--to",
        "2026-11-25T09:05:10Z",
        "--json",
    ]);
    assert_eq!(v["holes"]["per_series"].as_array().unwrap().len(), 2);
    let out = promsnap(&["gaps", a.to_str().unwrap(), "--match", "up"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Holes in dir"));
}

/// The data dir's head is only in its WAL: read through it, the data dir has
/// every sample the snapshot's head block has.
#[test]
fn data_dir_head_is_read_from_the_wal() {
    let data = testdata("prom-2.42-live/data");
    let snap = testdata(WITH_HEAD);
    let (code, v) = run_json(&[
        "gaps",
        data.to_str().unwrap(),
        "--against",
        snap.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, Some(0), "{:#}", v["errors"]);
    assert_eq!(v["dir"]["wal"], true);
    assert!(v["dir"]["wal_until"].as_i64().unwrap() >= 1_795_597_954_510);
    assert_eq!(
        v["missing"]["merged"].as_array().unwrap().len(),
        0,
        "{:#}",
        v["missing"]["merged"]
    );
    // Series born after the snapshot are only in the data dir.
    assert!(v["dir"]["series"].as_u64() >= v["against"]["series"].as_u64());
}

/// The `up` series of a real replica (`deb1s-ext-skiphead`, fourteenth
/// loss-run set): its master ran with `external_labels: monitor: 'example'`,
/// so the replica holds each series twice, without `monitor` from its
/// seeding (a `skip_head` snapshot) and with it from remote write. Both dirs
/// are `promtool tsdb create-blocks-from openmetrics` over the servers'
/// `promtool tsdb dump --match='{__name__="up"}'` of C_snap ± 60 s
/// (`testdata/gaps-extlabels/*.om`).
fn ext_labels_gaps(drop: bool) -> serde_json::Value {
    let d = testdata("gaps-extlabels");
    let (slave, master) = (d.join("slave"), d.join("master"));
    let mut args = vec![
        "gaps",
        slave.to_str().unwrap(),
        "--against",
        master.to_str().unwrap(),
        "--json",
    ];
    if drop {
        args.extend(["--drop-label", "monitor"]);
    }
    let (code, v) = run_json(&args);
    assert_eq!(code, Some(0), "{:#}", v["errors"]);
    v
}

/// Per series (labels without `monitor`), the sample times of an `.om` file.
fn om_times(path: &std::path::Path) -> std::collections::BTreeMap<String, Vec<i64>> {
    let mut m: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        if line.starts_with('#') {
            continue;
        }
        let (series, rest) = line.split_once(' ').unwrap();
        let ts = rest.split(' ').nth(1).unwrap().replace('.', "");
        let key = series.replace(",monitor=\"example\"", "");
        m.entry(key).or_default().push(ts.parse().unwrap());
    }
    for v in m.values_mut() {
        v.sort_unstable();
        v.dedup();
    }
    m
}

#[test]
fn external_labels_are_named_and_dropped_labels_join_the_two_label_sets() {
    // Joined as stored: the seeded series end at the seeding, the
    // remote-written ones join nothing; every master series counts as
    // missing from there to its end, and the report names the label.
    let v = ext_labels_gaps(false);
    assert_eq!(v["dir"]["series"], 4);
    assert_eq!(v["against"]["series"], 2);
    assert_eq!(
        v["labels_only_in_dir"],
        serde_json::json!([{"name": "monitor", "series": 2, "values": ["example"]}])
    );
    let d = testdata("gaps-extlabels");
    let master = om_times(&d.join("master.om"));
    for s in v["missing"]["per_series"].as_array().unwrap() {
        let last = s["ranges"].as_array().unwrap().last().unwrap()["to"].as_i64();
        let key = s["series"].as_str().unwrap();
        let theirs = master
            .iter()
            .find(|(k, _)| {
                let inst = k.split("instance=\"").nth(1).unwrap().split('"').next();
                key.contains(&format!("instance=\"{}\"", inst.unwrap()))
            })
            .unwrap()
            .1;
        assert_eq!(last, theirs.last().copied(), "{key}");
    }
    // With `monitor` dropped: exactly the master's samples the replica lacks
    // under either label set, from the dumps themselves.
    let v = ext_labels_gaps(true);
    assert_eq!(v["dir"]["series"], 2);
    assert_eq!(v["labels_only_in_dir"], serde_json::json!([]));
    assert_eq!(v["dropped_labels"], serde_json::json!(["monitor"]));
    let slave = om_times(&d.join("slave.om"));
    let mut want = Vec::new();
    for (k, ts) in &master {
        let have = slave.get(k).cloned().unwrap_or_default();
        let mut runs: Vec<(i64, i64, u64)> = Vec::new();
        let mut open = false;
        for t in ts {
            if have.contains(t) {
                open = false;
            } else if open {
                let r = runs.last_mut().unwrap();
                r.1 = *t;
                r.2 += 1;
            } else {
                runs.push((*t, *t, 1));
                open = true;
            }
        }
        want.push(runs);
    }
    let got: Vec<Vec<(i64, i64, u64)>> = v["missing"]["per_series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["ranges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["from"].as_i64().unwrap(),
                        r["to"].as_i64().unwrap(),
                        r["samples"].as_u64().unwrap(),
                    )
                })
                .collect()
        })
        .collect();
    // The replica lost a stretch of both series around the seeding (the
    // queue resharded inside its refused backlog), and nothing else.
    assert!(want.iter().all(|r| r.len() == 1), "{want:?}");
    assert_eq!(got, want);
}

/// Per series (labels without `cluster`), the sample times of an `.om` file.
fn om_times_without_cluster(path: &std::path::Path) -> BTreeMap<String, Vec<i64>> {
    let mut m: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        if line.starts_with('#') {
            continue;
        }
        let (series, rest) = line.split_once(' ').unwrap();
        let key: Vec<&str> = series
            .split([',', '{', '}'])
            .filter(|p| !p.is_empty() && !p.starts_with("cluster="))
            .collect();
        let ts = rest.split(' ').nth(1).unwrap().replace('.', "");
        m.entry(key.join(","))
            .or_default()
            .push(ts.parse().unwrap());
    }
    m
}

/// A real replica whose master's external label `cluster: ext` has a name
/// the master's own series use too (`testdata/fill-extown`: `i="1"` carries
/// `cluster="own"` on both sides, `i="0"` gained `cluster="ext"` by remote
/// write). No name is dir's alone, yet the remote-written series is a
/// master series' whole label set plus one label: `labels_added_in_dir`
/// names it, and `--drop-label cluster` (both sides) joins every series,
/// the missing samples then exactly the master's the replica lacks under
/// either label set, from the servers' dumps.
#[test]
fn an_external_label_the_master_names_itself_is_found_per_series() {
    let d = testdata("fill-extown");
    let (slave, master) = (d.join("slave"), d.join("master"));
    let (s, m) = (slave.to_str().unwrap(), master.to_str().unwrap());
    let (code, v) = run_json(&["gaps", s, "--against", m, "--json"]);
    assert_eq!(code, Some(0), "{:#}", v["errors"]);
    assert_eq!(v["labels_only_in_dir"], serde_json::json!([]));
    assert_eq!(
        v["labels_added_in_dir"],
        serde_json::json!([{"name": "cluster", "series": 1, "values": ["ext"]}])
    );
    let (code, v) = run_json(&[
        "gaps",
        s,
        "--against",
        m,
        "--drop-label",
        "cluster",
        "--json",
    ]);
    assert_eq!(code, Some(0), "{:#}", v["errors"]);
    assert_eq!(v["labels_added_in_dir"], serde_json::json!([]));
    let (want_m, want_s) = (
        om_times_without_cluster(&d.join("master.om")),
        om_times_without_cluster(&d.join("slave.om")),
    );
    let lacking: u64 = want_m
        .iter()
        .map(|(k, ts)| {
            let have = want_s.get(k).cloned().unwrap_or_default();
            ts.iter().filter(|t| !have.contains(t)).count() as u64
        })
        .sum();
    assert!(lacking > 0);
    let got: u64 = v["missing"]["per_series"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["ranges"].as_array().unwrap().clone())
        .map(|r| r["samples"].as_u64().unwrap())
        .sum();
    assert_eq!(got, lacking);
}
