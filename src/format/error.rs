//! The one error type of the pure decoders: what is wrong with the bytes, and where.
//!
//! A [`DecodeError`] never names a file: the `format` layer does not know about
//! files. The layer that opened the file wraps it with the path (see
//! [`crate::error::Error`]).

use std::fmt;

/// Which structure of which file a [`DecodeError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Section {
    /// Index file header (magic + version).
    IndexHeader,
    /// Index table of contents (last 52 bytes).
    Toc,
    /// Index symbol table.
    Symbols,
    /// One series entry of the index.
    Series,
    /// One legacy label index section.
    LabelIndex,
    /// The legacy label offset table.
    LabelOffsetTable,
    /// One postings list.
    Postings,
    /// The postings offset table.
    PostingsOffsetTable,
    /// A chunk segment file header.
    ChunkSegmentHeader,
    /// One chunk record in a chunk segment file.
    Chunk,
    /// The sample data inside a chunk.
    ChunkData,
    /// The tombstones file.
    Tombstones,
    /// `meta.json`.
    Meta,
    /// A WAL page / fragment.
    WalFragment,
    /// A WAL record payload.
    WalRecord,
    /// A head chunk file (`chunks_head/NNNNNN`).
    HeadChunk,
}

impl Section {
    /// A short human name.
    pub fn name(self) -> &'static str {
        match self {
            Section::IndexHeader => "index header",
            Section::Toc => "index TOC",
            Section::Symbols => "symbol table",
            Section::Series => "series entry",
            Section::LabelIndex => "label index",
            Section::LabelOffsetTable => "label offset table",
            Section::Postings => "postings list",
            Section::PostingsOffsetTable => "postings offset table",
            Section::ChunkSegmentHeader => "chunk segment header",
            Section::Chunk => "chunk",
            Section::ChunkData => "chunk data",
            Section::Tombstones => "tombstones",
            Section::Meta => "meta.json",
            Section::WalFragment => "WAL fragment",
            Section::WalRecord => "WAL record",
            Section::HeadChunk => "head chunk",
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What is wrong with a byte string, with the absolute offset where it was found.
///
/// Offsets are absolute positions in the file the bytes came from (the decoder
/// was told the base offset), so a message can be acted on with `xxd -s`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer bytes than a field needs.
    #[error("unexpected end of data at offset {offset}: wanted {wanted} bytes, found {available}")]
    UnexpectedEof {
        /// Where the read started.
        offset: u64,
        /// How many bytes were wanted.
        wanted: u64,
        /// How many were left.
        available: u64,
    },
    /// A magic number that is not the expected one.
    #[error(
        "bad {section} magic at offset {offset}: expected {expected:#010x}, found {found:#010x}"
    )]
    BadMagic {
        /// Structure.
        section: Section,
        /// Offset of the magic.
        offset: u64,
        /// Expected value.
        expected: u32,
        /// Value found.
        found: u32,
    },
    /// A format version this reader does not know.
    #[error("unsupported {section} version at offset {offset}: expected {expected}, found {found}")]
    BadVersion {
        /// Structure.
        section: Section,
        /// Offset of the version byte.
        offset: u64,
        /// What is accepted, in words.
        expected: &'static str,
        /// Version found.
        found: u64,
    },
    /// A CRC32C that does not match the bytes it covers.
    #[error(
        "{section} checksum mismatch at offset {offset}: expected (stored) {stored:#010x}, found \
         (computed) {computed:#010x}"
    )]
    Checksum {
        /// Structure.
        section: Section,
        /// Offset of the start of the covered bytes (the section's length field where there is
        /// one).
        offset: u64,
        /// CRC stored in the file.
        stored: u32,
        /// CRC computed over the bytes.
        computed: u32,
    },
    /// A varint longer than 10 bytes, or overflowing 64 bits.
    #[error("malformed varint at offset {offset}: more than 64 bits")]
    Varint {
        /// Where the varint starts.
        offset: u64,
    },
    /// A reference or offset pointing outside the data.
    #[error("{what} at offset {offset} points to {target}, outside the {len} bytes available")]
    OutOfBounds {
        /// What kind of reference.
        what: &'static str,
        /// Where the reference was read.
        offset: u64,
        /// Where it points.
        target: u64,
        /// The size of what it points into.
        len: u64,
    },
    /// A violated structural rule of the WAL's fragments and records that
    /// has no variant of its own yet (every other rule has one below).
    #[error("invalid {section} at offset {offset}: expected {expected}, found {found}")]
    Invalid {
        /// Structure.
        section: Section,
        /// Offset of the offending field.
        offset: u64,
        /// What the format requires.
        expected: String,
        /// What was there.
        found: String,
    },
    /// Chunk segment header: the 3 bytes after the version are not zero.
    #[error(
        "invalid chunk segment header at offset {offset}: expected 3 zero padding bytes, found \
         {found:02x?}"
    )]
    SegmentPadding {
        /// Offset of the padding.
        offset: u64,
        /// The bytes found.
        found: [u8; 3],
    },
    /// Chunk: its length varint takes more than 5 bytes.
    #[error(
        "invalid chunk at offset {offset}: expected a chunk length of at most 5 varint bytes, \
         found {found} bytes"
    )]
    ChunkLengthTooLong {
        /// Offset of the chunk.
        offset: u64,
        /// Bytes the varint took.
        found: u64,
    },
    /// Head chunk: its data length varint takes more than 5 bytes.
    #[error(
        "invalid head chunk at offset {offset}: expected a data length of at most 5 bytes, found \
         {found} bytes"
    )]
    HeadChunkLengthTooLong {
        /// Offset of the length.
        offset: u64,
        /// Bytes the varint took.
        found: u64,
    },
    /// Head chunk file: a tail too short for a chunk that is neither zeros
    /// nor a complete chunk.
    #[error(
        "invalid head chunk at offset {offset}: expected a complete chunk or zeros up to the end \
         of the file, found {left} bytes left, non-zero at offset {nonzero}"
    )]
    HeadChunkTail {
        /// Offset of the tail.
        offset: u64,
        /// Bytes left in the file.
        left: u64,
        /// Offset of the first non-zero byte.
        nonzero: u64,
    },
    /// Series entry: its length varint takes more than 5 bytes.
    #[error(
        "invalid series entry at offset {offset}: expected a length of at most 5 varint bytes, \
         found {found} bytes"
    )]
    SeriesLengthTooLong {
        /// Offset of the entry.
        offset: u64,
        /// Bytes the varint took.
        found: u64,
    },
    /// Series entry: bytes after its last chunk meta.
    #[error(
        "invalid series entry at offset {offset}: expected end of series entry, found {found} \
         trailing bytes"
    )]
    SeriesTrailingBytes {
        /// Offset of the first extra byte.
        offset: u64,
        /// How many.
        found: u64,
    },
    /// Series section: a non-zero byte in the padding before an aligned entry.
    #[error(
        "invalid series entry at offset {offset}: expected zero padding before a 16-byte aligned \
         series entry, found byte {found:#04x}"
    )]
    SeriesPadding {
        /// Offset of the byte.
        offset: u64,
        /// The byte.
        found: u8,
    },
    /// Series section: a zero length where an aligned entry starts, with
    /// data after it.
    #[error(
        "invalid series entry at offset {offset}: expected a series entry at a 16-byte boundary, \
         found a zero length"
    )]
    SeriesZeroLength {
        /// Offset of the zero byte.
        offset: u64,
    },
    /// Symbol table: bytes after the symbols it counts.
    #[error(
        "invalid symbol table at offset {offset}: expected {count} symbols filling the table, \
         found {left} bytes left over after {count} symbols"
    )]
    SymbolsTrailingBytes {
        /// Offset of the symbol count.
        offset: u64,
        /// Symbols counted.
        count: u64,
        /// Bytes left over.
        left: u64,
    },
    /// Postings offset table or label offset table: an entry whose key
    /// count is not the table's (2: name and value; 1: a name).
    #[error("invalid {section} at offset {offset}: expected key count {expected}, found {found}")]
    KeyCount {
        /// Which table.
        section: Section,
        /// Offset of the entry.
        offset: u64,
        /// The table's key count.
        expected: u64,
        /// The count found.
        found: u64,
    },
    /// Postings list: a length that does not hold its entries.
    #[error(
        "invalid postings list at offset {offset}: expected length {} for {entries} entries, found \
         length {}", 4 + 4 * u64::from(*entries), 4 + found
    )]
    PostingsLength {
        /// Offset of the list.
        offset: u64,
        /// Entries it counts.
        entries: u32,
        /// Bytes after the count.
        found: u64,
    },
    /// Legacy label index: a length that does not hold its entries, or no
    /// name.
    #[error(
        "invalid label index at offset {offset}: expected {entries} entries of 4 bytes and at \
         least one name, found {found} bytes, {names} names"
    )]
    LabelIndexLength {
        /// Offset of the section.
        offset: u64,
        /// Entries it counts.
        entries: u32,
        /// Names per entry.
        names: u32,
        /// Bytes after the counts.
        found: u64,
    },
    /// An offset table: bytes after the entries it counts.
    #[error(
        "invalid {section} at offset {offset}: expected end of table after {entries} entries, \
         found {left} bytes left over"
    )]
    TableTrailingBytes {
        /// Which table.
        section: Section,
        /// Offset of the first extra byte.
        offset: u64,
        /// Entries counted.
        entries: u32,
        /// Bytes left over.
        left: u64,
    },
    /// `meta.json` that is not the JSON object a block's meta is.
    #[error(
        "invalid meta.json at offset {offset}: expected a JSON object with ulid, minTime, maxTime \
         and version, found {found}"
    )]
    MetaJson {
        /// Byte offset of the JSON error.
        offset: u64,
        /// What the JSON parser found, in words.
        found: String,
    },
    /// WAL record: a type other than the decoder reads.
    #[error(
        "invalid WAL record at offset {offset}: expected {expected}, found record type {} (byte \
         {byte})", crate::format::record::RecordType::from_byte(*byte)
    )]
    RecordType {
        /// Offset of the record.
        offset: u64,
        /// The record wanted, in words.
        expected: &'static str,
        /// The type byte found.
        byte: u8,
    },
    /// WAL record: bytes after its last field.
    #[error(
        "invalid WAL record at offset {offset}: expected end of record, found {found} more bytes"
    )]
    RecordTrailingBytes {
        /// Offset of the first extra byte.
        offset: u64,
        /// How many.
        found: u64,
    },
    /// WAL histogram record: a field beyond 32 bits.
    #[error("invalid WAL record at offset {offset}: expected {what} within 32 bits, found {found}")]
    RecordFieldRange {
        /// Offset of the field.
        offset: u64,
        /// The field.
        what: &'static str,
        /// Its value.
        found: i64,
    },
    /// XOR chunk: a window with `leading + significant > 64`.
    #[error(
        "invalid chunk data at offset {offset}: expected XOR window with leading + significant \
         bits <= 64, found leading {leading}, significant {significant}"
    )]
    XorWindow {
        /// Offset of the window.
        offset: u64,
        /// Leading zero bits.
        leading: u32,
        /// Significant bits.
        significant: u32,
    },
    /// Histogram chunk: more buckets than the remaining bits could hold.
    #[error(
        "invalid chunk data at offset {offset}: expected bucket count that fits in the chunk, \
         found {buckets} buckets in {bits} bits"
    )]
    HistogramBuckets {
        /// Offset of the count.
        offset: u64,
        /// Buckets counted.
        buckets: u64,
        /// Bits left.
        bits: u64,
    },
    /// Histogram chunk: a schema outside `-9..=52` and `-53`.
    #[error(
        "invalid chunk data at offset {offset}: expected histogram schema -9..=52 or -53, found \
         {schema}"
    )]
    HistogramSchema {
        /// Offset of the schema.
        offset: u64,
        /// The schema.
        schema: i32,
    },
    /// Histogram chunk: spans of a reserved schema that cannot be reduced
    /// to schema 8.
    #[error(
        "invalid chunk data at offset {offset}: expected spans that can be reduced to schema 8 (no \
         negative offset after the first span), found schema {schema}"
    )]
    HistogramSpans {
        /// Offset of the spans.
        offset: u64,
        /// The schema.
        schema: i32,
    },
    /// WAL: a non-zero byte where the page padding must be zero.
    #[error(
        "invalid WAL fragment at offset {offset}: expected zero padding up to the page boundary, \
         found byte {found:#04x}"
    )]
    WalPadding {
        /// Offset of the non-zero byte.
        offset: u64,
        /// The byte.
        found: u8,
    },
    /// WAL: a `middle` or `last` fragment while no record is open.
    #[error(
        "invalid WAL fragment at offset {offset}: expected a full or first fragment (no record is \
         open), found a {found} fragment"
    )]
    WalNoRecordOpen {
        /// Offset of the fragment.
        offset: u64,
        /// Its type name (`middle`, `last`).
        found: &'static str,
    },
    /// WAL: a `full` or `first` fragment while a record is still open.
    #[error(
        "invalid WAL fragment at offset {offset}: expected a middle or last fragment (the record \
         at offset {open} is open), found a {found} fragment"
    )]
    WalRecordOpen {
        /// Offset of the fragment.
        offset: u64,
        /// Offset of the open record's first fragment.
        open: u64,
        /// Its type name (`full`, `first`).
        found: &'static str,
    },
    /// WAL: a record that does not decompress.
    #[error(
        "invalid WAL fragment at offset {offset}: expected a valid {compression} record, found \
         {cause}"
    )]
    WalDecompress {
        /// Offset of the record's first fragment.
        offset: u64,
        /// `snappy` or `zstd`.
        compression: &'static str,
        /// The decompressor's complaint.
        cause: String,
    },
    /// A chunk or record encoding this reader cannot decode.
    #[error("unsupported encoding {encoding} at offset {offset}")]
    UnsupportedEncoding {
        /// Offset of the encoding byte.
        offset: u64,
        /// The encoding byte.
        encoding: u8,
    },
}

