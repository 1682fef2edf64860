//! `verify` on what cannot be read, what vanishes while it is read and what
//! a flipped bit leaves that no CRC covers: real Prometheus 2.42 files with
//! one entry replaced. The tests run as root, whom `chmod` does not stop:
//! what root cannot read either stands in, a directory (or a symlink to one)
//! where a file is expected (EISDIR), a regular file where a directory is
//! expected (ENOTDIR), a symlink whose target is gone (listed, then not
//! found: a file deleted between the listing and the read).

use std::os::unix::fs::symlink;

use promsnap::check::FindingCode;
use promsnap::check::wal::{verify_chunks_head, verify_wal_dir};

use crate::util::{copy_dir, testdata};
use crate::verify::{BLOCK, expect, snapshot_copy, verify_json};

/// A copy of the stopped live data dir (blocks, `wal/`, `chunks_head/`).
fn data_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    copy_dir(&testdata("prom-2.42-live/data"), &dir);
    std::fs::remove_dir_all(dir.join("snapshots")).unwrap();
    (tmp, dir)
}

#[test]
fn a_directory_in_place_of_meta_json_is_file_unreadable() {
    let (_t, dir) = snapshot_copy();
    let meta = dir.join(BLOCK).join("meta.json");
    std::fs::remove_file(&meta).unwrap();
    std::fs::create_dir(&meta).unwrap();
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    let f = expect(
        &v,
        "file_unreadable",
        "error",
        &format!("{BLOCK}/meta.json"),
        None,
    );
    let m = f["message"].as_str().unwrap();
    assert!(m.contains("directory"), "{m}");
    // Not a missing file: it is there, it cannot be read.
    let missing = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "file_missing")
        .count();
    assert_eq!(missing, 0, "{v:#}");
}

/// A WAL segment and head chunk files that cannot be read, one deleted
/// between the listing and the read, the newest head chunk file empty as
/// an abrupt shutdown leaves it, and a WAL fragment's type byte with a
/// reserved bit set (its CRC covers only the data, so it still matches).
#[test]
fn wal_and_head_chunk_files_unreadable_vanished_empty_and_odd_flags() {
    let (_t, dir) = data_copy();
    let elsewhere = dir.join("wal/checkpoint.00000001");
    symlink(&elsewhere, dir.join("wal/00000005")).unwrap();
    let seg = dir.join("wal/00000002");
    let mut b = std::fs::read(&seg).unwrap();
    // Full record (1), snappy (8): the reserved bit 0x40 set.
    assert_eq!(
        b[0] & 0x07,
        1,
        "the segment does not start with a full record"
    );
    b[0] |= 0x40;
    std::fs::write(&seg, b).unwrap();
    symlink(&elsewhere, dir.join("chunks_head/000005")).unwrap();
    symlink(dir.join("gone"), dir.join("chunks_head/000006")).unwrap();
    std::fs::write(dir.join("chunks_head/000007"), b"").unwrap();

    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    let f = expect(&v, "wal_segment_unreadable", "error", "wal/00000005", None);
    assert!(f["message"].as_str().unwrap().contains("directory"), "{f}");
    let f = expect(&v, "wal_fragment_flags", "warning", "wal/00000002", Some(0));
    assert!(
        f["message"].as_str().unwrap().starts_with("1 fragment"),
        "{f}"
    );
    let f = expect(
        &v,
        "head_chunk_unreadable",
        "error",
        "chunks_head/000005",
        None,
    );
    assert!(f["message"].as_str().unwrap().contains("directory"), "{f}");
    expect(
        &v,
        "head_chunk_file_deleted_during_read",
        "info",
        "chunks_head/000006",
        None,
    );
    expect(
        &v,
        "head_chunk_file_deleted_on_startup",
        "warning",
        "chunks_head/000007",
        None,
    );
    // The rest of the WAL is read as before: its segments are not unreadable.
    let unreadable: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "wal_segment_unreadable")
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(unreadable, ["wal/00000005"]);
}

