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
