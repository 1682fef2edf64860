//! The join of SOURCE's series with TARGET's groups, and what it writes:
//! SOURCE's label sets as the series stream by, TARGET's tagged ones (see
//! [`super::relabel`]) once the join has ended.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use super::relabel::{self, TargetGroup, tagged_from};
use super::{
    Deferred, FillReport, Window, add_to_windows, missing_from, stream, writable, write_series,
};
use crate::error::{Error, Result};
use crate::format::chunkenc::Value;
use crate::gaps::relabel::{LabelNames, labels_hash};

/// What the join writes into: the windows of SOURCE's label sets (written
/// as the series stream by) and the samples to write under a tagged
/// series' label set of TARGET's (held until the join has ended: their
/// label order is not SOURCE's; see [`relabel`]).
pub(super) struct Sink<'a> {
    pub(super) target: &'a Path,
    pub(super) windows: BTreeMap<i64, Window>,
    pub(super) tagged: BTreeMap<stream::Labels, Vec<(i64, Value)>>,
}

/// Joins SOURCE's series (`b`) with TARGET's groups (`a`), both in label
/// order, by label set, and writes what TARGET lacks into `sink`; SOURCE's
/// label names into `names`.
pub(super) fn join(
    report: &mut FillReport,
    sink: &mut Sink<'_>,
    a: impl Iterator<Item = TargetGroup>,
    b: impl Iterator<Item = stream::SeriesSamples>,
    drop: &[Vec<u8>],
    (names, sets): (&mut LabelNames, &mut HashSet<u64>),
) -> Result<()> {
    let mut a = a.peekable();
    let mut missing: Vec<(i64, Value)> = Vec::new();
    for (labels, samples) in b {
        names.saw_other(&labels);
        sets.insert(labels_hash(&labels, None));
        report.source_series += 1;
        report.source_samples += samples.len() as u64;
        if let Some(n) = relabel::carried(&labels, drop) {
            let mut l = String::new();
            crate::dump::format_labels(&mut l, &stream::borrowed(&labels));
            let v = labels
                .iter()
                .find(|(k, _)| k.as_slice() == n)
                .map_or(Default::default(), |(_, v)| String::from_utf8_lossy(v));
            let n = String::from_utf8_lossy(n);
            return Err(Error::bad_option(
                "drop_labels",
                format!(
                    "SOURCE's series {l} carries the label {n}=\"{v}\" itself: only a label \
                     that TARGET's series alone carry can be dropped (remote write adds an \
                     external label only to a series that lacks the name, so this series has \
                     the same label set on both sides); fill in two runs, selecting by the \
                     value: the series without their own {n} with it dropped, then those with \
                     it by exact label set"
                ),
            ));
        }
        // Advance TARGET to this label set.
        while a.peek().is_some_and(|g| g.labels < labels) {
            a.next();
        }
        let group = a.peek().filter(|g| g.labels == labels);
        let have = group.map_or(&[][..], |g| g.times.as_slice());
        missing_from(samples, have, &mut missing);
        if missing.is_empty() {
            continue;
        }
        let tagged = group.and_then(|g| g.tagged.as_ref());
        let split = tagged.map_or(missing.len(), |t| tagged_from(&missing, t));
        let (plain, later) = missing.split_at(split.min(missing.len()));
        write_series(report, &mut sink.windows, sink.target, &labels, plain)?;
        if let Some(t) = tagged {
            let w = writable(report, &t.labels, later);
            if !w.is_empty() {
                sink.tagged.insert(t.labels.clone(), w.to_vec());
            }
        }
    }
    // TARGET's label names are wanted in full.
    a.for_each(std::mem::drop);
    Ok(())
}

/// The samples held for TARGET's tagged label sets, written into windows
/// of their own (a second block beside a window's block of SOURCE's label
/// sets).
pub(super) fn write_tagged(
    report: &mut FillReport,
    tagged: BTreeMap<stream::Labels, Vec<(i64, Value)>>,
    target: &Path,
) -> Result<BTreeMap<i64, Window>> {
    let mut windows = BTreeMap::new();
    for (labels, write) in tagged {
        let n = add_to_windows(
            &mut windows,
            target,
            report.dry_run,
            report.block_range,
            &labels,
            &write,
        )?;
        report.series_added += 1;
        report.samples_added += n;
        report.target_labels_series += 1;
        report.target_labels_samples += n;
    }
    Ok(windows)
}

/// The refusal: TARGET's series carry label names SOURCE's have not and
/// the join is not told what to do with them (see
/// [`FillReport::refused`]): what was counted as added is cleared.
pub(super) fn refuse(report: &mut FillReport) {
    report.refused = true;
    report.ranges.clear();
    report.series_added = 0;
    report.samples_added = 0;
    report.target_labels_series = 0;
    report.target_labels_samples = 0;
    report.deferred = Deferred {
        cutoff: report.deferred.cutoff,
        ..Deferred::default()
    };
}
