//! `promsnap analyze` against `promtool tsdb analyze` 2.42 on every real
//! fixture block that has an oracle.
//!
//! How the outputs are compared:
//! - the header (block ID, duration, series, label names, postings, postings
//!   entries), the section titles and the compaction analysis (fullness
//!   histogram) are compared byte for byte;
//! - in each ranked list, the sequence of figures must be equal, and every
//!   `figure key` line of promtool must be a line of ours, looked up in our
//!   complete list (`--limit` large). Keys within a list are unique, so each
//!   group of equal figures is compared **as a set**; for the last group of a
//!   cut-off list, promtool's keys must be a subset of ours with that figure.
//!
//! Why sets: promtool orders with Go's `sort.Slice`, which is not stable. For
//! the churn and "most common" lists the input comes from Go map iteration,
//! so tied entries (notably the many churn entries with figure 0) change
//! order from run to run; for the lists over label names and metric names the
//! input is sorted, so the order is deterministic but depends on Go's pdqsort
//! internals, which promsnap does not reproduce (it orders ties by key).

use std::path::{Path, PathBuf};

use crate::util::{assert_same_lines, promsnap, testdata};

/// promtool's analyze output, split up.
#[derive(Debug, Default)]
struct Report {
    header: Vec<String>,
    lists: Vec<(String, Vec<(u64, String)>)>,
    compaction: Vec<String>,
}

fn parse(text: &str) -> Report {
    let mut r = Report::default();
    let mut in_compaction = false;
    let mut in_header = true;
    for line in text.lines().filter(|l| !l.starts_with("exit=")) {
        if in_compaction {
            r.compaction.push(line.to_string());
        } else if line == "Compaction analysis:" {
            in_compaction = true;
            r.compaction.push(line.to_string());
        } else if line.is_empty() {
            in_header = false;
        } else if in_header {
            r.header.push(line.to_string());
        } else if !line.starts_with(|c: char| c.is_ascii_digit()) {
            let title = line.strip_suffix(':').expect("a list title");
            r.lists.push((title.to_string(), Vec::new()));
        } else {
            let (n, key) = line.split_once(' ').expect("`figure key` line");
            let n: u64 = n.parse().unwrap_or_else(|_| panic!("figure in {line:?}"));
            r.lists
                .last_mut()
                .expect("a list title first")
                .1
                .push((n, key.to_string()));
        }
    }
    r
}

