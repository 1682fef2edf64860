//! Go's text formats that promtool's output uses, so ours can equal it byte
//! for byte: `time.Duration.String`, `strconv.Quote`, `time.Time.String` in
//! UTC, and `units.Base2Bytes.String`.

use std::fmt::Write as _;

/// Go `time.Duration(ms * 1e6).String()`: `2m7.49s`, `1h0m0s`, `500ms`, `0s`.
pub fn duration_ms(ms: i64) -> String {
    duration_ns(i128::from(ms) * 1_000_000)
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

#[cfg(test)]
mod tests {
    use super::*;

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
