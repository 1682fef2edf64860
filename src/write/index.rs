//! The index file (v2) as Prometheus 2.42 writes it:
//!
//! ```text
//! BE32 0xBAAAD700 | u8 2
//! symbols         BE32 len | BE32 n | n × (uvarint len, bytes) | CRC32C
//! series          each 16-byte aligned (id = offset / 16):
//!                 uvarint len | labels (symbol ordinals) | chunk metas | CRC32C
//! label indices   per label name, 4-byte aligned:
//!                 BE32 len | BE32 1 | BE32 n | n × BE32 value ordinal | CRC32C
//! postings        the all-postings list ("", "") first, then per (name, value),
//!                 each 4-byte aligned: BE32 len | BE32 n | n × BE32 id | CRC32C
//! label offset table     BE32 len | BE32 n | n × (uvarint 1, name, uvarint64 offset) | CRC32C
//! postings offset table  BE32 len | BE32 n | n × (uvarint 2, name, value, uvarint64 offset) | CRC32C
//! TOC             6 × BE64 (symbols, series, label indices, label offset table,
//!                 postings, postings offset table) | CRC32C
//! ```
//!
//! Every CRC covers exactly the bytes between the length field and the CRC.
//! The TOC's series, label indices and postings offsets are taken before the
//! alignment padding, as Prometheus takes them.
//!
//! While a block is written, [`SeriesTable`] holds what the index needs of
//! every series: label strings interned once (a series holds symbol ids,
//! 8 bytes per label), chunk metas flat. When the index is written, the
//! symbols are sorted once; the symbols and series entries are encoded in
//! parallel parts (a window of series at a time) and written in order,
//! while another thread builds the postings ([`super::postings`]) by
//! counting sorts (by label name, then by value within each name), never by
//! comparing label sets.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Write};

use crate::format::crc::{crc32c, crc32c_append};
use crate::format::index::ChunkMeta;

use super::postings::Postings;

const MAGIC: u32 = 0xBAAA_D700;

/// A fast hasher for interned label strings (FxHash's mixing step). Label
/// strings come from blocks and WALs; a crafted set of colliding strings
/// only slows the interning.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const FX_K: u64 = 0x517c_c1b7_2722_0a95;

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(FX_K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            if let Some(d) = w.get_mut(..rest.len()) {
                d.copy_from_slice(rest);
            }
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(FX_K);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(5) ^ n as u64).wrapping_mul(FX_K);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

fn overflow(what: &str) -> io::Error {
    io::Error::other(format!("too many {what} for one block (more than 2^32)"))
}

/// The labels (as symbol ids) and chunk metas of every series of a block,
/// in the order added (= label order).
#[derive(Default)]
pub(crate) struct SeriesTable {
    syms: FxMap<Box<[u8]>, u32>,
    /// Symbols given up front ([`super::given`]): labels are then their
    /// ordinals, and `syms` stays empty.
    pub(crate) given: Option<super::given::GivenSymbols>,
    /// `(name id, value id)` of every label of every series.
    labels: Vec<(u32, u32)>,
    /// Series `i`'s labels are `labels[label_end[i-1]..label_end[i]]`.
    label_end: Vec<u32>,
    chunks: Vec<ChunkMeta>,
    chunk_end: Vec<u32>,
    /// The previous series' ids, to skip hashing labels it shares.
    pub(crate) prev: Vec<(u32, u32)>,
}

impl SeriesTable {
    /// Series added.
    pub(crate) fn len(&self) -> usize {
        self.label_end.len()
    }

    fn intern(&mut self, s: &[u8]) -> io::Result<u32> {
        if let Some(&id) = self.syms.get(s) {
            return Ok(id);
        }
        let id = u32::try_from(self.syms.len()).map_err(|_| overflow("label strings"))?;
        self.syms.insert(s.into(), id);
        Ok(id)
    }

