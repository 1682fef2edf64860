//! Labels as symbol ordinals: a writer given a sorted symbol table up
//! front ([`BlockWriter::use_symbols`], e.g. the source index's when a
//! block is rewritten) takes each series' labels as ordinals into it
//! ([`BlockWriter::add_encoded_ids`]). No label string is hashed or
//! compared: the table being strictly ascending, ordinals order as their
//! strings do. The index's symbol table is the given symbols some label
//! uses, in order (read off a mark per symbol, no sort): the bytes written
//! are those of [`BlockWriter::add_encoded`] with the strings.

use crate::error::{Error, Result};

use super::index::{Sorted, Strings};
use super::{BlockWriter, Encoded, chunk_metas};

/// A strictly ascending symbol table, its strings back to back.
#[derive(Default)]
pub(crate) struct GivenSymbols {
    bytes: Vec<u8>,
    /// Symbol `i` is `bytes[ends[i-1]..ends[i]]`.
    ends: Vec<usize>,
    /// Whether some series added uses symbol `i` (marked as series are
    /// added: only the labels a series does not share with the previous
    /// one).
    used: Vec<bool>,
}

impl GivenSymbols {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn get(&self, id: u32) -> &[u8] {
        let i = id as usize;
        let start = match i {
            0 => 0,
            _ => self.ends.get(i - 1).copied().unwrap_or(0),
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.bytes.get(start..end).unwrap_or(&[])
    }

    /// Marks the symbols of `labels` used.
    fn mark(&mut self, labels: &[(u32, u32)]) {
        for &(n, v) in labels {
            for id in [n, v] {
                if let Some(u) = self.used.get_mut(id as usize) {
                    *u = true;
                }
            }
        }
    }

    /// The symbols the series added use, in order, and each one's rank
    /// among them.
    pub(crate) fn in_use(&self) -> Sorted<'_> {
        let mut rank = vec![0u32; self.len()];
        let mut used = Vec::new();
        for ((id, r), &u) in rank.iter_mut().enumerate().zip(&self.used) {
            if u {
                *r = used.len() as u32;
                used.push(id as u32);
            }
        }
        Sorted {
            strings: Strings::Given(self, used),
            rank,
        }
    }
}

fn usage<T>(m: &str) -> Result<T> {
    Err(Error::Usage(m.into()))
}

impl BlockWriter {
    /// Gives the writer its symbol table (strictly ascending, at most 2^32
    /// strings) before the first series: series are then added with
    /// [`add_encoded_ids`](Self::add_encoded_ids), their labels as
    /// ordinals into it, and no longer with strings. The index holds the
    /// symbols some series uses.
    pub fn use_symbols<'s>(&mut self, symbols: impl IntoIterator<Item = &'s [u8]>) -> Result<()> {
        if self.table.len() > 0 || self.table.given.is_some() {
            return usage("symbols are given once, before the first series");
        }
        let mut g = GivenSymbols::default();
        let mut prev: Option<&[u8]> = None;
        for s in symbols {
            if prev.is_some_and(|p| p >= s) {
                return usage("given symbols must strictly ascend");
            }
            prev = Some(s);
            g.bytes.extend_from_slice(s);
            g.ends.push(g.bytes.len());
        }
        g.used = vec![false; g.ends.len()];
        if u32::try_from(g.len()).is_err() {
            return usage("more than 2^32 symbols");
        }
        self.table.given = Some(g);
        Ok(())
    }

    /// [`add_encoded`](Self::add_encoded) with each series' labels as
    /// ordinals into the symbols given by
    /// [`use_symbols`](Self::use_symbols), which must come first.
    pub fn add_encoded_ids<'l>(
        &mut self,
        labels: impl IntoIterator<Item = &'l [(u32, u32)]>,
        enc: &Encoded,
    ) -> Result<()> {
        let mut labels = labels.into_iter();
        for (sum, framed) in enc.framed() {
            let Some(ls) = labels.next() else {
                return usage("fewer label sets than series encoded");
            };
            if sum.n == 0 {
                continue;
            }
            let same = self.check_ids(ls)?;
            let span = self.check_span(&sum)?;
            self.write_chunks(sum.n, span, &framed)?;
            let metas = chunk_metas(&framed, &self.refs);
            self.table
                .push_ids(ls, metas)
                .map_err(|e| Error::io(&self.tmp, e))?;
            if let Some(g) = self.table.given.as_mut() {
                g.mark(ls.get(same..).unwrap_or(&[]));
            }
        }
        if labels.next().is_some() {
            return usage("more label sets than series encoded");
        }
        Ok(())
    }

    /// [`check`](Self::check)'s label checks on ordinals: known symbols,
    /// after the previous series, names ascending, none empty. The labels
    /// shared with the previous series were checked with it: only the
    /// others are looked at. Returns how many labels it shares with the
    /// previous series.
    fn check_ids(&self, labels: &[(u32, u32)]) -> Result<usize> {
        let Some(g) = &self.table.given else {
            return usage("no symbols given (use_symbols)");
        };
        if labels.is_empty() {
            return usage("a series needs at least one label");
        }
        let prev: &[(u32, u32)] = if self.table.len() == 0 {
            &[]
        } else {
            &self.table.prev
        };
        let same = prev.iter().zip(labels).take_while(|(a, b)| a == b).count();
        let later = match (prev.get(same), labels.get(same)) {
            (Some(a), Some(b)) => a < b,
            (None, Some(_)) => true,
            (_, None) => false,
        };
        if !later {
            return usage("series must be added in strictly increasing label order");
        }
        // Only the first symbol of an ascending table can be empty.
        let empty = if g.get(0).is_empty() { 0 } else { u32::MAX };
        let n = g.len();
        let mut last_name = same.checked_sub(1).and_then(|i| labels.get(i)).map(|l| l.0);
        for &(a, b) in labels.get(same..).unwrap_or(&[]) {
            if a as usize >= n || b as usize >= n {
                return usage("label symbol ordinal out of range");
            }
            if last_name.is_some_and(|l| l >= a) {
                return usage("labels must be sorted by name, names unique");
            }
            if a == empty || b == empty {
                return usage("label names and values must not be empty");
            }
            last_name = Some(a);
        }
        Ok(same)
    }
}
