//! Times and durations on the command line: RFC 3339 or Unix milliseconds,
//! as promtool takes them; durations as Prometheus writes them (`2h`, `90m`,
//! `1h30m`, `15s`, `500ms`, `1d`, `1w`).

/// A time as given, and how finely: `width` ms (1: to the millisecond,
/// 1 000: to the second, 60 000: to the minute), the time being the start
/// of that range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Noted {
    /// Unix ms (the start of the range).
    pub ms: i64,
    /// The range's width (ms).
    pub width: i64,
}

/// Parses a time into Unix ms: Unix milliseconds, `@` Unix seconds
/// (`@1796621472`, as `date -d @…` takes them; a fraction allowed), or RFC
/// 3339 with `Z` or an offset (`+01:00`), with or without a fraction, or
/// without seconds (`2026-12-07T05:31Z`).
pub fn parse_time(s: &str) -> Result<i64, String> {
    parse_noted(s).map(|n| n.ms)
}

/// [`parse_time`], with how finely the time was given: Unix ms exactly;
/// seconds or RFC 3339 to their last digit (no fraction: the second;
/// no seconds: the minute).
pub fn parse_noted(s: &str) -> Result<Noted, String> {
    if let Ok(ms) = s.parse::<i64>() {
        if let Some(w) = implausible_ms(ms) {
            eprintln!("promsnap: warning: {w}");
        }
        return Ok(Noted { ms, width: 1 });
    }
    // `date`'s own output (to the second).
    if let Some(r) = date_output_ms(s) {
        return r.map(|ms| Noted { ms, width: 1_000 });
    }
    if let Some(secs) = s.strip_prefix('@') {
        return unix_seconds(secs).ok_or_else(|| {
            format!("invalid time {s:?}: expected @ and Unix seconds (@1796621472, @1796621472.25)")
        });
    }
    let b = s.as_bytes();
    if s.is_ascii() && b.len() > 16 && b[13] == b':' && b[16] != b':' {
        // No seconds: the minute.
        let whole = format!("{}:00{}", &s[..16], &s[16..]);
        return rfc3339(&whole).map(|ms| Noted { ms, width: 60_000 });
    }
    let digits = s
        .get(19..)
        .and_then(|r| r.strip_prefix('.'))
        .map_or(0, |f| f.bytes().take_while(u8::is_ascii_digit).count());
    let width = [1_000, 100, 10].get(digits).copied().unwrap_or(1);
    rfc3339(s).map(|ms| Noted { ms, width })
}

/// `SECONDS[.FRACTION]` into a noted time (the fraction's digits give its
/// width; beyond milliseconds, truncated).
fn unix_seconds(s: &str) -> Option<Noted> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || !int.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|c| c.is_ascii_digit()) || (s.contains('.') && frac.is_empty()) {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    let ms: i64 = format!("{:0<3}", frac.get(..3).unwrap_or(frac))
        .parse()
        .ok()?;
    let width = [1_000, 100, 10].get(frac.len()).copied().unwrap_or(1);
    Some(Noted {
        ms: secs.checked_mul(1_000)?.checked_add(ms)?,
        width,
    })
}

/// RFC 3339 into Unix ms, naming a missing time zone.
fn rfc3339(s: &str) -> Result<i64, String> {
    promsnap::vocab::parse_rfc3339_ms(s).ok_or_else(|| {
        // A wall time without its zone (as `date +%FT%T` prints one) is
        // ambiguous: say so rather than only that it is not RFC 3339.
        if promsnap::vocab::parse_rfc3339_ms(&format!("{s}Z")).is_some()
            || promsnap::vocab::parse_rfc3339_ms(&format!("{s}:00Z")).is_some()
        {
            return format!(
                concat!(
                    "invalid time {s:?}: it has no time zone; add Z if it is UTC ({s}Z), or ",
                    "the offset of the clock it was read from (e.g. {s}+01:00)"
                ),
                s = s
            );
        }
        format!(
            concat!(
                "invalid time {s:?}: expected RFC 3339 (2026-11-25T09:12:34Z; ",
                "`date -u +%Y-%m-%dT%H:%M:%SZ` prints one), `date`'s own output in UTC ",
                "(Wed Nov 25 09:12:34 UTC 2026), Unix milliseconds or @ and Unix seconds"
            ),
            s = s
        )
    })
}

