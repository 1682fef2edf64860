//! WAL, WBL and checkpoint segments: 32 KiB pages of CRC'd fragments that
//! reassemble into records (`tsdb/wlog`, `tsdb/docs/format/wal.md`).
//!
//! ```text
//! segment = page*                        (no file header, no magic)
//! page    = fragment* [0x00 padding to the page boundary]     32768 bytes
//! fragment:
//! ┌──────────────┬──────────────┬───────────────────┬────────────────┐
//! │ type <1b>    │ len <BE16>   │ CRC32C(data) <4b> │ data <len>     │
//! └──────────────┴──────────────┴───────────────────┴────────────────┘
//! type: bits 2-0 = 0 page terminator, 1 full, 2 first, 3 middle, 4 last
//!       bit 3 (0x08) = snappy, bit 4 (0x10) = zstd (snappy wins if both)
//! ```
//!
//! A record is one `full` fragment or `first middle* last`; compression is
//! applied to the whole record before it is split. A fragment never crosses a
//! page boundary, and a page with fewer than 7 bytes left is zero-padded.
//!
//! [`RecordReader`] reads one segment held in memory, validates every rule
//! above and yields the (decompressed) records. It tells a *torn tail* (the
//! data ends inside a record, as after a crash mid-write) from *corruption*
//! ([`WalError`]), and reports [`RecordReader::valid_offset`]: the end of the
//! last good record, where Prometheus's repair would cut.
//!
//! Where we are stricter than Prometheus's `wlog.Reader` (which accepts these):
//! a page-terminator byte must be exactly `0x00` (Prometheus only looks at the
//! type bits); all fragments of one record must carry the same compression
//! flag. Like Prometheus, we accept a fragment with a valid CRC that runs past
//! its page (writers never do this, but Prometheus's tests say such WALs were
//! seen in production) and count it in [`FragmentStats::page_crossings`].
//! Where we are looser: an incomplete fragment at the very end of the data is
//! reported as a torn tail, not as corruption (Prometheus pads the short page
//! with zeros and then fails the CRC).

pub mod segment;

use std::fmt;
use std::io::Read as _;

use super::decode::crc32c;
use super::error::{DecodeError, Section};

/// WAL page size in bytes (`tsdb/wlog/wlog.go` `pageSize`).
pub const PAGE_SIZE: usize = 32768;
/// Size of a fragment header: type byte, BE16 length, BE32 CRC32C.
pub const FRAGMENT_HEADER_SIZE: usize = 7;
/// Largest fragment data length in a 32 KiB page.
pub const MAX_FRAGMENT_LEN: usize = PAGE_SIZE - FRAGMENT_HEADER_SIZE;
/// Type-byte bit marking a snappy-compressed (block format) record.
pub const SNAPPY_FLAG: u8 = 0x08;
/// Type-byte bit marking a zstd-compressed record.
pub const ZSTD_FLAG: u8 = 0x10;
/// Mask of the fragment type bits in the type byte.
pub const FRAGMENT_TYPE_MASK: u8 = 0x07;

/// Largest decompressed record this reader accepts, whatever the input.
///
/// Not a format limit: a guard against decompression bombs. Prometheus writes
/// records of at most a few MiB.
pub const MAX_DECOMPRESSED_RECORD: usize = 1 << 30;
/// A compressed record may expand at most this many times (plus 1 MiB)
/// before it is refused; snappy cannot exceed ~22x by construction.
pub const MAX_EXPANSION: usize = 1024;

/// The kind of a fragment (type-byte bits 2-0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FragmentType {
    /// 0: the rest of the page is zero.
    PageTerm,
    /// 1: a whole record.
    Full,
    /// 2: the first fragment of a split record.
    First,
    /// 3: an inner fragment of a split record.
    Middle,
    /// 4: the last fragment of a split record.
    Last,
}

impl FragmentType {
    /// Decodes the low three bits of a type byte; 5-7 are invalid.
    pub fn from_bits(bits: u8) -> Option<Self> {
        match bits & FRAGMENT_TYPE_MASK {
            0 => Some(Self::PageTerm),
            1 => Some(Self::Full),
            2 => Some(Self::First),
            3 => Some(Self::Middle),
            4 => Some(Self::Last),
            _ => None,
        }
    }

