//! Symbol table.
//!
//! ```text
//! BE32 len | BE32 n_symbols | n × (uvarint strlen | bytes) | BE32 CRC32C
//! ```
//! Strings are unique and strictly ascending. v2 references a symbol by its
//! ordinal; v1 by the absolute file offset of its `strlen` byte.

use crate::format::decode::{CrcFramed, Decoder, crc_section, slice_from};
use std::sync::OnceLock;

use crate::format::error::{DecodeError, Result, Section};

/// The decoded symbol table: where each entry starts, its strings read
/// from the table's bytes on look-up (4 bytes per symbol held, not a slice's
/// 16: a table of a million symbols is parsed without faulting in 16 MB).
#[derive(Debug, Clone)]
pub struct Symbols<'a> {
    /// The table's body, from its count field on.
    body: &'a [u8],
    /// Absolute offset of `body[0]`.
    body_offset: u64,
    /// Per symbol, the offset in `body` of its entry (its `strlen`); ascending.
    starts: Vec<u32>,
    v1: bool,
    /// Index of the first symbol not greater than the one before it.
    unsorted_at: Option<usize>,
    /// Absolute offset of the table's length field.
    pub offset: u64,
}

/// Runs its two tasks, side by side (`rayon::join`) or one after the other.
pub type RunBoth<'b> = dyn Fn(&(dyn Fn() + Sync), &(dyn Fn() + Sync)) + 'b;

/// `a >= b` (byte-wise, as slices compare), eight bytes at a time without a
/// call out: most neighbouring symbols differ in their first sixteen bytes.
#[inline]
fn not_before(a: &[u8], b: &[u8]) -> bool {
    let (mut a, mut b) = (a, b);
    while let (Some((x, ra)), Some((y, rb))) =
        (a.split_first_chunk::<8>(), b.split_first_chunk::<8>())
    {
        if x != y {
            return u64::from_be_bytes(*x) > u64::from_be_bytes(*y);
        }
        (a, b) = (ra, rb);
    }
    // Under eight bytes left in one: compare them zero-padded; equal means
    // one is a prefix of the other, and the longer is greater.
    let (mut x, mut y) = ([0u8; 8], [0u8; 8]);
    for (d, s) in x.iter_mut().zip(a) {
        *d = *s;
    }
    for (d, s) in y.iter_mut().zip(b) {
        *d = *s;
    }
    let (x, y) = (u64::from_be_bytes(x), u64::from_be_bytes(y));
    if x != y {
        return x > y;
    }
    a.len() >= b.len()
}

/// The error of a v1 symbol whose offset does not fit a reference.
fn v1_offset_error(at: u64) -> DecodeError {
    DecodeError::OutOfBounds {
        what: "v1 symbol offset",
        offset: at,
        target: at,
        len: u64::from(u32::MAX),
    }
}

impl<'a> Symbols<'a> {
    /// Parses the table at `offset`, checking its CRC and entry count.
    pub fn parse(file: &'a [u8], offset: u64, version: u8) -> Result<Symbols<'a>> {
        let d = crc_section(file, offset, Section::Symbols)?;
        let mut s = Self::parse_body(d, offset, version)?;
        s.unsorted_at = s.first_unsorted_in(0, s.len());
        Ok(s)
    }

    /// [`Symbols::parse`] with its work run two tasks at a time by `both`
    /// (e.g. `rayon::join`): the body's parse beside its CRC, then the
    /// order check in two halves. The same result, the checksum error first.
    pub fn parse_joined(
        file: &'a [u8],
        offset: u64,
        version: u8,
        both: &RunBoth<'_>,
    ) -> Result<Symbols<'a>> {
        let f = CrcFramed::read(file, offset, Section::Symbols)?;
        let (crc, parsed) = (OnceLock::new(), OnceLock::new());
        both(
            &|| {
                let _ = parsed.set(Self::parse_body(f.body(), offset, version));
            },
            &|| {
                let _ = crc.set(f.check_crc());
            },
        );
        crc.into_inner().unwrap_or_else(|| f.check_crc())?;
        let mut s = parsed
            .into_inner()
            .unwrap_or_else(|| Self::parse_body(f.body(), offset, version))?;
        let mid = s.len() / 2;
        let (left, right) = (OnceLock::new(), OnceLock::new());
        both(
            &|| {
                let _ = left.set(s.first_unsorted_in(0, mid));
            },
            &|| {
                let _ = right.set(s.first_unsorted_in(mid, s.len()));
            },
        );
        let left = left
            .into_inner()
            .unwrap_or_else(|| s.first_unsorted_in(0, mid));
        s.unsorted_at = left.or_else(|| {
            right
                .into_inner()
                .unwrap_or_else(|| s.first_unsorted_in(mid, s.len()))
        });
        Ok(s)
    }

