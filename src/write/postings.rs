//! The index's sections after the series ([`super::index`] describes the
//! layout): label indices, postings, the label offset table and the
//! postings offset table.
//!
//! What they hold is found from the series' labels alone ([`Postings::of`]:
//! every label grouped by name, then by value, series in order), so it is
//! built on another thread while the symbols and series are written; the
//! series ids (their entries' offsets) are put in as the postings are
//! written. Postings and the postings offset table, most of an index's
//! bytes, are encoded in parallel parts and written in order.

use std::io::{self, Write};

use rayon::prelude::*;

use crate::format::crc::crc32c_append;

use super::index::{Pos, Sorted, put_str, put_uvarint};

/// Every label of every series as `(value rank, series index)`, grouped by
/// label name (names in sorted order), then by value (sorted), series in
/// order within a value: `values[dend[k-1]..dend[k]]` are name `names[k]`'s
/// values, and value `values[j]` has `entries[vend[j-1]..vend[j]]`.
pub(super) struct Postings {
    /// Name ranks, sorted.
    names: Vec<u32>,
    entries: Vec<(u32, u32)>,
    values: Vec<u32>,
    dend: Vec<usize>,
    vend: Vec<usize>,
}

/// `ends[i-1]..ends[i]` (`0..ends[0]` for `i = 0`).
fn span(ends: &[usize], i: usize) -> std::ops::Range<usize> {
    let start = match i {
        0 => 0,
        _ => ends.get(i - 1).copied().unwrap_or(0),
    };
    start..ends.get(i).copied().unwrap_or(start)
}

/// Entries (of postings lists) encoded by one parallel task.
const PART: usize = 1 << 16;
/// Parts encoded before they are written.
const WINDOW: usize = 8;

impl Postings {
    /// Groups the labels of the series (`labels`, series `i`'s ending at
    /// `label_end[i]`, as symbol ids; `rank[id]` the symbol's rank): by
    /// name, then each name's entries by value (names in parallel).
    pub(super) fn of(labels: &[(u32, u32)], label_end: &[u32], rank: &[u32]) -> Postings {
        let (names, end, mut entries) = group_by_name(labels, label_end, rank);
        let nsyms = rank.len();
        let mut segments: Vec<&mut [(u32, u32)]> = Vec::with_capacity(end.len());
        let mut rest: &mut [(u32, u32)] = &mut entries;
        let mut from = 0usize;
        for &e in &end {
            let (seg, tail) = rest.split_at_mut(e.saturating_sub(from).min(rest.len()));
            segments.push(seg);
            rest = tail;
            from = e;
        }
        let per_name: Vec<(Vec<u32>, Vec<usize>)> = segments
            .into_par_iter()
            .map_init(
                || {
                    (
                        vec![0u32; nsyms],
                        vec![0u64; nsyms.div_ceil(64)],
                        Vec::new(),
                    )
                },
                |(count, bits, tmp), seg| by_value(seg, count, bits, tmp),
            )
            .collect();
        let (mut values, mut dend, mut vend) = (Vec::new(), Vec::new(), Vec::new());
        for ((vs, ends), k) in per_name.into_iter().zip(0..) {
            let base = span(&end, k).start;
            values.extend_from_slice(&vs);
            dend.push(values.len());
            vend.extend(ends.iter().map(|e| base + e));
        }
        Postings {
            names,
            entries,
            values,
            dend,
            vend,
        }
    }

    /// Name `k`'s distinct values, sorted.
    fn values_of(&self, k: usize) -> &[u32] {
        self.values.get(span(&self.dend, k)).unwrap_or(&[])
    }

