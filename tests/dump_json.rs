//! `dump --json` against promtool's dump of the same data: the same series,
//! the same samples, bit-exact values; one JSON document, also when nothing
//! is selected.

use std::path::Path;

use promsnap::dump::json_value;
use promsnap::format::chunkenc::go_format_g;

use crate::util::{assert_same_lines, gunzip, peer_data, promsnap, testdata};

/// Runs `dump --json ARGS`, asserts exit 0 (1 with damage named in the
/// document's `errors`) and that stdout is ONE JSON
/// document, and renders it as promtool's lines: labels as Go prints them,
/// each value read back from its JSON text to the exact `f64` and printed
/// with Go's `%g` (shortest round trip: equal text, equal bits).
fn json_dump_as_text(args: &[&str]) -> (String, serde_json::Value) {
    let mut all = vec!["dump", "--json"];
    all.extend_from_slice(args);
    let out = promsnap(&all);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{all:?}: not one JSON document: {e}"));
    let damaged = !doc["errors"].as_array().unwrap().is_empty();
    assert_eq!(
        out.status.code(),
        Some(i32::from(damaged)),
        "{all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::str::from_utf8(&out.stdout).unwrap();
    let mut lines = String::new();
    let mut n = 0;
    for line in text.lines() {
        let Some(line) = line.strip_prefix("{\"labels\":") else {
            continue;
        };
        let line = line.trim_end_matches(',');
        let series: serde_json::Value =
            serde_json::from_str(&format!("{{\"labels\":{line}")).unwrap();
        let labels: Vec<(String, String)> = series["labels"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let pairs: Vec<(&[u8], &[u8])> = labels
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect();
        let mut prefix = String::new();
        promsnap::dump::format_labels(&mut prefix, &pairs);
        // The samples' raw text: `[t,v],[t,v]` (floats: no nested commas).
        let raw = line
            .split_once("\"samples\":[[")
            .and_then(|(_, r)| r.strip_suffix("]]}"))
            .unwrap_or_else(|| panic!("samples of {line}"));
        for s in raw.split("],[") {
            let (t, v) = s.split_once(',').unwrap();
            let v = json_value(v).unwrap_or_else(|| panic!("value {v:?}"));
            let mut g = String::new();
            go_format_g(v, &mut g);
            lines.push_str(&format!("{prefix} {g} {t}\n"));
        }
        n += 1;
    }
    assert_eq!(
        n,
        doc["series"].as_array().unwrap().len(),
        "one series per line"
    );
    (lines, doc)
}

#[test]
fn dump_json_backfill_block_equals_promtool() {
    let p = testdata("backfill-small/blocks/01M88Z547SWC2057Y39068VCCB");
    let (ours, doc) = json_dump_as_text(&[p.to_str().unwrap()]);
    let oracle = gunzip(&testdata(
        "backfill-small/oracle/dump-01M88Z547SWC2057Y39068VCCB.txt.gz",
    ));
    assert_same_lines(&ours, &oracle, "backfill-small --json");
    assert_eq!(doc["errors"], serde_json::json!([]));
}

#[test]
fn dump_json_live_snapshots_and_data_dir_equal_promtool() {
    for (dir, oracle) in [
        (
            "prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98",
            "prom-2.42-live/oracle/dump-snapshot-20261125T091234Z-788eafc011a10c98.txt.gz",
        ),
        (
            "prom-2.42-live/data/snapshots/20261125T091235Z-7531d0e39246db15",
            "prom-2.42-live/oracle/dump-snapshot-20261125T091235Z-7531d0e39246db15.txt.gz",
        ),
        // blocks + the head replayed from wal/ and chunks_head/
        (
            "prom-2.42-live/data",
            "prom-2.42-live/oracle/dump-data.txt.gz",
        ),
    ] {
        let (ours, doc) = json_dump_as_text(&[testdata(dir).to_str().unwrap()]);
        assert_eq!(doc["errors"], serde_json::json!([]), "{dir}");
        assert_same_lines(&ours, &gunzip(&testdata(oracle)), dir);
    }
}

#[test]
fn dump_json_filters_equal_the_text_dump() {
    // The text dump is byte-identical to promtool (tests/dump.rs); --json
    // must select exactly its samples for every filter.
    let p = testdata("prom-2.42-live/data");
    let p = p.to_str().unwrap();
    for args in [
        vec![
            "--match",
            "up",
            "--match",
            r#"go_gc_duration_seconds{quantile=~"0.(25|5)"}"#,
        ],
        vec!["--min-time", "1795597700000", "--max-time", "1795597710000"],
        vec!["--min-time", "2026-11-25T09:10:00Z"],
        vec![
            "--max-time",
            "2026-11-25T09:05:00Z",
            "--match",
            "{job=\"prometheus\"}",
        ],
    ] {
        let mut text_args = vec!["dump"];
        text_args.extend_from_slice(&args);
        text_args.push(p);
        let text = promsnap(&text_args);
        assert!(text.status.success());
        let mut json_args = args.clone();
        json_args.push(p);
        let (ours, _) = json_dump_as_text(&json_args);
        assert!(!ours.is_empty(), "{args:?}");
        assert_same_lines(
            &ours,
            &String::from_utf8(text.stdout).unwrap(),
            &args.join(" "),
        );
    }
}

#[test]
fn dump_json_nativehist_floats_only_equals_promtool_and_histograms_are_objects() {
    let s = "20261125T095910Z-571c9d7c71851497";
    let p = testdata(&format!("prom-2.42-nativehist/data/snapshots/{s}"));
    let (ours, _) = json_dump_as_text(&["--floats-only", p.to_str().unwrap()]);
    let oracle = gunzip(&testdata(&format!(
        "prom-2.42-nativehist/oracle/snapshot_{s}/dump_all.txt.gz"
    )));
    // The oracle file is framed by the command line and an exit trailer.
    let oracle: String = oracle
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_same_lines(&ours, &oracle, s);
    // Without --floats-only a histogram sample is {"histogram": <the text
    // dump's value>}: the same samples as the text dump, in the same order.
    let sel = "nh:queue_depth:copy";
    let out = promsnap(&["dump", "--json", "--match", sel, p.to_str().unwrap()]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = promsnap(&["dump", "--match", sel, p.to_str().unwrap()]);
    let text = String::from_utf8(text.stdout).unwrap();
    let samples = doc["series"][0]["samples"].as_array().unwrap();
    let mut histograms = 0;
    for (line, s) in text.lines().zip(samples) {
        let t = s[0].as_i64().unwrap();
        let v = match &s[1] {
            serde_json::Value::Object(h) => {
                histograms += 1;
                h["histogram"].as_str().unwrap().to_string()
            }
            v => v.to_string(),
        };
        let (_, tail) = line.split_once("} ").unwrap();
        assert_eq!(tail, format!("{v} {t}"), "{line} vs {s}");
    }
    assert_eq!(samples.len(), text.lines().count());
    assert!(histograms > 0);
}

#[test]
fn dump_json_empty_selection_is_one_document() {
    let p = testdata("prom-2.42-live/data");
    for args in [
        vec!["--match", "no_such_metric"],
        vec!["--min-time", "0", "--max-time", "1"],
    ] {
        let mut all = vec!["dump", "--json"];
        all.extend_from_slice(&args);
        all.push(p.to_str().unwrap());
        let out = promsnap(&all);
        assert_eq!(out.status.code(), Some(0), "{all:?}");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({"series": [], "errors": []}),
            "{all:?}"
        );
    }
}

#[test]
fn dump_json_damage_is_in_errors_and_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let b = tmp.path().join("01M88Z547SWC2057Y39068VCCB");
    crate::util::copy_dir(
        &testdata("backfill-small/blocks/01M88Z547SWC2057Y39068VCCB"),
        &b,
    );
    let seg = b.join("chunks/000001");
    let mut bytes = std::fs::read(&seg).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&seg, bytes).unwrap();
    let out = promsnap(&["dump", "--json", b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = doc["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    assert!(
        errors[0].as_str().unwrap().contains("chunks/000001"),
        "{errors:?}"
    );
    assert!(!doc["series"].as_array().unwrap().is_empty());
}

/// The peer corpus' data sets with a promtool dump oracle.
#[test]
fn dump_json_peer_data_equals_promtool() {
    let Some(dir) = peer_data() else {
        eprintln!("peer corpus not present: skipped");
        return;
    };
    let tsv = std::fs::read_to_string(dir.join("datasets.tsv")).unwrap();
    let mut checked = 0;
    for line in tsv.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let [id, path, _kind, "oracle", ..] = f.as_slice() else {
            continue;
        };
        let oracle = dir
            .join("oracle")
            .join(id)
            .join("promtool-tsdb-dump.txt.gz");
        let (ours, _) = json_dump_as_text(&[dir.join(path).to_str().unwrap()]);
        assert_same_lines(&ours, &gunzip(Path::new(&oracle)), id);
        checked += 1;
    }
    assert!(checked > 0);
}
