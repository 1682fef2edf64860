//! No panic on any input bytes: real block files mutated at random
//! (deterministically seeded) — bit flips, zeroed runs, truncations — go
//! through `verify` and `dump`. Each must return findings or errors, never
//! panic. This complements the cargo-fuzz targets with a check that runs in
//! every `cargo test`.

use std::path::Path;

use promsnap::check::{CheckOptions, verify_block};
use promsnap::dump::{DumpOptions, dump_path};

use crate::util::{copy_dir, testdata};

const BLOCK: &str = "prom-2.42-nativehist/data/01M891T624Z2K2QSYVTNJGBBMK";

/// xorshift64*: a tiny deterministic generator, so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, orig: &[u8]) -> Vec<u8> {
    let mut b = orig.to_vec();
    match rng.below(4) {
        0 => {
            for _ in 0..=rng.below(4) {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
        }
        1 => {
            let i = rng.below(b.len());
            let n = rng.below(64).min(b.len() - i);
            b[i..i + n].fill(0);
        }
        2 => b.truncate(rng.below(b.len())),
        _ => {
            let i = rng.below(b.len());
            b[i] = rng.next() as u8;
            b.truncate(b.len() - rng.below(8).min(b.len()));
        }
    }
    b
}

fn run_all(dir: &Path) {
    let check = verify_block(dir, &CheckOptions::default());
    let _ = check.status();
    let mut sink = Vec::new();
    let _ = dump_path(dir, &DumpOptions::default(), &mut sink);
}

#[test]
fn mutated_real_block_files_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("01M891T624Z2K2QSYVTNJGBBMK");
    copy_dir(&testdata(BLOCK), &dir);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut runs = 0;
    for file in ["index", "chunks/000001", "meta.json", "tombstones"] {
        let path = dir.join(file);
        let orig = std::fs::read(&path).unwrap();
        for _ in 0..60 {
            let m = mutate(&mut rng, &orig);
            std::fs::write(&path, &m).unwrap();
            run_all(&dir);
            runs += 1;
        }
        std::fs::write(&path, &orig).unwrap();
    }
    assert_eq!(runs, 240);
    // And the restored block is clean again.
    assert!(!verify_block(&dir, &CheckOptions::default()).has_errors());
}

#[test]
fn mutated_wal_and_head_chunks_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    copy_dir(&testdata("prom-2.42-nativehist/data"), &data);
    std::fs::remove_dir_all(data.join("snapshots")).unwrap();
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let targets: Vec<_> = [
        "wal/00000006",
        "wal/checkpoint.00000003/00000000",
        "chunks_head/000006",
    ]
    .iter()
    .map(|f| data.join(f))
    .filter(|p| p.exists())
    .collect();
    assert!(targets.len() >= 2, "{targets:?}");
    for path in targets {
        let orig = std::fs::read(&path).unwrap();
        for _ in 0..15 {
            std::fs::write(&path, mutate(&mut rng, &orig)).unwrap();
            let mut sink = Vec::new();
            let _ = dump_path(&data, &DumpOptions::default(), &mut sink);
            let _ = promsnap::walinfo::inspect(&data);
        }
        std::fs::write(&path, &orig).unwrap();
    }
}

#[test]
fn closed_stdout_exits_2() {
    let p = crate::util::testdata("backfill-small/blocks/01M88Z547SWC2057Y39068VCCB");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' dump '{}' >&-",
            env!("CARGO_BIN_EXE_promsnap"),
            p.display()
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("stdout is closed"));
}

#[test]
fn bad_ranges_and_bare_durations_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = crate::util::testdata(crate::util::LIVE_SKIP_HEAD);
    let s = snap.to_str().unwrap();
    let dst = tmp.path().join("dst");
    let d = dst.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["dump", "--min-time", "2000", "--max-time", "1000", s],
        vec!["copy", s, d, "--min-time", "2000", "--max-time", "1000"],
        vec!["gaps", s, "--from", "2000", "--to", "1000"],
        vec!["copy", s, d, "--retention", "15"],
        vec!["gaps", s, "--interval", "15"],
    ];
    for args in cases {
        let out = crate::util::promsnap(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("reversed") || err.contains("unit is required"),
            "{args:?}: {err}"
        );
        assert!(!dst.exists(), "{args:?} wrote something");
    }
    // A time in Unix seconds is taken as ms, with a warning.
    let out = crate::util::promsnap(&[
        "dump",
        "--min-time",
        "1795597954",
        "--max-time",
        "1795597955",
        s,
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("as Unix seconds"));
}

#[test]
fn copy_into_its_own_source_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("snap");
    crate::util::copy_dir(&crate::util::testdata(crate::util::LIVE_SKIP_HEAD), &snap);
    let before: Vec<_> = std::fs::read_dir(&snap)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let s = snap.to_str().unwrap();
    let inside = snap.join("replica");
    let dotted = format!("{s}/./");
    for dst in [inside.to_str().unwrap(), s, dotted.as_str()] {
        let out = crate::util::promsnap(&["copy", s, dst]);
        assert_eq!(out.status.code(), Some(2), "{dst}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("nothing written"), "{err}");
    }
    assert!(!inside.exists());
    let after: Vec<_> = std::fs::read_dir(&snap)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(before.len(), after.len());
}

#[test]
fn os_errors_are_printed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let m = missing.to_str().unwrap();
    for cmd in ["ls", "wal", "dump", "analyze"] {
        let out = crate::util::promsnap(&[cmd, m]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.matches("os error 2").count(), 1, "{cmd}: {err}");
    }
}

#[test]
fn release_profile_ships_no_debug_info() {
    // `cargo install` builds the release profile: it must not carry ~30 MB
    // of debug info; the `profiling` profile keeps line tables for perf.
    let toml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let section = |name: &str| -> String {
        let start = toml
            .find(&format!("[profile.{name}]"))
            .unwrap_or_else(|| panic!("{name}"));
        let rest = &toml[start + 1..];
        rest[..rest.find("\n[").unwrap_or(rest.len())].to_string()
    };
    let release = section("release");
    assert!(release.contains("debug = false"), "{release}");
    assert!(section("profiling").contains("debug = 1"));
}
