//! The index: series entries, chunk metas, postings and legacy label indices.

use super::meta::{check_stats, check_tombstones};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::format::index::Toc;
use crate::format::index::postings::{Postings, PostingsTableIter};

use super::postings::{Fingerprint, check_label_indices, check_postings, postings_pass};
use super::samples::{Piece, check_segment_headers, merge_pieces, series_name};
use super::walk::{PartResult, SERIES_DUPLICATE, SERIES_UNSORTED, Shared, walk_part};
#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) fn check_contents(
    cx: &mut Ctx,
    files: &BlockFiles,
    chunks: &dyn ChunkSource,
    meta: &BlockMeta,
    opts: &CheckOptions,
    counts: &mut Counts,
) {
    let index_path = files.index_path();
    let (index, seg_ok, parts) = open_index(cx, files, chunks, meta, &index_path);
    let Some(index) = index else {
        check_tombstones(cx, files, None, counts);
        return;
    };
    counts.index_version = index.version;
    let symbols_unsorted_at = index.symbols.first_unsorted();
    if let Some(i) = symbols_unsorted_at {
        cx.push(
            Finding::new(
                Severity::Error,
                FindingCode::IndexSymbolsUnsorted,
                &index_path,
                format!(
                    "symbol #{i} is not greater than the one before it: the table must be strictly \
                     ascending"
                ),
            )
            .at(index.symbols.offset),
        );
    }
    // Series pass: the series section is cut into parts at series starts
    // taken from the all-postings list (when it is intact), each part walked
    // by its own task; every 4096 chunk metas become a chunk-checking job.
    let fast = index.version >= 2 && symbols_unsorted_at.is_none();
    let parts = if fast {
        parts.unwrap_or_else(|| series_parts(index.bytes(), &index.toc))
    } else {
        vec![index.series_region()]
    };
    let nsym_words = if fast {
        index.symbols.len().div_ceil(64)
    } else {
        0
    };
    let used: Mutex<Vec<Vec<u64>>> = Mutex::new(Vec::new());
    let sh = Shared {
        dir: cx.dir.clone(),
        ulid: cx.ulid.clone(),
        files,
        chunks,
        meta,
        opts,
        seg_ok: &seg_ok,
        index: &index,
        index_path: &index_path,
        fast,
        empty_ref: (fast && index.symbols.lookup(0) == Some(b"")).then_some(0u32),
        used: &used,
        nsym_words,
    };
    // The parts' walks, each checking its chunks in pieces as it goes, run
    // beside the postings pass and the label indices (which need nothing
    // from the walk).
    let ((results, pieces), (pass, label_cx)) = rayon::join(
        || walk_parts(&sh, &parts),
        || {
            let pass = postings_pass(&sh.dir, &sh.ulid, &index, &files.index, fast);
            let mut lcx = Ctx {
                dir: sh.dir.clone(),
                ulid: sh.ulid.clone(),
                findings: Findings::default(),
            };
            check_label_indices(&mut lcx, &index);
            (pass, lcx)
        },
    );
    let (ids, fp) = merge_parts(cx, &index, &index_path, results, counts);
    if fast && !structural_series(cx) {
        let mut all = vec![0u64; nsym_words];
        for part in used.into_inner().unwrap_or_default() {
            for (w, x) in all.iter_mut().zip(part) {
                *w |= x;
            }
        }
        unused_symbols(cx, &index, &index_path, all);
    }
    // The series section is done: release its pages (see FileBytes::release).
    let (series_start, series_end) = index.series_region();
    files.index.release(series_start, series_end);
    check_postings(cx, &index, pass, &ids, fp, counts);
    cx.findings.absorb(label_cx.findings);
    files.index.release(0, files.index.len() as u64);
    merge_pieces(cx, chunks, &index, &ids, pieces, &seg_ok, counts);
    check_tombstones(cx, files, Some(&ids), counts);
    check_stats(cx, meta, counts);
}

