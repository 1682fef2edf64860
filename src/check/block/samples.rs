//! Every chunk: framing, CRC, encoding, and every sample decoded.

use super::windows::{Windows, record_window, too_long, unreadable};
#[allow(clippy::wildcard_imports)]
use super::*;

/// The result of checking one piece of chunks: findings (without series
/// names yet), counts, and the end of the furthest chunk per segment.
pub(super) struct Piece {
    /// The first few findings of each code (see [`Piece::add`]).
    findings: Vec<(u32, Finding)>,
    /// Findings past those: counted only.
    overflow: Findings,
    samples: u64,
    float_samples: u64,
    histogram_samples: u64,
    decoded: u64,
    /// Chunks per encoding byte.
    encodings: [u64; 256],
    ends: Vec<u64>,
}

impl Piece {
    /// Keeps `f` (of series `ord`) if fewer than [`super::super::KEEP_PER_GROUP`]
    /// findings of its code and file are kept in this piece, else counts it:
    /// a piece's memory is bounded whatever the damage.
    fn add(&mut self, ord: u32, f: Finding) {
        let same = self
            .findings
            .iter()
            .filter(|(_, k)| k.code == f.code && k.path == f.path)
            .count() as u64;
        if same < super::super::KEEP_PER_GROUP {
            self.findings.push((ord, f));
        } else {
            self.overflow.count_only(&f);
        }
    }

    /// Adds `base` to the series ordinals of the findings.
    pub(super) fn rebase(&mut self, base: u32) {
        for (ord, _) in &mut self.findings {
            *ord = ord.saturating_add(base);
        }
    }
}

/// Checks one piece of chunk metas (series ordinal relative to `base`,
/// meta); runs on any thread.
pub(super) fn check_piece(
    chunks: &dyn ChunkSource,
    seg_ok: &[bool],
    opts: &CheckOptions,
    base: u32,
    part: &[(u32, ChunkMeta)],
) -> Piece {
    let nseg = chunks.count();
    let mut p = Piece {
        findings: Vec::new(),
        overflow: Findings::default(),
        samples: 0,
        float_samples: 0,
        histogram_samples: 0,
        decoded: 0,
        encodings: [0; 256],
        ends: vec![0; nseg],
    };
    let windows = Windows::read(chunks, seg_ok, part);
    // Mapped segments, looked up once per piece rather than per chunk.
    let wholes: Vec<Option<&[u8]>> = (0..nseg).map(|s| chunks.whole(s)).collect();
    for (ord, c) in part {
        let ord = &(base + ord);
        let seg = c.segment() as usize;
        if seg >= nseg || !seg_ok.get(seg).copied().unwrap_or(false) {
            continue;
        }
        let whole = wholes.get(seg).copied().flatten();
        // A sound XOR chunk of a mapped segment (nearly all of them): its
        // counts without the general path below, which gives the same.
        if !opts.quick
            && let Some(b) = whole
            && let Some(ok) = sound_xor(b, c)
        {
            if let Some(end) = p.ends.get_mut(seg) {
                *end = (*end).max(ok.end);
            }
            if let Some(n) = p.encodings.get_mut(usize::from(ok.encoding)) {
                *n += 1;
            }
            p.samples += ok.samples;
            p.float_samples += ok.samples;
            p.decoded += ok.decoded;
            continue;
        }
        check_chunk(&mut p, chunks, &windows, whole, *ord, c, opts.quick);
    }
    // This piece's byte range is done: let its pages go from our RSS.
    if let (Some((_, first)), Some((_, last))) = (part.first(), part.last())
        && first.segment() == last.segment()
    {
        let end = p.ends.get(first.segment() as usize).copied().unwrap_or(0);
        chunks.release(first.segment() as usize, u64::from(first.offset()), end);
    }
    p
}

