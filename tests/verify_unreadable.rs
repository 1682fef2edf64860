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
