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
        "{section} checksum mismatch at offset {offset}: expected (stored) {stored:#010x}, found (computed) {computed:#010x}"
    )]
    Checksum {
        /// Structure.
        section: Section,
        /// Offset of the start of the covered bytes (the section's length field where there is one).
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
    /// Any other violated structural rule.
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
    /// WAL: a non-zero byte where the page padding must be zero.
    #[error(
        "invalid WAL fragment at offset {offset}: expected zero padding up to the page boundary, found byte {found:#04x}"
    )]
    WalPadding {
        /// Offset of the non-zero byte.
        offset: u64,
        /// The byte.
        found: u8,
    },
    /// WAL: a `middle` or `last` fragment while no record is open.
    #[error(
        "invalid WAL fragment at offset {offset}: expected a full or first fragment (no record is open), found a {found} fragment"
    )]
    WalNoRecordOpen {
        /// Offset of the fragment.
        offset: u64,
        /// Its type name (`middle`, `last`).
        found: &'static str,
    },
    /// WAL: a `full` or `first` fragment while a record is still open.
    #[error(
        "invalid WAL fragment at offset {offset}: expected a middle or last fragment (the record at offset {open} is open), found a {found} fragment"
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
        "invalid WAL fragment at offset {offset}: expected a valid {compression} record, found {cause}"
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
            | DecodeError::WalPadding { offset, .. }
            | DecodeError::WalNoRecordOpen { offset, .. }
            | DecodeError::WalRecordOpen { offset, .. }
            | DecodeError::WalDecompress { offset, .. }
            | DecodeError::UnsupportedEncoding { offset, .. } => *offset,
        }
    }

    /// Shorthand for [`DecodeError::Invalid`].
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
