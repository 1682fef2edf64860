//! Fragments: the 7-byte header, type, length, page bounds, CRC, and the
//! page-terminator padding rule.

#[allow(clippy::wildcard_imports)]
use super::*;

/// One fragment, checked for type, length, page bounds and CRC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// Offset of the fragment header in the segment.
    pub offset: u64,
    /// The raw type byte (type bits and compression flags).
    pub type_byte: u8,
    /// Fragment type (never [`FragmentType::PageTerm`]: padding is skipped).
    pub kind: FragmentType,
    /// The compression announced by the type byte.
    pub compression: Compression,
    /// The fragment data (possibly compressed bytes of part of a record).
    pub data: &'a [u8],
    /// True if the fragment (header or data) runs past the end of its page,
    /// which writers never do but Prometheus's reader accepts (its tests note
    /// such WALs were seen in production).
    pub crosses_page: bool,
}

impl Fragment<'_> {
    /// Offset just past the fragment's data.
    pub fn end_offset(&self) -> u64 {
        self.offset + (FRAGMENT_HEADER_SIZE + self.data.len()) as u64
    }
}

/// Iterates over the fragments of one segment, skipping page padding.
///
/// Checks, per fragment: type bits 0-4, length at most a page minus the
/// header, CRC32C; and that padding is zero up to the page boundary. A valid
/// fragment that runs past its page is accepted, as Prometheus does, and
/// counted ([`FragmentReader::page_crossings`]). It does not check fragment
/// order (that is [`RecordReader`]'s job). When the data ends inside a
/// fragment it yields [`WalError::Torn`] with that fragment's offset. Fused
/// after the first error.
#[derive(Debug, Clone)]
pub struct FragmentReader<'a> {
    pub(super) data: &'a [u8],
    pos: usize,
    page_size: usize,
    done: bool,
    page_crossings: u64,
}

impl<'a> FragmentReader<'a> {
    /// A reader over one segment's bytes, with 32 KiB pages.
    pub fn new(segment: &'a [u8]) -> Self {
        Self::with_page_size(segment, PAGE_SIZE)
    }

    /// A reader with another page size (tests use tiny pages). Page sizes
    /// below 8 bytes are raised to 8.
    pub(crate) fn with_page_size(segment: &'a [u8], page_size: usize) -> Self {
        Self {
            data: segment,
            pos: 0,
            page_size: page_size.max(FRAGMENT_HEADER_SIZE + 1),
            done: false,
            page_crossings: 0,
        }
    }

    /// A reader over one segment's bytes that starts at `offset` (which
    /// must be where a fragment or the page padding starts), with 32 KiB
    /// pages counted from the start of the segment.
    pub fn starting_at(segment: &'a [u8], offset: u64) -> Self {
        let mut r = Self::new(segment);
        r.pos = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(segment.len());
        r
    }

    /// Fragments so far that ran past the end of their page.
    pub fn page_crossings(&self) -> u64 {
        self.page_crossings
    }

    /// Offset of the next unread byte.
    pub fn position(&self) -> u64 {
        self.pos as u64
    }

    /// Length of the segment.
    pub fn len(&self) -> u64 {
        self.data.len() as u64
    }

    /// True if the segment is empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn fail(&mut self, e: WalError) -> Option<Result<Fragment<'a>, WalError>> {
        self.done = true;
        Some(Err(e))
    }

    /// The next fragment, or `None` at the end of the data.
    #[inline]
    pub(super) fn next_fragment(&mut self) -> Option<Result<Fragment<'a>, WalError>> {
        if self.done {
            return None;
        }
        loop {
            let pos = self.pos;
            let rest = self.data.get(pos..).unwrap_or(&[]);
            let Some(&type_byte) = rest.first() else {
                self.done = true;
                return None;
            };
            let page_left = self.page_size - pos % self.page_size;
            if type_byte == 0 {
                // Page terminator: zeros up to the page boundary (or the end of
                // the data, which reads as zero padding).
                let pad = rest.get(..page_left).unwrap_or(rest);
                if let Some(i) = pad.iter().position(|&b| b != 0) {
                    return self.fail(bad_padding(pos + i, pad.get(i).copied().unwrap_or(0)));
                }
                self.pos = pos + pad.len();
                continue;
            }
            let offset = pos as u64;
            let Some(kind) = FragmentType::from_bits(type_byte) else {
                return self.fail(bad_type(offset, type_byte));
            };
            if kind == FragmentType::PageTerm {
                return self.fail(bad_page_term(offset, type_byte));
            }
            let Some(header) = rest.first_chunk::<FRAGMENT_HEADER_SIZE>() else {
                // The data ends inside the header.
                return self.fail(WalError::Torn {
                    offset,
                    end: self.data.len() as u64,
                });
            };
            let [_, l0, l1, c0, c1, c2, c3] = *header;
            let len = usize::from(u16::from_be_bytes([l0, l1]));
            let stored = u32::from_be_bytes([c0, c1, c2, c3]);
            let max = self.page_size - FRAGMENT_HEADER_SIZE;
            if len > max {
                return self.fail(too_long(offset, max, len));
            }
            let Some(data) = rest.get(FRAGMENT_HEADER_SIZE..FRAGMENT_HEADER_SIZE + len) else {
                return self.fail(WalError::Torn {
                    offset,
                    end: self.data.len() as u64,
                });
            };
            let computed = crc32c(data);
            if computed != stored {
                return self.fail(WalError::Corrupt(DecodeError::Checksum {
                    section: Section::WalFragment,
                    offset,
                    stored,
                    computed,
                }));
            }
            let crosses_page = FRAGMENT_HEADER_SIZE + len > page_left;
            self.page_crossings += u64::from(crosses_page);
            self.pos = pos + FRAGMENT_HEADER_SIZE + len;
            return Some(Ok(Fragment {
                offset,
                type_byte,
                kind,
                compression: Compression::from_type_byte(type_byte),
                data,
                crosses_page,
            }));
        }
    }
}

impl<'a> Iterator for FragmentReader<'a> {
    type Item = Result<Fragment<'a>, WalError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_fragment()
    }
}

// The decode errors, out of the hot loop.

#[cold]
fn bad_padding(pos: usize, found: u8) -> WalError {
    WalError::Corrupt(DecodeError::WalPadding {
        offset: pos as u64,
        found,
    })
}

#[cold]
fn bad_type(offset: u64, type_byte: u8) -> WalError {
    WalError::Corrupt(DecodeError::invalid(
        Section::WalFragment,
        offset,
        "fragment type 0-4",
        format!(
            "type {} (byte {type_byte:#04x})",
            type_byte & FRAGMENT_TYPE_MASK
        ),
    ))
}

#[cold]
fn bad_page_term(offset: u64, type_byte: u8) -> WalError {
    WalError::Corrupt(DecodeError::invalid(
        Section::WalFragment,
        offset,
        "a zero byte for a page terminator",
        format!("byte {type_byte:#04x}"),
    ))
}

#[cold]
fn too_long(offset: u64, max: usize, len: usize) -> WalError {
    WalError::Corrupt(DecodeError::invalid(
        Section::WalFragment,
        offset,
        format!("fragment length <= {max} (a page minus the header)"),
        format!("length {len}"),
    ))
}
