//! `promsnap dump` against `promtool tsdb dump` output and the real server's
//! HTTP API, on real data.

use std::collections::BTreeMap;

use crate::util::{assert_same_lines, copy_dir, gunzip, promsnap, promtool_available, testdata};

fn dump(args: &[&str]) -> String {
    let out = promsnap(args);
    assert!(
        out.status.success(),
        "dump {args:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The native-histogram oracle files carry a header line (the command) and an
/// `exit=0` trailer around promtool's output.
fn strip_oracle_frame(s: &str) -> String {
    let mut lines: Vec<&str> = s.lines().collect();
    assert!(
        lines
            .first()
            .is_some_and(|l| l.starts_with("promtool tsdb dump")),
        "oracle header"
    );
    lines.remove(0);
    assert_eq!(lines.pop(), Some("exit=0"));
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn backfill_block_is_byte_identical_to_promtool() {
    let p = testdata("backfill-small/blocks/01M88Z547SWC2057Y39068VCCB");
    let ours = dump(&["dump", p.to_str().unwrap()]);
    let oracle = gunzip(&testdata(
        "backfill-small/oracle/dump-01M88Z547SWC2057Y39068VCCB.txt.gz",
    ));
    assert_same_lines(&ours, &oracle, "backfill-small");
    assert_eq!(ours.lines().count(), 240_000);
}

/// `dump` of the live fixture's snapshot `s` against promtool's dump of it.
fn live_snapshot_matches_promtool(s: &str) {
    let p = testdata(&format!("prom-2.42-live/data/snapshots/{s}"));
    let ours = dump(&["dump", p.to_str().unwrap()]);
    let oracle = gunzip(&testdata(&format!(
        "prom-2.42-live/oracle/dump-snapshot-{s}.txt.gz"
    )));
    assert_same_lines(&ours, &oracle, s);
}

#[test]
fn live_snapshot_with_head_block_is_byte_identical_to_promtool() {
    live_snapshot_matches_promtool("20261125T091234Z-788eafc011a10c98");
}

#[test]
fn live_snapshot_skip_head_is_byte_identical_to_promtool() {
    live_snapshot_matches_promtool("20261125T091235Z-7531d0e39246db15");
}

#[test]
fn nativehist_snapshots_floats_only_are_byte_identical_to_promtool() {
    for s in [
        "20261125T095910Z-571c9d7c71851497",
        "20261125T095912Z-632fd1ed663fcbfa",
    ] {
        let p = testdata(&format!("prom-2.42-nativehist/data/snapshots/{s}"));
        let ours = dump(&["dump", "--floats-only", p.to_str().unwrap()]);
        let oracle = strip_oracle_frame(&gunzip(&testdata(&format!(
            "prom-2.42-nativehist/oracle/snapshot_{s}/dump_all.txt.gz"
        ))));
        assert_same_lines(&ours, &oracle, s);
    }
}

#[test]
fn time_range_flags_match_promtool_per_block_dumps() {
    // promtool tsdb dump --min-time=<minTime> --max-time=<maxTime-1>, per block.
    let s = "20261125T095910Z-571c9d7c71851497";
    let dir = testdata(&format!("prom-2.42-nativehist/data/snapshots/{s}"));
    let mut checked = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let e = e.unwrap();
        let ulid = e.file_name().into_string().unwrap();
        let oracle = testdata(&format!(
            "prom-2.42-nativehist/oracle/snapshot_{s}/dump_{ulid}.txt.gz"
        ));
        if !oracle.exists() {
            continue;
        }
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(e.path().join("meta.json")).unwrap()).unwrap();
        let min = meta["minTime"].as_i64().unwrap().to_string();
        let max = (meta["maxTime"].as_i64().unwrap() - 1).to_string();
        let ours = dump(&[
            "dump",
            "--floats-only",
            "--min-time",
            &min,
            "--max-time",
            &max,
            dir.to_str().unwrap(),
        ]);
        assert_same_lines(&ours, &strip_oracle_frame(&gunzip(&oracle)), &ulid);
        checked += 1;
    }
    assert_eq!(checked, 5);
}

#[test]
fn match_selects_series_like_promql() {
    let p = testdata("prom-2.42-live/data/snapshots/20261125T091235Z-7531d0e39246db15");
    let all = dump(&["dump", p.to_str().unwrap()]);
    let sel = r#"go_gc_duration_seconds{quantile=~"0.(25|5)"}"#;
    let ours = dump(&["dump", "--match", sel, "--match", "up", p.to_str().unwrap()]);
    let want: String = all
        .lines()
        .filter(|l| {
            (l.starts_with("{__name__=\"go_gc_duration_seconds\"")
                && (l.contains("quantile=\"0.25\"") || l.contains("quantile=\"0.5\"")))
                || l.starts_with("{__name__=\"up\"")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!want.is_empty());
    assert_same_lines(&ours, &want, "--match");
}

#[test]
fn rfc3339_times_are_accepted() {
    let p = testdata("prom-2.42-live/data/snapshots/20261125T091235Z-7531d0e39246db15");
    let a = dump(&[
        "dump",
        "--min-time",
        "1795597700000",
        "--max-time",
        "1795597710000",
        p.to_str().unwrap(),
    ]);
    let b = dump(&[
        "dump",
        "--min-time",
        "2026-11-25T09:08:20Z",
        "--max-time",
        "2026-11-25T09:08:30Z",
        p.to_str().unwrap(),
    ]);
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

/// A histogram as both sides describe it: count, sum, and non-empty buckets
/// as (boundary rule, lower, upper, count) with Prometheus' API rule numbers.
type Hist = (f64, f64, Vec<(u8, f64, f64, f64)>);

fn parse_our_histogram(s: &str) -> Hist {
    let inner = s
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .expect(s);
    let mut parts = inner.split(", ");
    let count: f64 = parts
        .next()
        .unwrap()
        .strip_prefix("count:")
        .unwrap()
        .parse()
        .unwrap();
    let sum: f64 = parts
        .next()
        .unwrap()
        .strip_prefix("sum:")
        .unwrap()
        .parse()
        .unwrap();
    let mut buckets = Vec::new();
    for b in parts {
        let (range, c) = b.rsplit_once(':').unwrap();
        let left_closed = range.starts_with('[');
        let right_closed = range.ends_with(']');
        let (lo, hi) = range[1..range.len() - 1].split_once(',').unwrap();
        let parse = |x: &str| -> f64 {
            match x {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                _ => x.parse().unwrap(),
            }
        };
        let rule = match (left_closed, right_closed) {
            (false, true) => 0,
            (true, false) => 1,
            (false, false) => 2,
            (true, true) => 3,
        };
        buckets.push((rule, parse(lo), parse(hi), c.parse().unwrap()));
    }
    (count, sum, buckets)
}

/// Equal, except for one documented difference between the two renderings:
/// the API's bucket iterator clamps the buckets next to the zero bucket to
/// the zero threshold (the first positive bucket's lower bound, the last
/// negative bucket's upper bound), while `String()` prints the schema's bound.
fn same_histogram(ours: &Hist, api: &Hist) -> bool {
    if ours.0 != api.0 || ours.1 != api.1 || ours.2.len() != api.2.len() {
        return false;
    }
    ours.2.iter().zip(&api.2).all(|(o, a)| {
        let clamped_lower = o.0 == 0 && a.1 > o.1 && a.1 < o.2 && o.1 > 0.0;
        let clamped_upper = o.0 == 1 && a.2 < o.2 && a.2 > o.1 && o.2 < 0.0;
        o.0 == a.0 && (o.1 == a.1 || clamped_lower) && (o.2 == a.2 || clamped_upper) && o.3 == a.3
    })
}

#[test]
fn histogram_samples_equal_the_real_servers_api() {
    let s = "20261125T095910Z-571c9d7c71851497";
    check_histograms_against_api(
        &format!("prom-2.42-nativehist/data/snapshots/{s}"),
        &format!("prom-2.42-nativehist/oracle/snapshot_{s}/api_raw_samples.json.gz"),
        14_300,
    );
}

#[test]
fn data_dir_histograms_from_blocks_wal_and_head_chunks_equal_the_api() {
    check_histograms_against_api(
        "prom-2.42-nativehist/data",
        "prom-2.42-nativehist/oracle/data/api_raw_samples.json.gz",
        14_388,
    );
}

fn check_histograms_against_api(dir: &str, oracle: &str, expected_total: usize) {
    let p = testdata(dir);
    let ours = dump(&["dump", p.to_str().unwrap()]);
    // ours: series label string -> ts -> histogram
    let mut got: BTreeMap<String, BTreeMap<i64, Hist>> = BTreeMap::new();
    for line in ours.lines() {
        let Some(i) = line.find("} {count:") else {
            continue;
        };
        // Stale markers (sum = StaleNaN): range selectors drop them, and so
        // does the API oracle.
        if line.contains(", sum:NaN") {
            continue;
        }
        let labels = &line[..=i];
        let (h, ts) = line[i + 2..].rsplit_once(' ').unwrap();
        got.entry(labels.to_string())
            .or_default()
            .insert(ts.parse().unwrap(), parse_our_histogram(h));
    }
    let api: serde_json::Value = serde_json::from_str(&gunzip(&testdata(oracle))).unwrap();
    let mut want: BTreeMap<String, BTreeMap<i64, Hist>> = BTreeMap::new();
    for series in api["results"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| v.as_array().unwrap())
    {
        let Some(hs) = series["histograms"].as_array() else {
            continue;
        };
        let m = series["metric"].as_object().unwrap();
        let labels: Vec<String> = m.iter().map(|(k, v)| format!("{k}={}", v)).collect();
        let key = format!("{{{}}}", labels.join(", "));
        for h in hs {
            let ts = (h[0].as_f64().unwrap() * 1000.0).round() as i64;
            let f = |x: &serde_json::Value| -> f64 { x.as_str().unwrap().parse().unwrap() };
            let buckets = h[1]["buckets"]
                .as_array()
                .map(|bs| {
                    bs.iter()
                        .map(|b| (b[0].as_u64().unwrap() as u8, f(&b[1]), f(&b[2]), f(&b[3])))
                        .collect()
                })
                .unwrap_or_default();
            want.entry(key.clone())
                .or_default()
                .insert(ts, (f(&h[1]["count"]), f(&h[1]["sum"]), buckets));
        }
    }
    let total: usize = want.values().map(|v| v.len()).sum();
    assert_eq!(total, expected_total, "API histogram samples in {dir}");
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (k, w) in &want {
        let g = &got[k];
        assert_eq!(g.len(), w.len(), "{k}: sample count");
        for (ts, wh) in w {
            let gh = g
                .get(ts)
                .unwrap_or_else(|| panic!("{k} @ {ts}: missing in our dump"));
            assert!(
                same_histogram(gh, wh),
                "{k} @ {ts}:\n ours {gh:?}\n api  {wh:?}"
            );
        }
    }
}

#[test]
fn live_data_dir_with_head_is_byte_identical_to_promtool() {
    // promtool replays chunks_head/ and the WAL after the checkpoint.
    let p = testdata("prom-2.42-live/data");
    let ours = dump(&["dump", p.to_str().unwrap()]);
    let oracle = gunzip(&testdata("prom-2.42-live/oracle/dump-data.txt.gz"));
    assert_same_lines(&ours, &oracle, "live data dir");
}

#[test]
fn nativehist_data_dir_floats_only_is_byte_identical_to_promtool() {
    let p = testdata("prom-2.42-nativehist/data");
    let ours = dump(&["dump", "--floats-only", p.to_str().unwrap()]);
    let oracle = strip_oracle_frame(&gunzip(&testdata(
        "prom-2.42-nativehist/oracle/data/dump_all.txt.gz",
    )));
    assert_same_lines(&ours, &oracle, "nativehist data");
}

#[test]
fn head_only_range_keeps_prometheus_head_series_order() {
    // Past the newest block only the head is queried, and Prometheus does
    // not sort then: series come in head series id order.
    let p = testdata("prom-2.42-nativehist/data");
    let ours = dump(&[
        "dump",
        "--floats-only",
        "--min-time",
        "1795600680000",
        p.to_str().unwrap(),
    ]);
    let oracle = strip_oracle_frame(&gunzip(&testdata(
        "prom-2.42-nativehist/oracle/data/dump_head.txt.gz",
    )));
    assert_same_lines(&ours, &oracle, "nativehist head only");
}

#[test]
fn head_only_full_dump_is_sorted_by_labels_as_promtool() {
    // A data dir with a WAL and no block: over the whole time line promtool
    // also opens the (empty) out-of-order head querier, so the two are merged
    // and sorted by labels; over a narrower range (the test above) the head
    // is alone and keeps series id order.
    if !promtool_available("head-only dump") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = testdata("prom-2.42-nativehist/data");
    for d in ["wal", "chunks_head"] {
        copy_dir(&src.join(d), &tmp.path().join(d));
    }
    let p = tmp.path().to_str().unwrap();
    let oracle = std::process::Command::new("promtool")
        .args(["tsdb", "dump", p])
        .output()
        .unwrap();
    assert!(oracle.status.success());
    let oracle = String::from_utf8(oracle.stdout).unwrap();
    assert!(oracle.lines().count() > 1000);
    let ours = dump(&["dump", "--floats-only", p]);
    assert_same_lines(&ours, &oracle, "head-only full dump");
}

#[test]
fn empty_chunks_dir_is_one_error_line() {
    // A block whose chunks/ is empty: every chunk reference points outside
    // the 0 bytes there; `dump` says so once, with the count, exit 1.
    let tmp = tempfile::tempdir().unwrap();
    let b = tmp.path().join("01M88Z547SWC2057Y39068VCCB");
    crate::util::copy_dir(
        &crate::util::testdata("backfill-small/blocks/01M88Z547SWC2057Y39068VCCB"),
        &b,
    );
    for e in std::fs::read_dir(b.join("chunks")).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    let out = crate::util::promsnap(&["dump", b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("outside the 0 bytes available (and ") && lines[0].contains(" in all)"),
        "{err}"
    );
}