    /// Writes the label indices, postings (series `i` as `ids[i]`), label
    /// offset table and postings offset table; returns the TOC's offsets
    /// of the four.
    pub(super) fn write<W: Write>(
        &self,
        p: &mut Pos<W>,
        sorted: &Sorted<'_>,
        ids: &[u32],
    ) -> io::Result<[u64; 4]> {
        let sym = |r: u32| -> &[u8] { sorted.strings.get(r) };
        let mut buf = Vec::new();
        // Label indices: one per name, its distinct values sorted.
        let toc_label_indices = p.pos;
        let mut label_offsets: Vec<(u32, u64)> = Vec::with_capacity(self.names.len());
        for (k, &name) in self.names.iter().enumerate() {
            let values = self.values_of(k);
            p.pad(4)?;
            label_offsets.push((name, p.pos));
            buf.clear();
            buf.extend_from_slice(&1u32.to_be_bytes());
            buf.extend_from_slice(&(values.len() as u32).to_be_bytes());
            for v in values {
                buf.extend_from_slice(&v.to_be_bytes());
            }
            p.section(&buf)?;
        }

        // Postings: all postings first, then by (name, value).
        let toc_postings = p.pos;
        p.pad(4)?;
        let all_at = p.pos;
        buf.clear();
        put_list(&mut buf, ids.iter().copied());
        p.put(&buf)?;
        let offsets = self.write_lists(p, ids)?;

        // Label offset table.
        let toc_label_table = p.pos;
        buf.clear();
        buf.extend_from_slice(&(label_offsets.len() as u32).to_be_bytes());
        for (n, at) in &label_offsets {
            put_uvarint(&mut buf, 1);
            put_str(&mut buf, sym(*n));
            put_uvarint(&mut buf, *at);
        }
        p.section(&buf)?;

        // Postings offset table: the all-postings list's entry, then one
        // per (name, value), encoded in parallel parts.
        let toc_postings_table = p.pos;
        let mut head = Vec::new();
        head.extend_from_slice(&(offsets.len() as u32 + 1).to_be_bytes());
        put_uvarint(&mut head, 2);
        put_str(&mut head, b"");
        put_str(&mut head, b"");
        put_uvarint(&mut head, all_at);
        let mut parts = vec![head];
        parts.par_extend(offsets.par_chunks(PART / 4).map(|part| {
            let mut out = Vec::new();
            for &(n, v, at) in part {
                put_uvarint(&mut out, 2);
                put_str(&mut out, sym(n));
                put_str(&mut out, sym(v));
                put_uvarint(&mut out, at);
            }
            out
        }));
        p.section_parts(&parts)?;
        Ok([
            toc_label_indices,
            toc_label_table,
            toc_postings,
            toc_postings_table,
        ])
    }

    /// Writes every (name, value)'s postings list, in order, each 4-byte
    /// aligned; returns `(name, value, offset)` of each. The lists are
    /// encoded in parallel, a window of parts at a time.
    fn write_lists<W: Write>(
        &self,
        p: &mut Pos<W>,
        ids: &[u32],
    ) -> io::Result<Vec<(u32, u32, u64)>> {
        // Where parts of about PART entries end (list indices).
        let mut cuts = Vec::new();
        let mut last = 0usize;
        for (j, &e) in self.vend.iter().enumerate() {
            if e - last >= PART {
                cuts.push(j + 1);
                last = e;
            }
        }
        if cuts.last() != Some(&self.vend.len()) {
            cuts.push(self.vend.len());
        }
        let mut offsets: Vec<(u32, u32, u64)> = Vec::with_capacity(self.vend.len());
        // List j's name is names[k] while j < dend[k].
        let (mut j, mut k) = (0usize, 0usize);
        for (w, ends) in cuts.chunks(WINDOW).enumerate() {
            let from = |i: usize| match i {
                0 => 0,
                _ => cuts.get(i - 1).copied().unwrap_or(0),
            };
            let encoded: Vec<(Vec<u8>, Vec<u64>)> = ends
                .par_iter()
                .enumerate()
                .map(|(i, &to)| self.encode_lists(from(w * WINDOW + i), to, ids))
                .collect();
            for (bytes, rel) in &encoded {
                p.pad(4)?;
                let base = p.pos;
                for r in rel {
                    while self.dend.get(k).is_some_and(|&e| j >= e) {
                        k += 1;
                    }
                    let name = self.names.get(k).copied().unwrap_or(0);
                    let value = self.values.get(j).copied().unwrap_or(0);
                    offsets.push((name, value, base + r));
                    j += 1;
                }
                p.put(bytes)?;
            }
        }
        Ok(offsets)
    }

    /// Lists `j0..j1` back to back, and where each starts. Every list is a
    /// multiple of 4 bytes long: the next one is aligned as the first.
    fn encode_lists(&self, j0: usize, j1: usize, ids: &[u32]) -> (Vec<u8>, Vec<u64>) {
        let mut start = match j0 {
            0 => 0,
            _ => self.vend.get(j0 - 1).copied().unwrap_or(0),
        };
        let last = self.vend.get(j1.wrapping_sub(1)).copied().unwrap_or(start);
        let n = j1.saturating_sub(j0);
        let mut out = Vec::with_capacity(12 * n + 4 * last.saturating_sub(start));
        let mut rel = Vec::with_capacity(n);
        for &end in self.vend.get(j0..j1).unwrap_or(&[]) {
            rel.push(out.len() as u64);
            let es = self.entries.get(start..end).unwrap_or(&[]);
            put_list(
                &mut out,
                es.iter()
                    .map(|&(_, s)| ids.get(s as usize).copied().unwrap_or(0)),
            );
            start = end;
        }
        (out, rel)
    }
}

