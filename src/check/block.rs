//! Checks of one block directory: meta.json, index, chunks, tombstones and
//! their agreement with each other.
//!
//! Order of work: meta.json → files present → index header/TOC/symbols →
//! every series entry (labels, chunk metas) → postings and their agreement
//! with the series → every chunk (framing, CRC, samples; in parallel) →
//! tombstones → meta.json stats against the recount.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use super::codes::{FileKind, decode_code};
use super::{Finding, Severity, Tally};
use crate::block::{BlockFiles, chunk_segment_paths};
use crate::dump::format_labels;
use crate::format::chunkenc::{self, Encoding};
use crate::format::chunks;
use crate::format::index::{ChunkMeta, IndexReader, SeriesEntry};
use crate::format::meta::{BlockMeta, is_valid_ulid};
use crate::format::{DecodeError, tombstones};

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
    /// Findings, sorted by file and offset.
    pub findings: Vec<Finding>,
}

impl BlockCheck {
    /// True if any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(Finding::is_error)
    }

    /// `ok`, `warnings` or `errors`.
    pub fn status(&self) -> &'static str {
        let t = Tally::of(&self.findings);
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
    findings: Vec<Finding>,
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
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut cx = Ctx {
        dir: dir.to_path_buf(),
        ulid: name.clone(),
        findings: Vec::new(),
    };
    let mut counts = Counts::default();
    let meta = check_meta(&mut cx, &name);
    if let Some(m) = &meta {
        cx.ulid = m.ulid.clone();
    }
    check_files(&mut cx);
    counts.bytes = crate::block::block_size(dir);
    if let Some(meta) = &meta {
        match BlockFiles::open(dir) {
            Ok(files) => check_contents(&mut cx, &files, meta, opts, &mut counts),
            Err(e) => {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| dir.to_path_buf());
                cx.push(Finding::new(
                    Severity::Error,
                    "file_unreadable",
                    &path,
                    e.to_string(),
                ));
            }
        }
    }
    let mut findings = cx.findings;
    findings.sort_by(|a, b| (&a.path, a.offset, a.code).cmp(&(&b.path, b.offset, b.code)));
    BlockCheck {
        dir: dir.to_path_buf(),
        ulid: cx.ulid,
        meta,
        counts,
        findings,
    }
}

