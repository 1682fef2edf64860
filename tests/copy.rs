//! `promsnap copy` on real Prometheus 2.42 data: idempotence, hazards, bad
//! input, SIGKILL at many points, and a real Prometheus 2.42 reading what
//! was copied.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::realserver::encode;
use crate::util::{copy_dir, promsnap, testdata};

const LIVE_SNAP: &str = "prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98";
const LIVE_SNAP_NO_HEAD: &str = "prom-2.42-live/data/snapshots/20261125T091235Z-7531d0e39246db15";
const BACKFILL: &str = "backfill-small/blocks/01M88Z547SWC2057Y39068VCCB";

// The `--json` document, strictly: any schema change breaks these structs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Report {
    src: PathBuf,
    dst: PathBuf,
    dry_run: bool,
    link: bool,
    copied: Vec<Block>,
    skipped: Vec<Block>,
    refused: Vec<Block>,
    failed: Vec<Block>,
    notices: Vec<Reason>,
    excluded: usize,
    bytes: u64,
    bytes_planned: u64,
    duration_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Block {
    ulid: String,
    src: PathBuf,
    min_time: Option<i64>,
    max_time: Option<i64>,
    bytes: u64,
    method: Option<String>,
    reasons: Vec<Reason>,
    warnings: Vec<Reason>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reason {
    code: String,
    message: String,
}

impl Report {
    fn ulids(v: &[Block]) -> Vec<&str> {
        v.iter().map(|b| b.ulid.as_str()).collect()
    }
    fn codes(v: &[Block], ulid: &str) -> Vec<String> {
        v.iter()
            .filter(|b| b.ulid == ulid)
            .flat_map(|b| b.reasons.iter().map(|r| r.code.clone()))
            .collect()
    }
    fn notice(&self, code: &str) -> bool {
        self.notices.iter().any(|n| n.code == code)
    }
}

pub(crate) fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs `promsnap copy --json ARGS`; returns the exit code and the report.
fn copy_json(args: &[&str]) -> (i32, Report, String) {
    let mut a = vec!["copy", "--json"];
    a.extend_from_slice(args);
    let out = promsnap(&a);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "copy {args:?}: bad JSON ({e}); exit {:?}\nstdout: {}\nstderr: {stderr}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code().unwrap_or(-1), report, stderr)
}

/// Every regular file under `dir` (relative path → bytes).
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut m = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(dir).unwrap().to_path_buf();
            m.insert(rel, std::fs::read(e.path()).unwrap());
        }
    }
    m
}

fn block_dirs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// Asserts `dst` holds exactly the blocks of `src` (byte for byte) and nothing else.
fn assert_complete(src: &Path, dst: &Path) {
    assert_eq!(block_dirs(src), block_dirs(dst), "{}", dst.display());
    assert_eq!(
        tree(src),
        tree(dst),
        "{} differs from the source",
        dst.display()
    );
}