/// A postings list: `BE32 len | BE32 n | n × BE32 id | BE32 CRC32C`.
fn put_list(out: &mut Vec<u8>, ids: impl ExactSizeIterator<Item = u32>) {
    let n = ids.len();
    let len = 4 + 4 * n;
    out.reserve(len + 8);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    let at = out.len();
    out.extend_from_slice(&(n as u32).to_be_bytes());
    for id in ids {
        out.extend_from_slice(&id.to_be_bytes());
    }
    let crc = crc32c_append(0, out.get(at..).unwrap_or(&[]));
    out.extend_from_slice(&crc.to_be_bytes());
}

/// One name's entries `seg` ordered by value (a counting sort: series stay
/// in order); returns its distinct values, sorted, and where each one's
/// entries end. `count` (zeros, one per symbol) is left zeroed, `bits`
/// (a bit per symbol, zeros) too; `tmp` is scratch.
fn by_value(
    seg: &mut [(u32, u32)],
    count: &mut [u32],
    bits: &mut [u64],
    tmp: &mut Vec<(u32, u32)>,
) -> (Vec<u32>, Vec<usize>) {
    let mut values = Vec::new();
    for &(v, _) in seg.iter() {
        if let Some(c) = count.get_mut(v as usize) {
            if *c == 0 {
                values.push(v);
            }
            *c += 1;
        }
    }
    // Few values are sorted; many (at least one per 64 symbols) read off
    // a bitmap of the ranks.
    if !values.is_empty() && values.len() >= bits.len() {
        for &v in &values {
            if let Some(w) = bits.get_mut(v as usize / 64) {
                *w |= 1 << (v % 64);
            }
        }
        values.clear();
        for (i, word) in bits.iter_mut().enumerate() {
            let mut x = std::mem::take(word);
            while x != 0 {
                values.push((i * 64) as u32 + x.trailing_zeros());
                x &= x - 1;
            }
        }
    } else {
        values.sort_unstable();
    }
    // count[v] becomes where value v's entries start.
    let mut ends = Vec::with_capacity(values.len());
    let mut at = 0u32;
    for &v in &values {
        if let Some(c) = count.get_mut(v as usize) {
            let n = *c;
            *c = at;
            at += n;
            ends.push(at as usize);
        }
    }
    tmp.clear();
    tmp.extend_from_slice(seg);
    for &e in tmp.iter() {
        if let Some(c) = count.get_mut(e.0 as usize) {
            if let Some(x) = seg.get_mut(*c as usize) {
                *x = e;
            }
            *c += 1;
        }
    }
    for &v in &values {
        if let Some(c) = count.get_mut(v as usize) {
            *c = 0;
        }
    }
    (values, ends)
}

/// Every label as `(value rank, series index)`, grouped by name (a
/// counting sort: series in order within a name): the name ranks, sorted,
/// where each name's entries end, and the entries.
fn group_by_name(
    labels: &[(u32, u32)],
    label_end: &[u32],
    rank: &[u32],
) -> (Vec<u32>, Vec<usize>, Vec<(u32, u32)>) {
    let r = |id: u32| rank.get(id as usize).copied().unwrap_or(0);
    // Labels per name id, then where each name's entries go next.
    let mut cursor = vec![0u32; rank.len()];
    let mut name_ids: Vec<u32> = Vec::new();
    for &(n, _) in labels {
        if let Some(c) = cursor.get_mut(n as usize) {
            if *c == 0 {
                name_ids.push(n);
            }
            *c += 1;
        }
    }
    name_ids.sort_unstable_by_key(|&n| r(n));
    let names: Vec<u32> = name_ids.iter().map(|&n| r(n)).collect();
    let mut end = Vec::with_capacity(names.len());
    // At most 2^32 labels (the table's label ends are u32).
    let mut at = 0u32;
    for &n in &name_ids {
        if let Some(c) = cursor.get_mut(n as usize) {
            let count = *c;
            *c = at;
            at += count;
            end.push(at as usize);
        }
    }
    let mut entries = vec![(0u32, 0u32); labels.len()];
    let mut l0 = 0usize;
    for (series, &le) in label_end.iter().enumerate() {
        for &(n, v) in labels.get(l0..le as usize).unwrap_or(&[]) {
            if let Some(a) = cursor.get_mut(n as usize) {
                if let Some(e) = entries.get_mut(*a as usize) {
                    *e = (r(v), series as u32);
                }
                *a += 1;
            }
        }
        l0 = le as usize;
    }
    (names, end, entries)
}