fn run_ok(args: &[&str]) -> String {
    let out = promsnap(args);
    assert!(
        out.status.success(),
        "promsnap {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Compares our analysis of block `ulid` under `dir` with `oracle`.
fn check(dir: &Path, ulid: &str, oracle: &Path, extended: bool) {
    let what = format!("{} {ulid}", oracle.display());
    let d = dir.to_str().unwrap();
    let mut args = vec!["analyze", d, ulid];
    if extended {
        args.push("--extended");
    }
    let ours_text = run_ok(&args);
    args.extend(["--limit", "100000000"]);
    let full = parse(&run_ok(&args));
    let ours = parse(&ours_text);
    let want = parse(&std::fs::read_to_string(oracle).unwrap());

    assert_same_lines(&ours.header.join("\n"), &want.header.join("\n"), &what);
    assert_same_lines(
        &ours.compaction.join("\n"),
        &want.compaction.join("\n"),
        &what,
    );
    assert_eq!(want.lists.len(), 6, "{what}: oracle has 6 lists");
    let titles = |r: &Report| r.lists.iter().map(|l| l.0.clone()).collect::<Vec<_>>();
    assert_eq!(titles(&ours), titles(&want), "{what}");
    for ((title, mine), ((_, theirs), (_, all))) in ours
        .lists
        .iter()
        .zip(want.lists.iter().zip(full.lists.iter()))
    {
        let figs = |l: &[(u64, String)]| l.iter().map(|x| x.0).collect::<Vec<_>>();
        assert_eq!(figs(mine), figs(theirs), "{what}: figures of {title:?}");
        let all: std::collections::HashMap<&str, u64> =
            all.iter().map(|(n, k)| (k.as_str(), *n)).collect();
        for (n, k) in theirs {
            assert_eq!(
                all.get(k.as_str()),
                Some(n),
                "{what}: {title:?}: promtool's line `{n} {k}`"
            );
        }
    }
}

/// (block parent dir, oracle file, ulid, extended) for every analyze oracle.
fn oracles() -> Vec<(PathBuf, PathBuf, String, bool)> {
    let mut v = Vec::new();
    let mut add_dir = |data: PathBuf, odir: PathBuf, prefix: &str, ext_prefix: Option<&str>| {
        let mut files: Vec<_> = std::fs::read_dir(&odir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_str().unwrap().to_string();
            let Some(stem) = name.strip_suffix(".txt") else {
                continue;
            };
            if let Some(ulid) = ext_prefix.and_then(|p| stem.strip_prefix(p)) {
                v.push((data.clone(), f.clone(), ulid.to_string(), true));
            } else if let Some(ulid) = stem.strip_prefix(prefix) {
                // promtool's fixture script ran the live and backfill ones with --extended.
                let ext = ext_prefix.is_none();
                v.push((data.clone(), f.clone(), ulid.to_string(), ext));
            }
        }
    };
    add_dir(
        testdata("prom-2.42-live/data"),
        testdata("prom-2.42-live/oracle"),
        "analyze-",
        None,
    );
    add_dir(
        testdata("backfill-small/blocks"),
        testdata("backfill-small/oracle"),
        "analyze-",
        None,
    );
    let nh = testdata("prom-2.42-nativehist/oracle");
    let mut subdirs: Vec<_> = std::fs::read_dir(&nh)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    for o in subdirs {
        let name = o.file_name().unwrap().to_str().unwrap().to_string();
        let data = if name == "data" {
            testdata("prom-2.42-nativehist/data")
        } else if let Some(snap) = name.strip_prefix("snapshot_") {
            testdata(&format!("prom-2.42-nativehist/data/snapshots/{snap}"))
        } else {
            continue;
        };
        add_dir(data, o, "analyze_", Some("analyze_extended_"));
    }
    v
}

#[test]
fn every_fixture_block_matches_promtool_analyze() {
    let all = oracles();
    // 3 live + 1 backfill + (4 + 5 + 4) native-histogram blocks, plain and extended.
    assert_eq!(all.len(), 3 + 1 + 2 * (4 + 5 + 4), "{all:?}");
    for (dir, oracle, ulid, ext) in all {
        check(&dir, &ulid, &oracle, ext);
    }
}

#[test]
fn default_block_is_promtools_last_by_min_time() {
    // In this data dir the block with the greatest minTime (…ZHZN1…) is not
    // the one with the greatest ULID (…ZHZPX…, a level-2 compaction written
    // later): promtool sorts by minTime and takes the last.
    let d = testdata("prom-2.42-live/data");
    let s = run_ok(&["analyze", d.to_str().unwrap()]);
    assert!(
        s.starts_with("Block ID: 01M88ZHZN1XRWVWM1RH4GVHSAJ\n"),
        "{s}"
    );
    // A block directory itself.
    let b = testdata("backfill-small/blocks/01M88Z547SWC2057Y39068VCCB");
    let s = run_ok(&["analyze", b.to_str().unwrap()]);
    assert!(
        s.starts_with("Block ID: 01M88Z547SWC2057Y39068VCCB\n"),
        "{s}"
    );
}

#[test]
fn unknown_block_is_an_error() {
    let d = testdata("prom-2.42-live/data");
    let out = promsnap(&["analyze", d.to_str().unwrap(), "01M88Z547SWC2057Y39068VCCB"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("block 01M88Z547SWC2057Y39068VCCB not found"),
        "{err}"
    );
}

/// Every file under `dir` with its length and modification time.
fn tree(dir: &Path, out: &mut Vec<(PathBuf, u64, std::time::SystemTime)>) {
    let mut ents: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    ents.sort();
    for p in ents {
        let md = std::fs::metadata(&p).unwrap();
        out.push((p.clone(), md.len(), md.modified().unwrap()));
        if md.is_dir() {
            tree(&p, out);
        }
    }
}

#[test]
fn only_the_chosen_block_is_read_and_nothing_written() {
    // Other blocks' index and chunk files destroyed: the chosen block still
    // analyzes, identically; afterwards no file or directory has changed.
    let tmp = tempfile::tempdir().unwrap();
    crate::util::copy_dir(&testdata("prom-2.42-live/data"), tmp.path());
    let keep = "01M88ZEAF15198PYN7F74NS04J";
    for other in ["01M88ZHZPXFRQK5144XJKD707B", "01M88ZHZN1XRWVWM1RH4GVHSAJ"] {
        let b = tmp.path().join(other);
        std::fs::write(b.join("index"), b"garbage").unwrap();
        std::fs::remove_dir_all(b.join("chunks")).unwrap();
    }
    let t = tmp.path().to_str().unwrap();
    let mut before = Vec::new();
    tree(tmp.path(), &mut before);
    let ours = run_ok(&["analyze", t, keep, "--extended", "--limit", "1000"]);
    run_ok(&["analyze", t, keep, "--json", "--extended"]);
    let mut after = Vec::new();
    tree(tmp.path(), &mut after);
    assert_eq!(before, after);
    let orig = testdata("prom-2.42-live/data");
    let want = run_ok(&[
        "analyze",
        orig.to_str().unwrap(),
        keep,
        "--extended",
        "--limit",
        "1000",
    ]);
    assert_eq!(ours, want);
}

#[test]
fn match_restricts_the_analysis() {
    let d = testdata("prom-2.42-live/data");
    let d = d.to_str().unwrap();
    let s = run_ok(&[
        "analyze",
        d,
        "01M88ZEAF15198PYN7F74NS04J",
        "--match",
        r#"{job="node"}"#,
        "--limit",
        "1000",
    ]);
    let r = parse(&s);
    // 512 series carry job="node" (promtool's "most common label pairs").
    assert_eq!(r.header[2], "Series: 512", "{s}");
    let common = &r.lists[2].1;
    assert_eq!(common[0].0, 512);
    assert!(common.iter().all(|(_, k)| k != "job=prometheus"), "{s}");
    // Every metric of the union of two selectors is the sum of both.
    let both = run_ok(&[
        "analyze",
        d,
        "01M88ZEAF15198PYN7F74NS04J",
        "--match",
        r#"{job="node"}"#,
        "--match",
        r#"{job="prometheus"}"#,
    ]);
    assert!(both.contains("\nSeries: 916\n"), "{both}");
    let bad = promsnap(&["analyze", d, "--match", "{job="]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn json_has_the_same_figures() {
    let d = testdata("prom-2.42-nativehist/data");
    let d = d.to_str().unwrap();
    let ulid = "01M8929W2SRP6QC3XJ7D616AK2";
    let human = parse(&run_ok(&["analyze", d, ulid, "--extended"]));
    let out = run_ok(&["analyze", d, ulid, "--extended", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["block_id"], ulid);
    assert_eq!(
        human.header[1],
        format!("Duration: {}", v["duration"].as_str().unwrap())
    );
    assert_eq!(human.header[2], format!("Series: {}", v["series"]));
    assert_eq!(
        human.header[3],
        format!("Label names: {}", v["label_names"])
    );
    assert_eq!(
        human.header[4],
        format!("Postings (unique label pairs): {}", v["postings"])
    );
    assert_eq!(
        human.header[5],
        format!(
            "Postings entries (total label pairs): {}",
            v["postings_entries"]
        )
    );
    let keys = [
        "churn_label_pairs",
        "churn_label_names",
        "common_label_pairs",
        "label_value_length",
        "label_cardinality",
        "metric_cardinality",
    ];
    for ((_, list), key) in human.lists.iter().zip(keys) {
        let j: Vec<(u64, String)> = v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["value"].as_u64().unwrap(),
                    e["key"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(&j, list, "{key}");
    }
    let c = &v["compaction"];
    let total = c["chunks"].as_u64().unwrap();
    let fullness: u64 = c["fullness"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .sum();
    assert_eq!(fullness + c["empty_chunks"].as_u64().unwrap(), total);
    // This block has float and histogram chunks; meta.json says 470 chunks.
    let f = c["float"]["chunks"].as_u64().unwrap();
    let h = c["histogram"]["chunks"].as_u64().unwrap();
    assert!(f > 0 && h > 0, "{c}");
    assert_eq!(f + h, 470);
    assert!(c["histogram"]["samples"]["max"].as_u64().unwrap() <= 120 * 2);
}

#[test]
fn index_without_all_postings_list_matches_promtool() {
    // Prometheus' repair_index_version fixture (peer corpus), repaired as
    // Prometheus 2.42's repairBadIndexVersion does (index byte 4 := 2, meta
    // version := 1), with the empty chunks/ dir promtool needs to open it:
    // its postings offset table has no all-postings entry, so promtool walks
    // no series. promtool runs on the same bytes.
    let Some(peer) = crate::util::peer_data() else {
        eprintln!("peer corpus not present: skipped");
        return;
    };
    if !crate::util::promtool_available("analyze without all-postings") {
        return;
    }
    let src = peer.join("prometheus+prometheus/tsdb/testdata/repair_index_version");
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    crate::util::copy_dir(&src, &d);
    let b = d.join("01BZJ9WJQPWHGNC2W4J9TA62KC");
    let mut index = std::fs::read(b.join("index")).unwrap();
    index[4] = 2;
    std::fs::write(b.join("index"), &index).unwrap();
    let meta = std::fs::read_to_string(b.join("meta.json")).unwrap();
    std::fs::write(
        b.join("meta.json"),
        meta.replace("\"version\": 2", "\"version\": 1"),
    )
    .unwrap();
    std::fs::create_dir(b.join("chunks")).unwrap();

    let theirs = std::process::Command::new("promtool")
        .args(["tsdb", "analyze", d.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(theirs.status.success(), "{theirs:?}");
    let theirs = String::from_utf8(theirs.stdout).unwrap();
    // The case this test is about: promtool saw no series, but label names.
    assert!(
        theirs.contains("Postings (unique label pairs): 0\n"),
        "{theirs}"
    );
    let ours = run_ok(&["analyze", d.to_str().unwrap()]);
    assert_same_lines(&ours, &theirs, "repaired 2.1 block");
}
