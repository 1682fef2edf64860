//! A block file that cannot be opened at all — a directory in place of the
//! index or of meta.json, and (as root, through `setpriv`) an index of mode
//! 000 read by a Prometheus and a promsnap that both run as `nobody`:
//! verify's startup verdict against what the real Prometheus 2.42 does on
//! the same directory. An index it cannot open makes the block "corrupted"
//! and the start fails; a meta.json it cannot read makes it skip the block
//! and start. About 5 s.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{CHECK_CFG, free_port, http, prometheus_available};
use crate::util::{copy_dir, testdata};

const BLOCK: &str = "01M88ZEAF15198PYN7F74NS04J";

/// `cmd` run as `nobody` through `setpriv` when `nobody` is set.
fn command(program: &str, nobody: bool) -> Command {
    if nobody {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", program]);
        c
    } else {
        Command::new(program)
    }
}

/// Starts Prometheus 2.42 on `dir`: whether it became ready (within 30 s),
/// and its log.
fn starts(base: &Path, dir: &Path, nobody: bool) -> (bool, String) {
    let cfg = base.join("check.yml");
    std::fs::write(&cfg, CHECK_CFG).unwrap();
    let log = base.join("check.log");
    let port = free_port();
    let mut child = command("prometheus", nobody)
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.tsdb.path={}", dir.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--storage.tsdb.retention.time=100y")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn prometheus");
    let end = Instant::now() + Duration::from_secs(30);
    let mut ready = false;
    while Instant::now() < end {
        if let Some((200, _)) = http(port, "GET", "/-/ready") {
            ready = true;
            break;
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    (ready, std::fs::read_to_string(&log).unwrap_or_default())
}

/// verify's `startup` outcome for `dir` (as `nobody` when set).
fn outcome(dir: &Path, nobody: bool) -> (String, serde_json::Value) {
    let out = command(env!("CARGO_BIN_EXE_promsnap"), nobody)
        .args(["verify", "--json"])
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let o = v["startup"][0]["outcome"].as_str().unwrap().to_string();
    (o, v)
}

fn running_as_root() -> bool {
    // SAFETY: geteuid only reads the process' credentials.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn unopenable_block_files_verdict_agrees_with_prometheus() {
    if !prometheus_available() {
        assert!(std::env::var_os("CI").is_none(), "no prometheus under CI");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    // Mode 0755: `nobody` must reach the directories below.
    std::fs::set_permissions(base, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut cases: Vec<(&str, bool)> = vec![("index", false), ("meta.json", false)];
    let setpriv = Command::new("setpriv").arg("--version").output().is_ok();
    if running_as_root() && setpriv {
        cases.push(("index-mode-000", true));
    }
    for (case, nobody) in cases {
        let dir = base.join(case);
        copy_dir(&testdata("prom-2.42-live/data"), &dir);
        std::fs::remove_dir_all(dir.join("snapshots")).unwrap();
        let file = dir.join(BLOCK).join(case.trim_end_matches("-mode-000"));
        if nobody {
            let st = Command::new("chown")
                .args(["-R", "65534:65534"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(st.success());
            let mode = std::os::unix::fs::PermissionsExt::from_mode(0o000);
            std::fs::set_permissions(&file, mode).unwrap();
        } else {
            std::fs::remove_file(&file).unwrap();
            std::fs::create_dir(&file).unwrap();
        }
        let (predicted, v) = outcome(&dir, nobody);
        let (ready, log) = starts(base, &dir, nobody);
        let codes: Vec<&str> = v["startup"][0]["because"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c.as_str())
            .collect();
        if case == "meta.json" {
            // Skipped with an error in the log; the server starts.
            assert!(ready, "{case}: {log}");
            assert!(log.contains("Failed to read meta.json"), "{case}: {log}");
            assert_ne!(predicted, "refuse", "{case}: {v:#}");
        } else {
            assert!(!ready, "{case}: Prometheus started: {log}");
            assert!(log.contains("corrupted block"), "{case}: {log}");
            assert_eq!(predicted, "refuse", "{case}: {v:#}");
            assert!(codes.contains(&"file_unreadable"), "{case}: {codes:?}");
        }
    }
}
