//! The project's vocabulary, below the commands: how a time, a time range,
//! a byte size and a label set read for a human, how a duration is written,
//! the calendar arithmetic behind them, the block range (the grid blocks
//! are cut on) inferred from block boundaries, and what a snapshot without
//! a block is.
//! Commands and the policy layer (`check`, `copy`, `coverage`) both stand on
//! this module instead of borrowing one another's formatting.
//!
//! Human output has one time format: RFC 3339 in UTC with milliseconds
//! ([`time`]), and a range adds its duration ([`range`]). JSON keeps Unix
//! milliseconds. Go's own formats, for output equal to promtool's, live in
//! [`crate::gofmt`].

use crate::format::meta::BlockMeta;
use crate::gofmt;

/// A time for a human: RFC 3339 UTC with milliseconds,
/// `2026-11-25T09:47:26.091Z`.
pub fn time(ms: i64) -> String {
    gofmt::rfc3339_ms(ms)
}

/// A duration for a human, as Go prints one: `2m7.49s`, `1h0m0s`, `500ms`.
pub fn duration(ms: i64) -> String {
    gofmt::duration_ms(ms)
}

/// A time range `[from, to)` for a human: both ends as [`time`], then the
/// duration, `2026-11-25T09:00:00.000Z..2026-11-25T11:00:00.000Z (2h0m0s)`.
pub fn range(from: i64, to: i64) -> String {
    format!(
        "{}..{} ({})",
        time(from),
        time(to),
        duration(to.saturating_sub(from))
    )
}

/// A byte size for a human, in powers of 1024: `812 B`, `227.5 KiB`,
/// `195.6 MiB`, `1.2 GiB`. (Go's `units.Base2Bytes` spelling, which promtool
/// prints, is [`gofmt::base2_bytes`].)
pub fn size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    match UNITS.get(u) {
        Some(unit) if u > 0 => format!("{v:.1} {unit}"),
        _ => format!("{n} B"),
    }
}

/// `{name="value", ...}` as Go's `labels.Labels.String()`.
pub fn format_labels(out: &mut String, labels: &[(&[u8], &[u8])]) {
    out.push('{');
    for (i, (n, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&String::from_utf8_lossy(n));
        out.push('=');
        gofmt::quote(out, v);
    }
    out.push('}');
}

/// A duration as Prometheus writes one (`2h`, `1h30m`, `90s`, `1m`,
/// `500ms`, `1d`, `1w`, `1y`: units summed, each after its number) in ms;
/// `None` for anything else, a bare number included, and on overflow.
pub fn parse_duration(s: &str) -> Option<i64> {
    const UNITS: [(&str, i64); 7] = [
        ("ms", 1),
        ("s", 1_000),
        ("m", 60_000),
        ("h", 3_600_000),
        ("d", 86_400_000),
        ("w", 604_800_000),
        ("y", 31_536_000_000),
    ];
    if s.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        let v: i64 = rest.get(..n)?.parse().ok()?;
        rest = rest.get(n..)?;
        let (unit, mult) = UNITS.into_iter().find(|(u, _)| rest.starts_with(u))?;
        rest = rest.get(unit.len()..)?;
        total = total.checked_add(v.checked_mul(mult)?)?;
    }
    Some(total)
}

/// Milliseconds since the epoch of an RFC 3339 time
/// (`2006-01-02T15:04:05.000Z07:00`, as Prometheus logs its `ts`): any
/// fraction (cut to milliseconds), `Z` or an offset; None for anything else.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || !s.is_ascii() {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = s.get(19..)?;
    let mut ms = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        for (k, c) in frac.bytes().take(3).enumerate() {
            if k < n {
                ms += i64::from(c - b'0') * [100, 10, 1][k];
            }
        }
        rest = frac.get(n..)?;
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes().get(3) != Some(&b':') {
                return None;
            }
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (oh * 60 + om)
        }
    };
    let days = days_from_civil(y, mo, d);
    Some(((days * 86400 + h * 3600 + mi * 60 + sec) - offset_min * 60) * 1000 + ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Proleptic Gregorian (year, month, day) of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

// Snapshots.

/// A snapshot directory with no block, and what seeding a replica from it
/// gives: the one sentence `verify`'s `snapshot_empty` finding and
/// `coverage`'s warning both say.
pub const EMPTY_SNAPSHOT: &str = concat!(
    "the snapshot holds no block (taken with skip_head=true before the master cut its first ",
    "block, or the master had none): Prometheus starts on it, but a replica seeded from it ",
    "starts empty and holds only what remote write sends it"
);

// Block ranges.

/// Default block range (head chunk range): 2 h.
pub const DEFAULT_BLOCK_RANGE_MS: i64 = 7_200_000;

/// Block ranges Prometheus setups commonly use, smallest first; used to infer
/// the grid from block boundaries.
const COMMON_RANGES_MS: &[i64] = &[
    60_000, 90_000, 120_000, 180_000, 240_000, 300_000, 360_000, 600_000, 900_000, 1_800_000,
    3_600_000, 7_200_000,
];

/// Every range above ends on this grid; a block ending off it was not cut
/// from a head.
const GRID_UNIT_MS: i64 = 30_000;

/// Greatest common divisor.
fn gcd(a: i64, b: i64) -> i64 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a as i64
}

