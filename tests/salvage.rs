//! `promsnap salvage` on damaged copies of real blocks (written by
//! Prometheus 2.42 and by its promtool), one per damage class verify finds:
//! the rewritten block verifies clean, and `promtool tsdb dump` of it equals
//! promtool's dump of the undamaged original minus exactly the samples the
//! report says were dropped. Then `salvage --in-place` on a data dir with a
//! damaged block and a damaged middle WAL segment: a real Prometheus 2.42
//! starts on it without repairing anything and serves every sample outside
//! the reported ranges.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::util::{copy_dir, gunzip, promsnap, promtool_available, run_json, testdata};
use crate::write::{Prom, have, http_get, urlencode};

const LIVE_L2: &str = "prom-2.42-live/data/01M88ZHZPXFRQK5144XJKD707B";
const LIVE_L1: &str = "prom-2.42-live/data/01M88ZEAF15198PYN7F74NS04J";
const BACKFILL: &str = "backfill-small/blocks/01M88Z547SWC2057Y39068VCCB";
const LIVE_ORACLE: &str =
    "prom-2.42-live/oracle/dump-snapshot-20261125T091235Z-7531d0e39246db15.txt.gz";
const BACKFILL_ORACLE: &str = "backfill-small/oracle/dump-01M88Z547SWC2057Y39068VCCB.txt.gz";

/// (series, timestamp) → value text, of promtool dump lines.
type Dump = BTreeMap<(String, i64), String>;

fn parse_dump(text: &str, range: Option<(i64, i64)>) -> Dump {
    let mut m = Dump::new();
    for l in text.lines() {
        let mut it = l.rsplitn(3, ' ');
        let (Some(ts), Some(v), Some(series)) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        let ts: i64 = ts.parse().unwrap();
        if range.is_none_or(|(a, b)| ts >= a && ts < b) {
            m.insert((series.to_string(), ts), v.to_string());
        }
    }
    m
}

fn promtool_dump_block(block: &Path, tmp: &Path) -> Dump {
    // promtool dump wants a data dir with a wal/.
    let dir = tmp.join(format!(
        "dump-{}",
        block.file_name().unwrap().to_string_lossy()
    ));
    std::fs::create_dir_all(dir.join("wal")).unwrap();
    copy_dir(block, &dir.join(block.file_name().unwrap()));
    parse_dump(&crate::util::promtool_tsdb_dump(&dir), None)
}

fn meta_range(block: &Path) -> (i64, i64) {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(block.join("meta.json")).unwrap()).unwrap();
    (
        m["minTime"].as_i64().unwrap(),
        m["maxTime"].as_i64().unwrap(),
    )
}

/// The TOC of an index file: symbols, series, label indices, label table,
/// postings, postings table.
fn toc(index: &[u8]) -> [usize; 6] {
    let t = &index[index.len() - 52..index.len() - 4];
    let mut o = [0usize; 6];
    for (i, x) in o.iter_mut().enumerate() {
        *x = u64::from_be_bytes(t[i * 8..i * 8 + 8].try_into().unwrap()) as usize;
    }
    o
}

fn flip(path: &Path, at: impl FnOnce(&[u8]) -> usize) {
    let mut b = std::fs::read(path).unwrap();
    let i = at(&b);
    b[i] ^= 0x01;
    std::fs::write(path, b).unwrap();
}