impl DecodeError {
    /// The absolute offset the error is about.
    pub fn offset(&self) -> u64 {
        match self {
            DecodeError::UnexpectedEof { offset, .. }
            | DecodeError::BadMagic { offset, .. }
            | DecodeError::BadVersion { offset, .. }
            | DecodeError::Checksum { offset, .. }
            | DecodeError::Varint { offset }
            | DecodeError::OutOfBounds { offset, .. }
            | DecodeError::Invalid { offset, .. }
            | DecodeError::SegmentPadding { offset, .. }
            | DecodeError::ChunkLengthTooLong { offset, .. }
            | DecodeError::HeadChunkLengthTooLong { offset, .. }
            | DecodeError::HeadChunkTail { offset, .. }
            | DecodeError::SeriesLengthTooLong { offset, .. }
            | DecodeError::SeriesTrailingBytes { offset, .. }
            | DecodeError::SeriesPadding { offset, .. }
            | DecodeError::SeriesZeroLength { offset }
            | DecodeError::SymbolsTrailingBytes { offset, .. }
            | DecodeError::KeyCount { offset, .. }
            | DecodeError::PostingsLength { offset, .. }
            | DecodeError::LabelIndexLength { offset, .. }
            | DecodeError::TableTrailingBytes { offset, .. }
            | DecodeError::MetaJson { offset, .. }
            | DecodeError::RecordType { offset, .. }
            | DecodeError::RecordTrailingBytes { offset, .. }
            | DecodeError::RecordFieldRange { offset, .. }
            | DecodeError::XorWindow { offset, .. }
            | DecodeError::HistogramBuckets { offset, .. }
            | DecodeError::HistogramSchema { offset, .. }
            | DecodeError::HistogramSpans { offset, .. }
            | DecodeError::WalPadding { offset, .. }
            | DecodeError::WalNoRecordOpen { offset, .. }
            | DecodeError::WalRecordOpen { offset, .. }
            | DecodeError::WalDecompress { offset, .. }
            | DecodeError::UnsupportedEncoding { offset, .. } => *offset,
        }
    }

