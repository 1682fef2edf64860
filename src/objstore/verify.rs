//! `verify s3://…`: every check of the local verify on the blocks of a
//! bucket prefix, read where they are: `meta.json` and `tombstones` whole,
//! the index whole into memory (parallel ranged GETs), chunk segments in
//! aligned blocks of a few MiB, kept for the next reads (the checking
//! threads walk the segments in order: a few large GETs serve the many
//! small runs of chunk records the pieces need). Nothing is written to
//! disk; memory is bounded by one block's index plus the blocks kept, not
//! by its chunks.

use std::borrow::Cow;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::bucket::{Bucket, RemoteBlock, is_marker};
use super::url::S3Url;
use crate::block::BlockFiles;
use crate::check::block::{
    BlockCheck, BlockSource, CheckOptions, ChunkSource, Window, verify_block_in,
};
use crate::check::codes::FindingCode;
use crate::check::dir::DirCheck;
use crate::check::{self, Finding, Severity};
use crate::error::{Error, Result};
use crate::fileutil::FileBytes;
use crate::format::meta::BlockMeta;
use crate::layout::{DirKind, Layout};

/// Threads checking a block: more than the cores, so that the waits on
/// ranged GETs overlap the decoding.
pub(super) const THREADS: usize = 8;

/// A complete block in the bucket, as the checks read it.
pub(super) struct BucketBlock<'a> {
    pub(super) bucket: &'a Bucket,
    pub(super) block: &'a RemoteBlock,
    /// `s3://…/<ULID>`: the block's path in findings.
    pub(super) dir: PathBuf,
}

impl BucketBlock<'_> {
    fn rel(&self, name: &str) -> String {
        format!("{}/{name}", self.block.ulid)
    }

    /// `chunks/<digits>` objects, sorted by name: (name, size).
    fn segments(&self) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self
            .block
            .objects
            .iter()
            .filter_map(|(r, s)| {
                let n = r.strip_prefix("chunks/")?;
                (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some((r.as_str(), *s))
            })
            .collect();
        v.sort_unstable();
        v
    }
}

impl BlockSource for BucketBlock<'_> {
    fn dir(&self) -> &Path {
        &self.dir
    }

    fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        if name == "meta.json"
            && let Some(n) = self.block.size_of(name)
            && n > crate::fileutil::META_JSON_MAX
        {
            return Err(crate::fileutil::meta_json_too_big(n));
        }
        match self.bucket.get_opt(&self.rel(name)) {
            Ok(Some(b)) => Ok(b),
            Ok(None) => Err(io::ErrorKind::NotFound.into()),
            Err(e) => Err(io::Error::other(e.to_string())),
        }
    }

    fn entries(&self) -> io::Result<Vec<String>> {
        let mut names: Vec<String> = self
            .block
            .objects
            .iter()
            .filter(|(r, _)| !is_marker(r))
            .map(|(r, _)| r.split('/').next().unwrap_or(r).to_string())
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn segment_paths(&self) -> Result<Vec<PathBuf>> {
        Ok(self
            .segments()
            .into_iter()
            .map(|(r, _)| self.dir.join(r))
            .collect())
    }

    fn size(&self) -> u64 {
        let seg: u64 = self.segments().iter().map(|(_, s)| s).sum();
        ["index", "tombstones", "meta.json"]
            .iter()
            .filter_map(|n| self.block.size_of(n))
            .sum::<u64>()
            + seg
    }

    fn open(&self) -> Result<(BlockFiles, Box<dyn ChunkSource + '_>)> {
        let mpath = self.dir.join("meta.json");
        let raw = self.read("meta.json").map_err(|e| Error::io(&mpath, e))?;
        let meta = BlockMeta::parse(&raw).map_err(|e| Error::decode(&mpath, e))?;
        let missing = |n: &str| Error::io(self.dir.join(n), io::ErrorKind::NotFound.into());
        let isize = self
            .block
            .size_of("index")
            .ok_or_else(|| missing("index"))?;
        let segs = self.segments();
        if !self
            .block
            .objects
            .iter()
            .any(|(r, _)| r.starts_with("chunks/"))
        {
            return Err(missing("chunks"));
        }
        let chunks = BucketChunks {
            bucket: self.bucket,
            segs: segs
                .into_iter()
                .map(|(r, s)| (self.dir.join(r), self.rel(r), s))
                .collect(),
            kept: Mutex::new(Vec::new()),
        };
        let index = self.bucket.get_whole(&self.rel("index"), isize)?;
        let tombstones = match self.block.size_of("tombstones") {
            Some(n) => Some(FileBytes::Owned(
                self.bucket.get_whole(&self.rel("tombstones"), n)?,
            )),
            None => None,
        };
        let files = BlockFiles {
            dir: self.dir.clone(),
            meta,
            index: FileBytes::Owned(index),
            chunks: Vec::new(),
            tombstones,
        };
        Ok((files, Box::new(chunks)))
    }
}

