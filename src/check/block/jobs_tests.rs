//! The result of a check does not depend on the number of worker threads:
//! damaged copies of real blocks checked on pools of 1, 2 and 8 threads give
//! the same findings, groups and counts (the series section is cut into
//! parts walked in parallel; the cuts must not show in the result).

use std::path::{Path, PathBuf};

use super::{CheckOptions, verify_block};
use crate::format::crc::crc32c;
use crate::format::index::IndexReader;

fn blocks() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut out = Vec::new();
    for dir in ["prom-2.42-nativehist/data", "backfill-small/blocks"] {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut found: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("meta.json").exists() && p.join("index").exists())
            .collect();
        found.sort();
        out.extend(found);
    }
    out
}

fn copy_block(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst.join("chunks")).unwrap();
    for e in std::fs::read_dir(src.join("chunks")).unwrap().flatten() {
        std::fs::copy(e.path(), dst.join("chunks").join(e.file_name())).unwrap();
    }
    for f in ["meta.json", "index", "tombstones"] {
        if src.join(f).exists() {
            std::fs::copy(src.join(f), dst.join(f)).unwrap();
        }
    }
}

/// The check of `dir` as JSON on a pool of `threads` threads, its
/// directory left out (each copy has its own).
fn check_on(dir: &Path, threads: usize, quick: bool) -> serde_json::Value {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let opts = CheckOptions {
        quick,
        ..CheckOptions::default()
    };
    let mut v = serde_json::to_value(pool.install(|| verify_block(dir, &opts))).unwrap();
    v["dir"] = serde_json::Value::Null;
    v
}

fn same_on_any_pool(dir: &Path, what: &str) -> usize {
    let one = check_on(dir, 1, false);
    for threads in [2, 8] {
        assert_eq!(
            one,
            check_on(dir, threads, false),
            "{what}: 1 vs {threads} threads"
        );
    }
    assert_eq!(
        check_on(dir, 1, true),
        check_on(dir, 8, true),
        "{what}: quick"
    );
    one["findings"].as_array().map_or(0, Vec::len)
}

fn uvarint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut x = 0u64;
    for i in 0..10 {
        let c = *b.get(*at)?;
        *at += 1;
        x |= u64::from(c & 0x7f) << (7 * i);
        if c < 0x80 {
            return Some(x);
        }
    }
    None
}

/// Byte range of the label references of the series entry at `off`
/// (after its length and label count), and the entry's body range.
fn label_bytes(b: &[u8], off: usize) -> Option<((usize, usize), (usize, usize))> {
    let mut at = off;
    let len = uvarint(b, &mut at)? as usize;
    let body = (at, at + len);
    let n = uvarint(b, &mut at)?;
    let start = at;
    for _ in 0..2 * n {
        uvarint(b, &mut at)?;
    }
    Some(((start, at), body))
}

/// Offsets of the series entries, from the all-postings list (v2: id × 16).
fn series_offsets(index: &[u8]) -> Vec<usize> {
    let Ok(r) = IndexReader::open(index) else {
        return Vec::new();
    };
    let Some(Ok(all)) = r.postings_table_iter().ok().and_then(|mut t| t.next()) else {
        return Vec::new();
    };
    let Ok(list) = r.postings(all.offset) else {
        return Vec::new();
    };
    list.iter().map(|id| id as usize * 16).collect()
}

/// Offsets of series entries at and before every cut a walk of `n` parts
/// may make (ids of the all-postings list at k × len / n).
fn cut_series(index: &[u8]) -> Vec<(usize, usize)> {
    let offs = series_offsets(index);
    let len = offs.len();
    let mut out = Vec::new();
    for n in [3, 4, 8, 16, 32, 64] {
        for k in 1..n {
            let i = k * len / n;
            if let (Some(&a), Some(&b)) = (i.checked_sub(1).and_then(|i| offs.get(i)), offs.get(i))
            {
                out.push((a, b));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Flipped bytes all over the index and the chunks, series entries with a
/// damaged length, and series made duplicates of the series before them
/// (checksums fixed) at the places the walk cuts the series section.
#[test]
fn findings_and_counts_do_not_depend_on_threads() {
    let blocks = blocks();
    assert!(blocks.len() >= 4, "{blocks:?}");
    let tmp = tempfile::tempdir().unwrap();
    let mut cases = 0;
    let mut findings = 0;
    for (bi, src) in blocks.iter().enumerate() {
        let dir = tmp.path().join(src.file_name().unwrap());
        copy_block(src, &dir);
        findings += same_on_any_pool(&dir, &format!("{} intact", src.display()));
        let flips = if bi < 2 { 12 } else { 5 };
        for file in ["index", "chunks/000001"] {
            let orig = std::fs::read(src.join(file)).unwrap();
            for at in (1..=flips).map(|k| k * orig.len() / (flips + 1)) {
                let mut b = orig.clone();
                b[at] ^= 0x24;
                std::fs::write(dir.join(file), &b).unwrap();
                findings += same_on_any_pool(&dir, &format!("{}: {file} byte {at}", src.display()));
                cases += 1;
            }
            std::fs::write(dir.join(file), &orig).unwrap();
        }
        // Series entries whose length is damaged: the walk loses its way
        // until the next cut, wherever the cuts are.
        let orig = std::fs::read(src.join("index")).unwrap();
        let offs = series_offsets(&orig);
        for k in 1..6 {
            let Some(&at) = offs.get(k * offs.len() / 6) else {
                continue;
            };
            let mut b = orig.clone();
            b[at] ^= 0x30;
            std::fs::write(dir.join("index"), &b).unwrap();
            findings += same_on_any_pool(&dir, &format!("{}: series at {at}", src.display()));
            cases += 1;
        }
        std::fs::write(dir.join("index"), &orig).unwrap();
        // Duplicate series at the cuts, several at once.
        let mut b = orig.clone();
        let mut made = 0;
        for (prev, cur) in cut_series(&orig) {
            let (Some((pl, _)), Some((cl, body))) = (label_bytes(&b, prev), label_bytes(&b, cur))
            else {
                continue;
            };
            if pl.1 - pl.0 != cl.1 - cl.0 || body.1 + 4 > b.len() {
                continue;
            }
            let refs = b[pl.0..pl.1].to_vec();
            b[cl.0..cl.1].copy_from_slice(&refs);
            let crc = crc32c(&b[body.0..body.1]);
            b[body.1..body.1 + 4].copy_from_slice(&crc.to_be_bytes());
            made += 1;
        }
        if made > 0 {
            std::fs::write(dir.join("index"), &b).unwrap();
            findings += same_on_any_pool(&dir, &format!("{}: {made} duplicates", src.display()));
            cases += 1;
            std::fs::write(dir.join("index"), &orig).unwrap();
        }
    }
    assert!(cases >= 60, "{cases} damaged copies");
    assert!(findings > cases, "{findings} findings in {cases} copies");
}