    /// Shorthand for [`DecodeError::Invalid`] (the WAL's rules without a
    /// variant of their own).
    pub fn invalid(
        section: Section,
        offset: u64,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        DecodeError::Invalid {
            section,
            offset,
            expected: expected.into(),
            found: found.into(),
        }
    }

    /// A stable snake_case code for the kind of damage, used by `verify` findings.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::UnexpectedEof { .. } => "truncated",
            DecodeError::BadMagic { .. } => "bad_magic",
            DecodeError::BadVersion { .. } => "bad_version",
            DecodeError::Checksum { .. } => "checksum_mismatch",
            DecodeError::Varint { .. } => "bad_varint",
            DecodeError::OutOfBounds { .. } => "out_of_bounds",
            DecodeError::Invalid { .. }
            | DecodeError::SegmentPadding { .. }
            | DecodeError::ChunkLengthTooLong { .. }
            | DecodeError::HeadChunkLengthTooLong { .. }
            | DecodeError::HeadChunkTail { .. }
            | DecodeError::SeriesLengthTooLong { .. }
            | DecodeError::SeriesTrailingBytes { .. }
            | DecodeError::SeriesPadding { .. }
            | DecodeError::SeriesZeroLength { .. }
            | DecodeError::SymbolsTrailingBytes { .. }
            | DecodeError::KeyCount { .. }
            | DecodeError::PostingsLength { .. }
            | DecodeError::LabelIndexLength { .. }
            | DecodeError::TableTrailingBytes { .. }
            | DecodeError::MetaJson { .. }
            | DecodeError::RecordType { .. }
            | DecodeError::RecordTrailingBytes { .. }
            | DecodeError::RecordFieldRange { .. }
            | DecodeError::XorWindow { .. }
            | DecodeError::HistogramBuckets { .. }
            | DecodeError::HistogramSchema { .. }
            | DecodeError::HistogramSpans { .. }
            | DecodeError::WalPadding { .. }
            | DecodeError::WalNoRecordOpen { .. }
            | DecodeError::WalRecordOpen { .. }
            | DecodeError::WalDecompress { .. } => "invalid_structure",
            DecodeError::UnsupportedEncoding { .. } => "unsupported_encoding",
        }
    }
}

/// Result alias of the decoders.
pub type Result<T> = std::result::Result<T, DecodeError>;
