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
/// order within a value: `entries[end[k-1]..end[k]]` are name `names[k]`'s,
/// and value `values[j]` of it has `entries[vend[j-1]..vend[j]]`
/// (`values[dend[k-1]..dend[k]]` are name `k`'s values).
pub(super) struct Postings {
    /// Name ranks, sorted.
    names: Vec<u32>,
    end: Vec<usize>,
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
    /// `label_end[i]`, as symbol ids; `rank[id]` the symbol's rank).
    pub(super) fn of(labels: &[(u32, u32)], label_end: &[u32], rank: &[u32]) -> Postings {
        let mut p = group_by_name(labels, label_end, rank);
        p.by_value(rank.len());
        p
    }

    /// Name `k`'s entries.
    fn segment(&self, k: usize) -> &[(u32, u32)] {
        self.entries.get(span(&self.end, k)).unwrap_or(&[])
    }

    /// Name `k`'s distinct values, sorted.
    fn values_of(&self, k: usize) -> &[u32] {
        self.values.get(span(&self.dend, k)).unwrap_or(&[])
    }

    /// Finds every name's distinct values (sorted), and orders each name's
    /// entries by value (a counting sort: series stay in order).
    fn by_value(&mut self, nsyms: usize) {
        self.distinct_values(nsyms);
        // start[v] = where value v's entries begin in the name's segment.
        let mut start = vec![0usize; nsyms];
        let mut tmp: Vec<(u32, u32)> = Vec::new();
        self.vend = Vec::with_capacity(self.values.len());
        for k in 0..self.names.len() {
            let seg = span(&self.end, k);
            let values = self.values.get(span(&self.dend, k)).unwrap_or(&[]);
            let Some(entries) = self.entries.get_mut(seg.clone()) else {
                continue;
            };
            for &v in values {
                if let Some(s) = start.get_mut(v as usize) {
                    *s = 0;
                }
            }
            for &(v, _) in entries.iter() {
                if let Some(s) = start.get_mut(v as usize) {
                    *s += 1;
                }
            }
            let mut at = 0usize;
            for &v in values {
                if let Some(s) = start.get_mut(v as usize) {
                    let n = *s;
                    *s = at;
                    at += n;
                    self.vend.push(seg.start + at);
                }
            }
            tmp.clear();
            tmp.extend_from_slice(entries);
            for &e in &tmp {
                if let Some(s) = start.get_mut(e.0 as usize) {
                    if let Some(x) = entries.get_mut(*s) {
                        *x = e;
                    }
                    *s += 1;
                }
            }
        }
    }

    /// Every name's distinct value ranks, sorted. A name with few values
    /// has them sorted; one with many (at least one per 64 symbols) read
    /// off a bitmap of the ranks.
    fn distinct_values(&mut self, nsyms: usize) {
        let mut mark = vec![u32::MAX; nsyms];
        let mut bits = vec![0u64; nsyms.div_ceil(64)];
        let (mut values, mut end) = (Vec::new(), Vec::with_capacity(self.names.len()));
        for k in 0..self.names.len() {
            let from = values.len();
            for &(v, _) in self.segment(k) {
                if let Some(m) = mark.get_mut(v as usize)
                    && *m != k as u32
                {
                    *m = k as u32;
                    values.push(v);
                }
            }
            let n = values.len() - from;
            if n > 0 && n >= bits.len() {
                for &v in values.get(from..).unwrap_or(&[]) {
                    if let Some(w) = bits.get_mut(v as usize / 64) {
                        *w |= 1 << (v % 64);
                    }
                }
                values.truncate(from);
                for (i, word) in bits.iter_mut().enumerate() {
                    let mut x = std::mem::take(word);
                    while x != 0 {
                        values.push((i * 64) as u32 + x.trailing_zeros());
                        x &= x - 1;
                    }
                }
            } else if let Some(vs) = values.get_mut(from..) {
                vs.sort_unstable();
            }
            end.push(values.len());
        }
        self.values = values;
        self.dend = end;
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
        // Every list as (name, value, entries end), and where parts of
        // about PART entries end.
        let mut lists: Vec<(u32, u32, usize)> = Vec::with_capacity(self.values.len());
        for (k, &name) in self.names.iter().enumerate() {
            for j in span(&self.dend, k) {
                let (Some(&v), Some(&e)) = (self.values.get(j), self.vend.get(j)) else {
                    continue;
                };
                lists.push((name, v, e));
            }
        }
        let mut cuts = Vec::new();
        let mut last = 0usize;
        for (i, l) in lists.iter().enumerate() {
            if l.2 - last >= PART {
                cuts.push(i + 1);
                last = l.2;
            }
        }
        if cuts.last() != Some(&lists.len()) {
            cuts.push(lists.len());
        }
        let mut offsets: Vec<(u32, u32, u64)> = Vec::with_capacity(lists.len());
        for window in cuts
            .chunks(WINDOW)
            .enumerate()
            .map(|(w, c)| (w * WINDOW, c))
        {
            let (w0, ends) = window;
            let from = |i: usize| match i {
                0 => 0,
                _ => cuts.get(i - 1).copied().unwrap_or(0),
            };
            let encoded: Vec<(Vec<u8>, Vec<u64>)> = ends
                .par_iter()
                .enumerate()
                .map(|(i, &to)| {
                    let part = lists.get(from(w0 + i)..to).unwrap_or(&[]);
                    self.encode_lists(part, ids)
                })
                .collect();
            let mut i = from(w0);
            for (bytes, rel) in &encoded {
                p.pad(4)?;
                let base = p.pos;
                for r in rel {
                    if let Some(&(n, v, _)) = lists.get(i) {
                        offsets.push((n, v, base + r));
                    }
                    i += 1;
                }
                p.put(bytes)?;
            }
        }
        Ok(offsets)
    }

