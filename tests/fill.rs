//! `promsnap fill`: against promtool on real fixture data, on bad input, and
//! with real Prometheus 2.42 servers (a replica that lost minutes).

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::util::{copy_dir, promsnap, run_json, testdata};
use crate::write::{Prom, have, http_get};

const MISSING_BLOCK: &str = "01M88ZEAF15198PYN7F74NS04J";

/// SOURCE: a copy of the live fixture's data dir (blocks, chunks_head, WAL);
/// TARGET: the same without one block.
fn pair(tmp: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let src = tmp.join("source");
    let dst = tmp.join("target");
    copy_dir(&testdata("prom-2.42-live/data"), &src);
    std::fs::remove_dir_all(src.join("snapshots")).unwrap();
    copy_dir(&src, &dst);
    std::fs::remove_dir_all(dst.join(MISSING_BLOCK)).unwrap();
    (src, dst)
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

fn promtool_dump(dir: &Path) -> String {
    let out = std::process::Command::new("promtool")
        .args(["tsdb", "dump", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A replica missing one block: fill writes exactly its samples back, and
/// promtool dumps the filled replica identically to the source. A second
/// run adds nothing; a dry run writes nothing.
#[test]
fn fill_restores_a_lost_block_as_promtool_sees_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = pair(tmp.path());
    let before = entries(&dst);

    let (code, dry) = run_json(&[
        "fill",
        dst.to_str().unwrap(),
        "--from",
        src.to_str().unwrap(),
        "--dry-run",
        "--json",
    ]);
    assert_eq!(code, Some(0), "{dry}");
    assert_eq!(entries(&dst), before, "a dry run writes nothing");
    // The lost block held 109920 samples of 916 series (its meta.json).
    assert_eq!(dry["samples_added"], 109920, "{dry}");
    assert_eq!(dry["series_added"], 916);

    let (code, r) = run_json(&[
        "fill",
        dst.to_str().unwrap(),
        "--from",
        src.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["samples_added"], 109920, "{r}");
    assert_eq!(r["deferred"]["samples"], 0, "{r}");
    // One block per window of the inferred grid, each inside its window.
    let ranges = r["ranges"].as_array().unwrap();
    assert!(!ranges.is_empty(), "{r}");
    let mut after = entries(&dst);
    let mut sum = 0;
    for x in ranges {
        let ulid = x["block"].as_str().unwrap();
        assert!(dst.join(ulid).join("meta.json").is_file());
        assert!(x["window_start"].as_i64() <= x["min_time"].as_i64());
        assert!(x["max_time"].as_i64() <= x["window_end"].as_i64());
        sum += x["samples"].as_u64().unwrap();
        after.retain(|e| e != ulid);
    }
    assert_eq!(sum, 109920);
    // TARGET's own entries are untouched, only blocks added.
    assert_eq!(after, before);
    let added = ranges.len();

    if have("promtool") {
        assert!(
            promtool_dump(&dst) == promtool_dump(&src),
            "promtool dump of the filled target differs from the source's"
        );
    }
    let v = promsnap(&["verify", dst.to_str().unwrap()]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    let (code, g) = run_json(&[
        "gaps",
        dst.to_str().unwrap(),
        "--against",
        src.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(g["missing"]["merged"].as_array().unwrap().len(), 0, "{g}");

    let (code, again) = run_json(&[
        "fill",
        dst.to_str().unwrap(),
        "--from",
        src.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(again["samples_added"], 0, "{again}");
    assert_eq!(entries(&dst).len(), before.len() + added);
}

/// Bad input: a target equal to or inside its source, a block directory as
/// target, a missing directory: exit 2, nothing written.
#[test]
fn fill_bad_input_is_a_usage_error_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = pair(tmp.path());
    let before = entries(&src);
    let s = src.to_str().unwrap();
    let inner = src.join("wal");
    let block = dst.join("01M88ZHZN1XRWVWM1RH4GVHSAJ");
    for (target, why) in [
        (s, "equal"),
        (inner.to_str().unwrap(), "inside"),
        (block.to_str().unwrap(), "a block"),
        ("/nonexistent/promsnap-fill", "missing"),
    ] {
        let out = promsnap(&["fill", target, "--from", s]);
        assert_eq!(out.status.code(), Some(2), "{why}");
        assert!(!out.stderr.is_empty(), "{why}: an error message");
    }
    let out = promsnap(&[
        "fill",
        dst.to_str().unwrap(),
        "--from",
        s,
        "--min-time",
        "2000",
        "--max-time",
        "1000",
    ]);
    assert_eq!(out.status.code(), Some(2), "reversed range");
    assert_eq!(entries(&src), before);
    assert!(!entries(&dst).iter().any(|e| e.contains("tmp")));
}

/// A source with a damaged chunk: fill writes what it can read, names the
/// damaged file and series, and exits 1; what it wrote verifies clean.
#[test]
fn fill_from_a_damaged_source_fills_what_it_can() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = pair(tmp.path());
    let seg = src.join(MISSING_BLOCK).join("chunks/000001");
    let mut bytes = std::fs::read(&seg).unwrap();
    let mid = bytes.len() / 2;
    for b in bytes.iter_mut().skip(mid).take(64) {
        *b ^= 0x5a;
    }
    std::fs::write(&seg, &bytes).unwrap();
    let (code, r) = run_json(&[
        "fill",
        dst.to_str().unwrap(),
        "--from",
        src.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, Some(1), "{r}");
    let errors = r["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().unwrap().contains("000001")),
        "{errors:?}"
    );
    let added = r["samples_added"].as_u64().unwrap();
    assert!(added > 100_000 && added < 109920, "{r}");
    let v = promsnap(&["verify", dst.to_str().unwrap()]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The late replica, with real servers (about 2 minutes): a master scrapes
/// itself every second and remote-writes to a slave seeded from its
/// snapshot; the slave first runs without the remote-write receiver (the
/// master's batches get 404 and are dropped: a real loss), then with it.
/// After `fill SLAVE --from MASTER` (slave running), `gaps` finds no hole,
/// the running slave serves the formerly lost seconds with the master's
/// exact samples after its block reload, `verify SLAVE` is clean, and
/// neither log has an error.
#[test]
fn fill_heals_a_running_late_replica() {
    if !have("prometheus") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let mdata = base.join("master");
    let sdata = base.join("slave");
    let slave_port = crate::write::free_port();
    let mcfg = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
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
    // The slave up without the receiver: the master's writes are refused.
    let scfg = "global:\n  scrape_interval: 1h\n";
    let slave_args = |recv: bool| -> Vec<String> {
        let mut a = Vec::new();
        if recv {
            a.push("--web.enable-remote-write-receiver".into());
        }
        a
    };
    let lost_from = now_ms();
    let s1 = start_on(base, "slave1", scfg, &sdata, slave_port, &slave_args(false));
    std::thread::sleep(Duration::from_secs(15));
    drop(s1);
    let lost_to = now_ms();
    let slave = start_on(base, "slave2", scfg, &sdata, slave_port, &slave_args(true));
    // Wait until the slave receives data again.
    let series = "prometheus_tsdb_head_samples_appended_total";
    wait_until(
        "remote write to reach the slave",
        Duration::from_secs(60),
        || !slave.query(series, now_ms() as f64 / 1000.0).is_empty(),
    );
    // Everything up to check_to has reached the slave or is lost for good.
    std::thread::sleep(Duration::from_secs(20));
    let check_to = now_ms() - 10_000;
    assert!(check_to > lost_to + 5_000);

    let gaps = |to: i64| {
        run_json(&[
            "gaps",
            sdata.to_str().unwrap(),
            "--against",
            mdata.to_str().unwrap(),
            "--to",
            &to.to_string(),
            "--json",
        ])
        .1
    };
    let g = gaps(check_to);
    let lost: u64 = g["missing"]["merged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["samples"].as_u64().unwrap())
        .sum();
    assert!(lost > 0, "the scenario must lose samples: {g}");

    let (code, r) = run_json(&[
        "fill",
        sdata.to_str().unwrap(),
        "--from",
        mdata.to_str().unwrap(),
        "--max-time",
        &check_to.to_string(),
        "--json",
    ]);
    assert!(code == Some(0) || code == Some(1), "{r}");
    assert!(r["samples_added"].as_u64().unwrap() >= lost, "{r}");
    let g = gaps(check_to);
    assert_eq!(g["missing"]["merged"].as_array().unwrap().len(), 0, "{g}");
    let v = promsnap(&["verify", sdata.to_str().unwrap()]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));

    // The running slave serves the lost seconds with the master's samples
    // once it has reloaded its blocks (every minute).
    let span_s = (lost_to - lost_from) / 1000 + 2;
    let at = (lost_to as f64) / 1000.0;
    let q = format!("{series}[{span_s}s]");
    let want = master.query(&q, at);
    assert!(!want.is_empty());
    let end = Instant::now() + Duration::from_secs(90);
    loop {
        let got = slave.query(&q, at);
        if got == want {
            break;
        }
        if Instant::now() > end {
            let n = |r: &[serde_json::Value]| -> Vec<usize> {
                r.iter()
                    .map(|s| s["values"].as_array().map_or(0, |v| v.len()))
                    .collect()
            };
            if let Ok(dir) = std::env::var("PROMSNAP_FILL_KEEP") {
                copy_dir(base, Path::new(&dir));
            }
            panic!(
                "the slave does not serve the master's samples: {:?} vs {:?} ({:?}, first {:?} vs {:?})\nfill: {r}\nslave log: {}",
                n(&got),
                n(&want),
                (lost_from, lost_to),
                got.first().map(|s| s["values"][0].clone()),
                want.first().map(|s| s["values"][0].clone()),
                slave.log_text()
            );
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    // Prometheus compacts the filled block with its own (the head's block
    // of that minute overlaps it: a vertical compaction).
    let ulids: Vec<String> = r["ranges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["block"].as_str().unwrap().to_string())
        .collect();
    wait_until(
        "the slave to compact the filled block",
        // Its head block must span 1.5 block ranges first, then the next
        // minute's compaction cycle merges the overlap: on a loaded 2-core
        // CI machine 150 s was once not enough.
        Duration::from_secs(300),
        || {
            slave.log_text().lines().any(|l| {
                l.contains("msg=\"compact blocks\"") && ulids.iter().any(|u| l.contains(u.as_str()))
            })
        },
    );
    assert_eq!(slave.query(&q, at), want, "after the compaction");
    // The slave never logs an error; the master only about the refused
    // remote writes of the first slave.
    let log = slave.log_text();
    assert!(!log.contains("level=error"), "{log}");
    for l in master.log_text().lines() {
        assert!(
            !l.contains("level=error") || l.contains("remote"),
            "master: {l}"
        );
    }
}

fn snapshot(port: u16) -> (u16, String) {
    // POST is required; HTTP/1.0 with an empty body.
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST /api/v1/admin/tsdb/snapshot HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let st = buf.split_whitespace().nth(1).unwrap().parse().unwrap();
    (st, buf.split_once("\r\n\r\n").unwrap().1.to_string())
}

fn start_on(base: &Path, name: &str, cfg: &str, data: &Path, port: u16, args: &[String]) -> Prom {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    Prom::start_port(base, name, cfg, data, port, &a)
}

#[allow(dead_code)]
fn ready(port: u16) -> bool {
    matches!(http_get(port, "/-/ready"), Some((200, _)))
}
