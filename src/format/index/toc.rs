//! Index header and table of contents.
//!
//! ```text
//! offset 0      BE32 magic 0xBAAAD700 | u8 version (1, 2; 3 accepted, never written)
//! last 52 bytes BE64 symbols | BE64 series | BE64 label_indices | BE64 label_indices_table
//!               | BE64 postings | BE64 postings_table | BE32 CRC32C(previous 48 bytes)
//! ```
//! A TOC value of 0 means the section is absent. Writers ≥ 3.7 drop the legacy
//! label index sections: `label_indices == postings` and
//! `label_indices_table == postings_table`.

use crate::format::decode::{Decoder, crc32c};
use crate::format::error::{DecodeError, Result, Section};

/// Index magic number.
pub const MAGIC_INDEX: u32 = 0xBAAA_D700;
/// Header length: magic + version byte.
pub const HEADER_LEN: usize = 5;
/// TOC length: six BE64 offsets + CRC.
pub const TOC_LEN: usize = 52;

/// The six section offsets of the TOC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Toc {
    /// Symbol table.
    pub symbols: u64,
    /// Start of the series section.
    pub series: u64,
    /// First legacy label index section.
    pub label_indices: u64,
    /// Legacy label offset table.
    pub label_indices_table: u64,
    /// Start of the postings lists.
    pub postings: u64,
    /// Postings offset table.
    pub postings_table: u64,
}

impl Toc {
    /// Absolute offset of the TOC in a file of `len` bytes.
    pub fn offset(len: usize) -> u64 {
        len.saturating_sub(TOC_LEN) as u64
    }

    /// True when the legacy label index sections are present (written by ≤ 3.6).
    pub fn has_label_indices(&self) -> bool {
        self.label_indices_table != 0 && self.label_indices_table != self.postings_table
    }

    /// End of the series region: the smallest non-zero section offset after
    /// `series` (normally `label_indices`).
    pub fn series_end(&self, file_len: u64) -> u64 {
        [
            self.label_indices,
            self.postings,
            self.label_indices_table,
            self.postings_table,
        ]
        .into_iter()
        .filter(|&o| o > self.series)
        .min()
        .unwrap_or(Toc::offset(file_len as usize))
    }
}

/// Checks magic and version; returns the version byte.
pub fn parse_header(file: &[u8]) -> Result<u8> {
    let mut d = Decoder::new(file, 0);
    let magic = d.be_u32()?;
    if magic != MAGIC_INDEX {
        return Err(DecodeError::BadMagic {
            section: Section::IndexHeader,
            offset: 0,
            expected: MAGIC_INDEX,
            found: magic,
        });
    }
    let version = d.u8()?;
    if !(1..=3).contains(&version) {
        return Err(DecodeError::BadVersion {
            section: Section::IndexHeader,
            offset: 4,
            expected: "1, 2 or 3",
            found: u64::from(version),
        });
    }
    Ok(version)
}

/// Reads and checks the TOC at the end of `file`.
pub fn parse_toc(file: &[u8]) -> Result<Toc> {
    if file.len() < HEADER_LEN + TOC_LEN {
        return Err(DecodeError::UnexpectedEof {
            offset: 0,
            wanted: (HEADER_LEN + TOC_LEN) as u64,
            available: file.len() as u64,
        });
    }
    let off = Toc::offset(file.len());
    let mut d = Decoder::new(file.get(off as usize..).unwrap_or(&[]), off);
    let body = d.bytes(48)?;
    let stored = d.be_u32()?;
    let computed = crc32c(body);
    if stored != computed {
        // A file cut short has no TOC at its end: say it is truncated when
        // the sections, walked from the start, run past the end.
        if let Some(e) = truncation(file) {
            return Err(e);
        }
        return Err(DecodeError::Checksum {
            section: Section::Toc,
            offset: off,
            stored,
            computed,
        });
    }
    let mut b = Decoder::new(body, off);
    let toc = Toc {
        symbols: b.be_u64()?,
        series: b.be_u64()?,
        label_indices: b.be_u64()?,
        label_indices_table: b.be_u64()?,
        postings: b.be_u64()?,
        postings_table: b.be_u64()?,
    };
    let names = [
        ("symbols", toc.symbols),
        ("series", toc.series),
        ("label_indices", toc.label_indices),
        ("label_indices_table", toc.label_indices_table),
        ("postings", toc.postings),
        ("postings_table", toc.postings_table),
    ];
    for (i, (_name, v)) in names.iter().enumerate() {
        if *v > off {
            return Err(DecodeError::OutOfBounds {
                what: "TOC section offset",
                offset: off + 8 * i as u64,
                target: *v,
                len: off,
            });
        }
    }
    Ok(toc)
}