    /// A short lowercase name: `page_term`, `full`, `first`, `middle`, `last`.
    pub fn name(self) -> &'static str {
        match self {
            Self::PageTerm => "page_term",
            Self::Full => "full",
            Self::First => "first",
            Self::Middle => "middle",
            Self::Last => "last",
        }
    }
}

impl fmt::Display for FragmentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a record's bytes are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    /// Stored as is.
    #[default]
    None,
    /// Snappy block format (flag `0x08`).
    Snappy,
    /// Zstandard frame(s) (flag `0x10`).
    Zstd,
}

impl Compression {
    /// The compression a fragment type byte announces (snappy wins over zstd,
    /// as in Prometheus).
    pub fn from_type_byte(b: u8) -> Self {
        if b & SNAPPY_FLAG != 0 {
            Self::Snappy
        } else if b & ZSTD_FLAG != 0 {
            Self::Zstd
        } else {
            Self::None
        }
    }

    /// `none`, `snappy` or `zstd`.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Snappy => "snappy",
            Self::Zstd => "zstd",
        }
    }
}

/// Why reading a segment stopped early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalError {
    /// The data ends inside a record: its first fragment(s) are there, its
    /// last is not, or the data ends inside a fragment. This is what a crash
    /// in the middle of a write leaves in the newest segment.
    #[error("last record is torn: it starts at offset {offset} and the data ends at {end}")]
    Torn {
        /// Offset of the torn record's first fragment.
        offset: u64,
        /// Where the data ends.
        end: u64,
    },
    /// The bytes break a rule of the format; `DecodeError::offset` is the
    /// start of the bad fragment (or the bad padding byte).
    #[error(transparent)]
    Corrupt(DecodeError),
}

impl WalError {
    /// The offset the error is about (torn record start, or corruption offset).
    pub fn offset(&self) -> u64 {
        match self {
            WalError::Torn { offset, .. } => *offset,
            WalError::Corrupt(e) => e.offset(),
        }
    }

    /// True for a torn tail (not corruption).
    pub fn is_torn(&self) -> bool {
        matches!(self, WalError::Torn { .. })
    }

    /// What kind of damage this is, for finding codes.
    pub fn kind(&self) -> WalErrorKind {
        match self {
            WalError::Torn { .. } => WalErrorKind::Torn,
            WalError::Corrupt(DecodeError::Checksum { .. }) => WalErrorKind::Checksum,
            WalError::Corrupt(DecodeError::WalPadding { .. }) => WalErrorKind::Padding,
            WalError::Corrupt(
                DecodeError::WalNoRecordOpen { .. } | DecodeError::WalRecordOpen { .. },
            ) => WalErrorKind::FragmentOrder,
            WalError::Corrupt(DecodeError::WalDecompress { .. }) => WalErrorKind::Decompress,
            WalError::Corrupt(_) => WalErrorKind::FragmentInvalid,
        }
    }

    /// A stable snake_case code: `torn_tail`, or the [`DecodeError::code`].
    pub fn code(&self) -> &'static str {
        match self {
            WalError::Torn { .. } => "torn_tail",
            WalError::Corrupt(e) => e.code(),
        }
    }
}

/// The kinds of [`WalError`], each with its own finding code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WalErrorKind {
    /// The data ends inside a record (`wal_torn_tail`).
    Torn,
    /// A fragment's CRC32C does not match (`wal_checksum`).
    Checksum,
    /// A fragment out of sequence: `middle`/`last` with no record open, or
    /// `full`/`first` while one is (`wal_fragment_order`).
    FragmentOrder,
    /// Non-zero bytes where the page padding must be zero (`wal_padding_nonzero`).
    Padding,
    /// A record that does not decompress (`wal_decompress`).
    Decompress,
    /// A bad fragment type, a length beyond the page, or compression flags
    /// changing inside a record (`wal_fragment_invalid`).
    FragmentInvalid,
}

impl From<DecodeError> for WalError {
    fn from(e: DecodeError) -> Self {
        WalError::Corrupt(e)
    }
}

mod compress;
mod fragment;

use compress::*;
pub use fragment::*;

/// A record as read from a segment, borrowed from the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRecord<'a> {
    /// The record bytes, decompressed. The first byte is the record type
    /// (see [`crate::format::record`]); an empty record is valid.
    pub data: &'a [u8],
    /// Offset of the record's first fragment in the segment.
    pub offset: u64,
    /// Offset just past the record's last fragment.
    pub end_offset: u64,
    /// The compression the record was stored with.
    pub compression: Compression,
    /// How many fragments the record was split into (1 for `full`).
    pub fragments: u32,
    /// Stored (possibly compressed) length of the record's data.
    pub stored_len: usize,
}

