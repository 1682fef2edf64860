//! Postings lists, the postings offset table, and the legacy label index
//! sections with their offset table.
//!
//! ```text
//! postings list        [pad to 4] BE32 len | BE32 n | n × BE32 series_ref | BE32 CRC32C
//! postings offset tbl  BE32 len | BE32 n | n × (uvarint 2 | str name | str value | uvarint offset) | BE32 CRC32C
//! label index (≤3.6)   [pad to 4] BE32 len | BE32 n_names | BE32 n_entries | n_entries × BE32 ref | BE32 CRC32C
//! label offset table   BE32 len | BE32 n | n × (uvarint 1 | str name | uvarint offset) | BE32 CRC32C
//! ```
//! The first postings list is the "all postings" list, keyed ("", "").

use crate::format::decode::{Decoder, crc_section, uvarint8};
use crate::format::error::{DecodeError, Result, Section};

/// One entry of the postings offset table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostingsEntry<'a> {
    /// Label name (`""` for the all-postings list).
    pub name: &'a [u8],
    /// Label value.
    pub value: &'a [u8],
    /// Absolute offset of the postings list's length field.
    pub offset: u64,
    /// Absolute offset of this table entry (for findings).
    pub entry_offset: u64,
}

/// Parses the postings offset table at `offset`.
pub fn parse_postings_table(file: &[u8], offset: u64) -> Result<Vec<PostingsEntry<'_>>> {
    let it = PostingsTableIter::new(file, offset)?;
    let mut out = Vec::with_capacity(it.len().min(1 << 20));
    for e in it {
        out.push(e?);
    }
    Ok(out)
}

/// Streams the entries of the postings offset table (CRC checked up front),
/// so a walk over millions of label pairs holds one entry at a time.
#[derive(Debug, Clone)]
pub struct PostingsTableIter<'a> {
    d: Decoder<'a>,
    left: u32,
    n: u32,
    failed: bool,
}

impl<'a> PostingsTableIter<'a> {
    /// Checks the table's CRC and prepares the walk.
    pub fn new(file: &'a [u8], offset: u64) -> Result<Self> {
        let mut d = crc_section(file, offset, Section::PostingsOffsetTable)?;
        let n = d.be_u32()?;
        Ok(PostingsTableIter {
            d,
            left: n,
            n,
            failed: false,
        })
    }

    /// Number of entries the table says it has.
    pub fn len(&self) -> usize {
        self.n as usize
    }

    /// True when the table says it is empty.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    fn entry(&mut self) -> Result<PostingsEntry<'a>> {
        if let Some((e, n)) = entry_fast(self.d.rest(), self.d.offset()) {
            self.d.skip(n)?;
            return Ok(e);
        }
        let d = &mut self.d;
        let entry_offset = d.offset();
        let keys = d.uvarint()?;
        if keys != 2 {
            return Err(DecodeError::KeyCount {
                section: Section::PostingsOffsetTable,
                offset: entry_offset,
                expected: 2,
                found: keys,
            });
        }
        let name = d.uvarint_bytes()?;
        let value = d.uvarint_bytes()?;
        let offset = d.uvarint()?;
        Ok(PostingsEntry {
            name,
            value,
            offset,
            entry_offset,
        })
    }
}

/// The common shape of a table entry at the start of `b` (absolute offset
/// `at`), read without a checked cursor: key count 2, name and value
/// shorter than 128 bytes, an offset of at most eight bytes that ends
/// within `b`. The entry and its length; `None` for anything else, which
/// the checked cursor reads (and reports).
#[inline(always)]
fn entry_fast(b: &[u8], at: u64) -> Option<(PostingsEntry<'_>, usize)> {
    let [2, name_len, ..] = *b else {
        return None;
    };
    let name_end = 2 + usize::from(name_len);
    let value_len = *b.get(name_end)?;
    if name_len >= 0x80 || value_len >= 0x80 {
        return None;
    }
    let value_end = name_end + 1 + usize::from(value_len);
    let (offset, n) = uvarint8(b.get(value_end..)?.first_chunk::<8>()?)?;
    let e = PostingsEntry {
        name: b.get(2..name_end)?,
        value: b.get(name_end + 1..value_end)?,
        offset,
        entry_offset: at,
    };
    Some((e, value_end + n))
}