/// Gives a copy of a real block a new ULID (directory name and meta.json),
/// keeping every data byte: a stand-in for a block re-made elsewhere.
fn reulid(block: &Path, into: &Path, ulid: &str, edit: impl Fn(&mut serde_json::Value)) -> PathBuf {
    let to = into.join(ulid);
    copy_dir(block, &to);
    let mp = to.join("meta.json");
    let mut meta: serde_json::Value = serde_json::from_slice(&std::fs::read(&mp).unwrap()).unwrap();
    meta["ulid"] = ulid.into();
    edit(&mut meta);
    std::fs::write(&mp, serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
    to
}

#[test]
fn copies_a_snapshot_and_a_rerun_skips_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let src = testdata(LIVE_SNAP);
    let dst = tmp.path().join("new/data");
    let before = tree(&src);

    let (code, r, err) = copy_json(&[s(&src), s(&dst), "--jobs", "2", "--reread-from-disk"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(r.copied.len(), 4);
    assert!(r.copied.iter().all(|b| b.method.as_deref() == Some("copy")));
    assert!(r.skipped.is_empty() && r.refused.is_empty() && r.failed.is_empty());
    assert_eq!(
        r.bytes,
        before.values().map(|v| v.len() as u64).sum::<u64>()
    );
    assert_complete(&src, &dst);

    // Idempotent: same blocks, same content -> skipped, exit 0, nothing written.
    let (code, r, err) = copy_json(&[s(&src), s(&dst)]);
    assert_eq!(code, 0, "{err}");
    assert!(r.copied.is_empty());
    assert_eq!(r.skipped.len(), 4);
    assert!(
        r.skipped
            .iter()
            .all(|b| b.reasons.iter().any(|x| x.code == "identical"))
    );
    // The snapshot without head: three of the same blocks, all skipped.
    let (code, r, _) = copy_json(&[s(&testdata(LIVE_SNAP_NO_HEAD)), s(&dst)]);
    assert_eq!((code, r.skipped.len(), r.copied.len()), (0, 3, 0));

    assert_complete(&src, &dst);
    assert_eq!(tree(&src), before, "the source changed");

    // Human output names every block and the totals.
    let out = promsnap(&["copy", s(&src), s(&dst)]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("0 copied (0 B), 4 skipped, 0 refused"),
        "{text}"
    );
}

#[test]
fn same_ulid_with_different_content_is_refused_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let src = testdata(LIVE_SNAP);
    let dst = tmp.path().join("data");
    let ulid = "01M88ZEAF15198PYN7F74NS04J";
    // The target has that ULID but with another block's files.
    copy_dir(&testdata(BACKFILL), &dst.join(ulid));
    let before = tree(&dst.join(ulid));
    let (code, r, err) = copy_json(&[s(&src), s(&dst), "--retention", "100y", "--allow-overlap"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(Report::codes(&r.refused, ulid), ["ulid_conflict"]);
    assert_eq!(r.copied.len(), 3);
    assert_eq!(tree(&dst.join(ulid)), before, "existing block modified");
}

#[test]
fn dry_run_writes_nothing_and_link_hard_links() {
    use std::os::unix::fs::MetadataExt;
    let tmp = tempfile::tempdir().unwrap();
    // Sources on the same filesystem as the target (the tempdir).
    let src = tmp.path().join("snap");
    copy_dir(&testdata(LIVE_SNAP), &src);
    let dst = tmp.path().join("data");

    let (code, r, _) = copy_json(&["--dry-run", "--link", s(&src), s(&dst)]);
    assert_eq!(code, 0);
    assert!(r.dry_run && r.link);
    assert_eq!(r.copied.len(), 4);
    assert_eq!(r.bytes, 0);
    assert!(r.bytes_planned > 0);
    assert!(!dst.exists(), "dry run created the target");

    let t = Instant::now();
    let (code, r, err) = copy_json(&["--link", s(&src), s(&dst)]);
    let took = t.elapsed();
    assert_eq!(code, 0, "{err}");
    assert!(r.copied.iter().all(|b| b.method.as_deref() == Some("link")));
    for (rel, _) in tree(&src) {
        let (a, b) = (
            std::fs::metadata(src.join(&rel)).unwrap(),
            std::fs::metadata(dst.join(&rel)).unwrap(),
        );
        assert_eq!((a.dev(), a.ino()), (b.dev(), b.ino()));
    }
    assert_complete(&src, &dst);
    eprintln!("--link of 4 blocks took {took:?} (process included)");
}

#[test]
fn time_and_block_filters_select_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let src = testdata(LIVE_SNAP);
    let dst = tmp.path().join("data");
    let (code, r, _) = copy_json(&[
        "--dry-run",
        s(&src),
        s(&dst),
        "--min-time",
        "2026-11-25T09:07:00Z",
        "--max-time",
        "2026-11-25T09:09:00Z",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        Report::ulids(&r.copied),
        ["01M88ZEAF15198PYN7F74NS04J", "01M88ZHZN1XRWVWM1RH4GVHSAJ"]
    );
    assert_eq!(r.excluded, 2);
    let (code, r, _) = copy_json(&[s(&src), s(&dst), "--block", "01M88ZMVFVAB1KCQ879EMPTBEN"]);
    assert_eq!(code, 0);
    assert_eq!(Report::ulids(&r.copied), ["01M88ZMVFVAB1KCQ879EMPTBEN"]);
    assert_eq!(block_dirs(&dst), ["01M88ZMVFVAB1KCQ879EMPTBEN"]);
    // An unknown ULID is a usage error.
    let out = promsnap(&[
        "copy",
        s(&src),
        s(&dst),
        "--block",
        "01M88ZMVFVAB1KCQ879EMPTBEZ",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn overlap_with_target_blocks_is_refused_unless_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("data");
    std::fs::create_dir(&dst).unwrap();
    // The target already holds the backfill block's data under another ULID,
    // made from the same source (e.g. a re-run of the backfill elsewhere).
    reulid(
        &testdata(BACKFILL),
        &dst,
        "01M88Z547SWC2057Y39068VCCC",
        |_| {},
    );
    let src = testdata(BACKFILL);
    let (code, r, _) = copy_json(&[s(&src), s(&dst)]);
    assert_eq!(code, 1);
    let b = &r.refused[0];
    assert_eq!(b.reasons[0].code, "overlap");
    assert!(
        b.reasons[0].message.contains("vertical compaction"),
        "{b:?}"
    );
    assert!(b.reasons[0].message.contains("duplicates"), "{b:?}");
    assert_eq!(block_dirs(&dst), ["01M88Z547SWC2057Y39068VCCC"]);

    let (code, r, _) = copy_json(&["--allow-overlap", s(&src), s(&dst)]);
    assert_eq!(code, 0);
    assert_eq!(r.copied[0].warnings[0].code, "overlap_allowed");
    assert_eq!(block_dirs(&dst).len(), 2);
}

#[test]
fn head_overlap_against_a_real_data_dir() {
    // The live server's own data dir (blocks + wal/ + chunks_head/), and its
    // snapshot with head: three blocks are already there, the head block
    // overlaps the WAL the server would replay.
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("data");
    copy_dir(&testdata("prom-2.42-live/data"), &dst);
    std::fs::remove_dir_all(dst.join("snapshots")).unwrap();
    let (code, r, _) = copy_json(&[s(&testdata(LIVE_SNAP)), s(&dst)]);
    assert_eq!(code, 1);
    assert_eq!(r.skipped.len(), 3);
    assert_eq!(
        Report::codes(&r.refused, "01M88ZMVFVAB1KCQ879EMPTBEN"),
        ["head_overlap"]
    );
    assert!(r.notice("target_head"));
    // Copying a data dir warns that its head is not copied.
    let other = tmp.path().join("other");
    let (_, r, _) = copy_json(&["--dry-run", s(&dst), s(&other)]);
    assert!(r.notice("wal_not_copied"));
    // Without wal/ and chunks_head/ there is no head to leave behind: no
    // notice says one was not copied.
    std::fs::remove_dir_all(dst.join("wal")).unwrap();
    std::fs::remove_dir_all(dst.join("chunks_head")).unwrap();
    let (_, r, _) = copy_json(&["--dry-run", s(&dst), s(&other)]);
    assert!(!r.notice("wal_not_copied"));
}

#[test]
fn parents_deletable_and_retention_hazards() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = testdata(LIVE_SNAP);
    // Target: holds a block with the ULID of a parent of the level-2 block.
    let dst = tmp.path().join("data");
    std::fs::create_dir(&dst).unwrap();
    reulid(
        &snap.join("01M88ZHZN1XRWVWM1RH4GVHSAJ"),
        &dst,
        "01M88ZAE2K7Z90T01WSVK8A74N",
        |_| {},
    );
    // Source: the level-2 block, a deletable block, and a block two years old.
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).unwrap();
    copy_dir(
        &snap.join("01M88ZHZPXFRQK5144XJKD707B"),
        &src.join("01M88ZHZPXFRQK5144XJKD707B"),
    );
    reulid(
        &snap.join("01M88ZEAF15198PYN7F74NS04J"),
        &src,
        "01M88ZEAF15198PYN7F74NS04K",
        |m| m["compaction"]["deletable"] = true.into(),
    );
    copy_dir(&testdata(BACKFILL), &src.join("01M88Z547SWC2057Y39068VCCB"));
    let (code, r, _) = copy_json(&[s(&src), s(&dst)]);
    assert_eq!(code, 1);
    assert!(r.copied.is_empty());
    assert_eq!(
        Report::codes(&r.refused, "01M88ZHZPXFRQK5144XJKD707B"),
        ["deletes_dst_blocks"]
    );
    assert_eq!(
        Report::codes(&r.refused, "01M88ZEAF15198PYN7F74NS04K"),
        ["deletable"]
    );
    assert_eq!(
        Report::codes(&r.refused, "01M88Z547SWC2057Y39068VCCB"),
        ["retention"]
    );
    assert!(r.notice("retention_default"));
    // A long enough retention lets the old block through.
    let (_, r, _) = copy_json(&["--dry-run", "--retention", "2y", s(&src), s(&dst)]);
    assert_eq!(Report::ulids(&r.copied), ["01M88Z547SWC2057Y39068VCCB"]);
    assert_eq!(block_dirs(&dst), ["01M88ZAE2K7Z90T01WSVK8A74N"]);
}

/// Bytes of the regular files under `dir` (what Prometheus counts for a
/// block of index, tombstones, meta.json and chunks/NNNNNN, and for its WAL
/// and chunks_head/).
fn bytes_under(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.metadata().unwrap().len())
        .sum()
}

fn reason<'a>(v: &'a [Block], ulid: &str) -> &'a str {
    v.iter()
        .find(|b| b.ulid == ulid)
        .and_then(|b| b.reasons.first())
        .map_or("", |r| r.message.as_str())
}

