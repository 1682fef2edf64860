//! `dump` as one JSON document, streamed a series at a time:
//!
//! ```text
//! {"series":[
//! {"labels":{"__name__":"up","job":"node"},"samples":[[1795597432510,1],[1795597447510,0]]},
//! ...
//! ],"errors":[]}
//! ```
//!
//! A sample is `[t_ms, value]`. JSON has no NaN nor infinity, so a value
//! that is not a finite number is a string naming its exact bits:
//! `"+Inf"`, `"-Inf"`, `"StaleNaN"` (Prometheus' staleness marker,
//! `0x7ff0000000000002`), `"NaN"` (Go's `math.NaN()`, `0x7ff8000000000001`,
//! what a scraped `NaN` becomes) and `"NaN:0x<16 hex digits>"` for any other
//! NaN bit pattern. A finite value is the shortest decimal that reads back
//! as the same `f64` (so `-0.0` keeps its sign). A native histogram sample's
//! value is `{"histogram":"<Go's String()>"}`, the text `dump` prints.

use crate::format::chunkenc::STALE_NAN_BITS;

#[allow(clippy::wildcard_imports)]
use super::*;

/// The bits of Go's `math.NaN()`.
const GO_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;

/// What the document starts with.
pub(super) const HEAD: &[u8] = b"{\"series\":[";

/// Appends the series of `labels` as one element of the `series` array,
/// preceded by a comma (the writer drops the first one); nothing when no
/// sample is left. Returns the number of samples.
pub(super) fn print_series(
    labels: &[(&[u8], &[u8])],
    chunks: &[Pending<'_>],
    opts: &DumpOptions,
    buf: &mut Vec<u8>,
    errors: &mut Vec<String>,
) -> u64 {
    let start = buf.len();
    buf.extend_from_slice(b",\n{\"labels\":{");
    for (i, (name, value)) in labels.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        push_str(buf, name);
        buf.push(b':');
        push_str(buf, value);
    }
    buf.extend_from_slice(b"},\"samples\":[");
    let mut n = 0u64;
    for_each_sample(chunks, opts, errors, &mut |t, v| {
        if n > 0 {
            buf.push(b',');
        }
        buf.push(b'[');
        super::print::push_i64(buf, t);
        buf.push(b',');
        push_value(buf, &v);
        buf.push(b']');
        n += 1;
    });
    if n == 0 {
        buf.truncate(start);
    } else {
        buf.extend_from_slice(b"]}");
    }
    n
}

