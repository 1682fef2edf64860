//! Go's text formats that promtool's output uses, so ours can equal it byte
//! for byte: `time.Duration.String`, `strconv.Quote`, `time.Time.String` in
//! UTC, and `units.Base2Bytes.String` (and its parser, for the sizes
//! Prometheus takes on its command line).

use std::fmt::Write as _;

/// Go `time.Duration(ms * 1e6).String()`: `2m7.49s`, `1h0m0s`, `500ms`, `0s`.
pub fn duration_ms(ms: i64) -> String {
    duration_ns(i128::from(ms) * 1_000_000)
}

/// The inverse of [`duration_ms`]: a Go duration as `time.Duration.String()`
/// writes it (`67.519196ms`, `1.704µs`, `2m3.5s`, `0s`; Prometheus logs its
/// durations so) in whole ms; `None` for anything else.
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    const UNITS: [(&str, f64); 7] = [
        ("ns", 1e-6),
        ("us", 1e-3),
        ("µs", 1e-3),
        ("ms", 1.0),
        ("s", 1e3),
        ("m", 6e4),
        ("h", 3.6e6),
    ];
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0_f64;
    while !rest.is_empty() {
        let n = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let v: f64 = rest.get(..n)?.parse().ok()?;
        rest = rest.get(n..)?;
        // Longest unit first: `ms` before `m`, `ns`/`us` before `s`.
        let (unit, mult) = UNITS
            .into_iter()
            .filter(|(u, _)| rest.starts_with(u))
            .max_by_key(|(u, _)| u.len())?;
        rest = rest.get(unit.len()..)?;
        total += v * mult;
    }
    (total.is_finite() && (0.0..9e15).contains(&total)).then_some(total as i64)
}

fn duration_ns(ns: i128) -> String {
    let neg = ns < 0;
    let mut u = ns.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        if u == 0 {
            return "0s".into();
        }
        let (prec, unit) = if u < 1_000 {
            (0, "ns")
        } else if u < 1_000_000 {
            (3, "µs")
        } else {
            (6, "ms")
        };
        let (frac, int) = frac(u, prec);
        u = int;
        let _ = write!(out, "{u}{frac}{unit}");
    } else {
        let (frac, int) = frac(u, 9);
        u = int;
        let secs = u % 60;
        u /= 60;
        let mut s = format!("{secs}{frac}s");
        if u > 0 {
            s = format!("{}m{s}", u % 60);
            u /= 60;
            if u > 0 {
                s = format!("{u}h{s}");
            }
        }
        out = s;
    }
    if neg { format!("-{out}") } else { out }
}

/// Splits `v` into its integer part after dividing by 10^prec and the
/// fraction as ".ddd" with trailing zeros removed ("" when zero).
fn frac(v: u128, prec: u32) -> (String, u128) {
    let scale = 10u128.pow(prec);
    let f = v % scale;
    if f == 0 {
        return (String::new(), v / scale);
    }
    let digits = format!("{f:0width$}", width = prec as usize);
    (format!(".{}", digits.trim_end_matches('0')), v / scale)
}

/// Go `strconv.Quote`: double-quoted with Go escapes.
///
/// Printable characters are kept as they are; control characters, non-ASCII
/// spaces, format characters and private-use characters are escaped as Go
/// does (`\n`, `\x01`, `\u00a0`, …); bytes that are not UTF-8 become `\xNN`.
pub fn quote(out: &mut String, s: &[u8]) {
    out.push('"');
    // Printable ASCII with nothing to escape (nearly every label value): as is.
    if s.iter()
        .all(|&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.push_str(std::str::from_utf8(s).unwrap_or(""));
        out.push('"');
        return;
    }
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{7}' => out.push_str("\\a"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{b}' => out.push_str("\\v"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if c.is_ascii() || is_go_printable(c) => out.push(c),
                c if (c as u32) < 0x10000 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out.push('"');
}

/// An approximation of Go's `unicode.IsPrint` for non-ASCII characters.
fn is_go_printable(c: char) -> bool {
    let u = c as u32;
    !(c.is_control()
        || c.is_whitespace()
        || u == 0xAD
        || (0x600..=0x605).contains(&u)
        || u == 0x61C
        || u == 0x6DD
        || u == 0x70F
        || u == 0x180E
        || (0x200B..=0x200F).contains(&u)
        || (0x202A..=0x202E).contains(&u)
        || (0x2060..=0x206F).contains(&u)
        || u == 0xFEFF
        || (0xFFF9..=0xFFFB).contains(&u)
        || (0xE000..=0xF8FF).contains(&u)
        || u >= 0xF0000
        || (u & 0xFFFE) == 0xFFFE
        || (0xFDD0..=0xFDEF).contains(&u)
        || (0xE0000..=0xE007F).contains(&u))
}

/// Go `time.Unix(ms/1000, 0).UTC().String()`: `2026-11-25 09:47:26 +0000 UTC`.
pub fn utc_seconds(ms: i64) -> String {
    let secs = ms / 1000; // Go integer division truncates toward zero
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} +0000 UTC",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// RFC 3339 UTC with milliseconds: `2026-11-25T09:47:26.091Z`.
pub fn rfc3339_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let sod = rem / 1000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        rem % 1000
    )
}