#[test]
fn time_retention_deletes_a_block_exactly_at_the_limit() {
    // The snapshot's newest block ends at 1795597954511, its oldest
    // (01M88ZHZPX…, level 2) at 1795597560000: 394511 ms older. Prometheus
    // (2.52 and later) deletes a block whose maxTime is the retention or
    // more older than the newest block's.
    let tmp = tempfile::tempdir().unwrap();
    let src = testdata(LIVE_SNAP);
    let dst = tmp.path().join("data");
    let oldest = "01M88ZHZPXFRQK5144XJKD707B";
    for (retention, refused) in [("394510ms", true), ("394511ms", true), ("394512ms", false)] {
        let (code, r, err) = copy_json(&["--dry-run", "--retention", retention, s(&src), s(&dst)]);
        if refused {
            assert_eq!(code, 1, "{err}");
            assert_eq!(Report::codes(&r.refused, oldest), ["retention"]);
            assert_eq!(r.copied.len(), 3);
            let exact = reason(&r.refused, oldest).contains("exactly");
            assert_eq!(
                exact,
                retention == "394511ms",
                "{}",
                reason(&r.refused, oldest)
            );
        } else {
            assert_eq!(code, 0, "{err}");
            assert_eq!(r.copied.len(), 4);
        }
        assert!(!r.notice("retention_default"));
    }
    assert!(!dst.exists());
}