/// A `wal/`, `wbl/` or `chunks_head/` path that cannot be listed (a file,
/// not a directory) is one error naming it, never a panic or a silent
/// empty report.
#[test]
fn wal_and_head_chunk_directories_that_cannot_be_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("wal");
    std::fs::write(&file, b"not a directory").unwrap();
    for wbl in [false, true] {
        let fs = verify_wal_dir(&file, wbl);
        assert_eq!(fs.len(), 1, "{fs:?}");
        assert_eq!(fs[0].code.as_str(), "wal_dir_unreadable");
        assert_eq!(fs[0].code, FindingCode::WalDirUnreadable);
        assert_eq!(fs[0].path, file);
        assert!(fs[0].message.contains("cannot list"), "{}", fs[0].message);
    }
    let fs = verify_chunks_head(&file, None);
    assert_eq!(fs.len(), 1, "{fs:?}");
    assert_eq!(fs[0].code.as_str(), "head_chunk_dir_unreadable");
    assert_eq!(fs[0].path, file);
}

/// A WAL segment deleted while it is read, as a running Prometheus'
/// truncation does: a thread creates and deletes a segment file over and
/// over while the WAL is checked, until a check has listed it and then
/// found it gone. The check reads the directory again and says so
/// (`wal_reread`).
#[test]
fn a_wal_segment_deleted_during_the_read_is_read_again() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let (_t, dir) = data_copy();
    let wal = dir.join("wal");
    let seg = wal.join("00000009");
    let stop = AtomicBool::new(false);
    let layout = promsnap::layout::scan(&dir).unwrap();
    let found = std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::write(&seg, b"");
                let _ = std::fs::remove_file(&seg);
            }
        });
        let end = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut found = None;
        while found.is_none() && std::time::Instant::now() < end {
            let fs = promsnap::check::wal::verify(&layout, None);
            if fs.iter().any(|f| f.code == FindingCode::WalReread) {
                found = Some(fs);
            }
        }
        stop.store(true, Ordering::Relaxed);
        found
    });
    let fs = found.expect("no check saw the segment vanish in 60 s");
    let f = fs.iter().find(|f| f.code.as_str() == "wal_reread").unwrap();
    assert_eq!(f.path, wal);
    assert!(f.message.contains("read again"), "{}", f.message);
}

