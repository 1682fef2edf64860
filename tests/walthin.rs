//! A *thinned* copy of a master's `wal/` for the recorded loss runs: the same
//! segment and checkpoint names, every record in the same order, but each
//! samples record cut to its first 3 samples plus the ones with the smallest
//! and largest timestamp, and each series record to its first 3 series plus
//! the series those kept samples refer to (other records kept when ≤ 4 KiB). Every segment keeps
//! its sample time
//! range and record sequence while a 10 MB segment of a 20 000-series master
//! shrinks to a few KiB. Records are written uncompressed, in Prometheus'
//! page format (32 KiB pages of CRC32C'd fragments).
//!
//! Since the eighteenth set ([`thin_dir_keeping`]) it also keeps the series
//! of every series the slave's refusal lines name, and in each segment each
//! target's newest samples record whole (its refs and timestamps as
//! written, every value zeroed, snappy-compressed as 2.42 may write it):
//! where a refused request's first sample sits among its shard's samples of
//! a scrape (`coverage`'s `places`).

use std::collections::HashSet;
use std::path::Path;

use promsnap::format::crc::crc32c;
use promsnap::format::wal::RecordReader;

const PAGE: usize = 32 * 1024;
const HDR: usize = 7;

/// Appends records to a segment in the WAL page format.
struct SegWriter {
    buf: Vec<u8>,
}

impl SegWriter {
    fn page_left(&self) -> usize {
        PAGE - self.buf.len() % PAGE
    }

    fn pad(&mut self) {
        let n = self.page_left();
        if n < PAGE {
            self.buf.resize(self.buf.len() + n, 0);
        }
    }

    fn record(&mut self, rec: &[u8]) {
        self.record_flagged(rec, 0);
    }

    /// A record snappy-compressed (block format), each fragment flagged.
    fn record_snappy(&mut self, rec: &[u8]) {
        let z = snap::raw::Encoder::new().compress_vec(rec).unwrap();
        self.record_flagged(&z, promsnap::format::wal::SNAPPY_FLAG);
    }

    fn record_flagged(&mut self, rec: &[u8], flag: u8) {
        let mut rest = rec;
        let mut first = true;
        loop {
            if self.page_left() < HDR + 1 {
                self.pad();
            }
            let room = self.page_left() - HDR;
            let n = rest.len().min(room);
            let last = n == rest.len();
            let typ: u8 = match (first, last) {
                (true, true) => 1,
                (true, false) => 2,
                (false, false) => 3,
                (false, true) => 4,
            };
            let frag = &rest[..n];
            self.buf.push(typ | flag);
            self.buf.extend_from_slice(&(n as u16).to_be_bytes());
            self.buf.extend_from_slice(&crc32c(frag).to_be_bytes());
            self.buf.extend_from_slice(frag);
            rest = &rest[n..];
            first = false;
            if last {
                return;
            }
        }
    }
}

fn uvarint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut x = 0u64;
    let mut s = 0;
    while *at < b.len() && s < 70 {
        let c = b[*at];
        *at += 1;
        x |= u64::from(c & 0x7f) << s;
        if c < 0x80 {
            return Some(x);
        }
        s += 7;
    }
    None
}

fn varint(b: &[u8], at: &mut usize) -> Option<i64> {
    let u = uvarint(b, at)?;
    Some(((u >> 1) as i64) ^ -((u & 1) as i64))
}

/// The samples a thinned samples record (type 2) keeps: its first 3 and
/// those with the smallest and largest timestamp, as `(start, end, series
/// ref)` byte ranges of `rec`; `None` if unparsable.
fn kept_samples(rec: &[u8]) -> Option<Vec<(usize, usize, u64)>> {
    if rec.len() < 17 {
        return None;
    }
    let base_ref = u64::from_be_bytes(rec[1..9].try_into().ok()?);
    let mut at = 17;
    let mut entries: Vec<(usize, usize, i64, u64)> = Vec::new();
    while at < rec.len() {
        let s = at;
        let dref = varint(rec, &mut at)?;
        let dt = varint(rec, &mut at)?;
        at += 8;
        if at > rec.len() {
            return None;
        }
        entries.push((s, at, dt, base_ref.wrapping_add(dref as u64)));
    }
    let mut keep: Vec<usize> = (0..entries.len().min(3)).collect();
    if let Some(i) = (0..entries.len()).min_by_key(|&i| entries[i].2) {
        keep.push(i);
    }
    if let Some(i) = (0..entries.len()).max_by_key(|&i| entries[i].2) {
        keep.push(i);
    }
    keep.sort_unstable();
    keep.dedup();
    Some(
        keep.into_iter()
            .map(|i| (entries[i].0, entries[i].1, entries[i].3))
            .collect(),
    )
}

