//! `promsnap ls` against `promtool tsdb list` on real data.

use crate::util::{promsnap, testdata};

/// Our table starts with promtool's eight columns, aligned the same way; for
/// every block both list, our line must begin with promtool's line and
/// continue with only our extra columns (LEVEL, NOTE).
fn check_against(dir: &str, oracle: &str, extra_args: &[&str]) -> String {
    let path = testdata(dir);
    let mut args = vec!["ls", path.to_str().unwrap()];
    args.extend_from_slice(extra_args);
    let out = promsnap(&args);
    assert!(
        out.status.success(),
        "ls failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = String::from_utf8(out.stdout).unwrap();
    let oracle = std::fs::read_to_string(testdata(oracle)).unwrap();
    let ours_lines: Vec<&str> = ours.lines().collect();
    let mut checked = 0;
    for o in oracle.lines().filter(|l| !l.starts_with("exit=")) {
        let key = o.split_whitespace().next().unwrap();
        let Some(line) = ours_lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(key))
        else {
            continue;
        };
        // Same first line shape for the header ("BLOCK ULID ...").
        assert!(
            line.starts_with(o),
            "{dir}: our line\n  {line}\ndoes not start with promtool's\n  {o}"
        );
        checked += 1;
    }
    assert!(checked >= 2, "{dir}: only {checked} lines compared");
    ours
}

#[test]
fn backfill_block_matches_promtool_list() {
    check_against(
        "backfill-small/blocks",
        "backfill-small/oracle/list.txt",
        &[],
    );
}

#[test]
fn live_data_dir_matches_promtool_list() {
    let ours = check_against("prom-2.42-live/data", "prom-2.42-live/oracle/list.txt", &[]);
    assert_eq!(ours.lines().count(), 4);
    assert!(!ours.contains("snapshot head block"), "{ours}");
}

#[test]
fn live_snapshot_with_head_marks_head_block() {
    let snap = "20261125T091234Z-788eafc011a10c98";
    let ours = check_against(
        &format!("prom-2.42-live/data/snapshots/{snap}"),
        &format!("prom-2.42-live/oracle/list-snapshot-{snap}.txt"),
        &[],
    );
    let head: Vec<&str> = ours
        .lines()
        .filter(|l| l.contains("snapshot head block"))
        .collect();
    assert_eq!(head.len(), 1, "{ours}");
    assert!(head[0].starts_with("01M88ZMVFVAB1KCQ879EMPTBEN"), "{ours}");
}

#[test]
fn live_snapshot_skip_head_has_no_head_block() {
    let snap = "20261125T091235Z-7531d0e39246db15";
    let ours = check_against(
        &format!("prom-2.42-live/data/snapshots/{snap}"),
        &format!("prom-2.42-live/oracle/list-snapshot-{snap}.txt"),
        &[],
    );
    assert!(!ours.contains("snapshot head block"), "{ours}");
}

#[test]
fn nativehist_snapshot_human_readable_matches_promtool_list_r() {
    let snap = "20261125T095910Z-571c9d7c71851497";
    let ours = check_against(
        &format!("prom-2.42-nativehist/data/snapshots/{snap}"),
        &format!("prom-2.42-nativehist/oracle/snapshot_{snap}/list_r.txt"),
        &["-r"],
    );
    assert!(ours.contains("snapshot head block"));
    check_against(
        &format!("prom-2.42-nativehist/data/snapshots/{snap}"),
        &format!("prom-2.42-nativehist/oracle/snapshot_{snap}/list.txt"),
        &[],
    );
}

