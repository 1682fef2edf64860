//! `promsnap coverage` on the real 2.42 snapshots in testdata, on the seed's
//! question built as files, and on bad input.

use std::path::Path;

use crate::util::{copy_dir, promsnap, run_json, testdata};

const WITH_HEAD: &str = crate::util::LIVE_WITH_HEAD;
const SKIP_HEAD: &str = crate::util::LIVE_SKIP_HEAD;

#[test]
fn snapshot_with_head_block() {
    let p = testdata(WITH_HEAD);
    let (code, v) = run_json(&["coverage", p.to_str().unwrap(), "--json"]);
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["snapshot_time"], 1_795_597_954_000i64);
    assert_eq!(v["head_included"], true);
    assert_eq!(v["head_block"]["ulid"], "01M88ZMVFVAB1KCQ879EMPTBEN");
    // C_snap = the head block's maxTime = H_max + 1.
    assert_eq!(v["coverage_end"], 1_795_597_954_511i64);
    assert_eq!(v["block_range"], 120_000);
    assert_eq!(v["blocks"].as_array().unwrap().len(), 4);
    assert_eq!(v["holes"].as_array().unwrap().len(), 0);
    assert_eq!(v["scrape_interval"], 1_000);
    // The slave's first block runs from C_snap to the next 2 min grid line.
    assert_eq!(v["first_slave_block"]["to"], 1_795_598_040_000i64);
    // Without --slave-up only the boundary slivers (bounds) are listed.
    for w in v["loss_windows"].as_array().unwrap() {
        assert_eq!(w["certainty"], "bound", "{w}");
    }
    assert!(v["deadline"]["at"].as_i64().unwrap() > 1_795_597_954_511);
    assert!(!v["assumptions"].as_array().unwrap().is_empty());
}

#[test]
fn snapshot_with_skip_head_loses_the_head() {
    let p = testdata(SKIP_HEAD);
    let (code, v) = run_json(&[
        "coverage",
        p.to_str().unwrap(),
        "--rw-start",
        "2026-11-25T09:12:35.000Z",
        "--slave-up",
        "2026-11-25T09:13:00.000Z",
        "--json",
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(v["head_included"], false);
    assert!(v["head_block"].is_null());
    // Ends at the last block boundary, 09:10:00.
    assert_eq!(v["coverage_end"], 1_795_597_800_000i64);
    let w = &v["loss_windows"][0];
    assert_eq!(w["cause"], "L1");
    assert_eq!(w["from"], 1_795_597_800_000i64);
    assert_eq!(w["to"], 1_795_597_955_000i64);
    assert!(v["verdict"].as_str().unwrap().starts_with("Loss expected"));
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("skip_head"))
    );
}

#[test]
fn human_output_draws_a_timeline() {
    let p = testdata(WITH_HEAD);
    let out = promsnap(&[
        "coverage",
        p.to_str().unwrap(),
        "--slave-up",
        "2026-11-25T09:13:00Z",
    ]);
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    for want in [
        "Timeline",
        "[###",
        "Coverage end  C_snap = 2026-11-25T09:12:34.511Z",
        "HEAD BLOCK",
        "Deadline",
        // No --rw-start: the starts no file excludes are risks, named first.
        "Verdict: Loss at risk",
        "no remote write start given",
    ] {
        assert!(s.contains(want), "missing {want:?} in\n{s}");
    }
}

/// Without the slave's ready time there is no verdict; the text says what
/// would give one instead of ending without a word (the JSON's `verdict`
/// stays `null`).
#[test]
fn human_output_without_slave_up_says_how_to_get_a_verdict() {
    let p = testdata(WITH_HEAD);
    let out = promsnap(&["coverage", p.to_str().unwrap()]);
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.contains("Verdict: none without the slave's ready time: give it (--slave-up"),
        "{s}"
    );
    let (_, v) = run_json(&["coverage", p.to_str().unwrap(), "--json"]);
    assert!(v["verdict"].is_null(), "{v}");
}

/// An answer that names a loss says how to measure and heal it: `gaps
/// --against` and `fill` with the master's data dir given (`--master`), the
/// slave's when `--slave` names it; no such line without a verdict. On the
/// real 2.42 snapshot and its data dir (head included, a boundary sliver
/// expected with remote write on before the snapshot).
#[test]
fn human_output_names_the_heal_commands_when_something_is_lost() {
    let p = testdata(WITH_HEAD);
    let master = testdata("prom-2.42-live/data");
    let (m, s) = (master.to_str().unwrap(), p.to_str().unwrap());
    let ask = |extra: &[&str]| {
        let mut a = vec![
            "coverage",
            s,
            "--master",
            m,
            "--rw-start",
            "2026-11-25T09:10:00Z",
        ];
        a.extend_from_slice(extra);
        let out = promsnap(&a);
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let text = ask(&["--slave-up", "2026-11-25T09:13:40Z"]);
    let (_, v) = run_json(&[
        "coverage",
        s,
        "--master",
        m,
        "--rw-start",
        "2026-11-25T09:10:00Z",
        "--slave-up",
        "2026-11-25T09:13:40Z",
        "--json",
    ]);
    assert!(!v["loss_windows"].as_array().unwrap().is_empty(), "{v}");
    let want = format!(
        "Heal: once the slave has caught up, `promsnap gaps SLAVE_DATA_DIR --against {m}` \
         measures what it lacks, and `promsnap fill SLAVE_DATA_DIR --from {m}` writes it back"
    );
    assert!(text.contains(&want), "missing {want:?} in\n{text}");
    // The slave's dir when given (a copy of the master's data stands in for it here).
    let tmp = tempfile::tempdir().unwrap();
    let slave = tmp.path().join("replica");
    copy_dir(&master.join("wal"), &slave.join("wal"));
    let text = ask(&[
        "--slave-up",
        "2026-11-25T09:13:40Z",
        "--slave",
        slave.to_str().unwrap(),
    ]);
    let sl = slave.to_str().unwrap();
    assert!(
        text.contains(&format!("`promsnap fill {sl} --from {m}`")),
        "{text}"
    );
    // No verdict, no heal line.
    assert!(!ask(&[]).contains("Heal:"));
}

/// A window of one instant (the boundary's one lost scrape) reads "one
/// scrape" in the window list, as the verdict says it, not "1ms": a recorded
/// `skip_head` run (real 2.42 bytes) whose expected sliver is one instant.
#[test]
fn an_instant_window_reads_one_scrape() {
    let run = testdata("loss-runs/ci-skiphead");
    let snap = run.join("snapshot/20261205T042210Z-74e011ef09f1eaec");
    let wal = run.join("master-wal");
    let args = [
        "coverage",
        snap.to_str().unwrap(),
        "--master",
        wal.to_str().unwrap(),
        "--rw-start",
        "1796444429642",
        "--slave-up",
        "1796444538376",
    ];
    let (code, v) = run_json(&[&args[..], &["--json"]].concat());
    assert_eq!(code, Some(0), "{v}");
    let instants: Vec<_> = v["loss_windows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["from"] == w["to"])
        .collect();
    assert!(!instants.is_empty(), "{v:#}");
    let out = promsnap(&args);
    let text = String::from_utf8(out.stdout).unwrap();
    for w in instants {
        let t = promsnap::coverage::fmt_time(w["from"].as_i64().unwrap());
        assert!(
            text.contains(&format!("{t} → {t} (one scrape)")),
            "{t}: {text}"
        );
    }
    assert!(!text.contains("(1ms)"), "{text}");
}

/// A recorded run whose master's log shows its reader overtaken (`error
/// tailing WAL`, then `Replaying WAL`): `coverage` names both times, as a
/// note when an L2 window reaches the restart and a warning otherwise; and
/// the real loss (`gaps` of the real servers) ends at the last scrape at or
/// before that restart, as 2.42's watcher restart says.
#[test]
fn a_master_log_with_the_reader_overtaken_is_named() {
    let run = testdata("loss-runs/s4200-10s-overtaken-r2");
    let snap = run.join("snapshot/20261206T052005Z-33fb06260eab66fe");
    let (code, v) = run_json(&[
        "coverage",
        snap.to_str().unwrap(),
        "--master",
        run.join("master-wal").to_str().unwrap(),
        "--rw-start",
        "1796534295597",
        "--slave-up",
        "1796534566025",
        "--master-log",
        run.join("master-log.txt").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, Some(0), "{v}");
    let restart = 1_796_534_577_862i64; // 2026-12-06T05:22:57.862Z
    let f: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["message"].as_str().unwrap().contains("error tailing WAL"))
        .collect();
    assert_eq!(f.len(), 1, "{v:#}");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(msg.contains("at 2026-12-06T05:22:52.861Z"), "{msg}");
    assert!(
        msg.contains("restarted at 2026-12-06T05:22:57.862Z"),
        "{msg}"
    );
    let interval = v["scrape_interval"].as_i64().unwrap();
    let reaches = windows_of(&v, "L2")
        .iter()
        .any(|w| w["to"].as_i64().unwrap() + interval >= restart);
    assert_eq!(
        f[0]["severity"],
        if reaches { "note" } else { "warning" },
        "{v:#}"
    );
    let real: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("real-loss.json")).unwrap())
            .unwrap();
    let end = real["merged"][0]["to"].as_i64().unwrap();
    assert!(end <= restart && end + 10_000 > restart, "{end} {restart}");
}

