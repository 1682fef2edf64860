//! `promsnap seed` against a live Prometheus 2.42 on loopback (short clock:
//! 1 min blocks, 1 s scrapes), and against fake servers for what a live one
//! cannot be made to do on demand (a non-Prometheus answer, the
//! "outside of compacted" snapshot failure).
//!
//! The live tests need `prometheus` and `promtool` on the PATH (CI installs
//! Debian's 2.42); without them they are skipped, and fail under CI=true.
//! About 30 s of wall time.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::realserver::{
    NO_SCRAPE, SELF_SCRAPE_1S, Server, backfill, backfill_end_s, free_port, wait_scrapes,
};
use crate::util::{copy_dir, gauge_om, promsnap, testdata};

fn seed(args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let out = promsnap(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), v, stderr)
}

/// Backfills the OpenMetrics text `om` into `data` with promtool: the one
/// block it writes.
fn backfill_one(base: &Path, om: &str, data: &Path) -> String {
    backfill(base, om, data);
    let blocks = block_dirs(data);
    assert_eq!(blocks.len(), 1, "{blocks:?}");
    blocks.into_iter().next().unwrap_or_default()
}

fn block_dirs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.len() == 26)
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn meta(block: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(block.join("meta.json")).unwrap()).unwrap()
}

fn max_time(block: &Path) -> i64 {
    meta(block)["maxTime"].as_i64().unwrap()
}

/// The greatest maxTime of the blocks in `dir`.
fn newest_max_time(dir: &Path) -> i64 {
    block_dirs(dir)
        .iter()
        .map(|b| max_time(&dir.join(b)))
        .max()
        .unwrap()
}