impl<'a> Iterator for PostingsTableIter<'a> {
    type Item = Result<PostingsEntry<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if self.left == 0 {
            self.failed = true;
            return trailing(&self.d, Section::PostingsOffsetTable, self.n)
                .err()
                .map(Err);
        }
        self.left -= 1;
        let r = self.entry();
        if r.is_err() {
            self.failed = true;
        }
        Some(r)
    }
}

/// A checked postings list: series references in file order.
#[derive(Debug, Clone, Copy)]
pub struct Postings<'a> {
    refs: &'a [u8],
    /// Absolute offset of the list's length field.
    pub offset: u64,
}

impl<'a> Postings<'a> {
    /// Parses the postings list at `offset`, checking CRC and count.
    pub fn parse(file: &'a [u8], offset: u64) -> Result<Postings<'a>> {
        let mut d = crc_section(file, offset, Section::Postings)?;
        let n = d.be_u32()?;
        let want = u64::from(n) * 4;
        if want != d.remaining() as u64 {
            return Err(DecodeError::PostingsLength {
                offset,
                entries: n,
                found: d.remaining() as u64,
            });
        }
        Ok(Postings {
            refs: d.rest(),
            offset,
        })
    }

    /// Number of series references.
    pub fn len(&self) -> usize {
        self.refs.len() / 4
    }

    /// True when the list is empty.
    pub fn is_empty(&self) -> bool {
        self.refs.is_empty()
    }

    /// The `i`-th series reference, if the list is that long.
    pub fn get(&self, i: usize) -> Option<u32> {
        let at = i.checked_mul(4)?;
        let b = self.refs.get(at..at.checked_add(4)?)?;
        b.try_into().ok().map(u32::from_be_bytes)
    }

    /// The series references, in file order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + 'a {
        self.refs
            .as_chunks::<4>()
            .0
            .iter()
            .map(|a| u32::from_be_bytes(*a))
    }
}

/// One entry of the legacy label offset table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelIndexEntry<'a> {
    /// Label name.
    pub name: &'a [u8],
    /// Absolute offset of the label index section.
    pub offset: u64,
}

/// Parses the legacy label offset table at `offset`.
pub fn parse_label_offset_table(file: &[u8], offset: u64) -> Result<Vec<LabelIndexEntry<'_>>> {
    let mut d = crc_section(file, offset, Section::LabelOffsetTable)?;
    let n = d.be_u32()?;
    let mut out = Vec::with_capacity((n as usize).min(d.remaining() / 3));
    for _ in 0..n {
        let at = d.offset();
        let keys = d.uvarint()?;
        if keys != 1 {
            return Err(DecodeError::KeyCount {
                section: Section::LabelOffsetTable,
                offset: at,
                expected: 1,
                found: keys,
            });
        }
        let name = d.uvarint_bytes()?;
        let offset = d.uvarint()?;
        out.push(LabelIndexEntry { name, offset });
    }
    trailing(&d, Section::LabelOffsetTable, n)?;
    Ok(out)
}

/// A checked legacy label index: `n_names`-tuples of symbol references.
#[derive(Debug, Clone)]
pub struct LabelIndex {
    /// Names per tuple (always 1 for files written by 2.x).
    pub n_names: u32,
    /// Symbol references of the values.
    pub refs: Vec<u32>,
}

/// Parses the label index section at `offset`.
pub fn parse_label_index(file: &[u8], offset: u64) -> Result<LabelIndex> {
    let mut d = crc_section(file, offset, Section::LabelIndex)?;
    let n_names = d.be_u32()?;
    let n_entries = d.be_u32()?;
    let want = u64::from(n_entries) * 4;
    if want != d.remaining() as u64 || n_names == 0 {
        return Err(DecodeError::LabelIndexLength {
            offset,
            entries: n_entries,
            names: n_names,
            found: d.remaining() as u64,
        });
    }
    let mut refs = Vec::with_capacity(n_entries as usize);
    for _ in 0..n_entries {
        refs.push(d.be_u32()?);
    }
    Ok(LabelIndex { n_names, refs })
}

fn trailing(d: &Decoder<'_>, section: Section, n: u32) -> Result<()> {
    if d.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::TableTrailingBytes {
            section,
            offset: d.offset(),
            entries: n,
            left: d.remaining() as u64,
        })
    }
}