pub use crate::vocab::civil_from_days;

/// `units.Base2Bytes(n).String()` as promtool's `-r` prints sizes: `35KiB609B`.
pub fn base2_bytes(n: i64) -> String {
    const UNITS: [&str; 7] = ["", "K", "M", "G", "T", "P", "E"];
    let mut parts: Vec<String> = Vec::new();
    let mut n = n;
    for (i, unit) in UNITS.iter().enumerate() {
        if n % 1024 != 0 || (i == 0 && n == 0) {
            let suffix = if i == 0 { "B" } else { "iB" };
            parts.push(format!("{}{unit}{suffix}", n % 1024));
        }
        n /= 1024;
        if n == 0 {
            break;
        }
    }
    parts.reverse();
    parts.concat()
}

/// Parses a size as Prometheus' `--storage.tsdb.retention.size` does
/// (`units.ParseBase2Bytes`): one or more `<number><unit>` terms, summed
/// (`1GB512MB`), a number may have a fraction (`1.5GB`), and the units are
/// powers of 1024: `B`, `KB`, `MB`, `GB`, `TB`, `PB`, `EB`, or all of the
/// terms in the `KiB`, `MiB` … `EiB` spelling (the two spellings do not mix;
/// `B` goes with either). A unit is required except for a bare `0`; units are
/// case-sensitive (`kB` is not accepted). Negative sizes are refused.
pub fn parse_base2_bytes(s: &str) -> crate::error::Result<u64> {
    const IB: [(&str, u32); 7] = [
        ("B", 0),
        ("KiB", 1),
        ("MiB", 2),
        ("GiB", 3),
        ("TiB", 4),
        ("PiB", 5),
        ("EiB", 6),
    ];
    const B: [(&str, u32); 7] = [
        ("B", 0),
        ("KB", 1),
        ("MB", 2),
        ("GB", 3),
        ("TB", 4),
        ("PB", 5),
        ("EB", 6),
    ];
    let bad = |why: &str| {
        crate::error::Error::Usage(format!(
            concat!(
                "invalid size {s:?}: {why}; expected a number and a unit B, KB, ",
                "MB, GB, TB, PB or EB (powers of 1024, also spelt KiB … EiB), ",
                "e.g. 512MB or 1.5GB"
            ),
            s = s,
            why = why
        ))
    };
    let body = s.strip_prefix('+').unwrap_or(s);
    if body.starts_with('-') || s.starts_with('-') {
        return Err(bad("negative"));
    }
    if body == "0" {
        return Ok(0);
    }
    if body.is_empty() {
        return Err(bad("empty"));
    }
    let total = sum_units(body, &IB)
        .or_else(|| sum_units(body, &B))
        .ok_or_else(|| bad("not a size"))?;
    // Go converts the float sum to int64 (truncating); from 2^63 on it fails.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if !(0.0..TWO_POW_63).contains(&total) {
        return Err(bad("too large"));
    }
    Ok(total as u64)
}

