//! Formatting the lines of a series: `{labels} value timestamp_ms`.
//!
//! The hot path is a float (XOR) chunk: its samples go straight from the
//! decoder into the output text, with Go's `%g` through `ryu` and the
//! timestamp through a small integer formatter. Decoding stops at the first
//! sample past the requested range (a chunk's samples are in time order, and
//! Prometheus' chunk iterator stops there too).

use crate::error::Error;
use crate::format::chunkenc::{self, Encoding};
use crate::format::tombstones::is_deleted;

#[allow(clippy::wildcard_imports)]
use super::*;

/// One series to print: its label set and the pieces its samples come from.
pub(super) struct Job<'a> {
    pub(super) labels: Vec<(&'a [u8], &'a [u8])>,
    pub(super) pending: Vec<Pending<'a>>,
}

/// The text of a group of series, with what printing them found.
#[derive(Default)]
pub(super) struct Formatted {
    /// ASCII and the label bytes as they are (written as bytes).
    pub(super) text: Vec<u8>,
    pub(super) series: u64,
    pub(super) samples: u64,
    pub(super) errors: Vec<String>,
}

impl Formatted {
    /// Formats `jobs` (in order) into this slot, replacing what it held but
    /// keeping its buffer.
    pub(super) fn fill(&mut self, jobs: &[Job<'_>], opts: &DumpOptions) {
        self.text.clear();
        self.series = 0;
        self.samples = 0;
        self.errors.clear();
        let mut prefix = String::new();
        for j in jobs {
            let n = if opts.format == DumpFormat::Json {
                super::json::print_series(
                    &j.labels,
                    &j.pending,
                    opts,
                    &mut self.text,
                    &mut self.errors,
                )
            } else {
                prefix.clear();
                format_labels(&mut prefix, &j.labels);
                prefix.push(' ');
                print_series(
                    prefix.as_bytes(),
                    &j.pending,
                    opts,
                    &mut self.text,
                    &mut self.errors,
                )
            };
            if n > 0 {
                self.series += 1;
                self.samples += n;
            }
        }
    }
}

/// Appends one line.
#[inline]
fn push_float_line(buf: &mut Vec<u8>, prefix: &[u8], t: i64, v: f64) {
    buf.extend_from_slice(prefix);
    chunkenc::go_format_g_bytes(v, buf);
    buf.push(b' ');
    push_i64(buf, t);
    buf.push(b'\n');
}

/// [`push_float_line`] with the timestamp through `stamp`.
#[inline]
fn push_stamped_line(buf: &mut Vec<u8>, prefix: &[u8], stamp: &mut Stamp, t: i64, v: f64) {
    buf.extend_from_slice(prefix);
    chunkenc::go_format_g_bytes(v, buf);
    buf.push(b' ');
    stamp.push(buf, t);
    buf.push(b'\n');
}

fn push_line(buf: &mut Vec<u8>, prefix: &[u8], t: i64, v: &DumpValue) {
    match v {
        DumpValue::Float(f) => push_float_line(buf, prefix, t, *f),
        DumpValue::Histogram(h) => {
            buf.extend_from_slice(prefix);
            buf.extend_from_slice(h.as_bytes());
            buf.push(b' ');
            push_i64(buf, t);
            buf.push(b'\n');
        }
    }
}

/// Two decimal digits of every number below 100.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends the decimal digits of `v`.
#[inline]
pub(super) fn push_i64(buf: &mut Vec<u8>, v: i64) {
    let mut bytes = [0u8; 20];
    let i = write_digits(v.unsigned_abs(), &mut bytes);
    if v < 0 {
        buf.push(b'-');
    }
    buf.extend_from_slice(bytes.get(i..).unwrap_or(&[]));
}

/// Writes the decimal digits of `u` right-aligned into `bytes`, four at a
/// time; returns where they start.
#[inline]
fn write_digits(mut u: u64, bytes: &mut [u8; 20]) -> usize {
    let mut i = bytes.len();
    while u >= 10_000 {
        let r = (u % 10_000) as usize;
        u /= 10_000;
        i = i.saturating_sub(4);
        put_pair(bytes, i, r / 100);
        put_pair(bytes, i + 2, r % 100);
    }
    let mut u = u as usize;
    if u >= 100 {
        i = i.saturating_sub(2);
        put_pair(bytes, i, u % 100);
        u /= 100;
    }
    if u >= 10 {
        i = i.saturating_sub(2);
        put_pair(bytes, i, u);
    } else {
        i = i.saturating_sub(1);
        if let Some(d) = bytes.get_mut(i) {
            *d = b'0' + u as u8;
        }
    }
    i
}

/// The two digits of `r` (< 100) at `bytes[i..i + 2]`.
#[inline(always)]
fn put_pair(bytes: &mut [u8; 20], i: usize, r: usize) {
    if let (Some(d), Some(p)) = (bytes.get_mut(i..i + 2), PAIRS.get(r * 2..r * 2 + 2)) {
        d.copy_from_slice(p);
    }
}

/// The text of the last timestamp printed from a chunk: the samples of a
/// chunk share all but their last six digits (16 minutes), so only those
/// are formatted again.
struct Stamp {
    /// The timestamp divided by 10^6 (`u64::MAX` before the first).
    hi: u64,
    text: [u8; 20],
    start: usize,
}

impl Stamp {
    fn new() -> Self {
        Stamp {
            hi: u64::MAX,
            text: [0; 20],
            start: 20,
        }
    }

