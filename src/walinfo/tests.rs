use super::*;

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/wal")
        .join(rel)
}

#[test]
fn nativehist_data_dir_matches_oracle() {
    let r = inspect(&testdata("nativehist")).unwrap();
    assert_eq!(r.kind, "data_dir");
    let wal = r.wal.as_ref().unwrap();
    assert_eq!(wal.first_segment, Some(4));
    assert_eq!(wal.last_segment, Some(6));
    assert!(wal.segment_gaps.is_empty());
    assert_eq!(wal.replay_checkpoint, Some(3));
    assert_eq!(wal.replay_segments, Some((4, 6)));
    assert!(wal.torn_segments.is_empty() && wal.corrupt_segments.is_empty());
    // oracle/inspect_data.json "total_wal_record_types" and "total_wal_decoded".
    let t = &wal.totals;
    let by = |k: &str| t.records_by_type.get(k).copied();
    assert_eq!(by("float_histogram_samples"), Some(1242));
    assert_eq!(by("histogram_samples"), Some(254));
    assert_eq!(by("samples"), Some(760));
    assert_eq!(by("series"), Some(9));
    assert_eq!(by("tombstones"), Some(1));
    assert_eq!(t.records, 1242 + 254 + 760 + 9 + 1);
    assert_eq!(t.float_samples, 8125);
    assert_eq!(t.histogram_samples, 3302);
    assert_eq!(t.float_histogram_samples, 2234);
    assert_eq!(t.series_created, 55);
    assert_eq!(t.tombstones, 1);
    assert_eq!(t.malformed_records, 0);
    assert_eq!(wal.series, 55);
    assert_eq!(t.compression.none, 3);
    let (lo, hi) = (wal.time.min_t.unwrap(), wal.time.max_t.unwrap());
    assert!(lo < hi);
    // The head covers [09:58:00.091, 09:59:10.092] (README), the WAL starts earlier.
    assert!(
        lo <= 1_795_600_680_091 && hi >= 1_795_600_750_092,
        "{lo} {hi}"
    );
    let cp = &wal.checkpoints[0];
    assert!(cp.current && !cp.tmp);
    assert_eq!(cp.totals.series_created, 55);
    let s4 = &wal.segments[0];
    assert_eq!((s4.name.as_str(), s4.size), ("00000004", 294_912));
    assert!(s4.scan.valid_offset <= s4.size);
    assert_eq!(s4.scan.fragments.first, 8);
    // chunks_head/000006: 72 chunks, XOR 32, Histogram 14, FloatHistogram 26.
    let ch = r.chunks_head.as_ref().unwrap();
    let f = &ch.files[0];
    assert_eq!(f.chunks, 72);
    assert_eq!(f.encodings.get("XOR"), Some(&32));
    assert_eq!(f.encodings.get("Histogram"), Some(&14));
    assert_eq!(f.encodings.get("FloatHistogram"), Some(&26));
    assert!(f.corruption.is_none());
    assert!(f.series > 0 && f.series <= 55);
    assert!(r.wbl.is_none());
    assert!(r.chunk_snapshots.is_empty());
    // The report serialises.
    let json = serde_json::to_value(&r).unwrap();
    if std::env::var_os("PROMSNAP_PRINT_JSON").is_some() {
        println!("{}", serde_json::to_string_pretty(&json).unwrap());
    }
    assert_eq!(json["wal"]["totals"]["float_samples"], 8125);
    assert_eq!(json["wal"]["segments"][0]["torn_tail"], false);
}