fn check_meta(cx: &mut Ctx, dir_name: &str) -> Option<BlockMeta> {
    let path = cx.dir.join("meta.json");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                "file_missing"
            } else {
                "file_unreadable"
            };
            cx.push(Finding::new(
                Severity::Error,
                code,
                &path,
                format!("cannot read meta.json: {e}"),
            ));
            return None;
        }
    };
    let meta = match BlockMeta::parse(&bytes) {
        Ok(m) => m,
        Err(e) => {
            cx.decode(FileKind::Meta, &path, &e);
            return None;
        }
    };
    let f = |sev, code, msg: String| Finding::new(sev, code, &path, msg);
    if meta.version == 2 {
        cx.push(f(
            Severity::Warning,
            "meta_version_2",
            "meta.json version 2 (Prometheus 2.1 bug): Prometheus rewrites the index header and meta.json on open".into(),
        ));
    }
    if !is_valid_ulid(&meta.ulid) {
        cx.push(f(
            Severity::Error,
            "meta_ulid_invalid",
            format!("ulid {:?} is not a valid ULID", meta.ulid),
        ));
    } else if meta.ulid != dir_name {
        cx.push(f(
            Severity::Error,
            "meta_ulid_mismatch",
            format!(
                "ulid {} differs from the directory name {dir_name}",
                meta.ulid
            ),
        ));
    }
    if meta.min_time >= meta.max_time {
        cx.push(f(
            Severity::Error,
            "meta_time_range_invalid",
            format!(
                "minTime {} is not before maxTime {}",
                meta.min_time, meta.max_time
            ),
        ));
    }
    if meta.compaction.level < 1 {
        cx.push(f(
            Severity::Error,
            "meta_level_invalid",
            format!("compaction level {} is below 1", meta.compaction.level),
        ));
    }
    let srcs = &meta.compaction.sources;
    if let Some(bad) = srcs.iter().find(|s| !is_valid_ulid(s)) {
        cx.push(f(
            Severity::Error,
            "meta_sources_invalid",
            format!("source {bad:?} is not a valid ULID"),
        ));
    } else if srcs.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
        cx.push(f(
            Severity::Warning,
            "meta_sources_unsorted",
            "compaction sources are not sorted and unique".into(),
        ));
    }
    if meta.compaction.level == 1 && !srcs.is_empty() && !srcs.contains(&meta.ulid) {
        cx.push(f(
            Severity::Info,
            "meta_level1_foreign_source",
            "level-1 block does not list itself as its source".into(),
        ));
    }
    for p in &meta.compaction.parents {
        let ooo_quirk = p.ulid == "00000000000000000000000000";
        if !ooo_quirk && !is_valid_ulid(&p.ulid) {
            cx.push(f(
                Severity::Error,
                "meta_parents_invalid",
                format!("parent {:?} is not a valid ULID", p.ulid),
            ));
        } else if !ooo_quirk && p.min_time >= p.max_time {
            cx.push(f(
                Severity::Warning,
                "meta_parents_invalid",
                format!(
                    "parent {} has minTime {} not before maxTime {}",
                    p.ulid, p.min_time, p.max_time
                ),
            ));
        }
    }
    if meta.compaction.deletable {
        cx.push(f(
            Severity::Warning,
            "meta_deletable",
            "block is marked deletable: Prometheus deletes it at the next reload".into(),
        ));
    }
    if meta.compaction.failed {
        cx.push(f(
            Severity::Warning,
            "meta_compaction_failed",
            "block is marked failed: a compaction using it failed and the planner skips it".into(),
        ));
    }
    Some(meta)
}

fn check_files(cx: &mut Ctx) {
    let dir = cx.dir.clone();
    for name in ["index", "chunks"] {
        let p = dir.join(name);
        if !p.exists() {
            cx.push(Finding::new(
                Severity::Error,
                "file_missing",
                &p,
                format!("{name} is missing"),
            ));
        }
    }
    if !dir.join("tombstones").exists() {
        cx.push(Finding::new(
            Severity::Info,
            "tombstones_missing",
            &dir.join("tombstones"),
            "no tombstones file: read as no deletions",
        ));
    }
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if !matches!(n.as_str(), "index" | "chunks" | "tombstones" | "meta.json") {
                let sev = if n.ends_with(".tmp") || n.starts_with("index_tmp") {
                    Severity::Warning
                } else {
                    Severity::Info
                };
                cx.push(Finding::new(
                    sev,
                    "block_stray_file",
                    &e.path(),
                    format!("unexpected entry {n:?} in the block directory"),
                ));
            }
        }
    }
    if let Ok(paths) = chunk_segment_paths(&dir) {
        for (i, p) in paths.iter().enumerate() {
            let want = format!("{:06}", i + 1);
            if p.file_name().and_then(|n| n.to_str()) != Some(want.as_str()) {
                cx.push(Finding::new(
                    Severity::Warning,
                    "chunk_segment_numbering",
                    p,
                    format!("chunk segment #{i} is named {:?}, expected {want}: chunk references use the position in the listing", p.file_name().unwrap_or_default()),
                ));
            }
        }
    }
}

/// Per-series facts kept for the postings cross-check, compactly.
struct SeriesTable {
    ids: Vec<u64>,
    label_start: Vec<u32>,
    labels: Vec<(u32, u32)>,
}

