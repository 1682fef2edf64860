//! `fill` with label names dropped from the join: TARGET's series grouped
//! by their label set without those names, and the label set each missing
//! sample is written under.
//!
//! A replica fed by remote write from a master with `external_labels`
//! holds every series twice: without the labels up to its seeding (the
//! snapshot's blocks) and with them after (remote write adds them to every
//! series it sends), while SOURCE (the master's data) holds it without.
//! Joined by exact label set, every SOURCE sample after the seeding looks
//! missing, and writing them back would double every series there. With
//! the names dropped, a SOURCE series is joined with the group of TARGET's
//! series equal to it without them: a sample is missing only if no series
//! of the group has its timestamp, and it is written under the label set
//! the replica used at that time ([`tagged_from`]).
//!
//! Memory: TARGET's series that carry a dropped name are held (their
//! sample times in the range, [`Times`]: one byte each at a regular
//! interval, a few for a jittered one; one label set per group), to
//! be re-sorted by the label set left; the others stream by. TARGET is read
//! whatever the range (twice), its times outside the range dropped as
//! they come.

use std::collections::BTreeMap;

use crate::format::chunkenc::Value;
use crate::gaps::stream::{Labels, SeriesOf};

/// A group of TARGET's series as `fill` joins it with SOURCE's.
#[derive(Debug, Default)]
pub struct TargetGroup {
    /// The label set without the dropped names (the series' own when none
    /// is dropped).
    pub labels: Labels,
    /// Every sample time of the group's series, ascending, once each.
    pub times: Vec<i64>,
    /// The series of the group that carries a dropped name, if any.
    pub tagged: Option<Tagged>,
}

/// The series of a group that carries a dropped name (the one remote write
/// continues: of several, the one with the latest sample).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    /// Its full label set.
    pub labels: Labels,
    /// Its first sample time (ms).
    pub first: i64,
    /// Its last sample time (ms).
    pub last: i64,
    /// The last sample time of the group's series without a dropped name
    /// (the seeded one), if the group has one.
    pub plain_last: Option<i64>,
}

impl From<SeriesOf<i64>> for TargetGroup {
    fn from((labels, times): SeriesOf<i64>) -> Self {
        TargetGroup {
            labels,
            times,
            tagged: None,
        }
    }
}

/// True if `labels` has one of `names`.
pub(crate) fn carries(labels: &Labels, names: &[Vec<u8>]) -> bool {
    labels.iter().any(|(k, _)| names.contains(k))
}

/// The first of `names` that `labels` carries.
pub(crate) fn carried<'a>(labels: &Labels, names: &'a [Vec<u8>]) -> Option<&'a [u8]> {
    names
        .iter()
        .find(|n| labels.iter().any(|(k, _)| k == *n))
        .map(Vec::as_slice)
}

/// The series of `first` that carry one of `names`, by their label set
/// without them: times unioned, the tagged series the one with the latest
/// sample.
pub(crate) fn hold(
    first: impl Iterator<Item = SeriesOf<i64>>,
    names: &[Vec<u8>],
    range: (i64, i64),
) -> BTreeMap<Labels, (Times, Tagged)> {
    let mut held: BTreeMap<Labels, (Times, Tagged)> = BTreeMap::new();
    for (labels, mut times) in first {
        let (Some(&f), Some(&l)) = (times.first(), times.last()) else {
            continue;
        };
        if !carries(&labels, names) {
            continue;
        }
        let key: Labels = labels
            .iter()
            .filter(|(k, _)| !names.contains(k))
            .cloned()
            .collect();
        let t = Tagged {
            labels,
            first: f,
            last: l,
            plain_last: None,
        };
        clip(&mut times, range);
        match held.get_mut(&key) {
            Some((all, tagged)) => {
                *all = Times::of(&union(all.to_vec(), times));
                if t.last > tagged.last {
                    *tagged = t;
                }
            }
            None => {
                held.insert(key, (Times::of(&times), t));
            }
        }
    }
    held
}

/// Ascending sample times held compactly: each as the zigzag varint of its
/// step's change from the step before, so a regular scrape's time takes
/// one byte instead of eight (arithmetic wraps: any `i64` comes back).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Times {
    bytes: Vec<u8>,
    last: i64,
    step: i64,
}

impl Times {
    /// The times `ts`, encoded.
    pub(crate) fn of(ts: &[i64]) -> Self {
        let mut t = Times::default();
        for &x in ts {
            t.push(x);
        }
        t.bytes.shrink_to_fit();
        t
    }