#[test]
fn wal_dir_itself_and_damage() {
    let tmp = tempfile::tempdir().unwrap();
    let wal = tmp.path();
    let src = testdata("nativehist/wal");
    // Segments 4 and 6 only (gap at 5), 6 torn, a corrupt copy as 7,
    // a leftover .tmp checkpoint, and a stray file.
    fs::copy(src.join("00000004"), wal.join("00000004")).unwrap();
    let six = fs::read(src.join("00000006")).unwrap();
    // Cut segment 6 inside a record: find the second record's offset.
    let mut rr = RecordReader::new(&six);
    rr.next_record().unwrap().unwrap();
    let second = rr.next_record().unwrap().unwrap().offset as usize;
    fs::write(wal.join("00000006"), &six[..second + 10]).unwrap();
    let mut bad = six.clone();
    bad[second + 20] ^= 0xff;
    fs::write(wal.join("00000007"), &bad).unwrap();
    fs::create_dir(wal.join("checkpoint.00000002.tmp")).unwrap();
    fs::write(wal.join("series_state.json"), b"{}").unwrap();
    let r = inspect(wal).unwrap();
    assert_eq!(r.kind, "wal_dir");
    let w = r.wal.unwrap();
    assert_eq!(w.segment_gaps, vec![Gap { first: 5, last: 5 }]);
    assert_eq!(w.torn_segments, vec![6]);
    assert_eq!(w.corrupt_segments, vec![7]);
    let s6 = &w.segments[1];
    assert_eq!(s6.scan.torn_offset, Some(second as u64));
    assert_eq!(s6.scan.valid_offset, second as u64);
    assert_eq!(s6.scan.counts.records, 1);
    let s7 = &w.segments[2];
    let c = s7.scan.corruption.as_ref().unwrap();
    assert_eq!(c.offset, second as u64);
    assert_eq!(c.code, "wal_checksum");
    assert_eq!(s7.scan.valid_offset, second as u64);
    assert_eq!(w.checkpoints.len(), 1);
    assert!(w.checkpoints[0].tmp && !w.checkpoints[0].current);
    assert_eq!(w.replay_checkpoint, None);
    assert_eq!(w.other_entries, vec!["series_state.json".to_string()]);
    // Segment 4 is still fully counted (the walk went on).
    assert_eq!(w.segments[0].scan.counts.records, 1058);
}

#[test]
fn snapshots_and_head_chunk_gaps_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::create_dir(d.join("wal")).unwrap();
    fs::create_dir(d.join("chunks_head")).unwrap();
    let hc = fs::read(testdata("nativehist/chunks_head/000006")).unwrap();
    fs::write(d.join("chunks_head/000001"), &hc).unwrap();
    fs::write(d.join("chunks_head/000003"), &hc[..200]).unwrap();
    let snap = d.join("chunk_snapshot.000012.0000001024");
    fs::create_dir(&snap).unwrap();
    fs::write(snap.join("00000000"), [0u8; 10]).unwrap();
    fs::create_dir(d.join("chunk_snapshot.000011.0000000000.tmp")).unwrap();
    let r = inspect(d).unwrap();
    let w = r.wal.unwrap();
    assert!(w.segments.is_empty() && w.time.min_t.is_none());
    let ch = r.chunks_head.unwrap();
    assert_eq!(ch.file_gaps, vec![Gap { first: 2, last: 2 }]);
    assert_eq!(ch.chunks, 72 + ch.files[1].chunks);
    assert!(ch.files[1].corruption.is_some());
    assert!(!ch.files[1].deleted_on_startup && !ch.files[0].deleted_on_startup);
    // An empty newest file is what Prometheus deletes on startup.
    fs::write(d.join("chunks_head/000004"), [0u8; 2]).unwrap();
    let ch = inspect(d).unwrap().chunks_head.unwrap();
    assert!(ch.files[2].deleted_on_startup && ch.files[2].corruption.is_some());
    assert_eq!(r.chunk_snapshots.len(), 2);
    assert!(r.chunk_snapshots[0].tmp);
    assert_eq!(r.chunk_snapshots[1].wal_segment, 12);
    assert_eq!(r.chunk_snapshots[1].wal_offset, 1024);
    assert_eq!(r.chunk_snapshots[1].size, 10);
}

