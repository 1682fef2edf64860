//! `promsnap gaps` on the real 2.42 data in testdata.

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
