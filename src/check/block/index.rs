//! The index: series entries, chunk metas, postings and legacy label indices.

use super::meta::{check_stats, check_tombstones};
use rayon::prelude::*;

use super::postings::{
    Fingerprint, check_label_indices, check_postings, mix, pair_hash, postings_pass, ref_pair_hash,
};
use super::samples::{Piece, check_piece, check_segment_headers, merge_pieces, series_name};
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
    let seg_ok = check_segment_headers(cx, chunks);
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
                format!("symbol #{i} is not greater than the one before it: the table must be strictly ascending"),
            )
            .at(index.symbols.offset),
        );
    }
    // Series pass: the series section is cut into parts at series starts
    // taken from the all-postings list (when it is intact), each part walked
    // by its own task; every 4096 chunk metas become a chunk-checking job.
    let fast = index.version >= 2 && symbols_unsorted_at.is_none();
    let empty_ref = (fast && index.symbols.lookup(0) == Some(b"")).then_some(0u32);
    let parts = if fast {
        series_parts(&index, (rayon::current_num_threads() * 4).max(2))
    } else {
        vec![index.series_region()]
    };
    let nsym_words = if fast {
        index.symbols.len().div_ceil(64)
    } else {
        0
    };
    let (dir, ulid) = (cx.dir.clone(), cx.ulid.clone());
    let seg_ok_ref: &[bool] = &seg_ok;
    let index_ref = &index;
    let index_path_ref: &Path = &index_path;
    let walk = |part_start: u64, part_end: u64| -> PartResult {
        let index = index_ref;
        let index_path = index_path_ref;
        let mut local = Ctx {
            dir: dir.clone(),
            ulid: ulid.clone(),
            findings: Findings::default(),
        };
        let cx = &mut local;
        let mut counts = Counts::default();
        let mut ids: Vec<u64> = Vec::new();
        let mut fp = Fingerprint::default();
        let mut used: Vec<u64> = vec![0; nsym_words];
        // Chunk metas wait here until a piece is full, then the piece's
        // chunks are checked on this thread: the metas of a whole block are
        // never held at once.
        let mut batch: Vec<(u32, ChunkMeta)> = Vec::with_capacity(PIECE_CHUNKS);
        let mut pieces: Vec<Piece> = Vec::new();
        let mut entry = SeriesEntry::default();
        let mut prev_resolved: Vec<(&[u8], &[u8])> = Vec::new();
        let mut resolved: Vec<(&[u8], &[u8])> = Vec::new();
        let mut prev_refs: Vec<(u32, u32)> = Vec::new();
        let mut first_refs: Option<Vec<(u32, u32)>> = None;
        let mut first_offset: Option<u64> = None;
        let mut prev_offset: Option<u64> = None;
        let mut released = part_start;
        let mut last_ref: u64 = 0;
        let mut it = index.series_range(part_start, part_end);
        while let Some(r) = it.next_into(&mut entry) {
            if let Err(e) = r {
                cx.decode(FileKind::Index, index_path, &e);
                continue;
            }
            if entry.offset > released + (8 << 20) {
                files.index.release(released, entry.offset);
                released = entry.offset;
            }
            let ordinal = ids.len() as u32;
            ids.push(entry.id);
            counts.series += 1;
            counts.chunks += entry.chunks.len() as u64;
            let series_str = |res: &[(&[u8], &[u8])]| {
                let mut s = String::new();
                format_labels(&mut s, res);
                s
            };
            // Label refs are checked and fingerprinted without touching the
            // strings when the symbol table is strictly sorted (v2): then ref
            // order is string order. Otherwise every label is resolved.
            let labels_ok = if fast {
                let n = index.symbols.len() as u32;
                if entry.labels.iter().all(|&(a, b)| a < n && b < n) {
                    let mixed_id = mix(entry.id);
                    for &(a, b) in &entry.labels {
                        fp.add_mixed(ref_pair_hash(a, b), mixed_id);
                        for r in [a, b] {
                            if let Some(w) = used.get_mut(r as usize / 64) {
                                *w |= 1 << (r % 64);
                            }
                        }
                    }
                    true
                } else {
                    if let Err(e) = index.resolve_labels(&entry, &mut resolved) {
                        cx.decode(FileKind::Index, index_path, &e);
                    }
                    false
                }
            } else {
                match index.resolve_labels(&entry, &mut resolved) {
                    Ok(()) => {
                        for (n, v) in &resolved {
                            fp.add(pair_hash(n, v), entry.id);
                        }
                        true
                    }
                    Err(e) => {
                        cx.decode(FileKind::Index, index_path, &e);
                        false
                    }
                }
            };
            if labels_ok {
                let issues = if fast {
                    let r = label_issues(&entry.labels, &prev_refs, ordinal > 0, |v| {
                        Some(*v) == empty_ref
                    });
                    prev_refs.clone_from(&entry.labels);
                    r
                } else {
                    let r = label_issues(&resolved, &prev_resolved, ordinal > 0, |v| v.is_empty());
                    prev_resolved.clone_from(&resolved);
                    r
                };
                if !issues.is_empty() {
                    let _ = index.resolve_labels(&entry, &mut resolved);
                    let this = series_str(&resolved);
                    for (severity, code, message) in issues {
                        let message = if code == FindingCode::IndexSeriesUnsorted {
                            let prev_s = prev_offset
                                .and_then(|o| series_name(index, Some(o)))
                                .unwrap_or_default();
                            format!("{message} ({prev_s})")
                        } else {
                            message.to_string()
                        };
                        cx.push(
                            Finding {
                                severity,
                                series: Some(this.clone()),
                                ..Finding::new(severity, code, index_path, message)
                            }
                            .at(entry.offset),
                        );
                    }
                }
            }
            if first_offset.is_none() {
                first_offset = Some(entry.offset);
                first_refs = Some(entry.labels.clone());
            }
            prev_offset = Some(entry.offset);
            // Chunk metas.
            let sname = || series_name(index, Some(entry.offset)).unwrap_or_default();
            let mut prev: Option<ChunkMeta> = None;
            for c in &entry.chunks {
                // Each finding below sets its own code and message.
                let base = || {
                    Finding::new(
                        Severity::Error,
                        FindingCode::IndexChunkMetaInvalid,
                        index_path,
                        "",
                    )
                    .at(entry.offset)
                    .series(sname())
                    .costs(c.mint, c.maxt.saturating_add(1))
                };
                if c.mint > c.maxt {
                    cx.push(Finding {
                        code: FindingCode::IndexChunkMetaInvalid,
                        message: format!("chunk mint {} is after maxt {}", c.mint, c.maxt),
                        ..base()
                    });
                }
                if c.mint < meta.min_time || c.maxt >= meta.max_time {
                    cx.push(Finding {
                        code: FindingCode::ChunkOutsideBlock,
                        message: format!(
                            "chunk [{}, {}] lies outside the block's [{}, {})",
                            c.mint, c.maxt, meta.min_time, meta.max_time
                        ),
                        ..base()
                    });
                }
                if let Some(p) = prev {
                    if c.chunk_ref == p.chunk_ref {
                        cx.push(Finding {
                            code: FindingCode::IndexChunkDuplicate,
                            message: "two chunk metas of the series point to the same chunk".into(),
                            ..base()
                        });
                    } else if c.mint <= p.maxt {
                        let code = if c.mint < p.mint {
                            FindingCode::IndexChunksUnordered
                        } else {
                            FindingCode::IndexChunksOverlap
                        };
                        cx.push(Finding {
                            code,
                            message: format!(
                                "chunk [{}, {}] starts before the previous chunk [{}, {}] ends",
                                c.mint, c.maxt, p.mint, p.maxt
                            ),
                            ..base()
                        });
                    }
                }
                if c.chunk_ref < last_ref {
                    cx.push(Finding {
                    severity: Severity::Info,
                    code: FindingCode::IndexChunkRefsUnordered,
                    message: "chunk reference is lower than the one before it (Prometheus ≥ 2.51 writes them ascending)".into(),
                    ..base()
                });
                }
                let seg = c.segment() as usize;
                match (seg < chunks.count()).then(|| chunks.len(seg)) {
                None => cx.push(Finding {
                    code: FindingCode::IndexChunkRefInvalid,
                    message: format!("chunk reference {:#x} names segment #{seg}, but the block has {} chunk files", c.chunk_ref, chunks.count()),
                    ..base()
                }),
                Some(len) if u64::from(c.offset()) >= len || (c.offset() as usize) < crate::format::chunks::SEGMENT_HEADER_LEN => cx.push(Finding {
                    code: FindingCode::IndexChunkRefInvalid,
                    message: format!("chunk reference {:#x} points to offset {} outside segment #{seg} ({len} bytes)", c.chunk_ref, c.offset()),
                    ..base()
                }),
                Some(_) => {
                    batch.push((ordinal, *c));
                }
            }
                last_ref = last_ref.max(c.chunk_ref);
                prev = Some(*c);
            }
            if batch.len() >= PIECE_CHUNKS {
                pieces.push(check_piece(chunks, seg_ok_ref, opts, 0, &batch));
                batch.clear();
            }
        }
        if !batch.is_empty() {
            pieces.push(check_piece(chunks, seg_ok_ref, opts, 0, &batch));
        }
        files.index.release(released, part_end);
        PartResult {
            pieces,
            findings: local.findings,
            ids,
            fp,
            used,
            series: counts.series,
            chunks: counts.chunks,
            first_refs,
            last_refs: prev_refs,
            first_offset,
            last_offset: prev_offset,
        }
    };
    // The parts' walks, each checking its chunks in pieces as it goes, run
    // beside the postings pass and the label indices (which need nothing
    // from the walk).
    let (walked, (pass, label_cx)) = rayon::join(
        || {
            let mut results: Vec<PartResult> = parts.par_iter().map(|&(a, b)| walk(a, b)).collect();
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
        },
        || {
            let pass = postings_pass(&dir, &ulid, index_ref, &files.index, fast);
            let mut lcx = Ctx {
                dir: dir.clone(),
                ulid: ulid.clone(),
                findings: Findings::default(),
            };
            check_label_indices(&mut lcx, index_ref);
            (pass, lcx)
        },
    );
    let (results, pieces) = walked;
    // Merge the parts in order: ids, offsets, fingerprints, findings, and the
    // order of the series across each cut.
    let mut ids: Vec<u64> = Vec::with_capacity(results.iter().map(|r| r.ids.len()).sum());
    let mut fp = Fingerprint::default();
    let mut used: Vec<u64> = vec![0; nsym_words];
    let mut prev_last: Option<(Vec<(u32, u32)>, u64)> = None;
    for r in results {
        if let (Some((pl, _)), Some(first), Some(fo)) = (&prev_last, &r.first_refs, r.first_offset)
            && first <= pl
        {
            let code = if first == pl {
                FindingCode::IndexSeriesDuplicate
            } else {
                FindingCode::IndexSeriesUnsorted
            };
            let series = series_name(&index, Some(fo)).unwrap_or_default();
            cx.push(
                Finding::new(
                    Severity::Error,
                    code,
                    &index_path,
                    "series does not sort after the series before it",
                )
                .at(fo)
                .series(series),
            );
        }
        if let Some(lo) = r.last_offset {
            prev_last = Some((r.last_refs.clone(), lo));
        }
        cx.findings.absorb(r.findings);
        ids.extend_from_slice(&r.ids);
        fp.merge(r.fp);
        for (w, x) in used.iter_mut().zip(&r.used) {
            *w |= x;
        }
        counts.series += r.series;
        counts.chunks += r.chunks;
    }
    if fast && !structural_series(cx) {
        // The empty string is always in the table (writers add it) and is not unused.
        if index.symbols.lookup(0) == Some(b"")
            && let Some(w) = used.first_mut()
        {
            *w |= 1;
        }
        let unused = index.symbols.len() as u64
            - used.iter().map(|w| u64::from(w.count_ones())).sum::<u64>();
        if unused > 0 {
            cx.push(
                Finding::new(
                    Severity::Info,
                    FindingCode::IndexSymbolsUnused,
                    &index_path,
                    format!("{unused} symbols are referenced by no series (compaction keeps the symbols of its inputs; harmless)"),
                )
                .at(index.toc.symbols),
            );
        }
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

/// The label-set rules of one series, given its labels and the previous
/// series' labels as comparable keys: non-empty, names strictly ascending,
/// no empty values, and strictly after the previous series.
fn label_issues<K: Ord>(
    cur: &[(K, K)],
    prev: &[(K, K)],
    has_prev: bool,
    is_empty_value: impl Fn(&K) -> bool,
) -> Vec<(Severity, FindingCode, &'static str)> {
    let mut out = Vec::new();
    if cur.is_empty() {
        out.push((
            Severity::Error,
            FindingCode::IndexSeriesEmptyLabels,
            "series has an empty label set",
        ));
    }
    if cur.windows(2).any(|w| matches!(w, [a, b] if a.0 == b.0)) {
        out.push((
            Severity::Error,
            FindingCode::IndexSeriesDuplicateLabel,
            "series has a label name twice",
        ));
    } else if cur.windows(2).any(|w| matches!(w, [a, b] if a.0 > b.0)) {
        out.push((
            Severity::Error,
            FindingCode::IndexSeriesLabelsUnsorted,
            "label names of the series are not sorted",
        ));
    }
    if cur.iter().any(|(_, v)| is_empty_value(v)) {
        out.push((
            Severity::Warning,
            FindingCode::IndexSeriesEmptyLabelValue,
            "series has a label with an empty value (Prometheus drops such labels)",
        ));
    }
    if has_prev && cur <= prev {
        if cur == prev {
            out.push((
                Severity::Error,
                FindingCode::IndexSeriesDuplicate,
                "series has the same label set as the series before it",
            ));
        } else {
            out.push((
                Severity::Error,
                FindingCode::IndexSeriesUnsorted,
                "series sorts before the series before it",
            ));
        }
    }
    out
}

/// True if a series entry could not be read (then "unused" is not known).
fn structural_series(cx: &Ctx) -> bool {
    cx.findings.iter().any(|f| {
        f.code.as_str().starts_with("index_series") || f.code == FindingCode::IndexOutOfBounds
    })
}

/// Chunk metas checked together by one call of [`check_piece`].
const PIECE_CHUNKS: usize = 4096;

/// What one task found walking one part of the series section.
struct PartResult {
    /// This part's chunks, checked (series ordinals relative to the part).
    pieces: Vec<Piece>,
    findings: Findings,
    ids: Vec<u64>,
    fp: Fingerprint,
    used: Vec<u64>,
    series: u64,
    chunks: u64,
    first_refs: Option<Vec<(u32, u32)>>,
    last_refs: Vec<(u32, u32)>,
    first_offset: Option<u64>,
    last_offset: Option<u64>,
}

/// Cuts the series section into about `n` parts at series starts, taken
/// from the all-postings list (v2: id × 16). One part when the list is
/// unusable (then the sequential walk finds what is wrong).
fn series_parts(index: &IndexReader<'_>, n: usize) -> Vec<(u64, u64)> {
    let whole = vec![index.series_region()];
    let (start, end) = index.series_region();
    let Ok(mut t) = index.postings_table_iter() else {
        return whole;
    };
    let Some(Ok(all)) = t.next() else {
        return whole;
    };
    if !all.name.is_empty() || !all.value.is_empty() || n < 2 {
        return whole;
    }
    let Ok(list) = index.postings(all.offset) else {
        return whole;
    };
    let len = list.len();
    // Small indexes are cut too, so the tests run the merge of parts.
    if len < 64 {
        return whole;
    }
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
