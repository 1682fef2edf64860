//! Live and crashed data directories (issue 17).
//!
//! Deterministic tests on real fixture bytes: a directory whose `lock` is
//! held (as a running Prometheus holds it) and a snapshot cut short.
//!
//! Real-server tests (one shared run of a real Prometheus 2.42 on loopback,
//! 1 s scrapes, 1 m blocks, 1 m retention, 10 MB segments, about 4 minutes):
//! - `kill9_verdicts_match_prometheus_startup`: the server is killed with
//!   SIGKILL at ≥ 10 moments (random; as soon as a block is being written;
//!   while a checkpoint is being written; during an admin-API snapshot; right
//!   after a head chunk file grew). Each time the directory is copied, `verify`
//!   predicts the startup outcome and the loss, a second Prometheus (no scrape
//!   targets) is started on the copy and stopped, and its log and a dump of
//!   the copy before and after are compared with the prediction. The master
//!   is restarted on its directory after every kill, so later moments include
//!   what restarts leave (unpadded segments, new segments, leftovers).
//! - `live_reads_never_fail`: between the kills, `verify`, `dump` and `copy`
//!   run against the live directory while it compacts, deletes blocks by
//!   retention and truncates its WAL: no error finding, no failed run.
//!
//! Without `prometheus` on the PATH the real-server tests are skipped; under
//! CI=true they fail instead.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::realserver::{free_port, now_ms, prometheus_available};
use crate::util::{copy_dir, promsnap, testdata};
use crate::verify::with_code;

// Torn WAL tails and damaged head chunk files against the real server.
mod damage;
// Blocks and WAL segments deleted mid-read, through the `failpoints` hooks.
mod failpoints;
// salvage, snapshot and fill on a full filesystem (a small tmpfs).
mod nospace;
// Block files that cannot be opened (a directory in their place, mode 000 as
// `nobody`): verify's verdict against the real server's start (about 5 s).
mod unopenable;
// fill killed with SIGKILL 20 times: whole blocks only, Prometheus opens the
// replica (about 10 s).
mod killfill;

fn run_json(args: &[&str]) -> (i32, Value) {
    let out = promsnap(args);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad JSON from {args:?} ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v)
}

fn verify(dir: &Path) -> (i32, Value) {
    run_json(&["verify", "--json", dir.to_str().unwrap()])
}

#[test]
fn held_lock_makes_tmp_dirs_work_in_progress() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    copy_dir(&testdata("prom-2.42-live/data"), &dir);
    std::fs::create_dir(dir.join("01M88ZP0000000000000000000.tmp-for-creation")).unwrap();
    // Not live: a leftover of an interrupted write, a warning, and a repair.
    let (code, v) = verify(&dir);
    assert_eq!(code, 0, "{v}");
    assert_eq!(with_code(&v, "tmp_dir_leftover")[0]["severity"], "warning");
    assert_eq!(v["startup"][0]["outcome"], "repair");
    assert_eq!(v["startup"][0]["live"], false);
    // Live: the lock held (as Prometheus holds it), the same dir is a write in progress.
    let lock = std::fs::File::create(dir.join("lock")).unwrap();
    assert!(promsnap::fileutil::flock_try_exclusive(&lock).unwrap());
    let (code, v) = verify(&dir);
    assert_eq!(code, 0, "{v}");
    assert!(with_code(&v, "tmp_dir_leftover").is_empty(), "{v}");
    assert_eq!(with_code(&v, "tmp_dir_in_progress")[0]["severity"], "info");
    assert_eq!(with_code(&v, "prometheus_running").len(), 1);
    assert_eq!(v["startup"][0]["live"], true);
    drop(lock);
}

