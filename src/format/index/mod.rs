//! The block index file (`<block>/index`), versions 1 and 2 (and the
//! ≥ 3.7 layout without label indices).
//!
//! ```text
//! 0        BE32 magic 0xBAAAD700 | u8 version
//! 5        symbol table                  (symbols.rs)
//!          series entries                (series.rs)
//!          label index sections (legacy) (postings.rs)
//!          postings lists                (postings.rs)
//!          label offset table (legacy)   (postings.rs)
//!          postings offset table         (postings.rs)
//! len-52   TOC                           (toc.rs)
//! ```
//! Upstream spec: prometheus `tsdb/docs/format/index.md`.

pub mod postings;
pub mod series;
pub mod symbols;
pub mod toc;

pub use postings::{Postings, PostingsEntry};
pub use series::{ChunkMeta, SeriesEntry};
pub use symbols::Symbols;
pub use toc::Toc;

use crate::format::error::{DecodeError, Result, Section};
use crate::format::refs::SeriesRef;

/// An opened index: header, TOC and symbol table checked; series and
/// postings decoded on demand.
#[derive(Debug, Clone)]
pub struct IndexReader<'a> {
    file: &'a [u8],
    /// Version byte from the header.
    pub version: u8,
    /// Table of contents.
    pub toc: Toc,
    /// Symbol table.
    pub symbols: Symbols<'a>,
}

impl<'a> IndexReader<'a> {
    /// Checks magic, version, TOC and symbol table.
    pub fn open(file: &'a [u8]) -> Result<IndexReader<'a>> {
        let version = toc::parse_header(file)?;
        let toc = toc::parse_toc(file)?;
        let symbols = Symbols::parse(file, toc.symbols, version)?;
        Ok(IndexReader {
            file,
            version,
            toc,
            symbols,
        })
    }

    /// [`IndexReader::open`] (or [`IndexReader::open_as_v2`] with `as_v2`),
    /// the symbol table's work of a v2 (or later) index run two tasks at a
    /// time by `both` (see [`Symbols::parse_joined`]): the same result.
    pub fn open_joined(
        file: &'a [u8],
        as_v2: bool,
        both: &symbols::RunBoth<'_>,
    ) -> Result<IndexReader<'a>> {
        let version = toc::parse_header(file)?;
        if version < 2 {
            return if as_v2 {
                Self::open_as_v2(file)
            } else {
                Self::open(file)
            };
        }
        let toc = toc::parse_toc(file)?;
        let symbols = Symbols::parse_joined(file, toc.symbols, version, both)?;
        Ok(IndexReader {
            file,
            version,
            toc,
            symbols,
        })
    }

    /// Same as [`IndexReader::open`], for an index whose meta.json says
    /// version 2 while the header byte says 1 (Prometheus 2.1's bug).
    pub fn open_as_v2(file: &'a [u8]) -> Result<IndexReader<'a>> {
        let mut r = Self::open(file)?;
        if r.version == 1 {
            r.version = 2;
            r.symbols = Symbols::parse(file, r.toc.symbols, 2)?;
        }
        Ok(r)
    }

    /// Like [`IndexReader::open`] (with `as_v2` as in
    /// [`IndexReader::open_as_v2`]), but a symbol table whose CRC fails is
    /// still parsed, unchecked, and the checksum error returned beside the
    /// reader: for salvage, which confirms each symbol before trusting it.
    pub fn open_unchecked_symbols(
        file: &'a [u8],
        as_v2: bool,
    ) -> Result<(IndexReader<'a>, Option<DecodeError>)> {
        let mut version = toc::parse_header(file)?;
        if as_v2 && version == 1 {
            version = 2;
        }
        let toc = toc::parse_toc(file)?;
        let (symbols, err) = match Symbols::parse(file, toc.symbols, version) {
            Ok(s) => (s, None),
            Err(e) => (
                Symbols::parse_unchecked(file, toc.symbols, version)?,
                Some(e),
            ),
        };
        Ok((
            IndexReader {
                file,
                version,
                toc,
                symbols,
            },
            err,
        ))
    }

    /// The raw file bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.file
    }

    /// Series region: `[toc.series, end)`.
    pub fn series_region(&self) -> (u64, u64) {
        (self.toc.series, self.toc.series_end(self.file.len() as u64))
    }

