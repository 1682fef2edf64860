//! Filling a [`WalView`] from a directory, and reading the head's samples
//! for `gaps`. TEMPORARY minimal reader (pages, fragments, snappy/zstd,
//! Series and Samples records), to be replaced by `format::wal` /
//! `walinfo` when they land in main.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::wal::{DEFAULT_SEGMENT_SIZE, SegmentKind, SegmentRange, WalView};

const PAGE: usize = 32 * 1024;

fn mtime_ms(p: &Path) -> Option<i64> {
    let m = std::fs::metadata(p).ok()?.modified().ok()?;
    Some(m.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64)
}

/// One decoded record, or the reason reading stopped.
pub(crate) enum Item {
    /// A record's bytes (decompressed).
    Record(Vec<u8>),
    /// Damage at this offset; reading stopped.
    Damage(u64, String),
    /// The data ends inside a record.
    Torn(u64),
}

/// Every record of a segment's bytes, in order.
pub(crate) fn records(bytes: &[u8]) -> Vec<Item> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut buf: Vec<u8> = Vec::new();
    let mut open: Option<(usize, u8)> = None;
    while pos < bytes.len() {
        let in_page = pos % PAGE;
        if PAGE - in_page < 7 {
            pos += PAGE - in_page;
            continue;
        }
        let Some(&tb) = bytes.get(pos) else { break };
        let ftype = tb & 7;
        if ftype == 0 {
            pos += PAGE - in_page;
            continue;
        }
        let Some(h) = bytes.get(pos + 1..pos + 7) else {
            out.push(Item::Torn(pos as u64));
            return out;
        };
        let len = u16::from_be_bytes([h[0], h[1]]) as usize;
        let crc = u32::from_be_bytes([h[2], h[3], h[4], h[5]]);
        let Some(data) = bytes.get(pos + 7..pos + 7 + len) else {
            out.push(Item::Torn(pos as u64));
            return out;
        };
        if in_page + 7 + len > PAGE || ftype > 4 {
            out.push(Item::Damage(pos as u64, "invalid fragment header".into()));
            return out;
        }
        if crc32c::crc32c(data) != crc {
            out.push(Item::Damage(
                pos as u64,
                "fragment checksum mismatch".into(),
            ));
            return out;
        }
        let start = pos;
        pos += 7 + len;
        match (ftype, open) {
            (1, None) => {
                out.push(decompress(tb, data.to_vec(), start));
            }
            (2, None) => {
                buf.clear();
                buf.extend_from_slice(data);
                open = Some((start, tb));
            }
            (3, Some(_)) => buf.extend_from_slice(data),
            (4, Some((s, t))) => {
                buf.extend_from_slice(data);
                out.push(decompress(t, std::mem::take(&mut buf), s));
                open = None;
            }
            _ => {
                out.push(Item::Damage(
                    start as u64,
                    "fragment out of sequence".into(),
                ));
                return out;
            }
        }
    }
    if let Some((s, _)) = open {
        out.push(Item::Torn(s as u64));
    }
    out
}

fn decompress(type_byte: u8, data: Vec<u8>, at: usize) -> Item {
    if type_byte & 0x08 != 0 {
        match snap::raw::Decoder::new().decompress_vec(&data) {
            Ok(d) => Item::Record(d),
            Err(e) => Item::Damage(at as u64, format!("snappy: {e}")),
        }
    } else if type_byte & 0x10 != 0 {
        match zstd::bulk::decompress(&data, 64 << 20) {
            Ok(d) => Item::Record(d),
            Err(e) => Item::Damage(at as u64, format!("zstd: {e}")),
        }
    } else {
        Item::Record(data)
    }
}

/// A label set as read from a Series record.
pub(crate) type LabelPairs = Vec<(String, String)>;

/// Maps a series' labels to the key its samples are kept under (`None`: skip).
pub(crate) type KeepFn<'a> = dyn FnMut(&[(String, String)]) -> Option<String> + 'a;

struct Cur<'a> {
    b: &'a [u8],
    p: usize,
}

