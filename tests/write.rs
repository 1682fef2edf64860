//! The block writer against what the real Prometheus 2.42 reads: every
//! fixture block (floats, stale markers, native histograms, a backfilled
//! block) is read sample for sample and rewritten with `promsnap::write`;
//! `promtool tsdb dump` of the rewrite equals that of the original,
//! `promtool tsdb analyze` reads it, and a real Prometheus serving the
//! rewritten blocks answers range-selector queries (histograms included)
//! exactly as it answers them from the originals.
//!
//! Needs `promtool` / `prometheus` on the PATH; skipped without them (fails
//! under CI=true).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use promsnap::fill::stream::{self, Opened, Select};
use promsnap::write::BlockWriter;

use crate::util::{copy_dir, testdata};

/// True if `bin` runs; panics under CI=true when it does not.
pub(crate) fn have(bin: &str) -> bool {
    let ok = Command::new(bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{bin} is not on PATH but CI=true (CI installs it with apt-get install prometheus)"
        );
        eprintln!("skipped: {bin} not on PATH");
    }
    ok
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// HTTP/1.0 GET on loopback (no chunked bodies), 10 s timeouts.
pub(crate) fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|x| x.1.to_string())?;
    Some((status, body))
}

pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A running Prometheus, killed when dropped.
pub(crate) struct Prom {
    pub child: Option<Child>,
    pub port: u16,
    pub log: PathBuf,
}

impl Drop for Prom {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Prom {
    pub(crate) fn start(
        base: &Path,
        name: &str,
        config: &str,
        data: &Path,
        extra: &[&str],
    ) -> Prom {
        Prom::start_port(base, name, config, data, free_port(), extra)
    }

