use super::*;

fn l(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

const ALL: (i64, i64) = (i64::MIN, i64::MAX);

fn at(ts: &[i64]) -> Vec<(i64, Value)> {
    ts.iter().map(|&t| (t, Value::Float(1.0))).collect()
}

fn tagged(first: i64, plain_last: Option<i64>) -> Tagged {
    Tagged {
        labels: l(&[("__name__", "a"), ("monitor", "m")]),
        first,
        last: first + 100,
        plain_last,
    }
}

/// A replica's TARGET: the seeded series without `monitor` (times 1-2),
/// the remote-written one with it (5-6), one that only remote write has,
/// and one whose place in label order moves once `monitor` is dropped.
fn replica() -> Vec<SeriesOf<i64>> {
    vec![
        (l(&[("__name__", "a"), ("job", "j")]), vec![1, 2]),
        (
            l(&[("__name__", "a"), ("job", "j"), ("monitor", "m")]),
            vec![5, 6],
        ),
        (
            l(&[("__name__", "a"), ("job", "j"), ("mode", "x")]),
            vec![1],
        ),
        (
            l(&[("__name__", "a"), ("monitor", "m"), ("z", "1")]),
            vec![7],
        ),
    ]
}

#[test]
fn groups_join_the_seeded_and_the_remote_written_series_in_key_order() {
    let names = vec![b"monitor".to_vec()];
    let held = hold(replica().into_iter(), &names, ALL);
    let got: Vec<(Labels, Vec<i64>, Option<Tagged>)> =
        groups(replica().into_iter(), held, &names, ALL)
            .map(|g| (g.labels, g.times, g.tagged))
            .collect();
    assert_eq!(
        got,
        vec![
            (
                l(&[("__name__", "a"), ("job", "j")]),
                vec![1, 2, 5, 6],
                Some(Tagged {
                    labels: l(&[("__name__", "a"), ("job", "j"), ("monitor", "m")]),
                    first: 5,
                    last: 6,
                    plain_last: Some(2),
                })
            ),
            (
                l(&[("__name__", "a"), ("job", "j"), ("mode", "x")]),
                vec![1],
                None
            ),
            (
                l(&[("__name__", "a"), ("z", "1")]),
                vec![7],
                Some(Tagged {
                    labels: l(&[("__name__", "a"), ("monitor", "m"), ("z", "1")]),
                    first: 7,
                    last: 7,
                    plain_last: None,
                })
            ),
        ]
    );
}

#[test]
fn of_two_tagged_series_the_one_remote_write_continues_is_kept() {
    // `monitor` changed value at 10: both series join one group, the
    // samples written go under the newer one.
    let names = vec![b"monitor".to_vec()];
    let series = vec![
        (l(&[("__name__", "a"), ("monitor", "new")]), vec![10, 11]),
        (l(&[("__name__", "a"), ("monitor", "old")]), vec![3, 4]),
    ];
    let held = hold(series.clone().into_iter(), &names, ALL);
    let g: Vec<TargetGroup> = groups(series.into_iter(), held, &names, ALL).collect();
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].times, vec![3, 4, 10, 11]);
    let t = g[0].tagged.as_ref().unwrap();
    assert_eq!(t.labels, l(&[("__name__", "a"), ("monitor", "new")]));
    assert_eq!((t.first, t.last, t.plain_last), (10, 11, None));
}

#[test]
fn a_missing_sample_goes_to_the_series_the_replica_holds_at_its_time() {
    // Seeded series up to 20, remote write from 50: a hole in the seeded
    // part (10) stays in it, the hole between the two (30, 40) and one
    // inside the remote-written part (60) go to the tagged series.
    let t = tagged(50, Some(20));
    let m = at(&[10, 30, 40, 60]);
    assert_eq!(tagged_from(&m, &t), 1);
    // No seeded series in the group: all go to the tagged one.
    assert_eq!(tagged_from(&m, &tagged(50, None)), 0);
    // Seeded samples after remote write started (a replica already
    // receiving when it was seeded): from the first remote-written one on.
    assert_eq!(tagged_from(&m, &tagged(35, Some(70))), 2);
    assert_eq!(tagged_from(&[], &t), 0);
}

#[test]
fn carried_names_the_dropped_label_a_series_has() {
    let names = vec![b"monitor".to_vec(), b"replica".to_vec()];
    assert_eq!(
        carried(&l(&[("__name__", "a"), ("replica", "1")]), &names),
        Some(&b"replica"[..])
    );
    assert_eq!(carried(&l(&[("__name__", "a")]), &names), None);
    assert!(!carries(&l(&[("__name__", "a")]), &names));
}

#[test]
fn held_times_come_back_exactly_and_take_a_byte_at_a_regular_interval() {
    let regular: Vec<i64> = (0..1000).map(|i| 1_796_591_137_434 + i * 15_000).collect();
    let t = Times::of(&regular);
    assert_eq!(t.to_vec(), regular);
    // The first time and the first step take a few bytes, then one each.
    assert!(t.len_bytes() <= 1000 + 16, "{}", t.len_bytes());
    let jitter: Vec<i64> = (0..1000)
        .map(|i| 1_796_591_137_434 + i * 15_000 + (i * 7919 % 13) - 6)
        .collect();
    let t = Times::of(&jitter);
    assert_eq!(t.to_vec(), jitter);
    assert!(t.len_bytes() <= 2 * 1000 + 16, "{}", t.len_bytes());
    for v in [
        vec![],
        vec![0],
        vec![i64::MIN, -1, 0, 1, i64::MAX],
        vec![i64::MIN, i64::MAX],
        vec![-5, 3, 3_000_000_000_000, i64::MAX - 1],
    ] {
        assert_eq!(Times::of(&v).to_vec(), v);
    }
}