/// A samples record (type 2) cut to a few samples; `None` if unparsable.
fn thin_samples(rec: &[u8]) -> Option<Vec<u8>> {
    let mut out = rec.get(..17)?.to_vec();
    for (s, e, _) in kept_samples(rec)? {
        out.extend_from_slice(&rec[s..e]);
    }
    Some(out)
}

/// A samples record (type 2) whole, every value zeroed; `None` if
/// unparsable.
fn zeroed_samples(rec: &[u8]) -> Option<Vec<u8>> {
    let mut out = rec.get(..17)?.to_vec();
    let mut at = 17;
    while at < rec.len() {
        let s = at;
        varint(rec, &mut at)?;
        varint(rec, &mut at)?;
        out.extend_from_slice(rec.get(s..at)?);
        out.extend_from_slice(&[0; 8]);
        at += 8;
    }
    (at == rec.len()).then_some(out)
}

/// The first ref of a samples record (its target: `coverage`'s scrapes).
fn first_ref(rec: &[u8]) -> Option<u64> {
    let base = u64::from_be_bytes(rec.get(1..9)?.try_into().ok()?);
    let mut at = 17;
    let d = varint(rec, &mut at)?;
    Some(base.wrapping_add(d as u64))
}

/// A series record's entries as `(start, end, ref, labels.String())`.
fn series_entries(rec: &[u8]) -> Option<Vec<(usize, usize, u64, String)>> {
    let mut at = 1;
    let mut out = Vec::new();
    while at < rec.len() {
        let s = at;
        let r = u64::from_be_bytes(rec.get(at..at + 8)?.try_into().ok()?);
        at += 8;
        let n = uvarint(rec, &mut at)?;
        let mut pairs = Vec::new();
        for _ in 0..n {
            let mut kv = [String::new(), String::new()];
            for x in &mut kv {
                let l = uvarint(rec, &mut at)? as usize;
                *x = String::from_utf8_lossy(rec.get(at..at + l)?).into_owned();
                at += l;
            }
            pairs.push((kv[0].clone(), kv[1].clone()));
        }
        out.push((s, at, r, promsnap::coverage::places::labels_string(&pairs)));
    }
    Some(out)
}

/// A series record (type 1) cut to its first 3 series plus those in
/// `needed` (referred to by a kept sample: a WAL reader counts the samples
/// of known series only, so the segments keep their time ranges).
fn thin_series(rec: &[u8], needed: &HashSet<u64>) -> Option<Vec<u8>> {
    let mut at = 1;
    let mut out = rec.first().map(|t| vec![*t])?;
    let mut n_series = 0;
    while at < rec.len() {
        let s = at;
        let r = u64::from_be_bytes(rec.get(at..at + 8)?.try_into().ok()?);
        at += 8;
        let n = uvarint(rec, &mut at)?;
        for _ in 0..2 * n {
            let l = uvarint(rec, &mut at)? as usize;
            at += l;
        }
        if at > rec.len() {
            return None;
        }
        if n_series < 3 || needed.contains(&r) {
            out.extend_from_slice(&rec[s..at]);
        }
        n_series += 1;
    }
    Some(out)
}

/// The series refs of every sample the thinning keeps, in every segment
/// under `dir` (checkpoints included).
fn needed_refs(dir: &Path, out: &mut HashSet<u64>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        if e.path().is_dir() {
            needed_refs(&e.path(), out);
            continue;
        }
        let Ok(bytes) = std::fs::read(e.path()) else {
            continue;
        };
        for r in RecordReader::new(&bytes) {
            let Ok(r) = r else { break };
            if r.data.first() == Some(&2) {
                out.extend(kept_samples(&r.data).into_iter().flatten().map(|k| k.2));
            }
        }
    }
}

fn thin_segment(src: &Path, dst: &Path, needed: &HashSet<u64>, whole: bool) {
    let bytes = std::fs::read(src).unwrap();
    let mut w = SegWriter { buf: Vec::new() };
    let records: Vec<Vec<u8>> = RecordReader::new(&bytes)
        .map_while(Result::ok)
        .map(|r| r.data)
        .collect();
    // Each target's newest samples record (by first ref), kept whole.
    let mut newest = std::collections::HashMap::new();
    if whole {
        for (i, d) in records.iter().enumerate() {
            if d.first() == Some(&2)
                && let Some(f) = first_ref(d)
            {
                newest.insert(f, i);
            }
        }
    }
    let kept: HashSet<usize> = newest.into_values().collect();
    for (i, d) in records.iter().enumerate() {
        if kept.contains(&i)
            && let Some(z) = zeroed_samples(d)
        {
            w.record_snappy(&z);
            continue;
        }
        let out = match d.first() {
            Some(2) => thin_samples(d),
            Some(1) => thin_series(d, needed),
            _ if d.len() <= 4096 => Some(d.clone()),
            _ => None,
        };
        if let Some(o) = out {
            w.record(&o);
        }
    }
    std::fs::write(dst, &w.buf).unwrap();
}

