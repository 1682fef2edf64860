//! The byte ranges of chunk segments one piece of chunk metas needs, when
//! the segments are not mapped whole (object storage): the piece's chunk
//! offsets sorted and cut into runs, each run read with one ranged read
//! (the runs of a piece in parallel), and the chunk records found in them.
//! A record longer than its run's end is read again on its own.

use std::io;
use std::path::Path;

use super::source::{ChunkSource, Window};
use super::{Finding, FindingCode, Severity};
use crate::format::chunks::{self, ChunkRecord};
use crate::format::decode::Decoder;
use crate::format::index::ChunkMeta;
use crate::format::{DecodeError, Section};

/// A run of chunk offsets ends where the next offset is further than this
/// from the last one (the bytes between would be read for nothing)…
const GAP: u64 = 256 << 10;
/// … or where the run would span more than this (a piece's memory).
const SPAN: u64 = 16 << 20;
/// Bytes read past a run's last chunk offset: that chunk's record (chunks
/// Prometheus writes are far smaller; a longer one is read again whole).
/// Tiny in the unit tests, so that they read records again.
const SLACK: u64 = if cfg!(test) { 40 } else { 16 << 10 };
/// The first read of a record on its own.
const FIRST: u64 = if cfg!(test) { 24 } else { 64 << 10 };
/// No chunk record is longer than this (Prometheus writes chunks of a few
/// KiB): a length field saying more is damage, reported as such without
/// reading the record, mapped or not ([`too_long`]).
const MAX_RECORD: u64 = 64 << 20;

/// One planned range and what reading it gave.
struct Run<'a> {
    seg: usize,
    start: u64,
    end: u64,
    got: io::Result<Window<'a>>,
}

/// The ranges read for one piece.
pub(super) struct Windows<'a> {
    runs: Vec<Run<'a>>,
}

impl<'a> Windows<'a> {
    /// Reads the runs of `part`'s chunk offsets (none for mapped segments).
    pub(super) fn read(
        chunks: &'a dyn ChunkSource,
        seg_ok: &[bool],
        part: &[(u32, ChunkMeta)],
    ) -> Windows<'a> {
        if (0..chunks.count()).all(|s| chunks.whole(s).is_some()) {
            return Windows { runs: Vec::new() };
        }
        let mut offs: Vec<(usize, u64)> = part
            .iter()
            .map(|(_, c)| (c.segment() as usize, u64::from(c.offset())))
            .filter(|&(s, _)| {
                s < chunks.count()
                    && seg_ok.get(s).copied().unwrap_or(false)
                    && chunks.whole(s).is_none()
            })
            .collect();
        if offs.is_empty() {
            return Windows { runs: Vec::new() };
        }
        offs.sort_unstable();
        offs.dedup();
        let mut ranges: Vec<(usize, u64, u64)> = Vec::new();
        let mut last = 0u64;
        for (seg, off) in offs {
            match ranges.last_mut() {
                Some((s, a, z)) if *s == seg && off - last <= GAP && off - *a <= SPAN => {
                    *z = off;
                }
                _ => ranges.push((seg, off, off)),
            }
            last = off;
        }
        for r in &mut ranges {
            r.2 = r.2.saturating_add(SLACK).min(chunks.len(r.0));
        }
        let got = chunks.read(&ranges);
        let runs = ranges
            .into_iter()
            .zip(got)
            .map(|((seg, start, end), got)| Run {
                seg,
                start,
                end,
                got,
            })
            .collect();
        Windows { runs }
    }

    /// The chunk record at `off` of segment `seg`: `Ok(None)` when the
    /// ranges read do not hold all of it (read it with [`record_window`]).
    pub(super) fn record(
        &self,
        chunks: &'a dyn ChunkSource,
        seg: usize,
        off: u64,
    ) -> io::Result<Option<Result<ChunkRecord<'_>, DecodeError>>> {
        if let Some(b) = chunks.whole(seg) {
            return Ok(Some(chunks::read_chunk(b, off)));
        }
        let i = self
            .runs
            .partition_point(|r| (r.seg, r.start) <= (seg, off));
        let Some(run) = i.checked_sub(1).and_then(|i| self.runs.get(i)) else {
            return Ok(None);
        };
        if run.seg != seg || off >= run.end {
            return Ok(None);
        }
        let w = match &run.got {
            Ok(w) => w,
            Err(e) => return Err(io::Error::new(e.kind(), e.to_string())),
        };
        match chunks::read_chunk_at(&w.bytes, w.base, off) {
            Ok(r) => Ok(Some(Ok(r))),
            Err(_) if w.end() < chunks.len(seg) => Ok(None),
            Err(e) => Ok(Some(Err(e))),
        }
    }
}

