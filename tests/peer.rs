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
fn wal_samples_without_series_record_are_reported_and_not_data() {
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
    // Info: replay skips them (one warn-level log line) and starts; those
    // are usually in blocks already (catch-datadir must stay clean).
    assert_eq!(f[0]["severity"], "info");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("Unknown series references")
    );
}

#[test]
fn wal_unknown_series_counts_equal_prometheus_replay_log() {
    // The real Prometheus 2.42 started on a copy of nightingale's data dir
    // logs how many samples its replay skipped ("Unknown series references"
    // samples=N histograms=M); `wal` must count exactly those as
    // unknown_series_* and leave them out of the data it counts.
    let Some(dir) = peer_data() else {
        eprintln!("peer corpus not present: skipped");
        return;
    };
    if !crate::realserver::prometheus_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "prometheus is not installed but CI is set"
        );
        eprintln!("prometheus not on PATH: skipped");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    crate::util::copy_dir(&dir.join("ccfos+nightingale/prometheus/data"), &data);
    let (_, wal) = crate::util::run_json(&["wal", "--json", data.to_str().unwrap()]);
    let t = &wal["wal"]["totals"];

    let port = crate::realserver::free_port();
    let mut srv = crate::realserver::Server::start(
        "nightingale",
        tmp.path(),
        "global:\n  scrape_interval: 1h\n",
        &data,
        port,
        &[],
    );
    // verify's startup verdict on the same bytes, before the server runs.
    let (_, v) = crate::util::run_json(&["verify", "--json", data.to_str().unwrap()]);
    srv.wait_ready(std::time::Duration::from_secs(60));
    // It started (its block without meta.json is skipped, not fatal): the
    // verdict must not say it refuses.
    let outcome = v.to_string();
    assert!(!outcome.contains("\"refuse\""), "{outcome}");
    srv.stop(std::time::Duration::from_secs(10));
    let log = std::fs::read_to_string(tmp.path().join("nightingale.log")).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains("msg=\"Unknown series references\""))
        .unwrap_or_else(|| panic!("no unknown-series line in the log:\n{log}"));
    let field = |k: &str| -> u64 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{k}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{k} in {line}"))
    };
    assert!(field("samples") > 0, "{line}");
    assert_eq!(t["unknown_series_samples"], field("samples"), "{line}\n{t}");
    assert_eq!(
        t["unknown_series_histograms"],
        field("histograms"),
        "{line}\n{t}"
    );
    // Every float sample of this WAL is one replay skipped: none is data.
    assert_eq!(t["float_samples"], 0, "{t}");
}