impl Cur<'_> {
    fn be64(&mut self) -> Option<u64> {
        let s = self.b.get(self.p..self.p + 8)?;
        self.p += 8;
        Some(u64::from_be_bytes(s.try_into().ok()?))
    }
    fn uvarint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = *self.b.get(self.p)?;
            self.p += 1;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    fn varint(&mut self) -> Option<i64> {
        let u = self.uvarint()?;
        Some(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
    fn bytes(&mut self) -> Option<&[u8]> {
        let n = self.uvarint()? as usize;
        let s = self.b.get(self.p..self.p + n)?;
        self.p += n;
        Some(s)
    }
    fn done(&self) -> bool {
        self.p >= self.b.len()
    }
}

/// Series refs and labels of a Series (1) record.
pub(crate) fn series(rec: &[u8]) -> Option<Vec<(u64, LabelPairs)>> {
    let mut c = Cur { b: rec, p: 1 };
    let mut out = Vec::new();
    while !c.done() {
        let r = c.be64()?;
        let n = c.uvarint()?;
        let mut ls = Vec::new();
        for _ in 0..n {
            let k = String::from_utf8_lossy(c.bytes()?).into_owned();
            let v = String::from_utf8_lossy(c.bytes()?).into_owned();
            ls.push((k, v));
        }
        out.push((r, ls));
    }
    Some(out)
}

/// (ref, t) of every sample of a Samples (2) record; for histogram records
/// (7, 8) only the base (ref, t).
pub(crate) fn sample_times(rec: &[u8]) -> Option<Vec<(u64, i64)>> {
    let ty = *rec.first()?;
    let mut c = Cur { b: rec, p: 1 };
    let mut out = Vec::new();
    if c.done() {
        return Some(out);
    }
    let base_ref = c.be64()?;
    let base_t = c.be64()? as i64;
    match ty {
        2 => {
            while !c.done() {
                let dr = c.varint()?;
                let dt = c.varint()?;
                c.be64()?;
                out.push((base_ref.wrapping_add(dr as u64), base_t.wrapping_add(dt)));
            }
        }
        _ => {
            let dr = c.varint()?;
            let dt = c.varint()?;
            out.push((base_ref.wrapping_add(dr as u64), base_t.wrapping_add(dt)));
        }
    }
    Some(out)
}

fn is_sample_record(t: u8) -> bool {
    matches!(t, 2 | 7 | 8 | 9 | 10)
}

fn scan_file(path: &Path, kind: SegmentKind, index: u32, name: String) -> SegmentRange {
    let mut r = SegmentRange {
        name,
        index,
        kind,
        min_t: None,
        max_t: None,
        size: 0,
        mtime: mtime_ms(path),
        first_record_ok: true,
        last_record_ok: true,
        problem: None,
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            r.problem = Some(format!("unreadable: {e}"));
            r.first_record_ok = false;
            r.last_record_ok = false;
            return r;
        }
    };
    r.size = bytes.len() as u64;
    let items = records(&bytes);
    for (i, it) in items.iter().enumerate() {
        match it {
            Item::Record(rec) => {
                if rec.first().copied().is_some_and(is_sample_record) {
                    match sample_times(rec) {
                        Some(v) => {
                            for (_, t) in v {
                                if !super::plausible(t) {
                                    r.problem.get_or_insert_with(|| {
                                        format!("implausible sample time {t} ignored")
                                    });
                                    continue;
                                }
                                r.min_t = Some(r.min_t.map_or(t, |m| m.min(t)));
                                r.max_t = Some(r.max_t.map_or(t, |m| m.max(t)));
                            }
                        }
                        None => {
                            r.problem
                                .get_or_insert_with(|| "malformed samples record".into());
                        }
                    }
                }
            }
            Item::Damage(off, msg) => {
                if i == 0 {
                    r.first_record_ok = false;
                }
                r.last_record_ok = false;
                r.problem = Some(format!(
                    "damaged at offset {off}: {msg}; the rest is unread"
                ));
            }
            Item::Torn(off) => {
                r.last_record_ok = false;
                r.problem = Some(format!(
                    "torn record at offset {off} (a crash or a copy mid-write)"
                ));
            }
        }
    }
    r
}

fn segment_files(dir: &Path) -> std::io::Result<Vec<(u32, PathBuf)>> {
    let mut v = Vec::new();
    for ent in std::fs::read_dir(dir)? {
        let ent = ent?;
        let name = ent.file_name().to_string_lossy().into_owned();
        if !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_digit())
            && let Ok(i) = name.parse::<u32>()
            && ent.path().is_file()
        {
            v.push((i, ent.path()));
        }
    }
    v.sort();
    Ok(v)
}

/// The newest complete checkpoint directory of a `wal/`.
pub(crate) fn last_checkpoint(wal: &Path) -> std::io::Result<Option<(u32, PathBuf)>> {
    let mut best: Option<(u32, PathBuf)> = None;
    for ent in std::fs::read_dir(wal)? {
        let ent = ent?;
        let name = ent.file_name().to_string_lossy().into_owned();
        if let Some(n) = name
            .strip_prefix("checkpoint.")
            .and_then(|n| n.parse::<u32>().ok())
            && ent.path().is_dir()
            && best.as_ref().is_none_or(|(b, _)| *b < n)
        {
            best = Some((n, ent.path()));
        }
    }
    Ok(best)
}

/// The `wal/` under `dir`, or `dir` itself.
pub(crate) fn wal_dir(dir: &Path) -> PathBuf {
    if dir.join("wal").is_dir() {
        dir.join("wal")
    } else {
        dir.to_path_buf()
    }
}

