//! `promsnap verify` on real indexes whose series entries, symbol table,
//! postings offset table and legacy label indices are rewritten in the test
//! under valid CRCs, so that the damage itself — not a checksum — is what
//! verify has to name. Entries are decoded and re-encoded here by the
//! format's rules (independently of the library's decoder).

use std::path::Path;

use promsnap::format::index::IndexReader;
use serde_json::Value;

use crate::verify::{B1, B2, BLOCK, expect, first_label_index, snapshot_copy, verify_json};

/// A series entry, decoded: its offset, label refs and chunk metas
/// (mint, maxt, ref).
#[derive(Clone, PartialEq)]
struct Entry {
    offset: usize,
    labels: Vec<(u64, u64)>,
    chunks: Vec<(i64, i64, u64)>,
}

use crate::verify::uvarint_at as uvarint;

fn varint(b: &[u8], at: &mut usize) -> i64 {
    let u = uvarint(b, at);
    (u >> 1) as i64 ^ -((u & 1) as i64)
}

fn put_uvarint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push(x as u8 | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

fn put_varint(out: &mut Vec<u8>, x: i64) {
    put_uvarint(out, ((x << 1) ^ (x >> 63)) as u64);
}

fn be32(b: &[u8], at: usize) -> usize {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

/// Every series entry of `b` (offsets from the library's iterator, the
/// contents decoded here).
fn entries(b: &[u8]) -> Vec<Entry> {
    let r = IndexReader::open(b).unwrap();
    let mut it = r.series();
    let mut e = promsnap::format::index::SeriesEntry::default();
    let mut offsets = Vec::new();
    while let Some(x) = it.next_into(&mut e) {
        x.unwrap();
        offsets.push(e.offset as usize);
    }
    offsets.into_iter().map(|o| decode(b, o)).collect()
}

fn decode(b: &[u8], offset: usize) -> Entry {
    let mut at = offset;
    uvarint(b, &mut at);
    let labels = (0..uvarint(b, &mut at))
        .map(|_| (uvarint(b, &mut at), uvarint(b, &mut at)))
        .collect();
    let n = uvarint(b, &mut at);
    let mut chunks: Vec<(i64, i64, u64)> = Vec::new();
    for i in 0..n {
        let (mint, maxt, r) = if i == 0 {
            let mint = varint(b, &mut at);
            let maxt = mint.wrapping_add(uvarint(b, &mut at) as i64);
            (mint, maxt, uvarint(b, &mut at))
        } else {
            let &(_, pmax, pref) = chunks.last().unwrap();
            let mint = pmax.wrapping_add(uvarint(b, &mut at) as i64);
            let maxt = mint.wrapping_add(uvarint(b, &mut at) as i64);
            (mint, maxt, pref.wrapping_add(varint(b, &mut at) as u64))
        };
        chunks.push((mint, maxt, r));
    }
    Entry {
        offset,
        labels,
        chunks,
    }
}

/// The entry encoded: length, body, CRC.
fn encode(e: &Entry) -> Vec<u8> {
    let mut body = Vec::new();
    put_uvarint(&mut body, e.labels.len() as u64);
    for &(n, v) in &e.labels {
        put_uvarint(&mut body, n);
        put_uvarint(&mut body, v);
    }
    put_uvarint(&mut body, e.chunks.len() as u64);
    let mut prev: Option<(i64, u64)> = None;
    for &(mint, maxt, r) in &e.chunks {
        match prev {
            None => {
                put_varint(&mut body, mint);
                put_uvarint(&mut body, maxt.wrapping_sub(mint) as u64);
                put_uvarint(&mut body, r);
            }
            Some((pmax, pref)) => {
                put_uvarint(&mut body, mint.wrapping_sub(pmax) as u64);
                put_uvarint(&mut body, maxt.wrapping_sub(mint) as u64);
                put_varint(&mut body, r.wrapping_sub(pref) as i64);
            }
        }
        prev = Some((maxt, r));
    }
    let mut out = Vec::new();
    put_uvarint(&mut out, body.len() as u64);
    let crc = crc32c::crc32c(&body);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// Writes `new` over entry `i` of `all` if it fits before the next
/// entry's start (the rest zero padding); false if it does not fit.
fn put_entry(b: &mut [u8], all: &[Entry], i: usize, new: &Entry) -> bool {
    let r = IndexReader::open(b).unwrap();
    let end = all
        .get(i + 1)
        .map_or(r.series_region().1 as usize, |e| e.offset);
    let bytes = encode(new);
    let at = all[i].offset;
    if at + bytes.len() > end {
        return false;
    }
    b[at..at + bytes.len()].copy_from_slice(&bytes);
    b[at + bytes.len()..end].fill(0);
    true
}

/// Rewrites, in the first of `blocks` where it can, the first entry `edit`
/// gives a new form for (given all entries and the entry's position) that
/// fits its space; returns (block, entry offset).
fn rewrite_entry(
    dir: &Path,
    blocks: &[&'static str],
    edit: impl Fn(&[Entry], usize) -> Option<Entry>,
) -> (&'static str, u64) {
    for &block in blocks {
        let index = dir.join(block).join("index");
        let mut b = std::fs::read(&index).unwrap();
        let all = entries(&b);
        for i in 0..all.len() {
            if let Some(new) = edit(&all, i)
                && put_entry(&mut b, &all, i, &new)
            {
                std::fs::write(&index, &b).unwrap();
                return (block, all[i].offset as u64);
            }
        }
    }
    panic!("no series entry to rewrite");
}

const ALL: [&str; 3] = [BLOCK, B1, B2];

/// Runs verify on `dir` and asserts exit 1 and an `code` finding of
/// `severity` at the entry rewritten in `block`.
#[track_caller]
fn expect_at(dir: &Path, code: &str, severity: &str, (block, at): (&str, u64)) -> Value {
    let (status, v) = verify_json(dir, &[]);
    assert_eq!(status, 1, "{v:#}");
    expect(&v, code, severity, &format!("{block}/index"), Some(at));
    v
}

/// Rewrites the chunk metas of a series with two or more of them with
/// `edit` and asserts an error `code` at that entry.
#[track_caller]
fn expect_second_chunk_edited(code: &str, edit: impl Fn(&mut [(i64, i64, u64)])) {
    let (_t, dir) = snapshot_copy();
    let at = rewrite_entry(&dir, &ALL, |all, i| {
        let mut e = all[i].clone();
        (e.chunks.len() >= 2).then(|| {
            edit(&mut e.chunks);
            e
        })
    });
    expect_at(&dir, code, "error", at);
}

/// A chunk meta whose maxt is before its mint (the maxt delta wrapped):
/// index_chunk_meta_invalid.
#[test]
fn chunk_meta_maxt_before_mint() {
    let (_t, dir) = snapshot_copy();
    let at = rewrite_entry(&dir, &ALL, |all, i| {
        let mut e = all[i].clone();
        let c = e.chunks.first_mut()?;
        c.1 = c.0 - 1;
        Some(e)
    });
    expect_at(&dir, "index_chunk_meta_invalid", "error", at);
}

/// The second chunk meta of a series pointing at the first's chunk:
/// index_chunk_duplicate.
#[test]
fn chunk_meta_pointing_at_the_chunk_before() {
    expect_second_chunk_edited("index_chunk_duplicate", |c| c[1].2 = c[0].2);
}

/// A chunk starting at the previous chunk's maxt: index_chunks_overlap;
/// one starting before the previous chunk's mint: index_chunks_unordered.
#[test]
fn chunk_metas_overlapping_and_out_of_order() {
    expect_second_chunk_edited("index_chunks_overlap", |c| c[1].0 = c[0].1);
    expect_second_chunk_edited("index_chunks_unordered", |c| c[1].0 = c[0].0 - 1);
}

/// The chunk refs of two neighbouring series with the same chunk times
/// swapped: every meta still matches its chunk, but the later series
/// points lower (what Prometheus before 2.51 could write):
/// index_chunk_refs_unordered, an info only.
#[test]
fn chunk_refs_swapped_between_series() {
    let (_t, dir) = snapshot_copy();
    let times = |e: &Entry| e.chunks.iter().map(|c| (c.0, c.1)).collect::<Vec<_>>();
    let mut first = None;
    for &block in &ALL {
        let index = dir.join(block).join("index");
        let mut b = std::fs::read(&index).unwrap();
        let all = entries(&b);
        let Some(i) = (1..all.len())
            .find(|&i| !all[i].chunks.is_empty() && times(&all[i]) == times(&all[i - 1]))
        else {
            continue;
        };
        let (mut a, mut c) = (all[i - 1].clone(), all[i].clone());
        for (x, y) in a.chunks.iter_mut().zip(c.chunks.iter_mut()) {
            std::mem::swap(&mut x.2, &mut y.2);
        }
        if put_entry(&mut b, &all, i - 1, &a) && put_entry(&mut b, &all, i, &c) {
            std::fs::write(&index, &b).unwrap();
            first = Some((block, all[i].offset as u64));
            break;
        }
    }
    let (block, at) = first.expect("two neighbouring series with the same chunk times");
    let (status, v) = verify_json(&dir, &[]);
    let path = format!("{block}/index");
    expect(&v, "index_chunk_refs_unordered", "info", &path, Some(at));
    let errors: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error" && f["path"] == path.as_str())
        .collect();
    assert!(errors.is_empty(), "exit {status}: {errors:#?}");
}

/// A series entry given the labels of the series before it:
/// index_series_duplicate; of the series two before it:
/// index_series_unsorted.
#[test]
fn series_entries_repeated_and_out_of_order() {
    for (back, code) in [(1, "index_series_duplicate"), (2, "index_series_unsorted")] {
        let (_t, dir) = snapshot_copy();
        let at = rewrite_entry(&dir, &ALL, |all, i| {
            let prev = all.get(i.checked_sub(back)?)?;
            let mut e = all[i].clone();
            e.labels.clone_from(&prev.labels);
            Some(e)
        });
        expect_at(&dir, code, "error", at);
    }
}

/// A series entry with no labels: index_series_empty_labels.
#[test]
fn series_entry_without_labels() {
    let (_t, dir) = snapshot_copy();
    let at = rewrite_entry(&dir, &ALL, |all, i| {
        let mut e = all[i].clone();
        (i > 0).then(|| {
            e.labels.clear();
            e
        })
    });
    expect_at(&dir, "index_series_empty_labels", "error", at);
}

/// A label value of a series turned into the empty string (symbol 0): a
/// warning, index_series_empty_label_value; and the pair (name, "") has no
/// postings list, while its old pair is still carried by other series:
/// index_postings_missing.
#[test]
fn series_label_value_emptied() {
    let (_t, dir) = snapshot_copy();
    for block in ALL {
        let b = std::fs::read(dir.join(block).join("index")).unwrap();
        let r = IndexReader::open(&b).unwrap();
        assert_eq!(r.symbols.lookup(0), Some(&b""[..]), "symbol 0 of {block}");
    }
    let at = rewrite_entry(&dir, &[B2], |all, i| {
        let mut e = all[i].clone();
        let pair = *e.labels.last()?;
        let shared = all.iter().filter(|o| o.labels.contains(&pair)).count() >= 2;
        if pair.1 == 0 || !shared {
            return None;
        }
        e.labels.last_mut()?.1 = 0;
        Some(e)
    });
    let v = expect_at(&dir, "index_series_empty_label_value", "warning", at);
    let r = {
        let b = std::fs::read(dir.join(B2).join("index")).unwrap();
        IndexReader::open(&b).unwrap().toc.postings_table
    };
    expect(
        &v,
        "index_postings_missing",
        "error",
        &format!("{B2}/index"),
        Some(r),
    );
}

/// Two neighbouring symbols of the same length swapped (the table's CRC
/// fixed): index_symbols_unsorted at the table.
#[test]
fn symbols_swapped() {
    let (_t, dir) = snapshot_copy();
    let index = dir.join(B1).join("index");
    let mut b = std::fs::read(&index).unwrap();
    let start = IndexReader::open(&b).unwrap().toc.symbols as usize;
    let (len, n) = (be32(&b, start), be32(&b, start + 4));
    let mut at = start + 8;
    let mut spans = Vec::new();
    for _ in 0..n {
        let l = uvarint(&b, &mut at) as usize;
        spans.push((at, l));
        at += l;
    }
    let i = (1..spans.len())
        .find(|&i| spans[i].1 == spans[i - 1].1 && spans[i].1 > 0)
        .expect("two neighbouring symbols of one length");
    let ((x, l), (y, _)) = (spans[i - 1], spans[i]);
    let first = b[x..x + l].to_vec();
    b.copy_within(y..y + l, x);
    b[y..y + l].copy_from_slice(&first);
    let crc = crc32c::crc32c(&b[start + 4..start + 4 + len]);
    b[start + 4 + len..start + 8 + len].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(&index, &b).unwrap();
    let (status, v) = verify_json(&dir, &[]);
    assert_eq!(status, 1, "{v:#}");
    let path = format!("{B1}/index");
    expect(
        &v,
        "index_symbols_unsorted",
        "error",
        &path,
        Some(start as u64),
    );
}

/// The postings offset table's entries (after the all-postings one) as
/// byte ranges, and the table's start.
fn postings_table_entries(b: &[u8]) -> (usize, Vec<std::ops::Range<usize>>) {
    let start = IndexReader::open(b).unwrap().toc.postings_table as usize;
    let n = be32(b, start + 4);
    let mut at = start + 8;
    let mut out = Vec::new();
    for _ in 0..n {
        let s = at;
        uvarint(b, &mut at);
        for _ in 0..2 {
            let l = uvarint(b, &mut at) as usize;
            at += l;
        }
        uvarint(b, &mut at);
        out.push(s..at);
    }
    (start, out)
}

/// The index with its postings offset table replaced by `entries` (the
/// TOC after it unchanged: the table's offset stays).
fn with_postings_table(b: &[u8], start: usize, entries: &[Vec<u8>]) -> Vec<u8> {
    let toc = &b[b.len() - 52..];
    let mut body = (entries.len() as u32).to_be_bytes().to_vec();
    for e in entries {
        body.extend_from_slice(e);
    }
    let mut out = b[..start].to_vec();
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32c::crc32c(&body).to_be_bytes());
    out.extend_from_slice(toc);
    out
}

/// The postings offset table without its first entry, the all-postings
/// list: a warning only, index_postings_all_missing; two of its entries
/// swapped: index_postings_table_unsorted at the first entry out of place.
#[test]
fn postings_table_without_all_postings_and_reordered() {
    let (_t, dir) = snapshot_copy();
    let index = dir.join(B2).join("index");
    let b = std::fs::read(&index).unwrap();
    let (start, spans) = postings_table_entries(&b);
    let bytes: Vec<Vec<u8>> = spans.iter().map(|r| b[r.clone()].to_vec()).collect();
    std::fs::write(&index, with_postings_table(&b, start, &bytes[1..])).unwrap();
    // A warning only: verify passes.
    let (status, v) = verify_json(&dir, &[]);
    assert_eq!((status, &v["summary"]["errors"]), (0, &0.into()), "{v:#}");
    let path = format!("{B2}/index");
    let at = Some(start as u64);
    expect(&v, "index_postings_all_missing", "warning", &path, at);

    let mut swapped = bytes.clone();
    swapped.swap(1, 2);
    std::fs::write(&index, with_postings_table(&b, start, &swapped)).unwrap();
    let (status, v) = verify_json(&dir, &[]);
    assert_eq!(status, 1, "{v:#}");
    let second = start + 8 + bytes[0].len() + bytes[2].len();
    let at = Some(second as u64);
    expect(&v, "index_postings_table_unsorted", "error", &path, at);
}

/// A legacy label index naming a symbol past the table (its CRC fixed):
/// index_label_index_bad_symbol at that label index.
#[test]
fn label_index_naming_no_symbol() {
    let (_t, dir) = snapshot_copy();
    let index = dir.join(B1).join("index");
    let mut b = std::fs::read(&index).unwrap();
    let at = {
        let r = IndexReader::open(&b).unwrap();
        first_label_index(&r) as usize
    };
    let len = be32(&b, at);
    // len, names per entry, entries, then the refs.
    assert!(len >= 12, "label index of {len} bytes");
    b[at + 12..at + 16].copy_from_slice(&u32::MAX.to_be_bytes());
    let crc = crc32c::crc32c(&b[at + 4..at + 4 + len]);
    b[at + 4 + len..at + 8 + len].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(&index, &b).unwrap();
    let (status, v) = verify_json(&dir, &[]);
    assert_eq!(status, 1, "{v:#}");
    let path = format!("{B1}/index");
    expect(
        &v,
        "index_label_index_bad_symbol",
        "error",
        &path,
        Some(at as u64),
    );
}

/// A postings offset table entry pointing past the end of the index (the
/// table's CRC fixed): index_out_of_bounds at that entry's list.
#[test]
fn postings_table_entry_past_the_end() {
    let (_t, dir) = snapshot_copy();
    let index = dir.join(B2).join("index");
    let b = std::fs::read(&index).unwrap();
    let (start, spans) = postings_table_entries(&b);
    let mut bytes: Vec<Vec<u8>> = spans.iter().map(|r| b[r.clone()].to_vec()).collect();
    // The entry's last field, the list's offset, becomes one past the file.
    let e = &mut bytes[1];
    let mut at = 0;
    uvarint(e, &mut at);
    for _ in 0..2 {
        let l = uvarint(e, &mut at) as usize;
        at += l;
    }
    e.truncate(at);
    let past = b.len() as u64 + 1000;
    put_uvarint(e, past);
    std::fs::write(&index, with_postings_table(&b, start, &bytes)).unwrap();
    let (status, v) = verify_json(&dir, &[]);
    assert_eq!(status, 1, "{v:#}");
    let path = format!("{B2}/index");
    expect(&v, "index_out_of_bounds", "error", &path, None);
}

/// A non-zero byte in the padding between two series entries (no CRC
/// covers it): index_corrupt at that byte.
#[test]
fn series_padding_not_zero() {
    let (_t, dir) = snapshot_copy();
    let index = dir.join(B1).join("index");
    let mut b = std::fs::read(&index).unwrap();
    let all = entries(&b);
    let pad = (1..all.len())
        .map(|i| all[i - 1].offset + encode(&all[i - 1]).len())
        .zip(all.iter().skip(1))
        .find(|&(end, next)| end < next.offset)
        .expect("two series entries with padding between them")
        .0;
    assert_eq!(b[pad], 0);
    b[pad] = 1;
    std::fs::write(&index, &b).unwrap();
    let (status, v) = verify_json(&dir, &[]);
    assert_eq!(status, 1, "{v:#}");
    let path = format!("{B1}/index");
    expect(&v, "index_corrupt", "error", &path, Some(pad as u64));
}

/// The one series carrying some symbol given the neighbouring symbol
/// instead, its order among the series kept: that symbol is then
/// referenced by no series, index_symbols_unused (an info) at the table.
#[test]
fn symbol_no_series_references() {
    let (_t, dir) = snapshot_copy();
    let (_, clean) = verify_json(&dir, &[]);
    let codes = |v: &Value| -> Vec<String> {
        let fs = v["findings"].as_array().unwrap();
        fs.iter().map(|f| f["code"].to_string()).collect()
    };
    assert!(!codes(&clean).contains(&"\"index_symbols_unused\"".to_string()));
    let index = dir.join(B2).join("index");
    let mut b = std::fs::read(&index).unwrap();
    let all = entries(&b);
    let mut uses = std::collections::HashMap::<u64, usize>::new();
    for e in &all {
        for &(n, v) in &e.labels {
            *uses.entry(n).or_default() += 1;
            *uses.entry(v).or_default() += 1;
        }
    }
    let fits = |i: usize, l: &[(u64, u64)]| {
        (i == 0 || all[i - 1].labels.as_slice() < l)
            && all.get(i + 1).is_none_or(|n| l < n.labels.as_slice())
    };
    let done = (0..all.len()).any(|i| {
        let mut e = all[i].clone();
        let Some(&(_, v)) = e.labels.last() else {
            return false;
        };
        if uses.get(&v) != Some(&1) {
            return false;
        }
        for w in [v + 1, v.saturating_sub(1)] {
            if w == 0 || w == v || !uses.contains_key(&w) {
                continue;
            }
            if let Some(l) = e.labels.last_mut() {
                l.1 = w;
            }
            if fits(i, &e.labels) && put_entry(&mut b, &all, i, &e) {
                return true;
            }
        }
        false
    });
    assert!(done, "no series to rewrite");
    std::fs::write(&index, &b).unwrap();
    let toc = IndexReader::open(&b).unwrap().toc.symbols;
    let (_, v) = verify_json(&dir, &[]);
    let path = format!("{B2}/index");
    expect(&v, "index_symbols_unused", "info", &path, Some(toc));
}
