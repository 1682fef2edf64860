//! `promsnap snapshot` against what Prometheus 2.42 itself writes and reads:
//! promtool's dump of the stopped fixture data dirs and of their admin-API
//! snapshots, the real server's API on the native-histogram fixture, and a
//! live 2.42 server snapshotted by its admin API and by us at the same
//! moment (about 20 s). Tests needing `prometheus`/`promtool` skip without
//! them and fail under CI=true.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::realserver::{
    NO_SCRAPE, SELF_SCRAPE_1S, Server, backfill, backfill_end_s, encode, http, now_ms, query,
    tools_available, wait_scrapes,
};
use crate::util::{copy_dir, gauge_om, gunzip, promsnap, testdata};

fn snapshot(args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let out = promsnap(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), v, stderr)
}

/// `promsnap snapshot DATA OUT`, `extra` arguments and `--json`.
fn snapshot_json(
    data: &Path,
    out: &Path,
    extra: &[&str],
) -> (Option<i32>, serde_json::Value, String) {
    let mut args = vec!["snapshot", data.to_str().unwrap(), out.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push("--json");
    snapshot(&args)
}

/// A scratch directory holding a copy of the fixture data dir `rel` as
/// `data/`.
fn data_copy(rel: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    copy_dir(&testdata(rel), &data);
    (tmp, data)
}

fn meta(block: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(block.join("meta.json")).unwrap()).unwrap()
}

/// `promtool tsdb dump` of a snapshot directory: on a throwaway copy with
/// an empty `wal/` (promtool opens the directory as a data dir).
fn promtool_dump(snap: &Path, scratch: &Path) -> String {
    let _ = std::fs::remove_dir_all(scratch);
    copy_dir(snap, scratch);
    std::fs::create_dir_all(scratch.join("wal")).unwrap();
    crate::util::promtool_tsdb_dump(scratch)
}

/// The dump's lines whose timestamp is at most `t`.
fn up_to(dump: &str, t: i64) -> Vec<&str> {
    dump.lines()
        .filter(|l| {
            l.rsplit_once(' ')
                .and_then(|(_, ts)| ts.parse::<i64>().ok())
                .is_some_and(|ts| ts <= t)
        })
        .collect()
}

/// Every file under `dir` (but `skip`) with its size and mtime (to show
/// it unchanged).
fn listing(dir: &Path, skip: &Path) -> BTreeMap<PathBuf, (u64, i64, i64)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p == skip {
                continue;
            }
            let md = std::fs::symlink_metadata(&p).unwrap();
            if md.is_dir() {
                stack.push(p);
            } else {
                out.insert(p, (md.len(), md.mtime(), md.mtime_nsec()));
            }
        }
    }
    out
}

fn block_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.len() == 26)
        .collect();
    v.sort();
    v
}

