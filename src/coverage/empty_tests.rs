use super::*;
use crate::coverage::wal::read_wal;
use std::path::Path;

fn wal(rel: &str) -> WalView {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel);
    read_wal(&dir, None).unwrap()
}

#[test]
fn segment_zero_live_without_a_checkpoint_dates_the_first_sample_exactly() {
    // A 2.42 master 30 s old (testdata/empty-seed): segment 0 holds its start.
    let w = wal("empty-seed/late/wal");
    let (first, exact) = first_sample(&w).unwrap();
    assert!(exact);
    assert_eq!(Some(first), w.segments[0].min_t);
    let mut a = Vec::new();
    assert_eq!(model_bounds(Some(&w), &mut a), Some((first - 1, first)));
    assert!(a[0].contains("segment 0, still live"), "{a:?}");
}

#[test]
fn a_checkpoint_makes_the_first_sample_a_later_bound() {
    // A live data dir whose WAL was truncated: its start is gone.
    let w = wal("prom-2.42-live/data/wal");
    assert!(w.checkpoint.is_some());
    let (_, exact) = first_sample(&w).unwrap();
    assert!(!exact);
    let mut a = Vec::new();
    assert!(model_bounds(Some(&w), &mut a).is_some());
    assert!(a[0].contains("may begin earlier"), "{a:?}");
}

#[test]
fn without_a_wal_there_are_no_bounds() {
    let mut a = Vec::new();
    assert_eq!(model_bounds(None, &mut a), None);
    assert!(a.is_empty());
}
