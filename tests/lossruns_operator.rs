//! The inputs as an operator has them at the console (issue 14): times
//! copied from `date` or a log line to the second, a `wal/` copied from the
//! running master (its newest segment cut mid-record), and the slave's
//! process start given for its ready time, a master restart given as its
//! ready time. Each rewrites the judge's arguments of one run;
//! `lossruns_inputs.rs` asks and judges them.

use std::path::{Path, PathBuf};

use crate::lossmatrix::RunRecord;
use crate::util::promsnap;

/// The flags that take one time.
const TIME_FLAGS: &[&str] = &[
    "--observed-at",
    "--slave-up",
    "--rw-start",
    "--master-restart",
    "--slave-received-until",
    "--rejects-until",
    "--master-log-at",
    "--slave-log-at",
];

/// `ms` floored to its second, as `date -u +%FT%TZ` prints it.
pub(crate) fn to_the_second(ms: i64) -> String {
    promsnap::gofmt::rfc3339_ms(ms.div_euclid(1_000) * 1_000).replace(".000Z", "Z")
}

/// Every time the arguments give, floored to the second and written in RFC
/// 3339 without a fraction (`--slave-restart`'s two as well); the times
/// found, to count them.
pub(crate) fn second_precision(args: &mut [String]) -> usize {
    let mut n = 0;
    for i in 1..args.len() {
        let flag = args[i - 1].as_str();
        if TIME_FLAGS.contains(&flag) {
            if let Ok(ms) = args[i].parse::<i64>() {
                args[i] = to_the_second(ms);
                n += 1;
            }
        } else if flag == "--slave-restart" {
            let parts: Option<Vec<i64>> = args[i].split(',').map(|p| p.parse().ok()).collect();
            if let Some(p) = parts {
                n += p.len();
                args[i] = p
                    .into_iter()
                    .map(to_the_second)
                    .collect::<Vec<_>>()
                    .join(",");
            }
        }
    }
    n
}

/// The fragments of a WAL segment (each record's pieces, 2.42's framing: a
/// 7-byte header — type, length u16 BE, CRC32 — in 32 KiB pages, type 0
/// the page's zero padding): `(offset, payload length)`.
fn fragments(b: &[u8]) -> Vec<(usize, usize)> {
    const PAGE: usize = 32 * 1024;
    let mut out = Vec::new();
    let mut at = 0;
    while at + 7 <= b.len() {
        let typ = b[at] & 0x7;
        if typ == 0 {
            // Padding: on to the next page.
            at = (at / PAGE + 1) * PAGE;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([b[at + 1], b[at + 2]]));
        if at + 7 + len > b.len() {
            break;
        }
        out.push((at, len));
        at += 7 + len;
    }
    out
}

/// The newest segment of the `wal/` copy at `wal` that holds a record, cut
/// mid-record: at the
/// middle of the payload of the last fragment (of two bytes or more)
/// starting by three fifths of its records' bytes (never on a record's
/// boundary, never in padding). The
/// segment's name and the cut, `None` when it has no record.
pub(crate) fn tear_newest_segment(wal: &Path) -> Option<(PathBuf, usize)> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(wal)
        .ok()?
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.len() == 8 && n.bytes().all(|c| c.is_ascii_digit()))
        })
        .map(|e| e.path())
        .collect();
    names.sort();
    // The newest segment holding a record (a segment just opened holds
    // none: the copy then cuts the one before it short).
    let (newest, frags) = names.into_iter().rev().find_map(|p| {
        let f = fragments(&std::fs::read(&p).ok()?);
        (!f.is_empty()).then_some((p, f))
    })?;
    let (last, last_len) = *frags.last()?;
    let end = last + 7 + last_len;
    let target = end * 3 / 5;
    let mut whole = frags.iter().filter(|(_, len)| *len >= 2);
    let &(at, len) = whole
        .clone()
        .rev()
        .find(|(at, _)| *at <= target)
        .or_else(|| whole.next())?;
    let cut = at + 7 + (len / 2).max(1);
    let f = std::fs::File::options().write(true).open(&newest).ok()?;
    f.set_len(cut as u64).ok()?;
    Some((newest, cut))
}

/// The `--master` copy of the arguments, with its newest segment torn.
pub(crate) fn torn_wal(args: &[String]) -> Option<(PathBuf, usize)> {
    let i = args.iter().position(|a| a == "--master")?;
    let dir = PathBuf::from(args.get(i + 1)?);
    let wal = if dir.join("wal").is_dir() {
        dir.join("wal")
    } else {
        dir
    };
    tear_newest_segment(&wal)
}

