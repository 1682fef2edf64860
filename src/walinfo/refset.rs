//! The set of series references a WAL walk has seen Series records for.
//!
//! Prometheus hands out series references counting up from 1, so they are
//! dense: a bitmap answers the per-sample "is this series known?" in one bit
//! test, in ascending order as a samples record lists them (a hash set costs
//! a hash and a random memory access per sample). References the bitmap does
//! not cover go to a hash set. The bitmap grows only as far as 64 bits per
//! reference inserted (plus 64 Ki bits), so memory stays bounded by the
//! number of series whatever the references are.

use std::collections::HashSet;

use super::ALL_SERIES_KNOWN;
use crate::format::SeriesRef;

/// Bits the bitmap may cover beyond 64 per inserted reference.
const SLACK_WORDS: usize = 1024;

/// A set of series references (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct RefSet {
    bits: Vec<u64>,
    sparse: HashSet<SeriesRef>,
    len: usize,
    all_known: bool,
}

impl RefSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set that treats every reference as known (see [`ALL_SERIES_KNOWN`]).
    pub fn all_known() -> Self {
        let mut s = Self::default();
        s.insert(ALL_SERIES_KNOWN);
        s
    }

    /// The references of `set`.
    pub fn from_set(set: &HashSet<SeriesRef>) -> Self {
        let mut s = Self::default();
        for &r in set {
            s.insert(r);
        }
        s
    }

    /// Adds `r`; true if it was not there.
    #[inline]
    pub fn insert(&mut self, r: SeriesRef) -> bool {
        if r == ALL_SERIES_KNOWN {
            let new = !self.all_known;
            self.all_known = true;
            self.len += usize::from(new);
            return new;
        }
        let w = usize::try_from(r.0 >> 6).unwrap_or(usize::MAX);
        let bit = 1u64 << (r.0 & 63);
        if w >= self.bits.len() && w < self.len.saturating_add(SLACK_WORDS) {
            self.bits.resize(w + 1, 0);
        }
        let new = match self.bits.get_mut(w) {
            Some(word) if *word & bit != 0 => false,
            Some(word) => {
                *word |= bit;
                // It may be in the hash set from before the bitmap reached it.
                self.sparse.is_empty() || !self.sparse.contains(&r)
            }
            None => self.sparse.insert(r),
        };
        self.len += usize::from(new);
        new
    }

    /// The bitmap part: bit `r % 64` of word `r / 64` is set for a known
    /// `r` it covers (a clear or missing bit proves nothing: see
    /// [`RefSet::contains`]).
    #[inline]
    pub(crate) fn dense(&self) -> &[u64] {
        &self.bits
    }

    /// True if `r` is in the set, or the set holds [`ALL_SERIES_KNOWN`].
    #[inline]
    pub fn contains(&self, r: SeriesRef) -> bool {
        if self.all_known {
            return true;
        }
        let w = usize::try_from(r.0 >> 6).unwrap_or(usize::MAX);
        match self.bits.get(w) {
            Some(word) if word & (1u64 << (r.0 & 63)) != 0 => true,
            _ => !self.sparse.is_empty() && self.sparse.contains(&r),
        }
    }

    /// True if every reference from `lo` to `hi` (inclusive) is in the
    /// bitmap part (false does not prove any missing: see
    /// [`RefSet::contains`]). Costs one step per 64 references.
    pub(crate) fn contains_range(&self, lo: u64, hi: u64) -> bool {
        let (Ok(first), Ok(last)) = (usize::try_from(lo >> 6), usize::try_from(hi >> 6)) else {
            return false;
        };
        let Some(words) = self.bits.get(first..=last).filter(|_| lo <= hi) else {
            return false;
        };
        let head = u64::MAX << (lo & 63);
        let tail = u64::MAX >> (63 - (hi & 63));
        match words {
            [one] => one & head & tail == head & tail,
            [a, mid @ .., z] => {
                // Folded rather than stopped early: it vectorises.
                let full = mid.iter().fold(a | !head, |acc, &w| acc & w);
                full & (z | !tail) == u64::MAX
            }
            [] => false,
        }
    }

    /// Number of references (counting [`ALL_SERIES_KNOWN`]).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Removes every reference, keeping the bitmap's memory.
    pub fn clear(&mut self) {
        self.bits.iter_mut().for_each(|w| *w = 0);
        self.sparse.clear();
        self.len = 0;
        self.all_known = false;
    }

    /// The references, as a hash set.
    pub fn to_hash_set(&self) -> HashSet<SeriesRef> {
        let mut out: HashSet<SeriesRef> = self.sparse.clone();
        for (i, &w) in self.bits.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                let b = u64::from(w.trailing_zeros());
                out.insert(SeriesRef(((i as u64) << 6) | b));
                w &= w - 1;
            }
        }
        if self.all_known {
            out.insert(ALL_SERIES_KNOWN);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_hash_set() {
        let mut s = RefSet::new();
        let mut h = HashSet::new();
        let mut x: u64 = 88172645463325252;
        for i in 0..200_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Mostly dense refs counting up, some far out, some repeated.
            let r = SeriesRef(match i % 7 {
                0 => x,
                1 => i / 2,
                _ => i,
            });
            assert_eq!(s.insert(r), h.insert(r), "{r}");
            let probe = SeriesRef(x % 400_000);
            assert_eq!(s.contains(probe), h.contains(&probe), "{probe}");
        }
        assert_eq!(s.len(), h.len());
        assert_eq!(s.to_hash_set(), h);
        assert!(!s.contains(ALL_SERIES_KNOWN) || h.contains(&ALL_SERIES_KNOWN));
        s.insert(ALL_SERIES_KNOWN);
        assert!(s.contains(SeriesRef(u64::MAX - 1)));
        s.clear();
        assert!(s.is_empty() && !s.contains(SeriesRef(1)));
    }

    #[test]
    fn contains_range_agrees_with_contains() {
        let mut s = RefSet::new();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for r in 1..3000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Runs of known references with holes, on and off word bounds.
            if !x.is_multiple_of(53) {
                s.insert(SeriesRef(r));
            }
        }
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let lo = x % 3200;
            let hi = lo + (x >> 20) % 300;
            let want = (lo..=hi).all(|r| s.contains(SeriesRef(r)));
            assert_eq!(s.contains_range(lo, hi), want, "{lo}..={hi}");
        }
        assert!(!s.contains_range(5, 4));
        assert!(!s.contains_range(u64::MAX - 1, u64::MAX));
    }

    #[test]
    fn memory_follows_the_count_not_the_refs() {
        let mut s = RefSet::new();
        for i in 0..1000u64 {
            s.insert(SeriesRef(i << 40));
        }
        assert!(s.bits.len() <= SLACK_WORDS + 1000);
        assert_eq!(s.len(), 1000);
    }
}