    /// Adds a series. `shared` says which of its labels the previous
    /// series has (their ids are reused unhashed).
    pub(crate) fn push<L: AsRef<[u8]>>(
        &mut self,
        labels: &[(L, L)],
        shared: super::Shared,
        chunks: impl Iterator<Item = ChunkMeta>,
    ) -> io::Result<()> {
        // `self.prev` holds the previous series' ids.
        let start = self.labels.len();
        for (i, (n, v)) in labels.iter().enumerate() {
            let (n, v) = (n.as_ref(), v.as_ref());
            let prev = self.prev.get(i).copied();
            let ids = match prev {
                Some(ids) if i < shared.pairs => ids,
                Some((nid, _)) if i == shared.pairs && shared.name => (nid, self.intern(v)?),
                _ => (self.intern(n)?, self.intern(v)?),
            };
            self.labels.push(ids);
        }
        self.prev.clear();
        if let Some(ids) = self.labels.get(start..) {
            self.prev.extend_from_slice(ids);
        }
        self.end_series(chunks)
    }

    /// Adds a series whose labels are ordinals of the given symbols.
    pub(crate) fn push_ids(
        &mut self,
        labels: &[(u32, u32)],
        chunks: impl Iterator<Item = ChunkMeta>,
    ) -> io::Result<()> {
        self.labels.extend_from_slice(labels);
        self.prev.clear();
        self.prev.extend_from_slice(labels);
        self.end_series(chunks)
    }

    fn end_series(&mut self, chunks: impl Iterator<Item = ChunkMeta>) -> io::Result<()> {
        self.chunks.extend(chunks);
        let le = u32::try_from(self.labels.len()).map_err(|_| overflow("labels"))?;
        let ce = u32::try_from(self.chunks.len()).map_err(|_| overflow("chunks"))?;
        self.label_end.push(le);
        self.chunk_end.push(ce);
        Ok(())
    }
}

pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

pub(super) fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// A writer that knows its position.
pub(super) struct Pos<W: Write> {
    pub(super) w: W,
    pub(super) pos: u64,
}

impl<W: Write> Pos<W> {
    pub(super) fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.w.write_all(b)?;
        self.pos += b.len() as u64;
        Ok(())
    }

    pub(super) fn pad(&mut self, align: u64) -> io::Result<()> {
        let r = self.pos % align;
        if r != 0 {
            let zeros = [0u8; 16];
            let n = (align - r) as usize;
            self.put(zeros.get(..n).unwrap_or(&[]))?;
        }
        Ok(())
    }

    /// `BE32 len | content | BE32 crc(content)`.
    pub(super) fn section(&mut self, content: &[u8]) -> io::Result<()> {
        let len = u32::try_from(content.len())
            .map_err(|_| io::Error::other("index section longer than 4 GiB"))?;
        self.put(&len.to_be_bytes())?;
        self.put(content)?;
        self.put(&crc32c(content).to_be_bytes())
    }

    /// [`section`](Self::section) of the content `parts` back to back.
    pub(super) fn section_parts(&mut self, parts: &[Vec<u8>]) -> io::Result<()> {
        let len: usize = parts.iter().map(Vec::len).sum();
        let len =
            u32::try_from(len).map_err(|_| io::Error::other("index section longer than 4 GiB"))?;
        self.put(&len.to_be_bytes())?;
        let mut crc = 0;
        for part in parts {
            self.put(part)?;
            crc = crc32c_append(crc, part);
        }
        self.put(&crc.to_be_bytes())
    }
}

fn too_big() -> io::Error {
    io::Error::other("index larger than 64 GiB: series ids no longer fit in 32 bits")
}

/// The symbols in use, sorted: `strings.get(rank)`, and `rank[id]` for
/// every id a label holds.
pub(crate) struct Sorted<'a> {
    pub(crate) strings: Strings<'a>,
    pub(crate) rank: Vec<u32>,
}

/// The sorted symbols: interned strings, or the given symbols in use
/// (their ordinals, ascending).
pub(crate) enum Strings<'a> {
    Owned(Vec<Box<[u8]>>),
    Given(&'a super::given::GivenSymbols, Vec<u32>),
}

impl Strings<'_> {
    fn len(&self) -> usize {
        match self {
            Strings::Owned(v) => v.len(),
            Strings::Given(_, used) => used.len(),
        }
    }

    pub(super) fn get(&self, r: u32) -> &[u8] {
        match self {
            Strings::Owned(v) => v.get(r as usize).map_or(&[], |s| &s[..]),
            Strings::Given(g, used) => used.get(r as usize).map_or(&[], |&id| g.get(id)),
        }
    }
}

