//! Machinery for tests that run the real Prometheus 2.42 on loopback: a
//! server killed on drop, free ports, a tiny HTTP client and instant
//! queries, waits on the data dir (first block, first checkpoint), a copy of
//! a live directory, the skip-or-fail check for the tools. The run matrix of
//! snapshot + remote-write replicas that uses it is in `lossmatrix.rs` (it
//! folded in the former "slave up soon / late" tests); `seed.rs` and
//! `snapshot.rs` use it too.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Copies a directory that a running server may change: files deleted
/// meanwhile (a WAL truncation) are skipped.
pub(crate) fn copy_live_dir(src: &Path, dst: &Path) {
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

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Now, in Unix seconds.
pub(crate) fn now_s() -> i64 {
    now_ms() / 1000
}

/// The end (Unix seconds, on the minute) of a backfill `span_s` long that
/// ends 2 to 3 minutes ago and lies inside one 2h range: promtool cuts
/// backfilled blocks on the 2h grid, so a span across a 2h line (in the
/// minutes after an even hour) would give two blocks. Such a span ends on
/// that line instead.
pub(crate) fn backfill_end_s(span_s: i64) -> i64 {
    const TWO_HOURS: i64 = 7_200;
    let end = (now_s() - 120) / 60 * 60;
    let line = end.div_euclid(TWO_HOURS) * TWO_HOURS;
    if end - span_s < line && end != line {
        line
    } else {
        end
    }
}

/// A configuration that scrapes the server itself every second
/// (`SELF_PORT` is replaced by its port).
pub(crate) const SELF_SCRAPE_1S: &str = "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: [\"127.0.0.1:SELF_PORT\"]\n";

/// A configuration without targets: the server adds no data.
pub(crate) const NO_SCRAPE: &str = "global:\n  scrape_interval: 1m\n";

/// True if `prometheus` and `promtool` run. Without them a test is skipped
/// with a message naming `who`, unless `CI` is set: then it fails.
pub(crate) fn tools_available(who: &str) -> bool {
    let ok = ["prometheus", "promtool"].iter().all(|t| {
        Command::new(t)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "prometheus/promtool not installed but CI is set"
        );
        eprintln!("{who}: prometheus/promtool not on PATH: skipped");
    }
    ok
}

/// A running Prometheus, killed when dropped.
pub(crate) struct Server {
    pub(crate) name: String,
    pub(crate) child: Option<Child>,
    pub(crate) port: u16,
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
    pub(crate) fn start(
        name: &str,
        base: &Path,
        config: &str,
        data: &Path,
        port: u16,
        extra: &[&str],
    ) -> Server {
        let cfg = base.join(format!("{name}.yml"));
        std::fs::write(&cfg, config.replace("SELF_PORT", &port.to_string())).unwrap();
        // Appended to: a restarted server keeps the log of its first run.
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(base.join(format!("{name}.log")))
            .unwrap();
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
            name: name.to_string(),
            child: Some(child),
            port,
        }
    }

    /// [`Server::start`] on a free port, then waits up to 60 s until it is
    /// ready.
    pub(crate) fn launch(
        name: &str,
        base: &Path,
        config: &str,
        data: &Path,
        extra: &[&str],
    ) -> Server {
        let mut s = Server::start(name, base, config, data, free_port(), extra);
        s.wait_ready(Duration::from_secs(60));
        s
    }

    /// Its base URL.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The result vector of an instant query at `t` (Unix s).
    pub(crate) fn query(&self, q: &str, t: f64) -> Vec<serde_json::Value> {
        query(self.port, q, t)
    }

    /// Waits until `/-/ready` answers 200; returns that time.
    pub(crate) fn wait_ready(&mut self, timeout: Duration) -> i64 {
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

    /// SIGTERM, then SIGKILL after `timeout`; true if it had to be killed.
    pub(crate) fn stop(&mut self, timeout: Duration) -> bool {
        let Some(mut c) = self.child.take() else {
            return false;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Ok(Some(_)) = c.try_wait() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = c.kill();
        let _ = c.wait();
        true
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A minimal HTTP exchange on loopback with 5 s timeouts. HTTP/1.0, so
/// that no answer comes chunked.
pub(crate) fn http(port: u16, method: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|x| x.1.to_string())?;
    Some((status, body))
}

/// Percent-encodes a query parameter.
pub(crate) fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The result vector of an instant query at `t` (Unix s) to the server on
/// `port`; panics unless it answers 200.
pub(crate) fn query(port: u16, q: &str, t: f64) -> Vec<serde_json::Value> {
    let (st, body) = http(
        port,
        "GET",
        &format!("/api/v1/query?query={}&time={t:.3}", encode(q)),
    )
    .expect("query");
    assert_eq!(st, 200, "{q}: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}

/// Writes the OpenMetrics text `om` to `base/bf.om` and backfills it into
/// `data` with `promtool tsdb create-blocks-from openmetrics`.
pub(crate) fn backfill(base: &Path, om: &str, data: &Path) {
    std::fs::write(base.join("bf.om"), om).unwrap();
    let st = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(base.join("bf.om"))
        .arg(data)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "promtool create-blocks-from failed");
}

/// Waits (up to 30 s) until the server on `port` holds at least `n`
/// scrapes of itself in the last minute.
pub(crate) fn wait_scrapes(port: u16, n: u32) {
    wait_for(&format!("{n} scrapes"), Duration::from_secs(30), || {
        query(
            port,
            "count_over_time(up[1m])",
            now_ms() as f64 / 1000.0 + 1.0,
        )
        .first()
        .and_then(|r| r["value"][1].as_str().and_then(|s| s.parse::<u32>().ok()))
        .is_some_and(|c| c >= n)
    });
}

pub(crate) fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

pub(crate) fn sleep_until(t_ms: i64) {
    let d = t_ms - now_ms();
    if d > 0 {
        std::thread::sleep(Duration::from_millis(d as u64));
    }
}

pub(crate) fn has_block(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|rd| {
        rd.flatten().any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.len() == 26 && e.path().join("meta.json").is_file()
        })
    })
}

pub(crate) fn prometheus_available() -> bool {
    Command::new("prometheus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
