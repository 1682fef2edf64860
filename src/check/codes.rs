//! Stable finding codes for decode errors: the file kind plus what is wrong.

use crate::format::{DecodeError, Section};

/// Which kind of file a decode error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `meta.json`.
    Meta,
    /// `index`.
    Index,
    /// `chunks/NNNNNN`.
    Chunks,
    /// `tombstones`.
    Tombstones,
    /// WAL / WBL / checkpoint segment.
    Wal,
    /// `chunks_head/NNNNNN`.
    HeadChunks,
}

/// The finding code for a decode error in a file of `kind`.
pub fn decode_code(kind: FileKind, e: &DecodeError) -> &'static str {
    use DecodeError as E;
    use FileKind as K;
    use Section as S;
    match (kind, e) {
        (K::Meta, E::BadVersion { .. }) => "meta_version_unsupported",
        (K::Meta, _) => "meta_invalid",
        (K::Index, E::BadMagic { .. }) => "index_bad_magic",
        (K::Index, E::BadVersion { .. }) => "index_bad_version",
        (K::Index, E::Checksum { section, .. }) => match section {
            S::Toc => "index_toc_checksum",
            S::Symbols => "index_symbols_checksum",
            S::Series => "index_series_checksum",
            S::Postings => "index_postings_checksum",
            S::PostingsOffsetTable => "index_postings_table_checksum",
            S::LabelIndex => "index_label_index_checksum",
            S::LabelOffsetTable => "index_label_table_checksum",
            _ => "index_checksum",
        },
        (K::Index, E::UnexpectedEof { .. }) => "index_truncated",
        (K::Index, E::OutOfBounds { .. }) => "index_out_of_bounds",
        (K::Index, _) => "index_corrupt",
        (K::Chunks, E::BadMagic { .. }) => "chunk_segment_bad_magic",
        (K::Chunks, E::BadVersion { .. }) => "chunk_segment_bad_version",
        (
            K::Chunks,
            E::Invalid {
                section: S::ChunkSegmentHeader,
                ..
            },
        ) => "chunk_segment_bad_header",
        (K::Chunks, E::Checksum { .. }) => "chunk_checksum_mismatch",
        (K::Chunks, E::UnexpectedEof { .. }) => "chunk_truncated",
        (K::Chunks, E::UnsupportedEncoding { .. }) => "chunk_encoding_unknown",
        (K::Chunks, _) => "chunk_corrupt",
        (K::Tombstones, E::BadMagic { .. }) => "tombstones_bad_magic",
        (K::Tombstones, E::BadVersion { .. }) => "tombstones_bad_version",
        (K::Tombstones, E::Checksum { .. }) => "tombstones_checksum",
        (K::Tombstones, _) => "tombstones_corrupt",
        (K::Wal, E::Checksum { .. }) => "wal_checksum",
        (K::Wal, _) => "wal_corrupt",
        (K::HeadChunks, E::Checksum { .. }) => "head_chunk_checksum",
        (K::HeadChunks, E::BadMagic { .. }) => "head_chunk_bad_magic",
        (K::HeadChunks, _) => "head_chunk_corrupt",
    }
}