/// `units.ParseUnit` over one unit spelling: the float sum of the terms, or
/// `None` if a term has no digits, an unknown unit, or too many digits.
fn sum_units(s: &str, units: &[(&str, u32)]) -> Option<f64> {
    // Go's leadingInt: digits, failing before the value could overflow.
    fn digits(s: &str) -> Option<(f64, usize, &str)> {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        let (d, rest) = (s.get(..n)?, s.get(n..)?);
        let mut x: i64 = 0;
        for c in d.bytes() {
            if x >= (i64::MAX - 10) / 10 {
                return None;
            }
            x = x * 10 + i64::from(c - b'0');
        }
        Some((x as f64, n, rest))
    }
    let mut rest = s;
    let mut total = 0.0f64;
    while !rest.is_empty() {
        let (mut value, whole, r) = digits(rest)?;
        rest = r;
        let mut frac = 0;
        if let Some(r) = rest.strip_prefix('.') {
            let (f, n, r) = digits(r)?;
            value += f / 10f64.powi(i32::try_from(n).ok()?);
            frac = n;
            rest = r;
        }
        if whole == 0 && frac == 0 {
            return None;
        }
        let n = rest
            .bytes()
            .take_while(|c| *c != b'.' && !c.is_ascii_digit())
            .count();
        let (unit, r) = (rest.get(..n)?, rest.get(n..)?);
        rest = r;
        let power = units.iter().find(|(u, _)| *u == unit)?.1;
        total += value * 1024f64.powi(i32::try_from(power).ok()?);
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base2_bytes_parse_like_prometheus() {
        let p = |s: &str| parse_base2_bytes(s).ok();
        assert_eq!(p("512MB"), Some(512 << 20));
        assert_eq!(p("512MiB"), Some(512 << 20));
        assert_eq!(p("1KB"), Some(1024));
        assert_eq!(p("100B"), Some(100));
        assert_eq!(p("1.5GB"), Some(3 << 29));
        assert_eq!(p("1GB512MB"), Some((1 << 30) + (512 << 20)));
        assert_eq!(p("2TB"), Some(2 << 40));
        assert_eq!(p("1PB"), Some(1 << 50));
        assert_eq!(p("1EB"), Some(1 << 60));
        assert_eq!(p("+1KB"), Some(1024));
        assert_eq!(p(".5KB"), Some(512));
        assert_eq!(p("1.KB"), Some(1024));
        assert_eq!(p("0"), Some(0));
        assert_eq!(p("0B"), Some(0));
        // Refused: no unit, SI kB, mixed spellings, unknown units, junk.
        for bad in [
            "",
            "512",
            "1kB",
            "1kb",
            "1GiB512MB",
            "1XB",
            "GB",
            ".GB",
            "-1GB",
            "1 GB",
            "8EB",
            "99999999999999999999B",
            "1.5",
            "+",
            "-0",
        ] {
            assert!(parse_base2_bytes(bad).is_err(), "{bad:?}");
        }
        let e = parse_base2_bytes("1kB").unwrap_err().to_string();
        assert!(e.contains("\"1kB\"") && e.contains("KB"), "{e}");
    }

    #[test]
    fn go_durations_parse_to_ms() {
        let p = parse_duration_ms;
        assert_eq!(p("67.519196ms"), Some(67));
        assert_eq!(p("1.704µs"), Some(0));
        assert_eq!(p("2m3.5s"), Some(123_500));
        assert_eq!(p("1h0m0s"), Some(3_600_000));
        assert_eq!(p("0s"), Some(0));
        for bad in ["", "5", "ms", "1x", "1.2.3s"] {
            assert_eq!(p(bad), None, "{bad}");
        }
        // What the formatter writes reads back.
        for ms in [0, 1, 999, 1_000, 61_500, 3_600_000, 90_061_001] {
            assert_eq!(p(&duration_ms(ms)), Some(ms), "{ms}");
        }
    }

    #[test]
    fn durations_like_go() {
        // Values from promtool list outputs and Go's time package docs.
        assert_eq!(duration_ms(127_490), "2m7.49s");
        assert_eq!(duration_ms(7_185_001), "1h59m45.001s");
        assert_eq!(duration_ms(33_909), "33.909s");
        assert_eq!(duration_ms(7_200_000), "2h0m0s");
        assert_eq!(duration_ms(500), "500ms");
        assert_eq!(duration_ms(0), "0s");
        assert_eq!(duration_ms(-1500), "-1.5s");
    }

    #[test]
    fn quote_like_go() {
        let q = |s: &[u8]| {
            let mut o = String::new();
            quote(&mut o, s);
            o
        };
        assert_eq!(q(b"abc"), "\"abc\"");
        assert_eq!(q(b"a\"b\\c\n\t"), "\"a\\\"b\\\\c\\n\\t\"");
        assert_eq!(q(b"\x01\x7f"), "\"\\x01\\x7f\"");
        assert_eq!(q("héllo ☺".as_bytes()), "\"héllo ☺\"");
        assert_eq!(q("\u{a0}".as_bytes()), "\"\\u00a0\"");
        assert_eq!(q(b"\xff"), "\"\\xff\"");
    }

    #[test]
    fn times_and_sizes() {
        assert_eq!(
            utc_seconds(1_795_600_046_091),
            "2026-11-25 09:47:26 +0000 UTC"
        );
        assert_eq!(rfc3339_ms(1_795_600_046_091), "2026-11-25T09:47:26.091Z");
        assert_eq!(base2_bytes(36_449), "35KiB609B");
        assert_eq!(base2_bytes(249_688), "243KiB856B");
        assert_eq!(base2_bytes(1024), "1KiB");
        assert_eq!(base2_bytes(0), "0B");
        assert_eq!(base2_bytes(1_048_577), "1MiB1B");
    }
}
