//! The index: series entries, chunk metas, postings and legacy label indices.

use super::meta::{check_stats, check_tombstones};
use super::samples::check_chunks;
#[allow(clippy::wildcard_imports)]
use super::*;

/// Per-series facts kept for the postings cross-check, compactly.
pub(super) struct SeriesTable {
    pub(super) ids: Vec<u64>,
    label_start: Vec<u32>,
    labels: Vec<(u32, u32)>,
}

pub(super) fn check_contents(
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

pub(super) fn check_postings(
    cx: &mut Ctx,
    index: &IndexReader<'_>,
    table: &SeriesTable,
    counts: &mut Counts,
) {
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

pub(super) fn check_label_indices(cx: &mut Ctx, index: &IndexReader<'_>) {
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