impl RawRecord<'_> {
    /// An owned copy.
    pub fn to_owned_record(&self) -> Record {
        Record {
            data: self.data.to_vec(),
            offset: self.offset,
            end_offset: self.end_offset,
            compression: self.compression,
            fragments: self.fragments,
        }
    }
}

/// An owned record, as yielded by the [`Iterator`] impl of [`RecordReader`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The decompressed record bytes.
    pub data: Vec<u8>,
    /// Offset of the record's first fragment.
    pub offset: u64,
    /// Offset just past the record's last fragment.
    pub end_offset: u64,
    /// Compression used on disk.
    pub compression: Compression,
    /// Number of fragments.
    pub fragments: u32,
}

/// Reassembly state: the explicit fragment-order state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No record open: `full` or `first` may come.
    Idle,
    /// A record is open: `middle` or `last` may come.
    InRecord {
        offset: u64,
        compression: Compression,
        type_byte: u8,
        fragments: u32,
    },
}

/// Counts of what a [`RecordReader`] has seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct FragmentStats {
    /// `full` fragments.
    pub full: u64,
    /// `first` fragments.
    pub first: u64,
    /// `middle` fragments.
    pub middle: u64,
    /// `last` fragments.
    pub last: u64,
    /// Fragments that ran past the end of their page (never written by
    /// Prometheus's writer; accepted by its reader).
    pub page_crossings: u64,
    /// Fragments whose type byte has reserved bits (7-5) set, or both
    /// compression flags: never written by Prometheus, ignored by its
    /// reader (snappy wins), so a sign of a flipped bit.
    pub odd_type_bytes: u64,
    /// Offset of the first such fragment.
    pub first_odd_type_byte: Option<u64>,
}

/// Reads the records of one segment (see the module docs).
///
/// Use [`RecordReader::next_record`] to borrow each record without copying
/// (single-fragment uncompressed records point into the segment; others into
/// buffers reused from record to record), or the [`Iterator`] impl for owned
/// [`Record`]s. Fused after the first error.
pub struct RecordReader<'a> {
    fragments: FragmentReader<'a>,
    state: State,
    /// Reassembled stored bytes of a split record.
    assembly: Vec<u8>,
    /// Decompressed bytes (its `len` is a high-water mark for snappy).
    out: Vec<u8>,
    snappy: snap::raw::Decoder,
    zstd: Option<zstd::bulk::Decompressor<'static>>,
    valid_offset: u64,
    records: u64,
    stats: FragmentStats,
    /// `stats` as of the end of the last record yielded.
    committed: FragmentStats,
    done: bool,
}

impl fmt::Debug for RecordReader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordReader")
            .field("position", &self.fragments.position())
            .field("state", &self.state)
            .field("valid_offset", &self.valid_offset)
            .field("records", &self.records)
            .finish_non_exhaustive()
    }
}

/// The buffers a [`RecordReader`] reuses from record to record, handed from
/// one reader to the next ([`RecordReader::with_buffers`]).
#[derive(Debug, Default)]
pub struct RecordBuffers {
    assembly: Vec<u8>,
    out: Vec<u8>,
}

/// Where the bytes of the record being emitted live.
enum Src {
    /// In the segment: `data[start..end]`.
    Segment(usize, usize),
    /// In `assembly`.
    Assembly,
}

/// A record's stored (maybe compressed) bytes and where it lies.
struct Stored {
    src: Src,
    offset: u64,
    end_offset: u64,
    compression: Compression,
    fragments: u32,
}

impl<'a> RecordReader<'a> {
    /// A reader over one segment's bytes, with 32 KiB pages.
    pub fn new(segment: &'a [u8]) -> Self {
        Self::with_page_size(segment, PAGE_SIZE)
    }

    /// A reader that starts at `offset`, which must be where a `full` or
    /// `first` fragment starts (used to read on after damage); pages are
    /// counted from the start of the segment.
    pub fn starting_at(segment: &'a [u8], offset: u64) -> Self {
        let mut r = Self::new(segment);
        r.fragments = FragmentReader::starting_at(segment, offset);
        r.valid_offset = r.fragments.position();
        r
    }

