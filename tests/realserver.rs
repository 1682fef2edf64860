//! The seed's procedure with a real Prometheus 2.42 master and two slaves, on
//! loopback, on a short clock (1 min blocks, 1 s scrapes), proving that
//! `promsnap coverage`'s predicted loss windows match the holes that
//! `promsnap gaps --against` finds in the slaves' data.
//!
//! One master with two `remote_write` queues (one per slave URL, both down at
//! first) is shared by both scenarios, so they run in parallel in one run:
//! - slave A is started on a copy of the snapshot 5 s after it was taken:
//!   expect no loss beyond the boundary sliver (L3/L4);
//! - slave B is started after the master's WAL truncation has overtaken the
//!   stalled remote-write reader (the first checkpoint appears): expect L2.
//!
//! About 6–7 minutes of wall time. Needs `prometheus` on the PATH (CI installs
//! Debian's 2.42); without it the tests are skipped (they fail under CI=true).
//! Set `PROMSNAP_REALSERVER_KEEP=DIR` to keep the run's data in DIR (and to
//! reuse it on the next run without starting servers again).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::util::{copy_dir, promsnap};

/// Copies a directory that a running server may change: files deleted
/// meanwhile (a WAL truncation) are skipped.
fn copy_live_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    let Ok(rd) = std::fs::read_dir(src) else {
        return;
    };
    for e in rd.flatten() {
        let to = dst.join(e.file_name());
        if e.path().is_dir() {
            copy_live_dir(&e.path(), &to);
        } else if let Err(err) = std::fs::copy(e.path(), &to)
            && err.kind() != std::io::ErrorKind::NotFound
        {
            panic!("copy {}: {err}", e.path().display());
        }
    }
}

const SCRAPE_MS: i64 = 1_000;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A running Prometheus, killed when dropped.
struct Server {
    name: &'static str,
    child: Option<Child>,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Server {
    fn start(
        name: &'static str,
        base: &Path,
        config: &str,
        data: &Path,
        port: u16,
        extra: &[&str],
    ) -> Server {
        let cfg = base.join(format!("{name}.yml"));
        std::fs::write(&cfg, config.replace("SELF_PORT", &port.to_string())).unwrap();
        let log = std::fs::File::create(base.join(format!("{name}.log"))).unwrap();
        let mut cmd = Command::new("prometheus");
        cmd.arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--storage.tsdb.min-block-duration=1m")
            .arg("--storage.tsdb.max-block-duration=1m")
            .arg("--storage.tsdb.retention.time=1d")
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let child = cmd.spawn().expect("spawn prometheus");
        Server {
            name,
            child: Some(child),
            port,
        }
    }

    /// Waits until `/-/ready` answers 200; returns that time.
    fn wait_ready(&mut self, timeout: Duration) -> i64 {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Some((200, _)) = http(self.port, "GET", "/-/ready") {
                return now_ms();
            }
            if let Some(c) = &mut self.child
                && let Ok(Some(st)) = c.try_wait()
            {
                panic!("{} exited early: {st}", self.name);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{} not ready after {timeout:?}", self.name);
    }

    /// SIGTERM, then SIGKILL after `timeout`.
    fn stop(&mut self, timeout: Duration) {
        let Some(mut c) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Ok(Some(_)) = c.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = c.kill();
        let _ = c.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A minimal HTTP/1.1 exchange on loopback with 5 s timeouts.
fn http(port: u16, method: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|x| x.1.to_string())?;
    Some((status, body))
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

fn sleep_until(t_ms: i64) {
    let d = t_ms - now_ms();
    if d > 0 {
        std::thread::sleep(Duration::from_millis(d as u64));
    }
}

fn has_block(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|rd| {
        rd.flatten().any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.len() == 26 && e.path().join("meta.json").is_file()
        })
    })
}

fn has_checkpoint(wal: &Path) -> bool {
    std::fs::read_dir(wal).is_ok_and(|rd| {
        rd.flatten().any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("checkpoint.") && !n.ends_with(".tmp")
        })
    })
}

