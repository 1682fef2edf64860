//! Checks of one block directory: meta.json, index, chunks, tombstones and
//! their agreement with each other.
//!
//! Order of work: meta.json → files present → index header/TOC/symbols →
//! every series entry (labels, chunk metas) → postings and their agreement
//! with the series → every chunk (framing, CRC, samples; in parallel) →
//! tombstones → meta.json stats against the recount.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::codes::{FileKind, decode_code};
use super::{Finding, FindingCode, FindingGroup, Findings, Severity, Tally};
use crate::block::BlockFiles;
use crate::format::chunkenc::{self, Encoding};
use crate::format::chunks;
use crate::format::index::{ChunkMeta, IndexReader, SeriesEntry};
use crate::format::meta::{BlockMeta, is_valid_ulid};
use crate::format::{ChunkRef, DecodeError, SeriesRef, tombstones};
use crate::vocab::format_labels;

/// What to check.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Skip sample decoding (`--quick`): framing and CRCs only.
    pub quick: bool,
    /// Report index/chunk encodings newer than this Prometheus version (e.g. "2.42").
    pub target_version: Option<String>,
}

/// What was counted while checking a block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Series entries.
    pub series: u64,
    /// Chunk metas.
    pub chunks: u64,
    /// Samples (from chunk headers).
    pub samples: u64,
    /// Samples in float chunks.
    pub float_samples: u64,
    /// Samples in histogram chunks.
    pub histogram_samples: u64,
    /// Samples actually decoded (0 with `quick`).
    pub samples_decoded: u64,
    /// Postings lists checked.
    pub postings: u64,
    /// Tombstone intervals.
    pub tombstones: u64,
    /// Bytes of block files.
    pub bytes: u64,
    /// Index format version.
    pub index_version: u8,
    /// Chunks per encoding name.
    pub encodings: BTreeMap<String, u64>,
}

/// The result of checking one block.
#[derive(Debug, Clone, Serialize)]
pub struct BlockCheck {
    /// Block directory.
    pub dir: PathBuf,
    /// ULID (meta.json's, else the directory name).
    pub ulid: String,
    /// meta.json when readable.
    #[serde(skip)]
    pub meta: Option<BlockMeta>,
    /// What was counted.
    pub counts: Counts,
    /// Findings, sorted by file and offset: the first few of each code in
    /// each file (see [`super::KEEP_PER_GROUP`]).
    pub findings: Vec<Finding>,
    /// The codes and files with more findings than are listed: every one
    /// counted, with the union of their time ranges.
    pub finding_groups: Vec<FindingGroup>,
}

impl BlockCheck {
    /// True if any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.tally().errors > 0
    }

    /// Every finding counted, listed or not.
    pub fn tally(&self) -> Tally {
        Tally::of_all(&self.findings, &self.finding_groups)
    }

    /// `ok`, `warnings` or `errors`.
    pub fn status(&self) -> &'static str {
        let t = self.tally();
        if t.errors > 0 {
            "errors"
        } else if t.warnings > 0 {
            "warnings"
        } else {
            "ok"
        }
    }
}

struct Ctx {
    dir: PathBuf,
    ulid: String,
    findings: Findings,
}

impl Ctx {
    fn push(&mut self, f: Finding) {
        self.findings.push(f.in_block(&self.ulid));
    }
    fn decode(&mut self, kind: FileKind, path: &Path, e: &DecodeError) {
        let f =
            Finding::new(Severity::Error, decode_code(kind, e), path, e.to_string()).at(e.offset());
        self.push(f);
    }
}

/// Checks one block directory completely. Never fails: every problem is a finding.
pub fn verify_block(dir: &Path, opts: &CheckOptions) -> BlockCheck {
    verify_block_in(&LocalBlock(dir), opts)
}

/// Checks one block wherever it is stored ([`BlockSource`]): every check of
/// [`verify_block`]. Never fails: every problem is a finding.
pub fn verify_block_in(src: &dyn BlockSource, opts: &CheckOptions) -> BlockCheck {
    let dir = src.dir();
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut cx = Ctx {
        dir: dir.to_path_buf(),
        ulid: name.clone(),
        findings: Findings::default(),
    };
    let mut counts = Counts::default();
    let meta = check_meta(&mut cx, &name, src.read("meta.json"));
    if let Some(m) = &meta {
        cx.ulid = m.ulid.clone();
    }
    check_files(&mut cx, src);
    counts.bytes = src.size();
    if let Some(meta) = &meta {
        match src.open() {
            Ok((files, chunks)) => {
                check_contents(&mut cx, &files, chunks.as_ref(), meta, opts, &mut counts);
            }
            Err(e) => {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| dir.to_path_buf());
                cx.push(Finding::new(
                    Severity::Error,
                    FindingCode::FileUnreadable,
                    &path,
                    e.to_string(),
                ));
            }
        }
    }
    let (mut findings, mut finding_groups) = cx.findings.into_parts();
    for g in &mut finding_groups {
        g.block = Some(cx.ulid.clone());
    }
    findings.sort_by(|a, b| (&a.path, a.offset, a.code).cmp(&(&b.path, b.offset, b.code)));
    BlockCheck {
        dir: dir.to_path_buf(),
        ulid: cx.ulid,
        meta,
        counts,
        findings,
        finding_groups,
    }
}

fn check_files(cx: &mut Ctx, src: &dyn BlockSource) {
    let dir = cx.dir.clone();
    let entries = src.entries();
    let has = |n: &str| entries.as_ref().is_ok_and(|e| e.iter().any(|x| x == n));
    for name in ["index", "chunks"] {
        if !has(name) {
            cx.push(Finding::new(
                Severity::Error,
                FindingCode::FileMissing,
                &dir.join(name),
                format!("{name} is missing"),
            ));
        }
    }
    if !has("tombstones") {
        cx.push(Finding::new(
            Severity::Info,
            FindingCode::TombstonesMissing,
            &dir.join("tombstones"),
            "no tombstones file: read as no deletions",
        ));
    }
    if let Ok(names) = &entries {
        for n in names {
            if !matches!(n.as_str(), "index" | "chunks" | "tombstones" | "meta.json") {
                let sev = if n.ends_with(".tmp") || n.starts_with("index_tmp") {
                    Severity::Warning
                } else {
                    Severity::Info
                };
                cx.push(Finding::new(
                    sev,
                    FindingCode::BlockStrayFile,
                    &dir.join(n),
                    format!("unexpected entry {n:?} in the block directory"),
                ));
            }
        }
    }
    if let Ok(paths) = src.segment_paths() {
        for (i, p) in paths.iter().enumerate() {
            let want = format!("{:06}", i + 1);
            if p.file_name().and_then(|n| n.to_str()) != Some(want.as_str()) {
                cx.push(Finding::new(
                    Severity::Warning,
                    FindingCode::ChunkSegmentNumbering,
                    p,
                    format!("chunk segment #{i} is named {:?}, expected {want}: chunk references use the position in the listing", p.file_name().unwrap_or_default()),
                ));
            }
        }
    }
}

mod index;
#[cfg(test)]
mod jobs_tests;
mod meta;
pub(crate) use meta::max_time_after_creation;
mod postings;
mod samples;
mod source;
mod walk;
mod windows;

use index::check_contents;
use meta::check_meta;
pub use source::{BlockSource, ChunkSource, LocalBlock, MappedChunks, Window};
