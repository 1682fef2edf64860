//! The peer corpus: real TSDB bytes that other projects ship in their
//! repositories (Prometheus 2.0 index v1 blocks, Mimir- and Thanos-written
//! blocks, VictoriaMetrics' Prometheus snapshots, data dirs with WAL,
//! checkpoints and chunks_head from 2019–2025), each with promtool 2.42's
//! outputs as oracles and a `run.sh` that compares. Runs when the corpus is
//! present (see `util::peer_data`), skips cleanly when it is not; CI checks
//! that it is present.

use std::process::Command;

use crate::util::peer_data;

#[test]
fn peer_corpus_has_no_difference_and_no_crash() {
    let Some(dir) = peer_data() else {
        eprintln!("peer corpus not present: skipped");
        return;
    };
    let out = Command::new("bash")
        .arg(dir.join("run.sh"))
        .arg(env!("CARGO_BIN_EXE_promsnap"))
        .env("PEER_DATA", &dir)
        .output()
        .expect("run run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default().to_string();
    assert!(
        out.status.success() && last.ends_with(" 0 differ, 0 crash"),
        "peer corpus: {last}\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn wal_samples_without_series_record_are_an_error() {
    // nightingale's data dir: samples whose Series record is gone (its
    // segment was truncated away); Prometheus drops them on replay.
    let Some(dir) = peer_data() else {
        eprintln!("peer corpus not present: skipped");
        return;
    };
    let d = dir.join("ccfos+nightingale/prometheus/data");
    let out = crate::util::promsnap(&["verify", "--json", d.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "wal_unknown_series")
        .collect();
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["severity"], "info");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("Unknown series references")
    );
}