    fn push(&mut self, t: i64) {
        let step = t.wrapping_sub(self.last);
        let change = step.wrapping_sub(self.step);
        let mut z = u64::from_ne_bytes(((change << 1) ^ (change >> 63)).to_ne_bytes());
        while z >= 0x80 {
            self.bytes.push(u8::try_from(z & 0x7f).unwrap_or(0) | 0x80);
            z >>= 7;
        }
        self.bytes.push(u8::try_from(z).unwrap_or(0));
        self.last = t;
        self.step = step;
    }

    /// The times, decoded.
    pub(crate) fn to_vec(&self) -> Vec<i64> {
        let mut out = Vec::new();
        let (mut last, mut step) = (0i64, 0i64);
        let (mut z, mut shift) = (0u64, 0u32);
        for &b in &self.bytes {
            if shift < 64 {
                z |= u64::from(b & 0x7f) << shift;
            }
            if b & 0x80 != 0 {
                shift += 7;
                continue;
            }
            let half = i64::from_ne_bytes((z >> 1).to_ne_bytes());
            let change = half ^ -i64::from(u8::try_from(z & 1).unwrap_or(0));
            step = step.wrapping_add(change);
            last = last.wrapping_add(step);
            out.push(last);
            (z, shift) = (0, 0);
        }
        out
    }

    /// Bytes held.
    #[cfg(test)]
    pub(crate) fn len_bytes(&self) -> usize {
        self.bytes.len()
    }
}

/// Keeps the times inside `[from, to]`.
fn clip(times: &mut Vec<i64>, (from, to): (i64, i64)) {
    times.retain(|t| (from..=to).contains(t));
}

/// Merges two ascending time lists, once each.
fn union(a: Vec<i64>, b: Vec<i64>) -> Vec<i64> {
    if a.is_empty() {
        return b;
    }
    let mut v = a;
    v.extend(b);
    v.sort_unstable();
    v.dedup();
    v
}

/// TARGET's groups in label order: the series of `plain` that carry none
/// of `names` as they stream by, joined with the `held` ones of equal
/// label set left; times outside `range` dropped (a seeded series' last
/// sample is taken before).
pub(crate) fn groups<'a>(
    plain: impl Iterator<Item = SeriesOf<i64>> + 'a,
    held: BTreeMap<Labels, (Times, Tagged)>,
    names: &'a [Vec<u8>],
    range: (i64, i64),
) -> impl Iterator<Item = TargetGroup> + 'a {
    let mut plain = plain.filter(move |(l, _)| !carries(l, names)).peekable();
    let mut held = held.into_iter().peekable();
    std::iter::from_fn(move || {
        let order = match (plain.peek(), held.peek()) {
            (None, None) => return None,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some((a, _)), Some((b, _))) => a.cmp(b),
        };
        match order {
            std::cmp::Ordering::Less => plain.next().map(|(l, mut times)| {
                clip(&mut times, range);
                TargetGroup::from((l, times))
            }),
            std::cmp::Ordering::Greater => held.next().map(|(labels, (times, t))| TargetGroup {
                labels,
                times: times.to_vec(),
                tagged: Some(t),
            }),
            std::cmp::Ordering::Equal => {
                let (labels, mut mine) = plain.next()?;
                let (_, (times, mut t)) = held.next()?;
                t.plain_last = mine.last().copied();
                clip(&mut mine, range);
                Some(TargetGroup {
                    labels,
                    times: union(mine, times.to_vec()),
                    tagged: Some(t),
                })
            }
        }
    })
}

/// The index in `missing` (ascending) from which samples are written under
/// the tagged series' label set, the ones before it under SOURCE's: a
/// sample goes to the tagged series once remote write had started it (at
/// or after its first sample) or once the group's seeded series had ended
/// (after its last sample, or always if the group has none), so that the
/// hole between the seeding and the first remote-written sample is filled
/// in the series that goes on, and a hole inside the seeded part in the
/// seeded series: never a second series alongside the one the replica
/// holds there.
pub(crate) fn tagged_from(missing: &[(i64, Value)], t: &Tagged) -> usize {
    missing.partition_point(|x| x.0 < t.first && t.plain_last.is_some_and(|p| x.0 <= p))
}

/// The label names of TARGET's selected series, whatever their samples'
/// times: from its indexes and head, no chunk read.
pub(crate) fn target_names(
    mine: &crate::gaps::stream::Opened,
    sel: &crate::gaps::stream::Select,
) -> crate::gaps::relabel::LabelNames {
    let mut names = crate::gaps::relabel::LabelNames::default();
    let r: Vec<_> = mine.files.iter().filter_map(|f| f.reader().ok()).collect();
    for (l, _) in crate::gaps::stream::label_sets(&r, mine, &sel.selectors) {
        names.saw_dir(&l);
    }
    names
}

#[cfg(test)]
#[path = "relabel_tests.rs"]
mod tests;
