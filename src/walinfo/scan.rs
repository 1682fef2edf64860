//! Scanning one WAL segment: records, series, samples, time range, torn
//! tail or corruption, and what Prometheus' repair would drop after damage.

use super::samples_fast::summarise_samples;
#[allow(clippy::wildcard_imports)]
use super::*;

/// The result of reading one segment's bytes (no file information).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SegmentScan {
    /// What the records hold.
    #[serde(flatten)]
    pub counts: RecordCounts,
    /// Fragments by type.
    pub fragments: FragmentStats,
    /// True if the data ends inside a record (a crash mid-write).
    pub torn_tail: bool,
    /// Offset of the torn record's first fragment.
    pub torn_offset: Option<u64>,
    /// End of the last good record: everything before decoded cleanly.
    pub valid_offset: u64,
    /// The framing damage that stopped the read, if any.
    pub corruption: Option<Problem>,
    /// The first [`MAX_RECORD_ERRORS`] record-payload errors.
    pub record_errors: Vec<Problem>,
    /// `min_valid_time` of a MinValidTime record, if any (checkpoints, 3.x).
    pub min_valid_time: Option<i64>,
    /// The first record of a type this crate does not know (Prometheus
    /// replay skips such records), if any.
    pub unknown_record: Option<Problem>,
    /// After framing damage: what could still be read by resynchronising at
    /// later page boundaries. Prometheus's repair drops all of it.
    pub after_damage: Option<AfterDamage>,
}

/// Records found after the damage in a segment (see [`SegmentScan::after_damage`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AfterDamage {
    /// Offset where reading resumed (a page boundary).
    pub resumed_at: Option<u64>,
    /// Records read after the damage.
    pub records: u64,
    /// Samples (float + histogram) in them.
    pub samples: u64,
    /// Their sample time range.
    #[serde(flatten)]
    pub time: TimeRange,
}

/// The time range of `r`, `None` if it has no samples.
pub fn range_of(t: TimeRange) -> Option<(i64, i64)> {
    Some((t.min_t?, t.max_t?))
}

/// Reads one segment's records and summarises them. Series refs created by
/// Series records are added to `series`. After framing damage (not a torn
/// tail), the rest of the segment is read from later page boundaries to tell
/// what the damage costs ([`SegmentScan::after_damage`]).
pub fn scan_segment(bytes: &[u8], series: &mut HashSet<SeriesRef>) -> SegmentScan {
    let mut refs = RefSet::from_set(series);
    let scan = scan_segment_refs(bytes, &mut refs);
    series.extend(refs.to_hash_set());
    scan
}

/// [`scan_segment`] with the references in a [`RefSet`].
pub fn scan_segment_refs(bytes: &[u8], series: &mut RefSet) -> SegmentScan {
    let mut scan = scan_records(RecordReader::new(bytes), series);
    if let Some(c) = &scan.corruption {
        scan.after_damage = Some(resync(bytes, c.offset));
    }
    scan
}

/// Reads on after damage at `damage`: from each later page boundary, skips
/// the fragments that continue a record begun before it, and reads records
/// from the first `full`/`first` fragment, re-synchronising after further damage.
fn resync(bytes: &[u8], damage: u64) -> AfterDamage {
    use crate::format::wal::{FragmentReader, FragmentType, PAGE_SIZE};
    let page = PAGE_SIZE as u64;
    let mut after = AfterDamage::default();
    // What the damage costs: every sample after it, whether or not its
    // Series record was read.
    let mut scratch = RefSet::all_known();
    let mut p = (damage / page + 1) * page;
    while p < bytes.len() as u64 {
        let start = FragmentReader::starting_at(bytes, p)
            .map_while(Result::ok)
            .find(|f| matches!(f.kind, FragmentType::Full | FragmentType::First))
            .map(|f| f.offset);
        let Some(start) = start.filter(|&s| s < p + page) else {
            p += page;
            continue;
        };
        let s = scan_records(RecordReader::starting_at(bytes, start), &mut scratch);
        let c = &s.counts;
        if c.records > 0 {
            after.resumed_at.get_or_insert(start);
            after.records += c.records;
            after.samples += c.float_samples + c.histogram_samples + c.float_histogram_samples;
            after.time.merge(c.time);
        }
        let stop = match (&s.corruption, s.torn_offset) {
            (Some(e), _) => e.offset,
            (None, Some(t)) => t,
            (None, None) => break,
        };
        p = (stop.max(p) / page + 1) * page;
    }
    after
}

