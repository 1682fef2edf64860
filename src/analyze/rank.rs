//! The ranked lists: per-name figures from the pairs, and the `limit`
//! greatest of each figure.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::Ranked;
use super::pass::{MulHasher, PairStat};
use crate::format::index::IndexReader;

/// Go's `uint64(f)` for the non-negative finite values the churn figures
/// take; NaN (an empty block range) gives 0.
fn go_u64(f: f64) -> u64 {
    if f.is_nan() { 0 } else { f as u64 }
}

/// One label name and its figures, summed over its pairs.
#[derive(Debug, Clone, Copy)]
pub(super) struct NameStat {
    name: u32,
    uncovered: u64,
    values: u64,
    value_len: u64,
}

/// The per-name figures, names in order of first appearance among `pairs`
/// (`strs` holds each pair's resolved strings).
pub(super) fn names_of(pairs: &[PairStat], strs: &[(&[u8], &[u8])]) -> Vec<NameStat> {
    let mut names: Vec<NameStat> = Vec::new();
    let mut name_of: HashMap<u32, usize, BuildHasherDefault<MulHasher>> = HashMap::default();
    for (p, (_, v)) in pairs.iter().zip(strs) {
        let ni = *name_of.entry(p.name).or_insert_with(|| {
            names.push(NameStat {
                name: p.name,
                uncovered: 0,
                values: 0,
                value_len: 0,
            });
            names.len() - 1
        });
        if let Some(n) = names.get_mut(ni) {
            n.uncovered = n.uncovered.wrapping_add(p.uncovered);
            n.values += 1;
            n.value_len += v.len() as u64;
        }
    }
    names
}

/// The six ranked lists of a series pass.
#[derive(Debug)]
pub(super) struct Lists {
    pub(super) churn_label_pairs: Vec<Ranked>,
    pub(super) churn_label_names: Vec<Ranked>,
    pub(super) common_label_pairs: Vec<Ranked>,
    pub(super) label_value_length: Vec<Ranked>,
    pub(super) label_cardinality: Vec<Ranked>,
    pub(super) metric_cardinality: Vec<Ranked>,
}

impl Lists {
    /// Ranks pairs and names; `range` is the block's duration (the churn
    /// figures divide by it).
    pub(super) fn of(
        ir: &IndexReader<'_>,
        pairs: &[PairStat],
        strs: &[(&[u8], &[u8])],
        names: &[NameStat],
        range: u64,
        limit: usize,
    ) -> Lists {
        let churn = |m: u64| -> u64 { go_u64(m as f64 / range as f64) };
        let pair_key = |i: usize| strs.get(i).copied().unwrap_or((b"", b""));
        let pair_str = |i: usize| {
            let (n, v) = pair_key(i);
            let mut s = String::from_utf8_lossy(n).into_owned();
            s.push('=');
            s.push_str(&String::from_utf8_lossy(v));
            s
        };
        let name_key = |i: usize| {
            names
                .get(i)
                .and_then(|n| ir.symbols.lookup(n.name))
                .unwrap_or(b"")
        };
        let name_str = |i: usize| String::from_utf8_lossy(name_key(i)).into_owned();
        let by_pair = |f: &dyn Fn(&PairStat) -> u64| {
            top(
                pairs.len(),
                limit,
                |i| pairs.get(i).map_or(0, f),
                pair_key,
                pair_str,
            )
        };
        let by_name = |f: &dyn Fn(&NameStat) -> u64| {
            top(
                names.len(),
                limit,
                |i| names.get(i).map_or(0, f),
                name_key,
                name_str,
            )
        };
        let metric_pairs: Vec<usize> = (0..pairs.len())
            .filter(|&i| pair_key(i).0 == b"__name__")
            .collect();
        let metric_name = |i: usize| metric_pairs.get(i).map_or(&b""[..], |&p| pair_key(p).1);
        let metric_cardinality = top(
            metric_pairs.len(),
            limit,
            |i| {
                metric_pairs
                    .get(i)
                    .and_then(|&p| pairs.get(p))
                    .map_or(0, |p| p.count)
            },
            metric_name,
            |i| String::from_utf8_lossy(metric_name(i)).into_owned(),
        );
        Lists {
            churn_label_pairs: by_pair(&|p| churn(p.uncovered)),
            churn_label_names: by_name(&|n| churn(n.uncovered)),
            common_label_pairs: by_pair(&|p| p.count),
            label_value_length: by_name(&|n| n.value_len),
            label_cardinality: by_name(&|n| n.values),
            metric_cardinality,
        }
    }
}

/// The `limit` items of `0..n` with the greatest `value`, ties by `key`
/// ascending, rendered with `render`.
pub(super) fn top<K: Ord>(
    n: usize,
    limit: usize,
    value: impl Fn(usize) -> u64,
    key: impl Fn(usize) -> K,
    render: impl Fn(usize) -> String,
) -> Vec<Ranked> {
    let mut idx: Vec<(u64, u32)> = (0..n).map(|i| (value(i), i as u32)).collect();
    let cmp = |a: &(u64, u32), b: &(u64, u32)| {
        b.0.cmp(&a.0)
            .then_with(|| key(a.1 as usize).cmp(&key(b.1 as usize)))
    };
    if limit > 0 && limit < idx.len() {
        idx.select_nth_unstable_by(limit - 1, cmp);
    }
    idx.truncate(limit);
    idx.sort_unstable_by(cmp);
    idx.into_iter()
        .map(|(v, i)| Ranked {
            key: render(i as usize),
            value: v,
        })
        .collect()
}
