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

/// The arguments of `promsnap fill TARGET --from SOURCE`, then `extra`.
fn fill_args<'a>(target: &'a Path, source: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "fill",
        target.to_str().unwrap(),
        "--from",
        source.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args
}

fn run_fill(target: &Path, source: &Path, extra: &[&str]) -> std::process::Output {
    promsnap(&fill_args(target, source, extra))
}

/// [`run_fill`] with `--json` last: the exit code and the report.
fn run_fill_json(target: &Path, source: &Path, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut args = fill_args(target, source, extra);
    args.push("--json");
    run_json(&args)
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
    crate::util::promtool_tsdb_dump(dir)
}

/// A replica missing one block: fill writes exactly its samples back, and
/// promtool dumps the filled replica identically to the source. A second
/// run adds nothing; a dry run writes nothing.
#[test]
fn fill_restores_a_lost_block_as_promtool_sees_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = pair(tmp.path());
    let before = entries(&dst);

    let (code, dry) = run_fill_json(&dst, &src, &["--dry-run"]);
    assert_eq!(code, Some(0), "{dry}");
    assert_eq!(entries(&dst), before, "a dry run writes nothing");
    // The lost block held 109920 samples of 916 series (its meta.json).
    assert_eq!(dry["samples_added"], 109920, "{dry}");
    assert_eq!(dry["series_added"], 916);

    let (code, r) = run_fill_json(&dst, &src, &[]);
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

    let (code, again) = run_fill_json(&dst, &src, &[]);
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
    let out = run_fill(&dst, &src, &["--min-time", "2000", "--max-time", "1000"]);
    assert_eq!(out.status.code(), Some(2), "reversed range");
    assert_eq!(entries(&src), before);
    assert!(!entries(&dst).iter().any(|e| e.contains("tmp")));
}

/// Two fills into one TARGET at once would both find the same samples
/// missing and write them twice. While another process holds the lock on
/// TARGET's directory (what a running fill takes), fill refuses with exit 2
/// and writes nothing; a dry run still reports; once the lock is gone the
/// same fill writes the missing block. The lock is this test's own `flock`
/// on the directory, the one a running fill holds.
#[test]
fn fill_refuses_a_target_another_fill_is_writing_into() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = pair(tmp.path());
    let before = entries(&dst);
    let held = std::fs::File::open(&dst).unwrap();
    assert!(promsnap::fileutil::flock_try_exclusive(&held).unwrap());
    let out = run_fill(&dst, &src, &[]);
    assert_eq!(out.status.code(), Some(2), "a second fill is refused");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another fill is writing into it"), "{err}");
    assert_eq!(entries(&dst), before, "nothing written while locked");
    let (code, dry) = run_fill_json(&dst, &src, &["--dry-run"]);
    assert_eq!(code, Some(0), "a dry run takes no lock: {dry}");
    assert!(dry["samples_added"].as_u64().unwrap() > 0, "{dry}");
    assert_eq!(entries(&dst), before, "a dry run writes nothing");
    drop(held);
    let (code, done) = run_fill_json(&dst, &src, &[]);
    assert_eq!(code, Some(0), "{done}");
    assert_eq!(done["samples_added"], dry["samples_added"], "{done}");
}

/// TARGETs that are no Prometheus data directory (an empty directory, a
/// directory of unrelated files, a regular file): exit 2 with a message
/// naming TARGET; nothing is written into them.
#[test]
fn fill_into_something_not_a_data_dir_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, _) = pair(tmp.path());
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), b"not prometheus").unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    for (target, why) in [
        (&empty, "empty"),
        (&other, "unrelated files"),
        (&file, "a file"),
    ] {
        let before = if target.is_dir() {
            entries(target)
        } else {
            vec![]
        };
        let out = run_fill(target, &src, &[]);
        assert_eq!(out.status.code(), Some(2), "{why}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(target.to_str().unwrap()), "{why}: {err}");
        if target.is_dir() {
            assert_eq!(entries(target), before, "{why}");
        }
    }
}