/// Thins every segment under `src` (and its checkpoint dirs) into `dst`.
pub(crate) fn thin_dir(src: &Path, dst: &Path) {
    let mut needed = HashSet::new();
    needed_refs(src, &mut needed);
    thin_dir_with(src, dst, &needed, false);
}

/// [`thin_dir`], keeping also the series records of the series `named`
/// (`labels.String()` as the slave's refusal lines write them) and each
/// target's newest samples record of every segment whole (the module's
/// doc).
pub(crate) fn thin_dir_keeping(src: &Path, dst: &Path, named: &HashSet<String>) {
    let mut needed = HashSet::new();
    needed_refs(src, &mut needed);
    named_refs(src, named, &mut needed);
    thin_dir_with(src, dst, &needed, true);
}

/// The refs of the series `named` names, from every series record under
/// `dir` (checkpoints included).
fn named_refs(dir: &Path, named: &HashSet<String>, out: &mut HashSet<u64>) {
    if named.is_empty() {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        if e.path().is_dir() {
            named_refs(&e.path(), named, out);
            continue;
        }
        let Ok(bytes) = std::fs::read(e.path()) else {
            continue;
        };
        for r in RecordReader::new(&bytes) {
            let Ok(r) = r else { break };
            if r.data.first() == Some(&1) {
                let es = series_entries(&r.data).unwrap_or_default();
                out.extend(es.into_iter().filter(|e| named.contains(&e.3)).map(|e| e.2));
            }
        }
    }
}

fn thin_dir_with(src: &Path, dst: &Path, needed: &HashSet<u64>, whole: bool) {
    std::fs::create_dir_all(dst).unwrap();
    let mut es: Vec<_> = std::fs::read_dir(src).unwrap().flatten().collect();
    es.sort_by_key(|e| e.file_name());
    for e in es {
        let to = dst.join(e.file_name());
        if e.path().is_dir() {
            thin_dir_with(&e.path(), &to, needed, whole);
        } else {
            thin_segment(&e.path(), &to, needed, whole);
        }
    }
}

/// The eighteenth set's thinning, on a real 2.42 WAL (snappy, with a
/// checkpoint): the series named are placed in the thinned copy as in the
/// whole WAL (same ref, same record order: a whole samples record kept).
#[test]
fn thinning_keeping_named_series_places_them_as_the_whole_wal() {
    use promsnap::coverage::places::{Places, labels_string};
    use promsnap::coverage::slavelog::series_key;
    use promsnap::format::record;
    let wal =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/prom-2.42-live/data/wal");
    // A few series the WAL creates, by labels as the slave writes them.
    let mut named = HashSet::new();
    for e in std::fs::read_dir(&wal).unwrap().flatten() {
        if !e.path().is_file() {
            continue;
        }
        let bytes = std::fs::read(e.path()).unwrap();
        for r in RecordReader::new(&bytes) {
            let Ok(r) = r else { break };
            if r.data.first() == Some(&1) {
                let _ = record::for_each_series(&r.data, 0, |_, l| {
                    if named.len() < 20 {
                        named.insert(labels_string(&l.to_vec()));
                    }
                });
            }
        }
    }
    assert!(!named.is_empty());
    let tmp = tempfile::tempdir().unwrap();
    let thin = tmp.path().join("wal");
    thin_dir_keeping(&wal, &thin, &named);
    let keys: std::collections::BTreeSet<u64> =
        named.iter().filter_map(|n| series_key(n)).collect();
    let whole = Places::read(&wal, &keys).unwrap();
    let thinned = Places::read(&thin, &keys).unwrap();
    assert_eq!(whole.len(), thinned.len());
    let mut placed = 0;
    for k in &keys {
        for n in [1, 7] {
            assert_eq!(whole.place(*k, n), thinned.place(*k, n), "key {k} n {n}");
            placed += usize::from(whole.place(*k, n).is_some());
        }
    }
    assert!(placed > 0);
}

/// Thins one `wal/` copy (`PROMSNAP_THIN_SRC`) into `PROMSNAP_THIN_DST`: an
/// operator replay's copy packaged as testdata (docs/LOSS-WINDOWS.md, "A
/// master restart without the master's log").
#[test]
#[ignore = "writes PROMSNAP_THIN_DST: run by hand"]
fn thin_one_copy() {
    let (Ok(src), Ok(dst)) = (
        std::env::var("PROMSNAP_THIN_SRC"),
        std::env::var("PROMSNAP_THIN_DST"),
    ) else {
        return;
    };
    thin_dir(Path::new(&src), Path::new(&dst));
}
