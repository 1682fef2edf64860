//! The project's vocabulary, below the commands: how a time, a time range
//! and a label set read for a human, and the calendar arithmetic behind them.
//! Commands and the policy layer (`check`, `copy`, `coverage`) both stand on
//! this module instead of borrowing one another's formatting.
//!
//! Human output has one time format: RFC 3339 in UTC with milliseconds
//! ([`time`]), and a range adds its duration ([`range`]). JSON keeps Unix
//! milliseconds. Go's own formats, for output equal to promtool's, live in
//! [`crate::gofmt`].

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