    /// Appends the decimal digits of `t`.
    #[inline]
    fn push(&mut self, buf: &mut Vec<u8>, t: i64) {
        if t < 1_000_000 {
            push_i64(buf, t);
            return;
        }
        let u = t as u64;
        let hi = u / 1_000_000;
        if hi == self.hi {
            // Seven digits or more, so the last six sit at 14..20.
            let lo = (u % 1_000_000) as usize;
            put_pair(&mut self.text, 14, lo / 10_000);
            put_pair(&mut self.text, 16, lo / 100 % 100);
            put_pair(&mut self.text, 18, lo % 100);
        } else {
            self.start = write_digits(u, &mut self.text);
            self.hi = hi;
        }
        buf.extend_from_slice(self.text.get(self.start..).unwrap_or(&[]));
    }
}

/// Prints one merged series into `buf`; returns the number of lines printed.
fn print_series(
    prefix: &[u8],
    chunks: &[Pending<'_>],
    opts: &DumpOptions,
    buf: &mut Vec<u8>,
    errors: &mut Vec<String>,
) -> u64 {
    let ordered = chunks
        .windows(2)
        .all(|w| matches!(w, [a, b] if b.range().0 > a.range().1));
    let mut printed = 0u64;
    if ordered {
        for c in chunks {
            let (n, stopped) = match c {
                Pending::Chunk(c) => print_chunk(c, prefix, opts, buf, errors),
                Pending::Head(_) => {
                    let mut n = 0;
                    let mut stopped = false;
                    c.decode(opts, errors, &mut |t, v| {
                        if stopped || (opts.floats_only && !matches!(v, DumpValue::Float(_))) {
                            stopped = true;
                            return;
                        }
                        push_line(buf, prefix, t, &v);
                        n += 1;
                    });
                    (n, stopped)
                }
            };
            printed += n;
            if stopped {
                break;
            }
        }
    } else {
        for (t, v) in merge_overlapping(chunks, opts, errors) {
            if opts.floats_only && !matches!(v, DumpValue::Float(_)) {
                break;
            }
            push_line(buf, prefix, t, &v);
            printed += 1;
        }
    }
    printed
}

/// The samples of overlapping chunks (overlapping blocks) merged by time;
/// for equal timestamps the first source wins, as Prometheus' merge does.
pub(super) fn merge_overlapping(
    chunks: &[Pending<'_>],
    opts: &DumpOptions,
    errors: &mut Vec<String>,
) -> Vec<(i64, DumpValue)> {
    let mut all: Vec<(i64, usize, DumpValue)> = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        c.decode(opts, errors, &mut |t, v| all.push((t, i, v)));
    }
    all.sort_by_key(|(t, i, _)| (*t, *i));
    all.dedup_by_key(|(t, _, _)| *t);
    all.into_iter().map(|(t, _, v)| (t, v)).collect()
}

/// Prints the samples of one block chunk in the range, not deleted; returns
/// the lines printed and whether the series stops here (a histogram sample
/// with `floats_only`).
fn print_chunk(
    c: &PendingChunk<'_>,
    prefix: &[u8],
    opts: &DumpOptions,
    buf: &mut Vec<u8>,
    errors: &mut Vec<String>,
) -> (u64, bool) {
    let Some(rec) = chunk_record(c, errors) else {
        return (0, false);
    };
    if Encoding::from_u8(rec.encoding) != Some(Encoding::Xor) {
        let mut n = 0;
        let mut stopped = false;
        decode_record(c, &rec, opts, errors, &mut |t, v| {
            if stopped || (opts.floats_only && !matches!(v, DumpValue::Float(_))) {
                stopped = true;
                return;
            }
            push_line(buf, prefix, t, &v);
            n += 1;
        });
        return (n, stopped);
    }
    let mut it = match chunkenc::XorIter::new(rec.data, rec.data_offset) {
        Ok(it) => it,
        Err(e) => {
            errors.push(Error::decode(c.block.segment_path(c.meta.segment()), e).to_string());
            return (0, false);
        }
    };
    let mut n = 0;
    let (min, max) = (opts.min_time, opts.max_time);
    let mut stamp = Stamp::new();
    let res = it.try_for_each_until(|t, v| {
        if t > max {
            return false;
        }
        if t >= min && !is_deleted(t, c.deleted) {
            push_stamped_line(buf, prefix, &mut stamp, t, v);
            n += 1;
        }
        true
    });
    if let Err(e) = res {
        errors.push(Error::decode(c.block.segment_path(c.meta.segment()), e).to_string());
    }
    (n, false)
}

/// The chunk's record, CRC checked; `None` (with the error noted) when it
/// cannot be read.
fn chunk_record<'a>(
    c: &PendingChunk<'a>,
    errors: &mut Vec<String>,
) -> Option<crate::format::chunks::ChunkRecord<'a>> {
    let rec = match c.block.chunk(&c.meta) {
        Ok(r) => r,
        Err(e) => {
            errors.push(e.to_string());
            return None;
        }
    };
    if let Err(e) = rec.check_crc() {
        errors.push(Error::decode(c.block.segment_path(c.meta.segment()), e).to_string());
        return None;
    }
    Some(rec)
}

