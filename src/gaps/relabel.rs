//! Label names that one side of a `gaps --against` join carries and the
//! other does not, and the join without some label names.
//!
//! A replica fed by remote write holds every series its master sent with
//! the master's `external_labels` added (2.42's queue appends them to each
//! series that lacks the name), while the blocks it was seeded from (a
//! snapshot) and the master's own TSDB hold the series without them: the
//! same metric lives under two label sets on the replica, and a join by
//! label set reports every master series missing from the seeding on.
//! `LabelsOnlyInDir` names such labels; dropping them from both sides
//! (`GapsOptions::drop_labels`) joins the two label sets again.
//!
//! Memory: without names to drop, nothing beyond one entry per label name.
//! With them, the series of a side that carry a dropped name are held
//! (their sample times in the range), re-sorted by the label set left;
//! the others still stream by.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::{Hash, Hasher};

use serde::Serialize;

use super::stream::{Labels, Merged, Opened, Sample, SeriesOf};
use crate::selector::Matcher;

/// A label name the series of DIR carry and no series of OTHER has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelOnlyInDir {
    /// The label name.
    pub name: String,
    /// DIR's series carrying it.
    pub series: u64,
    /// Up to 3 of its values, sorted.
    pub values: Vec<String>,
}

/// Values kept per label name.
const VALUES_KEPT: usize = 3;

/// Label names seen on each side of a join.
#[derive(Debug, Default)]
pub(crate) struct LabelNames {
    dir: BTreeMap<Vec<u8>, (u64, BTreeSet<Vec<u8>>)>,
    other: BTreeSet<Vec<u8>>,
}

impl LabelNames {
    /// A series of DIR.
    pub(crate) fn saw_dir(&mut self, labels: &Labels) {
        for (k, v) in labels {
            // Looked up before an entry is made: no name copied per series.
            let e = match self.dir.get_mut(k) {
                Some(e) => e,
                None => self.dir.entry(k.clone()).or_default(),
            };
            e.0 += 1;
            if e.1.len() < VALUES_KEPT && !e.1.contains(v) {
                e.1.insert(v.clone());
            }
        }
    }

    /// A series of OTHER.
    pub(crate) fn saw_other(&mut self, labels: &Labels) {
        for (k, _) in labels {
            if !self.other.contains(k) {
                self.other.insert(k.clone());
            }
        }
    }

    /// These names, with OTHER's side taken from `other` (each side read on
    /// its own thread).
    pub(crate) fn with_other(mut self, other: LabelNames) -> Self {
        self.other = other.other;
        self
    }

    /// The names only DIR's series carry, when OTHER had any series.
    pub(crate) fn only_in_dir(self) -> Vec<LabelOnlyInDir> {
        if self.other.is_empty() {
            return Vec::new();
        }
        let other = self.other;
        self.dir
            .into_iter()
            .filter(|(k, _)| !other.contains(k))
            .map(|(k, (series, values))| named(&k, series, &values))
            .collect()
    }
}

/// A label name as reported: its series count and up to [`VALUES_KEPT`]
/// values.
fn named(name: &[u8], series: u64, values: &BTreeSet<Vec<u8>>) -> LabelOnlyInDir {
    LabelOnlyInDir {
        name: String::from_utf8_lossy(name).into_owned(),
        series,
        values: values
            .iter()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect(),
    }
}

/// A label set's hash, without its `skip`th pair if given.
pub(crate) fn labels_hash(labels: &Labels, skip: Option<usize>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for (i, kv) in labels.iter().enumerate() {
        if Some(i) != skip {
            kv.hash(&mut h);
        }
    }
    h.finish()
}

