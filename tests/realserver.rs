//! Machinery for tests that run the real Prometheus 2.42 on loopback: a
//! server killed on drop, free ports, a tiny HTTP client, waits on the data
//! dir (first block, first checkpoint), a copy of a live directory. The run
//! matrix of snapshot + remote-write replicas that uses it is in
//! `lossmatrix.rs` (it folded in the former "slave up soon / late" tests).

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

/// A minimal HTTP/1.1 exchange on loopback with 5 s timeouts.
pub(crate) fn http(port: u16, method: &str, path: &str) -> Option<(u16, String)> {
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