/// Runs `promsnap ARGS`, failing the test if it has not ended after a
/// minute (a read blocked on a FIFO would wait for a writer forever).
/// Stdout goes to a file, so a long output cannot block the child.
fn run_bounded(args: &[&str]) -> (Option<i32>, String) {
    let out = tempfile::tempfile().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_promsnap"))
        .args(args)
        .stdout(out.try_clone().unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("promsnap {args:?} still running after 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    use std::io::{Read, Seek};
    let mut text = String::new();
    let mut f = out;
    f.rewind().unwrap();
    f.read_to_string(&mut text).unwrap();
    (status.code(), text)
}

/// A FIFO where a block file, a WAL segment or a head chunk file belongs:
/// opening it for reading would wait for a writer forever. Each in turn:
/// `verify` names it as not a regular file, and every command ends.
#[test]
fn a_fifo_in_place_of_any_file_is_unreadable_not_a_hang() {
    let (_t, base) = data_copy();
    let listed = |sub: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(base.join(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    };
    let segs: Vec<String> = listed("wal")
        .into_iter()
        .filter(|n| n.len() == 8 && n.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    let files = [
        format!("{BLOCK}/meta.json"),
        format!("{BLOCK}/index"),
        format!("{BLOCK}/chunks/000001"),
        format!("{BLOCK}/tombstones"),
        format!("wal/{}", segs[0]),
        format!("wal/{}", segs[segs.len() - 1]),
        format!("chunks_head/{}", listed("chunks_head")[0]),
    ];
    for (i, f) in files.iter().enumerate() {
        let dir = base.with_file_name(format!("fifo{i}"));
        copy_dir(&base, &dir);
        let p = dir.join(f);
        std::fs::remove_file(&p).unwrap();
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "{f}");
        let d = dir.to_str().unwrap();
        let (code, out) = run_bounded(&["verify", "--json", d]);
        assert_eq!(code, Some(1), "{f}: {out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let mut named = Vec::new();
        findings_on(&v, f, &mut named);
        assert!(
            named.iter().any(|m| m.contains("not a regular file")),
            "{f}: {named:?} {out}"
        );
        for cmd in [
            &["ls", d][..],
            &["dump", d],
            &["analyze", d],
            &["wal", d],
            &["coverage", d],
        ] {
            let (code, _) = run_bounded(cmd);
            assert!(matches!(code, Some(0..=2)), "{f}: {cmd:?}: {code:?}");
        }
    }
}

/// The messages of every finding in `v` whose `path` is `file`.
fn findings_on(v: &serde_json::Value, file: &str, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Array(a) => a.iter().for_each(|x| findings_on(x, file, out)),
        serde_json::Value::Object(o) => {
            if o.get("path").and_then(|x| x.as_str()) == Some(file)
                && let Some(m) = o.get("message").and_then(|x| x.as_str())
            {
                out.push(m.to_string());
            }
            o.values().for_each(|x| findings_on(x, file, out));
        }
        _ => {}
    }
}

/// `promsnap ARGS` with its data segment (heap) limited to 256 MiB.
fn promsnap_in_256_mib(args: &[&str]) -> std::process::Output {
    std::process::Command::new("prlimit")
        .arg("--data=268435456")
        .arg(env!("CARGO_BIN_EXE_promsnap"))
        .args(args)
        .output()
        .expect("run prlimit (util-linux)")
}

/// Files grown by damage to 1 GiB (sparse: zeros after their data): a
/// `meta.json`, a head chunk file, a sealed WAL segment. Reading any of them
/// whole made memory follow the damage; with the heap limited to 256 MiB,
/// each command still ends with its answer. The meta.json is refused unread
/// (no meta.json is that large; Prometheus, reading it whole, fails to parse
/// it and skips the block either way); zeros after a head chunk file's or a
/// segment's data end it, as Prometheus reads them.
#[test]
fn files_grown_to_gigabytes_by_damage_cost_no_memory() {
    let (tmp, dir) = data_copy();
    let grow = |rel: &str| {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join(rel))
            .unwrap();
        f.set_len(1 << 30).unwrap();
    };
    grow(&format!("{BLOCK}/meta.json"));
    grow("chunks_head/000003");
    grow("wal/00000003");
    let d = dir.to_str().unwrap();
    let out = promsnap_in_256_mib(&["verify", "--json", d]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(1), "{v}");
    let f = expect(
        &v,
        "file_unreadable",
        "error",
        &format!("{BLOCK}/meta.json"),
        None,
    );
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("more than any meta.json Prometheus writes"),
        "{f}"
    );
    let errors: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "only the meta.json: {errors:?}");
    // The head replay (snapshot's head block, gaps) reads the grown files too.
    let out_dir = tmp.path().join("snap");
    answers_in_256_mib(&[
        vec!["snapshot", d, out_dir.to_str().unwrap()],
        vec!["gaps", d],
    ]);
    let heads: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy() != BLOCK)
        .collect();
    assert!(
        heads.len() >= 3,
        "blocks and the head block written: {heads:?}"
    );
}

/// The newest WAL segment and head chunk file, the ones a running server may
/// still append to, grown by damage to 1 GiB: each command that reads the
/// WAL ends with its answer with the heap limited to 256 MiB (`snapshot`'s
/// head replay read the newest segment whole and ran out of memory).
#[test]
fn the_newest_wal_segment_grown_by_damage_costs_no_memory() {
    let (tmp, dir) = data_copy();
    for rel in ["chunks_head/000004", "wal/00000004"] {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join(rel))
            .unwrap();
        f.set_len(1 << 30).unwrap();
    }
    // And damaged: a flipped CRC on its second page, which `wal` and
    // `verify` re-synchronise after by reading on past the damage.
    flip_crc(&dir.join("wal/00000004"), 32 * 1024);
    let d = dir.to_str().unwrap();
    let snap = tmp.path().join("snap");
    answers_in_256_mib(&[
        vec!["verify", d],
        vec!["wal", d],
        vec!["gaps", d],
        vec!["coverage", d],
        vec!["snapshot", d, snap.to_str().unwrap()],
    ]);
}