/// Calls `f` with the samples of one merged series in time order: the
/// chunks in turn when they do not overlap, else merged by time (for equal
/// timestamps the first source wins), stopping at the first histogram
/// sample with `floats_only` — the samples the text dump prints.
fn for_each_sample(
    chunks: &[Pending<'_>],
    opts: &DumpOptions,
    errors: &mut Vec<String>,
    f: &mut dyn FnMut(i64, DumpValue),
) {
    let ordered = chunks
        .windows(2)
        .all(|w| matches!(w, [a, b] if b.range().0 > a.range().1));
    let mut stopped = false;
    if ordered {
        for c in chunks {
            c.decode(opts, errors, &mut |t, v| {
                if stopped || (opts.floats_only && !matches!(v, DumpValue::Float(_))) {
                    stopped = true;
                    return;
                }
                f(t, v);
            });
            if stopped {
                break;
            }
        }
        return;
    }
    for (t, v) in super::print::merge_overlapping(chunks, opts, errors) {
        if opts.floats_only && !matches!(v, DumpValue::Float(_)) {
            break;
        }
        f(t, v);
    }
}

/// Appends a sample's value (see the module documentation).
fn push_value(buf: &mut Vec<u8>, v: &DumpValue) {
    match v {
        DumpValue::Float(f) => push_float(buf, *f),
        DumpValue::Histogram(h) => {
            buf.extend_from_slice(b"{\"histogram\":");
            push_str(buf, h.as_bytes());
            buf.push(b'}');
        }
    }
}

/// Appends a sample value as `dump`'s JSON writes it: a number when
/// finite, else a string naming its bits.
pub fn push_float(buf: &mut Vec<u8>, f: f64) {
    if f.is_finite() {
        let mut b = ryu::Buffer::new();
        buf.extend_from_slice(b.format_finite(f).as_bytes());
        return;
    }
    let bits = f.to_bits();
    match bits {
        _ if f == f64::INFINITY => buf.extend_from_slice(b"\"+Inf\""),
        _ if f == f64::NEG_INFINITY => buf.extend_from_slice(b"\"-Inf\""),
        STALE_NAN_BITS => buf.extend_from_slice(b"\"StaleNaN\""),
        GO_NAN_BITS => buf.extend_from_slice(b"\"NaN\""),
        _ => buf.extend_from_slice(format!("\"NaN:0x{bits:016x}\"").as_bytes()),
    }
}

/// A sample value as `dump`'s JSON writes it (the JSON text of a number or
/// a string), read back bit-exact; `None` for anything else.
pub fn parse_float(s: &str) -> Option<f64> {
    match s {
        "\"+Inf\"" => Some(f64::INFINITY),
        "\"-Inf\"" => Some(f64::NEG_INFINITY),
        "\"StaleNaN\"" => Some(f64::from_bits(STALE_NAN_BITS)),
        "\"NaN\"" => Some(f64::from_bits(GO_NAN_BITS)),
        _ => match s.strip_prefix("\"NaN:0x").and_then(|r| r.strip_suffix('"')) {
            Some(hex) if hex.len() == 16 => u64::from_str_radix(hex, 16)
                .ok()
                .map(f64::from_bits)
                .filter(|f| f.is_nan()),
            Some(_) => None,
            None if s.starts_with('"') => None,
            None => s.parse().ok(),
        },
    }
}

/// Appends `s` as a JSON string (bytes that are not UTF-8 become U+FFFD),
/// escaped by `serde_json` as every other `--json` document is.
fn push_str(buf: &mut Vec<u8>, s: &[u8]) {
    // Serialising a `str` into a `Vec` cannot fail: no I/O, no map keys.
    let _ = serde_json::to_writer(&mut *buf, &*String::from_utf8_lossy(s));
}

/// Writes the end of the document: the errors met, then `]}`.
pub(super) fn write_tail(out: &mut dyn Write, errors: &[String]) -> Result<()> {
    let mut buf = b"\n],\"errors\":[".to_vec();
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        push_str(&mut buf, e.as_bytes());
    }
    buf.extend_from_slice(b"]}\n");
    out.write_all(&buf).map_err(|e| Error::io("<stdout>", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_float_reads_back_bit_exact() {
        for bits in [
            0u64,
            1 << 63,
            1.5f64.to_bits(),
            (-1e300f64).to_bits(),
            f64::MIN_POSITIVE.to_bits(),
            1,
            f64::MAX.to_bits(),
            f64::INFINITY.to_bits(),
            f64::NEG_INFINITY.to_bits(),
            STALE_NAN_BITS,
            GO_NAN_BITS,
            0x7ff8_0000_0000_0000,
            0xfff8_0000_0000_0000,
            0x7ff0_0000_0000_0001,
        ] {
            let mut buf = Vec::new();
            push_float(&mut buf, f64::from_bits(bits));
            let s = String::from_utf8(buf).unwrap();
            let v: serde_json::Value = serde_json::from_str(&s).unwrap();
            assert!(v.is_number() || v.is_string(), "{s}");
            assert_eq!(parse_float(&s).map(f64::to_bits), Some(bits), "{s}");
        }
    }

    #[test]
    fn strings_are_json() {
        let mut buf = Vec::new();
        push_str(&mut buf, b"a\"b\\c\n\x01\xff\xc3\xa9");
        let s = String::from_utf8(buf).unwrap();
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v.as_str(), Some("a\"b\\c\n\u{1}\u{fffd}é"));
    }
}