/// A tmpfs mounted for one test (root only: where mounting is impossible
/// the tests using it say so and return); unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size_kib: u64) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_kib}k"), "tmpfs"])
            .arg(at)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: cannot mount a tmpfs here (needs root)");
            return None;
        }
        Some(Tmpfs(at.to_path_buf()))
    }

    fn remount_read_only(&self) {
        let st = std::process::Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(st.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

fn du_kib(dir: &Path) -> u64 {
    let out = std::process::Command::new("du")
        .args(["-sk"])
        .arg(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// A TARGET on a read-only filesystem (a replica the user may not write
/// to): exit 2, an error naming the read-only filesystem, TARGET unchanged.
#[test]
fn fill_into_a_read_only_target_fails_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = pair(tmp.path());
    let mnt = tmp.path().join("ro");
    let Some(fs) = Tmpfs::mount(&mnt, du_kib(&dst) + 4096) else {
        return;
    };
    let target = mnt.join("data");
    copy_dir(&dst, &target);
    fs.remount_read_only();
    let before = entries(&target);
    let out = run_fill(&target, &src, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.to_lowercase().contains("read-only"), "{err}");
    assert_eq!(entries(&target), before);
}

/// A TARGET whose filesystem fills up while the block is written: exit 2,
/// an error naming the full device, and nothing new in TARGET but (at
/// most) a `*.tmp-for-creation` directory, which Prometheus deletes.
#[test]
fn fill_onto_a_full_disk_fails_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = pair(tmp.path());
    let mnt = tmp.path().join("full");
    // Room for TARGET and a few pages: less than the block to write.
    let Some(_fs) = Tmpfs::mount(&mnt, du_kib(&dst) + 64) else {
        return;
    };
    let target = mnt.join("data");
    copy_dir(&dst, &target);
    let before = entries(&target);
    let out = run_fill(&target, &src, &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("No space left"), "{err}");
    let after: Vec<String> = entries(&target)
        .into_iter()
        .filter(|e| !e.ends_with(".tmp-for-creation"))
        .collect();
    assert_eq!(after, before);
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
    let (code, r) = run_fill_json(&dst, &src, &[]);
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

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A scrape target serving one native histogram, `fill_nh_seconds{k="v"}`,
/// in the protobuf exposition format (the only one Prometheus 2.42 reads
/// native histograms from), encoded by hand after 2.42's
/// `io/prometheus/client/metrics.proto`: schema 0, buckets (1,2], (2,4],
/// (4,8] holding n, 2n and n observations after the n-th scrape.
fn native_histogram_exporter() -> u16 {
    use std::io::{Read, Write};
    fn uvarint(out: &mut Vec<u8>, mut n: u64) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }
    fn sint(n: i64) -> u64 {
        ((n << 1) ^ (n >> 63)) as u64
    }
    fn field(out: &mut Vec<u8>, f: u64, bytes: &[u8]) {
        uvarint(out, f << 3 | 2);
        uvarint(out, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }
    fn body(n: u64) -> Vec<u8> {
        let k = n as i64;
        let mut h = Vec::new();
        uvarint(&mut h, 1 << 3); // sample_count
        uvarint(&mut h, 4 * n);
        h.push(2 << 3 | 1); // sample_sum
        h.extend_from_slice(&(10.5 * n as f64).to_le_bytes());
        uvarint(&mut h, 5 << 3); // schema 0
        uvarint(&mut h, sint(0));
        h.push(6 << 3 | 1); // zero_threshold
        h.extend_from_slice(&0.001f64.to_le_bytes());
        let mut span = Vec::new();
        uvarint(&mut span, 1 << 3); // offset 1
        uvarint(&mut span, sint(1));
        uvarint(&mut span, 2 << 3); // length 3
        uvarint(&mut span, 3);
        field(&mut h, 12, &span);
        let mut deltas = Vec::new();
        for d in [k, k, -k] {
            uvarint(&mut deltas, sint(d));
        }
        field(&mut h, 13, &deltas);
        let mut label = Vec::new();
        field(&mut label, 1, b"k");
        field(&mut label, 2, b"v");
        let mut metric = Vec::new();
        field(&mut metric, 1, &label);
        field(&mut metric, 7, &h);
        let mut fam = Vec::new();
        field(&mut fam, 1, b"fill_nh_seconds");
        field(&mut fam, 2, b"a native histogram");
        uvarint(&mut fam, 3 << 3); // type HISTOGRAM
        uvarint(&mut fam, 4);
        field(&mut fam, 4, &metric);
        let mut out = Vec::new();
        uvarint(&mut out, fam.len() as u64);
        out.extend_from_slice(&fam);
        out
    }
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut n = 0u64;
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            n += 1;
            let b = body(n);
            let mut resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.google.protobuf; \
                 proto=io.prometheus.client.MetricFamily; encoding=delimited\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                b.len()
            )
            .into_bytes();
            resp.extend_from_slice(&b);
            let _ = s.write_all(&resp);
        }
    });
    port
}