/// Chunk segments are read in aligned blocks of this many bytes, kept for
/// the next reads: the checking threads walk the segments in order, so a
/// few large ranged GETs serve the many small runs of the pieces (each
/// request costs the server far more than its bytes).
const SEG_BLOCK: u64 = 4 << 20;
/// Blocks kept (least recently used dropped): the memory of the chunk
/// reads, whatever the block's size.
const SEG_BLOCKS_KEPT: usize = 16;

/// One block of a segment: fetched once, by the first thread that needs it.
type SegBlock = Arc<OnceLock<std::result::Result<bytes::Bytes, String>>>;

/// A block's chunk segments in the bucket: (path in findings, key, size),
/// and the blocks read (segment, block number, bytes; most recently used
/// last).
struct BucketChunks<'a> {
    bucket: &'a Bucket,
    segs: Vec<(PathBuf, String, u64)>,
    kept: Mutex<Vec<(usize, u64, SegBlock)>>,
}

impl BucketChunks<'_> {
    /// Block `blk` of segment `seg`, from the kept ones or read.
    fn block(&self, seg: usize, blk: u64) -> io::Result<bytes::Bytes> {
        let (key, len) = self
            .segs
            .get(seg)
            .map(|s| (s.1.as_str(), s.2))
            .unwrap_or_default();
        let cell = {
            let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
            let cell = match kept.iter().position(|(s, b, _)| (*s, *b) == (seg, blk)) {
                Some(i) => kept.remove(i).2,
                None => Arc::new(OnceLock::new()),
            };
            kept.push((seg, blk, Arc::clone(&cell)));
            if kept.len() > SEG_BLOCKS_KEPT {
                kept.remove(0);
            }
            cell
        };
        let a = blk.saturating_mul(SEG_BLOCK).min(len);
        let z = a.saturating_add(SEG_BLOCK).min(len);
        cell.get_or_init(|| self.bucket.get_range(key, a, z).map_err(|e| e.to_string()))
            .clone()
            .map_err(io::Error::other)
    }

    /// `[a, z)` of segment `seg` (clamped to its length).
    fn range(&self, seg: usize, a: u64, z: u64) -> io::Result<Window<'_>> {
        let (key, len) = self
            .segs
            .get(seg)
            .map(|s| (s.1.as_str(), s.2))
            .unwrap_or_default();
        let z = z.min(len);
        let a = a.min(z);
        if z - a > SEG_BLOCK {
            // Larger than a block: read on its own.
            let b = self
                .bucket
                .get_range(key, a, z)
                .map_err(|e| io::Error::other(e.to_string()))?;
            return Ok(Window {
                base: a,
                bytes: Cow::Owned(Vec::from(b)),
            });
        }
        let out = assemble(a, z, SEG_BLOCK, |blk| self.block(seg, blk)).map_err(|e| {
            io::Error::new(e.kind(), format!("{}: {e}", self.bucket.url().show(key)))
        })?;
        Ok(Window {
            base: a,
            bytes: Cow::Owned(out),
        })
    }
}

/// `[a, z)` of a segment put together from its aligned blocks of `size`
/// bytes, `block(n)` giving block `n`.
fn assemble(
    a: u64,
    z: u64,
    size: u64,
    mut block: impl FnMut(u64) -> io::Result<bytes::Bytes>,
) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(usize::try_from(z.saturating_sub(a)).unwrap_or(0));
    let mut at = a;
    while at < z {
        let blk = at / size;
        let b = block(blk)?;
        let from = usize::try_from(at - blk * size).unwrap_or(usize::MAX);
        let to = usize::try_from(z.min((blk + 1) * size) - blk * size).unwrap_or(usize::MAX);
        let piece = b.get(from..to).filter(|p| !p.is_empty()).ok_or_else(|| {
            io::Error::other(format!(
                "range {at}..{z}: the object is shorter than listed"
            ))
        })?;
        out.extend_from_slice(piece);
        at += piece.len() as u64;
    }
    Ok(out)
}

impl ChunkSource for BucketChunks<'_> {
    fn count(&self) -> usize {
        self.segs.len()
    }
    fn path(&self, seg: usize) -> &Path {
        self.segs
            .get(seg)
            .map(|s| s.0.as_path())
            .unwrap_or(Path::new(""))
    }
    fn len(&self, seg: usize) -> u64 {
        self.segs.get(seg).map(|s| s.2).unwrap_or(0)
    }
    fn whole(&self, _seg: usize) -> Option<&[u8]> {
        None
    }
    fn read(&self, ranges: &[(usize, u64, u64)]) -> Vec<io::Result<Window<'_>>> {
        ranges
            .iter()
            .map(|&(seg, a, z)| self.range(seg, a, z))
            .collect()
    }
}

const PARTIAL_UPLOAD: &str = concat!(
    "Thanos and Mimir ignore it (their compactors delete it after a delay); ",
    "run the upload again to finish it"
);
const DELETION_MARKED: &str = concat!(
    "deletion-mark.json: marked for deletion; the Thanos/Mimir compactor deletes the block once ",
    "the deletion delay has passed, and store gateways stop serving it"
);