    /// Takes over the buffers of an earlier reader (see
    /// [`RecordReader::into_buffers`]): a scan that reads a file window by
    /// window then neither reallocates nor re-zeroes them for each window.
    pub fn with_buffers(mut self, bufs: RecordBuffers) -> Self {
        (self.assembly, self.out) = (bufs.assembly, bufs.out);
        self
    }

    /// The reader's reassembly and decompression buffers, for the next one.
    pub fn into_buffers(self) -> RecordBuffers {
        RecordBuffers {
            assembly: self.assembly,
            out: self.out,
        }
    }

    /// A reader with another page size (tests use tiny pages).
    pub(crate) fn with_page_size(segment: &'a [u8], page_size: usize) -> Self {
        Self {
            fragments: FragmentReader::with_page_size(segment, page_size),
            state: State::Idle,
            assembly: Vec::new(),
            out: Vec::new(),
            snappy: snap::raw::Decoder::new(),
            zstd: None,
            valid_offset: 0,
            records: 0,
            stats: FragmentStats::default(),
            committed: FragmentStats::default(),
            done: false,
        }
    }

    /// End of the last good record (0 before the first): everything before
    /// this offset decoded cleanly.
    pub fn valid_offset(&self) -> u64 {
        self.valid_offset
    }

    /// Offset of the next unread byte.
    pub fn position(&self) -> u64 {
        self.fragments.position()
    }

    /// Number of records yielded so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Fragments of the records yielded so far (not of an open record).
    pub fn committed_fragment_stats(&self) -> FragmentStats {
        self.committed
    }

    /// Fragments seen so far, by type, including those of a record still open.
    pub fn fragment_stats(&self) -> FragmentStats {
        FragmentStats {
            page_crossings: self.fragments.page_crossings(),
            ..self.stats
        }
    }

    /// The next record's stored bytes (one fragment's, or the fragments
    /// assembled), or why there are none.
    #[inline]
    fn next_stored(&mut self) -> Option<Result<Stored, WalError>> {
        loop {
            let frag = match self.fragments.next_fragment() {
                Some(Ok(f)) => f,
                Some(Err(e)) => return self.stop(Some(e)),
                None => return self.stop(None),
            };
            if frag.type_byte & 0xE0 != 0
                || frag.type_byte & (SNAPPY_FLAG | ZSTD_FLAG) == SNAPPY_FLAG | ZSTD_FLAG
            {
                self.stats.odd_type_bytes += 1;
                self.stats.first_odd_type_byte.get_or_insert(frag.offset);
            }
            match (self.state, frag.kind) {
                (State::Idle, FragmentType::Full) => {
                    self.stats.full += 1;
                    let start = (frag.offset as usize) + FRAGMENT_HEADER_SIZE;
                    return Some(Ok(Stored {
                        src: Src::Segment(start, start + frag.data.len()),
                        offset: frag.offset,
                        end_offset: frag.end_offset(),
                        compression: frag.compression,
                        fragments: 1,
                    }));
                }
                (State::Idle, FragmentType::First) => {
                    self.stats.first += 1;
                    self.assembly.clear();
                    self.assembly.extend_from_slice(frag.data);
                    self.state = State::InRecord {
                        offset: frag.offset,
                        compression: frag.compression,
                        type_byte: frag.type_byte,
                        fragments: 1,
                    };
                }
                (open @ State::InRecord { .. }, FragmentType::Middle | FragmentType::Last) => {
                    match self.extend_record(&frag, open) {
                        Ok(Some(s)) => return Some(Ok(s)),
                        Ok(None) => {}
                        Err(e) => return self.fail(e),
                    }
                }
                (State::Idle, kind @ (FragmentType::Middle | FragmentType::Last)) => {
                    return self.fail(WalError::Corrupt(DecodeError::WalNoRecordOpen {
                        offset: frag.offset,
                        found: kind.name(),
                    }));
                }
                (
                    State::InRecord { offset, .. },
                    kind @ (FragmentType::Full | FragmentType::First),
                ) => {
                    return self.fail(WalError::Corrupt(DecodeError::WalRecordOpen {
                        offset: frag.offset,
                        open: offset,
                        found: kind.name(),
                    }));
                }
                (_, FragmentType::PageTerm) => {
                    // FragmentReader skips padding; never reached.
                    continue;
                }
            }
        }
    }