/// One slave's run.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SlaveRun {
    /// Its data dir (a copy of the snapshot, then what it received).
    data: PathBuf,
    /// Copy of the master's wal/ + chunks_head/ taken when the slave started.
    master_at_start: PathBuf,
    /// When that copy was taken.
    observed_at: i64,
    /// When the slave answered ready.
    up: i64,
}

/// The shared run.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Run {
    base: PathBuf,
    /// Just before the master started: remote write starts after this.
    t0: i64,
    snapshot: PathBuf,
    snapshot_taken: i64,
    master_data: PathBuf,
    master_stopped: i64,
    a: SlaveRun,
    b: SlaveRun,
}

const MASTER_CFG: &str = r#"global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:SELF_PORT"]
remote_write:
  - url: http://127.0.0.1:PORT_A/api/v1/write
    name: slave_a
  - url: http://127.0.0.1:PORT_B/api/v1/write
    name: slave_b
"#;

const SLAVE_CFG: &str = "global:\n  scrape_interval: 1m\n";

fn start_slave(
    name: &'static str,
    base: &Path,
    port: u16,
    snapshot: &Path,
    master_data: &Path,
) -> (Server, SlaveRun) {
    // The master's WAL as it is at slave start: the input of `coverage --master`.
    let copy = base.join(format!("master-at-{name}-start"));
    let observed_at = now_ms();
    copy_live_dir(&master_data.join("wal"), &copy.join("wal"));
    copy_live_dir(&master_data.join("chunks_head"), &copy.join("chunks_head"));
    let data = base.join(name);
    copy_dir(snapshot, &data);
    let mut s = Server::start(
        name,
        base,
        SLAVE_CFG,
        &data,
        port,
        &["--web.enable-remote-write-receiver"],
    );
    let up = s.wait_ready(Duration::from_secs(60));
    (
        s,
        SlaveRun {
            data,
            master_at_start: copy,
            observed_at,
            up,
        },
    )
}