/// A recorded run whose master was restarted (SIGTERM, started again) while
/// the slave was down: with no restart given, its log's second `Starting
/// WAL watcher` is taken as the restart (an assumption names it, not once
/// one is given), and its L6 window holds the real loss (real servers).
#[test]
fn a_master_log_with_the_queue_started_again_is_taken_as_the_restart() {
    let run = testdata("loss-runs/s1950-restart-up60");
    let snap = run.join("snapshot/20261206T083114Z-4cb8c0ea9f2afe5b");
    let log = run.join("master-log.txt");
    let ask = |extra: &[&str]| {
        let mut args = vec![
            "coverage",
            snap.to_str().unwrap(),
            "--rw-start",
            "1796545774665",
            "--slave-up",
            "1796545982700",
            "--master-log",
            log.to_str().unwrap(),
            "--json",
        ];
        args.extend_from_slice(extra);
        let (code, v) = run_json(&args);
        assert_eq!(code, Some(0), "{v}");
        v
    };
    let taken = |v: &serde_json::Value| {
        v["assumptions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a.as_str())
            .filter(|a| a.contains("taken as the master's restart"))
            .count()
    };
    let l6_end = |v: &serde_json::Value| {
        v["loss_windows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["cause"] == "L6")
            .and_then(|w| w["to"].as_i64())
    };
    let real: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("real-loss.json")).unwrap())
            .unwrap();
    let real_end = real["merged"][0]["to"].as_i64().unwrap();
    let restart = 1_796_545_982_487; // the second `Starting WAL watcher`
    let from_log = ask(&[]);
    assert_eq!(taken(&from_log), 1, "{from_log}");
    // This recording's log keeps no stop line: the window runs to the
    // restart, holding the real loss.
    assert_eq!(l6_end(&from_log), Some(restart));
    assert!(real_end < restart);
    // Given at that line: no assumption, the same window.
    let given = ask(&["--master-restart", "1796545982487"]);
    assert_eq!(taken(&given), 0, "{given}");
    assert_eq!(l6_end(&given), Some(restart));
}

