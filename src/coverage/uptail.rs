//! The scrape targets' last `up` timestamps in a block (the snapshot's head
//! block), and the series each target owns there: what the isolation race
//! (L4) is decided from, target by target (`model/l4.rs`).
//!
//! Prometheus writes one `up` sample per scrape of a target, stamped with
//! the scrape's timestamp, in the same commit as the target's samples; a
//! failed scrape still commits `up` 0. The newest `up` samples of a target
//! therefore show its scrape grid up to the head read.

use std::collections::BTreeMap;
use std::path::Path;

use crate::block::BlockFiles;
use crate::format::chunkenc::{STALE_NAN_BITS, XorIter};
use crate::format::index::SeriesEntry;
use crate::format::refs::SeriesRef;

/// How many of a target's newest `up` timestamps are kept.
pub const TAIL: usize = 8;

/// One scrape target (a distinct `job`/`instance` of `up`) in a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpTail {
    /// The `job` label, if any.
    pub job: Option<String>,
    /// The `instance` label, if any.
    pub instance: Option<String>,
    /// Its newest `up` timestamps (at most [`TAIL`], ascending, distinct);
    /// empty when a chunk of its `up` series cannot be read.
    pub times: Vec<i64>,
    /// Series in the block with this `job` and `instance` (its `up` too).
    pub series: u64,
    /// Its newest `up` sample is a staleness marker: its scrape loop
    /// stopped (2.42 writes one into `up` only when the target is gone).
    pub stale: bool,
}

impl UpTail {
    /// `job/instance` for the texts.
    pub fn name(&self) -> String {
        format!(
            "{}/{}",
            self.job.as_deref().unwrap_or("-"),
            self.instance.as_deref().unwrap_or("-")
        )
    }
}

pub(crate) type Key = (Option<Vec<u8>>, Option<Vec<u8>>);

/// The targets of the block at `dir`, by `job`/`instance`: the `up`
/// series come from the postings list of `__name__="up"`, their chunks
/// only are decoded; one walk over the series counts each target's series.
/// `None` when the block, its postings table or its `up` list cannot be
/// read, or it has no `up` series.
pub fn read(dir: &Path) -> Option<Vec<UpTail>> {
    let files = BlockFiles::open(dir).ok()?;
    let reader = files.reader().ok()?;
    let index = &reader.index;
    let up_list = up_postings(index).ok()??;
    let mut entry = SeriesEntry::default();
    let mut labels = Vec::new();
    let mut tails: BTreeMap<Key, Option<Vec<(i64, bool)>>> = BTreeMap::new();
    for id in up_list.iter() {
        if index.series_by_id(SeriesRef::from(id), &mut entry).is_err()
            || index.resolve_labels(&entry, &mut labels).is_err()
        {
            // An `up` series whose target is unknown: no target can be
            // told complete.
            return None;
        }
        let key = key_of(&labels);
        let times = newest_times(&reader, &entry);
        let slot = tails.entry(key).or_insert_with(|| Some(Vec::new()));
        match (slot.as_mut(), times) {
            (Some(all), Some(t)) => {
                all.extend(t);
                all.sort_unstable();
                all.dedup_by_key(|s| s.0);
                let cut = all.len().saturating_sub(TAIL);
                all.drain(..cut);
            }
            _ => *slot = None,
        }
    }
    if tails.is_empty() {
        return None;
    }
    let mut counts: BTreeMap<&Key, u64> = tails.keys().map(|k| (k, 0)).collect();
    let mut it = index.series();
    while let Some(res) = it.next_into(&mut entry) {
        if res.is_err() || index.resolve_labels(&entry, &mut labels).is_err() {
            continue;
        }
        if let Some(n) = counts.get_mut(&key_of(&labels)) {
            *n += 1;
        }
    }
    let text = |b: &Option<Vec<u8>>| b.as_ref().map(|v| String::from_utf8_lossy(v).into_owned());
    Some(
        tails
            .iter()
            .map(|(k, t)| UpTail {
                job: text(&k.0),
                instance: text(&k.1),
                times: t.iter().flatten().map(|s| s.0).collect(),
                series: counts.get(k).copied().unwrap_or(0),
                stale: t.iter().flatten().last().is_some_and(|s| s.1),
            })
            .collect(),
    )
}

/// The postings list of `__name__="up"` (one series per scrape target):
/// `Ok(None)` when the block has none; `Err` when the postings table or
/// that list cannot be read.
pub(crate) fn up_postings<'a>(
    index: &crate::format::index::IndexReader<'a>,
) -> Result<Option<crate::format::index::Postings<'a>>, crate::format::error::DecodeError> {
    for pe in index.postings_table_iter()? {
        let pe = pe?;
        if pe.name == b"__name__" && pe.value == b"up" {
            return index.postings(pe.offset).map(Some);
        }
    }
    Ok(None)
}

/// The `(job, instance)` of a series' labels.
pub(crate) fn key_of(labels: &[(&[u8], &[u8])]) -> Key {
    let get = |n: &[u8]| {
        labels
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.to_vec())
    };
    (get(b"job"), get(b"instance"))
}

/// The newest (at most [`TAIL`]) samples of a float series, as their
/// timestamps and whether each is a staleness marker, read from its last
/// chunks backwards; `None` when one of those chunks is unreadable, fails
/// its CRC or is not a float chunk.
fn newest_times(
    reader: &crate::block::BlockReader<'_>,
    entry: &SeriesEntry,
) -> Option<Vec<(i64, bool)>> {
    let mut out: Vec<(i64, bool)> = Vec::new();
    for meta in entry.chunks.iter().rev() {
        let rec = reader.chunk(meta).ok()?;
        if rec.encoding != 1 || rec.check_crc().is_err() {
            return None;
        }
        let mut ts = Vec::new();
        for s in XorIter::new(rec.data, rec.data_offset).ok()? {
            let (t, v) = s.ok()?;
            ts.push((t, v.to_bits() == STALE_NAN_BITS));
        }
        out.extend(ts);
        if out.len() >= TAIL {
            break;
        }
    }
    out.sort_unstable();
    out.dedup_by_key(|s| s.0);
    let cut = out.len().saturating_sub(TAIL);
    out.drain(..cut);
    Some(out)
}
