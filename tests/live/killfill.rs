//! `fill` killed with SIGKILL at 20 moments (deterministic pseudo-random
//! delays) into a replica that lacks the primary's last 2.5 minutes: after
//! each kill every block directory visible in the replica is whole (verify
//! finds no error; only `*.tmp-for-creation` leftovers), a re-run completes
//! and a second one adds nothing, and Prometheus 2.42 starts on the replica
//! without an error in its log and serves the filled samples. About 10 s.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::{CHECK_CFG, Rng, Server, free_port, http, prometheus_available};
use crate::util::{copy_dir, promsnap, testdata};

#[test]
fn fill_killed_at_random_moments_leaves_a_replica_prometheus_opens() {
    if !prometheus_available() {
        assert!(std::env::var_os("CI").is_none(), "no prometheus under CI");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let source = base.join("primary");
    copy_dir(&testdata("prom-2.42-live/data"), &source);
    std::fs::remove_dir_all(source.join("snapshots")).unwrap();
    // The replica: the skip_head snapshot (blocks to 09:10) and an empty WAL.
    let replica = base.join("replica");
    copy_dir(&testdata(crate::util::LIVE_SKIP_HEAD), &replica);
    std::fs::create_dir_all(replica.join("wal")).unwrap();
    let (r, s) = (replica.to_str().unwrap(), source.to_str().unwrap());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut killed = 0;
    for i in 0..20 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_promsnap"))
            .args(["fill", r, "--from", s])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(rng.ms(0, 60));
        if child.try_wait().unwrap().is_none() {
            killed += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        for e in std::fs::read_dir(&replica).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.len() == 26 && p.is_dir() {
                assert!(p.join("meta.json").is_file(), "kill {i}: {name} is partial");
            }
        }
        let out = promsnap(&["verify", "--quick", r]);
        assert_eq!(out.status.code(), Some(0), "kill {i}: {out:?}");
    }
    assert!(
        killed >= 5,
        "only {killed} of 20 kills landed during a fill"
    );
    let out = promsnap(&["fill", r, "--from", s, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = promsnap(&["fill", r, "--from", s, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["samples_added"], 0, "a second run adds nothing: {v:#}");
    let out = promsnap(&["gaps", r, "--against", s, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["missing"]["merged"].as_array().unwrap().is_empty(),
        "{v:#}"
    );

    let port = free_port();
    let mut srv = Server::start(
        base,
        "replica",
        CHECK_CFG,
        &replica,
        port,
        &["--storage.tsdb.retention.time=100y"],
    );
    assert!(
        srv.ready(Duration::from_secs(60)),
        "Prometheus did not start"
    );
    // Samples only the fill wrote (the replica's own blocks end at 09:10).
    let q = "/api/v1/query?query=count_over_time(up%5B30s%5D)&time=2026-11-25T09:12:30Z";
    let (code, body) = http(port, "GET", q).unwrap();
    srv.stop();
    assert_eq!(code, 200, "{body}");
    assert!(
        body.contains("\"result\":[{"),
        "no filled sample served: {body}"
    );
    let log = std::fs::read_to_string(&srv.log).unwrap();
    assert!(!log.contains("level=error"), "{log}");
}