/// The stopped live fixture: the blocks hard-linked, the head written as
/// the admin API writes it; promtool's dump of our snapshot equals its dump
/// of the data dir itself, and, up to the admin snapshot's head block end,
/// its dump of the real admin-API snapshot; the source is unchanged.
// One real-server scenario, step by step; its steps share the running servers.
#[allow(clippy::too_many_lines)]
#[test]
fn stopped_data_dir_snapshot_equals_promtool_dump_of_the_data_dir() {
    let (tmp, data) = data_copy("prom-2.42-live/data");
    let out = data.join("snapshots/20261205T000000Z-0123456789abcdef");
    let before = listing(&data, &out);
    let (code, v, err) = snapshot_json(&data, &out, &[]);
    assert_eq!(code, Some(0), "{err}\n{v:#}");
    assert_eq!(listing(&data, &out), before, "the data dir changed");
    assert!(v["snapshot_name"].as_bool().unwrap());
    assert_eq!(v["prometheus_running"], false);
    assert!(v["problems"].as_array().unwrap().is_empty());
    // The blocks: hard links of the data dir's files.
    let src_blocks = block_names(&data);
    let blocks = v["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), src_blocks.len());
    for b in blocks {
        let u = b["ulid"].as_str().unwrap();
        assert_eq!(b["method"], "link");
        for f in ["index", "meta.json", "tombstones", "chunks/000001"] {
            let (a, z) = (data.join(u).join(f), out.join(u).join(f));
            assert_eq!(
                std::fs::metadata(&a).unwrap().ino(),
                std::fs::metadata(&z).unwrap().ino(),
                "{u}/{f}"
            );
        }
    }
    // The head block: as the real admin snapshot's (taken 5 s before this
    // data dir stopped): level 1, its own source, starting at the first
    // head sample.
    let admin = testdata("prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98");
    let admin_head = admin.join("01M88ZMVFVAB1KCQ879EMPTBEN");
    let am = meta(&admin_head);
    let hb = &v["head_block"];
    let ulid = hb["ulid"].as_str().unwrap();
    let m = meta(&out.join(ulid));
    assert_eq!(m["compaction"]["level"], 1);
    assert_eq!(m["compaction"]["sources"], serde_json::json!([ulid]));
    assert_eq!(m["minTime"], am["minTime"]);
    assert!(m["maxTime"].as_i64() >= am["maxTime"].as_i64());
    assert_eq!(m["stats"]["numSamples"], hb["samples"]);
    let names = block_names(&out);
    assert_eq!(names.len(), src_blocks.len() + 1);
    assert!(
        std::fs::read_dir(out.parent().unwrap())
            .unwrap()
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().contains("tmp-for-creation"))
    );

    // promtool: ours = the data dir (blocks + head replayed by promtool).
    let ours = promtool_dump(&out, &tmp.path().join("scratch"));
    let oracle = gunzip(&testdata("prom-2.42-live/oracle/dump-data.txt.gz"));
    assert!(
        ours == oracle,
        "promtool dump of our snapshot differs from promtool dump of the data dir"
    );
    // And = the real admin snapshot up to its head block's end.
    let admin_dump = gunzip(&testdata(
        "prom-2.42-live/oracle/dump-snapshot-20261125T091234Z-788eafc011a10c98.txt.gz",
    ));
    let t = am["maxTime"].as_i64().unwrap() - 1;
    assert_eq!(up_to(&ours, t), admin_dump.lines().collect::<Vec<_>>());

    // ls and coverage take it for a snapshot with its head block.
    let ls = promsnap(&["ls", out.to_str().unwrap(), "--json"]);
    assert_eq!(ls.status.code(), Some(0));
    let lv: serde_json::Value = serde_json::from_slice(&ls.stdout).unwrap();
    assert_eq!(lv["kind"], "snapshot");
    let heads: Vec<&serde_json::Value> = lv["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["snapshot_head"] == true)
        .collect();
    assert_eq!(heads.len(), 1);
    assert_eq!(heads[0]["ulid"], ulid);
    let cov = promsnap(&["coverage", out.to_str().unwrap(), "--json"]);
    let cv: serde_json::Value = serde_json::from_slice(&cov.stdout).unwrap();
    assert_eq!(cv["head_included"], true, "{cv:#}");
    assert_eq!(cv["head_block"]["ulid"], ulid, "{cv:#}");
    assert_eq!(cv["coverage_end"], m["maxTime"], "{cv:#}");
    assert_eq!(cv["snapshot_time"], 1_796_428_800_000i64, "from the name");
    // verify finds it sound.
    let ver = promsnap(&["verify", out.to_str().unwrap()]);
    assert_eq!(
        ver.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ver.stdout)
    );

    // --skip-head: the blocks only.
    let out2 = tmp.path().join("snap2");
    let (code, v, err) = snapshot_json(&data, &out2, &["--skip-head"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(v["head_block"].is_null());
    assert_eq!(block_names(&out2), src_blocks);
}

/// A compaction during the read, as a running Prometheus makes it: after
/// the blocks were linked, two of them are merged into a new block (written
/// into the data dir by the block writer through `*.tmp-for-creation`, as
/// Prometheus writes one) and deleted. The snapshot reads again, takes the
/// new block instead of the two, reports no damage, and promtool's dump of
/// it still equals its dump of the original data dir.
#[test]
fn blocks_compacted_during_the_read_are_taken_again_not_damage() {
    if !tools_available("snapshot") {
        return;
    }
    let (tmp, data) = data_copy("prom-2.42-live/data");
    let (a, b) = ("01M88ZEAF15198PYN7F74NS04J", "01M88ZHZN1XRWVWM1RH4GVHSAJ");
    let side = tmp.path().join("side");
    std::fs::create_dir(&side).unwrap();
    copy_dir(&data.join(a), &side.join(a));
    copy_dir(&data.join(b), &side.join(b));
    let (min, max) = (
        meta(&data.join(a))["minTime"].as_i64().unwrap(),
        meta(&data.join(b))["maxTime"].as_i64().unwrap(),
    );
    let out = tmp.path().join("20261205T000000Z-00000000000000cc");
    let resume = tmp.path().join("resume");
    let mut child = Command::new(env!("CARGO_BIN_EXE_promsnap"))
        .args([
            "snapshot",
            data.to_str().unwrap(),
            out.to_str().unwrap(),
            "--json",
        ])
        .env("PROMSNAP_TEST_PAUSE_AT", "snapshot_blocks_taken")
        .env("PROMSNAP_TEST_RESUME", &resume)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut err, &mut line).unwrap();
    assert!(
        line.contains("test pause at snapshot_blocks_taken"),
        "{line}"
    );
    // The "compaction": the merged block appears, then its parents go.
    let merged = crate::write::rewrite(&side, &data, min, max);
    std::fs::remove_dir_all(data.join(a)).unwrap();
    std::fs::remove_dir_all(data.join(b)).unwrap();
    std::fs::write(&resume, b"").unwrap();
    let o = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{v:#}");
    assert!(v["rereads"].as_u64().unwrap() >= 1, "{v:#}");
    assert!(v["problems"].as_array().unwrap().is_empty(), "{v:#}");
    let merged_ulid = merged.file_name().unwrap().to_str().unwrap();
    let taken: Vec<&str> = v["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["ulid"].as_str().unwrap())
        .collect();
    assert_eq!(taken, ["01M88ZHZPXFRQK5144XJKD707B", merged_ulid]);
    let mut names = block_names(&out);
    names.retain(|n| n != v["head_block"]["ulid"].as_str().unwrap());
    assert_eq!(names, {
        let mut x = vec![
            "01M88ZHZPXFRQK5144XJKD707B".to_string(),
            merged_ulid.to_string(),
        ];
        x.sort();
        x
    });
    let ours = promtool_dump(&out, &tmp.path().join("scratch"));
    let oracle = gunzip(&testdata("prom-2.42-live/oracle/dump-data.txt.gz"));
    assert!(ours == oracle, "promtool dump differs from the data dir's");
}

/// OUT on another filesystem (tmpfs `/dev/shm`, when it is one): the block
/// files are copied, not linked, byte for byte, and said so.
#[test]
fn snapshot_across_filesystems_copies_the_blocks() {
    let shm = Path::new("/dev/shm");
    let tmp = tempfile::tempdir().unwrap();
    let Ok(other) = tempfile::tempdir_in(shm) else {
        eprintln!("snapshot: no /dev/shm: skipped");
        return;
    };
    if std::fs::metadata(other.path()).unwrap().dev()
        == std::fs::metadata(tmp.path()).unwrap().dev()
    {
        eprintln!("snapshot: /dev/shm is on the same filesystem: skipped");
        return;
    }
    let data = tmp.path().join("data");
    copy_dir(&testdata("prom-2.42-live/data"), &data);
    let out = other.path().join("20261205T000000Z-00000000000000dd");
    let (code, v, err) = snapshot_json(&data, &out, &[]);
    assert_eq!(code, Some(0), "{err}\n{v:#}");
    assert_eq!(v["bytes_linked"], 0);
    assert!(
        v["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("copied, not linked"))
    );
    for b in v["blocks"].as_array().unwrap() {
        assert_eq!(b["method"], "copy");
        let u = b["ulid"].as_str().unwrap();
        for f in ["index", "meta.json", "tombstones", "chunks/000001"] {
            assert_eq!(
                std::fs::read(data.join(u).join(f)).unwrap(),
                std::fs::read(out.join(u).join(f)).unwrap(),
                "{u}/{f}"
            );
        }
    }
    assert!(v["head_block"]["samples"].as_u64().unwrap() > 0);
    let ver = promsnap(&["verify", out.to_str().unwrap()]);
    assert_eq!(
        ver.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ver.stdout)
    );
}

/// Bad input: a clear error, exit 2, nothing written, the source untouched.
#[test]
fn snapshot_usage_errors_write_nothing() {
    let (tmp, data) = data_copy("prom-2.42-live/data");
    let full = tmp.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("x"), b"x").unwrap();
    let snapdir = testdata("prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98");
    let d = data.to_str().unwrap().to_string();
    // DATA_DIR `from`, OUT the scratch `o`.
    let into_o = |from: &Path| {
        vec![
            from.to_str().unwrap().to_string(),
            tmp.path().join("o").to_str().unwrap().to_string(),
        ]
    };
    let before = listing(&data, Path::new("/nonexistent"));
    for (args, expect) in [
        (vec![d.clone(), full.to_str().unwrap().into()], "not empty"),
        (vec![d.clone(), format!("{d}/inside")], "inside DATA_DIR"),
        (
            vec![d.clone(), format!("{d}/snapshots/a/b")],
            "inside DATA_DIR",
        ),
        (vec![d.clone(), d.clone()], "contains DATA_DIR"),
        (
            vec![
                d.clone(),
                tmp.path()
                    .join("01M88ZEAF15198PYN7F74NS04J")
                    .to_str()
                    .unwrap()
                    .into(),
            ],
            "named like a block",
        ),
        (into_o(&snapdir), "not a Prometheus data directory"),
        (into_o(&full), "not a Prometheus data directory"),
        (into_o(&tmp.path().join("missing")), "missing"),
    ] {
        let mut a = vec!["snapshot"];
        a.extend(args.iter().map(String::as_str));
        let (code, _, err) = snapshot(&a);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(!tmp.path().join("o").exists());
        assert_eq!(std::fs::read_dir(&full).unwrap().count(), 1);
    }
    assert_eq!(listing(&data, Path::new("/nonexistent")), before);

    // An I/O error midway (a block without chunks/): exit 2, and neither
    // the temporary directory nor the parents created for OUT are left.
    std::fs::remove_dir_all(data.join("01M88ZEAF15198PYN7F74NS04J/chunks")).unwrap();
    let nest = tmp.path().join("nest");
    let out = nest.join("a/20261205T000000Z-00000000000000ee");
    let (code, _, err) = snapshot(&["snapshot", &d, out.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("01M88ZEAF15198PYN7F74NS04J/chunks"), "{err}");
    assert!(!nest.exists());
}

/// The native-histogram fixture (histograms in blocks, `chunks_head/` and
/// the WAL, tombstones): a real 2.42 started on our snapshot serves every
/// raw sample exactly as the real server served them from the data dir.
#[test]
fn native_histogram_snapshot_served_like_the_data_dir() {
    if !tools_available("snapshot") {
        return;
    }
    let (tmp, data) = data_copy("prom-2.42-nativehist/data");
    let out = tmp
        .path()
        .join("snapshots/20261205T000000Z-00000000000000aa");
    let (code, v, err) = snapshot_json(&data, &out, &[]);
    assert_eq!(code, Some(0), "{err}\n{v:#}");
    assert!(v["head_block"]["samples"].as_u64().unwrap() > 0);
    let replica = tmp.path().join("replica");
    copy_dir(&out, &replica);
    let s = Server::launch(
        "replica",
        tmp.path(),
        NO_SCRAPE,
        &replica,
        &["--enable-feature=native-histograms"],
    );
    let port = s.port;
    let oracle: serde_json::Value = serde_json::from_str(&gunzip(&testdata(
        "prom-2.42-nativehist/oracle/data/api_raw_samples.json.gz",
    )))
    .unwrap();
    let t = oracle["eval_time"].as_str().unwrap();
    let results = oracle["results"].as_object().unwrap();
    let mut histograms = 0;
    for (name, want) in results {
        let q = format!("{{__name__=\"{name}\"}}[30m]");
        let (st, body) = http(
            port,
            "GET",
            &format!("/api/v1/query?query={}&time={t}", encode(&q)),
        )
        .expect("query");
        assert_eq!(st, 200, "{q}: {body}");
        let got: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(&got["data"]["result"], want, "{name}");
        histograms += want
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["histograms"].as_array())
            .map(Vec::len)
            .sum::<usize>();
    }
    assert_eq!(histograms, 14_388, "histogram samples compared");
}

/// A live 2.42 (a backfilled block, 1 s self-scrapes in the head), snapshotted
/// by its admin API and by `promsnap snapshot` at the same moment: promtool's
/// dumps of the two are equal up to the last scrape before the calls;
/// `coverage` takes ours for a snapshot; a replica started on a copy of it
/// serves the head's range as the primary does.
// One real-server scenario, step by step; its steps share the running servers.
#[allow(clippy::too_many_lines)]
#[test]
fn live_server_snapshot_equals_the_admin_api_snapshot() {
    if !tools_available("snapshot") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let data = base.join("primary");
    // A block of 8 minutes ending 2 to 3 minutes ago, by promtool.
    let end = backfill_end_s(480);
    let om = gauge_om("snap_backfill", (end - 480..end).step_by(15), 89, "");
    backfill(base, &om, &data);
    let mut primary = Server::launch(
        "primary",
        base,
        SELF_SCRAPE_1S,
        &data,
        &["--web.enable-admin-api"],
    );
    let port = primary.port;
    wait_scrapes(port, 6);

    // Both at the same moment.
    let t_call = now_ms();
    let admin = std::thread::spawn(move || http(port, "POST", "/api/v1/admin/tsdb/snapshot"));
    let ours = base.join("snapshots/20261205T000000Z-00000000000000bb");
    let (code, v, err) = snapshot_json(&data, &ours, &[]);
    let (st, body) = admin.join().unwrap().expect("admin snapshot");
    assert_eq!(st, 200, "{body}");
    assert_eq!(code, Some(0), "{err}\n{v:#}");
    assert_eq!(v["prometheus_running"], true);
    let name = serde_json::from_str::<serde_json::Value>(&body).unwrap()["data"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let theirs = data.join("snapshots").join(&name);
    // The same blocks linked (promtool may have cut the backfill in two at
    // a 2 h boundary), each snapshot with its own head block.
    let (mine, admin) = (block_names(&ours), block_names(&theirs));
    assert!(!v["blocks"].as_array().unwrap().is_empty(), "{v:#}");
    for b in v["blocks"].as_array().unwrap() {
        assert!(
            admin.contains(&b["ulid"].as_str().unwrap().to_string()),
            "{v:#}"
        );
    }
    assert_eq!(mine.len(), admin.len(), "{mine:?} vs {admin:?}");
    assert!(v["head_block"]["samples"].as_u64().unwrap() > 0);

    // Every scrape that began 1 s (the scrape timeout) before the calls was
    // committed before either read.
    let cutoff = t_call - 1000;
    let (a, b) = (
        promtool_dump(&ours, &base.join("d1")),
        promtool_dump(&theirs, &base.join("d2")),
    );
    let (a, b) = (up_to(&a, cutoff), up_to(&b, cutoff));
    assert!(
        a.iter()
            .any(|l| l.starts_with("{__name__=\"snap_backfill\""))
    );
    let recent = a
        .iter()
        .filter(|l| {
            l.starts_with("{__name__=\"up\"")
                && l.rsplit_once(' ').unwrap().1.parse::<i64>().unwrap() > cutoff - 3000
        })
        .count();
    assert!(recent >= 2, "the head's last seconds are in the comparison");
    assert!(
        a == b,
        "promtool dumps of ours and the admin snapshot differ up to {cutoff}: {} vs {} lines",
        a.len(),
        b.len()
    );

    // coverage takes ours for a snapshot with a head block.
    let cov = promsnap(&["coverage", ours.to_str().unwrap(), "--json"]);
    let cv: serde_json::Value = serde_json::from_slice(&cov.stdout).unwrap();
    assert_eq!(cv["head_included"], true, "{cv:#}");
    assert_eq!(cv["head_block"]["ulid"], v["head_block"]["ulid"], "{cv:#}");
    assert_eq!(cv["coverage_end"], v["head_block"]["max_time"], "{cv:#}");

    // A replica on a copy of ours serves the head's range as the primary.
    let replica = base.join("replica");
    copy_dir(&ours, &replica);
    let mut r = Server::launch("replica", base, NO_SCRAPE, &replica, &[]);
    let rport = r.port;
    let at = cutoff as f64 / 1000.0;
    for q in [
        "count_over_time(up[1m])",
        "count_over_time(prometheus_tsdb_head_series[1m])",
        "count({__name__=~\".+\"})",
        // The backfill may end on a 2 h line up to 8 min back (see
        // backfill_end_s): beyond an instant query's 5 min lookback.
        "last_over_time(snap_backfill[15m])",
    ] {
        let (mine, want) = (query(rport, q, at), query(port, q, at));
        assert!(!want.is_empty(), "{q}: the primary serves nothing");
        assert_eq!(mine, want, "{q} at {at}: replica vs primary");
    }
    let _ = r.stop(Duration::from_secs(10));
    let _ = primary.stop(Duration::from_secs(10));
}