/// The general path for one chunk (any encoding, any source, any damage):
/// its record found and checked, then every sample decoded unless `quick`.
fn check_chunk(
    p: &mut Piece,
    chunks: &dyn ChunkSource,
    windows: &Windows<'_>,
    whole: Option<&[u8]>,
    ord: u32,
    c: &ChunkMeta,
    quick: bool,
) {
    let seg = c.segment() as usize;
    let path = chunks.path(seg);
    let err = |code: FindingCode, off: u64, msg: String| {
        Finding::new(Severity::Error, code, path, msg)
            .at(off)
            .costs(c.mint, c.maxt.saturating_add(1))
    };
    let extra: Window<'_>;
    let found = match whole {
        Some(b) => Ok(Some(chunks::read_chunk(b, u64::from(c.offset())))),
        None => windows.record(chunks, seg, u64::from(c.offset())),
    };
    let rec = match found {
        Ok(Some(r)) => r,
        Ok(None) => match record_window(chunks, seg, u64::from(c.offset())) {
            Ok(Ok(w)) => {
                extra = w;
                chunks::read_chunk_at(&extra.bytes, extra.base, u64::from(c.offset()))
            }
            Ok(Err(e)) => Err(e),
            Err(e) => {
                p.add(ord, unreadable(path, u64::from(c.offset()), &e));
                return;
            }
        },
        Err(e) => {
            p.add(ord, unreadable(path, u64::from(c.offset()), &e));
            return;
        }
    };
    let rec = match rec.and_then(|r| match too_long(r.offset, r.len, r.data.len() as u64) {
        Some(e) => Err(e),
        None => Ok(r),
    }) {
        Ok(r) => r,
        Err(e) => {
            p.add(
                ord,
                err(decode_code(FileKind::Chunks, &e), e.offset(), e.to_string()),
            );
            return;
        }
    };
    if let Some(end) = p.ends.get_mut(seg) {
        *end = (*end).max(rec.offset + rec.len);
    }
    let enc = match counted(p, &rec, whole, &err) {
        Ok(enc) => enc,
        Err(f) => {
            p.add(ord, *f);
            return;
        }
    };
    if quick {
        return;
    }
    // Decode every sample.
    let (first, last, k, mut bad) = sample_times(enc, &rec, &err);
    p.decoded += k;
    if bad.is_none() && (first != Some(c.mint) || last != Some(c.maxt)) {
        bad = Some(err(
            FindingCode::ChunkMetaMismatch,
            rec.offset,
            format!(
                "samples span [{}, {}] but the index says [{}, {}]",
                first.unwrap_or(0),
                last.unwrap_or(0),
                c.mint,
                c.maxt
            ),
        ));
    }
    if let Some(f) = bad {
        p.add(ord, f);
    }
}

/// A found record's CRC, encoding and sample count, counted into `p`; the
/// finding that stops its check, if any.
fn counted(
    p: &mut Piece,
    rec: &chunks::ChunkRecord<'_>,
    whole: Option<&[u8]>,
    err: &dyn Fn(FindingCode, u64, String) -> Finding,
) -> Result<Encoding, Box<Finding>> {
    let err = |code: FindingCode, off: u64, msg: String| Box::new(err(code, off, msg));
    if !crc_matches(rec, whole)
        && let Err(e) = rec.check_crc()
    {
        return Err(err(
            FindingCode::ChunkChecksumMismatch,
            rec.offset,
            e.to_string(),
        ));
    }
    let Some(enc) = Encoding::from_u8(rec.encoding) else {
        return Err(err(
            FindingCode::ChunkEncodingUnknown,
            rec.offset,
            format!(
                "unknown chunk encoding {} (known: 1 XOR, 2 histogram, 3 float histogram, \
                 4-6 since 3.11/3.14)",
                rec.encoding
            ),
        ));
    };
    if let Some(n) = p.encodings.get_mut(usize::from(rec.encoding)) {
        *n += 1;
    }
    let n = chunkenc::num_samples(enc, rec.data, rec.data_offset)
        .map_err(|e| err(FindingCode::ChunkDecodeFailed, e.offset(), e.to_string()))?;
    let n = u64::from(n);
    p.samples += n;
    if enc.is_float() {
        p.float_samples += n;
    } else {
        p.histogram_samples += n;
    }
    if n == 0 {
        return Err(err(
            FindingCode::ChunkEmpty,
            rec.offset,
            "chunk holds 0 samples".into(),
        ));
    }
    Ok(enc)
}