/// Reads the chunk record at `off` of segment `seg` on its own: its first
/// bytes, then (when its length says it is longer) all of it. A length that
/// puts the record's end past the segment's end, or makes it longer than
/// [`MAX_RECORD`], is damage whatever the bytes: nothing more is read, the
/// record is reported from its length alone (truncated at the segment's
/// end, as the decoder reports it on the whole segment, or too long), never
/// a read past the end or of a damaged length's worth.
pub(super) fn record_window(
    chunks: &dyn ChunkSource,
    seg: usize,
    off: u64,
) -> io::Result<Result<Window<'_>, DecodeError>> {
    let len = chunks.len(seg);
    let one = |a: u64, z: u64| {
        chunks
            .read(&[(seg, a, z)])
            .pop()
            .unwrap_or_else(|| Err(io::Error::other("no answer to a ranged read")))
    };
    let w = one(off, off.saturating_add(FIRST).min(len))?;
    let mut d = Decoder::new(&w.bytes, off);
    let Ok(n) = d.uvarint() else {
        return Ok(Ok(w));
    };
    if d.offset() - off > chunks::MAX_DATA_LEN_BYTES {
        return Ok(Ok(w));
    }
    // varint + encoding byte + data + CRC
    let data = d.offset().saturating_add(1);
    let end = data.saturating_add(n).saturating_add(4);
    if end <= w.end() || w.end() >= len || data > len {
        return Ok(Ok(w));
    }
    if end > len {
        // What the decoder finds on the whole segment: the data or the CRC
        // cut by the end.
        let (at, wanted) = match data.checked_add(n) {
            Some(e) if e <= len => (e, 4),
            _ => (data, n),
        };
        return Ok(Err(DecodeError::UnexpectedEof {
            offset: at,
            wanted,
            available: len - at,
        }));
    }
    if let Some(e) = too_long(off, end - off, n) {
        return Ok(Err(e));
    }
    one(off, end).map(Ok)
}

/// The error for a chunk record at `off` of `len` bytes in all (its data
/// `n` bytes) when that is more than [`MAX_RECORD`].
pub(super) fn too_long(off: u64, len: u64, n: u64) -> Option<DecodeError> {
    (len > MAX_RECORD).then(|| DecodeError::Invalid {
        section: Section::Chunk,
        offset: off,
        expected: format!("a chunk of at most {MAX_RECORD} bytes"),
        found: format!("a length of {n} bytes"),
    })
}