    /// Parses the table at `offset` without checking its CRC: for salvaging
    /// a table whose checksum fails. Every string read this way is suspect;
    /// a caller must confirm each one elsewhere before trusting it.
    pub fn parse_unchecked(file: &'a [u8], offset: u64, version: u8) -> Result<Symbols<'a>> {
        let mut d = Decoder::new(slice_from(file, offset, Section::Symbols.name())?, offset);
        let len = d.be_u32()?;
        let body_offset = d.offset();
        let body = d.bytes(len as usize)?;
        let mut s = Self::parse_body(Decoder::new(body, body_offset), offset, version)?;
        s.unsorted_at = s.first_unsorted_in(0, s.len());
        Ok(s)
    }

    /// The first symbol in `[lo, hi)` not greater than the one before it.
    fn first_unsorted_in(&self, lo: usize, hi: usize) -> Option<usize> {
        let mut prev = lo.checked_sub(1).and_then(|i| self.string(i));
        for i in lo..hi {
            let sym = self.string(i)?;
            if prev.is_some_and(|p| not_before(p, sym)) {
                return Some(i);
            }
            prev = Some(sym);
        }
        None
    }

    fn parse_body(mut d: Decoder<'a>, offset: u64, version: u8) -> Result<Symbols<'a>> {
        let body = d.rest();
        let body_offset = d.offset();
        let count_off = d.offset();
        let n = d.be_u32()?;
        let v1 = version == 1;
        // Every symbol takes at least one byte: cap the allocation.
        let cap = (n as usize).min(d.remaining());
        let mut starts = Vec::with_capacity(cap);
        for _ in 0..n as usize {
            let at = d.offset();
            d.uvarint_bytes()?;
            if v1 && u32::try_from(at).is_err() {
                return Err(v1_offset_error(at));
            }
            // The body's length is a BE32: an offset in it fits.
            starts.push(u32::try_from(at - body_offset).map_err(|_| v1_offset_error(at))?);
        }
        if !d.is_empty() {
            return Err(DecodeError::SymbolsTrailingBytes {
                offset: count_off,
                count: u64::from(n),
                left: d.remaining() as u64,
            });
        }
        Ok(Symbols {
            body,
            body_offset,
            starts,
            v1,
            // Set by the caller, which checks the order (see
            // `first_unsorted_in`).
            unsorted_at: None,
            offset,
        })
    }

    /// The string of the entry at `start` in the body.
    #[inline]
    fn string_at(&self, start: u32) -> Option<&'a [u8]> {
        let rest = self.body.get(start as usize..)?;
        let (&len, tail) = rest.split_first()?;
        if len < 0x80 {
            return tail.get(..usize::from(len));
        }
        Decoder::new(rest, 0).uvarint_bytes().ok()
    }

    /// Symbol number `i` (table order).
    #[inline]
    fn string(&self, i: usize) -> Option<&'a [u8]> {
        self.string_at(*self.starts.get(i)?)
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// True when the table is empty.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// All symbols in table order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.starts.iter().filter_map(|&st| self.string_at(st))
    }