fn sort_symbols(syms: FxMap<Box<[u8]>, u32>) -> Sorted<'static> {
    use rayon::slice::ParallelSliceMut;
    let mut all: Vec<(Box<[u8]>, u32)> = syms.into_iter().collect();
    // Stable (run-detecting) merge sort: ids were handed out in series
    // order, so the strings come in long sorted runs. They are distinct:
    // the order is the unstable sort's.
    all.par_sort_by(|a, b| a.0.cmp(&b.0));
    let mut rank = vec![0u32; all.len()];
    for (r, (_, id)) in all.iter().enumerate() {
        if let Some(x) = rank.get_mut(*id as usize) {
            *x = r as u32;
        }
    }
    Sorted {
        strings: Strings::Owned(all.into_iter().map(|(s, _)| s).collect()),
        rank,
    }
}

/// What the series section is written from.
struct Entries<'a> {
    labels: &'a [(u32, u32)],
    label_end: &'a [u32],
    chunks: &'a [ChunkMeta],
    chunk_end: &'a [u32],
    rank: &'a [u32],
}

impl Entries<'_> {
    /// Series `s0..s1`'s entries (`uvarint len | labels | chunk metas |
    /// CRC32C`), each but the first after zeros up to a multiple of 16
    /// bytes, and where each starts.
    fn encode(&self, s0: usize, s1: usize) -> (Vec<u8>, Vec<usize>) {
        let rank = |id: u32| self.rank.get(id as usize).copied().unwrap_or(0);
        let end_before = |ends: &[u32], i: usize| match i {
            0 => 0,
            _ => ends.get(i - 1).copied().unwrap_or(0) as usize,
        };
        let n = s1.saturating_sub(s0);
        let (mut out, mut starts) = (Vec::with_capacity(64 * n), Vec::with_capacity(n));
        for i in s0..s1 {
            let (l0, c0) = (end_before(self.label_end, i), end_before(self.chunk_end, i));
            let le = self.label_end.get(i).copied().unwrap_or(0) as usize;
            let ce = self.chunk_end.get(i).copied().unwrap_or(0) as usize;
            // Zeros up to a multiple of 16 (one fixed copy, then cut).
            let start = out.len().next_multiple_of(16);
            out.extend_from_slice(&[0u8; 16]);
            out.truncate(start);
            starts.push(start);
            // The body is encoded in place after a one-byte length, set
            // once it is known (moved along in the rare body of 128 bytes
            // or more).
            out.push(0);
            let body_at = out.len();
            let buf = &mut out;
            let ls = self.labels.get(l0..le).unwrap_or(&[]);
            put_uvarint(buf, ls.len() as u64);
            for &(n, v) in ls {
                put_uvarint(buf, u64::from(rank(n)));
                put_uvarint(buf, u64::from(rank(v)));
            }
            let cs = self.chunks.get(c0..ce).unwrap_or(&[]);
            put_uvarint(buf, cs.len() as u64);
            let mut prev: Option<&ChunkMeta> = None;
            for c in cs {
                match prev {
                    None => {
                        put_varint(buf, c.mint);
                        put_uvarint(buf, c.maxt.wrapping_sub(c.mint) as u64);
                        put_uvarint(buf, c.chunk_ref.get());
                    }
                    Some(pc) => {
                        put_uvarint(buf, c.mint.wrapping_sub(pc.maxt) as u64);
                        put_uvarint(buf, c.maxt.wrapping_sub(c.mint) as u64);
                        put_varint(
                            buf,
                            c.chunk_ref.get().wrapping_sub(pc.chunk_ref.get()) as i64,
                        );
                    }
                }
                prev = Some(c);
            }
            let len = out.len() - body_at;
            match (u8::try_from(len), out.get_mut(start)) {
                (Ok(l), Some(b)) if l < 0x80 => *b = l,
                _ => {
                    let body = out.split_off(body_at);
                    out.truncate(start);
                    put_uvarint(&mut out, len as u64);
                    out.extend_from_slice(&body);
                }
            }
            let crc = crc32c(out.get(out.len() - len..).unwrap_or(&[]));
            out.extend_from_slice(&crc.to_be_bytes());
        }
        (out, starts)
    }
}