#[test]
fn json_output_is_one_document() {
    let path = testdata("prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98");
    let out = promsnap(&["ls", path.to_str().unwrap(), "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "snapshot");
    assert_eq!(v["snapshot_time"], 1_795_597_954_000i64);
    assert_eq!(v["block_range"], 120_000);
    let blocks = v["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 4);
    assert_eq!(blocks[3]["snapshot_head"], true);
    assert_eq!(blocks[0]["level"], 2);
}

#[test]
fn one_unreadable_block_is_reported_and_the_rest_listed() {
    let tmp = tempfile::tempdir().unwrap();
    crate::util::copy_dir(
        &testdata("prom-2.42-live/data/snapshots/20261125T091235Z-7531d0e39246db15"),
        tmp.path(),
    );
    std::fs::write(
        tmp.path().join("01M88ZEAF15198PYN7F74NS04J/meta.json"),
        b"{garbage",
    )
    .unwrap();
    let out = promsnap(&["ls", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.contains("01M88ZHZPXFRQK5144XJKD707B  1795597432510"),
        "{s}"
    );
    assert!(
        s.contains("01M88ZHZN1XRWVWM1RH4GVHSAJ  1795597680123"),
        "{s}"
    );
    assert!(
        s.contains("01M88ZEAF15198PYN7F74NS04J") && s.contains("UNREADABLE"),
        "{s}"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("meta.json"), "{err}");
}

#[test]
fn block_without_index_is_unreadable_as_promtool_fails_it() {
    // Thanos ships meta-only block fixtures: promtool cannot open them.
    let tmp = tempfile::tempdir().unwrap();
    let b = tmp.path().join("01M88Z547SWC2057Y39068VCCB");
    crate::util::copy_dir(
        &crate::util::testdata("backfill-small/blocks/01M88Z547SWC2057Y39068VCCB"),
        &b,
    );
    std::fs::remove_file(b.join("index")).unwrap();
    let out = crate::util::promsnap(&["ls", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("UNREADABLE: index missing"), "{s}");
}

#[test]
fn every_command_help_has_a_runnable_example_and_completions_and_man_work() {
    // Each command's --help ends with an example; the examples that use the
    // committed data run from the repository root and end with 0 or 1 (never a
    // usage error).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = env!("CARGO_BIN_EXE_promsnap");
    let cmds = [
        "ls",
        "dump",
        "copy",
        "seed",
        "coverage",
        "gaps",
        "fill",
        "verify",
        "wal",
        "analyze",
        "completions",
        "man",
    ];
    let mut ran = 0;
    for c in cmds {
        let out = std::process::Command::new(bin)
            .args([c, "--help"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{c} --help");
        let help = String::from_utf8(out.stdout).unwrap();
        let ex = help
            .split_once("\nExample")
            .unwrap_or_else(|| panic!("{c} --help has no example:\n{help}"))
            .1;
        for line in ex.lines().filter(|l| l.starts_with("  promsnap ")) {
            if !line.contains("testdata/") || line.contains("/tmp/") {
                continue;
            }
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(line.trim().replacen("promsnap", bin, 1))
                .current_dir(root)
                .output()
                .unwrap();
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{line}: {:?}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!out.stdout.is_empty(), "{line}");
            ran += 1;
        }
    }
    assert!(ran >= 8, "{ran} examples ran");
    for shell in ["bash", "zsh", "fish"] {
        let out = std::process::Command::new(bin)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        let s = String::from_utf8(out.stdout).unwrap();
        // The script knows the subcommands.
        assert!(s.contains("verify") && s.contains("coverage"), "{shell}");
    }
    let out = std::process::Command::new(bin).arg("man").output().unwrap();
    assert!(out.status.success());
    let man = String::from_utf8(out.stdout).unwrap();
    assert!(
        man.contains(".TH promsnap 1") && man.contains("verify"),
        "{man}"
    );
    // A bad shell is a usage error.
    let out = std::process::Command::new(bin)
        .args(["completions", "cmd.exe"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `ls --human`: the times as every other human output writes them (RFC 3339
/// UTC with ms), the same rows as the promtool-identical default otherwise.
#[test]
fn human_mode_writes_rfc3339_times() {
    let path = testdata("prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98");
    let p = path.to_str().unwrap();
    let out = promsnap(&["ls", p, "--human"]);
    assert!(out.status.success());
    let human = String::from_utf8(out.stdout).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&promsnap(&["ls", p, "--json"]).stdout).unwrap();
    let blocks = json["blocks"].as_array().unwrap();
    assert_eq!(human.lines().count(), blocks.len() + 1, "{human}");
    for b in blocks {
        let (min, max) = (
            b["min_time"].as_i64().unwrap(),
            b["max_time"].as_i64().unwrap(),
        );
        let line = human
            .lines()
            .find(|l| l.starts_with(b["ulid"].as_str().unwrap()))
            .unwrap();
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cols[1], promsnap::vocab::time(min), "{line}");
        assert_eq!(cols[2], promsnap::vocab::time(max), "{line}");
        assert!(cols[1].ends_with('Z') && cols[1].contains('T'), "{line}");
        // Sizes as every other human output writes them (`263.1 KiB`).
        let size = promsnap::vocab::size(b["size"].as_u64().unwrap());
        assert!(line.contains(&format!("  {size}  ")), "{line}");
    }
    // -r and --human are two different formats: not both.
    assert_eq!(promsnap(&["ls", p, "--human", "-r"]).status.code(), Some(2));
}