    /// Sequential iterator over every series entry, in file (= label) order.
    pub fn series(&self) -> SeriesIter<'a> {
        let (start, end) = self.series_region();
        SeriesIter {
            file: self.file,
            version: self.version,
            offsets: series::SeriesOffsets::new(self.file, start, end, self.version),
        }
    }

    /// Walk over the entries in `[start, end)` of the series section; `start`
    /// must be an entry start (or the section start).
    pub fn series_range(&self, start: u64, end: u64) -> SeriesIter<'a> {
        SeriesIter {
            file: self.file,
            version: self.version,
            offsets: series::SeriesOffsets::new(self.file, start, end, self.version),
        }
    }

    /// The offset of the series entry with id `id` (v1: the offset itself;
    /// v2: offset / 16).
    pub fn series_offset(&self, id: SeriesRef) -> u64 {
        if self.version == 1 {
            id.get()
        } else {
            id.get().saturating_mul(16)
        }
    }

    /// Decodes the series with id `id` into `out`.
    pub fn series_by_id(&self, id: SeriesRef, out: &mut SeriesEntry) -> Result<()> {
        series::decode_series_into(self.file, self.series_offset(id), self.version, out)
    }

    /// Resolves a symbol reference, with an error naming `at` if it dangles.
    #[inline]
    pub fn symbol(&self, r: u32, at: u64) -> Result<&'a [u8]> {
        self.symbols.lookup(r).ok_or(DecodeError::OutOfBounds {
            what: "symbol reference",
            offset: at,
            target: u64::from(r),
            len: self.symbols.len() as u64,
        })
    }

    /// Resolves every label of `entry` into (name, value) byte strings.
    pub fn resolve_labels(
        &self,
        entry: &SeriesEntry,
        out: &mut Vec<(&'a [u8], &'a [u8])>,
    ) -> Result<()> {
        out.clear();
        for &(n, v) in &entry.labels {
            out.push((self.symbol(n, entry.offset)?, self.symbol(v, entry.offset)?));
        }
        Ok(())
    }

    /// The postings offset table (CRC checked).
    pub fn postings_table(&self) -> Result<Vec<PostingsEntry<'a>>> {
        if self.toc.postings_table == 0 {
            return Ok(Vec::new());
        }
        postings::parse_postings_table(self.file, self.toc.postings_table)
    }

    /// Streams the postings offset table (CRC checked up front). An absent
    /// table yields nothing.
    pub fn postings_table_iter(&self) -> Result<postings::PostingsTableIter<'a>> {
        postings::PostingsTableIter::new(self.file, self.toc.postings_table)
    }

    /// The postings list at `offset` (CRC checked).
    pub fn postings(&self, offset: u64) -> Result<Postings<'a>> {
        Postings::parse(self.file, offset)
    }

    /// The legacy label offset table, if the file has one.
    pub fn label_offset_table(&self) -> Result<Vec<postings::LabelIndexEntry<'a>>> {
        if !self.toc.has_label_indices() {
            return Ok(Vec::new());
        }
        postings::parse_label_offset_table(self.file, self.toc.label_indices_table)
    }
}

/// Sequential, allocation-free walk over the series section.
#[derive(Debug, Clone)]
pub struct SeriesIter<'a> {
    file: &'a [u8],
    version: u8,
    offsets: series::SeriesOffsets<'a>,
}

impl SeriesIter<'_> {
    /// Decodes the next series into `out`. `None` at the end of the section.
    ///
    /// After a damaged entry (bad CRC, bad body) the walk continues with the
    /// next entry when the damaged entry's length field is readable, so a
    /// checker sees every entry; it stops when the framing itself is lost.
    pub fn next_into(&mut self, out: &mut SeriesEntry) -> Option<Result<()>> {
        let offset = match self.offsets.next_offset()? {
            Ok(o) => o,
            Err(e) => return Some(Err(e)),
        };
        match series::decode_series_into(self.file, offset, self.version, out) {
            Ok(()) => {
                self.offsets.advance(out.encoded_len);
                Some(Ok(()))
            }
            Err(e) => {
                match self.offsets.entry_len_at(offset) {
                    Ok(len) if offset.saturating_add(len) <= self.file.len() as u64 => {
                        self.offsets.advance(len)
                    }
                    _ => self.offsets.advance(u64::MAX / 2),
                }
                Some(Err(e))
            }
        }
    }
}

/// Labels of a series entry, for error messages that must name the series.
pub fn describe(entry: &SeriesEntry) -> String {
    format!("series id {} at offset {}", entry.id, entry.offset)
}

impl Section {
    /// True for index sections.
    pub fn is_index(self) -> bool {
        matches!(
            self,
            Section::IndexHeader
                | Section::Toc
                | Section::Symbols
                | Section::Series
                | Section::LabelIndex
                | Section::LabelOffsetTable
                | Section::Postings
                | Section::PostingsOffsetTable
        )
    }
}

#[cfg(test)]
mod tests;