/// `promsnap seed --from FROM --to TO`, `extra` arguments and `--json`.
fn seed_json(from: &str, to: &Path, extra: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let mut args = vec!["seed", "--from", from, "--to", to.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push("--json");
    seed(&args)
}

/// A real 2.42 primary on `data`: 1 s self-scrapes, the admin API on.
fn launch_primary(base: &Path, data: &Path) -> Server {
    Server::launch(
        "primary",
        base,
        SELF_SCRAPE_1S,
        data,
        &["--web.enable-admin-api"],
    )
}

/// A real 2.42 primary in `base/primary` as [`launch_primary`], with a
/// `remote_write` section (to a port nothing listens on).
fn launch_rw_primary(base: &Path) -> Server {
    let config = format!(
        "{SELF_SCRAPE_1S}remote_write:\n  - url: http://127.0.0.1:{}/api/v1/write\n",
        free_port()
    );
    let data = base.join("primary");
    Server::launch("primary", base, &config, &data, &["--web.enable-admin-api"])
}

fn files_equal(a: &Path, b: &Path) {
    for e in walkdir(a) {
        let rel = e.strip_prefix(a).unwrap();
        assert_eq!(
            std::fs::read(&e).unwrap(),
            std::fs::read(b.join(rel)).unwrap(),
            "{} differs",
            rel.display()
        );
    }
}

fn walkdir(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walkdir(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

fn steps(v: &serde_json::Value) -> Vec<(String, String)> {
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const STEPS: [&str; 6] = ["flags", "snapshot", "locate", "verify", "copy", "coverage"];

/// A primary with an older backfilled block and a scraped head: seed a
/// replica with the head, start a real Prometheus on it and query both;
/// then seed another with --skip-head and check what it says was skipped.
// One real-server scenario, step by step; its steps share the running servers.
#[allow(clippy::too_many_lines)]
#[test]
fn seed_live_primary_then_replica_serves_it() {
    if !crate::realserver::tools_available("seed") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let data = base.join("primary");
    // A persisted block of about 8 minutes ending 2 to 3 minutes ago,
    // written by promtool. Its last sample is 1 ms before a minute, so
    // that its maxTime lies on the 1 min grid as a compacted block's does
    // (coverage tells the snapshot's head block by a maxTime off the grid).
    let end = backfill_end_s(480);
    let times: Vec<i64> = (end - 480..end).step_by(15).collect();
    let last = format!("seed_backfill{{job=\"bf\"}} 1 {}.999\n", end - 1);
    let om = gauge_om("seed_backfill", times.iter().copied(), 97, &last);
    let bf = backfill_one(base, &om, &data);
    let backfill_end = max_time(&data.join(&bf));
    assert_eq!(backfill_end, end * 1000);

    let primary = launch_primary(base, &data);
    std::thread::sleep(Duration::from_secs(6));

    // With the head; the data dir comes from the primary's flags.
    let replica = base.join("replica");
    let (code, v, err) = seed_json(&primary.url(), &replica, &[]);
    assert_eq!(code, Some(0), "{err}\n{v:#}");
    let st = steps(&v);
    assert_eq!(st.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(), STEPS);
    assert!(st.iter().all(|s| s.1 == "ok"), "{st:?}");
    assert_eq!(v["data_dir_source"], "flags");
    assert_eq!(v["snapshot"]["skip_head"], false);
    let snap = PathBuf::from(v["snapshot"]["path"].as_str().unwrap());
    assert!(snap.starts_with(data.join("snapshots")));
    // The replica holds exactly the snapshot's blocks, byte for byte, and
    // our verify finds them sound.
    let blocks = block_dirs(&snap);
    assert_eq!(blocks.len(), 2, "backfilled block + head block");
    assert_eq!(block_dirs(&replica), blocks);
    for b in &blocks {
        files_equal(&snap.join(b), &replica.join(b));
    }
    assert_eq!(v["verify"]["errors"], 0);
    assert_eq!(v["copy"]["copied"].as_array().unwrap().len(), 2);
    let out = promsnap(&["verify", replica.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    // C_snap is the head block's end; the deadline lies after it.
    let c_snap = v["coverage_end"].as_i64().unwrap();
    let newest = newest_max_time(&snap);
    assert_eq!(c_snap, newest);
    assert_eq!(v["coverage"]["head_included"], true);
    assert_eq!(
        v["coverage"]["block_range"], 60_000,
        "from the primary's flags"
    );
    assert!(v["deadline"]["at"].as_i64().unwrap() > c_snap);
    assert!(v["skipped_head"].is_null());
    // No remote_write in its configuration: taken as starting at the snapshot.
    assert!(v["remote_write_since"].is_null(), "{v:#}");
    let fill = v["fill_command"].as_str().unwrap();
    assert_eq!(
        fill,
        format!(
            "promsnap fill {} --from {}",
            replica.display(),
            data.canonicalize().unwrap().display()
        )
    );

    // A second seed into the seeded replica: refused before a snapshot is
    // taken (its head block would overlap the one placed), nothing written.
    let snaps = || std::fs::read_dir(data.join("snapshots")).unwrap().count();
    let (n_snaps, before) = (snaps(), block_dirs(&replica));
    let (code, _, err) = seed_json(&primary.url(), &replica, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("already holds 1 block(s) the primary's data directory does not"),
        "{err}"
    );
    assert_eq!(snaps(), n_snaps, "no snapshot taken");
    assert_eq!(block_dirs(&replica), before);

    // A real Prometheus starts on the seed and serves both blocks.
    let r = Server::launch("replica", base, NO_SCRAPE, &replica, &[]);
    let t = times[times.len() / 2];
    let got = r.query("seed_backfill", t as f64);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["value"][1], (t % 97).to_string());
    // Every sample up to C_snap, as the primary itself serves it.
    let at = (c_snap - 1) as f64 / 1000.0;
    for q in [
        "count_over_time(up[1h])",
        "count_over_time(prometheus_tsdb_head_series[1h])",
        "count({__name__=~\".+\"})",
    ] {
        let (mine, theirs) = (r.query(q, at), primary.query(q, at));
        assert!(!mine.is_empty(), "{q}: nothing served");
        assert_eq!(mine, theirs, "{q} at {at}: replica vs primary");
    }
    drop(r);

    // --skip-head: only the backfilled block; the head's range is named.
    let replica2 = base.join("replica2");
    let (code, v, err) = seed_json(&primary.url(), &replica2, &["--skip-head"]);
    assert_eq!(code, Some(0), "{err}\n{v:#}");
    assert_eq!(v["snapshot"]["skip_head"], true);
    assert!(v["snapshot"]["fallback"].is_null());
    let st = steps(&v);
    assert_eq!(st.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(), STEPS);
    assert_eq!(st[5].1, "warning", "coverage warns of the skipped head");
    let snap2 = PathBuf::from(v["snapshot"]["path"].as_str().unwrap());
    let blocks2 = block_dirs(&snap2);
    assert_eq!(block_dirs(&replica2), blocks2);
    // The primary may have compacted its head meanwhile (1 min blocks):
    // C_snap is the newest persisted block's end either way.
    let c2 = v["coverage_end"].as_i64().unwrap();
    let newest2 = newest_max_time(&snap2);
    assert_eq!(c2, newest2);
    assert!(c2 >= backfill_end);
    assert_eq!(v["coverage"]["head_included"], false);
    let sh = &v["skipped_head"];
    assert_eq!(sh["from"].as_i64(), Some(c2));
    // The head held the samples the first seed got (up to c_snap) and more.
    assert!(sh["to"].as_i64().unwrap() >= c_snap - 1, "{sh}");
    assert!(sh["head_series"].as_u64().unwrap() > 0);
    assert!(sh["why"].as_str().unwrap().contains("not in the seed"));

    // The text names the deadline's assumption (remote write to the replica
    // starting at the snapshot) and the question that answers otherwise.
    let replica3 = base.join("replica3");
    let out = promsnap(&[
        "seed",
        "--from",
        &primary.url(),
        "--to",
        replica3.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("deadline: the replica must be up and caught up before"),
        "{text}"
    );
    assert!(
        text.contains(
            "the deadline takes the primary's remote write to the replica as starting at the \
             snapshot"
        ),
        "{text}"
    );
    let data_abs = data.canonicalize().unwrap();
    assert!(
        text.contains(&format!("--master {} --rw-start T`", data_abs.display())),
        "{text}"
    );
}

/// A primary whose configuration has `remote_write` (here to a port nobody
/// listens on: its queue stalls at once, as one to a replica not yet up
/// does): the seed takes the remote write as on since the primary started
/// (its `runtimeinfo` `startTime`), the earliest its queue can have
/// started, for the coverage and the deadline; the text says so. Without
/// the section (`seed_live_primary_then_replica_serves_it`) it is taken as
/// starting at the snapshot.
#[test]
fn seed_takes_a_configured_remote_write_as_on_since_the_primarys_start() {
    if !crate::realserver::tools_available("seed") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let before = crate::realserver::now_ms();
    let primary = launch_rw_primary(base);
    let ready = crate::realserver::now_ms();
    wait_scrapes(primary.port, 3);
    let replica = base.join("replica");
    let (code, v, err) = seed_json(&primary.url(), &replica, &[]);
    assert_eq!(code, Some(0), "{err}\n{v:#}");
    let since = v["remote_write_since"]
        .as_i64()
        .expect("remote_write_since");
    assert!(
        before - 1000 <= since && since <= ready,
        "{since} not in [{before}, {ready}]"
    );
    assert_eq!(v["coverage"]["rw_start"], since);
    assert!(v["deadline"]["at"].as_i64().unwrap() > v["coverage_end"].as_i64().unwrap());
    let out = promsnap(&[
        "seed",
        "--from",
        &primary.url(),
        "--to",
        base.join("r2").to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("the primary's configuration has remote_write: its queue is taken as reading since the primary started"),
        "{text}"
    );
}

/// `--skip-head` before the primary cut its first block (here 1m blocks,
/// seconds after the start; with 2.42's default 2 h, any time in the first
/// three hours): the admin API writes an empty snapshot. The seed is valid
/// (an empty replica that takes everything from remote write), so it exits
/// 0 with warnings, and its coverage still gives the deadline.
#[test]
fn seed_skip_head_before_the_first_block_seeds_an_empty_replica() {
    if !crate::realserver::tools_available("seed") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let primary = launch_rw_primary(base);
    wait_scrapes(primary.port, 3);
    let (code, v, err) = seed_json(&primary.url(), &base.join("replica"), &["--skip-head"]);
    assert_eq!(code, Some(0), "{err}\n{v:#}");
    assert!(v["coverage_end"].is_null(), "{v:#}");
    assert!(v["deadline"]["at"].as_i64().is_some(), "{v:#}");
    let coverage = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "coverage")
        .unwrap();
    assert_eq!(coverage["status"], "warning", "{coverage}");
    let detail = coverage.to_string();
    assert!(detail.contains("holds no block"), "{detail}");
    let codes: Vec<&str> = v["coverage"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert!(codes.is_empty(), "{codes:?}");
}

/// The admin API off: a clear error, exit 2, nothing written anywhere.
#[test]
fn seed_admin_api_off_writes_nothing() {
    if !crate::realserver::tools_available("seed") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("primary");
    let primary = Server::launch("primary", tmp.path(), NO_SCRAPE, &data, &[]);
    let replica = tmp.path().join("replica");
    let (code, _, err) = seed(&[
        "seed",
        "--from",
        &primary.url(),
        "--to",
        replica.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("admin API is disabled"), "{err}");
    assert!(err.contains("--web.enable-admin-api"), "{err}");
    assert!(!replica.exists());
    assert!(!data.join("snapshots").exists());
}

/// A `--to` that `copy` would refuse (a block directory, a directory of
/// other files) is refused before the snapshot: nothing is taken on the
/// primary, nothing written.
#[test]
fn seed_to_a_directory_copy_refuses_takes_no_snapshot() {
    if !crate::realserver::tools_available("seed") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("primary");
    let primary = Server::launch(
        "primary",
        tmp.path(),
        NO_SCRAPE,
        &data,
        &["--web.enable-admin-api"],
    );
    let block = tmp.path().join("block");
    copy_dir(
        &testdata("backfill-small/blocks/01M88Z547SWC2057Y39068VCCB"),
        &block,
    );
    let docs = tmp.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("notes.txt"), b"keep").unwrap();
    for (to, expect) in [
        (&block, "is a block directory"),
        (&docs, "not a Prometheus data directory"),
    ] {
        let (code, _, err) = seed(&[
            "seed",
            "--from",
            &primary.url(),
            "--to",
            to.to_str().unwrap(),
        ]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(expect), "{err}");
        assert!(!data.join("snapshots").exists(), "a snapshot was taken");
    }
    assert_eq!(std::fs::read_dir(&docs).unwrap().count(), 1);
}

/// A fake server on loopback answering each request with `answer(request line)`.
fn fake_server(answer: impl Fn(&str) -> String + Send + 'static) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).into_owned();
            let line = req.lines().next().unwrap_or("").to_string();
            let _ = s.write_all(answer(&line).as_bytes());
        }
    });
    port
}

fn json_answer(status: u16, body: &str) -> String {
    format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Bad URLs, a refused connection, a server that is not Prometheus: exit 2,
/// a clear message, nothing written.
#[test]
fn seed_bad_primary_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let replica = tmp.path().join("replica");
    let r = replica.to_str().unwrap();
    let html = fake_server(|_| {
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>"
            .into()
    });
    let not_found = fake_server(|_| json_answer(404, "404 page not found"));
    let refused = free_port();
    for (url, expect) in [
        ("127.0.0.1:9090".to_string(), "no http:// scheme"),
        ("https://127.0.0.1:9090".into(), "https is not supported"),
        ("http://127.0.0.1:99999".into(), "port must be a number"),
        (format!("http://127.0.0.1:{refused}"), "refused"),
        (
            format!("http://127.0.0.1:{html}"),
            "not a Prometheus API answer: HTTP 200 (text/html)",
        ),
        (
            format!("http://127.0.0.1:{not_found}"),
            "not a Prometheus API answer: HTTP 404",
        ),
    ] {
        let (code, _, err) = seed(&["seed", "--from", &url, "--to", r]);
        assert_eq!(code, Some(2), "{url}: {err}");
        assert!(err.contains(expect), "{url}: {err}");
        assert!(
            !err.contains("HTTP 404: HTTP 404"),
            "{url}: status named twice: {err}"
        );
        assert!(!replica.exists(), "{url}: something written");
    }
}

/// Prometheus' "found chunk … outside of compacted" failure of a snapshot
/// with the head (prometheus/prometheus#5105, #5686): seed takes it again
/// with skip_head and says what that costs. The fake primary serves the
/// committed 2.42 data directory and its real skip_head snapshot.
#[test]
fn seed_falls_back_to_skip_head() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("primary");
    copy_dir(&testdata("prom-2.42-live/data"), &data);
    let d = data.to_str().unwrap().replace('\\', "\\\\");
    let port = fake_server(move |line| {
        if line.starts_with("GET /api/v1/status/flags ") {
            json_answer(
                200,
                &format!(r#"{{"status":"success","data":{{"storage.tsdb.path":"{d}"}}}}"#),
            )
        } else if line.starts_with("POST /api/v1/admin/tsdb/snapshot?skip_head=true ") {
            json_answer(
                200,
                r#"{"status":"success","data":{"name":"20261125T091235Z-7531d0e39246db15"}}"#,
            )
        } else if line.starts_with("POST /api/v1/admin/tsdb/snapshot ") {
            json_answer(
                500,
                r#"{"status":"error","errorType":"internal","error":"create snapshot: snapshot head block: populate block: found chunk with minTime: 1795597680123 maxTime: 1795597799510 outside of compacted minTime: 1795597680000 maxTime: 1795597740000"}"#,
            )
        } else if line.starts_with("GET /api/v1/status/tsdb ") {
            json_answer(
                200,
                r#"{"status":"success","data":{"headStats":{"numSeries":916,"chunkCount":1832,"minTime":1795597680123,"maxTime":1795597954510}}}"#,
            )
        } else {
            json_answer(404, "404 page not found")
        }
    });
    let replica = tmp.path().join("replica");
    let (code, v, err) = seed_json(&format!("http://127.0.0.1:{port}"), &replica, &[]);
    assert_eq!(code, Some(0), "{err}\n{v:#}");
    assert_eq!(v["snapshot"]["skip_head"], true);
    let fb = v["snapshot"]["fallback"].as_str().unwrap();
    assert!(
        fb.contains("outside of compacted") && fb.contains("5686"),
        "{fb}"
    );
    assert_eq!(
        steps(&v)[1],
        ("snapshot".to_string(), "warning".to_string())
    );
    let snap = data.join("snapshots/20261125T091235Z-7531d0e39246db15");
    assert_eq!(block_dirs(&replica), block_dirs(&snap));
    let c = v["coverage_end"].as_i64().unwrap();
    let newest = newest_max_time(&snap);
    assert_eq!(c, newest);
    assert_eq!(v["skipped_head"]["from"].as_i64(), Some(c));
    assert_eq!(v["skipped_head"]["to"].as_i64(), Some(1_795_597_954_510));
    assert_eq!(v["skipped_head"]["head_series"].as_u64(), Some(916));
}

/// A primary whose newest block is backfilled and ends off the block-range
/// grid, as promtool's blocks do: `--skip-head` says the head is not in the
/// seed (the head block is told from the snapshot's contents against the
/// primary's blocks, not from the grid, which would take the backfilled
/// block for it); with the head, the new block is named, not the backfill.
#[test]
fn seed_skip_head_with_an_off_grid_backfilled_block() {
    if !crate::realserver::tools_available("seed") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let data = base.join("primary");
    let end = backfill_end_s(300);
    let om = gauge_om("seed_offgrid", (end - 300..end).step_by(15), 7, "");
    let bf = &backfill_one(base, &om, &data);
    let m = meta(&data.join(bf));
    // The premise: level 1, its own source, off the 1 min grid.
    assert_eq!(m["compaction"]["level"], 1);
    assert_eq!(m["compaction"]["sources"], serde_json::json!([bf]));
    assert_ne!(m["maxTime"].as_i64().unwrap() % 60_000, 0);

    let primary = launch_primary(base, &data);
    // Until the head holds a few scrapes.
    wait_scrapes(primary.port, 3);
    let (code, v, err) = seed_json(&primary.url(), &base.join("r1"), &["--skip-head"]);
    assert_eq!(code, Some(0), "{err}\n{v:#}");
    assert_eq!(v["coverage"]["head_included"], false, "{:#}", v["coverage"]);
    assert!(v["coverage"]["head_block"].is_null());
    assert_eq!(v["coverage_end"], m["maxTime"]);
    assert!(
        v["skipped_head"]["to"].as_i64().unwrap() > m["maxTime"].as_i64().unwrap(),
        "{:#} {m:#}",
        v["skipped_head"]
    );

    let (code, v, err) = seed_json(&primary.url(), &base.join("r2"), &[]);
    assert_eq!(code, Some(0), "{err}\n{v:#}");
    assert_eq!(v["coverage"]["head_included"], true);
    let head = v["coverage"]["head_block"]["ulid"].as_str().unwrap();
    assert_ne!(head, bf.as_str());
    assert!(v["coverage_end"].as_i64().unwrap() > m["maxTime"].as_i64().unwrap());
}

/// `seed --to FILE` was refused only after the primary answered: with no
/// primary it said "connection refused", with a foreign server "not a
/// Prometheus". The replica's directory is checked before any request.
#[test]
fn seed_to_a_file_is_a_usage_error_before_any_request() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let url = format!("http://127.0.0.1:{}", free_port());
    let (code, _, err) = seed(&["seed", "--from", &url, "--to", file.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(!err.contains("refused") && err.contains("file"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
}