/// Infers the block range (the head's 2 h grid, or a shorter one set with
/// `--storage.tsdb.min-block-duration`) from block boundaries.
///
/// Every block but the newest (which may be a snapshot head block) and
/// those ending off the 30-second grid (written by `fill` or a backfill) is
/// used:
/// the range must divide the greatest common divisor of their maxTimes and be
/// at least as long as every level-1 block among them. Falls back to 2 h.
///
/// Where several ranges fit (one block `[10:22:12, 10:24:00)` fits 2, 3, 4,
/// 6 … minutes), the level-1 blocks' ULID times decide: 2.42 cuts a block
/// from the head at the first commit after the head spans more than 1.5
/// ranges past the block's minTime (`Head.compactable`, triggered by
/// `dbAppender.Commit`), and the ULID holds when. The smallest range whose
/// cut a block's ULID shows on time (within a quarter range and 10 s after it)
/// is taken;
/// with no such block, the smallest range that fits (the most truncations:
/// never fewer than the master made).
pub fn infer_block_range(metas: &[&BlockMeta]) -> i64 {
    infer_block_range_from(metas).unwrap_or(DEFAULT_BLOCK_RANGE_MS)
}

/// [`infer_block_range`], `None` where it falls back to the default.
///
/// With no block but the newest to go by (a `skip_head` snapshot between
/// the master's first and second block), the newest is read alone when
/// its ULID shows it cut from a head on time for a range it fits: level 1,
/// ending on the 30-second grid and on that range's grid, no longer than
/// it. A snapshot's head block ends one millisecond past a sample, off
/// that grid but by chance, and is made at the snapshot, not 1.5 ranges
/// after its minTime.
pub fn infer_block_range_from(metas: &[&BlockMeta]) -> Option<i64> {
    let newest = metas.iter().map(|m| m.max_time).max();
    // Blocks ending off every grid (written by `fill`, a backfill, a
    // snapshot's head) say nothing about the grid: left out, so that one
    // of them does not turn the inference into the 2 h default.
    let older: Vec<&&BlockMeta> = metas
        .iter()
        .filter(|m| Some(m.max_time) != newest)
        .filter(|m| m.max_time.rem_euclid(GRID_UNIT_MS) == 0)
        .collect();
    if older.is_empty() {
        return alone(metas);
    }
    let g = older.iter().fold(0, |g, m| gcd(g, m.max_time));
    let level1 = || older.iter().filter(|m| m.compaction.level == 1);
    let longest_l1 = level1()
        .map(|m| m.max_time.saturating_sub(m.min_time))
        .max()
        .unwrap_or(0);
    let fits: Vec<i64> = COMMON_RANGES_MS
        .iter()
        .copied()
        .filter(|&r| g % r == 0 && r >= longest_l1)
        .collect();
    let on_time = |r: i64| level1().any(|m| cut_on_time(m, r));
    fits.iter()
        .copied()
        .find(|&r| on_time(r))
        .or_else(|| fits.first().copied())
}

/// A block's cut on time for range `r`: its ULID time within
/// `[minTime + 1.5 r, minTime + 1.75 r + 10 s]` (the next scrape's commit,
/// a scrape interval up to a quarter range; the windows of the ranges
/// listed do not overlap).
fn cut_on_time(m: &BlockMeta, r: i64) -> bool {
    let cut = crate::format::meta::ulid_time(&m.ulid)
        .and_then(|t| i64::try_from(t).ok())
        .map(|t| t.saturating_sub(m.min_time));
    cut.is_some_and(|d| d >= r / 2 * 3 && d <= r / 4 * 7 + 10_000)
}

/// The range of the newest block read alone ([`infer_block_range_from`]).
fn alone(metas: &[&BlockMeta]) -> Option<i64> {
    let m = metas.iter().max_by_key(|m| m.max_time)?;
    if m.compaction.level != 1 || m.max_time.rem_euclid(GRID_UNIT_MS) != 0 {
        return None;
    }
    let span = m.max_time.saturating_sub(m.min_time);
    COMMON_RANGES_MS
        .iter()
        .copied()
        .filter(|&r| m.max_time.rem_euclid(r) == 0 && r >= span)
        .find(|&r| cut_on_time(m, r))
}