/// Walks an index whose TOC does not check from its start (symbol table,
/// series entries, then the length-prefixed sections: label indices,
/// postings, the offset tables), each with its CRC, and returns the
/// [`DecodeError::UnexpectedEof`] of the first one that runs past the end of
/// the file: proof the file was cut. `None` when a section fails its CRC
/// first (damage, or the end of what can be walked) or all fit (the TOC
/// itself is damaged).
pub fn truncation(file: &[u8]) -> Option<DecodeError> {
    let len = file.len() as u64;
    let version = *file.get(4)?;
    let eof = |offset: u64, wanted: u64| {
        Some(DecodeError::UnexpectedEof {
            offset,
            wanted,
            available: len.saturating_sub(offset),
        })
    };
    let be32 = |at: u64| -> Option<u32> {
        let b = file.get(at as usize..at.checked_add(4)? as usize)?;
        Some(u32::from_be_bytes(b.try_into().ok()?))
    };
    // A length-prefixed section with a CRC: Ok(end) when whole and checked,
    // Err(Some(eof)) when it runs past the end, Err(None) when it fails.
    let section = |at: u64| -> std::result::Result<u64, Option<DecodeError>> {
        let Some(n) = be32(at) else {
            return Err(eof(at, 4));
        };
        let want = 4 + u64::from(n) + 4;
        if at + want > len {
            return Err(eof(at, want));
        }
        let body = file
            .get((at + 4) as usize..(at + 4 + u64::from(n)) as usize)
            .ok_or(None)?;
        let crc = be32(at + 4 + u64::from(n)).ok_or(None)?;
        if n == 0 || crc32c(body) != crc {
            return Err(None);
        }
        Ok(at + want)
    };
    let align = |x: u64, a: u64| x.div_ceil(a) * a;
    let mut pos = match section(HEADER_LEN as u64) {
        Ok(end) => end,
        Err(e) => return e,
    };
    // Series entries: uvarint length, body, CRC; 16-byte aligned in v2.
    loop {
        let at = if version >= 2 { align(pos, 16) } else { pos };
        let (n, w) = match uvarint(file.get(at as usize..).unwrap_or(&[])) {
            Some(x) => x,
            None if at >= len => return eof(at, 1),
            None => break,
        };
        if n == 0 {
            break;
        }
        let want = w.saturating_add(n).saturating_add(4);
        if at.saturating_add(want) > len {
            // Only a plausible entry: a length past the end by more than the
            // whole file is not one.
            if n <= len {
                return eof(at, want);
            }
            break;
        }
        let Some(body) = file.get((at + w) as usize..(at + w + n) as usize) else {
            break;
        };
        if be32(at + w + n) != Some(crc32c(body)) {
            break;
        }
        pos = at + want;
    }
    // Label indices, postings lists and the offset tables: 4-byte aligned.
    loop {
        let toc_at = Toc::offset(file.len());
        if pos == toc_at || align(pos, 4) == toc_at {
            return None;
        }
        match section(align(pos, 4)) {
            Ok(end) => pos = end,
            // Runs past the end: truncated; does not check: damage, not
            // provably a cut.
            Err(e) => return e,
        }
        if pos + TOC_LEN as u64 > len {
            return eof(pos, TOC_LEN as u64);
        }
    }
}

fn uvarint(b: &[u8]) -> Option<(u64, u64)> {
    let mut x = 0u64;
    for (i, &c) in b.iter().enumerate().take(10) {
        x |= u64::from(c & 0x7f) << (7 * i);
        if c < 0x80 {
            return Some((x, i as u64 + 1));
        }
    }
    None
}