fn check_contents(
    cx: &mut Ctx,
    files: &BlockFiles,
    meta: &BlockMeta,
    opts: &CheckOptions,
    counts: &mut Counts,
) {
    let index_path = files.index_path();
    let open = if meta.version == 2 {
        IndexReader::open_as_v2(&files.index)
    } else {
        IndexReader::open(&files.index)
    };
    let index = match open {
        Ok(i) => Some(i),
        Err(e) => {
            cx.decode(FileKind::Index, &index_path, &e);
            None
        }
    };
    let mut seg_ok = Vec::with_capacity(files.chunks.len());
    for (p, bytes) in &files.chunks {
        match chunks::parse_segment_header(bytes) {
            Ok(()) => seg_ok.push(true),
            Err(e) => {
                cx.decode(FileKind::Chunks, p, &e);
                seg_ok.push(false);
            }
        }
    }
    let Some(index) = index else {
        check_tombstones(cx, files, None, counts);
        return;
    };
    counts.index_version = index.version;
    if let Some(i) = index.symbols.first_unsorted() {
        cx.push(
            Finding::new(
                Severity::Error,
                "index_symbols_unsorted",
                &index_path,
                format!("symbol #{i} is not greater than the one before it: the table must be strictly ascending"),
            )
            .at(index.symbols.offset),
        );
    }
    // Series pass.
    let mut table = SeriesTable {
        ids: Vec::new(),
        label_start: Vec::new(),
        labels: Vec::new(),
    };
    let mut all_chunks: Vec<(u32, ChunkMeta)> = Vec::new();
    let mut entry = SeriesEntry::default();
    let mut prev_labels: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut resolved: Vec<(&[u8], &[u8])> = Vec::new();
    let mut series_offsets: Vec<u64> = Vec::new();
    let mut it = index.series();
    let mut last_ref: u64 = 0;
    while let Some(r) = it.next_into(&mut entry) {
        if let Err(e) = r {
            cx.decode(FileKind::Index, &index_path, &e);
            continue;
        }
        let ordinal = table.ids.len() as u32;
        table.ids.push(entry.id);
        table.label_start.push(table.labels.len() as u32);
        table.labels.extend_from_slice(&entry.labels);
        series_offsets.push(entry.offset);
        counts.series += 1;
        counts.chunks += entry.chunks.len() as u64;
        let series_str = |res: &[(&[u8], &[u8])]| {
            let mut s = String::new();
            format_labels(&mut s, res);
            s
        };
        if let Err(e) = index.resolve_labels(&entry, &mut resolved) {
            cx.decode(FileKind::Index, &index_path, &e);
            resolved.clear();
        } else {
            let sf = || Finding::new(Severity::Error, "", &index_path, "").at(entry.offset);
            if resolved.is_empty() {
                cx.push(Finding {
                    code: "index_series_empty_labels",
                    message: "series has an empty label set".into(),
                    ..sf()
                });
            }
            if resolved
                .windows(2)
                .any(|w| matches!(w, [a, b] if a.0 >= b.0))
            {
                let dup = resolved
                    .windows(2)
                    .any(|w| matches!(w, [a, b] if a.0 == b.0));
                cx.push(Finding {
                    code: if dup {
                        "index_series_duplicate_label"
                    } else {
                        "index_series_labels_unsorted"
                    },
                    message: if dup {
                        "series has a label name twice".into()
                    } else {
                        "label names of the series are not sorted".into()
                    },
                    series: Some(series_str(&resolved)),
                    ..sf()
                });
            }
            if resolved.iter().any(|(_, v)| v.is_empty()) {
                cx.push(Finding {
                    severity: Severity::Warning,
                    code: "index_series_empty_label_value",
                    message:
                        "series has a label with an empty value (Prometheus drops such labels)"
                            .into(),
                    series: Some(series_str(&resolved)),
                    ..sf()
                });
            }
            let cur: Vec<(&[u8], &[u8])> = resolved.clone();
            let prev: Vec<(&[u8], &[u8])> = prev_labels
                .iter()
                .map(|(a, b)| (a.as_slice(), b.as_slice()))
                .collect();
            if ordinal > 0 && cur <= prev {
                let dup = cur == prev;
                cx.push(Finding {
                    code: if dup {
                        "index_series_duplicate"
                    } else {
                        "index_series_unsorted"
                    },
                    message: if dup {
                        "series has the same label set as the series before it".into()
                    } else {
                        format!(
                            "series sorts before the series before it ({})",
                            series_str(&prev)
                        )
                    },
                    series: Some(series_str(&cur)),
                    ..sf()
                });
            }
            prev_labels = resolved
                .iter()
                .map(|(a, b)| (a.to_vec(), b.to_vec()))
                .collect();
        }
        // Chunk metas.
        let sname = || {
            let mut s = String::new();
            format_labels(&mut s, &resolved);
            s
        };
        let mut prev: Option<ChunkMeta> = None;
        for c in &entry.chunks {
            let base = Finding::new(Severity::Error, "", &index_path, "")
                .at(entry.offset)
                .series(sname())
                .costs(c.mint, c.maxt.saturating_add(1));
            if c.mint > c.maxt {
                cx.push(Finding {
                    code: "index_chunk_meta_invalid",
                    message: format!("chunk mint {} is after maxt {}", c.mint, c.maxt),
                    ..base.clone()
                });
            }
            if c.mint < meta.min_time || c.maxt >= meta.max_time {
                cx.push(Finding {
                    code: "chunk_outside_block",
                    message: format!(
                        "chunk [{}, {}] lies outside the block's [{}, {})",
                        c.mint, c.maxt, meta.min_time, meta.max_time
                    ),
                    ..base.clone()
                });
            }
            if let Some(p) = prev {
                if c.chunk_ref == p.chunk_ref {
                    cx.push(Finding {
                        code: "index_chunk_duplicate",
                        message: "two chunk metas of the series point to the same chunk".into(),
                        ..base.clone()
                    });
                } else if c.mint <= p.maxt {
                    let code = if c.mint < p.mint {
                        "index_chunks_unordered"
                    } else {
                        "index_chunks_overlap"
                    };
                    cx.push(Finding {
                        code,
                        message: format!(
                            "chunk [{}, {}] starts before the previous chunk [{}, {}] ends",
                            c.mint, c.maxt, p.mint, p.maxt
                        ),
                        ..base.clone()
                    });
                }
            }
            if c.chunk_ref < last_ref {
                cx.push(Finding {
                    severity: Severity::Info,
                    code: "index_chunk_refs_unordered",
                    message: "chunk reference is lower than the one before it (Prometheus ≥ 2.51 writes them ascending)".into(),
                    ..base.clone()
                });
            }
            let seg = c.segment() as usize;
            match files.chunks.get(seg) {
                None => cx.push(Finding {
                    code: "index_chunk_ref_invalid",
                    message: format!("chunk reference {:#x} names segment #{seg}, but the block has {} chunk files", c.chunk_ref, files.chunks.len()),
                    ..base.clone()
                }),
                Some((_, bytes)) if u64::from(c.offset()) >= bytes.len() as u64 || (c.offset() as usize) < chunks::SEGMENT_HEADER_LEN => cx.push(Finding {
                    code: "index_chunk_ref_invalid",
                    message: format!("chunk reference {:#x} points to offset {} outside segment #{seg} ({} bytes)", c.chunk_ref, c.offset(), bytes.len()),
                    ..base.clone()
                }),
                Some(_) => all_chunks.push((ordinal, *c)),
            }
            last_ref = last_ref.max(c.chunk_ref);
            prev = Some(*c);
        }
    }
    check_postings(cx, &index, &table, counts);
    check_label_indices(cx, &index);
    check_chunks(
        cx,
        files,
        &index,
        &series_offsets,
        &all_chunks,
        &seg_ok,
        opts,
        counts,
    );
    check_tombstones(cx, files, Some(&table), counts);
    check_stats(cx, meta, counts);
}