/// A series reference no WAL holds (Prometheus hands out refs counting up
/// from 1): a `series` set containing it treats every sample as having its
/// Series record. For segments scanned on their own (before the replayed
/// checkpoint), where the records that created their series are elsewhere.
pub const ALL_SERIES_KNOWN: SeriesRef = SeriesRef(u64::MAX);

fn scan_records(mut reader: RecordReader<'_>, series: &mut RefSet) -> SegmentScan {
    scan_records_committed(&mut reader, series).0
}

/// [`scan_records`], plus the fragment counts of the complete records only.
fn scan_records_committed(
    reader: &mut RecordReader<'_>,
    series: &mut RefSet,
) -> (SegmentScan, FragmentStats) {
    let mut scan = SegmentScan::default();
    let mut by_type = [0u64; 256];
    let mut empty = 0u64;
    while let Some(item) = reader.next_record() {
        let rec = match item {
            Ok(rec) => rec,
            Err(WalError::Torn { offset, .. }) => {
                scan.torn_tail = true;
                scan.torn_offset = Some(offset);
                break;
            }
            Err(e) => {
                scan.corruption = Some(Problem {
                    offset: e.offset(),
                    code: FindingCode::of_wal(e.kind()),
                    message: e.to_string(),
                });
                break;
            }
        };
        let c = &mut scan.counts;
        c.records += 1;
        match rec.compression {
            Compression::None => c.compression.none += 1,
            Compression::Snappy => c.compression.snappy += 1,
            Compression::Zstd => c.compression.zstd += 1,
        }
        let Some(ty) = record::record_type(rec.data) else {
            empty += 1;
            continue;
        };
        if let Some(slot) = by_type.get_mut(usize::from(ty.byte())) {
            *slot += 1;
        }
        let res = count_record(&mut scan, series, ty, rec.data, rec.offset);
        if let Err(e) = res {
            scan.counts.malformed_records += 1;
            if scan.record_errors.len() < MAX_RECORD_ERRORS {
                scan.record_errors.push(Problem {
                    offset: rec.offset,
                    code: FindingCode::WalRecordCorrupt,
                    message: format!("{ty} record: {e} (offset in the decoded record)"),
                });
            }
        }
    }
    scan.valid_offset = reader.valid_offset();
    scan.fragments = reader.fragment_stats();
    for (b, &n) in by_type.iter().enumerate() {
        if n > 0 {
            let ty = RecordType::from_byte(b as u8);
            scan.counts.records_by_type.insert(ty.to_string(), n);
        }
    }
    if empty > 0 {
        scan.counts.records_by_type.insert("empty".into(), empty);
    }
    (scan, reader.committed_fragment_stats())
}