/// A master's log that does not cover the catch-up (a recorded run's, of
/// another day) is shown and read, but rules out no reshard: the human
/// output names the queue and the span, and the assumptions say why.
#[test]
fn human_output_names_the_master_log_and_what_it_covers() {
    let p = testdata(WITH_HEAD);
    let log = testdata("loss-runs/s12k-busyz-up35-r3/master-log.txt");
    let out = promsnap(&[
        "coverage",
        p.to_str().unwrap(),
        "--slave-up",
        "2026-11-25T09:13:00Z",
        "--rw-start",
        "2026-11-25T09:03:00Z",
        "--master-log",
        log.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    let line = s
        .lines()
        .find(|l| l.starts_with("Master log    queue up35: reshards 2 (first 1 → 200 at "))
        .unwrap_or_else(|| panic!("no master log line in\n{s}"));
    assert!(line.contains("covers 2026-12-06T"), "{line}");
    assert!(
        s.contains("not the whole catch-up from the slave's start"),
        "{s}"
    );
}

/// An operator notes the slave's ready time to the second, truncated: here
/// 0.499 s before the recorded slave's own `Server is ready` line and its
/// log's first line (given in ms, `.000`, the same time without the
/// second's doubt). 2.42 answers remote write with 503 (retried) until
/// that line, so the log holds the catch-up from the noted time on; the
/// answer names the exact ready time the log holds. A time a second or more
/// before that line is not held.
#[test]
fn a_ready_time_noted_to_the_second_before_the_slaves_log_is_named() {
    let run = testdata("loss-runs/s4500-ms50-up55-r3");
    let snap = run.join("snapshot/20261206T043810Z-3423a6e28c48239a");
    let log = run.join("slave-log.txt");
    let ask = |up: &str| {
        let (code, v) = run_json(&[
            "coverage",
            snap.to_str().unwrap(),
            "--slave-up",
            up,
            "--slave-log",
            log.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(code, Some(0), "{v}");
        let text = |k: &str| {
            v[k].as_array()
                .into_iter()
                .flatten()
                .map(|x| {
                    x["message"]
                        .as_str()
                        .or(x.as_str())
                        .unwrap_or("")
                        .to_string()
                })
                .collect::<Vec<_>>()
        };
        (text("findings"), text("assumptions"))
    };
    // Given to the second, the ready time is that second's (its log's line
    // within it is the exact time); given in ms, the note names the line.
    let (_, assumptions) = ask("2026-12-06T04:39:05Z");
    assert!(
        assumptions.iter().any(|a| a.contains(
            "the slave's log says the slave was ready at 2026-12-06T04:39:05.499Z, within the \
             ready time given"
        )),
        "{assumptions:?}"
    );
    assert!(
        assumptions
            .iter()
            .any(|a| a.contains("the slave's log covers the catch-up")),
        "{assumptions:?}"
    );
    let (findings, assumptions) = ask("2026-12-06T04:39:05.000Z");
    assert!(
        findings
            .iter()
            .any(|f| f.contains("the log says the slave was ready at 2026-12-06T04:39:05.499Z")),
        "{findings:?}"
    );
    assert!(
        assumptions
            .iter()
            .any(|a| a.contains("the slave's log covers the catch-up")),
        "{assumptions:?}"
    );
    let (_, assumptions) = ask("2026-12-06T04:39:04.499Z");
    assert!(
        assumptions
            .iter()
            .any(|a| a.contains("not the whole catch-up")),
        "{assumptions:?}"
    );
    let (findings, assumptions) = ask("2026-12-06T04:39:05.499Z");
    assert!(
        !findings
            .iter()
            .any(|f| f.contains("the log says the slave was ready")),
        "{findings:?}"
    );
    assert!(
        assumptions
            .iter()
            .any(|a| a.contains("the slave's log covers the catch-up")),
        "{assumptions:?}"
    );
}

/// A recorded run's master (real 2.42 bytes) that never restarted: its
/// segment 00000001 opened at a head compaction off the block grid (the
/// master started mid-range; the block's ULID time records it), which is
/// no restart and gets no restart warning.
#[test]
fn no_restart_warning_at_a_compaction_off_the_grid() {
    let run = testdata("loss-runs/ci-skiphead");
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    assert_eq!(rec["restarts"].as_array().map(Vec::len), Some(0));
    let snap = run.join("snapshot/20261205T042210Z-74e011ef09f1eaec");
    let wal = run.join("master-wal");
    let (code, v) = run_json(&[
        "coverage",
        snap.to_str().unwrap(),
        "--master",
        wal.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["wal"]["restarts"], serde_json::json!([]), "{}", v["wal"]);
    assert!(
        v["wal"]["segments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "00000001"),
        "the segment is in the copy"
    );
}

/// A ULID for a given time (ms), with a fixed random part.
fn ulid(ms: i64, tag: u8) -> String {
    const A: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut s = String::new();
    for i in (0..10).rev() {
        s.push(A[((ms >> (5 * i)) & 31) as usize] as char);
    }
    for i in 0..16 {
        s.push(A[((tag as usize) + i) % 32] as char);
    }
    s
}

fn write_block(dir: &Path, id: &str, min: i64, max: i64) {
    let b = dir.join(id);
    std::fs::create_dir_all(&b).unwrap();
    let meta = format!(
        r#"{{"ulid":"{id}","minTime":{min},"maxTime":{max},"stats":{{"numSamples":1,"numSeries":100000,"numChunks":1}},"compaction":{{"level":1,"sources":["{id}"]}},"version":1}}"#
    );
    std::fs::write(b.join("meta.json"), meta).unwrap();
}

const H: i64 = 3_600_000;
const DAY: i64 = 1_795_564_800_000; // 2026-11-25T00:00:00Z

/// The seed's question as files: blocks every 2 h (even UTC hours, written
/// at odd hours), snapshot at 02:55 with its head block [00:00, 02:55),
/// slave up at 03:01. "Lost 5 minutes?"
#[test]
fn seed_question_answered_from_files() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("20261125T025500Z-00000000000000aa");
    write_block(&snap, &ulid(DAY - H, 1), DAY - 4 * H, DAY - 2 * H);
    write_block(&snap, &ulid(DAY + H, 2), DAY - 2 * H, DAY);
    // The head block: level 1, own ULID, ends at H_max + 1 off the grid.
    write_block(
        &snap,
        &ulid(DAY + 2 * H + 55 * 60_000, 3),
        DAY,
        DAY + 2 * H + 55 * 60_000 - 14_000,
    );
    let s = snap.to_str().unwrap();

    // A: remote write on since 02:50 → no 5-minute gap, only a boundary sliver.
    let (_, v) = run_json(&[
        "coverage",
        s,
        "--rw-start",
        "2026-11-25T02:50:00Z",
        "--slave-up",
        "2026-11-25T03:01:00Z",
        "--scrape-interval",
        "15s",
        "--json",
    ]);
    assert_eq!(v["block_range"], 2 * H);
    assert_eq!(v["head_included"], true);
    for w in v["loss_windows"].as_array().unwrap() {
        // Only the boundary slivers: one scrape at most.
        assert!(w["cause"] == "L3" || w["cause"] == "L4", "{w}");
        assert!(w["to"].as_i64().unwrap() - w["from"].as_i64().unwrap() <= 15_000);
    }
    // The 03:00 truncation is 10 min after the stall: survived. 05:00 is the deadline.
    assert_eq!(v["deadline"]["at"], DAY + 5 * H);
    assert!(
        v["verdict"].as_str().unwrap().starts_with("No real loss"),
        "{}",
        v["verdict"]
    );

    // B: remote write added only when the slave came up → about 6 minutes.
    let (_, v) = run_json(&[
        "coverage",
        s,
        "--rw-start",
        "2026-11-25T03:01:00Z",
        "--slave-up",
        "2026-11-25T03:01:00Z",
        "--json",
    ]);
    let w = &v["loss_windows"][0];
    assert_eq!(w["cause"], "L1");
    let lost = w["to"].as_i64().unwrap() - w["from"].as_i64().unwrap();
    assert!((6 * 60_000..=6 * 60_000 + 15_000).contains(&lost), "{lost}");
}

#[test]
fn snapshot_with_no_blocks_is_a_finding_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("20261125T091234Z-0000000000000000");
    std::fs::create_dir_all(&snap).unwrap();
    let (code, v) = run_json(&[
        "coverage",
        snap.to_str().unwrap(),
        "--slave-up",
        "2026-11-25T10:00:00Z",
        "--json",
    ]);
    assert_eq!(code, Some(1));
    assert!(v["coverage_end"].is_null());
    assert_eq!(v["snapshot_time"], 1_795_597_954_000i64);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("no coverage end"))
    );
    // Not an all-clear: an empty seed's loss is not known without the WAL.
    assert!(v["verdict"].as_str().unwrap().contains("Not known"));
    let out = promsnap(&["coverage", snap.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to draw"));
}

#[test]
fn overlapping_and_reversed_blocks_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("20261125T091234Z-788eafc011a10c98");
    copy_dir(&testdata(WITH_HEAD), &snap);
    // Make one level-1 block overlap its neighbour, and damage another's range.
    let m = snap.join("01M88ZHZN1XRWVWM1RH4GVHSAJ/meta.json");
    let s = std::fs::read_to_string(&m)
        .unwrap()
        .replace("1795597680123", "1795597600000");
    std::fs::write(&m, s).unwrap();
    let m = snap.join("01M88ZHZPXFRQK5144XJKD707B/meta.json");
    let s = std::fs::read_to_string(&m)
        .unwrap()
        .replace("\"maxTime\": 1795597560000", "\"maxTime\": 1795597000000");
    std::fs::write(&m, s).unwrap();
    let (code, v) = run_json(&["coverage", snap.to_str().unwrap(), "--json"]);
    assert_eq!(code, Some(1), "{v:#}");
    assert_eq!(v["overlaps"].as_array().unwrap().len(), 1);
    assert_eq!(v["blocks"].as_array().unwrap().len(), 3);
    let msgs: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(msgs.iter().any(|m| m.contains("reversed")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("overlap")), "{msgs:?}");
    // Still a partial answer.
    assert_eq!(v["coverage_end"], 1_795_597_954_511i64);
}

#[test]
fn wal_with_missing_segment_is_a_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let master = tmp.path().join("master");
    copy_dir(&testdata("prom-2.42-live/data/wal"), &master.join("wal"));
    std::fs::remove_file(master.join("wal/00000003")).unwrap();
    // And a damaged tail on the last one.
    let last = master.join("wal/00000004");
    let mut b = std::fs::read(&last).unwrap();
    for x in b.iter_mut().skip(100).take(64) {
        *x ^= 0x5a;
    }
    std::fs::write(&last, b).unwrap();
    let p = testdata(WITH_HEAD);
    let (code, v) = run_json(&[
        "coverage",
        p.to_str().unwrap(),
        "--master",
        master.to_str().unwrap(),
        "--observed-at",
        "2026-11-25T09:12:40Z",
        "--json",
    ]);
    assert_eq!(code, Some(1));
    let msgs: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(msgs.iter().any(|m| m.contains("00000003")), "{msgs:?}");
    assert_eq!(v["wal"]["segments"].as_array().unwrap().len(), 2);
    assert!(v["deadline"].is_object());
}

/// The master's WAL as it was 6 s after the snapshot: low volume (segments
/// rotate only at truncations), so the reader stalled at C_snap in segment 4
/// is overtaken when the 2/3 rule first deletes segment 5: at 09:19.
#[test]
fn master_wal_gives_the_exact_deadline() {
    let p = testdata(WITH_HEAD);
    let m = testdata("prom-2.42-live/data");
    let (code, v) = run_json(&[
        "coverage",
        p.to_str().unwrap(),
        "--master",
        m.to_str().unwrap(),
        "--observed-at",
        "2026-11-25T09:12:40Z",
        "--slave-up",
        "2026-11-25T09:13:00Z",
        "--json",
    ]);
    assert_eq!(code, Some(0), "{:#}", v["findings"]);
    let segs = v["wal"]["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 3);
    for w in segs.windows(2) {
        assert!(w[0]["max_t"].as_i64().unwrap() < w[1]["min_t"].as_i64().unwrap());
    }
    assert_eq!(v["wal"]["checkpoint"]["name"], "checkpoint.00000001");
    assert_eq!(v["wal"]["coverage_end_in_live_segment"], true);
    assert_eq!(v["deadline"]["basis"], "wal");
    // 09:19:00 plus the compaction delay calibrated from the level-1 ULIDs.
    let d = v["deadline"]["at"].as_i64().unwrap();
    assert!((1_795_598_340_000..1_795_598_345_000).contains(&d), "{d}");
    // No --rw-start: the starts no file excludes are risks, never "No real loss".
    let verdict = v["verdict"].as_str().unwrap();
    assert!(verdict.starts_with("Loss at risk"), "{verdict}");
    assert!(verdict.contains("no remote write start given"), "{verdict}");
    // Only risks: the catch-up can still be won, and the verdict says by when.
    let by = promsnap::gofmt::rfc3339_ms(d);
    assert!(
        verdict.contains(&format!("The slave must be caught up before {by}")),
        "{verdict}"
    );
}

/// meta.json times at the ends of i64 (damage): findings, no overflow.
#[test]
fn implausible_block_times_are_left_out() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("20261125T091234Z-0000000000000000");
    let id = ulid(DAY, 7);
    let b = snap.join(&id);
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(
        b.join("meta.json"),
        format!(
            r#"{{"ulid":"{id}","minTime":-9223372036854775808,"maxTime":9223372036854775807,"compaction":{{"level":1,"sources":["{id}"]}},"version":1}}"#
        ),
    )
    .unwrap();
    write_block(&snap, &ulid(DAY + H, 8), DAY, DAY + 2 * H);
    let s = snap.to_str().unwrap();
    let up = (DAY + 10 * H).to_string();
    let (code, v) = run_json(&[
        "coverage",
        s,
        "--slave-up",
        &up,
        "--rw-start",
        "0",
        "--json",
    ]);
    assert_eq!(code, Some(1));
    assert_eq!(v["blocks"].as_array().unwrap().len(), 1);
    assert_eq!(v["coverage_end"], DAY + 2 * H);
    let out = promsnap(&["coverage", s, "--slave-up", "9223372036854775807"]);
    assert_eq!(out.status.code(), Some(2));
    let out = promsnap(&["coverage", s]);
    assert_eq!(out.status.code(), Some(1));
}

// ---- Loss causes L5–L10: the operator's facts ----

const NATIVE: &str = "prom-2.42-nativehist/data/snapshots/20261125T095910Z-571c9d7c71851497";

fn windows_of<'a>(v: &'a serde_json::Value, cause: &str) -> Vec<&'a serde_json::Value> {
    v["loss_windows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["cause"] == cause)
        .collect()
}

fn assumes(v: &serde_json::Value, what: &str) -> bool {
    v["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a.as_str().unwrap().contains(what))
}

/// (minTime, maxTime) of every block of a snapshot from its meta.json
/// files, newest maxTime first.
fn metas(dir: &Path) -> Vec<(i64, i64)> {
    let mut v: Vec<(i64, i64)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| std::fs::read(e.unwrap().path().join("meta.json")).ok())
        .map(|m| {
            let j: serde_json::Value = serde_json::from_slice(&m).unwrap();
            (
                j["minTime"].as_i64().unwrap(),
                j["maxTime"].as_i64().unwrap(),
            )
        })
        .collect();
    v.sort_by_key(|b| std::cmp::Reverse(b.1));
    v
}

/// L8: a slave with 5 minutes of time retention, started on the live
/// snapshot, deletes every block whose maxTime is 5 min or more before the
/// newest block's.
#[test]
fn slave_retention_deletes_old_snapshot_blocks() {
    let p = testdata(WITH_HEAD);
    let m = metas(&p);
    let ret = 5 * 60_000;
    let (code, v) = run_json(&[
        "coverage",
        p.to_str().unwrap(),
        "--slave-up",
        "2026-11-25T09:13:00Z",
        "--slave-retention",
        "5m",
        "--json",
    ]);
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["facts"]["slave_retention"], ret);
    let newest = m[0].1;
    let mut want: Vec<(i64, i64)> = m
        .iter()
        .skip(1)
        .filter(|b| newest - b.1 >= ret)
        .map(|b| (b.0, b.1 - 1))
        .collect();
    want.sort_unstable();
    assert!(!want.is_empty());
    let got: Vec<(i64, i64)> = windows_of(&v, "L8")
        .iter()
        .map(|w| (w["from"].as_i64().unwrap(), w["to"].as_i64().unwrap()))
        .collect();
    assert_eq!(got, want);
    assert!(v["verdict"].as_str().unwrap().starts_with("Loss expected"));
    assert!(
        v["verdict"]
            .as_str()
            .unwrap()
            .contains("of the snapshot's history")
    );
    // Without the flag: 15d assumed, nothing this young deleted.
    let (_, v) = run_json(&["coverage", p.to_str().unwrap(), "--json"]);
    assert!(windows_of(&v, "L8").is_empty());
    assert!(assumes(&v, "15d"));
}