/// The byte ranges of the series section the walk's parts cover.
type Parts = Vec<(u64, u64)>;

/// What [`open_index`] gives.
type OpenedIndex<'f> = (Option<IndexReader<'f>>, Vec<bool>, Option<Parts>);

/// Opens the index (as v2 when meta.json says so) and reads every chunk
/// segment's header: the index, if it opens, per segment whether its
/// header reads, and (v2) the walk's parts ([`series_parts`]). The symbol
/// table's parse, its CRC and the parts (which CRC the postings offset
/// table) run side by side.
fn open_index<'f>(
    cx: &mut Ctx,
    files: &'f BlockFiles,
    chunks: &dyn ChunkSource,
    meta: &BlockMeta,
    index_path: &Path,
) -> OpenedIndex<'f> {
    let file: &'f [u8] = &files.index;
    let both = |a: &(dyn Fn() + Sync), b: &(dyn Fn() + Sync)| {
        rayon::join(a, b);
    };
    let (open, parts) = rayon::join(
        || IndexReader::open_joined(file, meta.version == 2, &both),
        || {
            crate::format::index::toc::parse_toc(file)
                .ok()
                .map(|toc| series_parts(file, &toc))
        },
    );
    let index = match open {
        Ok(i) => Some(i),
        Err(e) => {
            cx.decode(FileKind::Index, index_path, &e);
            None
        }
    };
    let seg_ok = check_segment_headers(cx, chunks);
    (index, seg_ok, parts)
}

/// Walks the parts in parallel; their pieces in part order, series ordinals
/// made block-wide.
fn walk_parts(sh: &Shared<'_, '_>, parts: &[(u64, u64)]) -> (Vec<PartResult>, Vec<Piece>) {
    let mut results: Vec<PartResult> = parts
        .par_iter()
        .map(|&(a, b)| walk_part(sh, a, b))
        .collect();
    let mut pieces: Vec<Piece> = Vec::new();
    let mut base = 0u32;
    for r in &mut results {
        for mut p in r.pieces.drain(..) {
            p.rebase(base);
            pieces.push(p);
        }
        base = base.saturating_add(r.ids.len() as u32);
    }
    (results, pieces)
}

/// Merges the parts in order: ids, fingerprints, findings, counts, and the
/// order of the series across each cut.
fn merge_parts(
    cx: &mut Ctx,
    index: &IndexReader<'_>,
    index_path: &Path,
    results: Vec<PartResult>,
    counts: &mut Counts,
) -> (SeriesIds, Fingerprint) {
    let mut ids = SeriesIds::default();
    let mut fp = Fingerprint::default();
    let mut prev_last: Option<(Vec<(u32, u32)>, u64)> = None;
    for r in results {
        // The series across the cut: the finding a walk without the cut
        // makes (see `PartWalk::label_set`).
        if let (Some((pl, lo)), Some(first), Some(fo)) = (&prev_last, &r.first_refs, r.first_offset)
            && first <= pl
        {
            let (code, message) = if first == pl {
                (
                    FindingCode::IndexSeriesDuplicate,
                    SERIES_DUPLICATE.to_string(),
                )
            } else {
                let prev_s = series_name(index, Some(*lo)).unwrap_or_default();
                (
                    FindingCode::IndexSeriesUnsorted,
                    format!("{SERIES_UNSORTED} ({prev_s})"),
                )
            };
            let series = series_name(index, Some(fo)).unwrap_or_default();
            cx.push(
                Finding::new(Severity::Error, code, index_path, message)
                    .at(fo)
                    .series(series),
            );
        }
        if let Some(lo) = r.last_offset {
            prev_last = Some((r.last_refs.clone(), lo));
        }
        cx.findings.absorb(r.findings);
        ids.push(r.ids);
        fp.merge(r.fp);
        counts.series += r.series;
        counts.chunks += r.chunks;
    }
    (ids, fp)
}