/// Writes the index of the series in `t` (added in label order, labels
/// sorted by name) to `w`; returns the bytes written. The postings are
/// grouped on another thread while the symbols and series are written.
pub(crate) fn write_index<W: Write>(w: W, t: SeriesTable) -> io::Result<u64> {
    let SeriesTable {
        syms,
        given,
        labels,
        label_end,
        chunks,
        chunk_end,
        prev: _,
    } = t;
    let sorted = match &given {
        Some(g) => g.in_use(),
        None => sort_symbols(syms),
    };
    let mut p = Pos { w, pos: 0 };
    let tab = Entries {
        labels: &labels,
        label_end: &label_end,
        chunks: &chunks,
        chunk_end: &chunk_end,
        rank: &sorted.rank,
    };
    let (postings, ids, toc) = std::thread::scope(|sc| -> io::Result<_> {
        let postings = sc.spawn(|| Postings::of(&labels, &label_end, &sorted.rank));
        let written = write_symbols_series(&mut p, &sorted, &tab);
        let postings = postings
            .join()
            .map_err(|_| io::Error::other("internal: postings thread panicked"))?;
        let (ids, toc) = written?;
        Ok((postings, ids, toc))
    })?;
    drop((labels, label_end, chunks, chunk_end));
    let [
        toc_label_indices,
        toc_label_table,
        toc_postings,
        toc_postings_table,
    ] = postings.write(&mut p, &sorted, &ids)?;
    let mut out = Vec::with_capacity(52);
    for o in [
        toc[0],
        toc[1],
        toc_label_indices,
        toc_label_table,
        toc_postings,
        toc_postings_table,
    ] {
        out.extend_from_slice(&o.to_be_bytes());
    }
    let c = crc32c(&out);
    out.extend_from_slice(&c.to_be_bytes());
    p.put(&out)?;
    p.w.flush()?;
    Ok(p.pos)
}

/// Writes the header, the symbols and the series; returns the series' ids
/// and the TOC's symbols and series offsets.
fn write_symbols_series<W: Write>(
    p: &mut Pos<W>,
    sorted: &Sorted<'_>,
    tab: &Entries<'_>,
) -> io::Result<(Vec<u32>, [u64; 2])> {
    use rayon::prelude::*;
    let mut head = MAGIC.to_be_bytes().to_vec();
    head.push(2);
    p.put(&head)?;

    // Symbols, encoded in parallel parts.
    let toc_symbols = p.pos;
    let nsyms = sorted.strings.len();
    let count = u32::try_from(nsyms).map_err(|_| overflow("symbols"))?;
    const SYMS: usize = 1 << 16;
    let mut parts = vec![count.to_be_bytes().to_vec()];
    parts.par_extend((0..nsyms.div_ceil(SYMS)).into_par_iter().map(|k| {
        let mut out = Vec::new();
        for r in k * SYMS..((k + 1) * SYMS).min(nsyms) {
            put_str(&mut out, sorted.strings.get(r as u32));
        }
        out
    }));
    p.section_parts(&parts)?;
    drop(parts);

    // Series: entries encoded in parallel, a window at a time, each part
    // 16-byte aligned as its entries are, then written in order.
    let toc_series = p.pos;
    let n = tab.label_end.len();
    let mut ids: Vec<u32> = Vec::with_capacity(n);
    const PART: usize = 4096;
    const WINDOW: usize = 16 * PART;
    let mut w0 = 0usize;
    while w0 < n {
        let w1 = (w0 + WINDOW).min(n);
        let starts: Vec<usize> = (w0..w1).step_by(PART).collect();
        let parts: Vec<(Vec<u8>, Vec<usize>)> = starts
            .into_par_iter()
            .map(|s0| tab.encode(s0, (s0 + PART).min(w1)))
            .collect();
        for (bytes, starts) in &parts {
            p.pad(16)?;
            for &s in starts {
                ids.push(u32::try_from((p.pos + s as u64) / 16).map_err(|_| too_big())?);
            }
            p.put(bytes)?;
        }
        w0 = w1;
    }
    Ok((ids, [toc_symbols, toc_series]))
}
