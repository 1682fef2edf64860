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

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::format::crc::crc32c;
use crate::format::index::ChunkMeta;

/// One series as the index writer needs it.
pub(crate) struct IndexSeries {
    pub labels: Vec<(Vec<u8>, Vec<u8>)>,
    pub chunks: Vec<ChunkMeta>,
}

const MAGIC: u32 = 0xBAAA_D700;

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

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// A writer that knows its position.
struct Pos<W: Write> {
    w: W,
    pos: u64,
}

impl<W: Write> Pos<W> {
    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.w.write_all(b)?;
        self.pos += b.len() as u64;
        Ok(())
    }

    fn pad(&mut self, align: u64) -> io::Result<()> {
        let r = self.pos % align;
        if r != 0 {
            let zeros = [0u8; 16];
            let n = (align - r) as usize;
            self.put(zeros.get(..n).unwrap_or(&[]))?;
        }
        Ok(())
    }

    /// `BE32 len | content | BE32 crc(content)`.
    fn section(&mut self, content: &[u8]) -> io::Result<()> {
        let len = u32::try_from(content.len())
            .map_err(|_| io::Error::other("index section longer than 4 GiB"))?;
        self.put(&len.to_be_bytes())?;
        self.put(content)?;
        self.put(&crc32c(content).to_be_bytes())
    }
}

fn too_big() -> io::Error {
    io::Error::other("index larger than 64 GiB: series ids no longer fit in 32 bits")
}

/// Writes the index of `series` (sorted by label set, labels sorted by
/// name) to `w`; returns the bytes written.
pub(crate) fn write_index<W: Write>(w: W, series: &[IndexSeries]) -> io::Result<u64> {
    // Symbols: every label name and value, sorted, unique.
    let mut symbols: Vec<&[u8]> = series
        .iter()
        .flat_map(|s| {
            s.labels
                .iter()
                .flat_map(|(n, v)| [n.as_slice(), v.as_slice()])
        })
        .collect();
    symbols.sort_unstable();
    symbols.dedup();
    let ordinals: std::collections::HashMap<&[u8], u32> = symbols
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, i as u32))
        .collect();
    let ordinal = |s: &[u8]| -> u32 { ordinals.get(s).copied().unwrap_or(0) };

    let mut p = Pos { w, pos: 0 };
    let mut head = MAGIC.to_be_bytes().to_vec();
    head.push(2);
    p.put(&head)?;

    let toc_symbols = p.pos;
    let mut buf = Vec::new();
    buf.extend_from_slice(&(symbols.len() as u32).to_be_bytes());
    for s in &symbols {
        put_str(&mut buf, s);
    }
    p.section(&buf)?;

    // Series; postings collected by (name ordinal, value ordinal).
    let toc_series = p.pos;
    let mut postings: BTreeMap<(u32, u32), Vec<u32>> = BTreeMap::new();
    let mut all = Vec::with_capacity(series.len());
    for s in series {
        p.pad(16)?;
        let id = u32::try_from(p.pos / 16).map_err(|_| too_big())?;
        all.push(id);
        buf.clear();
        put_uvarint(&mut buf, s.labels.len() as u64);
        for (n, v) in &s.labels {
            let (n, v) = (ordinal(n), ordinal(v));
            put_uvarint(&mut buf, u64::from(n));
            put_uvarint(&mut buf, u64::from(v));
            postings.entry((n, v)).or_default().push(id);
        }
        put_uvarint(&mut buf, s.chunks.len() as u64);
        let mut prev: Option<&ChunkMeta> = None;
        for c in &s.chunks {
            match prev {
                None => {
                    put_varint(&mut buf, c.mint);
                    put_uvarint(&mut buf, c.maxt.wrapping_sub(c.mint) as u64);
                    put_uvarint(&mut buf, c.chunk_ref);
                }
                Some(pc) => {
                    put_uvarint(&mut buf, c.mint.wrapping_sub(pc.maxt) as u64);
                    put_uvarint(&mut buf, c.maxt.wrapping_sub(c.mint) as u64);
                    put_varint(&mut buf, c.chunk_ref.wrapping_sub(pc.chunk_ref) as i64);
                }
            }
            prev = Some(c);
        }
        let mut len = Vec::with_capacity(5);
        put_uvarint(&mut len, buf.len() as u64);
        p.put(&len)?;
        p.put(&buf)?;
        p.put(&crc32c(&buf).to_be_bytes())?;
    }

    // Label indices: one per name, its values sorted.
    let toc_label_indices = p.pos;
    let mut label_offsets: Vec<(u32, u64)> = Vec::new();
    let mut i = 0usize;
    let keys: Vec<(u32, u32)> = postings.keys().copied().collect();
    while let Some(&(name, _)) = keys.get(i) {
        let values: Vec<u32> = keys
            .get(i..)
            .unwrap_or(&[])
            .iter()
            .take_while(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .collect();
        i += values.len();
        p.pad(4)?;
        label_offsets.push((name, p.pos));
        buf.clear();
        buf.extend_from_slice(&1u32.to_be_bytes());
        buf.extend_from_slice(&(values.len() as u32).to_be_bytes());
        for v in &values {
            buf.extend_from_slice(&v.to_be_bytes());
        }
        p.section(&buf)?;
    }

    // Postings: all postings first, then by (name, value).
    let toc_postings = p.pos;
    let mut postings_offsets: Vec<(&[u8], &[u8], u64)> = Vec::new();
    let write_list = |p: &mut Pos<W>, ids: &[u32], buf: &mut Vec<u8>| -> io::Result<u64> {
        p.pad(4)?;
        let at = p.pos;
        buf.clear();
        buf.extend_from_slice(&(ids.len() as u32).to_be_bytes());
        for id in ids {
            buf.extend_from_slice(&id.to_be_bytes());
        }
        p.section(buf)?;
        Ok(at)
    };
    let at = write_list(&mut p, &all, &mut buf)?;
    postings_offsets.push((b"", b"", at));
    for (&(n, v), ids) in &postings {
        let at = write_list(&mut p, ids, &mut buf)?;
        let name = symbols.get(n as usize).copied().unwrap_or(b"");
        let value = symbols.get(v as usize).copied().unwrap_or(b"");
        postings_offsets.push((name, value, at));
    }

    // Label offset table.
    let toc_label_table = p.pos;
    buf.clear();
    buf.extend_from_slice(&(label_offsets.len() as u32).to_be_bytes());
    for (n, at) in &label_offsets {
        put_uvarint(&mut buf, 1);
        put_str(&mut buf, symbols.get(*n as usize).copied().unwrap_or(b""));
        put_uvarint(&mut buf, *at);
    }
    p.section(&buf)?;

    // Postings offset table.
    let toc_postings_table = p.pos;
    buf.clear();
    buf.extend_from_slice(&(postings_offsets.len() as u32).to_be_bytes());
    for (n, v, at) in &postings_offsets {
        put_uvarint(&mut buf, 2);
        put_str(&mut buf, n);
        put_str(&mut buf, v);
        put_uvarint(&mut buf, *at);
    }
    p.section(&buf)?;

    let mut toc = Vec::with_capacity(52);
    for o in [
        toc_symbols,
        toc_series,
        toc_label_indices,
        toc_label_table,
        toc_postings,
        toc_postings_table,
    ] {
        toc.extend_from_slice(&o.to_be_bytes());
    }
    let c = crc32c(&toc);
    toc.extend_from_slice(&c.to_be_bytes());
    p.put(&toc)?;
    p.w.flush()?;
    Ok(p.pos)
}