    pub(crate) fn start_port(
        base: &Path,
        name: &str,
        config: &str,
        data: &Path,
        port: u16,
        extra: &[&str],
    ) -> Prom {
        let cfg = base.join(format!("{name}.yml"));
        std::fs::write(&cfg, config.replace("SELF_PORT", &port.to_string())).unwrap();
        let log = base.join(format!("{name}.log"));
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--storage.tsdb.min-block-duration=1m")
            .arg("--storage.tsdb.retention.time=100y")
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn prometheus");
        let mut p = Prom {
            child: Some(child),
            port,
            log,
        };
        let end = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some((200, _)) = http_get(port, "/-/ready") {
                break;
            }
            if let Some(c) = &mut p.child
                && let Ok(Some(st)) = c.try_wait()
            {
                panic!("prometheus {name} exited: {st}: {}", p.log_text());
            }
            assert!(Instant::now() < end, "prometheus {name} not ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        p
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `/api/v1/query` at `time_s`; the `data.result`, sorted by metric.
    pub(crate) fn query(&self, q: &str, time_s: f64) -> Vec<serde_json::Value> {
        let path = format!("/api/v1/query?query={}&time={time_s:.3}", urlencode(q));
        let (st, body) = http_get(self.port, &path).expect("query");
        assert_eq!(st, 200, "{path}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        let mut r = v["data"]["result"].as_array().cloned().unwrap_or_default();
        r.sort_by_key(|x| x["metric"].to_string());
        r
    }
}

fn promtool(args: &[&str]) -> String {
    let out = Command::new("promtool").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "promtool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every block of the fixtures.
fn fixture_blocks() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in [
        "prom-2.42-live/data",
        "prom-2.42-nativehist/data",
        "backfill-small/blocks",
    ] {
        for e in std::fs::read_dir(testdata(d)).unwrap().flatten() {
            if e.path().join("meta.json").is_file() {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// Reads every series of the data dir `from` and writes them as one block
/// `[min, max)` into `to`; returns the new block's directory.
pub(crate) fn rewrite(from: &Path, to: &Path, min: i64, max: i64) -> PathBuf {
    let o = Opened::open(from).unwrap();
    let sel = Select {
        selectors: Vec::new(),
        from: i64::MIN,
        to: i64::MAX,
    };
    let readers = o.readers(i64::MIN, i64::MAX);
    let mut w = BlockWriter::create(to, min, max).unwrap();
    for (labels, samples) in stream::series(&readers, &o, &sel) {
        w.add_series(&labels, &samples).unwrap();
    }
    assert!(o.take_errors().is_empty());
    w.finish().unwrap().expect("a block").dir
}

/// Rewriting every real fixture block sample for sample gives promtool
/// dumps identical to the originals', and promtool analyze reads them.
#[test]
fn rewritten_fixture_blocks_dump_identically_with_promtool() {
    if !have("promtool") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let blocks = fixture_blocks();
    assert!(blocks.len() >= 8, "{blocks:?}");
    for (i, b) in blocks.iter().enumerate() {
        let orig = tmp.path().join(format!("orig{i}"));
        let new = tmp.path().join(format!("new{i}"));
        std::fs::create_dir_all(&new).unwrap();
        copy_dir(b, &orig.join(b.file_name().unwrap()));
        let meta = promsnap::block::read_meta(b).unwrap();
        let written = rewrite(&orig, &new, meta.min_time, meta.max_time);
        // promtool opens a data dir: it wants a (here empty) wal/.
        std::fs::create_dir_all(orig.join("wal")).unwrap();
        std::fs::create_dir_all(new.join("wal")).unwrap();
        let a = promtool(&["tsdb", "dump", orig.to_str().unwrap()]);
        let n = promtool(&["tsdb", "dump", new.to_str().unwrap()]);
        assert!(!a.is_empty(), "{}", b.display());
        assert!(a == n, "dump of the rewrite of {} differs", b.display());
        let ulid = written.file_name().unwrap().to_str().unwrap();
        let an = promtool(&["tsdb", "analyze", new.to_str().unwrap(), ulid]);
        assert!(an.contains("Block ID: "), "{an}");
        // Our own verify is clean too.
        let v = crate::util::promsnap(&["verify", written.to_str().unwrap()]);
        assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    }
}

/// A real Prometheus serving the rewritten native-histogram blocks answers
/// range-selector queries (floats, stale markers and histograms, raw
/// samples) exactly as it answers them from the original blocks; its log
/// has no error.
#[test]
fn prometheus_serves_rewritten_histogram_blocks_like_the_originals() {
    if !have("prometheus") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let orig = tmp.path().join("orig");
    let new = tmp.path().join("new");
    std::fs::create_dir_all(&orig).unwrap();
    std::fs::create_dir_all(&new).unwrap();
    let src = testdata("prom-2.42-nativehist/data");
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for e in std::fs::read_dir(&src).unwrap().flatten() {
        if e.path().join("meta.json").is_file() {
            let one = tmp.path().join("one");
            let _ = std::fs::remove_dir_all(&one);
            copy_dir(&e.path(), &one.join(e.file_name()));
            copy_dir(&e.path(), &orig.join(e.file_name()));
            let m = promsnap::block::read_meta(&e.path()).unwrap();
            lo = lo.min(m.min_time);
            hi = hi.max(m.max_time);
            rewrite(&one, &new, m.min_time, m.max_time);
        }
    }
    let cfg = "global:\n  scrape_interval: 1h\n";
    let a = Prom::start(
        tmp.path(),
        "orig",
        cfg,
        &orig,
        &["--enable-feature=native-histograms"],
    );
    let b = Prom::start(
        tmp.path(),
        "new",
        cfg,
        &new,
        &["--enable-feature=native-histograms"],
    );
    let span_s = (hi - lo) / 1000 + 1;
    let at = hi as f64 / 1000.0;
    let q = format!("{{__name__=~\".+\"}}[{span_s}s]");
    let ra = a.query(&q, at);
    let rb = b.query(&q, at);
    assert!(!ra.is_empty());
    let hist = ra.iter().filter(|s| s.get("histograms").is_some()).count();
    assert!(hist > 0, "the fixture has native histograms");
    assert_eq!(ra.len(), rb.len());
    for (x, y) in ra.iter().zip(&rb) {
        assert_eq!(x, y, "series {} differs", x["metric"]);
    }
    for p in [&a, &b] {
        assert!(!p.log_text().contains("level=error"), "{}", p.log_text());
    }
}