    /// A `middle` or `last` fragment of the `open` record: the record when
    /// it is the last.
    #[inline]
    fn extend_record(
        &mut self,
        frag: &fragment::Fragment<'_>,
        open: State,
    ) -> Result<Option<Stored>, WalError> {
        let State::InRecord {
            offset,
            compression,
            type_byte,
            fragments,
        } = open
        else {
            return Ok(None);
        };
        if frag.compression != compression {
            return Err(mixed_compression(frag, compression, type_byte));
        }
        self.assembly.extend_from_slice(frag.data);
        let fragments = fragments.saturating_add(1);
        if frag.kind == FragmentType::Last {
            self.stats.last += 1;
            self.state = State::Idle;
            return Ok(Some(Stored {
                src: Src::Assembly,
                offset,
                end_offset: frag.end_offset(),
                compression,
                fragments,
            }));
        }
        self.stats.middle += 1;
        self.state = State::InRecord {
            offset,
            compression,
            type_byte,
            fragments,
        };
        Ok(None)
    }

    /// The fragments ended (`None`) or failed: the end, or a torn record
    /// starting at the open record's first fragment, if one is open.
    fn stop(&mut self, e: Option<WalError>) -> Option<Result<Stored, WalError>> {
        match e {
            None => {
                self.done = true;
                if let State::InRecord { offset, .. } = self.state {
                    return Some(Err(WalError::Torn {
                        offset,
                        end: self.fragments.len(),
                    }));
                }
                None
            }
            Some(WalError::Torn { offset, end }) => {
                let offset = match self.state {
                    State::InRecord { offset, .. } => offset,
                    State::Idle => offset,
                };
                self.fail(WalError::Torn { offset, end })
            }
            Some(e) => self.fail(e),
        }
    }

    fn fail<T>(&mut self, e: WalError) -> Option<Result<T, WalError>> {
        self.done = true;
        Some(Err(e))
    }

    /// The next record, borrowed until the next call; `None` at the end.
    pub fn next_record(&mut self) -> Option<Result<RawRecord<'_>, WalError>> {
        if self.done {
            return None;
        }
        let segment = self.fragments.data;
        let Stored {
            src,
            offset,
            end_offset,
            compression,
            fragments,
        } = match self.next_stored()? {
            Ok(s) => s,
            Err(e) => return Some(Err(e)),
        };
        let stored: &[u8] = match src {
            Src::Segment(s, e) => segment.get(s..e).unwrap_or(&[]),
            Src::Assembly => &self.assembly,
        };
        let stored_len = stored.len();
        let data: &[u8] = if stored.is_empty() || compression == Compression::None {
            // Prometheus treats an empty compressed record as empty.
            stored
        } else {
            let res = match compression {
                Compression::Snappy => snappy_into(&mut self.snappy, stored, &mut self.out),
                _ => zstd_into(&mut self.zstd, stored, &mut self.out),
            };
            match res {
                Ok(n) => self.out.get(..n).unwrap_or(&[]),
                Err(msg) => {
                    self.done = true;
                    return Some(Err(WalError::Corrupt(DecodeError::WalDecompress {
                        offset,
                        compression: compression.name(),
                        cause: msg,
                    })));
                }
            }
        };
        self.valid_offset = end_offset;
        self.committed = FragmentStats {
            page_crossings: self.fragments.page_crossings(),
            ..self.stats
        };
        self.records += 1;
        Some(Ok(RawRecord {
            data,
            offset,
            end_offset,
            compression,
            fragments,
            stored_len,
        }))
    }
}

impl Iterator for RecordReader<'_> {
    type Item = Result<Record, WalError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record()
            .map(|r| r.map(|rec| rec.to_owned_record()))
    }
}

#[cfg(test)]
mod tests;

/// A `middle` or `last` fragment compressed unlike its record's first.
#[cold]
fn mixed_compression(
    frag: &fragment::Fragment<'_>,
    compression: Compression,
    type_byte: u8,
) -> WalError {
    WalError::Corrupt(DecodeError::invalid(
        Section::WalFragment,
        frag.offset,
        format!(
            "the compression of the record's first fragment ({}, type byte {type_byte:#04x})",
            compression.name()
        ),
        format!(
            "{} (type byte {:#04x})",
            frag.compression.name(),
            frag.type_byte
        ),
    ))
}