/// The label names DIR's selected series carry on top of a whole label set
/// of OTHER's (`sets`: their [`labels_hash`]es) that lacks them: a master's
/// external label whose name its own series use too (remote write adds it
/// only to the series without the name), which [`LabelNames::only_in_dir`]
/// cannot see. Memory: `sets`, one hash per OTHER series; DIR's label sets
/// stream by (indexes and head, no chunk read).
pub(crate) fn added_in_dir(
    dir: &Opened,
    selectors: &[Vec<Matcher>],
    sets: &HashSet<u64>,
) -> Vec<LabelOnlyInDir> {
    let mut found: BTreeMap<Vec<u8>, (u64, BTreeSet<Vec<u8>>)> = BTreeMap::new();
    let r: Vec<_> = dir.files.iter().filter_map(|f| f.reader().ok()).collect();
    for (l, _) in super::stream::label_sets(&r, dir, selectors) {
        if sets.contains(&labels_hash(&l, None)) {
            continue;
        }
        for (i, (k, v)) in l.iter().enumerate() {
            if k.as_slice() != b"__name__" && sets.contains(&labels_hash(&l, Some(i))) {
                let e = found.entry(k.clone()).or_default();
                e.0 += 1;
                if e.1.len() < VALUES_KEPT && !e.1.contains(v) {
                    e.1.insert(v.clone());
                }
            }
        }
    }
    found
        .into_iter()
        .map(|(k, (series, values))| named(&k, series, &values))
        .collect()
}

/// True if `labels` has one of `names`.
fn carries(labels: &Labels, names: &[Vec<u8>]) -> bool {
    labels.iter().any(|(k, _)| names.contains(k))
}

/// A side's series with `names` dropped, in label order: `first` and
/// `second` are two streams of the same series; from `first` the series
/// carrying a dropped name are held (their labels without it, samples of
/// equal label sets unioned), `second` gives the others as they stream by,
/// and both are merged by label set.
pub(crate) fn dropped<'a, S: Sample + 'a>(
    first: impl Iterator<Item = SeriesOf<S>>,
    second: impl Iterator<Item = SeriesOf<S>> + 'a,
    names: &'a [Vec<u8>],
) -> Merged<'a, S> {
    let mut held: BTreeMap<Labels, Vec<S>> = BTreeMap::new();
    for (labels, samples) in first {
        if !carries(&labels, names) {
            continue;
        }
        let kept: Labels = labels
            .into_iter()
            .filter(|(k, _)| !names.contains(k))
            .collect();
        held.entry(kept).or_default().extend(samples);
    }
    let held = held.into_iter().map(|(l, mut s)| {
        s.sort_by_key(S::time);
        s.dedup_by_key(|x| x.time());
        (l, s)
    });
    let rest = second.filter(move |(l, _)| !carries(l, names));
    Merged::new(vec![Box::new(rest), Box::new(held)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn dropping_a_label_joins_the_two_label_sets_in_order() {
        // The replica: the seeded series without `monitor`, the remote-write
        // one with it (sorting after `job`, before `mode`), and a series whose
        // order changes once `monitor` is gone.
        let dir = vec![
            (l(&[("__name__", "a"), ("job", "j")]), vec![1_i64, 2]),
            (
                l(&[("__name__", "a"), ("job", "j"), ("monitor", "example")]),
                vec![3, 4],
            ),
            (
                l(&[("__name__", "a"), ("job", "j"), ("mode", "x")]),
                vec![1, 2],
            ),
            (
                l(&[("__name__", "a"), ("monitor", "example"), ("z", "1")]),
                vec![5],
            ),
        ];
        let names = vec![b"monitor".to_vec()];
        let got: Vec<(Labels, Vec<i64>)> =
            dropped(dir.clone().into_iter(), dir.into_iter(), &names).collect();
        assert_eq!(
            got,
            vec![
                (l(&[("__name__", "a"), ("job", "j")]), vec![1, 2, 3, 4]),
                (
                    l(&[("__name__", "a"), ("job", "j"), ("mode", "x")]),
                    vec![1, 2]
                ),
                (l(&[("__name__", "a"), ("z", "1")]), vec![5]),
            ]
        );
    }

    #[test]
    fn names_only_one_side_carries() {
        let mut n = LabelNames::default();
        n.saw_dir(&l(&[("__name__", "a"), ("monitor", "example")]));
        n.saw_dir(&l(&[("__name__", "b"), ("monitor", "example")]));
        n.saw_dir(&l(&[("__name__", "b")]));
        n.saw_other(&l(&[("__name__", "a")]));
        assert_eq!(
            n.only_in_dir(),
            vec![LabelOnlyInDir {
                name: "monitor".into(),
                series: 2,
                values: vec!["example".into()],
            }]
        );
        let mut none = LabelNames::default();
        none.saw_dir(&l(&[("monitor", "x")]));
        assert!(none.only_in_dir().is_empty());
    }
}