/// Counts one record of type `ty` (its samples' times, its series known or
/// not); a record the decoder refuses is the error.
#[inline]
fn count_record(
    scan: &mut SegmentScan,
    series: &mut RefSet,
    ty: RecordType,
    data: &[u8],
    offset: u64,
) -> crate::format::error::Result<()> {
    let c = &mut scan.counts;
    match ty {
        RecordType::Series => record::for_each_series(data, 0, |r, _| {
            series.insert(r);
        })
        .map(|n| c.series_created += n as u64),
        RecordType::Samples | RecordType::SamplesV2 => {
            if let Some(s) = summarise_samples(data, series) {
                c.float_samples += s.known;
                c.unknown_series_samples += s.unknown;
                if let Some((lo, hi)) = s.range {
                    c.time.add(lo);
                    c.time.add(hi);
                }
                return Ok(());
            }
            let all_known = series.contains(ALL_SERIES_KNOWN);
            let (time, unknown) = (&mut c.time, &mut c.unknown_series_samples);
            let mut known = 0u64;
            record::for_each_sample_with_st(data, 0, |s| {
                if all_known || series.contains(s.series_ref) {
                    known += 1;
                    time.add(s.t);
                } else {
                    *unknown += 1;
                }
            })
            .map(|_| c.float_samples += known)
        }
        t if t.is_histogram_samples() || t.is_float_histogram_samples() => {
            let all_known = series.contains(ALL_SERIES_KNOWN);
            let (time, unknown) = (&mut c.time, &mut c.unknown_series_histograms);
            let mut known = 0u64;
            let mut see = |r: SeriesRef, t: i64| {
                if all_known || series.contains(r) {
                    known += 1;
                    time.add(t);
                } else {
                    *unknown += 1;
                }
            };
            if t.is_histogram_samples() {
                record::for_each_histogram(data, 0, |at, _| see(at.series_ref, at.t))
                    .map(|_| c.histogram_samples += known)
            } else {
                record::for_each_float_histogram(data, 0, |at, _| see(at.series_ref, at.t))
                    .map(|_| c.float_histogram_samples += known)
            }
        }
        RecordType::Tombstones => {
            record::for_each_tombstone(data, 0, |_, _, _| {}).map(|n| c.tombstones += n as u64)
        }
        RecordType::Exemplars => {
            record::for_each_exemplar(data, 0, |_| {}).map(|n| c.exemplars += n as u64)
        }
        RecordType::Metadata => {
            record::for_each_metadata(data, 0, |_| {}).map(|n| c.metadata += n as u64)
        }
        RecordType::MmapMarkers => {
            record::for_each_mmap_marker(data, 0, |_, _| {}).map(|n| c.mmap_markers += n as u64)
        }
        RecordType::MinValidTime => {
            record::min_valid_time(data, 0).map(|t| scan.min_valid_time = Some(t))
        }
        RecordType::Unknown(b) => {
            if scan.unknown_record.is_none() {
                scan.unknown_record = Some(Problem {
                    offset,
                    code: FindingCode::RecordUnknownType,
                    message: format!("record of unknown type {b}"),
                });
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Bytes read at a time by [`scan_segment_file`] (a page multiple).
pub const READ_WINDOW: usize = 4 << 20;

/// [`scan_segment`] over a file, read [`READ_WINDOW`] bytes at a time so
/// memory stays bounded (a window grows only for a record larger than it).
/// Damaged segments are read whole, to re-synchronise after the damage.
/// Returns the size read and the scan.
pub fn scan_segment_file(
    path: &Path,
    series: &mut HashSet<SeriesRef>,
) -> io::Result<(u64, SegmentScan)> {
    let mut refs = RefSet::from_set(series);
    let r = scan_segment_file_with(path, &mut refs, READ_WINDOW);
    series.extend(refs.to_hash_set());
    r
}

pub(super) fn scan_segment_file_with(
    path: &Path,
    series: &mut RefSet,
    window: usize,
) -> io::Result<(u64, SegmentScan)> {
    let f = crate::fileutil::open_input(path)?;
    // One buffer per thread, kept across segments: a fresh one would cost
    // the kernel a page clear per page on every file.
    let mut buf = READ_BUF.with(|b| std::mem::take(&mut *b.borrow_mut()));
    let r = scan_windows(Source::Read { f, buf: &mut buf }, path, series, window);
    if buf.capacity() <= 4 * READ_WINDOW {
        READ_BUF.with(|b| *b.borrow_mut() = buf);
    }
    r
}

/// [`scan_segment_file_with`] over a read-only mapping of a sealed segment
/// (no copy into a buffer; pages already read are released as the scan
/// goes, so resident memory stays at about one window). Falls back to plain
/// reads when the file cannot be mapped or is in the pre-2.0 WAL format,
/// whose migration may shorten files in place.
pub(super) fn scan_sealed_segment_file_with(
    path: &Path,
    series: &mut RefSet,
    window: usize,
) -> io::Result<(u64, SegmentScan)> {
    match crate::fileutil::map_wal_segment(path) {
        Ok(Some(map)) => scan_windows(
            Source::Mapped {
                map: &map,
                released: 0,
            },
            path,
            series,
            window,
        ),
        _ => scan_segment_file_with(path, series, window),
    }
}

thread_local! {
    static READ_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Where [`scan_windows`] gets a segment's bytes.
enum Source<'a> {
    /// Plain reads into a reused buffer (any segment).
    Read { f: fs::File, buf: &'a mut Vec<u8> },
    /// A read-only mapping of a sealed segment; `released` is how far its
    /// pages were handed back.
    Mapped {
        map: &'a crate::fileutil::FileBytes,
        released: u64,
    },
}

impl Source<'_> {
    /// Up to `win` bytes from offset `base` (fewer at the end of the file).
    fn window(&mut self, base: u64, win: usize) -> io::Result<&[u8]> {
        match self {
            Source::Read { f, buf } => {
                use std::io::{Read, Seek, SeekFrom};
                buf.clear();
                f.seek(SeekFrom::Start(base))?;
                (&*f).take(win as u64).read_to_end(buf)?;
                Ok(buf.as_slice())
            }
            Source::Mapped { map, released } => {
                if base > *released {
                    map.release(*released, base);
                    *released = base;
                }
                let start = usize::try_from(base).unwrap_or(usize::MAX).min(map.len());
                let end = start.saturating_add(win).min(map.len());
                Ok(map.get(start..end).unwrap_or_default())
            }
        }
    }

    /// Scans the whole segment (to re-synchronise after damage). A segment
    /// read in windows is mapped for it, not read onto the heap: a segment
    /// grown by damage would make memory follow the damage (see
    /// [`crate::fileutil::map_wal_segment`] for why mapping the newest
    /// segment is safe; only the pre-2.0 format is read whole).
    fn scan_whole(&self, path: &Path, series: &mut RefSet) -> io::Result<(u64, SegmentScan)> {
        match self {
            Source::Read { .. } => {
                let bytes = crate::fileutil::wal_segment_bytes(path)?;
                Ok((bytes.len() as u64, scan_segment_refs(&bytes, series)))
            }
            Source::Mapped { map, .. } => Ok((map.len() as u64, scan_segment_refs(map, series))),
        }
    }
}

fn scan_windows(
    mut src: Source<'_>,
    path: &Path,
    series: &mut RefSet,
    window: usize,
) -> io::Result<(u64, SegmentScan)> {
    let page = crate::format::wal::PAGE_SIZE as u64;
    let mut total = SegmentScan::default();
    let mut stats = FragmentStats::default();
    let page_us = crate::format::wal::PAGE_SIZE;
    let (mut base, mut start, mut win) = (0u64, 0u64, window.div_ceil(page_us).max(1) * page_us);
    let mut bufs = crate::format::wal::RecordBuffers::default();
    let mut len;
    loop {
        let buf = src.window(base, win)?;
        len = buf.len();
        let at_eof = len < win;
        let mut reader =
            RecordReader::starting_at(buf, start).with_buffers(std::mem::take(&mut bufs));
        let (s, committed) = scan_records_committed(&mut reader, series);
        bufs = reader.into_buffers();
        if s.corruption.is_some() {
            // Rare: the whole segment for the re-synchronisation.
            return src.scan_whole(path, series);
        }
        let torn_inside = s.torn_offset.filter(|_| !at_eof);
        let st = if torn_inside.is_some() {
            committed
        } else {
            s.fragments
        };
        stats.full += st.full;
        stats.first += st.first;
        stats.middle += st.middle;
        stats.last += st.last;
        stats.page_crossings += st.page_crossings;
        stats.odd_type_bytes += st.odd_type_bytes;
        if stats.first_odd_type_byte.is_none() {
            stats.first_odd_type_byte = st.first_odd_type_byte.map(|o| o + base);
        }
        total.counts.merge(&s.counts);
        if s.counts.records > 0 {
            total.valid_offset = base + s.valid_offset;
        }
        for mut e in s.record_errors {
            if total.record_errors.len() < MAX_RECORD_ERRORS {
                e.offset += base;
                total.record_errors.push(e);
            }
        }
        if let (None, Some(mut u)) = (&total.unknown_record, s.unknown_record) {
            u.offset += base;
            total.unknown_record = Some(u);
        }
        if s.min_valid_time.is_some() {
            total.min_valid_time = s.min_valid_time;
        }
        match (torn_inside, s.torn_offset) {
            (Some(t), _) => {
                // The window ends inside a record: go on from its start.
                let abs = base + t;
                let new_base = abs / page * page;
                if abs == base + start {
                    win = win.saturating_mul(2);
                }
                base = new_base;
                start = abs - new_base;
            }
            (None, Some(t)) => {
                total.torn_tail = true;
                total.torn_offset = Some(base + t);
                break;
            }
            (None, None) if at_eof => break,
            (None, None) => {
                base += len as u64;
                start = 0;
            }
        }
    }
    total.fragments = stats;
    Ok((base + len as u64, total))
}

/// One WAL (or checkpoint, or WBL) segment file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentReport {
    /// File name (`00000012`).
    pub name: String,
    /// Segment number.
    pub index: u32,
    /// Path.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// What was read.
    #[serde(flatten)]
    pub scan: SegmentScan,
    /// The file could not be read.
    pub read_error: Option<String>,
}

/// Reads one segment file into a report. `sealed`: Prometheus no longer
/// writes to it (see [`crate::fileutil::map_wal_segment`]), so it is
/// mapped rather than read.
pub(super) fn inspect_segment_file(
    index: u32,
    path: &Path,
    sealed: bool,
    series: &mut RefSet,
) -> SegmentReport {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    crate::copy::fsops::test_pause("wal_segment", &path.to_string_lossy());
    let scanned = if sealed {
        scan_sealed_segment_file_with(path, series, READ_WINDOW)
    } else {
        scan_segment_file_with(path, series, READ_WINDOW)
    };
    let (size, scan, read_error) = match scanned {
        Ok((size, scan)) => (size, scan, None),
        Err(e) => (
            fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            SegmentScan::default(),
            Some(e.to_string()),
        ),
    };
    SegmentReport {
        name,
        index,
        path: path.to_path_buf(),
        size,
        scan,
        read_error,
    }
}

/// A missing run of segment numbers (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// First missing number.
    pub first: u32,
    /// Last missing number.
    pub last: u32,
}

pub(super) fn gaps_of(segments: &[SegmentReport]) -> Vec<Gap> {
    let idx: Vec<u32> = segments.iter().map(|s| s.index).collect();
    names::gaps(&idx)
        .into_iter()
        .map(|(first, last)| Gap { first, last })
        .collect()
}

/// The sample-time range of what can be read of the torn record that starts
/// at `torn_offset` in `bytes`: its complete fragments and the bytes of the
/// cut one, decompressed as far as they go (snappy or none), decoded as a
/// samples record as far as whole samples go. Prometheus's repair drops this
/// record with the rest of the segment, so its samples are part of the loss.
pub fn torn_record_time(bytes: &[u8], torn_offset: u64) -> TimeRange {
    use crate::format::wal::{Compression, FRAGMENT_HEADER_SIZE, FragmentReader};
    let mut data = Vec::new();
    let mut compression = None;
    let mut next = torn_offset;
    for f in FragmentReader::starting_at(bytes, torn_offset) {
        let Ok(f) = f else { break };
        compression.get_or_insert(f.compression);
        data.extend_from_slice(f.data);
        next = f.end_offset();
    }
    // The cut fragment: its header, then whatever data is left.
    let start = usize::try_from(next).unwrap_or(usize::MAX);
    if let Some(h) = bytes.get(start..start.saturating_add(FRAGMENT_HEADER_SIZE))
        && let Some(&t) = h.first().filter(|&&b| b != 0)
    {
        {
            compression.get_or_insert(Compression::from_type_byte(t));
            let end = bytes.len().min(start + FRAGMENT_HEADER_SIZE + 65536);
            data.extend_from_slice(bytes.get(start + FRAGMENT_HEADER_SIZE..end).unwrap_or(&[]));
        }
    }
    let rec = match compression {
        Some(Compression::Snappy) => snappy_prefix(&data),
        Some(Compression::None) => data,
        _ => return TimeRange::default(),
    };
    samples_prefix_time(&rec)
}

/// Decompresses as much of a snappy block as `src` holds (bounded by the
/// block's declared length and 64 MiB); stops at the first cut or bad element.
fn snappy_prefix(src: &[u8]) -> Vec<u8> {
    let mut i = 0usize;
    let mut total: u64 = 0;
    let mut shift = 0;
    loop {
        let Some(&b) = src.get(i) else {
            return Vec::new();
        };
        i += 1;
        total |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            break;
        }
        shift += 7;
        if shift > 35 {
            return Vec::new();
        }
    }
    let cap = usize::try_from(total).unwrap_or(0).min(64 << 20);
    let mut out: Vec<u8> = Vec::with_capacity(cap.min(1 << 20));
    while out.len() < cap {
        let Some(&tag) = src.get(i) else { break };
        i += 1;
        let le = |bs: &[u8]| {
            bs.iter()
                .rev()
                .fold(0usize, |a, &b| (a << 8) | usize::from(b))
        };
        let (len, offset) = match tag & 3 {
            0 => {
                let mut len = usize::from(tag >> 2);
                if len >= 60 {
                    let n = len - 59;
                    let Some(bs) = src.get(i..i + n) else { break };
                    len = le(bs);
                    i += n;
                }
                let len = len + 1;
                let avail = src.get(i..).unwrap_or(&[]);
                let take = len.min(avail.len()).min(cap - out.len());
                out.extend_from_slice(avail.get(..take).unwrap_or(&[]));
                i += take;
                if take < len {
                    break;
                }
                continue;
            }
            1 => {
                let Some(&b) = src.get(i) else { break };
                i += 1;
                (
                    4 + usize::from((tag >> 2) & 7),
                    (usize::from(tag & 0xe0) << 3) | usize::from(b),
                )
            }
            2 => {
                let Some(bs) = src.get(i..i + 2) else { break };
                i += 2;
                (usize::from(tag >> 2) + 1, le(bs))
            }
            _ => {
                let Some(bs) = src.get(i..i + 4) else { break };
                i += 4;
                (usize::from(tag >> 2) + 1, le(bs))
            }
        };
        if offset == 0 || offset > out.len() {
            break;
        }
        for _ in 0..len.min(cap - out.len()) {
            let b = out[out.len() - offset];
            out.push(b);
        }
    }
    out
}

/// Min/max time of the whole samples at the start of a (possibly cut)
/// samples record (type 2): type, first ref, base time, then per sample a
/// ref delta, a time delta and an 8-byte value.
fn samples_prefix_time(rec: &[u8]) -> TimeRange {
    let mut t = TimeRange::default();
    if rec.first() != Some(&2) {
        return t;
    }
    let Some(base) = rec.get(9..17).and_then(|b| <[u8; 8]>::try_from(b).ok()) else {
        return t;
    };
    let base = i64::from_be_bytes(base);
    let mut i = 17usize;
    let varint = |i: &mut usize| -> Option<u64> {
        let mut v = 0u64;
        for k in 0..10 {
            let b = *rec.get(*i)?;
            *i += 1;
            v |= u64::from(b & 0x7f) << (7 * k);
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    };
    loop {
        let mut j = i;
        let Some(_) = varint(&mut j) else { break };
        let Some(dt) = varint(&mut j) else { break };
        if rec.get(j..j + 8).is_none() {
            break;
        }
        let dt = ((dt >> 1) as i64) ^ -((dt & 1) as i64);
        let ts = base.wrapping_add(dt);
        t.min_t = Some(t.min_t.map_or(ts, |m| m.min(ts)));
        t.max_t = Some(t.max_t.map_or(ts, |m| m.max(ts)));
        i = j + 8;
    }
    t
}