fn check_postings(cx: &mut Ctx, index: &IndexReader<'_>, table: &SeriesTable, counts: &mut Counts) {
    let path = cx.dir.join("index");
    let entries = match index.postings_table() {
        Ok(e) => e,
        Err(e) => {
            cx.decode(FileKind::Index, &path, &e);
            return;
        }
    };
    if index.version >= 2 {
        if let Some(w) = entries
            .windows(2)
            .find(|w| matches!(w, [a, b] if (a.name, a.value) >= (b.name, b.value)))
            && let [_, b] = w
        {
            cx.push(
                Finding::new(
                    Severity::Error,
                    "index_postings_table_unsorted",
                    &path,
                    format!(
                        "postings offset table entry {}={:?} is not after the entry before it",
                        String::from_utf8_lossy(b.name),
                        String::from_utf8_lossy(b.value)
                    ),
                )
                .at(b.entry_offset),
            );
        }
        if entries
            .first()
            .is_some_and(|e| !e.name.is_empty() || !e.value.is_empty())
        {
            cx.push(Finding::new(Severity::Warning, "index_postings_all_missing", &path, "the postings offset table does not start with the all-postings list (\"\", \"\")").at(index.toc.postings_table));
        }
    }
    // Expected number of series per (name, value), from the series entries.
    let mut expected: HashMap<(&[u8], &[u8]), u64> = HashMap::new();
    for &(n, v) in &table.labels {
        if let (Some(n), Some(v)) = (index.symbols.lookup(n), index.symbols.lookup(v)) {
            *expected.entry((n, v)).or_default() += 1;
        }
    }
    let labels_of = |ord: usize| -> &[(u32, u32)] {
        let s = table.label_start.get(ord).copied().unwrap_or(0) as usize;
        let e = table
            .label_start
            .get(ord + 1)
            .copied()
            .map(|x| x as usize)
            .unwrap_or(table.labels.len());
        table.labels.get(s..e).unwrap_or(&[])
    };
    let mut seen_pairs = 0usize;
    for pe in &entries {
        let list = match index.postings(pe.offset) {
            Ok(l) => l,
            Err(e) => {
                cx.decode(FileKind::Index, &path, &e);
                continue;
            }
        };
        counts.postings += 1;
        let key = format!(
            "{}={:?}",
            String::from_utf8_lossy(pe.name),
            String::from_utf8_lossy(pe.value)
        );
        let mut prev: Option<u32> = None;
        let mut reported = false;
        for r in list.iter() {
            if prev.is_some_and(|p| r <= p) && !reported {
                cx.push(
                    Finding::new(
                        Severity::Error,
                        "index_postings_unsorted",
                        &path,
                        format!("postings list {key} is not strictly ascending at series ref {r}"),
                    )
                    .at(pe.offset),
                );
                reported = true;
            }
            prev = Some(r);
            match table.ids.binary_search(&u64::from(r)) {
                Err(_) => {
                    if !reported {
                        cx.push(Finding::new(Severity::Error, "index_postings_dangling", &path, format!("postings list {key} names series ref {r}, which is not a series entry")).at(pe.offset));
                        reported = true;
                    }
                }
                Ok(ord) => {
                    if pe.name.is_empty() && pe.value.is_empty() {
                        continue;
                    }
                    let has = labels_of(ord).iter().any(|&(n, v)| {
                        index.symbols.lookup(n) == Some(pe.name)
                            && index.symbols.lookup(v) == Some(pe.value)
                    });
                    if !has && !reported {
                        cx.push(Finding::new(Severity::Error, "index_postings_mismatch", &path, format!("postings list {key} names series ref {r}, which does not have that label")).at(pe.offset));
                        reported = true;
                    }
                }
            }
        }
        if pe.name.is_empty() && pe.value.is_empty() {
            if list.len() != table.ids.len() && !reported {
                cx.push(
                    Finding::new(
                        Severity::Error,
                        "index_postings_all_mismatch",
                        &path,
                        format!(
                            "the all-postings list has {} series, the series section {}",
                            list.len(),
                            table.ids.len()
                        ),
                    )
                    .at(pe.offset),
                );
            }
        } else {
            seen_pairs += 1;
            let want = expected.get(&(pe.name, pe.value)).copied().unwrap_or(0);
            if list.len() as u64 != want && !reported {
                cx.push(
                    Finding::new(
                        Severity::Error,
                        "index_postings_mismatch",
                        &path,
                        format!(
                            "postings list {key} has {} series, but {want} series carry that label",
                            list.len()
                        ),
                    )
                    .at(pe.offset),
                );
            }
        }
    }
    if seen_pairs < expected.len() {
        cx.push(
            Finding::new(
                Severity::Error,
                "index_postings_missing",
                &path,
                format!(
                    "{} label pairs of the series have no postings list",
                    expected.len() - seen_pairs
                ),
            )
            .at(index.toc.postings_table),
        );
    }
}