#[test]
fn size_retention_counts_the_head_and_refuses_what_prometheus_deletes() {
    // Target: the live server's wal/ and chunks_head/ (its head) and an old
    // block; source: the snapshot's four blocks. Prometheus adds the head's
    // bytes, then the blocks newest first; the block that takes the total
    // over the limit goes, and every older one.
    let tmp = tempfile::tempdir().unwrap();
    let live = testdata("prom-2.42-live/data");
    let dst = tmp.path().join("data");
    copy_dir(&live.join("wal"), &dst.join("wal"));
    copy_dir(&live.join("chunks_head"), &dst.join("chunks_head"));
    copy_dir(&testdata(BACKFILL), &dst.join("01M88Z547SWC2057Y39068VCCB"));
    let src = testdata(LIVE_SNAP);
    let head = bytes_under(&dst.join("wal")) + bytes_under(&dst.join("chunks_head"));
    let size = |ulid: &str| bytes_under(&src.join(ulid));
    // Newest maxTime first.
    let newest_first = [
        "01M88ZMVFVAB1KCQ879EMPTBEN",
        "01M88ZHZN1XRWVWM1RH4GVHSAJ",
        "01M88ZEAF15198PYN7F74NS04J",
        "01M88ZHZPXFRQK5144XJKD707B",
    ];
    let copied: u64 = newest_first.iter().map(|u| size(u)).sum();
    let all = head + copied + bytes_under(&dst.join("01M88Z547SWC2057Y39068VCCB"));
    let run = |limit: u64| {
        let limit = format!("{limit}B");
        // The head overlaps the snapshot: --allow-overlap makes that a warning.
        copy_json(&[
            "--dry-run",
            "--allow-overlap",
            "--retention-size",
            &limit,
            s(&src),
            s(&dst),
        ])
    };
    // Everything fits, exactly.
    let (code, r, err) = run(all);
    assert_eq!(code, 0, "{err}");
    assert_eq!(r.copied.len(), 4);
    assert!(!r.notice("dst_size_retention") && !r.notice("retention_default"));
    // One byte less: the old target block would be deleted once the copies load.
    let (code, r, err) = run(all - 1);
    assert_eq!(code, 0, "{err}");
    assert_eq!(r.copied.len(), 4);
    assert!(r.notice("dst_size_retention"));
    // Room for the head and the three newest blocks exactly: the oldest
    // copied block is refused (it would go at once). The target block is
    // beyond that limit already without the copies: no notice.
    let (code, r, err) = run(head + copied - size(newest_first[3]));
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        Report::codes(&r.refused, newest_first[3]),
        ["size_retention"]
    );
    assert_eq!(r.copied.len(), 3);
    assert!(!r.notice("dst_size_retention"));
    // Less than the head and the newest block: nothing would survive.
    let (code, r, err) = run(head + size(newest_first[0]) - 1);
    assert_eq!(code, 1, "{err}");
    assert!(r.copied.is_empty());
    assert_eq!(r.refused.len(), 4);
    let msg = reason(&r.refused, newest_first[0]);
    assert!(
        msg.contains("size retention") && msg.contains("head"),
        "{msg}"
    );
    // Prometheus' units: powers of 1024, a unit required.
    let (code, r, err) = copy_json(&[
        "--dry-run",
        "--allow-overlap",
        "--retention-size",
        "1KB",
        s(&src),
        s(&dst),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(reason(&r.refused, newest_first[0]).contains("more than the size retention of 1KiB"));
    for bad in ["512", "1kB", "1GiB512MB", "-1GB"] {
        let out = promsnap(&["copy", "--retention-size", bad, s(&src), s(&dst)]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("invalid size"), "{bad}: {err}");
    }
    // Nothing was written.
    assert_eq!(
        block_dirs(&dst),
        ["01M88Z547SWC2057Y39068VCCB", "chunks_head", "wal"]
    );
}

#[test]
fn damaged_source_blocks_are_refused_and_the_others_copied() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("snap");
    copy_dir(&testdata(LIVE_SNAP), &src);
    // meta.json that does not parse.
    std::fs::write(
        src.join("01M88ZEAF15198PYN7F74NS04J/meta.json"),
        b"{\"ulid\": ",
    )
    .unwrap();
    // A flipped byte inside a chunk (caught by the full source verification).
    let chunk = src.join("01M88ZHZN1XRWVWM1RH4GVHSAJ/chunks/000001");
    let mut bytes = std::fs::read(&chunk).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x40;
    std::fs::write(&chunk, bytes).unwrap();
    let dst = tmp.path().join("data");
    let before = tree(&src);
    let (code, r, err) = copy_json(&[s(&src), s(&dst)]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        Report::codes(&r.refused, "01M88ZEAF15198PYN7F74NS04J"),
        ["unreadable"]
    );
    assert_eq!(
        Report::codes(&r.refused, "01M88ZHZN1XRWVWM1RH4GVHSAJ"),
        ["damaged"]
    );
    assert_eq!(r.copied.len(), 2);
    assert!(
        r.copied
            .iter()
            .any(|b| b.ulid == "01M88ZMVFVAB1KCQ879EMPTBEN")
    );
    // Nothing of the refused blocks is in the target, not even a tmp dir.
    let present = block_dirs(&dst);
    assert!(
        !present.iter().any(|n| n.starts_with("01M88ZEAF1")),
        "{present:?}"
    );
    assert!(!present.iter().any(|n| n.ends_with(".tmp-for-creation")));
    assert_eq!(tree(&src), before);

    // --verify quick checks every chunk's CRC: the flip is still refused.
    let quick = tmp.path().join("quick");
    let (code, r, err) = copy_json(&[s(&src), s(&quick), "--verify", "quick"]);
    assert_eq!(code, 1, "{err}");
    assert!(r.notice("verified_quick"));
    assert_eq!(
        Report::codes(&r.refused, "01M88ZHZN1XRWVWM1RH4GVHSAJ"),
        ["damaged"]
    );
    // --verify none trusts the source and says so: the damaged chunk file
    // lands as it is (byte for byte), the unparsable meta.json is still refused.
    let none = tmp.path().join("none");
    let (code, r, err) = copy_json(&[s(&src), s(&none), "--verify", "none"]);
    assert_eq!(code, 1, "{err}");
    assert!(r.notice("not_verified"));
    assert!(
        r.copied
            .iter()
            .any(|b| b.ulid == "01M88ZHZN1XRWVWM1RH4GVHSAJ")
    );
    assert_eq!(
        std::fs::read(none.join("01M88ZHZN1XRWVWM1RH4GVHSAJ/chunks/000001")).unwrap(),
        std::fs::read(&chunk).unwrap()
    );
    assert_eq!(tree(&src), before);
}

