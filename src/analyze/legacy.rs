//! An index without the all-postings list, analyzed as promtool 2.42 does
//! (see the module doc of [`super`]).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::chunks::ChunkAcc;
use super::rank::top;
use super::{Analysis, AnalyzeOptions};
use crate::error::{Error, Result};
use crate::format::index::{IndexReader, PostingsEntry};
use crate::format::meta::BlockMeta;

/// The postings offset table's entries when it reads cleanly and has no
/// all-postings entry (`""=""`); `None` otherwise (the usual case, and a
/// damaged table, which the series pass then reports on its own terms).
pub(super) fn postings_without_all<'a>(ir: &IndexReader<'a>) -> Option<Vec<PostingsEntry<'a>>> {
    if ir.toc.postings_table == 0 {
        return None;
    }
    // Streamed first: the usual index has the entry (first, when sorted)
    // and nothing is collected.
    let mut it = ir.postings_table_iter().ok()?;
    if it.any(|e| e.map_or(true, |e| e.name.is_empty() && e.value.is_empty())) {
        return None;
    }
    ir.postings_table().ok()
}

/// promtool 2.42's figures for an index without the all-postings list: no
/// series is walked; names and values come from the postings offset table,
/// the metric names' counts from their postings lists.
pub(super) fn without_all_postings(
    dir: &Path,
    meta: &BlockMeta,
    ir: &IndexReader<'_>,
    table: &[PostingsEntry<'_>],
    opts: &AnalyzeOptions,
    index_path: PathBuf,
) -> Result<Analysis> {
    // name -> (values, cumulative value length); the table may repeat a pair
    // (a v1 index is unsorted), values are counted once.
    let mut names: BTreeMap<&[u8], (u64, u64)> = BTreeMap::new();
    let mut seen: HashSet<(&[u8], &[u8])> = HashSet::new();
    let mut metrics: Vec<(u64, &[u8])> = Vec::new();
    for e in table.iter().filter(|e| !e.name.is_empty()) {
        if !seen.insert((e.name, e.value)) {
            continue;
        }
        let n = names.entry(e.name).or_default();
        n.0 += 1;
        n.1 += e.value.len() as u64;
        if e.name == b"__name__" {
            let p = ir
                .postings(e.offset)
                .map_err(|err| Error::decode(index_path.clone(), err))?;
            metrics.push((p.len() as u64, e.value));
        }
    }
    let names: Vec<(&[u8], (u64, u64))> = names.into_iter().collect();
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let by_name = |f: fn(&(u64, u64)) -> u64| {
        top(
            names.len(),
            opts.limit,
            |i| names.get(i).map_or(0, |n| f(&n.1)),
            |i| names.get(i).map_or(&b""[..], |n| n.0),
            |i| lossy(names.get(i).map_or(&b""[..], |n| n.0)),
        )
    };
    let label_value_length = by_name(|v| v.1);
    let label_cardinality = by_name(|v| v.0);
    let metric_cardinality = top(
        metrics.len(),
        opts.limit,
        |i| metrics.get(i).map_or(0, |m| m.0),
        |i| metrics.get(i).map_or(&b""[..], |m| m.1),
        |i| lossy(metrics.get(i).map_or(&b""[..], |m| m.1)),
    );
    Ok(Analysis {
        series: if opts.selectors.is_empty() {
            meta.stats.num_series
        } else {
            0
        },
        label_names: names.len() as u64,
        label_value_length,
        label_cardinality,
        metric_cardinality,
        compaction: opts.extended.then(|| ChunkAcc::default().finish()),
        ..Analysis::of_block(dir, meta)
    })
}