/// The late replica, with real servers (about 2 minutes): a master scrapes
/// itself every second and remote-writes to a slave seeded from its
/// snapshot; the slave first runs without the remote-write receiver (the
/// master's batches get 404 and are dropped: a real loss), then with it.
/// After `fill SLAVE --from MASTER` (slave running), `gaps` finds no hole,
/// the running slave serves the formerly lost seconds with the master's
/// exact samples after its block reload, `verify SLAVE` is clean, and
/// neither log has an error. The master also scrapes a native histogram
/// (2.42 with `--enable-feature=native-histograms`; promtool 2.42's dump
/// does not print histograms, so the running slave's query API is the
/// proof): the lost histogram samples are filled too and served as the
/// master serves them.
// One real-server scenario, step by step; its steps share the running servers.
#[allow(clippy::too_many_lines)]
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
    let nh_port = native_histogram_exporter();
    let mcfg = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
         scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:SELF_PORT']\n\
         \x20 - job_name: nh\n    static_configs:\n      - targets: ['127.0.0.1:{nh_port}']\n\
         remote_write:\n  - url: http://127.0.0.1:{slave_port}/api/v1/write\n    send_native_histograms: true\n    queue_config:\n      batch_send_deadline: 1s\n      min_backoff: 100ms\n      max_backoff: 200ms\n"
    );
    let master = Prom::start(
        base,
        "master",
        &mcfg,
        &mdata,
        &[
            "--web.enable-admin-api",
            "--enable-feature=native-histograms",
        ],
    );
    std::thread::sleep(Duration::from_secs(8));
    let (st, body) = snapshot(master.port);
    assert_eq!(st, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let name = v["data"]["name"].as_str().unwrap().to_string();
    copy_dir(&mdata.join("snapshots").join(&name), &sdata);
    // The slave up without the receiver: the master's writes are refused.
    let scfg = "global:\n  scrape_interval: 1h\n";
    let slave_args = |recv: bool| -> Vec<String> {
        let mut a = vec!["--enable-feature=native-histograms".to_string()];
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
    // Wait until the slave holds 12 s of the master's samples after the
    // outage: everything up to check_to has then reached it or is lost for
    // good (the master sends in order, batches every second).
    let series = "prometheus_tsdb_head_samples_appended_total";
    let newest = || -> i64 {
        let r = slave.query(&format!("timestamp({series})"), now_ms() as f64 / 1000.0);
        r.iter()
            .filter_map(|s| s["value"][1].as_str()?.parse::<f64>().ok())
            .map(|t| (t * 1000.0) as i64)
            .min()
            .unwrap_or(i64::MIN)
    };
    wait_until(
        "remote write to reach the slave again",
        Duration::from_secs(90),
        || newest() >= lost_to + 12_000,
    );
    let check_to = newest() - 5_000;
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

    let (code, r) = run_fill_json(&sdata, &mdata, &["--max-time", &check_to.to_string()]);
    assert!(code == Some(0) || code == Some(1), "{r}");
    // Samples at or after the slave head's oldest sample are deferred, not
    // written (a block there would make the slave drop head samples on its
    // next restart): when the resumed remote write split the first scrape
    // after the outage, that scrape's missing series wait for the next run.
    let deferred = r["deferred"]["samples"].as_u64().unwrap_or(0);
    let cutoff = r["deferred"]["cutoff"].as_i64().unwrap_or(i64::MAX);
    assert!(
        r["samples_added"].as_u64().unwrap() + deferred >= lost,
        "{r}"
    );
    let g = gaps(check_to);
    let left = g["missing"]["merged"].as_array().unwrap();
    let left_samples: u64 = left.iter().map(|m| m["samples"].as_u64().unwrap()).sum();
    assert!(
        left.iter().all(|m| m["from"].as_i64().unwrap() >= cutoff) && left_samples <= deferred,
        "only deferred samples may be left after fill: {g}\nfill: {r}"
    );
    let v = promsnap(&["verify", sdata.to_str().unwrap()]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));

    // The running slave serves the lost seconds with the master's samples
    // once it has reloaded its blocks (every minute).
    let served_to = lost_to.min(cutoff - 1);
    let span_s = (served_to - lost_from) / 1000 + 2;
    let at = (served_to as f64) / 1000.0;
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
                "the slave does not serve the master's samples: {:?} vs {:?} ({:?}, first {:?} vs \
                 {:?})\nfill: {r}\nslave log: {}",
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
    // The native histogram's lost samples too, as the master serves them.
    let qh = format!("fill_nh_seconds[{span_s}s]");
    let want_h = master.query(&qh, at);
    let hist_samples = |r: &[serde_json::Value]| -> usize {
        r.iter()
            .map(|s| s["histograms"].as_array().map_or(0, Vec::len))
            .sum()
    };
    assert!(
        hist_samples(&want_h) as i64 >= span_s - 4,
        "the master holds the histogram samples of the lost span: {want_h:?}"
    );
    assert_eq!(slave.query(&qh, at), want_h, "histograms: slave vs master");
    // Prometheus compacts a filled block with its own when they overlap (a
    // vertical compaction; with 1m min and max block durations there is no
    // other compaction). The slave's head block of the filled minute
    // overlaps it when the slave held samples of that minute; when that
    // head block came out empty or was never cut, no compaction is due and
    // the filled block stays as written (it is served above).
    let filled: Vec<(String, i64, i64)> = r["ranges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["block"].as_str().unwrap().to_string(),
                x["min_time"].as_i64().unwrap(),
                x["max_time"].as_i64().unwrap(),
            )
        })
        .collect();
    let slave_blocks = || -> Vec<(String, i64, i64)> {
        std::fs::read_dir(&sdata)
            .unwrap()
            .flatten()
            .filter_map(|e| {
                let m = std::fs::read(e.path().join("meta.json")).ok()?;
                let m: serde_json::Value = serde_json::from_slice(&m).ok()?;
                Some((
                    m["ulid"].as_str()?.to_string(),
                    m["minTime"].as_i64()?,
                    m["maxTime"].as_i64()?,
                ))
            })
            .collect()
    };
    let compacted = |log: &str| {
        log.lines().any(|l| {
            l.contains("msg=\"compact blocks\"")
                && filled.iter().any(|(u, _, _)| l.contains(u.as_str()))
        })
    };
    // The bound follows from the configured block range (Prom::start:
    // 1m): the slave cuts its head block of the filled window once its head
    // spans 1.5 ranges, i.e. half a range after the window ends; its
    // reload-and-compact loop runs every minute, and the vertical compaction
    // comes in the cycle after the block appears. Two more cycles of slack
    // for a loaded 2-core machine.
    const BLOCK_RANGE_MS: i64 = 60_000;
    const CYCLE_MS: i64 = 60_000;
    let last_window_end = r["ranges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["window_end"].as_i64())
        .max()
        .unwrap_or_else(now_ms);
    let due = last_window_end + BLOCK_RANGE_MS / 2 + 2 * CYCLE_MS;
    let bound = due + 2 * CYCLE_MS - now_ms();
    let end = Instant::now() + Duration::from_millis(bound.max(CYCLE_MS) as u64);
    loop {
        if compacted(&slave.log_text()) {
            break;
        }
        let blocks = slave_blocks();
        let overlapped = filled.iter().any(|(u, lo, hi)| {
            blocks
                .iter()
                .any(|(b, mn, mx)| b != u && *mn < *hi + 1 && *lo < *mx)
        });
        let head_past = filled
            .iter()
            .all(|(_, _, hi)| blocks.iter().any(|(_, mn, _)| *mn > *hi));
        if !overlapped && head_past {
            // Nothing of the slave's own overlaps: no compaction is due.
            assert!(
                filled
                    .iter()
                    .all(|(u, _, _)| blocks.iter().any(|(b, _, _)| b == u)),
                "the filled block(s) stay in place: {filled:?} {blocks:?}"
            );
            break;
        }
        if Instant::now() > end {
            let log = slave.log_text();
            let tail: Vec<&str> = log
                .lines()
                .filter(|l| {
                    l.contains("ompact") || l.contains("level=error") || l.contains("level=warn")
                })
                .collect();
            panic!(
                "timed out ({bound} ms, from the block range) waiting for the slave to compact the \
                 filled block(s) {filled:?} with {blocks:?}\n{}",
                tail.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(slave.query(&q, at), want, "after the compaction");
    assert_eq!(
        slave.query(&qh, at),
        want_h,
        "histograms after the compaction"
    );
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

pub(crate) fn snapshot(port: u16) -> (u16, String) {
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

pub(crate) fn start_on(
    base: &Path,
    name: &str,
    cfg: &str,
    data: &Path,
    port: u16,
    args: &[String],
) -> Prom {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    Prom::start_port(base, name, cfg, data, port, &a)
}

#[allow(dead_code)]
fn ready(port: u16) -> bool {
    matches!(http_get(port, "/-/ready"), Some((200, _)))
}