/// L8 by size: a budget of the newest block's bytes (from `bytes` in the
/// JSON, checked against the files) keeps only it.
#[test]
fn slave_size_retention_keeps_what_fits() {
    let p = testdata(WITH_HEAD);
    let (_, v) = run_json(&["coverage", p.to_str().unwrap(), "--json"]);
    let blocks = v["blocks"].as_array().unwrap();
    let newest = blocks
        .iter()
        .max_by_key(|b| b["max_time"].as_i64().unwrap())
        .unwrap();
    let dir = p.join(newest["ulid"].as_str().unwrap());
    let on_disk: u64 = ["index", "tombstones", "meta.json", "chunks/000001"]
        .iter()
        .map(|f| std::fs::metadata(dir.join(f)).unwrap().len())
        .sum();
    assert_eq!(newest["bytes"], on_disk);
    let (code, v) = run_json(&[
        "coverage",
        p.to_str().unwrap(),
        "--slave-retention-size",
        &format!("{on_disk}B"),
        "--json",
    ]);
    assert_eq!(code, Some(0));
    let l8 = windows_of(&v, "L8");
    assert_eq!(l8.len(), blocks.len() - 1);
    assert!(
        l8.iter()
            .all(|w| w["to"].as_i64().unwrap() < newest["min_time"].as_i64().unwrap())
    );
    // Units as Prometheus takes them: 1KB = 1024 bytes is less than any block.
    let (_, v) = run_json(&[
        "coverage",
        p.to_str().unwrap(),
        "--slave-retention-size",
        "1KB",
        "--json",
    ]);
    assert_eq!(v["facts"]["slave_retention_size"], 1024);
    assert_eq!(windows_of(&v, "L8").len(), blocks.len());
}