    /// Resolves a symbol reference (ordinal for v2, file offset for v1).
    #[inline]
    pub fn lookup(&self, r: u32) -> Option<&'a [u8]> {
        if self.v1 {
            self.lookup_v1(r)
        } else {
            self.string(r as usize)
        }
    }

    #[inline(never)]
    fn lookup_v1(&self, r: u32) -> Option<&'a [u8]> {
        let rel = u64::from(r).checked_sub(self.body_offset)?;
        let i = self.starts.binary_search(&u32::try_from(rel).ok()?).ok()?;
        self.string(i)
    }

    /// Ordinal of `s` in a sorted table, searching from ordinal `from` on:
    /// an exponential (galloping) probe, then a binary search, so a run of
    /// ascending look-ups touches memory mostly forward.
    pub fn position_from(&self, s: &[u8], from: usize) -> Option<usize> {
        let tail = self.starts.get(from..)?;
        let at = |i: usize| tail.get(i).and_then(|&st| self.string_at(st));
        // Ascending look-ups mostly land on the start or right after it.
        if at(0) == Some(s) {
            return Some(from);
        }
        if at(1) == Some(s) {
            return Some(from + 1);
        }
        let mut hi = 1usize;
        while hi < tail.len() && at(hi).is_some_and(|x| x < s) {
            hi = hi.saturating_mul(2);
        }
        let lo = hi / 2;
        let hi = hi.min(tail.len().saturating_sub(1)) + 1;
        let window = tail.get(lo..hi.max(lo))?;
        window
            .binary_search_by(|&st| self.string_at(st).unwrap_or_default().cmp(s))
            .ok()
            .map(|i| from + lo + i)
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
    fn parse_joined_finds_the_first_unsorted_symbol_as_parse_does() {
        let both = |a: &(dyn Fn() + Sync), b: &(dyn Fn() + Sync)| {
            b();
            a();
        };
        for n in [0usize, 1, 2, 3, 8, 9] {
            for bad in 0..=n {
                let mut strs: Vec<String> = (0..n).map(|i| format!("s{i:02}")).collect();
                // Symbol `bad` not after the one before it (none when bad is 0 or n).
                if bad > 0 && bad < n {
                    strs[bad] = strs[bad - 1].clone();
                }
                let refs: Vec<&str> = strs.iter().map(String::as_str).collect();
                let f = table(&refs);
                let want = (1..n).find(|&i| refs[i - 1] >= refs[i]);
                let seq = Symbols::parse(&f, 0, 2).unwrap();
                let par = Symbols::parse_joined(&f, 0, 2, &both).unwrap();
                assert_eq!(seq.first_unsorted(), want, "n {n} bad {bad}");
                assert_eq!(par.first_unsorted(), want, "n {n} bad {bad}");
                assert_eq!(
                    par.iter().collect::<Vec<_>>(),
                    seq.iter().collect::<Vec<_>>()
                );
            }
        }
        // A wrong CRC wins over a body that does not parse.
        let mut f = table(&["a", "b"]);
        let last = f.len() - 1;
        f[last] ^= 1;
        f[8] = 200;
        let seq = Symbols::parse(&f, 0, 2).unwrap_err();
        let par = Symbols::parse_joined(&f, 0, 2, &both).unwrap_err();
        assert_eq!(format!("{seq:?}"), format!("{par:?}"));
        assert!(matches!(par, DecodeError::Checksum { .. }), "{par:?}");
    }

    #[test]
    fn not_before_is_slice_order() {
        let words: [&[u8]; 14] = [
            b"",
            b"\0",
            b"a",
            b"a\0",
            b"ab",
            b"abcdefgh",
            b"abcdefgh\0",
            b"abcdefghi",
            b"abcdefgg",
            b"abcdefghabcdefgh",
            b"abcdefghabcdefgi",
            b"pod-3512-e42d0b90",
            b"pod-3512-e42d0b9",
            b"\xff\xff\xff\xff\xff\xff\xff\xff\x01",
        ];
        for a in words {
            for b in words {
                assert_eq!(not_before(a, b), a >= b, "{a:?} {b:?}");
            }
        }
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