/// Symbols no series references (from the used-symbols bit set).
fn unused_symbols(cx: &mut Ctx, index: &IndexReader<'_>, index_path: &Path, mut used: Vec<u64>) {
    // The empty string is always in the table (writers add it) and is not unused.
    if index.symbols.lookup(0) == Some(b"")
        && let Some(w) = used.first_mut()
    {
        *w |= 1;
    }
    let unused =
        index.symbols.len() as u64 - used.iter().map(|w| u64::from(w.count_ones())).sum::<u64>();
    if unused > 0 {
        cx.push(
            Finding::new(
                Severity::Info,
                FindingCode::IndexSymbolsUnused,
                index_path,
                format!(
                    "{unused} symbols are referenced by no series (compaction keeps the symbols of \
                     its inputs; harmless)"
                ),
            )
            .at(index.toc.symbols),
        );
    }
}

/// True if a series entry could not be read (then "unused" is not known).
fn structural_series(cx: &Ctx) -> bool {
    cx.findings.iter().any(|f| {
        f.code.as_str().starts_with("index_series") || f.code == FindingCode::IndexOutOfBounds
    })
}

/// Series per part of the walk, about: parts small enough that the last
/// ones keep every thread busy, few enough that their fixed costs (a
/// used-symbols bit set each) stay small.
const PART_SERIES: usize = 16 << 10;
/// At most this many parts.
const MAX_PARTS: usize = 64;

/// Cuts the series section into parts at series starts, taken from the
/// all-postings list (v2: id × 16). How many depends on the series count
/// alone, never on the number of threads: the cuts, and so every finding
/// and count, are the same whatever the pool. One part when the list is
/// unusable (then the sequential walk finds what is wrong).
fn series_parts(file: &[u8], toc: &Toc) -> Vec<(u64, u64)> {
    let (start, end) = (toc.series, toc.series_end(file.len() as u64));
    let whole = vec![(start, end)];
    let Ok(mut t) = PostingsTableIter::new(file, toc.postings_table) else {
        return whole;
    };
    let Some(Ok(all)) = t.next() else {
        return whole;
    };
    if !all.name.is_empty() || !all.value.is_empty() {
        return whole;
    }
    let Ok(list) = Postings::parse(file, all.offset) else {
        return whole;
    };
    let len = list.len();
    // Small indexes are cut too, so the tests run the merge of parts.
    if len < 64 {
        return whole;
    }
    let n = (len / PART_SERIES).clamp(4, MAX_PARTS);
    let mut cuts = vec![start];
    for k in 1..n {
        let Some(id) = list.get(k * len / n) else {
            return whole;
        };
        let off = u64::from(id) * 16;
        if off <= *cuts.last().unwrap_or(&start) || off >= end {
            return whole;
        }
        cuts.push(off);
    }
    cuts.push(end);
    cuts.windows(2)
        .filter_map(|w| match w {
            [a, b] => Some((*a, *b)),
            _ => None,
        })
        .collect()
}

/// The series ids in file order, as the parts' walks found them: not
/// copied into one vector (a million series: 8 MB written once more, on one
/// thread, after the parallel walk).
#[derive(Default)]
pub(super) struct SeriesIds {
    parts: Vec<Vec<SeriesRef>>,
    len: usize,
}

impl SeriesIds {
    fn push(&mut self, part: Vec<SeriesRef>) {
        self.len += part.len();
        self.parts.push(part);
    }

    /// Number of series.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The id of series ordinal `i`.
    pub(super) fn get(&self, mut i: usize) -> Option<SeriesRef> {
        for p in &self.parts {
            match p.get(i) {
                Some(&id) => return Some(id),
                None => i -= p.len(),
            }
        }
        None
    }

    /// Every id in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = SeriesRef> + '_ {
        self.parts.iter().flatten().copied()
    }

    /// Every id in order, in one vector.
    pub(super) fn to_vec(&self) -> Vec<SeriesRef> {
        self.iter().collect()
    }
}