/// The windows of `whole` (any certainty, to their far end) that `torn`
/// does not hold within one scrape interval at either end: what the torn
/// copy's answer would leave out.
pub(crate) fn torn_drops(
    whole: &serde_json::Value,
    torn: &serde_json::Value,
    scrape: i64,
) -> Vec<String> {
    let ends = |v: &serde_json::Value| -> Vec<(String, i64, i64)> {
        v["loss_windows"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|w| {
                let to = w["to"].as_i64()?;
                Some((
                    w["cause"].as_str().unwrap_or("").to_string(),
                    w["from"].as_i64()?,
                    to.max(w["bound_to"].as_i64().unwrap_or(i64::MIN)),
                ))
            })
            .collect()
    };
    let kept = ends(torn);
    let c = whole["coverage_end"].as_i64().unwrap_or(0);
    ends(whole)
        .into_iter()
        .filter(|(_, a, b)| {
            !kept
                .iter()
                .any(|(_, x, y)| *x <= a + scrape && *y + scrape >= *b)
        })
        .map(|(cause, a, b)| {
            format!(
                "{cause} [{:+.1}, {:+.1} s] of the whole copy held by no window of the torn one",
                (a - c) as f64 / 1e3,
                (b - c) as f64 / 1e3
            )
        })
        .collect()
}

/// Each `--master-restart` given as that restart's ready time; `None` for
/// a run without a master restart.
pub(crate) fn restart_at_ready(args: &mut [String], rec: &RunRecord) -> Option<()> {
    if rec.restarts.is_empty() {
        return None;
    }
    let at: Vec<usize> = (0..args.len())
        .filter(|&i| args[i] == "--master-restart")
        .collect();
    for (i, r) in at.into_iter().zip(&rec.restarts) {
        args[i + 1] = r.ready.to_string();
    }
    Some(())
}

/// `coverage --json` on one run as the judge asks it (the whole `wal/` copy).
pub(crate) fn whole_answer(ev: &Path, rec: &RunRecord) -> serde_json::Value {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = super::super::coverage_args(ev, rec, tmp.path());
    args.push("--json".into());
    let argv: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    serde_json::from_slice(&crate::util::promsnap(&argv).stdout).unwrap_or(serde_json::Value::Null)
}

/// `--rw-start` moved into the second that holds the coverage end, written
/// to the second (a queue started late, its start noted as the snapshot's
/// second): `None` for a queue on since the master's start, or a coverage
/// end on the second's last millisecond (nothing of the second after it).
pub(crate) fn rw_start_in_coverage_second(args: &mut Vec<String>, rec: &RunRecord) -> Option<()> {
    if !rec.rw_late {
        return None;
    }
    let mut a = args.clone();
    a.push("--json".into());
    let argv: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
    let main: serde_json::Value = serde_json::from_slice(&promsnap(&argv).stdout).ok()?;
    let c = main["coverage_end"].as_i64()?;
    if c.rem_euclid(1_000) == 999 {
        return None;
    }
    super::set(args, "--rw-start", Some(to_the_second(c)));
    Some(())
}

/// The failures of a `--rw-start` whose second straddles the coverage end
/// `c`: no L1 window from the first scrape after `c` (within one scrape
/// interval) to the second's end.
pub(crate) fn straddle_failures(
    rec: &RunRecord,
    predicted: &[super::super::Win],
    c: i64,
) -> Vec<String> {
    let end = c.div_euclid(1_000) * 1_000 + 999;
    let held = predicted
        .iter()
        .any(|w| w.cause == "L1" && w.from <= c + rec.scrape_interval_ms && w.to >= end);
    if held {
        return Vec::new();
    }
    vec![format!(
        "{} RwStartInCoverageSecond: no L1 window from the coverage end to its second's end \
         ({:+.3} s)",
        rec.run,
        (end - c) as f64 / 1e3
    )]
}

/// A resharded catch-up's risk window (only the master's log decides it)
/// that reaches past every expected window must lead the verdict with
/// both paths ("Loss either … or up to …") and give `loss_either`.
pub(crate) fn either_missing(
    cov: &serde_json::Value,
    predicted: &[super::super::Win],
) -> Option<String> {
    let c = cov["coverage_end"].as_i64()?;
    let verdict = cov["verdict"].as_str()?;
    let expected_end = predicted
        .iter()
        .filter(|w| w.certainty == "expected")
        .map(|w| w.to)
        .max()
        .unwrap_or(c)
        .max(c);
    let past = predicted
        .iter()
        .any(|w| w.reshard_risk && w.to > expected_end + 1);
    (past && (!verdict.contains("Loss either") || cov["loss_either"].is_null())).then(|| {
        format!("a reshard risk past the expected windows, but the verdict leads '{verdict:.80}'")
    })
}