/// L9 on the real native-histogram snapshot: the series the server's own
/// HTTP API returned histogram samples for in the head block's range are
/// the ones whose native histograms after C_snap are not sent by default.
#[test]
fn native_histograms_are_not_sent_by_default() {
    let p = testdata(NATIVE);
    let (code, v) = run_json(&[
        "coverage",
        p.to_str().unwrap(),
        "--slave-up",
        "2026-11-25T10:05:00.000Z",
        "--json",
    ]);
    assert_eq!(code, Some(0), "{:#}", v["findings"]);
    let head = &v["head_block"];
    let (lo, hi) = (
        head["min_time"].as_i64().unwrap(),
        head["max_time"].as_i64().unwrap(),
    );
    let api: serde_json::Value = serde_json::from_str(&crate::util::gunzip(&testdata(
        "prom-2.42-nativehist/oracle/snapshot_20261125T095910Z-571c9d7c71851497/api_raw_samples.json.gz",
    )))
    .unwrap();
    let (mut series, mut samples) = (0u64, 0u64);
    for res in api["results"].as_object().unwrap().values() {
        for s in res.as_array().unwrap() {
            let n = s["histograms"].as_array().map_or(0, |h| {
                h.iter()
                    .filter(|x| {
                        let t = (x[0].as_f64().unwrap() * 1000.0).round() as i64;
                        (lo..hi).contains(&t)
                    })
                    .count() as u64
            });
            if n > 0 {
                series += 1;
                samples += n;
            }
        }
    }
    assert!(series > 0);
    assert_eq!(v["native_histograms"]["series"], series);
    assert_eq!(v["native_histograms"]["samples"], samples);
    let l9 = windows_of(&v, "L9");
    assert_eq!(l9.len(), 1);
    assert_eq!(l9[0]["from"], v["coverage_end"]);
    // Up to the latest time the inputs name: the slave's start, 10:05.
    assert_eq!(l9[0]["to"], DAY + 10 * H + 5 * 60_000);
    assert_eq!(l9[0]["series"], series);
    assert_eq!(l9[0]["ongoing"], true);
    assert!(assumes(&v, "send_native_histograms not given"));

    let (_, v) = run_json(&[
        "coverage",
        p.to_str().unwrap(),
        "--slave-up",
        "2026-11-25T10:05:00.000Z",
        "--send-native-histograms",
        "true",
        "--json",
    ]);
    assert!(windows_of(&v, "L9").is_empty());
    assert_eq!(v["facts"]["send_native_histograms"], true);
}

/// L5, L6, L7 and L10 on the seed's files: each window from the given
/// times by the model's formula.
// One window per operator fact, asserted one after the other.
#[allow(clippy::too_many_lines)]
#[test]
fn operator_facts_give_l5_l6_l7_l10_windows() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("20261125T025500Z-00000000000000aa");
    write_block(&snap, &ulid(DAY - H, 1), DAY - 4 * H, DAY - 2 * H);
    write_block(&snap, &ulid(DAY + H, 2), DAY - 2 * H, DAY);
    let c = DAY + 2 * H + 55 * 60_000 - 14_000;
    write_block(&snap, &ulid(DAY + 2 * H + 55 * 60_000, 3), DAY, c);
    let s = snap.to_str().unwrap();
    let up = DAY + 3 * H + 60_000; // 03:01
    let base = [
        "coverage",
        s,
        "--rw-start",
        "2026-11-25T02:50:00.000Z",
        "--slave-up",
        "2026-11-25T03:01:00.000Z",
        "--json",
    ];
    let run = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        run_json(&a)
    };

    // L5: sample_age_limit 2m, catch-up 10m → [C_snap, up + 10m − 2m].
    let (code, v) = run(&["--sample-age-limit", "2m", "--catch-up", "10m"]);
    assert_eq!(code, Some(0), "{v:#}");
    let l5 = windows_of(&v, "L5");
    assert_eq!(l5.len(), 1);
    assert_eq!(l5[0]["from"], c);
    assert_eq!(l5[0]["to"], up + 10 * 60_000 - 2 * 60_000);
    assert_eq!(l5[0]["to_earliest"], up - 2 * 60_000);

    // L6: a restart at 02:58, before the slave is up → [C_snap, 02:58].
    let (_, v) = run(&["--master-restart", "2026-11-25T02:58:00.000Z"]);
    let l6 = windows_of(&v, "L6");
    assert_eq!(l6.len(), 1);
    assert_eq!(l6[0]["from"], c);
    assert_eq!(l6[0]["to"], DAY + 2 * H + 58 * 60_000);
    assert!(windows_of(&v, "L3").is_empty());
    assert!(v["verdict"].as_str().unwrap().starts_with("Loss expected"));

    // L7: 404 until 03:30 → [C_snap, 03:30].
    let (_, v) = run(&[
        "--receiver-rejects",
        "404",
        "--rejects-until",
        "2026-11-25T03:30:00.000Z",
    ]);
    let l7 = windows_of(&v, "L7");
    assert_eq!(l7.len(), 1);
    assert_eq!(l7[0]["from"], c);
    assert_eq!(l7[0]["to"], DAY + 3 * H + 30 * 60_000);
    assert_eq!(l7[0]["certainty"], "expected");
    assert!(l7[0].get("ongoing").is_none());

    // L10: v2.52.0 without the master WAL → at most [C_snap, up].
    let (_, v) = run(&["--master-version", "v2.52.0"]);
    let l10 = windows_of(&v, "L10");
    assert_eq!(l10.len(), 1);
    assert_eq!(
        (l10[0]["from"].as_i64(), l10[0]["to"].as_i64()),
        (Some(c), Some(up))
    );
    assert_eq!(l10[0]["certainty"], "bound");
    assert_eq!(v["facts"]["master_version"]["minor"], 52);
    // The seed is otherwise loss-free: the bound is named in the verdict.
    assert!(v["verdict"].as_str().unwrap().contains("Possibly also"));

    // Nothing given: each cause's default is stated.
    let (_, v) = run(&[]);
    for what in [
        "sample_age_limit not given",
        "no master restart",
        "the slave's receiver accepts the writes",
        "15d",
        "master version not given",
    ] {
        assert!(assumes(&v, what), "{what}: {:#}", v["assumptions"]);
    }
    for cause in ["L5", "L6", "L7", "L8", "L9", "L10"] {
        assert!(windows_of(&v, cause).is_empty(), "{cause}");
    }

    // Bad values are usage errors (exit 2), not panics.
    for bad in [
        &["--receiver-rejects", "200"][..],
        &["--master-version", "two"][..],
        &["--slave-retention-size", "1kB"][..],
        &["--send-native-histograms", "maybe"][..],
        &["--master-restart", "9223372036854775807"][..],
    ] {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(bad);
        assert_eq!(promsnap(&a).status.code(), Some(2), "{bad:?}");
    }
}