/// Decodes every sample of a chunk whose record is sound: its first and last
/// timestamps, how many were decoded, and the first problem (`err` makes a
/// finding at an offset).
fn sample_times(
    enc: Encoding,
    rec: &chunks::ChunkRecord<'_>,
    err: &dyn Fn(FindingCode, u64, String) -> Finding,
) -> (Option<i64>, Option<i64>, u64, Option<Finding>) {
    let mut first: Option<i64> = None;
    let mut last: Option<i64> = None;
    let mut k = 0u64;
    let mut bad: Option<Finding> = None;
    let mut on_sample = |t: i64, bad: &mut Option<Finding>| {
        if first.is_none() {
            first = Some(t);
        }
        if let Some(l) = last
            && t <= l
            && bad.is_none()
        {
            *bad = Some(err(
                FindingCode::ChunkTimestampsUnordered,
                rec.offset,
                format!("sample {k} at {t} is not after the previous sample at {l}"),
            ));
        }
        last = Some(t);
        k += 1;
    };
    if enc == Encoding::Xor {
        match chunkenc::scan_chunk_times(rec.data, rec.data_offset) {
            Ok((scan, failed)) => {
                (first, last, k) = (scan.first, scan.last, scan.count);
                if let Some((i, t, l)) = scan.unordered {
                    bad = Some(err(
                        FindingCode::ChunkTimestampsUnordered,
                        rec.offset,
                        format!("sample {i} at {t} is not after the previous sample at {l}"),
                    ));
                }
                if let Some(e) = failed {
                    bad.get_or_insert(err(
                        FindingCode::ChunkDecodeFailed,
                        e.offset(),
                        e.to_string(),
                    ));
                }
            }
            Err(e) => {
                bad = Some(err(
                    FindingCode::ChunkDecodeFailed,
                    e.offset(),
                    e.to_string(),
                ))
            }
        }
    } else {
        match chunkenc::samples(enc, rec.data, rec.data_offset) {
            Ok(it) => {
                for s in it {
                    match s {
                        Ok(s) => on_sample(s.t, &mut bad),
                        Err(e) => {
                            bad.get_or_insert(err(
                                FindingCode::ChunkDecodeFailed,
                                e.offset(),
                                e.to_string(),
                            ));
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                bad = Some(err(
                    FindingCode::ChunkDecodeFailed,
                    e.offset(),
                    e.to_string(),
                ))
            }
        }
    }
    (first, last, k, bad)
}

/// What [`sound_xor`] counted of a chunk.
struct SoundXor {
    /// Samples by the chunk's header.
    samples: u64,
    /// Samples decoded.
    decoded: u64,
    /// The end of its record in the segment.
    end: u64,
    /// Its encoding byte.
    encoding: u8,
}

/// The chunk of meta `c` in the mapped segment `b` when it is an XOR chunk
/// the full check finds nothing wrong with: a record not too long
/// ([`too_long`]), its CRC right, samples that all
/// decode, in strictly ascending time, from `c.mint` to `c.maxt`. None
/// for anything else, which the general path of [`check_piece`] checks
/// and reports.
#[inline(never)]
fn sound_xor(b: &[u8], c: &ChunkMeta) -> Option<SoundXor> {
    let rec = chunks::read_chunk(b, u64::from(c.offset())).ok()?;
    if too_long(rec.offset, rec.len, rec.data.len() as u64).is_some()
        || Encoding::from_u8(rec.encoding) != Some(Encoding::Xor)
        || !crc_matches(&rec, Some(b))
    {
        return None;
    }
    let n = chunkenc::num_samples(Encoding::Xor, rec.data, rec.data_offset).ok()?;
    if n == 0 {
        return None;
    }
    let (scan, failed) = chunkenc::scan_chunk_times(rec.data, rec.data_offset).ok()?;
    if failed.is_some()
        || scan.unordered.is_some()
        || scan.first != Some(c.mint)
        || scan.last != Some(c.maxt)
    {
        return None;
    }
    Some(SoundXor {
        samples: u64::from(n),
        decoded: scan.count,
        end: rec.offset + rec.len,
        encoding: rec.encoding,
    })
}

/// True if the record's stored CRC is that of its encoding byte and data,
/// hashed in one pass over the mapped segment `whole` (where the encoding
/// byte lies just before the data) when there is one; false means "check
/// it the usual way", which gives the mismatch's error.
#[inline]
fn crc_matches(rec: &chunks::ChunkRecord<'_>, whole: Option<&[u8]>) -> bool {
    let Some(b) = whole else {
        return false;
    };
    let Some(start) = usize::try_from(rec.data_offset)
        .ok()
        .and_then(|d| d.checked_sub(1))
    else {
        return false;
    };
    b.get(start..)
        .and_then(|b| b.get(..=rec.data.len()))
        .is_some_and(|bytes| crate::format::crc::crc32c(bytes) == rec.stored_crc)
}

/// Folds the pieces' results into the block's counts and findings.
pub(super) fn merge_pieces(
    cx: &mut Ctx,
    chunks: &dyn ChunkSource,
    index: &IndexReader<'_>,
    ids: &super::index::SeriesIds,
    pieces: Vec<Piece>,
    seg_ok: &[bool],
    counts: &mut Counts,
) {
    let nseg = chunks.count();
    let mut ends = vec![0u64; nseg];
    let mut encodings: BTreeMap<&'static str, u64> = BTreeMap::new();
    for p in pieces {
        counts.samples += p.samples;
        counts.float_samples += p.float_samples;
        counts.histogram_samples += p.histogram_samples;
        counts.samples_decoded += p.decoded;
        for (byte, &n) in p.encodings.iter().enumerate() {
            if n > 0
                && let Some(enc) = u8::try_from(byte).ok().and_then(Encoding::from_u8)
            {
                *encodings.entry(enc.name()).or_default() += n;
            }
        }
        for (e, pe) in ends.iter_mut().zip(p.ends) {
            *e = (*e).max(pe);
        }
        for (ord, f) in p.findings {
            if !cx.findings.has_room(f.code, &f.path) {
                cx.findings.count_only(&f);
                continue;
            }
            let offset = ids.get(ord as usize).map(|id| index.series_offset(id));
            let series = series_name(index, offset);
            let f = match series {
                Some(s) => f.series(s),
                None => f,
            };
            cx.push(f);
        }
        cx.findings.absorb(p.overflow);
    }
    counts.encodings = encodings
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    for (i, end) in ends.into_iter().enumerate() {
        if !seg_ok.get(i).copied().unwrap_or(false) {
            continue;
        }
        let (path, len) = (chunks.path(i), chunks.len(i));
        if end > 0 && end < len {
            cx.push(
                Finding::new(
                    Severity::Info,
                    FindingCode::ChunkSegmentTrailingBytes,
                    path,
                    format!(
                        "{} bytes after the last referenced chunk are not used by the index",
                        len - end
                    ),
                )
                .at(end),
            );
        } else if end == 0 && len > chunks::SEGMENT_HEADER_LEN as u64 {
            cx.push(
                Finding::new(
                    Severity::Warning,
                    FindingCode::ChunkSegmentUnreferenced,
                    path,
                    "no chunk of this segment is referenced by the index".to_string(),
                )
                .at(8),
            );
        }
    }
}

/// Checks every segment's header: which segments can be read on.
pub(super) fn check_segment_headers(cx: &mut Ctx, chunks: &dyn ChunkSource) -> Vec<bool> {
    let ranges: Vec<(usize, u64, u64)> = (0..chunks.count())
        .map(|i| (i, 0, chunks::SEGMENT_HEADER_LEN as u64))
        .collect();
    let headers = chunks.read(&ranges);
    let mut ok = Vec::with_capacity(ranges.len());
    for (i, h) in headers.into_iter().enumerate() {
        let path = chunks.path(i).to_path_buf();
        match h.map(|w| chunks::parse_segment_header(&w.bytes)) {
            Ok(Ok(())) => ok.push(true),
            Ok(Err(e)) => {
                cx.decode(FileKind::Chunks, &path, &e);
                ok.push(false);
            }
            Err(e) => {
                cx.push(unreadable(&path, 0, &e));
                ok.push(false);
            }
        }
    }
    ok
}

pub(super) fn series_name(index: &IndexReader<'_>, offset: Option<u64>) -> Option<String> {
    let offset = offset?;
    let mut e = SeriesEntry::default();
    crate::format::index::series::decode_series_into(index.bytes(), offset, index.version, &mut e)
        .ok()?;
    let mut res = Vec::new();
    index.resolve_labels(&e, &mut res).ok()?;
    let mut s = String::new();
    format_labels(&mut s, &res);
    Some(s)
}