fn check_label_indices(cx: &mut Ctx, index: &IndexReader<'_>) {
    let path = cx.dir.join("index");
    let table = match index.label_offset_table() {
        Ok(t) => t,
        Err(e) => {
            cx.decode(FileKind::Index, &path, &e);
            return;
        }
    };
    for le in table {
        match crate::format::index::postings::parse_label_index(index.bytes(), le.offset) {
            Ok(li) => {
                if let Some(r) = li.refs.iter().find(|&&r| index.symbols.lookup(r).is_none()) {
                    cx.push(
                        Finding::new(
                            Severity::Error,
                            "index_label_index_bad_symbol",
                            &path,
                            format!(
                                "label index for {:?} names symbol {r}, which does not exist",
                                String::from_utf8_lossy(le.name)
                            ),
                        )
                        .at(le.offset),
                    );
                }
            }
            Err(e) => {
                cx.decode(FileKind::Index, &path, &e);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_chunks(
    cx: &mut Ctx,
    files: &BlockFiles,
    index: &IndexReader<'_>,
    series_offsets: &[u64],
    all: &[(u32, ChunkMeta)],
    seg_ok: &[bool],
    opts: &CheckOptions,
    counts: &mut Counts,
) {
    // Per piece: findings (without series names yet), counts, and the end of
    // the furthest chunk per segment.
    struct Piece {
        findings: Vec<(u32, Finding)>,
        samples: u64,
        float_samples: u64,
        histogram_samples: u64,
        decoded: u64,
        encodings: BTreeMap<&'static str, u64>,
        ends: Vec<u64>,
    }
    let nseg = files.chunks.len();
    let pieces: Vec<Piece> = all
        .par_chunks(4096)
        .map(|part| {
            let mut p = Piece { findings: Vec::new(), samples: 0, float_samples: 0, histogram_samples: 0, decoded: 0, encodings: BTreeMap::new(), ends: vec![0; nseg] };
            for (ord, c) in part {
                let seg = c.segment() as usize;
                let Some((path, bytes)) = files.chunks.get(seg) else { continue };
                if !seg_ok.get(seg).copied().unwrap_or(false) {
                    continue;
                }
                let err = |code: &'static str, off: u64, msg: String| {
                    Finding::new(Severity::Error, code, path, msg).at(off).costs(c.mint, c.maxt.saturating_add(1))
                };
                let rec = match chunks::read_chunk(bytes, u64::from(c.offset())) {
                    Ok(r) => r,
                    Err(e) => {
                        p.findings.push((*ord, err(decode_code(FileKind::Chunks, &e), e.offset(), e.to_string())));
                        continue;
                    }
                };
                if let Some(end) = p.ends.get_mut(seg) {
                    *end = (*end).max(rec.offset + rec.len);
                }
                if let Err(e) = rec.check_crc() {
                    p.findings.push((*ord, err("chunk_checksum_mismatch", rec.offset, e.to_string())));
                    continue;
                }
                let Some(enc) = Encoding::from_u8(rec.encoding) else {
                    p.findings.push((*ord, err("chunk_encoding_unknown", rec.offset, format!("unknown chunk encoding {} (known: 1 XOR, 2 histogram, 3 float histogram, 4-6 since 3.11/3.14)", rec.encoding))));
                    continue;
                };
                *p.encodings.entry(enc.name()).or_default() += 1;
                let n = match chunkenc::num_samples(enc, rec.data, rec.data_offset) {
                    Ok(n) => u64::from(n),
                    Err(e) => {
                        p.findings.push((*ord, err("chunk_decode_failed", e.offset(), e.to_string())));
                        continue;
                    }
                };
                p.samples += n;
                if enc.is_float() {
                    p.float_samples += n;
                } else {
                    p.histogram_samples += n;
                }
                if n == 0 {
                    p.findings.push((*ord, err("chunk_empty", rec.offset, "chunk holds 0 samples".into())));
                    continue;
                }
                if opts.quick {
                    continue;
                }
                // Decode every sample.
                let mut first: Option<i64> = None;
                let mut last: Option<i64> = None;
                let mut k = 0u64;
                let mut bad: Option<Finding> = None;
                let mut on_sample = |t: i64, bad: &mut Option<Finding>| {
                    if first.is_none() {
                        first = Some(t);
                    }
                    if let Some(l) = last
                        && t <= l && bad.is_none() {
                            *bad = Some(err("chunk_timestamps_unordered", rec.offset, format!("sample {k} at {t} is not after the previous sample at {l}")));
                        }
                    last = Some(t);
                    k += 1;
                };
                if enc == Encoding::Xor {
                    match chunkenc::XorIter::new(rec.data, rec.data_offset) {
                        Ok(it) => {
                            for s in it {
                                match s {
                                    Ok((t, _)) => on_sample(t, &mut bad),
                                    Err(e) => {
                                        bad.get_or_insert(err("chunk_decode_failed", e.offset(), e.to_string()));
                                        break;
                                    }
                                }
                            }
                        }
                        Err(e) => bad = Some(err("chunk_decode_failed", e.offset(), e.to_string())),
                    }
                } else {
                    match chunkenc::samples(enc, rec.data, rec.data_offset) {
                        Ok(it) => {
                            for s in it {
                                match s {
                                    Ok(s) => on_sample(s.t, &mut bad),
                                    Err(e) => {
                                        bad.get_or_insert(err("chunk_decode_failed", e.offset(), e.to_string()));
                                        break;
                                    }
                                }
                            }
                        }
                        Err(e) => bad = Some(err("chunk_decode_failed", e.offset(), e.to_string())),
                    }
                }
                p.decoded += k;
                if bad.is_none() && (first != Some(c.mint) || last != Some(c.maxt)) {
                    bad = Some(err(
                        "chunk_meta_mismatch",
                        rec.offset,
                        format!(
                            "samples span [{}, {}] but the index says [{}, {}]",
                            first.unwrap_or(0),
                            last.unwrap_or(0),
                            c.mint,
                            c.maxt
                        ),
                    ));
                }
                if let Some(f) = bad {
                    p.findings.push((*ord, f));
                }
            }
            p
        })
        .collect();
    let mut ends = vec![0u64; nseg];
    let mut encodings: BTreeMap<&'static str, u64> = BTreeMap::new();
    for p in pieces {
        counts.samples += p.samples;
        counts.float_samples += p.float_samples;
        counts.histogram_samples += p.histogram_samples;
        counts.samples_decoded += p.decoded;
        for (k, v) in p.encodings {
            *encodings.entry(k).or_default() += v;
        }
        for (e, pe) in ends.iter_mut().zip(p.ends) {
            *e = (*e).max(pe);
        }
        for (ord, f) in p.findings {
            let series = series_name(index, series_offsets.get(ord as usize).copied());
            let f = match series {
                Some(s) => f.series(s),
                None => f,
            };
            cx.push(f);
        }
    }
    counts.encodings = encodings
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    for (i, ((path, bytes), end)) in files.chunks.iter().zip(ends).enumerate() {
        if !seg_ok.get(i).copied().unwrap_or(false) {
            continue;
        }
        let len = bytes.len() as u64;
        if end > 0 && end < len {
            cx.push(
                Finding::new(
                    Severity::Info,
                    "chunk_segment_trailing_bytes",
                    path,
                    format!(
                        "{} bytes after the last referenced chunk are not used by the index",
                        len - end
                    ),
                )
                .at(end),
            );
        } else if end == 0 && len > chunks::SEGMENT_HEADER_LEN as u64 {
            cx.push(
                Finding::new(
                    Severity::Warning,
                    "chunk_segment_unreferenced",
                    path,
                    "no chunk of this segment is referenced by the index".to_string(),
                )
                .at(8),
            );
        }
    }
}

fn series_name(index: &IndexReader<'_>, offset: Option<u64>) -> Option<String> {
    let offset = offset?;
    let mut e = SeriesEntry::default();
    crate::format::index::series::decode_series_into(index.bytes(), offset, index.version, &mut e)
        .ok()?;
    let mut res = Vec::new();
    index.resolve_labels(&e, &mut res).ok()?;
    let mut s = String::new();
    format_labels(&mut s, &res);
    Some(s)
}

fn check_tombstones(
    cx: &mut Ctx,
    files: &BlockFiles,
    table: Option<&SeriesTable>,
    counts: &mut Counts,
) {
    let path = files.tombstones_path();
    let Some(bytes) = &files.tombstones else {
        return;
    };
    let stones = match tombstones::parse(bytes) {
        Ok(s) => s,
        Err(e) => {
            cx.decode(FileKind::Tombstones, &path, &e);
            return;
        }
    };
    counts.tombstones = stones.len() as u64;
    for s in &stones {
        if s.interval.mint > s.interval.maxt {
            cx.push(
                Finding::new(
                    Severity::Error,
                    "tombstone_interval_invalid",
                    &path,
                    format!(
                        "interval [{}, {}] of series ref {} is reversed",
                        s.interval.mint, s.interval.maxt, s.series_ref
                    ),
                )
                .at(s.offset),
            );
        }
        if let Some(t) = table
            && t.ids.binary_search(&s.series_ref).is_err()
        {
            cx.push(
                Finding::new(
                    Severity::Warning,
                    "tombstone_dangling_series",
                    &path,
                    format!(
                        "tombstone names series ref {}, which is not in the index",
                        s.series_ref
                    ),
                )
                .at(s.offset),
            );
        }
    }
}

fn check_stats(cx: &mut Ctx, meta: &BlockMeta, counts: &Counts) {
    let path = cx.dir.join("meta.json");
    let st = &meta.stats;
    let mut cmp = |name: &str, stored: u64, found: u64, skip_zero: bool| {
        if stored != found && !(skip_zero && stored == 0) {
            cx.push(Finding::new(
                Severity::Error,
                "meta_stats_mismatch",
                &path,
                format!("stats.{name} is {stored}, but the data holds {found}"),
            ));
        }
    };
    cmp("numSeries", st.num_series, counts.series, false);
    cmp("numChunks", st.num_chunks, counts.chunks, false);
    cmp("numSamples", st.num_samples, counts.samples, false);
    cmp(
        "numFloatSamples",
        st.num_float_samples,
        counts.float_samples,
        true,
    );
    cmp(
        "numHistogramSamples",
        st.num_histogram_samples,
        counts.histogram_samples,
        true,
    );
    cmp("numTombstones", st.num_tombstones, counts.tombstones, false);
}