/// The real masters' WAL segments all start at a head-compaction
/// truncation (neither master was restarted): no L6 restart hint. The rule
/// itself is unit-tested (`coverage::wal::tests`).
#[test]
fn real_master_wals_have_no_restart_hints() {
    for (snap, data) in [
        (WITH_HEAD, "prom-2.42-live/data"),
        (NATIVE, "prom-2.42-nativehist/data"),
    ] {
        let (_, v) = run_json(&[
            "coverage",
            testdata(snap).to_str().unwrap(),
            "--master",
            testdata(data).to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(v["wal"]["restarts"].as_array().unwrap().len(), 0, "{data}");
    }
}

/// The seed's snapshot as files (blocks on even hours, head block to 02:54:46).
fn seed_snapshot(dir: &Path) -> std::path::PathBuf {
    let snap = dir.join("20261125T025500Z-00000000000000ab");
    write_block(&snap, &ulid(DAY - H, 1), DAY - 4 * H, DAY - 2 * H);
    write_block(&snap, &ulid(DAY + H, 2), DAY - 2 * H, DAY);
    write_block(
        &snap,
        &ulid(DAY + 2 * H + 55 * 60_000, 3),
        DAY,
        DAY + 2 * H + 55 * 60_000 - 14_000,
    );
    snap
}

/// A verdict never more optimistic than its inputs: a slave up before the
/// snapshot is a usage error; without --rw-start the verdict names the case
/// it assumed and the two others; an L2 that is only a risk (no master WAL)
/// is not called "Loss expected"; a hole in the snapshot never ends in
/// "No real loss".
#[test]
fn verdict_names_its_assumptions() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = seed_snapshot(tmp.path());
    let s = snap.to_str().unwrap();
    // Slave up before the snapshot: usage error, exit 2.
    let out = promsnap(&["coverage", s, "--slave-up", "2026-11-25T02:00:00Z"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("before the snapshot"));

    // No --rw-start: the assumed case and what changes otherwise.
    let (_, v) = run_json(&[
        "coverage",
        s,
        "--slave-up",
        "2026-11-25T03:01:00Z",
        "--scrape-interval",
        "15s",
        "--json",
    ]);
    let verdict = v["verdict"].as_str().unwrap();
    assert!(verdict.starts_with("Loss at risk"), "{verdict}");
    assert!(
        verdict.contains("Assumed (no remote write start given)"),
        "{verdict}"
    );
    assert!(verdict.contains("Had it run since"), "{verdict}");
    assert!(
        verdict.contains("Had it started only when the slave came up"),
        "{verdict}"
    );

    // Remote write long before, no master WAL: L2 is a risk, and so says the verdict.
    let (_, v) = run_json(&[
        "coverage",
        s,
        "--rw-start",
        "2026-11-25T00:30:00Z",
        "--slave-up",
        "2026-11-25T03:01:00Z",
        "--scrape-interval",
        "15s",
        "--json",
    ]);
    let l2 = windows_of(&v, "L2");
    assert_eq!(l2.len(), 1);
    assert_eq!(l2[0]["certainty"], "risk");
    let verdict = v["verdict"].as_str().unwrap();
    assert!(verdict.starts_with("Loss at risk"), "{verdict}");

    // A hole between blocks: the verdict leads with it.
    let holed = tmp.path().join("20261125T025500Z-00000000000000ac");
    copy_dir(&snap, &holed);
    std::fs::remove_dir_all(holed.join(ulid(DAY + H, 2))).unwrap();
    let (_, v) = run_json(&[
        "coverage",
        holed.to_str().unwrap(),
        "--rw-start",
        "2026-11-25T02:50:00Z",
        "--slave-up",
        "2026-11-25T03:01:00Z",
        "--scrape-interval",
        "15s",
        "--json",
    ]);
    let verdict = v["verdict"].as_str().unwrap();
    assert!(
        verdict.starts_with("Loss in the snapshot itself"),
        "{verdict}"
    );
    assert!(!verdict.contains("No real loss"), "{verdict}");
}

/// `--slave-log` on a recorded run (`s1500-30s-up40`: 1 500 series at 30 s,
/// the slave up 43 s after the snapshot), with the slave's real log as the
/// recording kept it (16 refused requests, none cut; the harness's `#`
/// lines read as unreadable): the model alone leaves the boundary window
/// open to +68 s; every request the slave refused started at or before
/// `C_snap` and was answered before +51 s, so the window ends with the
/// +30 s scrape, where the real loss ended (`real-loss.json`) — once the
/// log is known to hold the whole catch-up (`--slave-log-at`; its last
/// line alone comes before the catch-up's latest end, and then it narrows
/// nothing). Without the option nothing changes; the verdict says what the
/// log showed; a `--slave-log-at` before the log's last line is a usage
/// error.
#[test]
fn slave_log_bounds_the_boundary_window() {
    let ev = testdata("loss-runs/s1500-30s-up40");
    let log = ev.join("slave-log.txt");
    let rec: crate::lossmatrix::RunRecord =
        serde_json::from_str(&std::fs::read_to_string(ev.join("run.json")).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut base = crate::lossruns::coverage_args(&ev, &rec, tmp.path());
    if let Some(i) = base.iter().position(|a| a == "--slave-log") {
        base.drain(i..i + 4);
    }
    let run = |extra: &[&str]| {
        let mut a: Vec<&str> = base.iter().map(String::as_str).collect();
        a.extend_from_slice(extra);
        promsnap(&a)
    };
    let json = |extra: &[&str]| -> serde_json::Value {
        let mut e = extra.to_vec();
        e.push("--json");
        let out = run(&e);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let l3_end = |v: &serde_json::Value| {
        windows_of(v, "L3")
            .iter()
            .map(|w| w["to"].as_i64().unwrap())
            .max()
    };
    let without = json(&[]);
    assert!(without["facts"]["slave_log"].is_null());
    let log_s = log.to_str().unwrap();
    // The recording keeps every such line up to `gaps_to` (its header).
    let at = rec.gaps_to.to_string();
    let quiet_end = json(&["--slave-log", log_s]);
    assert!(
        quiet_end["assumptions"]
            .to_string()
            .contains("not the whole catch-up")
    );
    let with = json(&["--slave-log", log_s, "--slave-log-at", &at]);
    let text = std::fs::read_to_string(&log).unwrap();
    let refusals = text
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains("Out of order sample from remote write"))
        .count();
    assert_eq!(with["facts"]["slave_log"]["refused"], refusals as u64);
    let c = with["coverage_end"].as_i64().unwrap();
    let real: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ev.join("real-loss.json")).unwrap()).unwrap();
    let real_end = real["merged"][0]["to"].as_i64().unwrap();
    let (before, after) = (l3_end(&without).unwrap(), l3_end(&with).unwrap());
    assert!(before > real_end + 30_000, "{}", before - c);
    assert!(
        after >= real_end && after < before,
        "{} {}",
        after - c,
        real_end - c
    );
    assert!(
        with["verdict"]
            .as_str()
            .unwrap()
            .contains("The slave's log (")
    );
}

/// The same run's human answer names the slave's log, and a log taken
/// before its own last line is a usage error.
#[test]
fn slave_log_in_the_human_answer_and_its_time() {
    let ev = testdata("loss-runs/s1500-30s-up40");
    let log = ev.join("slave-log.txt");
    let log_s = log.to_str().unwrap();
    let rec: crate::lossmatrix::RunRecord =
        serde_json::from_str(&std::fs::read_to_string(ev.join("run.json")).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut base = crate::lossruns::coverage_args(&ev, &rec, tmp.path());
    if let Some(i) = base.iter().position(|a| a == "--slave-log") {
        base.drain(i..i + 4);
    }
    let run = |extra: &[&str]| {
        let mut a: Vec<&str> = base.iter().map(String::as_str).collect();
        a.extend_from_slice(extra);
        promsnap(&a)
    };
    let refusals = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains("Out of order sample from remote write"))
        .count();
    let out = run(&["--slave-log", log_s]);
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.contains(&format!(
            "Slave log     refused remote-write requests {refusals}"
        )),
        "{s}"
    );
    let last = s
        .lines()
        .find(|l| l.starts_with("Slave log"))
        .and_then(|l| l.rsplit(" → ").next())
        .and_then(promsnap::vocab::parse_rfc3339_ms)
        .unwrap();
    let early = run(&[
        "--slave-log",
        log_s,
        "--slave-log-at",
        &(last - 1).to_string(),
    ]);
    assert_eq!(early.status.code(), Some(2));
    let err = String::from_utf8_lossy(&early.stderr);
    assert!(err.contains("--slave-log-at"), "{err}");
}

