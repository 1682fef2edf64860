use std::io::Read;
use std::path::{Path, PathBuf};

use super::*;
use crate::coverage::{Cause, Certainty, LossWindow};

/// A real 2.42 server's data dir: blocks, `wal/` with a checkpoint and
/// three segments, `chunks_head/`.
fn live() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/prom-2.42-live/data")
}

/// The newest sample time promtool's dump of that dir (blocks and head
/// replayed) holds.
fn oracle_newest() -> i64 {
    let f = std::fs::File::open(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/prom-2.42-live/oracle/dump-data.txt.gz"),
    )
    .unwrap();
    let mut s = String::new();
    flate2::read::GzDecoder::new(f)
        .read_to_string(&mut s)
        .unwrap();
    s.lines()
        .filter_map(|l| l.rsplit(' ').next()?.parse::<i64>().ok())
        .max()
        .unwrap()
}

fn copy(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// The head of a real data dir: its newest sample is promtool's; its WAL
/// and chunks_head are counted; nothing to note on a cleanly stopped dir.
#[test]
fn reads_a_real_head_to_promtools_newest_sample() {
    let h = read(&live(), None).unwrap();
    assert_eq!(h.last_received, Some(oracle_newest()));
    assert_eq!(h.wal_segments, 3);
    assert_eq!(h.checkpoint.as_deref(), Some("checkpoint.00000001"));
    assert_eq!(h.chunks_head_files, 2);
    assert!(h.chunks_head_chunks > 0);
    assert!(h.first_received <= h.chunks_head_min_t);
    assert!(h.first_received <= h.wal_min_t);
    assert!(h.notes.is_empty(), "{:?}", h.notes);
    assert!(h.summary().contains("3 segment(s) and checkpoint.00000001"));
    // A coverage end after its oldest head sample: not a slave seeded there.
    let h = read(&live(), Some(oracle_newest())).unwrap();
    assert!(
        h.notes[0].contains("before the coverage end"),
        "{:?}",
        h.notes
    );
}

/// A copy whose newest segment is cut mid-record (a live slave copied) is
/// read up to the cut and says so; garbage in a segment and a damaged
/// chunks_head file give notes; a dir with no head gives `None`. No panic.
#[test]
fn torn_and_damaged_heads_give_notes_never_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("d");
    copy(&live(), &d);
    let seg = d.join("wal/00000004");
    let bytes = std::fs::read(&seg).unwrap();
    let end = bytes.iter().rposition(|&b| b != 0).unwrap();
    std::fs::write(&seg, &bytes[..end - 3]).unwrap();
    let h = read(&d, None).unwrap();
    assert!(
        h.notes.iter().any(|n| n.contains("ends mid-record")),
        "{:?}",
        h.notes
    );
    assert!(h.last_received.is_some());
    // Garbage over an older segment, and a chunks_head file cut to 3 bytes.
    let mid = d.join("wal/00000003");
    let mut b = std::fs::read(&mid).unwrap();
    for x in b.iter_mut().skip(1000).take(5000) {
        *x ^= 0xa5;
    }
    std::fs::write(&mid, &b).unwrap();
    let ch = d.join("chunks_head/000003");
    let c = std::fs::read(&ch).unwrap();
    std::fs::write(&ch, &c[..3]).unwrap();
    let h = read(&d, None).unwrap();
    assert!(
        h.notes.iter().any(|n| n.contains("00000003")),
        "{:?}",
        h.notes
    );
    assert!(
        h.notes.iter().any(|n| n.contains("chunks_head/000003")),
        "{:?}",
        h.notes
    );
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(read(&empty, None).is_none());
}

fn window(cause: Cause, from: i64, to_earliest: i64, to: i64, certainty: Certainty) -> LossWindow {
    let mut w = LossWindow::new(cause, from, to, certainty, String::new());
    w.to_earliest = Some(to_earliest);
    w
}

/// A sample the slave holds inside a window that loses every series until
/// at least its earliest end contradicts it; one at or after that end, or
/// before its start, does not; risks and windows of some series are not
/// judged.
#[test]
fn a_received_sample_inside_a_whole_window_contradicts_it() {
    let w = window(Cause::L2, 1_000, 5_000, 9_000, Certainty::Expected);
    assert_eq!(contradicted(std::slice::from_ref(&w), 3_000).len(), 1);
    assert!(contradicted(std::slice::from_ref(&w), 5_000).is_empty());
    assert!(contradicted(std::slice::from_ref(&w), 1_000).is_empty());
    let risk = window(Cause::L2, 1_000, 5_000, 9_000, Certainty::Risk);
    assert!(contradicted(&[risk], 3_000).is_empty());
    let mut some = window(Cause::L1, 1_000, 5_000, 9_000, Certainty::Expected);
    some.series = Some(3);
    assert!(contradicted(&[some], 3_000).is_empty());
    let l3 = window(Cause::L3, 1_000, 5_000, 9_000, Certainty::Expected);
    assert!(contradicted(&[l3], 3_000).is_empty());
}