/// A listed block's own findings: a partial upload, its deletion and
/// no-compact marks.
fn marks(url: &S3Url, b: &RemoteBlock) -> Vec<Finding> {
    let mut findings = Vec::new();
    let at = PathBuf::from(url.show(&b.ulid));
    if !b.complete {
        findings.push(
            Finding::new(
                Severity::Warning,
                FindingCode::PartialUpload,
                &at,
                format!(
                    concat!(
                        "no meta.json: an unfinished or interrupted upload ({} object(s), ",
                        "{} bytes); {}"
                    ),
                    b.objects.len(),
                    b.bytes(),
                    PARTIAL_UPLOAD
                ),
            )
            .in_block(&b.ulid),
        );
    }
    if b.deletion_mark {
        findings.push(
            Finding::new(
                Severity::Info,
                FindingCode::DeletionMarked,
                &at.join("deletion-mark.json"),
                DELETION_MARKED,
            )
            .in_block(&b.ulid),
        );
    }
    if b.no_compact_mark {
        findings.push(
            Finding::new(
                Severity::Info,
                FindingCode::NoCompactMarked,
                &at.join("no-compact-mark.json"),
                "no-compact-mark.json: the compactor leaves this block out of compaction",
            )
            .in_block(&b.ulid),
        );
    }
    findings
}

/// Verifies every block under the bucket prefix with every check of the
/// local verify (see the module docs), calling `progress` after each block.
/// The result reads like a data directory's: its paths are `s3://` URLs.
pub fn verify(
    bucket: &Bucket,
    opts: &CheckOptions,
    progress: &(dyn Fn(&BlockCheck) + Sync),
) -> Result<DirCheck> {
    let url = bucket.url().clone();
    let (listed, stray) = bucket.blocks()?;
    let root = PathBuf::from(url.show(""));
    let mut findings: Vec<Finding> = listed.iter().flat_map(|b| marks(&url, b)).collect();
    for s in &stray {
        findings.push(Finding::new(
            Severity::Info,
            FindingCode::BucketStrayObject,
            &PathBuf::from(url.show(s)),
            "not part of a block (<ULID>/…): ignored by Thanos and Mimir readers",
        ));
    }
    let complete: Vec<&RemoteBlock> = listed.iter().filter(|b| b.complete).collect();
    if listed.is_empty() {
        findings.push(Finding::new(
            Severity::Error,
            FindingCode::DirUnrecognised,
            &root,
            "no block under this prefix (no <ULID>/ keys)",
        ));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(THREADS)
        .build()
        .map_err(|e| Error::io(&root, io::Error::other(e)))?;
    let mut blocks: Vec<BlockCheck> = Vec::with_capacity(complete.len());
    for b in &complete {
        let src = BucketBlock {
            bucket,
            block: b,
            dir: PathBuf::from(url.show(&b.ulid)),
        };
        let c = pool.install(|| verify_block_in(&src, opts));
        progress(&c);
        blocks.push(c);
    }
    blocks.sort_by(|a, b| {
        let ka = a.meta.as_ref().map(|m| m.min_time).unwrap_or(i64::MAX);
        let kb = b.meta.as_ref().map(|m| m.min_time).unwrap_or(i64::MAX);
        (ka, &a.ulid).cmp(&(kb, &b.ulid))
    });
    check::dir::check_blocks_together(&blocks, &mut findings);
    let layout = Layout {
        root: root.clone(),
        kind: DirKind::Data,
        blocks: complete
            .iter()
            .map(|b| PathBuf::from(url.show(&b.ulid)))
            .collect(),
        snapshot_time: None,
        wal: None,
        wbl: None,
        chunks_head: None,
        tmp_dirs: Vec::new(),
        chunk_snapshots: Vec::new(),
        stray: stray.iter().map(|s| PathBuf::from(url.show(s))).collect(),
    };
    Ok(DirCheck {
        layout,
        blocks,
        findings,
        live: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every range of a segment put together from blocks (of a size that
    /// does not divide it) is the segment's bytes; a block shorter than it
    /// should be is an error, never a short window.
    #[test]
    fn ranges_from_blocks_are_the_bytes() {
        let seg: Vec<u8> = (0..1000u32).map(|i| (i * 7 + i / 256) as u8).collect();
        let size = 64u64;
        let block = |n: u64| -> io::Result<bytes::Bytes> {
            let a = (n * size) as usize;
            let z = (a + size as usize).min(seg.len());
            Ok(bytes::Bytes::copy_from_slice(&seg[a.min(z)..z]))
        };
        for a in (0..1000u64).step_by(13) {
            for len in [0u64, 1, 63, 64, 65, 200, 1000] {
                let z = (a + len).min(1000);
                let got = assemble(a, z, size, block).unwrap();
                assert_eq!(got, &seg[a as usize..z as usize], "{a}..{z}");
            }
        }
        let short = |n: u64| -> io::Result<bytes::Bytes> {
            block(n).map(|b| if n == 3 { b.slice(..10) } else { b })
        };
        assert!(assemble(150, 250, size, short).is_err());
        assert!(assemble(0, 1001, size, block).is_err());
    }
}
