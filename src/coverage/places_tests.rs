use super::*;
use crate::coverage::slavelog;
use std::path::PathBuf;

fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

/// The series a real 2.42 slave names in its refusal line (`series=`) is
/// found in the real master's WAL series record by its labels written as
/// `labels.String()` (`s1150-4s-skip-skiphead-r2`: the first refused
/// request of the one shard starts at `i="0"`, the first series the
/// target's first scrape created, kept by the thinned WAL).
#[test]
fn a_refusal_lines_series_is_found_in_the_masters_wal() {
    let run = testdata("loss-runs/s1150-4s-skip-skiphead-r2");
    let text = std::fs::read(run.join("slave-log.txt")).unwrap();
    let log = slavelog::parse_bytes(&text);
    assert!(log.refused > 0);
    assert_eq!(log.unnamed, 0, "every 2.42 refusal line names its series");
    let keys: BTreeSet<u64> = log.refusals.iter().filter_map(|r| r.series).collect();
    let p = Places::read(&run.join("master-wal"), &keys).unwrap();
    // The line of the first refused request names i="0".
    let first = log.refusals[0].series.unwrap();
    let line = String::from_utf8_lossy(&text)
        .lines()
        .find(|l| l.contains(slavelog::REFUSED_MSG))
        .unwrap()
        .to_string();
    assert!(line.contains(r#"i=\"0\""#), "{line}");
    assert!(p.refs.contains_key(&first));
    // It is the first sample of its target's records: nothing before it,
    // whatever the shard count.
    for n in [1, 7, 58] {
        assert_eq!(p.place(first, n).map(|x| x.before), Some(0), "n = {n}");
    }
}

/// On a real 2.42 WAL (snappy, with a checkpoint): every series of a
/// scrape's samples record is placed, its shard's samples before it counted
/// in record order, the shards' counts adding up to the record.
#[test]
fn places_count_a_shards_samples_in_a_real_samples_record() {
    let wal = testdata("prom-2.42-live/data/wal");
    // Every series the checkpoint and segments create, by labels.
    let (checkpoint, segments) = files(&wal);
    let mut by_ref: BTreeMap<u64, u64> = BTreeMap::new();
    for f in checkpoint.iter().chain(&segments) {
        let bytes = std::fs::read(f).unwrap();
        let mut rd = RecordReader::new(&bytes);
        while let Some(Ok(rec)) = rd.next_record() {
            if record::record_type(rec.data) == Some(RecordType::Series) {
                record::for_each_series(rec.data, rec.offset, |r, l| {
                    by_ref.insert(r.get(), series_key(&labels_string(&l.to_vec())).unwrap());
                })
                .unwrap();
            }
        }
    }
    assert!(by_ref.len() > 10);
    let keys: BTreeSet<u64> = by_ref.values().copied().collect();
    let p = Places::read(&wal, &keys).unwrap();
    assert!(!p.records.is_empty());
    let (first, rec) = p.records.iter().next().unwrap();
    assert_eq!(rec[0], *first);
    for n in [1u64, 3, 10] {
        let mut per_shard = BTreeMap::new();
        for (at, r) in rec.iter().enumerate() {
            let key = by_ref[r];
            // Placed by its own newest record: the one read here when it
            // is the only record holding it.
            if p.record_of[r] != *first {
                continue;
            }
            let place = p.place(key, n).unwrap();
            let before = rec[..at].iter().filter(|x| **x % n == r % n).count() as u64;
            assert_eq!(place.before, before);
            assert!(place.before < place.per);
            assert_eq!(place.record, rec.len() as u64);
            per_shard.insert(r % n, place.per);
        }
        if per_shard.len() as u64 == n {
            assert_eq!(per_shard.values().sum::<u64>(), rec.len() as u64);
        }
    }
}

#[test]
fn labels_are_written_as_go_writes_them() {
    let l = |v: &str| {
        vec![
            ("__name__".to_string(), "m".to_string()),
            ("a".into(), v.into()),
        ]
    };
    assert_eq!(labels_string(&l("x")), r#"{__name__="m", a="x"}"#);
    assert_eq!(
        labels_string(&l("a\"b\\c\nd")),
        r#"{__name__="m", a="a\"b\\c\nd"}"#
    );
    assert_eq!(labels_string(&l("\u{1}")), r#"{__name__="m", a="\x01"}"#);
    assert_eq!(labels_string(&[]), "{}");
    assert_eq!(series_key("{}"), None);
}