fn run_servers(base: &Path) -> Run {
    std::fs::create_dir_all(base).unwrap();
    let (port_a, port_b) = (free_port(), free_port());
    let cfg = MASTER_CFG
        .replace("PORT_A", &port_a.to_string())
        .replace("PORT_B", &port_b.to_string());
    let master_data = base.join("master");
    let t0 = now_ms();
    let mut master = Server::start(
        "master",
        base,
        &cfg,
        &master_data,
        free_port(),
        &["--web.enable-admin-api"],
    );
    master.wait_ready(Duration::from_secs(60));
    eprintln!("realserver: master up; waiting for its first block");
    wait_for("the master's first block", Duration::from_secs(240), || {
        has_block(&master_data)
    });
    std::thread::sleep(Duration::from_secs(3));
    let (st, body) = http(master.port, "POST", "/api/v1/admin/tsdb/snapshot").expect("snapshot");
    let snapshot_taken = now_ms();
    assert_eq!(st, 200, "snapshot: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("snapshot json");
    let name = v["data"]["name"]
        .as_str()
        .expect("snapshot name")
        .to_string();
    let snapshot = master_data.join("snapshots").join(name);
    eprintln!("realserver: snapshot {}", snapshot.display());

    // Scenario A: slave up 5 s after the snapshot.
    sleep_until(snapshot_taken + 5_000);
    let (mut slave_a, a) = start_slave("slave-a", base, port_a, &snapshot, &master_data);
    eprintln!("realserver: slave A up; waiting for the master's first WAL checkpoint");

    // Scenario B: slave up once the first checkpoint deleted the segment
    // after the stalled reader's.
    wait_for(
        "the master's first WAL checkpoint",
        Duration::from_secs(420),
        || has_checkpoint(&master_data.join("wal")),
    );
    std::thread::sleep(Duration::from_secs(3));
    let (mut slave_b, b) = start_slave("slave-b", base, port_b, &snapshot, &master_data);
    eprintln!("realserver: slave B up; letting both catch up");
    sleep_until(b.up + 45_000);

    let master_stopped = now_ms();
    master.stop(Duration::from_secs(70));
    std::thread::sleep(Duration::from_secs(2));
    slave_a.stop(Duration::from_secs(30));
    slave_b.stop(Duration::from_secs(30));
    Run {
        base: base.to_path_buf(),
        t0,
        snapshot,
        snapshot_taken,
        master_data,
        master_stopped,
        a,
        b,
    }
}

fn prometheus_available() -> bool {
    Command::new("prometheus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

static RUN: OnceLock<Option<Run>> = OnceLock::new();

fn shared_run() -> Option<&'static Run> {
    RUN.get_or_init(|| {
        if !prometheus_available() {
            assert!(
                std::env::var_os("CI").is_none(),
                "prometheus is not installed but CI is set"
            );
            eprintln!("realserver: prometheus not on PATH: skipped");
            return None;
        }
        let keep = std::env::var_os("PROMSNAP_REALSERVER_KEEP").map(PathBuf::from);
        if let Some(k) = &keep
            && let Ok(s) = std::fs::read_to_string(k.join("run.json"))
            && let Ok(run) = serde_json::from_str::<Run>(&s)
        {
            eprintln!("realserver: reusing {}", k.display());
            return Some(run);
        }
        let base = match &keep {
            Some(k) => k.clone(),
            None => tempfile::Builder::new()
                .prefix("promsnap-realserver-")
                .tempdir()
                .unwrap()
                .keep(),
        };
        let run = run_servers(&base);
        std::fs::write(
            base.join("run.json"),
            serde_json::to_string_pretty(&run).unwrap(),
        )
        .unwrap();
        Some(run)
    })
    .as_ref()
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = promsnap(args);
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "promsnap {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "promsnap {args:?}: bad JSON {e}: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A predicted or observed window, inclusive ms.
#[derive(Debug, Clone, Copy)]
struct Win {
    from: i64,
    to: i64,
    to_earliest: i64,
}

struct Outcome {
    coverage_end: i64,
    predicted: Vec<(String, String, Win)>,
    real: Vec<Win>,
    series_affected: Vec<u64>,
}

fn evaluate(run: &Run, s: &SlaveRun) -> Outcome {
    let snap = run.snapshot.to_str().unwrap();
    let master = s.master_at_start.to_str().unwrap();
    let (obs, up, t0) = (
        s.observed_at.to_string(),
        s.up.to_string(),
        run.t0.to_string(),
    );
    let cov = json(&[
        "coverage",
        snap,
        "--master",
        master,
        "--observed-at",
        &obs,
        "--slave-up",
        &up,
        "--rw-start",
        &t0,
        "--json",
    ]);
    let coverage_end = cov["coverage_end"].as_i64().expect("coverage_end");
    // The human report too: timeline and verdict, no panic.
    let human = promsnap(&[
        "coverage",
        snap,
        "--master",
        master,
        "--observed-at",
        &obs,
        "--slave-up",
        &up,
        "--rw-start",
        &t0,
    ]);
    assert!(human.status.success());
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("Timeline") && text.contains("Verdict:"),
        "{text}"
    );
    let predicted = cov["loss_windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            let to = w["to"].as_i64().unwrap();
            (
                w["cause"].as_str().unwrap().to_string(),
                w["certainty"].as_str().unwrap().to_string(),
                Win {
                    from: w["from"].as_i64().unwrap(),
                    to,
                    to_earliest: w["to_earliest"].as_i64().unwrap_or(to),
                },
            )
        })
        .collect();
    // Real holes: samples the master has and the slave has not, up to 10 s
    // before the master stopped (its last batches may still be in flight).
    let to = (run.master_stopped - 10_000).to_string();
    let gaps = json(&[
        "gaps",
        s.data.to_str().unwrap(),
        "--against",
        run.master_data.to_str().unwrap(),
        "--from",
        &t0,
        "--to",
        &to,
        "--json",
    ]);
    let merged = gaps["missing"]["merged"].as_array().expect("merged");
    let real = merged
        .iter()
        .map(|m| {
            let to = m["to"].as_i64().unwrap();
            Win {
                from: m["from"].as_i64().unwrap(),
                to,
                to_earliest: to,
            }
        })
        .collect();
    let series_affected = merged
        .iter()
        .map(|m| m["series"].as_u64().unwrap_or(0))
        .collect();
    Outcome {
        coverage_end,
        predicted,
        real,
        series_affected,
    }
}

fn report(name: &str, run: &Run, s: &SlaveRun, o: &Outcome) {
    let rel = |t: i64| format!("{:+.1}s", (t - o.coverage_end) as f64 / 1000.0);
    eprintln!(
        "realserver {name}: C_snap={} (snapshot {} after master start), slave up {} after C_snap",
        o.coverage_end,
        (run.snapshot_taken - run.t0) / 1000,
        rel(s.up)
    );
    for (c, k, w) in &o.predicted {
        eprintln!(
            "  predicted {c} ({k}): {} .. {} (earliest end {})",
            rel(w.from),
            rel(w.to),
            rel(w.to_earliest)
        );
    }
    for (w, n) in o.real.iter().zip(&o.series_affected) {
        eprintln!("  real hole: {} .. {} ({n} series)", rel(w.from), rel(w.to));
    }
}

/// Scenario A: slave up 5 s after the snapshot: no loss beyond the boundary.
#[test]
fn seed_with_remote_write_slave_up_soon() {
    let Some(run) = shared_run() else { return };
    let o = evaluate(run, &run.a);
    report("slave_up_soon", run, &run.a, &o);
    assert!(
        o.predicted.iter().all(|(_, k, _)| k == "bound"),
        "only boundary slivers predicted: {:?}",
        o.predicted.iter().map(|x| (&x.0, &x.1)).collect::<Vec<_>>()
    );
    // Every real hole lies within a predicted sliver, ± one scrape interval.
    for r in &o.real {
        assert!(
            o.predicted
                .iter()
                .any(|(_, _, p)| r.from >= p.from - SCRAPE_MS && r.to <= p.to + SCRAPE_MS),
            "real hole {r:?} outside the predicted slivers (C_snap {})",
            o.coverage_end
        );
    }
}

/// Scenario B: slave up after the WAL truncation overtook the reader: L2.
#[test]
fn seed_with_remote_write_slave_up_late() {
    let Some(run) = shared_run() else { return };
    let o = evaluate(run, &run.b);
    report("slave_up_late", run, &run.b, &o);
    let l2: Vec<&Win> = o
        .predicted
        .iter()
        .filter(|(c, _, _)| c == "L2")
        .map(|x| &x.2)
        .collect();
    assert_eq!(l2.len(), 1, "one L2 window predicted");
    let p = l2[0];
    let big: Vec<&Win> = o.real.iter().filter(|w| w.to - w.from > 5_000).collect();
    assert_eq!(big.len(), 1, "one large real hole: {:?}", o.real);
    let r = big[0];
    // Start: within one scrape interval plus the L3 sliver of the prediction.
    assert!(
        (r.from - p.from).abs() <= 2 * SCRAPE_MS,
        "L2 start: predicted {} real {}",
        p.from,
        r.from
    );
    // End: between the earliest and latest predicted restart, ± one scrape.
    assert!(
        r.to >= p.to_earliest - SCRAPE_MS && r.to <= p.to + SCRAPE_MS,
        "L2 end: predicted {}..{} real {}",
        p.to_earliest,
        p.to,
        r.to
    );
}
