//! With `--json`, a command that fails with exit 2 (usage or I/O) still
//! prints one JSON document on stdout, `{"error":{"kind","message"}}`, and
//! the human message on stderr — for every command, clap's own refusals
//! included.

use std::process::Command;

use crate::util::{promsnap, testdata};

/// Runs `args`, asserts exit 2, ONE error document of `kind` on stdout
/// whose message is what stderr says, and returns the message.
fn json_error(args: &[&str], kind: &str) -> String {
    let out = promsnap(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: stdout is not one JSON document ({e}): {:?}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert_eq!(doc["error"]["kind"], kind, "{args:?}: {doc}");
    let message = doc["error"]["message"].as_str().unwrap().to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = message.lines().next().unwrap();
    assert!(
        !first.is_empty() && stderr.contains(first),
        "{args:?}: stderr {stderr:?} lacks {first:?}"
    );
    message
}

#[test]
fn json_error_document_for_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let t = |n: &str| tmp.path().join(n).to_str().unwrap().to_string();
    let data = testdata("prom-2.42-live/data");
    let data = data.to_str().unwrap();
    let inside = format!("{data}/inside");
    let missing = t("missing");
    let empty = t("empty");
    let (snap, out) = (t("snap"), t("out"));
    std::fs::create_dir(&empty).unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["ls", "--json", &missing], "io"),
        (vec!["dump", "--json", &missing], "io"),
        (
            vec!["dump", "--json", "--min-time", "5", "--max-time", "1", data],
            "usage",
        ),
        (vec!["copy", "--json", &missing, &empty], "io"),
        (vec!["copy", "--json", data, &inside], "usage"),
        (
            vec!["seed", "--json", "--from", "notaurl", "--to", &empty],
            "usage",
        ),
        (vec!["snapshot", "--json", &missing, &snap], "io"),
        (vec!["snapshot", "--json", data, &inside], "usage"),
        (vec!["coverage", "--json", &missing], "io"),
        (vec!["gaps", "--json", &missing], "io"),
        (vec!["gaps", "--json", "--interval", "bogus", data], "usage"),
        (vec!["fill", "--json", &empty, "--from", &missing], "io"),
        (vec!["fill", "--json", data, "--from", data], "usage"),
        (vec!["salvage", "--json", &missing, &out], "io"),
        (vec!["wal", "--json", &missing], "io"),
        (vec!["wal", "--json", &empty], "usage"),
        (vec!["analyze", "--json", &missing], "io"),
        (vec!["analyze", "--json", data, "NOSUCHBLOCK"], "usage"),
    ];
    for (args, kind) in &cases {
        json_error(args, kind);
    }
    // Nothing was written by any of them.
    assert!(!std::path::Path::new(&inside).exists());
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
}

#[test]
fn json_error_document_for_clap_refusals() {
    let data = testdata("prom-2.42-live/data");
    let data = data.to_str().unwrap();
    for cmd in [
        "ls", "dump", "copy", "seed", "snapshot", "coverage", "gaps", "fill", "salvage", "verify",
        "wal", "analyze",
    ] {
        let m = json_error(&[cmd, "--json", "--no-such-flag", data], "usage");
        assert!(m.contains("--no-such-flag"), "{cmd}: {m}");
    }
    // A bad value, a missing argument, a command without --json.
    json_error(&["verify", "--json", "--jobs", "0", data], "usage");
    json_error(
        &["coverage", "--json", data, "--observed-at", "yesterday"],
        "usage",
    );
    json_error(&["salvage", "--json", data], "usage");
    json_error(&["man", "--json"], "usage");
    // Without --json: nothing on stdout; --help with --json is the help, exit 0.
    let out = promsnap(&["ls", "--no-such-flag", data]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let out = promsnap(&["ls", "--help", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage"));
}

#[test]
fn json_error_seed_connection_refused_is_io() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let to = tmp.path().join("to");
    json_error(
        &[
            "seed",
            "--json",
            "--from",
            &url,
            "--to",
            to.to_str().unwrap(),
        ],
        "io",
    );
}

/// `verify --json` of an unreadable path prints its own report (the finding
/// names the path), not a second document.
#[test]
fn json_error_verify_prints_its_report_once() {
    let out = promsnap(&["verify", "--json", "/nonexistent/promsnap-test"]);
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["findings"][0]["code"], "path_unreadable");
}

/// `dump | head`: the reader closing the pipe is not a failure (exit 0, no
/// message), with or without --json.
#[test]
fn dump_into_a_closed_pipe_exits_0() {
    let data = testdata("prom-2.42-live/data");
    for json in [false, true] {
        let mut cmd = format!(
            "'{}' dump {} '{}' | head -c 10 >/dev/null; exit ${{PIPESTATUS[0]}}",
            env!("CARGO_BIN_EXE_promsnap"),
            if json { "--json" } else { "" },
            data.display()
        );
        cmd.insert_str(0, "set -o pipefail; ");
        let out = Command::new("bash").arg("-c").arg(&cmd).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{cmd}");
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