/// Damage that needs the whole file, in files grown to 1 GiB: a block's
/// `tombstones` (its checksum covers the whole file) and the newest WAL
/// segment with a bad fragment checksum at its first record (the scan
/// re-synchronises over the whole segment). Both were read onto the heap;
/// with the heap limited to 256 MiB the answers were "out of memory" and a
/// skipped block. Now both are mapped: each command names the damage
/// itself, as it does without a limit.
#[test]
fn damage_read_whole_in_grown_files_is_named_not_out_of_memory() {
    let (tmp, dir) = data_copy();
    for rel in [format!("{BLOCK}/tombstones"), "wal/00000004".into()] {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join(rel))
            .unwrap();
        f.set_len(1 << 30).unwrap();
    }
    flip_crc(&dir.join("wal/00000004"), 0);
    let d = dir.to_str().unwrap();
    let out = promsnap_in_256_mib(&["verify", "--json", d]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(1), "{v}");
    expect(
        &v,
        "tombstones_checksum",
        "error",
        &format!("{BLOCK}/tombstones"),
        None,
    );
    assert!(!v.to_string().contains("out of memory"), "{v}");
    let out = promsnap_in_256_mib(&["wal", "--json", d]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let seg = v["wal"]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "00000004")
        .unwrap();
    assert_eq!(seg["read_error"], serde_json::Value::Null, "{seg}");
    assert_eq!(seg["corruption"]["offset"], 0, "{seg}");
    assert!(
        seg["after_damage"]["records"].as_u64().unwrap() > 0,
        "{seg}"
    );
    for args in [vec!["dump", d], vec!["gaps", d]] {
        let out = promsnap_in_256_mib(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("tombstones checksum mismatch"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("out of memory"), "{args:?}: {err}");
    }
    let salvaged = tmp.path().join("salvaged");
    let out = promsnap_in_256_mib(&["salvage", d, salvaged.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("tombstones checksum mismatch") && text.contains("no deletion applied"),
        "{text}"
    );
}

/// `salvage --in-place` cuts a damaged WAL segment where Prometheus' repair
/// cuts it; with the segment grown by damage to 1 GiB after the damage, the
/// cut copies the kept bytes through a buffer instead of reading the file
/// whole, and ends with the heap limited to 256 MiB.
#[test]
fn salvage_cuts_a_grown_damaged_segment_without_reading_it_whole() {
    let (_tmp, dir) = data_copy();
    let seg = dir.join("wal/00000003");
    let page = 32 * 1024;
    flip_crc(&seg, 2 * page);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let out = promsnap_in_256_mib(&["salvage", "--in-place", "--json", dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{:?} {} {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let len = std::fs::metadata(&seg).unwrap().len();
    assert!(len <= 3 * page, "cut at the damage, not kept whole: {len}");
}

/// Flips the CRC (bytes 3..7 of the header) of the WAL fragment at `at`:
/// damage mid-file, not a torn tail.
fn flip_crc(seg: &std::path::Path, at: u64) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(seg).unwrap();
    f.seek(SeekFrom::Start(at + 3)).unwrap();
    f.write_all(&[0xff, 0x00, 0xff, 0x00]).unwrap();
}

/// Each `promsnap ARGS` of `runs` ends with an answer (exit 0 or 1) with
/// its heap limited to 256 MiB.
fn answers_in_256_mib(runs: &[Vec<&str>]) {
    for args in runs {
        let out = promsnap_in_256_mib(args);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {:?} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