/// Damages a copy of `block` under `root` as `class` says; returns the copy.
fn damaged(root: &Path, block: &str, class: &str) -> PathBuf {
    let src = testdata(block);
    let dst = root
        .join(format!("src-{class}"))
        .join(src.file_name().unwrap());
    copy_dir(&src, &dst);
    let index = dst.join("index");
    let seg = dst.join("chunks/000001");
    match class {
        // A data byte of a chunk in the middle of the segment.
        "chunk" => flip(&seg, |b| b.len() / 2),
        // A label reference of the first series entry (16-byte aligned).
        "series" => flip(&index, |b| toc(b)[1].div_ceil(16) * 16 + 3),
        // A byte inside the first postings list.
        "postings" => flip(&index, |b| toc(b)[4] + 40),
        // A letter of a symbol string in the middle of the table.
        "symbols" => flip(&index, |b| {
            let s = toc(b)[0];
            let len = u32::from_be_bytes(b[s..s + 4].try_into().unwrap()) as usize;
            let mut i = s + 8 + len / 2;
            while !b[i].is_ascii_lowercase() {
                i += 1;
            }
            i
        }),
        "truncate" => {
            let n = std::fs::metadata(&seg).unwrap().len();
            std::fs::OpenOptions::new()
                .write(true)
                .open(&seg)
                .unwrap()
                .set_len(n * 2 / 3)
                .unwrap();
        }
        "meta" => {
            let m = std::fs::read_to_string(dst.join("meta.json")).unwrap();
            let m2 = m.replacen("\"numSeries\": ", "\"numSeries\": 1", 1);
            assert_ne!(m, m2);
            std::fs::write(dst.join("meta.json"), m2).unwrap();
        }
        "toc" => flip(&index, |b| b.len() - 20),
        _ => unreachable!(),
    }
    let v = promsnap(&["verify", dst.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(1), "{class}: verify finds the damage");
    dst
}

/// Checks one salvaged block against the dump of its undamaged original.
// Every property of one salvaged block checked in turn against the oracle.
#[allow(clippy::too_many_lines)]
fn check_salvage(tmp: &Path, class: &str, block: &str, oracle: &Dump, lossless: bool) {
    let src = damaged(tmp, block, class);
    let out = tmp.join(format!("out-{class}"));
    let (code, r) = run_json(&[
        "salvage",
        src.to_str().unwrap(),
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, Some(if lossless { 0 } else { 1 }), "{class}: {r:#}");
    let b = &r["blocks"][0];
    assert_eq!(b["action"], "rewritten", "{class}: {r:#}");
    let new_dir = PathBuf::from(b["new_dir"].as_str().unwrap());
    assert_ne!(b["new_ulid"], b["ulid"]);
    // Lineage: the original is the parent, its sources carried.
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(new_dir.join("meta.json")).unwrap()).unwrap();
    let orig: serde_json::Value =
        serde_json::from_slice(&std::fs::read(testdata(block).join("meta.json")).unwrap()).unwrap();
    assert_eq!(
        meta["compaction"]["parents"][0]["ulid"], orig["ulid"],
        "{class}"
    );
    assert_eq!(
        meta["compaction"]["sources"], orig["compaction"]["sources"],
        "{class}"
    );
    assert_eq!(meta["minTime"], orig["minTime"], "{class}");
    assert_eq!(meta["maxTime"], orig["maxTime"], "{class}");
    let v = promsnap(&["verify", new_dir.to_str().unwrap()]);
    assert!(
        v.status.success(),
        "{class}: the salvaged block verifies clean: {}",
        String::from_utf8_lossy(&v.stdout)
    );
    let got = promtool_dump_block(&new_dir, tmp);
    // Nothing added or changed.
    for (k, val) in &got {
        assert_eq!(
            oracle.get(k),
            Some(val),
            "{class}: {k:?} not in the original"
        );
    }
    let missing: Vec<&(String, i64)> = oracle.keys().filter(|k| !got.contains_key(*k)).collect();
    let rw = &b["rewrite"];
    let drops = rw["dropped"].as_array().unwrap();
    if lossless {
        assert!(
            missing.is_empty(),
            "{class}: {} samples lost",
            missing.len()
        );
        assert!(drops.is_empty(), "{class}: {r:#}");
        return;
    }
    assert!(!missing.is_empty(), "{class}: the damage costs samples");
    let mut by_series: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for k in &missing {
        by_series.entry(k.0.as_str()).or_default().push(k.1);
    }
    // The missing samples a drop covers: of its series (any series when its
    // labels are not trusted), inside [from, to) when known.
    let covered = |d: &serde_json::Value| -> Vec<(String, i64)> {
        let trusted = d["labels_trusted"].as_bool().unwrap();
        let (a, b) = (
            d["from"].as_i64().unwrap_or(i64::MIN),
            d["to"].as_i64().unwrap_or(i64::MAX),
        );
        by_series
            .iter()
            .filter(|(s, _)| !trusted || d["series"] == **s)
            .flat_map(|(s, ts)| {
                ts.iter()
                    .filter(|&&t| t >= a && t < b)
                    .map(|&t| (s.to_string(), t))
            })
            .collect()
    };
    let mut seen: BTreeSet<(String, i64)> = BTreeSet::new();
    let mut total = 0u64;
    for d in drops {
        let c = covered(d);
        let n = c.len() as u64;
        // Every reported drop is lost, exactly as counted.
        assert!(n > 0, "{class}: drop {d} loses nothing");
        if d["samples_exact"].as_bool().unwrap() {
            assert_eq!(d["samples"].as_u64(), Some(n), "{class}: {d}");
        }
        total += n;
        seen.extend(c);
    }
    // Every missing sample lies in a reported drop of its series, once.
    for k in &missing {
        assert!(
            seen.contains(*k),
            "{class}: {k:?} lost but in no reported drop: {r:#}"
        );
    }
    assert_eq!(total, missing.len() as u64, "{class}: drops overlap");
    if !rw["samples_dropped_inexact"].as_bool().unwrap() {
        assert_eq!(rw["samples_dropped"].as_u64(), Some(total), "{class}");
    }
    let kept = rw["samples_written"].as_u64().unwrap();
    assert_eq!(kept, got.len() as u64, "{class}: samples_written");
    assert_eq!(meta["stats"]["numSamples"].as_u64(), Some(kept), "{class}");
}

/// Each damage class verify finds, on a damaged copy of a real block: the
/// salvaged block verifies clean and promtool dumps it as the original
/// minus exactly the reported drops (nothing at all for damage that costs
/// no sample: postings, the symbol table, meta.json's stats).
#[test]
fn salvage_each_damage_class_loses_exactly_what_it_reports() {
    if !promtool_available("salvage damage classes") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let live = gunzip(&testdata(LIVE_ORACLE));
    let back = gunzip(&testdata(BACKFILL_ORACLE));
    let oracle = |block: &str| {
        let r = Some(meta_range(&testdata(block)));
        if block.starts_with("backfill") {
            parse_dump(&back, r)
        } else {
            parse_dump(&live, r)
        }
    };
    let cases = [
        ("chunk", LIVE_L2, false),
        ("series", BACKFILL, false),
        ("postings", LIVE_L2, true),
        ("symbols", BACKFILL, true),
        ("truncate", LIVE_L1, false),
        ("meta", BACKFILL, true),
    ];
    std::thread::scope(|s| {
        let mut hs = Vec::new();
        for chunk in cases.chunks(3) {
            let oracle = &oracle;
            hs.push(s.spawn(move || {
                for &(class, block, lossless) in chunk {
                    check_salvage(t, class, block, &oracle(block), lossless);
                }
            }));
        }
        for h in hs {
            h.join().unwrap();
        }
    });
}

fn entries(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Usage errors change nothing; a block whose index TOC is unreadable is
/// reported unreadable and not carried; a dry run writes nothing.
#[test]
fn salvage_bad_input_and_unreadable_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let src = damaged(t, BACKFILL, "toc");
    let parent = src.parent().unwrap();
    let before = entries(parent);
    // OUT inside PATH.
    let inside = parent.join("out");
    let o = promsnap(&[
        "salvage",
        parent.to_str().unwrap(),
        inside.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("inside"));
    assert_eq!(entries(parent), before);
    // OUT not empty.
    let full = t.join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("x"), b"x").unwrap();
    let o = promsnap(&["salvage", parent.to_str().unwrap(), full.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not empty"));
    assert_eq!(entries(&full), BTreeSet::from(["x".to_string()]));
    // Nothing recognisable.
    let empty = t.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = promsnap(&[
        "salvage",
        empty.to_str().unwrap(),
        t.join("o2").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    // --in-place on a single block is a usage error.
    let o = promsnap(&["salvage", "--in-place", src.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    // Dry run: nothing written.
    let out = t.join("out");
    let (code, r) = run_json(&[
        "salvage",
        parent.to_str().unwrap(),
        out.to_str().unwrap(),
        "--dry-run",
        "--json",
    ]);
    assert_eq!(code, Some(1), "{r:#}");
    assert!(!out.exists());
    // Unreadable TOC: said so, not carried.
    let (code, r) = run_json(&[
        "salvage",
        parent.to_str().unwrap(),
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, Some(1), "{r:#}");
    assert_eq!(r["blocks"][0]["action"], "unreadable", "{r:#}");
    assert!(
        r["blocks"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("index_toc_checksum")
    );
    assert_eq!(r["blocks_unreadable"], 1);
    assert!(entries(&out).is_empty(), "{:?}", entries(&out));
    assert_eq!(entries(parent), before, "the source is untouched");
}

/// A stopped server's data dir (the live fixture) with a flipped chunk byte
/// in one block and a damaged middle WAL segment: `salvage --in-place`
/// quarantines the block (replaced by its rewrite) and the WAL from the
/// damage on; a real Prometheus 2.42 then starts on it without repairing
/// anything and serves every sample of promtool's dump of the undamaged dir
/// outside the reported ranges. While it runs, salvage refuses the dir.
// One real-server scenario, step by step; its steps share the running servers.
#[allow(clippy::too_many_lines)]
#[test]
fn salvage_in_place_then_prometheus_serves_all_outside_the_reported_range() {
    if !have("prometheus") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = t.join("data");
    copy_dir(&testdata("prom-2.42-live/data"), &data);
    std::fs::remove_dir_all(data.join("snapshots")).unwrap();
    let block = data.join("01M88ZHZPXFRQK5144XJKD707B");
    flip(&block.join("chunks/000001"), |b| b.len() / 2);
    let segs: Vec<String> = {
        let mut v: Vec<String> = entries(&data.join("wal"))
            .into_iter()
            .filter(|n| n.bytes().all(|c| c.is_ascii_digit()))
            .collect();
        v.sort();
        v
    };
    assert!(segs.len() >= 3, "{segs:?}");
    let middle = data.join("wal").join(&segs[1]);
    flip(&middle, |b| b.len() / 2);
    let orig_middle_len = std::fs::metadata(&middle).unwrap().len();

    let (code, r) = run_json(&["salvage", "--in-place", data.to_str().unwrap(), "--json"]);
    assert_eq!(code, Some(1), "{r:#}");
    let q = PathBuf::from(r["quarantine"].as_str().unwrap());
    assert_eq!(q.parent(), Some(t), "quarantine beside the data dir");
    // The damaged block is kept in quarantine, its rewrite in place.
    let b = r["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["ulid"] == "01M88ZHZPXFRQK5144XJKD707B")
        .unwrap();
    assert_eq!(b["action"], "rewritten");
    assert!(q.join("01M88ZHZPXFRQK5144XJKD707B/index").is_file());
    assert!(!block.exists());
    assert!(
        data.join(b["new_ulid"].as_str().unwrap())
            .join("index")
            .is_file()
    );
    // The WAL: cut in the middle segment, the original and the later ones kept.
    let w = &r["wal"];
    assert_eq!(w["cut"], true, "{w:#}");
    assert!(w["segment"].as_str().unwrap().ends_with(&segs[1]));
    let kept = w["kept_bytes"].as_u64().unwrap();
    assert!(kept > 0 && kept < orig_middle_len);
    assert_eq!(std::fs::metadata(&middle).unwrap().len(), kept);
    assert_eq!(
        std::fs::metadata(q.join("wal").join(&segs[1]))
            .unwrap()
            .len(),
        orig_middle_len
    );
    for s in &segs[2..] {
        assert!(q.join("wal").join(s).is_file() && !data.join("wal").join(s).exists());
    }
    let v = promsnap(&["verify", data.to_str().unwrap()]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));

    // What must be served: the undamaged dir's dump (blocks and head)
    // minus the reported block drops and the reported ranges.
    let oracle = parse_dump(
        &gunzip(&testdata("prom-2.42-live/oracle/dump-data.txt.gz")),
        None,
    );
    let lost: Vec<(i64, i64)> = r["lost_ranges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x[0].as_i64().unwrap(), x[1].as_i64().unwrap()))
        .collect();
    assert!(!lost.is_empty());
    let drops = b["rewrite"]["dropped"].as_array().unwrap();
    let expected: Vec<&(String, i64)> = oracle
        .iter()
        .filter(|(k, v)| {
            !v.contains("NaN")
                && !lost.iter().any(|&(a, b)| k.1 >= a && k.1 < b)
                && !drops.iter().any(|d| {
                    d["series"] == k.0.as_str()
                        && d["from"].as_i64().is_none_or(|a| k.1 >= a)
                        && d["to"].as_i64().is_none_or(|b| k.1 < b)
                })
        })
        .map(|(k, _)| k)
        .collect();
    assert!(expected.len() > 100_000, "{}", expected.len());

    let cfg = "global:\n  scrape_interval: 1h\nscrape_configs: []\n";
    let prom = Prom::start(t, "salvaged", cfg, &data, &[]);
    let log = prom.log_text();
    for bad in [
        "corruption",
        "Deleting all segments",
        "Loading on-disk chunks failed",
    ] {
        assert!(
            !log.contains(bad),
            "Prometheus repaired something ({bad}): {log}"
        );
    }
    // Refused while running.
    let o = promsnap(&["salvage", "--in-place", data.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("running"));

    let max_t = oracle.keys().map(|k| k.1).max().unwrap();
    let min_t = oracle.keys().map(|k| k.1).min().unwrap();
    let span_s = (max_t - min_t) / 1000 + 5;
    let path = format!(
        "/api/v1/query?query={}&time={:.3}",
        urlencode(&format!("{{__name__=~\".+\"}}[{span_s}s]")),
        (max_t as f64) / 1000.0
    );
    let (st, body) = http_get(prom.port, &path).expect("query");
    assert_eq!(st, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut served: BTreeSet<(String, i64)> = BTreeSet::new();
    for s in v["data"]["result"].as_array().unwrap() {
        let mut names: Vec<(&String, &serde_json::Value)> =
            s["metric"].as_object().unwrap().iter().collect();
        names.sort_by_key(|x| x.0);
        let labels = names
            .iter()
            .map(|(k, v)| format!("{k}={}", serde_json::to_string(v).unwrap()))
            .collect::<Vec<_>>()
            .join(", ");
        for p in s["values"].as_array().unwrap() {
            let ts = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
            served.insert((format!("{{{labels}}}"), ts));
        }
    }
    let missing: Vec<_> = expected.iter().filter(|k| !served.contains(*k)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} samples outside the reported ranges not served, e.g. {:?}",
        missing.len(),
        expected.len(),
        &missing[..missing.len().min(5)]
    );
    drop(prom);
    std::thread::sleep(Duration::from_millis(10));
}

/// The WAL cut's `lost_range` is the loss `verify` predicts for the same
/// damage (what neither a block nor an m-mapped head chunk still holds),
/// and head chunk files salvage moves into quarantine serve nothing: with a
/// damaged chunks_head file too, the range is what verify predicts for the
/// data dir without those files — on the real bytes of a 2.42 data dir.
#[test]
fn salvage_wal_loss_is_verifys_repair_loss_without_the_quarantined_head_chunks() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    copy_dir(&testdata("prom-2.42-live/data"), &data);
    std::fs::remove_dir_all(data.join("snapshots")).unwrap();
    flip(&data.join("wal/00000003"), |b| b.len() / 2);
    let wal_loss = |dir: &Path| {
        let (_, v) = run_json(&["verify", "--json", dir.to_str().unwrap()]);
        let f = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "wal_checksum")
            .unwrap_or_else(|| panic!("{v:#}"))
            .clone();
        f["time_range"].clone()
    };
    let salvage_loss = |dir: &Path| {
        let (code, r) = run_json(&[
            "salvage",
            "--in-place",
            "--dry-run",
            "--json",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(code, Some(1), "{r:#}");
        assert_eq!(r["wal"]["cut"], true, "{r:#}");
        r
    };
    // The WAL alone: the same range as verify's.
    let predicted = wal_loss(&data);
    assert!(predicted.is_array(), "{predicted}");
    let r = salvage_loss(&data);
    assert_eq!(r["wal"]["lost_range"], predicted, "{:#}", r["wal"]);
    assert_eq!(r["chunks_head"]["moved"].as_array().unwrap().len(), 0);

    // A damaged first chunks_head file: it and the later one leave.
    flip(&data.join("chunks_head/000003"), |b| b.len() / 2);
    let r = salvage_loss(&data);
    let moved: Vec<&str> = r["chunks_head"]["moved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(moved.len(), 2, "{:#}", r["chunks_head"]);
    let without = tmp.path().join("without");
    copy_dir(&data, &without);
    for p in &moved {
        let name = Path::new(p).file_name().unwrap();
        std::fs::remove_file(without.join("chunks_head").join(name)).unwrap();
    }
    let predicted_without = wal_loss(&without);
    assert_eq!(r["wal"]["lost_range"], predicted_without, "{:#}", r["wal"]);
    // The m-mapped chunks held part of it: without them the loss starts earlier.
    assert!(
        predicted_without[0].as_i64() < predicted[0].as_i64(),
        "{predicted_without} vs {predicted}"
    );
}

/// A salvage killed mid-rewrite (SIGKILL 0.2 to 0.8 s into a 1 s run) left
/// OUT holding only `<ULID>.tmp-for-creation/`, and the run again refused
/// with "OUT is not empty". Those leftovers are removed and the salvage
/// done; a dry run keeps them; OUT with anything else is still refused.
#[test]
fn salvage_after_a_killed_run_removes_its_tmp_for_creation_leftovers() {
    let tmp = tempfile::tempdir().unwrap();
    let src = damaged(tmp.path(), BACKFILL, "chunk");
    let out = tmp.path().join("out");
    let name = "01M9447HEFB2GG7KDZ7BZP67WM.tmp-for-creation";
    let left = out.join(name);
    std::fs::create_dir_all(left.join("chunks")).unwrap();
    std::fs::write(left.join("chunks/000001"), b"partial").unwrap();
    let (s, o) = (src.to_str().unwrap(), out.to_str().unwrap());
    let dry = promsnap(&["salvage", "--dry-run", s, o]);
    assert_eq!(dry.status.code(), Some(1), "{dry:?}");
    assert!(
        left.join("chunks/000001").is_file(),
        "a dry run removes nothing"
    );
    let run = promsnap(&["salvage", s, o]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let names = entries(&out);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(!names.contains(name), "{names:?}");
    let block = out.join(names.iter().next().unwrap());
    let v = promsnap(&["verify", block.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{v:?}");

    let other = tmp.path().join("other");
    std::fs::create_dir_all(other.join(name)).unwrap();
    std::fs::write(other.join("notes.txt"), b"mine").unwrap();
    let r = promsnap(&["salvage", s, other.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2), "{r:?}");
    assert_eq!(entries(&other).len(), 2);
}