/// Index of the snapshot head block among `metas`: the block with the greatest
/// maxTime when it is level 1, its own only source, and ends off the grid —
/// and either the directory is a snapshot, or every other level-1 block ends
/// on the grid (so backfilled blocks, which all end off-grid, are not taken
/// for one).
pub fn head_block_index(metas: &[&BlockMeta], range: i64, in_snapshot: bool) -> Option<usize> {
    let (i, newest) = metas.iter().enumerate().max_by_key(|(_, m)| m.max_time)?;
    if !newest.is_snapshot_head_block(range) {
        return None;
    }
    let others_on_grid = metas
        .iter()
        .enumerate()
        .all(|(j, m)| j == i || m.compaction.level != 1 || m.max_time.rem_euclid(range) == 0);
    (in_snapshot || (others_on_grid && metas.len() > 1)).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every recorded loss run's snapshot (blocks the real 2.42 wrote, on
    /// 1, 2, 3 and 4 minute ranges) gives back the master's
    /// `--storage.tsdb.min-block-duration`. Before the ULID rule a 3 m
    /// master read as 2 m and a 4 m one as 1 m. A snapshot of one block
    /// gives it too when the block was cut from the head (its ULID on
    /// time), and nothing (the default) when it is a head block.
    #[test]
    fn block_range_from_recorded_snapshots_is_the_masters_flag() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/loss-runs");
        let Ok(runs) = std::fs::read_dir(&root) else {
            return;
        };
        let (mut checked, mut alone, mut wrong) = (0, 0, Vec::new());
        for run in runs.flatten() {
            let Ok(rec) = std::fs::read_to_string(run.path().join("run.json")) else {
                continue;
            };
            let rec: serde_json::Value = serde_json::from_str(&rec).unwrap();
            let flag = rec["master_flags"]
                .as_array()
                .into_iter()
                .flatten()
                .find_map(|f| {
                    f.as_str()?
                        .strip_prefix("--storage.tsdb.min-block-duration=")
                });
            let want = match flag {
                Some(d) => parse_duration(d).unwrap(),
                None => DEFAULT_BLOCK_RANGE_MS,
            };
            let metas: Vec<BlockMeta> = walkdir::WalkDir::new(run.path().join("snapshot"))
                .into_iter()
                .flatten()
                .filter(|e| e.file_name() == "meta.json")
                .map(|e| BlockMeta::parse(&std::fs::read(e.path()).unwrap()).unwrap())
                .collect();
            let refs: Vec<&BlockMeta> = metas.iter().collect();
            // One block (a skip_head snapshot between the master's first
            // and second block, or a snapshot's head block alone): read
            // alone only when its ULID shows the cut, and then right.
            if metas.len() == 1 {
                if let Some(r) = infer_block_range_from(&refs) {
                    alone += 1;
                    if r != want {
                        wrong.push(format!("{:?} alone: {r} != {want}", run.file_name()));
                    }
                } else if metas[0].max_time.rem_euclid(GRID_UNIT_MS) == 0 {
                    wrong.push(format!("{:?}: a cut block not read alone", run.file_name()));
                }
                continue;
            }
            if metas.len() < 2 {
                continue;
            }
            checked += 1;
            let got = infer_block_range(&refs);
            if got != want {
                wrong.push(format!("{:?}: {got} != {want}", run.file_name()));
            }
        }
        assert!(wrong.is_empty(), "{checked} checked; wrong: {wrong:?}");
        assert!(alone > 0, "no recorded single-block snapshot read alone");
    }

    #[test]
    fn a_range_reads_as_two_times_and_a_duration() {
        assert_eq!(time(1_795_597_646_091), "2026-11-25T09:07:26.091Z");
        assert_eq!(
            range(1_795_597_200_000, 1_795_604_400_000),
            "2026-11-25T09:00:00.000Z..2026-11-25T11:00:00.000Z (2h0m0s)"
        );
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn sizes_in_powers_of_1024() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(205_071_092), "195.6 MiB");
    }

    #[test]
    fn durations_as_prometheus_writes_them() {
        assert_eq!(parse_duration("2h"), Some(7_200_000));
        assert_eq!(parse_duration("1m"), Some(60_000));
        assert_eq!(parse_duration("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration("500ms"), Some(500));
        assert_eq!(parse_duration("0s"), Some(0));
        for bad in ["", "2", "h", "2x", "99999999999999999999y"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