#[test]
fn snapshot_with_unfinished_head_block_is_an_incomplete_backup() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("20261125T091235Z-7531d0e39246db15");
    copy_dir(
        &testdata("prom-2.42-live/data/snapshots/20261125T091235Z-7531d0e39246db15"),
        &snap,
    );
    let (code, v) = verify(&snap);
    assert_eq!(code, 0, "{v}");
    let max_t = v["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["max_time"].as_i64().unwrap())
        .max()
        .unwrap();
    // The head block being written when Prometheus died: its ULID was made
    // at the snapshot's time.
    let ulid = "01M88ZP47SWC2057Y39068VCCB";
    let t = promsnap::format::meta::ulid_time(ulid).unwrap() as i64;
    assert!(t > max_t);
    let unfinished = snap.join(format!("{ulid}.tmp-for-creation"));
    std::fs::create_dir(&unfinished).unwrap();
    std::fs::create_dir(unfinished.join("chunks")).unwrap();
    let (code, v) = verify(&snap);
    assert_eq!(code, 1, "{v}");
    let f = with_code(&v, "snapshot_incomplete");
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["severity"], "error");
    assert_eq!(f[0]["time_range"], serde_json::json!([max_t, t]));
    assert!(with_code(&v, "tmp_dir_leftover").is_empty());
    // copy --dry-run says so and exits 1.
    let dst = tmp.path().join("dst");
    let (code, c) = run_json(&[
        "copy",
        "--json",
        "--dry-run",
        snap.to_str().unwrap(),
        dst.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{c}");
    assert!(
        c["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["code"] == "snapshot_incomplete"),
        "{c}"
    );
}

// ---------------------------------------------------------------------------
// Real server.

fn http(port: u16, method: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|x| x.1.to_string())?;
    Some((status, body))
}

/// A running Prometheus, killed (SIGKILL) when dropped.
struct Server {
    child: Option<Child>,
    port: u16,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

impl Server {
    fn start(
        base: &Path,
        name: &str,
        config: &str,
        data: &Path,
        port: u16,
        extra: &[&str],
    ) -> Server {
        let cfg = base.join(format!("{name}.yml"));
        std::fs::write(&cfg, config.replace("SELF_PORT", &port.to_string())).unwrap();
        let log = base.join(format!("{name}.log"));
        let f = std::fs::File::create(&log).unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--storage.tsdb.min-block-duration=1m")
            .arg("--storage.tsdb.max-block-duration=3m")
            .arg("--storage.tsdb.wal-segment-size=10MB")
            .arg("--web.enable-admin-api")
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(f)
            .spawn()
            .expect("spawn prometheus");
        Server {
            child: Some(child),
            port,
            log,
        }
    }

    /// Waits for `/-/ready`; false if the process exited first or the time ran out.
    fn ready(&mut self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Some((200, _)) = http(self.port, "GET", "/-/ready") {
                return true;
            }
            if let Some(c) = &mut self.child
                && let Ok(Some(_)) = c.try_wait()
            {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then SIGKILL after 30 s.
    fn stop(&mut self) {
        let Some(mut c) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let end = Instant::now() + Duration::from_secs(30);
        while Instant::now() < end {
            if let Ok(Some(_)) = c.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let _ = c.wait();
    }
}

const MASTER_CFG: &str = r#"global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:SELF_PORT"]
"#;

/// No targets: the check server adds no data to the copy it starts on.
const CHECK_CFG: &str = "global:\n  scrape_interval: 1m\n";

/// Codes whose finding means Prometheus' WAL repair runs on start.
const WAL_REPAIR: &[&str] = &[
    "wal_torn_tail",
    "wal_checksum",
    "wal_fragment_order",
    "wal_fragment_invalid",
    "wal_padding_nonzero",
    "wal_decompress",
    "wal_record_corrupt",
];

/// One kill -9 and what followed.
#[derive(Debug)]
struct Moment {
    what: String,
    /// verify's verdict on the copy: outcome, codes, drops.
    outcome: String,
    because: Vec<String>,
    drops: Vec<[i64; 2]>,
    /// The check server became ready.
    started: bool,
    /// Its log names a WAL repair.
    wal_repair_logged: bool,
    /// Dump lines present before its start and gone after / new after.
    lost: Vec<String>,
    extra: Vec<String>,
    /// Snapshot moments: the snapshot dirs, with/without an unfinished block,
    /// and whether verify called each incomplete.
    snapshots: Vec<(bool, bool)>,
    dump_lines: usize,
}

/// One read of the live master directory.
#[derive(Debug)]
#[allow(dead_code)] // `what` is read through Debug in failure messages
struct LiveCheck {
    what: &'static str,
    exit: i32,
    problems: Vec<String>,
}

struct Run {
    moments: Vec<Moment>,
    live: Vec<LiveCheck>,
    blocks_seen: usize,
    blocks_deleted: usize,
    checkpoints_seen: usize,
}

/// A small deterministic generator (the moments vary by seed; the seed is
/// printed so a failing run can be repeated with PROMSNAP_LIVE_SEED).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn ms(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % (hi - lo).max(1))
    }
}

fn dump_lines(dir: &Path) -> BTreeSet<String> {
    dump_of(dir, false)
}

/// The lines of `promsnap dump DIR`; with `damaged`, exit 1 (it names what
/// it cannot read and prints everything else) is allowed.
fn dump_of(dir: &Path, damaged: bool) -> BTreeSet<String> {
    let out = promsnap(&["dump", dir.to_str().unwrap()]);
    let allowed: &[i32] = if damaged { &[0, 1] } else { &[0] };
    assert!(
        out.status.code().is_some_and(|c| allowed.contains(&c)),
        "dump {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The timestamp (ms) of a dump line (`{labels} value timestamp`).
fn line_time(l: &str) -> Option<i64> {
    l.rsplit(' ').next()?.parse().ok()
}

fn list_names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Waits up to `timeout` for `f` to hold, polling every 2 ms.
fn poll(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

fn live_checks(data: &Path, base: &Path, n: usize, out: &mut Vec<LiveCheck>) {
    let (code, v) = verify(data);
    let mut problems: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f.to_string())
        .collect();
    if with_code(&v, "prometheus_running").is_empty() {
        problems.push("no prometheus_running finding".into());
    }
    out.push(LiveCheck {
        what: "verify",
        exit: code,
        problems,
    });
    let d = promsnap(&["dump", data.to_str().unwrap()]);
    out.push(LiveCheck {
        what: "dump",
        exit: d.status.code().unwrap_or(-1),
        problems: String::from_utf8_lossy(&d.stderr)
            .lines()
            .map(str::to_owned)
            .collect(),
    });
    let dst = base.join(format!("copy-{n}"));
    let (code, c) = run_json(&[
        "copy",
        "--json",
        data.to_str().unwrap(),
        dst.to_str().unwrap(),
    ]);
    let mut problems: Vec<String> = ["refused", "failed"]
        .iter()
        .flat_map(|k| c[*k].as_array().cloned().unwrap_or_default())
        .map(|b| b.to_string())
        .collect();
    if !c["notices"]
        .as_array()
        .is_some_and(|ns| ns.iter().any(|n| n["code"] == "source_live"))
    {
        problems.push("no source_live notice".into());
    }
    out.push(LiveCheck {
        what: "copy",
        exit: code,
        problems,
    });
    let _ = std::fs::remove_dir_all(&dst);
}

/// Kills the master at a moment of kind `k`; returns what was caught.
fn kill_at(k: usize, master: &mut Server, data: &Path, rng: &mut Rng) -> String {
    match k {
        0 => {
            std::thread::sleep(rng.ms(1_000, 6_000));
            master.kill9();
            "random".into()
        }
        1 => {
            let caught = poll(Duration::from_secs(25), || {
                list_names(data)
                    .iter()
                    .any(|n| n.ends_with(".tmp-for-creation"))
            });
            master.kill9();
            format!("block write (caught: {caught})")
        }
        2 => {
            let wal = data.join("wal");
            let caught = poll(Duration::from_secs(25), || {
                list_names(&wal)
                    .iter()
                    .any(|n| n.starts_with("checkpoint.") && n.ends_with(".tmp"))
            });
            master.kill9();
            format!("checkpoint (caught: {caught})")
        }
        3 => {
            let port = master.port;
            let h = std::thread::spawn(move || http(port, "POST", "/api/v1/admin/tsdb/snapshot"));
            std::thread::sleep(rng.ms(0, 400));
            master.kill9();
            let _ = h.join();
            "snapshot".into()
        }
        _ => {
            let ch = data.join("chunks_head");
            let size = || {
                let mut names = list_names(&ch);
                names.sort();
                names
                    .last()
                    .and_then(|n| std::fs::metadata(ch.join(n)).ok())
                    .map(|m| (names.len(), m.len()))
            };
            let before = size();
            let caught = poll(Duration::from_secs(10), || size() != before);
            master.kill9();
            format!("head chunk flush (caught: {caught})")
        }
    }
}

fn check_moment(base: &Path, copy: &Path, what: String, port: u16) -> Moment {
    let (_, v) = verify(copy);
    let st = &v["startup"][0];
    let outcome = st["outcome"].as_str().unwrap_or("").to_string();
    let because: Vec<String> = st["because"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let drops: Vec<[i64; 2]> = serde_json::from_value(st["drops"].clone()).unwrap();
    // Snapshots: an unfinished block ⇔ snapshot_incomplete.
    let mut snapshots = Vec::new();
    for s in list_names(&copy.join("snapshots")) {
        let sd = copy.join("snapshots").join(&s);
        let unfinished = list_names(&sd)
            .iter()
            .any(|n| n.ends_with(".tmp-for-creation"));
        let (_, sv) = verify(&sd);
        snapshots.push((
            unfinished,
            !with_code(&sv, "snapshot_incomplete").is_empty(),
        ));
    }
    let before = dump_lines(copy);
    let name = format!("check-{}", copy.file_name().unwrap().to_string_lossy());
    let mut srv = Server::start(
        base,
        &name,
        CHECK_CFG,
        copy,
        port,
        &["--storage.tsdb.retention.time=1d"],
    );
    let started = srv.ready(Duration::from_secs(60));
    srv.stop();
    let log = std::fs::read_to_string(&srv.log).unwrap_or_default();
    let wal_repair_logged = log.contains("Starting corruption repair");
    let after = if started {
        dump_lines(copy)
    } else {
        before.clone()
    };
    Moment {
        what,
        outcome,
        because,
        drops,
        started,
        wal_repair_logged,
        lost: before.difference(&after).take(20).cloned().collect(),
        extra: after.difference(&before).take(20).cloned().collect(),
        snapshots,
        dump_lines: before.len(),
    }
}

static RUN: OnceLock<Option<Run>> = OnceLock::new();

// The shared live run's recording: one real-server scenario, step by step.
#[allow(clippy::too_many_lines)]
fn shared_run() -> Option<&'static Run> {
    RUN.get_or_init(|| {
        if !prometheus_available() {
            assert!(
                std::env::var_os("CI").is_none(),
                "prometheus is not installed but CI is set"
            );
            eprintln!("live: prometheus not on PATH: skipped");
            return None;
        }
        let seed = std::env::var("PROMSNAP_LIVE_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| (now_ms() as u64) | 1);
        eprintln!("live: seed {seed} (PROMSNAP_LIVE_SEED to repeat)");
        let mut rng = Rng(seed);
        let tmp = tempfile::Builder::new()
            .prefix("promsnap-live-")
            .tempdir()
            .unwrap();
        let base = tmp.path().to_path_buf();
        let data = base.join("master");
        std::fs::create_dir_all(&data).unwrap();
        let port = free_port();
        let check_port = free_port();
        let master_args = ["--storage.tsdb.retention.time=1m"];
        let mut master = Server::start(&base, "master", MASTER_CFG, &data, port, &master_args);
        assert!(
            master.ready(Duration::from_secs(60)),
            "master did not start"
        );
        let started = Instant::now();
        let mut moments = Vec::new();
        let mut live = Vec::new();
        // Watches the master's directory every 50 ms: blocks that appear
        // (compactions), blocks that go (retention), checkpoints.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watcher = {
            let (stop, data) = (stop.clone(), data.clone());
            std::thread::spawn(move || {
                let mut blocks: BTreeSet<String> = BTreeSet::new();
                let mut deleted: BTreeSet<String> = BTreeSet::new();
                let mut checkpoints: BTreeSet<String> = BTreeSet::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let now: BTreeSet<String> = list_names(&data)
                        .into_iter()
                        .filter(|n| n.len() == 26)
                        .collect();
                    for b in &blocks {
                        if !now.contains(b) {
                            deleted.insert(b.clone());
                        }
                    }
                    blocks.extend(now);
                    checkpoints.extend(
                        list_names(&data.join("wal"))
                            .into_iter()
                            .filter(|n| n.starts_with("checkpoint."))
                            .map(|n| n.trim_end_matches(".tmp").to_string()),
                    );
                    std::thread::sleep(Duration::from_millis(50));
                }
                (blocks.len(), deleted.len(), checkpoints.len())
            })
        };
        std::thread::sleep(Duration::from_secs(10));
        let mut i = 0;
        // At least 11 kills, and long enough (≥ 230 s) for several head
        // compactions, retention deletions and WAL truncations.
        while (moments.len() < 11 || started.elapsed() < Duration::from_secs(230))
            && started.elapsed() < Duration::from_secs(300)
        {
            live_checks(&data, &base, i, &mut live);
            let kind = i % 5;
            let what = kill_at(kind, &mut master, &data, &mut rng);
            let copy = base.join(format!("moment-{i}"));
            copy_dir(&data, &copy);
            let _ = std::fs::remove_file(copy.join("lock"));
            master = Server::start(&base, "master", MASTER_CFG, &data, port, &master_args);
            // Appends the master's log rather than losing earlier restarts.
            let m = check_moment(&base, &copy, format!("{i}: {what}"), check_port);
            eprintln!(
                "live: moment {}: {} {:?} drops {:?}; started {}, repair logged {}, lost {}, extra \
                 {}, {} dump lines, snapshots {:?}",
                m.what,
                m.outcome,
                m.because,
                m.drops,
                m.started,
                m.wal_repair_logged,
                m.lost.len(),
                m.extra.len(),
                m.dump_lines,
                m.snapshots
            );
            moments.push(m);
            let _ = std::fs::remove_dir_all(&copy);
            assert!(
                master.ready(Duration::from_secs(60)),
                "master did not restart"
            );
            i += 1;
        }
        live_checks(&data, &base, i, &mut live);
        master.stop();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (blocks_seen, blocks_deleted, checkpoints_seen) = watcher.join().unwrap();
        eprintln!(
            "live: {} moments, {} live reads, {} blocks seen, {} deleted, {} checkpoints, {:?}",
            moments.len(),
            live.len(),
            blocks_seen,
            blocks_deleted,
            checkpoints_seen,
            started.elapsed()
        );
        Some(Run {
            moments,
            live,
            blocks_seen,
            blocks_deleted,
            checkpoints_seen,
        })
    })
    .as_ref()
}

#[test]
fn kill9_verdicts_match_prometheus_startup() {
    let Some(run) = shared_run() else { return };
    assert!(run.moments.len() >= 10, "{} moments", run.moments.len());
    for m in &run.moments {
        let ctx = format!("{m:?}");
        // Refuses to start ⇔ predicted.
        assert_eq!(m.started, m.outcome != "refuse", "{ctx}");
        if !m.started {
            continue;
        }
        // A WAL repair ⇔ predicted.
        let wal_repair = m.because.iter().any(|c| WAL_REPAIR.contains(&c.as_str()));
        assert_eq!(m.wal_repair_logged, wal_repair, "{ctx}");
        // What the startup lost is what was predicted, and nothing appeared.
        assert!(m.extra.is_empty(), "{ctx}");
        for l in &m.lost {
            let t = line_time(l).unwrap_or(i64::MIN);
            assert!(
                m.drops.iter().any(|r| r[0] <= t && t < r[1]),
                "lost sample outside the predicted drops: {l}; {ctx}"
            );
        }
        for (unfinished, incomplete) in &m.snapshots {
            assert_eq!(unfinished, incomplete, "{ctx}");
        }
        assert!(m.dump_lines > 0, "{ctx}");
    }
}

#[test]
fn live_reads_never_fail() {
    let Some(run) = shared_run() else { return };
    assert!(run.live.len() >= 30, "{} live reads", run.live.len());
    for c in &run.live {
        assert_eq!(c.exit, 0, "{c:?}");
        assert!(c.problems.is_empty(), "{c:?}");
    }
    // The reads ran through head compactions, retention deletions and
    // WAL truncations.
    assert!(run.blocks_seen >= 2, "{} blocks", run.blocks_seen);
    assert!(run.blocks_deleted >= 1, "{} deleted", run.blocks_deleted);
    assert!(
        run.checkpoints_seen >= 1,
        "{} checkpoints",
        run.checkpoints_seen
    );
}
