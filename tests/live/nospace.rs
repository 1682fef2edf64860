//! Issue 19: `salvage`, `snapshot` and `fill` on a full filesystem. Each
//! writes onto a small tmpfs (mounted by the test; skipped with a message
//! when `mount` is not allowed, i.e. not root in a container that permits
//! it): the run fails with a clear "No space left on device" error and exit
//! 2, leaves nothing half-written — only `*.tmp-for-creation` (which
//! Prometheus deletes on start) and blocks placed whole before the disk
//! filled — and the source is byte for byte unchanged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{copy_dir, promsnap, testdata};

/// A tmpfs mounted on a directory; unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, bytes: u64) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Every file under `dir` with its bytes (the fixtures are small).
fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().to_path_buf();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn du(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.metadata()
                .map(|m| m.len().div_ceil(4096) * 4096)
                .unwrap_or(0)
        })
        .sum()
}

/// Runs promsnap; asserts exit 2 and a "No space left on device" error.
fn fails_no_space(args: &[&str]) {
    let out = promsnap(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    // The OS error (ENOSPC mid-write), or the command's own check of the
    // free space before it writes.
    let os = err.matches("No space left on device").count();
    assert!(
        os > 0 || err.contains("no space: "),
        "{args:?}: not a clear no-space error: {err}"
    );
    // Said once, not repeated by each error layer.
    assert!(os <= 1, "{err}");
}

/// Only `*.tmp-for-creation` entries (or nothing) among `new`.
fn only_tmp(new: &[String], what: &str) {
    for n in new {
        assert!(
            n.ends_with(".tmp-for-creation"),
            "{what}: {n} left behind after a failed run"
        );
    }
}

/// Among the `new` entries of `dir`: `*.tmp-for-creation`, or blocks placed
/// whole before the disk filled (each verifies clean) — nothing half-written.
fn only_tmp_or_whole_blocks(dir: &Path, new: &[String], what: &str) {
    for n in new.iter().filter(|n| !n.ends_with(".tmp-for-creation")) {
        let p = dir.join(n);
        let out = promsnap(&["verify", p.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{what}: {n} is not a whole block: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn salvage_snapshot_and_fill_on_a_full_disk_fail_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let src = base.join("source");
    copy_dir(&testdata("prom-2.42-live/data"), &src);
    std::fs::remove_dir_all(src.join("snapshots")).unwrap();
    let before = contents(&src);
    let Some(small) = Tmpfs::mount(&base.join("small"), 64 << 10) else {
        eprintln!("nospace: cannot mount a tmpfs here (not root, or not allowed): skipped");
        return;
    };
    let s = src.to_str().unwrap();

    // salvage PATH OUT: the blocks are copied across filesystems. Refused
    // by its free-space check first.
    let out = small.0.join("salvaged");
    fails_no_space(&["salvage", s, out.to_str().unwrap()]);
    only_tmp(&names(&out), "salvage OUT");
    only_tmp(
        &names(&small.0)
            .into_iter()
            .filter(|n| n != "salvaged")
            .collect::<Vec<_>>(),
        "salvage OUT's parent",
    );
    // Room for the blocks' bytes but not for their files' pages: the check
    // passes and the disk fills mid-write.
    let blocks: u64 = std::fs::read_dir(&src)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().len() == 26)
        .map(|e| {
            walkdir::WalkDir::new(e.path())
                .into_iter()
                .flatten()
                .filter(|f| f.file_type().is_file())
                .map(|f| f.metadata().map(|m| m.len()).unwrap_or(0))
                .sum::<u64>()
        })
        .sum();
    let tight = Tmpfs::mount(&base.join("tight"), blocks).expect("a second tmpfs");
    let out = tight.0.join("salvaged");
    fails_no_space(&["salvage", s, out.to_str().unwrap()]);
    only_tmp_or_whole_blocks(&out, &names(&out), "salvage OUT (mid-write)");
    drop(tight);

    // snapshot DATA_DIR OUT.
    let snap = small.0.join("20261205T081500Z-5f1c0e9a2b7d4c63");
    fails_no_space(&["snapshot", s, snap.to_str().unwrap()]);
    assert!(!snap.exists(), "a snapshot that failed appeared");
    only_tmp(
        &names(&small.0)
            .into_iter()
            .filter(|n| n != "salvaged")
            .collect::<Vec<_>>(),
        "snapshot OUT's parent",
    );
    drop(small);

    // fill TARGET --from SOURCE, TARGET on a filesystem with room for what
    // it holds and not for one more block.
    let staged = base.join("staged");
    copy_dir(&src, &staged);
    std::fs::remove_dir_all(staged.join("01M88ZEAF15198PYN7F74NS04J")).unwrap();
    let room = du(&staged) + (64 << 10);
    let Some(full) = Tmpfs::mount(&base.join("full"), room) else {
        panic!("a second tmpfs did not mount");
    };
    let target = full.0.join("target");
    copy_dir(&staged, &target);
    let target_before = contents(&target);
    let names_before = names(&target);
    fails_no_space(&["fill", target.to_str().unwrap(), "--from", s]);
    let new: Vec<String> = names(&target)
        .into_iter()
        .filter(|n| !names_before.contains(n))
        .collect();
    only_tmp_or_whole_blocks(&target, &new, "fill TARGET");
    // The target's own files are untouched.
    let mut after = contents(&target);
    after.retain(|p, _| {
        !p.components().next().is_some_and(|c| {
            c.as_os_str()
                .to_string_lossy()
                .ends_with(".tmp-for-creation")
        })
    });
    assert!(after == target_before, "fill changed TARGET's own files");
    drop(full);

    assert!(contents(&src) == before, "a source was modified");
}