/// A time as `date` prints it by default (C locale: `Mon Dec  7 13:26:30 UTC 2026`, what an
/// operator notes by running `date`): taken when its zone is UTC (or GMT); in another zone, whose
/// abbreviation alone does not fix the offset, an error giving the command that converts it.
/// `None` when `s` does not have that shape.
fn date_output_ms(s: &str) -> Option<Result<i64, String>> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]; // from 1970-01-01
    let t: Vec<&str> = s.split_whitespace().collect();
    let [wd, mon, day, hms, zone, year] = t.as_slice() else {
        return None;
    };
    let mo = MONTHS.iter().position(|m| m == mon)?;
    let day: u32 = day.parse().ok()?;
    let year: u32 = year.parse().ok().filter(|y| (1000..10000).contains(y))?;
    if !DAYS.contains(wd) || hms.len() != 8 {
        return None;
    }
    let rfc = format!("{year}-{:02}-{day:02}T{hms}Z", mo + 1);
    let ms = promsnap::vocab::parse_rfc3339_ms(&rfc)?;
    if !matches!(*zone, "UTC" | "GMT") {
        return Some(Err(format!(
            concat!(
                "invalid time {s:?}: `date` printed it in the zone {zone}, whose offset the ",
                "abbreviation does not fix; convert it where it was noted: ",
                "date -u -d '{s}' +%Y-%m-%dT%H:%M:%SZ"
            ),
            s = s,
            zone = zone
        )));
    }
    let weekday = DAYS.get(usize::try_from(ms.div_euclid(86_400_000).rem_euclid(7)).ok()?)?;
    if weekday != wd {
        return Some(Err(format!(
            "invalid time {s:?}: {year}-{:02}-{day:02} is a {weekday}, not a {wd}",
            mo + 1
        )));
    }
    Some(Ok(ms))
}

/// A warning when a Unix-millisecond time reads far better as Unix seconds:
/// 10⁹..10¹¹ is 1970-01-12..1973-03-03 in ms, but 2001..5138 in seconds.
pub fn implausible_ms(ms: i64) -> Option<String> {
    (1_000_000_000..100_000_000_000).contains(&ms).then(|| {
        format!(
            concat!(
                "{ms} is taken as Unix milliseconds ({}); as Unix seconds it ",
                "would be {}: give @{} or an RFC 3339 time if seconds were meant"
            ),
            promsnap::gofmt::rfc3339_ms(ms),
            promsnap::gofmt::rfc3339_ms(ms.saturating_mul(1000)),
            ms,
            ms = ms
        )
    })
}

/// Usage error when `from` is after `to` (a reversed range selects nothing).
pub fn check_range(
    from_flag: &str,
    from: Option<i64>,
    to_flag: &str,
    to: Option<i64>,
) -> anyhow::Result<()> {
    if let (Some(a), Some(b)) = (from, to)
        && a > b
    {
        anyhow::bail!(
            "{from_flag} {} is after {to_flag} {}: the range is reversed and would select nothing",
            promsnap::gofmt::rfc3339_ms(a),
            promsnap::gofmt::rfc3339_ms(b)
        );
    }
    Ok(())
}

#[allow(dead_code)] // used by the commands that take durations (coverage, copy)
/// Parses a Prometheus duration (`2h`, `1h30m`, `90s`, `500ms`, `1d`, `1w`, `1y`) into ms.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let err = || format!("invalid duration {s:?}: expected e.g. 2h, 90m, 1h30m, 15s, 500ms");
    if s.is_empty() {
        return Err(err());
    }
    // Prometheus requires a unit (only a bare 0 is unit-free): a bare
    // number is refused, not taken as milliseconds.
    if s == "0" {
        return Ok(0);
    }
    if s.parse::<i64>().is_ok() {
        return Err(format!(
            concat!(
                "invalid duration {s:?}: a unit is required, e.g. {s}s, {s}m ",
                "or {s}h (Prometheus takes no bare numbers)"
            ),
            s = s
        ));
    }
    promsnap::vocab::parse_duration(s).ok_or_else(err)
}