    /// The lists `part` (consecutive, each `(name, value, entries end)`)
    /// back to back, and where each starts. Every list is a multiple of 4
    /// bytes long: the next one is aligned as the first.
    fn encode_lists(&self, part: &[(u32, u32, usize)], ids: &[u32]) -> (Vec<u8>, Vec<u64>) {
        let (mut out, mut rel) = (Vec::new(), Vec::with_capacity(part.len()));
        let Some(first) = part.first() else {
            return (out, rel);
        };
        // The first list's entries start where the previous list ends:
        // found from its own end and count.
        let mut start = self.list_start(first.2);
        for &(_, _, end) in part {
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

    /// Where the list ending at `end` starts: the previous list's end (of
    /// any name; the lists are back to back in `entries`).
    fn list_start(&self, end: usize) -> usize {
        let j = self.vend.partition_point(|&e| e < end);
        match j {
            0 => 0,
            _ => self.vend.get(j - 1).copied().unwrap_or(0),
        }
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

/// Groups every label by name (names in rank order), series in order
/// within a name.
fn group_by_name(labels: &[(u32, u32)], label_end: &[u32], rank: &[u32]) -> Postings {
    let r = |id: u32| rank.get(id as usize).copied().unwrap_or(0);
    // Dense slot per name (by symbol id), slots in name order.
    let mut slot = vec![u32::MAX; rank.len()];
    let mut name_ids: Vec<u32> = Vec::new();
    for &(n, _) in labels {
        if let Some(s) = slot.get_mut(n as usize)
            && *s == u32::MAX
        {
            *s = 0;
            name_ids.push(n);
        }
    }
    name_ids.sort_unstable_by_key(|&n| r(n));
    let names: Vec<u32> = name_ids.iter().map(|&n| r(n)).collect();
    for (k, &n) in name_ids.iter().enumerate() {
        if let Some(s) = slot.get_mut(n as usize) {
            *s = k as u32;
        }
    }
    let slot_of = |n: u32| slot.get(n as usize).copied().unwrap_or(0) as usize;
    // Counting sort of the labels by name slot (stable: series order kept).
    let mut at = vec![0usize; names.len() + 1];
    for &(n, _) in labels {
        if let Some(c) = at.get_mut(slot_of(n) + 1) {
            *c += 1;
        }
    }
    for k in 1..at.len() {
        let prev = at.get(k - 1).copied().unwrap_or(0);
        if let Some(c) = at.get_mut(k) {
            *c += prev;
        }
    }
    let end: Vec<usize> = at.iter().skip(1).copied().collect();
    let mut entries = vec![(0u32, 0u32); labels.len()];
    let mut l0 = 0usize;
    for (series, &le) in label_end.iter().enumerate() {
        for &(n, v) in labels.get(l0..le as usize).unwrap_or(&[]) {
            if let Some(a) = at.get_mut(slot_of(n)) {
                if let Some(e) = entries.get_mut(*a) {
                    *e = (r(v), series as u32);
                }
                *a += 1;
            }
        }
        l0 = le as usize;
    }
    Postings {
        names,
        end,
        entries,
        values: Vec::new(),
        dend: Vec::new(),
        vend: Vec::new(),
    }
}
