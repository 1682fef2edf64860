//! `coverage --slave DIR` on a young slave, with real servers (about 40 s):
//! a master scraping itself every second remote-writes to a slave seeded
//! from its admin-API snapshot; the slave's blocks are the snapshot's only,
//! what it received is in its head.

use std::path::Path;
use std::time::Duration;

use crate::fill::snapshot;
use crate::realserver::{Server, free_port, now_ms, tools_available, wait_for, wait_scrapes};
use crate::util::{copy_dir, promsnap, promtool_tsdb_dump, run_json};

/// Timestamps at or after `from` in a `promtool tsdb dump` (the last field
/// of each line): their oldest and newest.
fn dump_range(dump: &str, from: i64) -> Option<(i64, i64)> {
    dump.lines()
        .filter_map(|l| l.rsplit(' ').next()?.parse::<i64>().ok())
        .filter(|&t| t >= from)
        .fold(None, |r, t| {
            Some(r.map_or((t, t), |(a, b): (i64, i64)| (a.min(t), b.max(t))))
        })
}

fn coverage(snap: &Path, slave: &Path) -> (Option<i32>, serde_json::Value) {
    run_json(&[
        "coverage",
        snap.to_str().unwrap(),
        "--slave",
        slave.to_str().unwrap(),
        "--json",
    ])
}

/// A copy of `src` at `dst` whose newest WAL segment is cut 3 bytes before
/// its last non-zero byte: mid-record.
fn torn_copy(src: &Path, dst: &Path) -> std::path::PathBuf {
    copy_dir(src, dst);
    let mut segs: Vec<_> = std::fs::read_dir(dst.join("wal"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    segs.sort();
    let last = segs.last().unwrap();
    let bytes = std::fs::read(last).unwrap();
    let end = bytes.iter().rposition(|&b| b != 0).unwrap();
    std::fs::write(last, &bytes[..end.saturating_sub(3)]).unwrap();
    dst.to_path_buf()
}

/// The answer's note on what the slave's data was used for, and the text's
/// head and received lines.
fn says_what_it_used(snap: &Path, sdata: &Path, r: &serde_json::Value) {
    // What the answer used it for.
    assert!(
        r["findings"].to_string().contains("used only to check"),
        "{}",
        r["findings"]
    );
    // The text says it too.
    let out = promsnap(&[
        "coverage",
        snap.to_str().unwrap(),
        "--slave",
        sdata.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("  head: samples "), "{text}");
    assert!(
        text.contains("  received (own blocks and head): "),
        "{text}"
    );
}

/// The slave's head, live and stopped: what it received is reported (first
/// and last received sample equal to promtool's dump of the stopped slave
/// past the coverage end), where its blocks report nothing; a copy whose
/// newest WAL segment is cut mid-record gives a note, never a panic.
#[test]
fn slave_head_reports_what_a_young_slave_received() {
    if !tools_available("coverage --slave") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let (mdata, sdata) = (base.join("master"), base.join("slave"));
    let sport = free_port();
    let mcfg = format!(
        "global:\n  scrape_interval: 1s\n\
         scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:SELF_PORT']\n\
         remote_write:\n  - url: http://127.0.0.1:{sport}/api/v1/write\n    queue_config:\n      batch_send_deadline: 1s\n      min_backoff: 100ms\n      max_backoff: 500ms\n"
    );
    let mut master = Server::launch("master", base, &mcfg, &mdata, &["--web.enable-admin-api"]);
    wait_scrapes(master.port, 5);
    let (st, body) = snapshot(master.port);
    assert_eq!(st, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let snap = mdata
        .join("snapshots")
        .join(v["data"]["name"].as_str().unwrap());
    copy_dir(&snap, &sdata);
    // The slave scrapes nothing of its own: every sample in its head is
    // the master's.
    let mut slave = Server::start(
        "slave",
        base,
        "global:\n  scrape_interval: 1h\n",
        &sdata,
        sport,
        &["--web.enable-remote-write-receiver"],
    );
    let up = slave.wait_ready(Duration::from_secs(60));
    wait_for("the slave to receive", Duration::from_secs(60), || {
        let r = slave.query("count(up)", now_ms() as f64 / 1000.0);
        !r.is_empty() && now_ms() > up + 8_000
    });
    // Live: read while the slave writes.
    let (code, live) = coverage(&snap, &sdata);
    assert!(code == Some(0) || code == Some(1), "{live}");
    let c = live["coverage_end"].as_i64().unwrap();
    let part = &live["slave"];
    assert_eq!(part["own_blocks"].as_array().unwrap().len(), 0, "{part}");
    let first_live = part["head"]["first_received"]
        .as_i64()
        .expect("live head read");
    assert!(first_live >= c, "{part}");
    slave.stop(Duration::from_secs(30));
    master.stop(Duration::from_secs(30));

    let (code, r) = coverage(&snap, &sdata);
    assert!(code == Some(0) || code == Some(1), "{r}");
    let head = &r["slave"]["head"];
    let (lo, hi) = dump_range(&promtool_tsdb_dump(&sdata), c).expect("the slave received");
    assert_eq!(head["first_received"].as_i64(), Some(lo), "{head}");
    assert_eq!(head["last_received"].as_i64(), Some(hi), "{head}");
    assert_eq!(r["slave"]["received_from"].as_i64(), Some(lo), "{r}");
    assert_eq!(r["slave"]["received_to"].as_i64(), Some(hi), "{r}");
    assert!(head["wal_segments"].as_u64().unwrap() >= 1, "{head}");
    assert_eq!(first_live, lo, "the live read saw the same first sample");
    says_what_it_used(&snap, &sdata, &r);

    // A copy whose newest segment is cut mid-record.
    let torn = torn_copy(&sdata, &base.join("torn"));
    let (code, t) = coverage(&snap, &torn);
    assert!(code == Some(0) || code == Some(1), "{t}");
    let notes = t["slave"]["head"]["notes"].to_string();
    assert!(notes.contains("mid-record"), "{t}");
    assert!(
        t["slave"]["head"]["first_received"].as_i64().is_some(),
        "{t}"
    );
}