/// A chunk segment's bytes that could not be read.
pub(super) fn unreadable(path: &Path, off: u64, e: &io::Error) -> Finding {
    Finding::new(
        Severity::Error,
        FindingCode::FileUnreadable,
        path,
        format!("cannot read the bytes at offset {off}: {e}"),
    )
    .at(off)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::path::PathBuf;

    use super::super::source::{BlockSource, LocalBlock};
    use super::super::{CheckOptions, verify_block, verify_block_in};
    use super::*;
    use crate::block::BlockFiles;

    /// A local block read the way object storage is read: by the ranges
    /// asked for only (and with this module's tiny test slack, most runs'
    /// last records are read again on their own, in two reads).
    struct Ranged<'a>(LocalBlock<'a>);

    struct Exact<'a>(Box<dyn ChunkSource + 'a>);

    impl ChunkSource for Exact<'_> {
        fn count(&self) -> usize {
            self.0.count()
        }
        fn path(&self, seg: usize) -> &Path {
            self.0.path(seg)
        }
        fn len(&self, seg: usize) -> u64 {
            self.0.len(seg)
        }
        fn whole(&self, _: usize) -> Option<&[u8]> {
            None
        }
        fn read(&self, ranges: &[(usize, u64, u64)]) -> Vec<io::Result<Window<'_>>> {
            ranges
                .iter()
                .map(|&(s, a, z)| {
                    let all = self.0.whole(s).ok_or(io::ErrorKind::NotFound)?;
                    let z = z.min(all.len() as u64);
                    let a = a.min(z);
                    Ok(Window {
                        base: a,
                        bytes: Cow::Owned(all[a as usize..z as usize].to_vec()),
                    })
                })
                .collect()
        }
    }

    impl BlockSource for Ranged<'_> {
        fn dir(&self) -> &Path {
            self.0.dir()
        }
        fn read(&self, name: &str) -> io::Result<Vec<u8>> {
            self.0.read(name)
        }
        fn entries(&self) -> io::Result<Vec<String>> {
            self.0.entries()
        }
        fn segment_paths(&self) -> crate::error::Result<Vec<PathBuf>> {
            self.0.segment_paths()
        }
        fn size(&self) -> u64 {
            self.0.size()
        }
        fn open(&self) -> crate::error::Result<(BlockFiles, Box<dyn ChunkSource + '_>)> {
            let (files, chunks) = self.0.open()?;
            Ok((files, Box::new(Exact(chunks))))
        }
    }

    fn agree(dir: &Path, what: &str) {
        for quick in [false, true] {
            let opts = CheckOptions {
                quick,
                ..CheckOptions::default()
            };
            let mapped = serde_json::to_value(verify_block(dir, &opts)).unwrap();
            let ranged =
                serde_json::to_value(verify_block_in(&Ranged(LocalBlock(dir)), &opts)).unwrap();
            assert_eq!(mapped, ranged, "{what} (quick: {quick})");
        }
    }

    /// A segment of `len` bytes, `head` then zeros, read by ranges only;
    /// it keeps the largest range asked for.
    struct Lazy {
        head: Vec<u8>,
        len: u64,
        largest: std::sync::atomic::AtomicU64,
    }

    impl ChunkSource for Lazy {
        fn count(&self) -> usize {
            1
        }
        fn path(&self, _: usize) -> &Path {
            Path::new("s3://b/p/chunks/000001")
        }
        fn len(&self, _: usize) -> u64 {
            self.len
        }
        fn whole(&self, _: usize) -> Option<&[u8]> {
            None
        }
        fn read(&self, ranges: &[(usize, u64, u64)]) -> Vec<io::Result<Window<'_>>> {
            ranges
                .iter()
                .map(|&(_, a, z)| {
                    assert!(a <= z && z <= self.len, "range {a}..{z} past {}", self.len);
                    self.largest
                        .fetch_max(z - a, std::sync::atomic::Ordering::Relaxed);
                    let bytes = (a..z)
                        .map(|i| {
                            usize::try_from(i)
                                .ok()
                                .and_then(|i| self.head.get(i))
                                .copied()
                                .unwrap_or(0)
                        })
                        .collect();
                    Ok(Window {
                        base: a,
                        bytes: Cow::Owned(bytes),
                    })
                })
                .collect()
        }
    }

    /// A segment header, then a chunk record at offset 8 whose length
    /// field says `n`.
    fn lazy(n: u64, len: u64) -> Lazy {
        let mut head = vec![0x85, 0xbd, 0x40, 0xdd, 1, 0, 0, 0];
        let mut v = n;
        while v >= 0x80 {
            head.push((v as u8) | 0x80);
            v >>= 7;
        }
        head.push(v as u8);
        head.push(1);
        Lazy {
            head,
            len,
            largest: Default::default(),
        }
    }

    /// A damaged length is reported from the length alone: past the
    /// segment's end as the decoder reports it on the whole segment, longer
    /// than 64 MiB as such; never a read past the end, nor a large one.
    #[test]
    fn damaged_lengths_read_nothing_more() {
        // Past the end (data, then only the CRC): the whole segment's error.
        for (n, len) in [(1000, 200), (187, 200), (5 << 30, 200), (1 << 31, 1 << 30)] {
            let src = lazy(n, len);
            let got = record_window(&src, 0, 8).unwrap().unwrap_err();
            if len <= 200 {
                let mut whole = src.head.clone();
                whole.resize(len as usize, 0);
                let want = chunks::read_chunk(&whole, 8).unwrap_err();
                assert_eq!(got, want, "length {n} in {len} bytes");
            }
            assert!(matches!(got, DecodeError::UnexpectedEof { .. }), "{got}");
            assert!(src.largest.into_inner() <= FIRST);
        }
        // Within a large segment but longer than 64 MiB: corrupt, unread.
        let src = lazy(100 << 20, 1 << 30);
        let got = record_window(&src, 0, 8).unwrap().unwrap_err();
        assert_eq!(got.offset(), 8);
        assert!(got.to_string().contains("at most 67108864 bytes"), "{got}");
        assert!(src.largest.into_inner() <= FIRST);
        // A long record within bounds is read whole, once more.
        let src = lazy(1000, 1 << 30);
        let w = record_window(&src, 0, 8).unwrap().unwrap();
        assert_eq!((w.base, w.end()), (8, 8 + 2 + 1 + 1000 + 4));
    }

    /// Ranged reads find what mapped files find, on every block of the
    /// test data and on a block damaged at many places (a flipped byte in
    /// the chunks and the index, a cut segment).
    #[test]
    fn ranged_reads_find_what_mapped_files_find() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/prom-2.42-nativehist/data");
        let mut blocks: Vec<PathBuf> = std::fs::read_dir(&data)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("meta.json").exists())
            .collect();
        blocks.sort();
        assert!(blocks.len() >= 4);
        for b in &blocks {
            agree(b, &b.display().to_string());
        }
        let tmp = tempfile::tempdir().unwrap();
        let src = &blocks[0];
        let name = src.file_name().unwrap();
        let dir = tmp.path().join(name);
        let copy = |dir: &Path| {
            std::fs::create_dir_all(dir.join("chunks")).unwrap();
            for f in ["meta.json", "index", "tombstones", "chunks/000001"] {
                if src.join(f).exists() {
                    std::fs::copy(src.join(f), dir.join(f)).unwrap();
                }
            }
        };
        for file in ["chunks/000001", "index"] {
            let len = std::fs::metadata(src.join(file)).unwrap().len() as usize;
            for at in (0..len).step_by(len / 23 + 1).chain([len - 1]) {
                copy(&dir);
                let mut bytes = std::fs::read(dir.join(file)).unwrap();
                bytes[at] ^= 0x5a;
                std::fs::write(dir.join(file), &bytes).unwrap();
                agree(&dir, &format!("{file}: byte {at} flipped"));
            }
        }
        let seg = dir.join("chunks/000001");
        let len = std::fs::metadata(src.join("chunks/000001")).unwrap().len() as usize;
        for cut in [4, 9, len / 3, len - 2] {
            copy(&dir);
            let bytes = std::fs::read(&seg).unwrap();
            std::fs::write(&seg, &bytes[..cut]).unwrap();
            agree(&dir, &format!("segment cut at {cut}"));
        }
    }
}
