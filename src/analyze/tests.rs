use super::Ranked;
use super::chunks::{ChunkAcc, Counts, bump, distribution};
use super::rank::top;
use crate::format::chunkenc::Encoding;

#[test]
fn fullness_buckets_like_promtool() {
    let mut c = ChunkAcc::default();
    for n in [1, 12, 13, 60, 119, 120, 121, 500] {
        c.add(Encoding::Xor, n, 100);
    }
    let f = c.finish();
    assert_eq!(f.fullness, [2, 1, 0, 0, 1, 0, 0, 0, 0, 4]);
    assert_eq!(f.fullness_percent, [25, 12, 0, 0, 12, 0, 0, 0, 0, 50]);
    assert_eq!(f.float.chunks, 8);
    assert_eq!(f.float.samples.min, 1);
    assert_eq!(f.float.samples.max, 500);
}

#[test]
fn distribution_buckets_like_newer_promtool() {
    // generateBucket(1, 120): step 100 > 11 → start 0, end 200.
    let mut counts = Counts::new();
    bump(&mut counts, 1);
    bump(&mut counts, 120);
    let d = distribution(&counts);
    assert_eq!((d.min, d.avg, d.max), (1, 60, 120));
    assert_eq!(d.buckets, vec![(1, 100, 1), (101, 200, 1), (201, 300, 0)]);
}

#[test]
fn top_orders_by_value_then_key() {
    let keys: [&[u8]; 4] = [b"b", b"a", b"c", b"d"];
    let vals = [5u64, 5, 7, 1];
    let r = top(
        4,
        2,
        |i| vals[i],
        |i| keys[i],
        |i| String::from_utf8_lossy(keys[i]).into_owned(),
    );
    assert_eq!(
        r,
        vec![
            Ranked {
                key: "c".into(),
                value: 7
            },
            Ranked {
                key: "a".into(),
                value: 5
            }
        ]
    );
    assert!(top(4, 0, |i| vals[i], |i| keys[i], |_| String::new()).is_empty());
}