#[test]
fn bad_targets_and_sources_are_clear_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let src = testdata(LIVE_SNAP);
    let file = tmp.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                tmp.path().join("missing").display().to_string(),
                tmp.path().join("d1").display().to_string(),
            ],
            "No such file",
        ),
        (
            vec![src.display().to_string(), file.display().to_string()],
            "not a directory",
        ),
        (
            vec![
                src.display().to_string(),
                file.join("sub").display().to_string(),
            ],
            "not a directory",
        ),
        (
            vec![
                src.display().to_string(),
                src.join("01M88ZEAF15198PYN7F74NS04J").display().to_string(),
            ],
            "is a block directory",
        ),
    ];
    for (args, want) in cases {
        let mut a = vec!["copy".to_string()];
        a.extend(args);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let out = promsnap(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{a:?}: {err}");
        assert!(err.contains(want), "{a:?}: {err}");
        assert!(out.stdout.is_empty());
    }
    assert!(!tmp.path().join("d1").exists());

    // An unwritable target: an existing directory nobody may write into (a
    // read-only dir for ordinary users; /proc for root, who ignores modes).
    let ro = tmp.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let dst = if unsafe { libc::geteuid() } == 0 {
        PathBuf::from("/proc/1/promsnap-copy-test")
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        ro.join("data")
    };
    let out = promsnap(&["copy", s(&src), s(&dst)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(s(&dst)), "{err}");
    assert!(!dst.exists());
}

#[test]
fn an_io_failure_on_one_block_is_exit_2_and_leaves_nothing_half_written() {
    let tmp = tempfile::tempdir().unwrap();
    let src = testdata(LIVE_SNAP);
    let dst = tmp.path().join("data");
    std::fs::create_dir(&dst).unwrap();
    // A regular file where the block's tmp dir must go: creating it fails.
    let blocker = dst.join("01M88ZEAF15198PYN7F74NS04J.tmp-for-creation");
    std::fs::write(&blocker, b"not ours").unwrap();
    let (code, r, err) = copy_json(&[s(&src), s(&dst)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("could not be copied"), "{err}");
    assert_eq!(Report::ulids(&r.failed), ["01M88ZEAF15198PYN7F74NS04J"]);
    assert_eq!(r.failed[0].reasons[0].code, "io");
    assert_eq!(r.copied.len(), 3);
    assert!(!dst.join("01M88ZEAF15198PYN7F74NS04J").exists());
    assert_eq!(std::fs::read(&blocker).unwrap(), b"not ours");
    // Once the obstacle is gone, a re-run copies the missing block.
    std::fs::remove_file(&blocker).unwrap();
    let (code, r, _) = copy_json(&[s(&src), s(&dst)]);
    assert_eq!((code, r.copied.len(), r.skipped.len()), (0, 1, 3));
    assert_complete(&src, &dst);
}

// ---------------------------------------------------------------------------
// SIGKILL at many points.

/// What a killed run may leave: complete blocks equal to the source, and
/// `<ULID>.tmp-for-creation` directories. Returns (blocks, tmp dirs, partial files seen).
fn assert_only_complete_blocks(src: &Path, dst: &Path) -> (usize, usize, usize) {
    if !dst.exists() {
        return (0, 0, 0);
    }
    let (mut blocks, mut tmps, mut partial) = (0, 0, 0);
    for name in block_dirs(dst) {
        if let Some(u) = name.strip_suffix(".tmp-for-creation") {
            tmps += 1;
            let want = tree(&src.join(u));
            for (rel, bytes) in tree(&dst.join(&name)) {
                let full = &want[&rel];
                assert!(
                    full.starts_with(&bytes),
                    "{name}/{}: not a prefix of the source",
                    rel.display()
                );
                partial += usize::from(bytes.len() < full.len());
            }
            continue;
        }
        assert!(
            src.join(&name).is_dir(),
            "unexpected entry {name} in the target"
        );
        assert_eq!(
            tree(&src.join(&name)),
            tree(&dst.join(&name)),
            "block {name} in the target is not complete"
        );
        blocks += 1;
    }
    (blocks, tmps, partial)
}

fn spawn_copy(src: &Path, dst: &Path, env: &[(&str, &str)]) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_promsnap"));
    c.args(["copy", "--jobs", "2", s(src), s(dst)])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().expect("spawn promsnap")
}

fn rerun_completes(src: &Path, dst: &Path) -> Report {
    let (code, r, err) = copy_json(&[s(src), s(dst)]);
    assert_eq!(code, 0, "re-run failed: {err}");
    assert_complete(src, dst);
    r
}

#[test]
fn sigkill_at_many_points_leaves_only_complete_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let src = testdata(LIVE_SNAP);
    let before = tree(&src);
    let throttle = [("PROMSNAP_TEST_THROTTLE_US", "15000")];

    // How long a throttled run takes, to spread the kills over it.
    let t = Instant::now();
    let out = spawn_copy(&src, &tmp.path().join("timing"), &throttle)
        .wait_with_output()
        .unwrap();
    assert!(out.status.success());
    let full = t.elapsed();

    const KILLS: u32 = 24;
    let (mut partial_files, mut with_blocks, mut with_tmp) = (0, 0, 0);
    for i in 0..KILLS {
        let dst = tmp.path().join(format!("k{i}"));
        let mut child = spawn_copy(&src, &dst, &throttle);
        std::thread::sleep(full.mul_f64((f64::from(i) + 0.5) / f64::from(KILLS)));
        child.kill().unwrap();
        child.wait().unwrap();
        let (b, t, p) = assert_only_complete_blocks(&src, &dst);
        partial_files += p;
        with_blocks += usize::from(b > 0);
        with_tmp += usize::from(t > 0);
        rerun_completes(&src, &dst);
    }
    eprintln!(
        "{KILLS} kills over {full:?}: {with_blocks} left complete blocks, {with_tmp} left tmp \
         dirs, {partial_files} partial files"
    );
    assert!(partial_files > 0, "no kill landed mid-file");
    assert!(with_blocks > 0 && with_tmp > 0);

    // Kills at named points, the last one between the rename and the fsync of the target.
    for point in ["tmp_created", "before_rename", "after_rename"] {
        let dst = tmp.path().join(point);
        let mut child = spawn_copy(&src, &dst, &[("PROMSNAP_TEST_PAUSE_AT", point)]);
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        assert!(line.contains(&format!("test pause at {point}")), "{line}");
        child.kill().unwrap();
        child.wait().unwrap();
        let (b, t, _) = assert_only_complete_blocks(&src, &dst);
        let r = rerun_completes(&src, &dst);
        match point {
            "after_rename" => assert!(b >= 1, "{point}: renamed block missing"),
            _ => {
                assert!(t >= 1, "{point}: tmp dir missing");
                assert!(r.notice("leftover"), "{point}: {:?}", r.notices);
            }
        }
    }
    assert_eq!(tree(&src), before, "the source changed");
}