/// Issue 14: "a slave-up before the snapshot … must not end in 'No real
/// loss'". On a real recording (`ci-soon`: the master's snapshot, its
/// `wal/` copy and times), a `--slave-up` before the snapshot — a slave
/// cannot start on a snapshot not yet taken, so a time zone or another
/// snapshot was meant — is a usage error (exit 2) that names the ready time
/// and the snapshot, with no verdict at all, text or JSON; the run's real
/// ready time answers as recorded.
#[test]
fn slave_up_before_the_snapshot_gets_no_verdict() {
    let ev = testdata("loss-runs/ci-soon");
    let rec: crate::lossmatrix::RunRecord =
        serde_json::from_str(&std::fs::read_to_string(ev.join("run.json")).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let base = crate::lossruns::coverage_args(&ev, &rec, tmp.path());
    let at = base.iter().position(|a| a == "--slave-up").unwrap() + 1;
    let run = |up: i64, json: bool| {
        let mut a = base.clone();
        a[at] = up.to_string();
        if json {
            a.push("--json".into());
        }
        let argv: Vec<&str> = a.iter().map(String::as_str).collect();
        promsnap(&argv)
    };
    // A minute before the snapshot call, and an hour (a time zone).
    for early in [rec.snapshot_called - 60_000, rec.slave_up - 3_600_000] {
        for json in [false, true] {
            let out = run(early, json);
            let (stdout, stderr) = (
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
            );
            assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
            assert!(!stdout.contains("No real loss") && !stderr.contains("No real loss"));
            assert!(
                format!("{stdout}{stderr}").contains("is before the snapshot"),
                "{stdout}{stderr}"
            );
        }
    }
    let out = run(rec.slave_up, true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["verdict"].as_str().is_some());
}

/// A slave up and receiving before the snapshot, stopped 20 s after it,
/// wiped, seeded and started again (the real recording `s730-pre-pre20`):
/// with its stop time, coverage predicts the wiped part, from the first
/// sample lost after `C_snap` to the stop, as an expected L1 window and never "No real loss"; the fact is in the
/// JSON; a stop after the seeded slave's ready time is a usage error.
#[test]
fn a_slave_seeded_over_after_receiving_loses_what_it_held_after_the_snapshot() {
    let ev = testdata("loss-runs/s730-pre-pre20");
    let rec: crate::lossmatrix::RunRecord =
        serde_json::from_str(&std::fs::read_to_string(ev.join("run.json")).unwrap()).unwrap();
    let raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ev.join("run.json")).unwrap()).unwrap();
    let stopped = raw["slave_before_snapshot"]["stopped"].as_i64().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut args = crate::lossruns::coverage_args(&ev, &rec, tmp.path());
    let at = args
        .iter()
        .position(|a| a == "--slave-received-until")
        .unwrap();
    assert_eq!(args[at + 1], stopped.to_string());
    args.push("--json".into());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = promsnap(&argv);
    // Loss windows are the answer, not findings in the inputs: exit 0.
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["facts"]["slave_received_until"], stopped);
    let c = v["coverage_end"].as_i64().unwrap();
    let l1 = windows_of(&v, "L1");
    assert_eq!(l1.len(), 1, "{l1:?}");
    // From the first sample lost (the master's next scrape after the
    // coverage end, on the WAL's grid), as the recorded real loss starts.
    let real: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ev.join("real-loss.json")).unwrap()).unwrap();
    let first_lost = real["merged"][0]["from"].as_i64().unwrap();
    assert!(first_lost > c);
    assert_eq!(l1[0]["from"], first_lost);
    assert_eq!(l1[0]["to"], stopped);
    assert_eq!(l1[0]["certainty"], "expected");
    assert!(!v["verdict"].as_str().unwrap().contains("No real loss"));
    // Without the fact the assumption says what was taken.
    let mut plain = args.clone();
    plain.drain(at..=at + 1);
    let argv: Vec<&str> = plain.iter().map(String::as_str).collect();
    let v: serde_json::Value = serde_json::from_slice(&promsnap(&argv).stdout).unwrap();
    assert!(assumes(&v, "no time it received until given"));
    // A stop after the seeded slave was up cannot be.
    let mut late = args.clone();
    late[at + 1] = (rec.slave_up + 1_000).to_string();
    let argv: Vec<&str> = late.iter().map(String::as_str).collect();
    let out = promsnap(&argv);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("after its ready time"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Logs written with `--log.format=json` (`s4600-ms55-json-up48`, both
/// servers logging JSON) are read: the human answer names the master's
/// queue and its reshards and the slave's refused requests. A file in which
/// no line is a Prometheus log line (the run's `wal-files.json`) is not
/// used, and the answer says so, in words other than "no line of the
/// slave's queue", with `unrecognised` in the JSON.
#[test]
fn json_logs_are_read_and_unrecognised_logs_said_so() {
    let ev = testdata("loss-runs/s4600-ms55-json-up48");
    let rec: crate::lossmatrix::RunRecord =
        serde_json::from_str(&std::fs::read_to_string(ev.join("run.json")).unwrap()).unwrap();
    assert_eq!(rec.log_format.as_deref(), Some("json"));
    let tmp = tempfile::tempdir().unwrap();
    let mut base = crate::lossruns::coverage_args(&ev, &rec, tmp.path());
    for flag in ["--master-log", "--slave-log"] {
        if let Some(i) = base.iter().position(|a| a == flag) {
            base.drain(i..i + 4);
        }
    }
    let run = |extra: &[&str]| {
        let mut a: Vec<&str> = base.iter().map(String::as_str).collect();
        a.extend_from_slice(extra);
        let out = promsnap(&a);
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout).unwrap()
    };
    let (mlog, slog) = (ev.join("master-log.txt"), ev.join("slave-log.txt"));
    let s = run(&[
        "--master-log",
        mlog.to_str().unwrap(),
        "--slave-log",
        slog.to_str().unwrap(),
    ]);
    assert!(s.contains("Master log    queue up48: reshards "), "{s}");
    assert!(
        s.contains("Slave log     refused remote-write requests "),
        "{s}"
    );
    let junk = ev.join("wal-files.json");
    let lines = std::fs::read_to_string(&junk).unwrap().lines().count();
    let junk = junk.to_str().unwrap();
    let s = run(&["--master-log", junk, "--slave-log", junk]);
    let none = format!("not used: none of its {lines} lines is a Prometheus log line");
    for who in ["Master log    ", "Slave log     "] {
        assert!(s.contains(&format!("{who}{none}")), "{who}: {s}");
    }
    assert!(
        !s.contains("no line of the slave's remote-write queue"),
        "{s}"
    );
    let j: serde_json::Value =
        serde_json::from_str(&run(&["--master-log", junk, "--slave-log", junk, "--json"])).unwrap();
    for log in ["master_log", "slave_log"] {
        assert_eq!(j["facts"][log]["unrecognised"], true, "{log}");
        assert_eq!(j["facts"][log]["lines"], lines, "{log}");
    }
    assert!(
        j["assumptions"]
            .to_string()
            .contains("the slave's log is not used: none of its"),
        "{j:#}"
    );
}

/// The targets' `up` tails that decide L4 (`coverage::uptail::read`) agree
/// with `promtool tsdb dump` of the same blocks (the snapshot's head block
/// and a compacted one, both written by Prometheus 2.42): per
/// `job`/`instance`, the newest 8 `up` timestamps and the count of series
/// carrying that `job` and `instance`.
#[test]
fn up_tails_agree_with_promtool() {
    if !crate::util::promtool_available("up_tails_agree_with_promtool") {
        return;
    }
    let snap = testdata(WITH_HEAD);
    let label = regex::Regex::new(r#"(\w+)="((?:[^"\\]|\\.)*)""#).unwrap();
    for ulid in ["01M88ZMVFVAB1KCQ879EMPTBEN", "01M88ZHZPXFRQK5144XJKD707B"] {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("db");
        copy_dir(&snap.join(ulid), &db.join(ulid));
        // promtool opens the copy as a data dir: an empty WAL.
        std::fs::create_dir_all(db.join("wal")).unwrap();
        let dump = crate::util::promtool_tsdb_dump(&db);
        // Per (job, instance): every `up` timestamp, and the distinct series.
        type Key = (Option<String>, Option<String>);
        let mut up: std::collections::BTreeMap<Key, Vec<i64>> = Default::default();
        let mut series: std::collections::BTreeMap<Key, std::collections::BTreeSet<&str>> =
            Default::default();
        for line in dump.lines() {
            let Some((labels, rest)) = line.rsplit_once("} ") else {
                continue;
            };
            let get = |n: &str| {
                label
                    .captures_iter(labels)
                    .find(|c| &c[1] == n)
                    .map(|c| c[2].to_string())
            };
            let key = (get("job"), get("instance"));
            let t: i64 = rest.split(' ').nth(1).unwrap().parse().unwrap();
            if get("__name__").as_deref() == Some("up") {
                up.entry(key.clone()).or_default().push(t);
            }
            series.entry(key).or_default().insert(labels);
        }
        let tails = promsnap::coverage::uptail::read(&db.join(ulid)).expect("up tails");
        assert_eq!(tails.len(), up.len(), "{ulid}: targets");
        for t in &tails {
            let key = (t.job.clone(), t.instance.clone());
            let mut want = up[&key].clone();
            want.sort_unstable();
            want.dedup();
            let want = &want[want.len().saturating_sub(8)..];
            assert_eq!(t.times, want, "{ulid} {}", t.name());
            assert_eq!(t.series, series[&key].len() as u64, "{ulid} {}", t.name());
            assert!(t.series > 1 && t.times.len() == 8, "{ulid}: {t:?}");
        }
    }
}

/// Damaged head blocks give the up tails no panic: every byte of the
/// `up` chunks' region flipped in turn leaves each target either as read
/// from the good block or without times (its chunk unreadable: the old
/// bound); a truncated index gives none.
#[test]
fn up_tails_of_a_damaged_block() {
    let good = testdata(WITH_HEAD).join("01M88ZMVFVAB1KCQ879EMPTBEN");
    let want = promsnap::coverage::uptail::read(&good).expect("tails");
    let tmp = tempfile::tempdir().unwrap();
    let b = tmp.path().join("b");
    copy_dir(&good, &b);
    let seg = b.join("chunks").join("000001");
    let bytes = std::fs::read(&seg).unwrap();
    for at in (8..bytes.len()).step_by(bytes.len() / 97 + 1) {
        let mut bad = bytes.clone();
        bad[at] ^= 0x5a;
        std::fs::write(&seg, &bad).unwrap();
        for t in promsnap::coverage::uptail::read(&b).expect("tails") {
            let w = want.iter().find(|w| w.name() == t.name()).unwrap();
            assert!(t.times == w.times || t.times.is_empty(), "{at}: {t:?}");
        }
    }
    std::fs::write(&seg, &bytes).unwrap();
    let index = std::fs::read(b.join("index")).unwrap();
    std::fs::write(b.join("index"), &index[..index.len() / 2]).unwrap();
    assert!(promsnap::coverage::uptail::read(&b).is_none());
}
