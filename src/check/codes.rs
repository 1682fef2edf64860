//! Stable finding codes: one enum, [`FindingCode`], for every code a command
//! reports — `verify` findings, `wal` problems, `copy` reasons and notices —
//! serialized as the snake_case strings the README lists (the JSON is stable:
//! codes are only ever added). A test checks the README and this list agree,
//! so one search for a code finds its definition here, its README line and
//! its tests.
//!
//! Also: the code of a decode error, by the kind of file it came from.

use std::fmt;

use crate::format::wal::WalErrorKind;
use crate::format::{DecodeError, Section};

macro_rules! finding_codes {
    ($($variant:ident = $code:literal,)*) => {
        /// A stable snake_case finding code (see the module doc).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum FindingCode {
            $(
                #[doc = concat!("`", $code, "`")]
                $variant,
            )*
        }

        impl FindingCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [FindingCode] = &[$(FindingCode::$variant,)*];

            /// The snake_case string, as in the JSON and the README.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(FindingCode::$variant => $code,)*
                }
            }

            /// The code spelled `s`, if there is one.
            pub fn from_name(s: &str) -> Option<FindingCode> {
                match s {
                    $($code => Some(FindingCode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

finding_codes! {
    // `meta.json`.
    MetaCompactionFailed = "meta_compaction_failed",
    MetaDeletable = "meta_deletable",
    MetaInvalid = "meta_invalid",
    MetaLevel1ForeignSource = "meta_level1_foreign_source",
    MetaLevelInvalid = "meta_level_invalid",
    MetaParentsInvalid = "meta_parents_invalid",
    MetaSourcesInvalid = "meta_sources_invalid",
    MetaSourcesUnsorted = "meta_sources_unsorted",
    MetaStatsMismatch = "meta_stats_mismatch",
    MetaTimeRangeFuture = "meta_time_range_future",
    MetaTimeRangeInvalid = "meta_time_range_invalid",
    MetaUlidDirName = "meta_ulid_dir_name",
    MetaUlidInvalid = "meta_ulid_invalid",
    MetaUlidMismatch = "meta_ulid_mismatch",
    MetaVersion2 = "meta_version_2",
    MetaVersionUnsupported = "meta_version_unsupported",
    // The index.
    IndexBadMagic = "index_bad_magic",
    IndexBadVersion = "index_bad_version",
    // No input produces it today (the tests' UNREACHABLE list): the code of
    // an index checksum error of a section with no code of its own, and
    // every section whose CRC the reader checks has one. Kept for a section
    // added later, so that its damage is still an index checksum.
    IndexChecksum = "index_checksum",
    IndexChunkDuplicate = "index_chunk_duplicate",
    IndexChunkMetaInvalid = "index_chunk_meta_invalid",
    IndexChunkRefInvalid = "index_chunk_ref_invalid",
    IndexChunkRefsUnordered = "index_chunk_refs_unordered",
    IndexChunksOverlap = "index_chunks_overlap",
    IndexChunksUnordered = "index_chunks_unordered",
    IndexCorrupt = "index_corrupt",
    IndexLabelIndexBadSymbol = "index_label_index_bad_symbol",
    IndexLabelIndexChecksum = "index_label_index_checksum",
    IndexLabelTableChecksum = "index_label_table_checksum",
    IndexOutOfBounds = "index_out_of_bounds",
    IndexPostingsAllMismatch = "index_postings_all_mismatch",
    IndexPostingsAllMissing = "index_postings_all_missing",
    IndexPostingsChecksum = "index_postings_checksum",
    IndexPostingsDangling = "index_postings_dangling",
    IndexPostingsMismatch = "index_postings_mismatch",
    IndexPostingsMissing = "index_postings_missing",
    IndexPostingsTableChecksum = "index_postings_table_checksum",
    IndexPostingsTableUnsorted = "index_postings_table_unsorted",
    IndexPostingsUnsorted = "index_postings_unsorted",
    IndexSeriesChecksum = "index_series_checksum",
    IndexSeriesDuplicate = "index_series_duplicate",
    IndexSeriesDuplicateLabel = "index_series_duplicate_label",
    IndexSeriesEmptyLabelValue = "index_series_empty_label_value",
    IndexSeriesEmptyLabels = "index_series_empty_labels",
    IndexSeriesLabelsUnsorted = "index_series_labels_unsorted",
    IndexSeriesUnsorted = "index_series_unsorted",
    IndexSymbolsChecksum = "index_symbols_checksum",
    IndexSymbolsUnsorted = "index_symbols_unsorted",
    IndexSymbolsUnused = "index_symbols_unused",
    IndexTocChecksum = "index_toc_checksum",
    IndexTruncated = "index_truncated",
    // Chunks and chunk segment files.
    ChunkChecksumMismatch = "chunk_checksum_mismatch",
    ChunkCorrupt = "chunk_corrupt",
    ChunkDecodeFailed = "chunk_decode_failed",
    ChunkEmpty = "chunk_empty",
    ChunkEncodingUnknown = "chunk_encoding_unknown",
    ChunkMetaMismatch = "chunk_meta_mismatch",
    ChunkOutsideBlock = "chunk_outside_block",
    ChunkSegmentBadHeader = "chunk_segment_bad_header",
    ChunkSegmentBadMagic = "chunk_segment_bad_magic",
    ChunkSegmentBadVersion = "chunk_segment_bad_version",
    ChunkSegmentNumbering = "chunk_segment_numbering",
    ChunkSegmentTrailingBytes = "chunk_segment_trailing_bytes",
    ChunkSegmentUnreferenced = "chunk_segment_unreferenced",
    ChunkSnapshotPresent = "chunk_snapshot_present",
    ChunkTimestampsUnordered = "chunk_timestamps_unordered",
    ChunkTruncated = "chunk_truncated",
    // Tombstones.
    TombstoneDanglingSeries = "tombstone_dangling_series",
    TombstoneIntervalInvalid = "tombstone_interval_invalid",
    TombstonesBadMagic = "tombstones_bad_magic",
    TombstonesBadVersion = "tombstones_bad_version",
    TombstonesChecksum = "tombstones_checksum",
    TombstonesCorrupt = "tombstones_corrupt",
    TombstonesMissing = "tombstones_missing",
    // Block files and the directory: leftovers, overlaps, parents, live directories.
    BlockDeletedDuringRead = "block_deleted_during_read",
    BlockStrayFile = "block_stray_file",
    DirUnrecognised = "dir_unrecognised",
    DuplicateBlockUlid = "duplicate_block_ulid",
    SnapshotEmpty = "snapshot_empty",
    EncodingTooNew = "encoding_too_new",
    FileMissing = "file_missing",
    FileUnreadable = "file_unreadable",
    IndexVersionTooNew = "index_version_too_new",
    OverlapDuplicateBlock = "overlap_duplicate_block",
    OverlapParentAndChild = "overlap_parent_and_child",
    OverlapVerticalMerge = "overlap_vertical_merge",
    ParentBlockPresent = "parent_block_present",
    PathUnreadable = "path_unreadable",
    PrometheusRunning = "prometheus_running",
    SnapshotIncomplete = "snapshot_incomplete",
    StrayEntry = "stray_entry",
    TmpDirInProgress = "tmp_dir_in_progress",
    TmpDirLeftover = "tmp_dir_leftover",
    // WAL, WBL and checkpoints.
    RecordUnknownType = "record_unknown_type",
    WalCheckpointCorrupt = "wal_checkpoint_corrupt",
    WalCheckpointStale = "wal_checkpoint_stale",
    WalCheckpointTmpLeftover = "wal_checkpoint_tmp_leftover",
    WalChecksum = "wal_checksum",
    WalDecompress = "wal_decompress",
    WalDirUnreadable = "wal_dir_unreadable",
    WalFragmentFlags = "wal_fragment_flags",
    WalFragmentInvalid = "wal_fragment_invalid",
    WalFragmentOrder = "wal_fragment_order",
    WalPaddingNonzero = "wal_padding_nonzero",
    WalRecordCorrupt = "wal_record_corrupt",
    WalReread = "wal_reread",
    WalSegmentGap = "wal_segment_gap",
    WalSegmentShort = "wal_segment_short",
    WalSegmentUnreadable = "wal_segment_unreadable",
    WalTornTail = "wal_torn_tail",
    WalUnknownSeries = "wal_unknown_series",
    // Head chunk files (`chunks_head/`).
    HeadChunkBadMagic = "head_chunk_bad_magic",
    HeadChunkChecksum = "head_chunk_checksum",
    HeadChunkCorrupt = "head_chunk_corrupt",
    HeadChunkDirUnreadable = "head_chunk_dir_unreadable",
    HeadChunkFileDeletedDuringRead = "head_chunk_file_deleted_during_read",
    HeadChunkFileDeletedOnStartup = "head_chunk_file_deleted_on_startup",
    HeadChunkFileGap = "head_chunk_file_gap",
    HeadChunkOutOfOrder = "head_chunk_out_of_order",
    HeadChunkUnreadable = "head_chunk_unreadable",
    // `copy`: reasons a block is skipped, refused or failed, its warnings,
    // and notices about the target.
    Damaged = "damaged",
    Deletable = "deletable",
    DeletedAsParent = "deleted_as_parent",
    DeletedByDst = "deleted_by_dst",
    DeletesDstBlocks = "deletes_dst_blocks",
    DstRetention = "dst_retention",
    DstSizeRetention = "dst_size_retention",
    HeadOverlap = "head_overlap",
    HeadOverlapAllowed = "head_overlap_allowed",
    Identical = "identical",
    Io = "io",
    Leftover = "leftover",
    LinkFallback = "link_fallback",
    NotVerified = "not_verified",
    Overlap = "overlap",
    OverlapAllowed = "overlap_allowed",
    Retention = "retention",
    RetentionDefault = "retention_default",
    SizeRetention = "size_retention",
    SourceLive = "source_live",
    SourceOverlap = "source_overlap",
    SourceReplanned = "source_replanned",
    SourceVanished = "source_vanished",
    TargetHead = "target_head",
    UlidConflict = "ulid_conflict",
    UlidMismatch = "ulid_mismatch",
    Unreadable = "unreadable",
    VerifiedQuick = "verified_quick",
    WalNotCopied = "wal_not_copied",
    // Object storage (`ls`/`verify`/`copy` on `s3://` URLs).
    BucketStrayObject = "bucket_stray_object",
    DeletionMarked = "deletion_marked",
    NoCompactMarked = "no_compact_marked",
    PartialUpload = "partial_upload",
    // Decode errors by kind, without the file (`wal --json`: a head chunk
    // file's `corruption.code`).
    BadMagic = "bad_magic",
    BadVarint = "bad_varint",
    BadVersion = "bad_version",
    ChecksumMismatch = "checksum_mismatch",
    InvalidStructure = "invalid_structure",
    OutOfBounds = "out_of_bounds",
    Truncated = "truncated",
    UnsupportedEncoding = "unsupported_encoding",
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for FindingCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for FindingCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for FindingCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl FindingCode {
    /// The code of a WAL reader error: each [`WalErrorKind`] has its own.
    pub fn of_wal(kind: WalErrorKind) -> FindingCode {
        match kind {
            WalErrorKind::Torn => FindingCode::WalTornTail,
            WalErrorKind::Checksum => FindingCode::WalChecksum,
            WalErrorKind::FragmentOrder => FindingCode::WalFragmentOrder,
            WalErrorKind::Padding => FindingCode::WalPaddingNonzero,
            WalErrorKind::Decompress => FindingCode::WalDecompress,
            WalErrorKind::FragmentInvalid => FindingCode::WalFragmentInvalid,
        }
    }

    /// The file-less code of a decode error (what [`DecodeError::code`] spells).
    pub fn of_decode(e: &DecodeError) -> FindingCode {
        match e {
            DecodeError::UnexpectedEof { .. } => FindingCode::Truncated,
            DecodeError::BadMagic { .. } => FindingCode::BadMagic,
            DecodeError::BadVersion { .. } => FindingCode::BadVersion,
            DecodeError::Checksum { .. } => FindingCode::ChecksumMismatch,
            DecodeError::Varint { .. } => FindingCode::BadVarint,
            DecodeError::OutOfBounds { .. } => FindingCode::OutOfBounds,
            DecodeError::UnsupportedEncoding { .. } => FindingCode::UnsupportedEncoding,
            _ => FindingCode::InvalidStructure,
        }
    }
}

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
    /// `chunks_head/NNNNNN`.
    HeadChunks,
}

/// The finding code for a decode error in a file of `kind`.
pub fn decode_code(kind: FileKind, e: &DecodeError) -> FindingCode {
    use DecodeError as E;
    use FileKind as K;
    use FindingCode as C;
    use Section as S;
    match (kind, e) {
        (K::Meta, E::BadVersion { .. }) => C::MetaVersionUnsupported,
        (K::Meta, _) => C::MetaInvalid,
        (K::Index, E::BadMagic { .. }) => C::IndexBadMagic,
        (K::Index, E::BadVersion { .. }) => C::IndexBadVersion,
        (K::Index, E::Checksum { section, .. }) => match section {
            S::Toc => C::IndexTocChecksum,
            S::Symbols => C::IndexSymbolsChecksum,
            S::Series => C::IndexSeriesChecksum,
            S::Postings => C::IndexPostingsChecksum,
            S::PostingsOffsetTable => C::IndexPostingsTableChecksum,
            S::LabelIndex => C::IndexLabelIndexChecksum,
            S::LabelOffsetTable => C::IndexLabelTableChecksum,
            _ => C::IndexChecksum,
        },
        (K::Index, E::UnexpectedEof { .. }) => C::IndexTruncated,
        (K::Index, E::OutOfBounds { .. }) => C::IndexOutOfBounds,
        (K::Index, _) => C::IndexCorrupt,
        (K::Chunks, E::BadMagic { .. }) => C::ChunkSegmentBadMagic,
        (K::Chunks, E::BadVersion { .. }) => C::ChunkSegmentBadVersion,
        (K::Chunks, E::SegmentPadding { .. }) => C::ChunkSegmentBadHeader,
        (K::Chunks, E::Checksum { .. }) => C::ChunkChecksumMismatch,
        (K::Chunks, E::UnexpectedEof { .. }) => C::ChunkTruncated,
        (K::Chunks, E::UnsupportedEncoding { .. }) => C::ChunkEncodingUnknown,
        (K::Chunks, _) => C::ChunkCorrupt,
        (K::Tombstones, E::BadMagic { .. }) => C::TombstonesBadMagic,
        (K::Tombstones, E::BadVersion { .. }) => C::TombstonesBadVersion,
        (K::Tombstones, E::Checksum { .. }) => C::TombstonesChecksum,
        (K::Tombstones, _) => C::TombstonesCorrupt,
        (K::HeadChunks, E::Checksum { .. }) => C::HeadChunkChecksum,
        (K::HeadChunks, E::BadMagic { .. }) => C::HeadChunkBadMagic,
        (K::HeadChunks, _) => C::HeadChunkCorrupt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = include_str!("../../README.md");

    /// True if `word` occurs in `text` not as part of a longer snake_case word.
    fn has_word(text: &str, word: &str) -> bool {
        let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        text.match_indices(word).any(|(i, _)| {
            let before = text[..i].chars().next_back();
            let after = text[i + word.len()..].chars().next();
            !before.is_some_and(is_word) && !after.is_some_and(is_word)
        })
    }

    /// The backquoted snake_case words of the README's code lists: the
    /// paragraphs starting with one of `starts`, up to the next blank line.
    fn listed_codes() -> Vec<String> {
        let starts = [
            "Finding codes (severity):",
            "WAL finding codes (severity):",
            "Reason codes:",
            "Head chunk file codes in `wal --json`:",
        ];
        let mut out = Vec::new();
        for start in starts {
            let i = README
                .find(start)
                .unwrap_or_else(|| panic!("README lacks {start:?}"));
            let para = README[i..].split("\n\n").next().unwrap_or("");
            for (k, quoted) in para.split('`').enumerate() {
                let snake = !quoted.is_empty()
                    && quoted.starts_with(|c: char| c.is_ascii_lowercase())
                    && quoted
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if k % 2 == 1 && snake {
                    out.push(quoted.to_string());
                }
            }
        }
        out
    }

    #[test]
    fn every_code_is_in_the_readme() {
        let missing: Vec<&str> = FindingCode::ALL
            .iter()
            .map(|c| c.as_str())
            .filter(|c| !has_word(README, c))
            .collect();
        assert!(
            missing.is_empty(),
            "codes the README does not name: {missing:?}"
        );
    }

    #[test]
    fn every_code_the_readme_lists_is_defined() {
        // Words inside the code lists that are no codes: a command, JSON
        // field names, a serde attribute.
        let fields = [
            "wal",
            "unknown_series_samples",
            "time_range",
            "deny_unknown_fields",
        ];
        let listed = listed_codes();
        assert!(listed.len() > 100, "{listed:?}");
        let unknown: Vec<&String> = listed
            .iter()
            .filter(|c| FindingCode::from_name(c).is_none() && !fields.contains(&c.as_str()))
            .collect();
        assert!(
            unknown.is_empty(),
            "README codes with no FindingCode: {unknown:?}"
        );
    }

    /// The test code of the crate: every file under `tests/`, and under
    /// `src/` the test files and whatever follows a file's first
    /// `#[cfg(test)]`. This file is left out: its lists name every code.
    fn test_sources() -> String {
        use crate::repo_tests::rs_files as walk;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut text = String::new();
        for (dir, whole) in [("tests", true), ("src", false)] {
            let mut files = Vec::new();
            walk(&root.join(dir), &mut files);
            for f in files {
                let rel = f
                    .strip_prefix(root)
                    .unwrap_or(&f)
                    .to_string_lossy()
                    .replace('\\', "/");
                if rel == "src/check/codes.rs" {
                    continue;
                }
                let s = std::fs::read_to_string(&f).unwrap_or_default();
                let name = rel.rsplit('/').next().unwrap_or("");
                if whole || rel.contains("/tests/") || name.ends_with("tests.rs") {
                    text.push_str(&s);
                } else if let Some(i) = s.find("#[cfg(test)]") {
                    text.push_str(&s[i..]);
                }
                text.push('\n');
            }
        }
        text
    }

    /// Codes no test names yet. The list only shrinks: a code a test comes
    /// to name must leave it, and a new code needs a test (CONTRIBUTING.md).
    const UNTESTED: &[&str] = &[];

    /// Codes no input can produce today, so no test can name them, each
    /// with why it stays (see its variant's doc).
    const UNREACHABLE: &[&str] = &[
        // The catch-all of `decode_code` for an index checksum error of a
        // section with no code of its own: every section the index reader
        // checks a CRC of (TOC, symbols, series, postings, postings table,
        // label indices, label table) has its own code. It stays so that a
        // section added later is still an index checksum in the JSON.
        "index_checksum",
    ];
    /// One search for a code's snake_case name finds its definition here,
    /// its README line and a test that asserts it.
    #[test]
    fn every_code_is_named_by_a_test() {
        let tests = test_sources();
        assert!(tests.len() > 100_000, "test sources not found");
        let untested: Vec<&str> = FindingCode::ALL
            .iter()
            .map(|c| c.as_str())
            .filter(|c| !has_word(&tests, c))
            .collect();
        let new: Vec<&&str> = untested
            .iter()
            .filter(|c| !UNTESTED.contains(c) && !UNREACHABLE.contains(c))
            .collect();
        assert!(new.is_empty(), "codes no test names: {new:?}");
        let stale: Vec<&&str> = UNTESTED
            .iter()
            .chain(UNREACHABLE)
            .filter(|c| !untested.contains(c))
            .collect();
        assert!(
            stale.is_empty(),
            "codes a test now names (take them off UNTESTED): {stale:?}"
        );
    }

    #[test]
    fn names_round_trip_and_serialize_as_the_name() {
        for &c in FindingCode::ALL {
            assert_eq!(FindingCode::from_name(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).unwrap_or_default();
            assert_eq!(json, format!("\"{c}\""));
        }
        let mut names: Vec<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FindingCode::ALL.len(), "a name used twice");
    }

    #[test]
    fn decode_codes_agree_with_the_format_layer() {
        let errors = [
            DecodeError::UnexpectedEof {
                offset: 0,
                wanted: 1,
                available: 0,
            },
            DecodeError::BadMagic {
                section: Section::HeadChunk,
                offset: 0,
                expected: 1,
                found: 2,
            },
            DecodeError::BadVersion {
                section: Section::HeadChunk,
                offset: 0,
                expected: "1",
                found: 2,
            },
            DecodeError::Checksum {
                section: Section::HeadChunk,
                offset: 0,
                stored: 1,
                computed: 2,
            },
            DecodeError::Varint { offset: 0 },
            DecodeError::OutOfBounds {
                what: "ref",
                offset: 0,
                target: 9,
                len: 1,
            },
            DecodeError::invalid(Section::HeadChunk, 0, "a", "b"),
            DecodeError::UnsupportedEncoding {
                offset: 0,
                encoding: 9,
            },
        ];
        for e in &errors {
            assert_eq!(FindingCode::of_decode(e).as_str(), e.code(), "{e}");
        }
    }
}