/// Parses a byte size as Prometheus' `--storage.tsdb.retention.size` takes
/// it (see [`promsnap::gofmt::parse_base2_bytes`]: `512MB` = 512 × 2²⁰, `1.5GiB`).
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    promsnap::gofmt::parse_base2_bytes(s).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1795597954511"), Ok(1_795_597_954_511));
        assert_eq!(parse_time("2026-11-25T09:12:34Z"), Ok(1_795_597_954_000));
        assert_eq!(parse_time("2026-11-25T09:12:34.5Z"), Ok(1_795_597_954_500));
        assert_eq!(
            parse_time("2026-11-25T10:12:34+01:00"),
            Ok(1_795_597_954_000)
        );
        assert!(parse_time("yesterday").is_err());
        // `date`'s own output (C locale), as an operator notes a time by running `date`.
        assert_eq!(
            parse_time("Wed Nov 25 09:12:34 UTC 2026"),
            Ok(1_795_597_954_000)
        );
        assert_eq!(
            parse_time("Mon Dec  7 13:26:30 GMT 2026"),
            parse_time("2026-12-07T13:26:30Z")
        );
        let e = parse_time("Wed Nov 25 10:12:34 CET 2026").unwrap_err();
        assert!(
            e.contains("date -u -d 'Wed Nov 25 10:12:34 CET 2026' +%Y-%m-%dT%H:%M:%SZ"),
            "{e}"
        );
        let e = parse_time("Thu Nov 25 09:12:34 UTC 2026").unwrap_err();
        assert!(e.contains("is a Wed, not a Thu"), "{e}");
        assert!(parse_time("Wed Nov 25 9:12:34 UTC 2026").is_err());
        assert!(parse_time("Wed Foo 25 09:12:34 UTC 2026").is_err());
        // An operator's wall time without its zone is named as such.
        let e = parse_time("2026-11-25T09:12:34").unwrap_err();
        assert!(
            e.contains("no time zone; add Z if it is UTC (2026-11-25T09:12:34Z)"),
            "{e}"
        );
        let e = parse_time("2026-11-25 09:12:34").unwrap_err();
        assert!(e.contains("no time zone"), "{e}");
        assert!(
            !parse_time("yesterday")
                .unwrap_err()
                .contains("no time zone")
        );
    }

    /// How finely a time was given: its last digit's unit.
    #[test]
    fn noted_times() {
        let n = |s: &str| parse_noted(s).map(|n| (n.ms, n.width));
        assert_eq!(n("1795597954511"), Ok((1_795_597_954_511, 1)));
        assert_eq!(n("2026-11-25T09:12:34Z"), Ok((1_795_597_954_000, 1_000)));
        assert_eq!(n("2026-11-25T09:12:34.5Z"), Ok((1_795_597_954_500, 100)));
        assert_eq!(n("2026-11-25T09:12:34.51Z"), Ok((1_795_597_954_510, 10)));
        assert_eq!(n("2026-11-25T09:12:34.512Z"), Ok((1_795_597_954_512, 1)));
        assert_eq!(n("2026-11-25T09:12:34.512345Z"), Ok((1_795_597_954_512, 1)));
        assert_eq!(
            n("2026-11-25T10:12:34+01:00"),
            Ok((1_795_597_954_000, 1_000))
        );
        assert_eq!(n("2026-11-25T09:12Z"), Ok((1_795_597_920_000, 60_000)));
        assert_eq!(n("2026-11-25T10:12+01:00"), Ok((1_795_597_920_000, 60_000)));
        assert_eq!(n("@1795597954"), Ok((1_795_597_954_000, 1_000)));
        assert_eq!(n("@1795597954.25"), Ok((1_795_597_954_250, 10)));
        for bad in ["@", "@x", "@1.", "@-5", "2026-11-25T09:12", "@1.2.3"] {
            assert!(n(bad).is_err(), "{bad}");
        }
        assert!(n("2026-11-25T09:12").unwrap_err().contains("no time zone"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2h"), Ok(7_200_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("500ms"), Ok(500));
        assert_eq!(parse_duration("15d"), Ok(1_296_000_000));
        assert!(parse_duration("2x").is_err());
        assert_eq!(parse_bytes("512MB"), Ok(512 << 20));
        assert_eq!(parse_bytes("1GiB"), Ok(1 << 30));
        assert_eq!(parse_bytes("1.5KB"), Ok(1536));
        assert!(parse_bytes("4096").is_err(), "Prometheus requires a unit");
        assert!(parse_bytes("1kB").is_err());
        assert!(parse_bytes("MB").is_err());
        assert!(parse_bytes("99999999EB").is_err());
        assert!(parse_duration("").is_err());
        // Prometheus requires a unit: bare numbers are refused (except 0).
        for bare in ["15", "5", "7200", "-1"] {
            let e = parse_duration(bare).unwrap_err();
            assert!(e.contains("unit is required"), "{bare}: {e}");
        }
        assert_eq!(parse_duration("0"), Ok(0));
        assert!(implausible_ms(1_795_597_954).is_some(), "Unix seconds");
        assert!(implausible_ms(1_795_597_954_000).is_none());
        assert!(implausible_ms(0).is_none());
        assert!(check_range("--from", Some(2), "--to", Some(1)).is_err());
        assert!(check_range("--from", Some(1), "--to", Some(1)).is_ok());
    }
}