#[test]
fn uncompressed_wal_recorded_with_prometheus() {
    // testdata/wal/README.md: counts from an independent walker.
    let r = inspect(&testdata("uncompressed-2.42")).unwrap();
    let w = r.wal.unwrap();
    let s = &w.segments[0];
    assert!(s.scan.corruption.is_none() && !s.scan.torn_tail);
    assert_eq!(s.size, 131_072);
    let t = &w.totals;
    assert_eq!(t.records, 19);
    assert_eq!(t.compression.none, 19);
    assert_eq!(t.records_by_type.get("series"), Some(&2));
    assert_eq!(t.records_by_type.get("samples"), Some(&17));
    assert_eq!(t.series_created, 336);
    assert_eq!(w.series, 336);
    assert_eq!(t.float_samples, 5674);
    assert_eq!(w.time.min_t, Some(1_795_604_057_644));
    assert_eq!(w.time.max_t, Some(1_795_604_073_646));
    assert_eq!((s.scan.fragments.first, s.scan.fragments.last), (3, 3));
    assert!(r.chunks_head.is_none());
}

#[test]
fn windowed_file_scan_equals_whole_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = [
        "nativehist/wal/00000004",
        "nativehist/wal/00000005",
        "nativehist/wal/00000006",
        "uncompressed-2.42/wal/00000000",
        "live-checkpoint/00000000",
    ]
    .iter()
    .map(|r| testdata(r))
    .collect();
    // Torn copies: cut inside a record, inside a page.
    let b = fs::read(testdata("nativehist/wal/00000005")).unwrap();
    for cut in [100_000usize, 131_072, 200_003] {
        let p = tmp.path().join(format!("cut{cut}"));
        fs::write(&p, &b[..cut]).unwrap();
        files.push(p);
    }
    // Damaged copies (a flipped byte): read whole to re-synchronise.
    for at in [50_000usize, 140_000] {
        let mut d = b.clone();
        d[at] ^= 0x55;
        let p = tmp.path().join(format!("flip{at}"));
        fs::write(&p, &d).unwrap();
        files.push(p);
    }
    // A file in the pre-2.0 format is read, not mapped.
    let old = tmp.path().join("old-format");
    fs::write(&old, [0x43, 0xAF, 0x00, 0xEF, 1, 0, 0, 0]).unwrap();
    assert!(crate::fileutil::map_wal_segment(&old).unwrap().is_none());
    files.push(old);
    for f in &files {
        let bytes = fs::read(f).unwrap();
        let mut s1 = HashSet::new();
        let whole = scan_segment(&bytes, &mut s1);
        if f.to_string_lossy().contains("flip") {
            assert!(whole.corruption.is_some() && whole.after_damage.is_some());
        }
        for w in [32768, 65536, 3 * 32768, READ_WINDOW] {
            let mut s2 = RefSet::new();
            let (size, win) = scan_segment_file_with(f, &mut s2, w).unwrap();
            assert_eq!(size, bytes.len() as u64);
            assert_eq!(win, whole, "{} window {w}", f.display());
            assert_eq!(s1, s2.to_hash_set());
            // The same windows over a mapping (sealed segments).
            let mut s3 = RefSet::new();
            let (size, mapped) = scan_sealed_segment_file_with(f, &mut s3, w).unwrap();
            assert_eq!(size, bytes.len() as u64);
            assert_eq!(mapped, whole, "{} mapped, window {w}", f.display());
            assert_eq!(s1, s3.to_hash_set());
        }
    }
}

#[test]
fn live_checkpoint_series() {
    let mut set = HashSet::new();
    let b = fs::read(testdata("live-checkpoint/00000000")).unwrap();
    let s = scan_segment(&b, &mut set);
    assert!(s.corruption.is_none() && !s.torn_tail);
    assert!(s.counts.series_created > 0);
    assert_eq!(set.len() as u64, s.counts.series_created);
}