/// Decodes one chunk, applying the time range and tombstones.
pub(super) fn decode_chunk(
    c: &PendingChunk<'_>,
    opts: &DumpOptions,
    errors: &mut Vec<String>,
    f: &mut dyn FnMut(i64, DumpValue),
) {
    if let Some(rec) = chunk_record(c, errors) {
        decode_record(c, &rec, opts, errors, f);
    }
}

fn decode_record(
    c: &PendingChunk<'_>,
    rec: &crate::format::chunks::ChunkRecord<'_>,
    opts: &DumpOptions,
    errors: &mut Vec<String>,
    f: &mut dyn FnMut(i64, DumpValue),
) {
    let path = || c.block.segment_path(c.meta.segment());
    let keep = |t: i64| t >= opts.min_time && !is_deleted(t, c.deleted);
    match Encoding::from_u8(rec.encoding) {
        Some(Encoding::Xor) => match chunkenc::XorIter::new(rec.data, rec.data_offset) {
            Ok(it) => {
                for s in it {
                    match s {
                        Ok((t, _)) if t > opts.max_time => return,
                        Ok((t, v)) if keep(t) => f(t, DumpValue::Float(v)),
                        Ok(_) => {}
                        Err(e) => {
                            errors.push(Error::decode(path(), e).to_string());
                            return;
                        }
                    }
                }
            }
            Err(e) => errors.push(Error::decode(path(), e).to_string()),
        },
        Some(enc) => match chunkenc::samples(enc, rec.data, rec.data_offset) {
            Ok(it) => {
                for s in it {
                    match s {
                        Ok(s) if s.t > opts.max_time => return,
                        Ok(s) if keep(s.t) => f(s.t, to_dump_value(&s.value)),
                        Ok(_) => {}
                        Err(e) => {
                            errors.push(Error::decode(path(), e).to_string());
                            return;
                        }
                    }
                }
            }
            Err(e) => errors.push(Error::decode(path(), e).to_string()),
        },
        None => {
            errors.push(Error::decode(path(), crate::block::unsupported_encoding(rec)).to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_match_std() {
        for v in [
            0i64,
            1,
            -1,
            9,
            10,
            99,
            100,
            999,
            1000,
            9999,
            10_000,
            100_000,
            1_000_000,
            1795597432510,
            i64::MIN,
            i64::MAX,
            -42,
        ] {
            let mut s = Vec::new();
            push_i64(&mut s, v);
            assert_eq!(s, v.to_string().as_bytes());
        }
    }

    #[test]
    fn stamps_match_std() {
        // Runs that keep, cross and leave the shared leading digits.
        let mut stamp = Stamp::new();
        let mut t: i64 = -20_000;
        let mut step = 7i64;
        while t < 3_000_000_000_000 {
            let mut s = Vec::new();
            stamp.push(&mut s, t);
            assert_eq!(s, t.to_string().as_bytes(), "{t}");
            t += step;
            step = step * 3 / 2 + 1;
        }
        for t in (1_795_597_000_000..1_795_600_000_000).step_by(15_000) {
            let mut s = Vec::new();
            stamp.push(&mut s, t);
            assert_eq!(s, t.to_string().as_bytes(), "{t}");
        }
        for t in [
            999_999,
            1_000_000,
            1_999_999,
            2_000_000,
            1_000_000,
            1_795_597_432_510,
        ] {
            let mut s = Vec::new();
            stamp.push(&mut s, t);
            assert_eq!(s, t.to_string().as_bytes(), "{t}");
        }
    }
}