// ---------------------------------------------------------------------------
// A real Prometheus 2.42 on the seeded directory.

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    })
}

/// Kills the server when dropped, whatever happens in the test.
pub(crate) struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub(crate) fn start(bin: &Path, data: &Path, work: &Path) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cfg = work.join("prometheus.yml");
        std::fs::write(&cfg, "global:\n  scrape_interval: 1h\nscrape_configs: []\n").unwrap();
        let log = work.join("prometheus.log");
        let child = Command::new(bin)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg("--storage.tsdb.retention.time=100y")
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start prometheus");
        let mut srv = Server { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok((200, _)) = srv.get("/-/ready") {
                return srv;
            }
            if let Ok(Some(st)) = srv.child.try_wait() {
                panic!("prometheus exited ({st}): {}", srv.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "prometheus not ready: {}",
                srv.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A plain HTTP/1.0 GET on loopback.
    fn get(&self, path: &str) -> std::io::Result<(u16, String)> {
        let mut c = TcpStream::connect(("127.0.0.1", self.port))?;
        c.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(c, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut resp = String::new();
        c.read_to_string(&mut resp)?;
        let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
        let code = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        Ok((code, body.to_string()))
    }

    fn api(&self, path: &str, params: &[(&str, &str)]) -> serde_json::Value {
        let q: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let (code, body) = self.get(&format!("{path}?{}", q.join("&"))).unwrap();
        assert_eq!(code, 200, "{path}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], "success", "{body}");
        v["data"].clone()
    }
}

pub(crate) fn prometheus_or_skip() -> Option<PathBuf> {
    match find_on_path("prometheus") {
        Some(p) => Some(p),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("prometheus is not on PATH (CI installs it with apt-get install prometheus)")
        }
        None => {
            eprintln!("SKIPPED: prometheus is not on PATH (apt-get install prometheus)");
            None
        }
    }
}

/// Series and samples that `promsnap dump` reads from `src`.
pub(crate) fn dump_counts(src: &Path) -> (usize, usize, i64, i64) {
    let out: Output = promsnap(&["dump", s(src)]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut series = BTreeSet::new();
    let (mut samples, mut lo, mut hi) = (0, i64::MAX, i64::MIN);
    for line in text.lines() {
        let i = line.rfind("} ").unwrap();
        series.insert(&line[..=i]);
        let t: i64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        lo = lo.min(t);
        hi = hi.max(t);
        samples += 1;
    }
    (series.len(), samples, lo, hi)
}

#[test]
fn real_prometheus_serves_what_was_copied() {
    let Some(bin) = prometheus_or_skip() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = testdata(LIVE_SNAP);
    let data = tmp.path().join("data");
    let (code, r, err) = copy_json(&[s(&src), s(&data), "--retention", "100y"]);
    assert_eq!((code, r.copied.len()), (0, 4), "{err}");

    let (want_series, want_samples, lo, hi) = dump_counts(&src);
    let srv = Server::start(&bin, &data, tmp.path());
    let start = format!("{:.3}", lo as f64 / 1000.0);
    let end = format!("{:.3}", hi as f64 / 1000.0);
    let series = srv.api(
        "/api/v1/series",
        &[
            ("match[]", "{__name__=~\".+\"}"),
            ("start", &start),
            ("end", &end),
        ],
    );
    let got = raw_sample_counts(&srv, lo, hi);
    assert_eq!(series.as_array().unwrap().len(), want_series);
    assert_eq!(got.len(), want_series);
    assert_eq!(
        got.values().sum::<usize>(),
        want_samples,
        "samples over [{lo}, {hi}]"
    );

    // While it runs: a block that duplicates one of the seeded blocks' data
    // under another ULID is refused as an overlap, and the running server is
    // noticed (it holds the target's files open).
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    reulid(
        &src.join("01M88ZEAF15198PYN7F74NS04J"),
        &other,
        "01M88ZEAF15198PYN7F74NS04K",
        |_| {},
    );
    let (code, r, _) = copy_json(&["--retention", "100y", s(&other), s(&data)]);
    assert_eq!(code, 1);
    assert_eq!(
        Report::codes(&r.refused, "01M88ZEAF15198PYN7F74NS04K"),
        ["overlap"]
    );
    assert!(r.notice("prometheus_running"), "{:?}", r.notices);
    drop(srv);

    // Copied anyway, the duplicate is merged by Prometheus: after a restart
    // it loads both blocks and serves exactly the same samples.
    let (code, r, _) = copy_json(&[
        "--allow-overlap",
        "--retention",
        "100y",
        s(&other),
        s(&data),
    ]);
    assert_eq!((code, r.copied.len()), (0, 1));
    let srv = Server::start(&bin, &data, tmp.path());
    let again = raw_sample_counts(&srv, lo, hi);
    assert_eq!(
        again, got,
        "samples after copying an overlapping duplicate block"
    );
    let (_, metrics) = srv.get("/metrics").unwrap();
    let loaded = metrics
        .lines()
        .find_map(|l| l.strip_prefix("prometheus_tsdb_blocks_loaded "))
        .unwrap_or("?");
    eprintln!("after --allow-overlap: prometheus_tsdb_blocks_loaded {loaded}");
    assert_eq!(loaded, "5", "{}", srv.log_text());
    drop(srv);
}

/// Per series (labels as text), the raw samples the server returns for
/// `[lo, hi]`: a range-vector instant query over everything.
pub(crate) fn raw_sample_counts(srv: &Server, lo: i64, hi: i64) -> BTreeMap<String, usize> {
    // Every raw sample in the range, as a range-vector instant query.
    let q = format!("{{__name__=~\".+\"}}[{}ms]", hi - lo + 1);
    let end = format!("{:.3}", hi as f64 / 1000.0);
    let v = srv.api("/api/v1/query", &[("query", &q), ("time", &end)]);
    let mut got: BTreeMap<String, usize> = BTreeMap::new();
    for m in v["result"].as_array().unwrap() {
        let labels: Vec<String> = m["metric"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        got.insert(labels.join(","), m["values"].as_array().unwrap().len());
    }
    got
}

/// An option the library refuses is named by its meaning in the library's
/// error, and the CLI leads it with the flag the user typed: exit 2,
/// nothing written.
#[test]
fn refused_options_are_named_by_their_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("dst");
    let src = testdata("prom-2.42-live/data");
    let out = promsnap(&[
        "copy",
        src.to_str().unwrap(),
        dst.to_str().unwrap(),
        "--block",
        "01ZZZZZZZZZZZZZZZZZZZZZZZZ",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("promsnap: --block: block 01ZZZZZZZZZZZZZZZZZZZZZZZZ: no such block in "),
        "{err}"
    );
    assert!(!dst.exists());
    let snap = testdata("prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98");
    let out = promsnap(&[
        "coverage",
        snap.to_str().unwrap(),
        "--receiver-rejects",
        "200",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("promsnap: --receiver-rejects: the receiver's reject status 200:"),
        "{err}"
    );
}

/// The warnings and notices of hazards inside the source: two source blocks
/// over the same range, hard links asked for across filesystems, and the
/// target's head reached into with overlaps allowed.
#[test]
fn source_overlap_link_fallback_and_allowed_head_overlap_are_warned() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = testdata(LIVE_SNAP);
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let b1 = "01M88ZHZPXFRQK5144XJKD707B";
    copy_dir(&snap.join(b1), &src.join(b1));
    let twin = "01M88ZHZPXFRQK5144XJKD707C";
    reulid(&snap.join(b1), &src, twin, |_| {});
    let dst = tmp.path().join("dst");
    let (code, r, _) = copy_json(&["--dry-run", s(&src), s(&dst)]);
    assert_eq!(code, 0);
    assert_eq!(Report::ulids(&r.copied), [b1, twin]);
    let w: Vec<&Reason> = r.copied.iter().flat_map(|b| &b.warnings).collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].code, "source_overlap");
    assert!(w[0].message.contains(twin), "{}", w[0].message);
    assert!(!r.notice("link_fallback"));

    // --link into another filesystem (tmpfs /dev/shm) copies, with a notice;
    // on the same filesystem it links without one.
    let (_, r, _) = copy_json(&["--dry-run", "--link", s(&src), s(&dst)]);
    assert!(!r.notice("link_fallback"));
    assert!(r.link);
    let dev = |p: &Path| std::os::unix::fs::MetadataExt::dev(&std::fs::metadata(p).unwrap());
    let shm = Path::new("/dev/shm");
    if shm.is_dir() && dev(shm) != dev(tmp.path()) {
        let other = tempfile::tempdir_in(shm).unwrap();
        let to = other.path().join("dst");
        let (code, r, _) = copy_json(&["--dry-run", "--link", s(&src), s(&to)]);
        assert_eq!(code, 0);
        assert!(r.notice("link_fallback"), "{:?}", r.notices);
        assert!(!r.link);
    } else {
        eprintln!("SKIPPED link_fallback: no /dev/shm on another filesystem");
    }

    // The head overlap of head_overlap_against_a_real_data_dir, allowed:
    // copied with a warning.
    let data = tmp.path().join("data");
    copy_dir(&testdata("prom-2.42-live/data"), &data);
    std::fs::remove_dir_all(data.join("snapshots")).unwrap();
    let (code, r, _) = copy_json(&["--dry-run", "--allow-overlap", s(&snap), s(&data)]);
    assert_eq!(code, 0);
    let head = r
        .copied
        .iter()
        .find(|b| b.ulid == "01M88ZMVFVAB1KCQ879EMPTBEN")
        .unwrap();
    let codes: Vec<&str> = head.warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(codes, ["head_overlap_allowed"]);
}

/// Blocks Prometheus would drop at once are refused: a directory whose
/// meta.json names another ULID, a block a copied block names as its
/// compaction parent, and a block a target block names as its parent.
#[test]
fn ulid_mismatch_and_parents_deleted_at_load_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = testdata(LIVE_SNAP);
    let (b0, b2) = ("01M88ZEAF15198PYN7F74NS04J", "01M88ZHZN1XRWVWM1RH4GVHSAJ");
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).unwrap();
    // meta.json says 01M88ZEAF15198PYN7F74NS04J, the directory another ULID.
    let renamed = "01M88ZEAF15198PYN7F74NS04K";
    copy_dir(&snap.join(b0), &src.join(renamed));
    // A block, and a child naming it as a compaction parent.
    copy_dir(&snap.join(b2), &src.join(b2));
    let meta2: serde_json::Value =
        serde_json::from_slice(&std::fs::read(snap.join(b2).join("meta.json")).unwrap()).unwrap();
    let child = "01M88ZHZN1XRWVWM1RH4GVHSAK";
    reulid(&snap.join(b2), &src, child, |m| {
        m["compaction"]["level"] = 2.into();
        m["compaction"]["parents"] = serde_json::json!([{
            "ulid": b2,
            "minTime": meta2["minTime"],
            "maxTime": meta2["maxTime"],
        }]);
    });
    let dst = tmp.path().join("dst");
    let (code, r, _) = copy_json(&["--dry-run", "--allow-overlap", s(&src), s(&dst)]);
    assert_eq!(code, 1);
    assert_eq!(Report::codes(&r.refused, renamed), ["ulid_mismatch"]);
    assert!(reason(&r.refused, renamed).contains(b0));
    assert_eq!(Report::codes(&r.refused, b2), ["deleted_as_parent"]);
    assert!(reason(&r.refused, b2).contains(child));
    assert!(Report::ulids(&r.copied).contains(&child));

    // The target holds the child: copying the parent into it is refused.
    let dst = tmp.path().join("dst2");
    std::fs::create_dir(&dst).unwrap();
    copy_dir(&src.join(child), &dst.join(child));
    std::fs::remove_dir_all(src.join(child)).unwrap();
    std::fs::remove_dir_all(src.join(renamed)).unwrap();
    let (code, r, _) = copy_json(&["--dry-run", "--allow-overlap", s(&src), s(&dst)]);
    assert_eq!(code, 1);
    assert_eq!(Report::codes(&r.refused, b2), ["deleted_by_dst"]);
    assert!(reason(&r.refused, b2).contains(child));
}

/// A source block deleted between the plan and the copy (what a running
/// Prometheus' compaction does) is refused as vanished, not as damaged or
/// failed, and the others are copied.
#[test]
fn a_source_block_deleted_after_the_plan_is_source_vanished() {
    use promsnap::copy::{self, CopyOptions};
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    copy_dir(&testdata(LIVE_SNAP_NO_HEAD), &src);
    let dst = tmp.path().join("dst");
    let opts = CopyOptions::default();
    let plan = copy::plan(&src, &dst, &opts).unwrap();
    let gone = "01M88ZHZN1XRWVWM1RH4GVHSAJ";
    std::fs::remove_dir_all(src.join(gone)).unwrap();
    let r = copy::execute(&plan, &opts, &copy::NoProgress).unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    assert_eq!(r.refused.len(), 1, "{:?}", r.refused);
    assert_eq!(r.refused[0].ulid, gone);
    let codes: Vec<&str> = r.refused[0]
        .reasons
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(codes, ["source_vanished"]);
    assert_eq!(r.copied.len(), 2);
    assert_eq!(block_dirs(&dst).len(), 2);
}
