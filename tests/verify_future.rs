//! A meta.json whose maxTime lies far after the block was made (one flipped
//! bit in its digits): `verify` names it, `copy` refuses that block and not
//! the good ones, and the real Prometheus 2.42, opened on such a directory,
//! deletes the good blocks by time retention counted from the bad maxTime —
//! the reason it is an error and not a curiosity.

use std::path::Path;
use std::time::Duration;

use crate::realserver::{NO_SCRAPE, Server, tools_available};
use crate::util::{copy_dir, promsnap, testdata};
use crate::verify::{expect, verify_json};

/// The live fixture's block that starts last (the head's `minValidTime`
/// comes from it).
const LAST: &str = "01M88ZHZN1XRWVWM1RH4GVHSAJ";

/// A copy of the stopped live data dir, `LAST`'s maxTime with one bit
/// flipped in its first digit ('1' → '9': the year 2280).
fn flipped_data_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    copy_dir(&testdata("prom-2.42-live/data"), &dir);
    std::fs::remove_dir_all(dir.join("snapshots")).unwrap();
    let meta = dir.join(LAST).join("meta.json");
    let text = std::fs::read_to_string(&meta).unwrap();
    let at = text.find("\"maxTime\": 1").unwrap() + "\"maxTime\": ".len();
    let mut bytes = text.into_bytes();
    assert_eq!(bytes[at], b'1');
    bytes[at] ^= 0x08;
    std::fs::write(&meta, bytes).unwrap();
    (tmp, dir)
}

fn block_dirs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("meta.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_max_time_after_the_block_was_made_is_an_error_and_copy_refuses_only_that_block() {
    let (tmp, dir) = flipped_data_copy();
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1, "an error finding");
    let f = expect(
        &v,
        "meta_time_range_future",
        "error",
        &format!("{LAST}/meta.json"),
        None,
    );
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains("2280-") && msg.contains("2026-11-25T"),
        "{msg}"
    );
    // The untouched fixture has none.
    let (_, clean) = verify_json(&testdata("prom-2.42-live/data"), &[]);
    assert!(
        !clean.to_string().contains("meta_time_range_future"),
        "{clean}"
    );

    let target = tmp.path().join("replica");
    let out = promsnap(&[
        "copy",
        "--json",
        dir.to_str().unwrap(),
        target.to_str().unwrap(),
    ]);
    let c: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    assert_eq!(out.status.code(), Some(1), "{c}");
    let copied = block_dirs(&target);
    assert!(!copied.contains(&LAST.to_string()), "{copied:?}");
    assert_eq!(
        copied,
        block_dirs(&dir)
            .into_iter()
            .filter(|b| b != LAST)
            .collect::<Vec<_>>(),
        "the good blocks are copied, not refused by a retention counted from the bad maxTime: {c}"
    );
}

#[test]
fn prometheus_deletes_the_other_blocks_when_a_max_time_lies_in_the_future() {
    if !tools_available("a maxTime in the future") {
        return;
    }
    let (tmp, dir) = flipped_data_copy();
    let before = block_dirs(&dir);
    assert_eq!(before.len(), 3, "{before:?}");
    // Retention 1d (the harness's flag): every real block ends centuries
    // before the flipped maxTime.
    let mut srv = Server::launch("future", tmp.path(), NO_SCRAPE, &dir, &[]);
    srv.stop(Duration::from_secs(30));
    let after = block_dirs(&dir);
    assert_eq!(
        after,
        vec![LAST.to_string()],
        "Prometheus kept only the block with the flipped maxTime"
    );
}