/// Reads `dir` (a `wal/` directory, or a data dir holding one).
pub fn read_wal(dir: &Path, observed_at: Option<i64>) -> std::io::Result<WalView> {
    let wal = wal_dir(dir);
    let mut newest = mtime_ms(&wal);
    let mut segments = Vec::new();
    for (i, p) in segment_files(&wal)? {
        let s = scan_file(&p, SegmentKind::Segment, i, format!("{i:08}"));
        newest = newest.max(s.mtime);
        segments.push(s);
    }
    let mut checkpoint = None;
    if let Some((n, p)) = last_checkpoint(&wal)? {
        let mut c = SegmentRange {
            name: p
                .file_name()
                .map(|x| x.to_string_lossy().into_owned())
                .unwrap_or_default(),
            index: n,
            kind: SegmentKind::Checkpoint,
            min_t: None,
            max_t: None,
            size: 0,
            mtime: mtime_ms(&p),
            first_record_ok: true,
            last_record_ok: true,
            problem: None,
        };
        for (i, sp) in segment_files(&p)? {
            let s = scan_file(&sp, SegmentKind::Segment, i, String::new());
            c.size += s.size;
            c.min_t = match (c.min_t, s.min_t) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            c.max_t = c.max_t.max(s.max_t);
            c.first_record_ok &= s.first_record_ok;
            c.last_record_ok &= s.last_record_ok;
            if s.problem.is_some() {
                c.problem = s.problem;
            }
        }
        checkpoint = Some(c);
    }
    let mut findings = Vec::new();
    for w in segments.windows(2) {
        if let [a, b] = w
            && b.index != a.index + 1
        {
            findings.push(format!(
                "segments {:08}..{:08} missing: Prometheus' WAL watcher fails on non-sequential segments",
                a.index + 1,
                b.index - 1
            ));
        }
    }
    let last = segments.last().map(|s| s.index);
    for s in &segments {
        if let Some(p) = &s.problem {
            // A torn tail of the segment being written is normal in a live copy.
            if !(Some(s.index) == last && s.first_record_ok && p.starts_with("torn")) {
                findings.push(format!("segment {}: {p}", s.name));
            }
        }
    }
    if let Some(c) = &checkpoint
        && let Some(p) = &c.problem
    {
        findings.push(format!("{}: {p}", c.name));
    }
    if let (Some(c), Some(f)) = (&checkpoint, segments.first())
        && f.index != c.index + 1
    {
        findings.push(format!(
            "{} is followed by segment {}, not {:08}",
            c.name,
            f.name,
            c.index + 1
        ));
    }
    Ok(WalView {
        dir: wal,
        observed_at: observed_at.or(newest).unwrap_or(0),
        segments,
        checkpoint,
        segment_size: DEFAULT_SEGMENT_SIZE,
        findings,
    })
}

/// Per-series sample timestamps of the head (checkpoint + segments), keyed
/// by the label set; calls `keep` to filter series. Returns errors found.
pub(crate) fn head_times(
    dir: &Path,
    keep: &mut KeepFn<'_>,
    range: (i64, i64),
    out: &mut HashMap<String, Vec<i64>>,
) -> (Vec<String>, Option<i64>) {
    let wal = wal_dir(dir);
    let mut errors = Vec::new();
    let mut files = Vec::new();
    let mut after = None;
    match last_checkpoint(&wal) {
        Ok(Some((n, p))) => {
            after = Some(n);
            match segment_files(&p) {
                Ok(v) => files.extend(v.into_iter().map(|(_, p)| p)),
                Err(e) => errors.push(format!("{}: {e}", p.display())),
            }
        }
        Ok(None) => {}
        Err(e) => errors.push(format!("{}: {e}", wal.display())),
    }
    match segment_files(&wal) {
        Ok(v) => files.extend(
            v.into_iter()
                .filter(|(i, _)| after.is_none_or(|n| *i > n))
                .map(|(_, p)| p),
        ),
        Err(e) => errors.push(format!("{}: {e}", wal.display())),
    }
    let mut refs: HashMap<u64, Option<String>> = HashMap::new();
    let mut max_t = None;
    for f in files {
        let bytes = match std::fs::read(&f) {
            Ok(b) => b,
            Err(e) => {
                errors.push(format!("{}: {e}", f.display()));
                continue;
            }
        };
        for it in records(&bytes) {
            match it {
                Item::Record(rec) => match rec.first() {
                    Some(1) => match series(&rec) {
                        Some(v) => {
                            for (r, ls) in v {
                                refs.insert(r, keep(&ls));
                            }
                        }
                        None => errors.push(format!("{}: malformed series record", f.display())),
                    },
                    Some(&t) if is_sample_record(t) => {
                        if let Some(v) = sample_times(&rec) {
                            for (r, t) in v {
                                max_t = max_t.max(Some(t));
                                if t < range.0 || t > range.1 {
                                    continue;
                                }
                                if let Some(Some(k)) = refs.get(&r) {
                                    out.entry(k.clone()).or_default().push(t);
                                }
                            }
                        }
                    }
                    _ => {}
                },
                Item::Damage(off, m) => errors.push(format!("{} at {off}: {m}", f.display())),
                Item::Torn(_) => {}
            }
        }
    }
    (errors, max_t)
}
