//! Symbol table.
//!
//! ```text
//! BE32 len | BE32 n_symbols | n × (uvarint strlen | bytes) | BE32 CRC32C
//! ```
//! Strings are unique and strictly ascending. v2 references a symbol by its
//! ordinal; v1 by the absolute file offset of its `strlen` byte.

use crate::format::decode::{Decoder, crc_section, slice_from};
use crate::format::error::{DecodeError, Result, Section};

/// The decoded symbol table.
#[derive(Debug, Clone)]
pub struct Symbols<'a> {
    strings: Vec<&'a [u8]>,
    /// For v1: absolute offset of each string entry, ascending (parallel to `strings`).
    offsets: Vec<u32>,
    v1: bool,
    /// Index of the first symbol not greater than the one before it.
    unsorted_at: Option<usize>,
    /// Absolute offset of the table's length field.
    pub offset: u64,
}

impl<'a> Symbols<'a> {
    /// Parses the table at `offset`, checking its CRC and entry count.
    pub fn parse(file: &'a [u8], offset: u64, version: u8) -> Result<Symbols<'a>> {
        let d = crc_section(file, offset, Section::Symbols)?;
        Self::parse_body(d, offset, version)
    }

    /// Parses the table at `offset` without checking its CRC: for salvaging
    /// a table whose checksum fails. Every string read this way is suspect;
    /// a caller must confirm each one elsewhere before trusting it.
    pub fn parse_unchecked(file: &'a [u8], offset: u64, version: u8) -> Result<Symbols<'a>> {
        let mut d = Decoder::new(slice_from(file, offset, Section::Symbols.name())?, offset);
        let len = d.be_u32()?;
        let body_offset = d.offset();
        let body = d.bytes(len as usize)?;
        Self::parse_body(Decoder::new(body, body_offset), offset, version)
    }

    fn parse_body(mut d: Decoder<'a>, offset: u64, version: u8) -> Result<Symbols<'a>> {
        let count_off = d.offset();
        let n = d.be_u32()?;
        let v1 = version == 1;
        // Every symbol takes at least one byte: cap the allocation.
        let cap = (n as usize).min(d.remaining());
        let mut strings = Vec::with_capacity(cap);
        let mut offsets = Vec::with_capacity(if v1 { cap } else { 0 });
        let mut unsorted_at = None;
        let mut prev: Option<&[u8]> = None;
        for i in 0..n as usize {
            let at = d.offset();
            let sym = d.uvarint_bytes()?;
            // The order check rides along the parse, while both strings
            // are in cache.
            if unsorted_at.is_none() && prev.is_some_and(|p| p >= sym) {
                unsorted_at = Some(i);
            }
            prev = Some(sym);
            strings.push(sym);
            if v1 {
                offsets.push(u32::try_from(at).map_err(|_| DecodeError::OutOfBounds {
                    what: "v1 symbol offset",
                    offset: at,
                    target: at,
                    len: u64::from(u32::MAX),
                })?);
            }
        }
        if !d.is_empty() {
            return Err(DecodeError::SymbolsTrailingBytes {
                offset: count_off,
                count: u64::from(n),
                left: d.remaining() as u64,
            });
        }
        Ok(Symbols {
            strings,
            offsets,
            v1,
            unsorted_at,
            offset,
        })
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// True when the table is empty.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }

    /// All symbols in table order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.strings.iter().copied()
    }

    /// Resolves a symbol reference (ordinal for v2, file offset for v1).
    #[inline]
    pub fn lookup(&self, r: u32) -> Option<&'a [u8]> {
        if self.v1 {
            let i = self.offsets.binary_search(&r).ok()?;
            self.strings.get(i).copied()
        } else {
            self.strings.get(r as usize).copied()
        }
    }

    /// Ordinal of `s` in a sorted table, searching from ordinal `from` on:
    /// an exponential (galloping) probe, then a binary search, so a run of
    /// ascending look-ups touches memory mostly forward.
    pub fn position_from(&self, s: &[u8], from: usize) -> Option<usize> {
        let tail = self.strings.get(from..)?;
        // Ascending look-ups mostly land on the start or right after it.
        if tail.first() == Some(&s) {
            return Some(from);
        }
        if tail.get(1) == Some(&s) {
            return Some(from + 1);
        }
        let mut hi = 1usize;
        while hi < tail.len() && tail.get(hi).is_some_and(|x| *x < s) {
            hi = hi.saturating_mul(2);
        }
        let lo = hi / 2;
        let hi = hi.min(tail.len().saturating_sub(1)) + 1;
        let window = tail.get(lo..hi.max(lo))?;
        window.binary_search(&s).ok().map(|i| from + lo + i)
    }

    /// Index of the first symbol that is not strictly greater than its
    /// predecessor (the table must be strictly ascending), if any.
    pub fn first_unsorted(&self) -> Option<usize> {
        self.unsorted_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::decode::crc32c;

    fn table(strings: &[&str]) -> Vec<u8> {
        let mut body = (strings.len() as u32).to_be_bytes().to_vec();
        for s in strings {
            body.push(s.len() as u8);
            body.extend_from_slice(s.as_bytes());
        }
        let mut f = (body.len() as u32).to_be_bytes().to_vec();
        f.extend_from_slice(&body);
        f.extend_from_slice(&crc32c(&body).to_be_bytes());
        f
    }

    #[test]
    fn position_from_finds_every_symbol_from_any_start() {
        let strs: Vec<String> = (0..300).map(|i| format!("s{i:04}")).collect();
        let refs: Vec<&str> = strs.iter().map(String::as_str).collect();
        let f = table(&refs);
        let s = Symbols::parse(&f, 0, 2).unwrap();
        for (i, x) in refs.iter().enumerate() {
            assert_eq!(s.position_from(x.as_bytes(), 0), Some(i));
            for from in [0, i / 2, i.saturating_sub(1), i] {
                assert_eq!(
                    s.position_from(x.as_bytes(), from),
                    Some(i),
                    "{x} from {from}"
                );
            }
            assert_eq!(s.position_from(x.as_bytes(), i + 1), None);
        }
        assert_eq!(s.position_from(b"zzz", 0), None);
        assert_eq!(s.position_from(b"s0000a", 0), None);
        assert_eq!(s.position_from(b"", 0), None);
    }
}
