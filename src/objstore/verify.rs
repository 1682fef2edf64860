//! `verify s3://…`: every check of the local verify on the blocks of a
//! bucket prefix, read where they are: `meta.json` and `tombstones` whole,
//! the index whole into memory (parallel ranged GETs), chunk segments by
//! ranged GETs of the byte runs each piece of chunk metas needs, several in
//! flight. Nothing is written to disk; memory is bounded by one block's
//! index plus the runs in flight, not by its chunks.

use std::borrow::Cow;
use std::io;
use std::path::{Path, PathBuf};

use super::bucket::{Bucket, RemoteBlock, is_marker};
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
        let index = self.bucket.get_whole(&self.rel("index"), isize)?;
        let tombstones = match self.block.size_of("tombstones") {
            Some(n) => Some(self.bucket.get_whole(&self.rel("tombstones"), n)?),
            None => None,
        };
        let files = BlockFiles {
            dir: self.dir.clone(),
            meta,
            index: FileBytes::Owned(index),
            chunks: Vec::new(),
            tombstones,
        };
        let chunks = BucketChunks {
            bucket: self.bucket,
            segs: segs
                .into_iter()
                .map(|(r, s)| (self.dir.join(r), self.rel(r), s))
                .collect(),
        };
        Ok((files, Box::new(chunks)))
    }
}

/// A block's chunk segments in the bucket: (path in findings, key, size).
struct BucketChunks<'a> {
    bucket: &'a Bucket,
    segs: Vec<(PathBuf, String, u64)>,
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
        let reqs: Vec<(String, u64, u64)> = ranges
            .iter()
            .map(|&(seg, a, z)| {
                let (key, len) = self
                    .segs
                    .get(seg)
                    .map(|s| (s.1.clone(), s.2))
                    .unwrap_or_default();
                let z = z.min(len);
                (key, a.min(z), z)
            })
            .collect();
        let got = self.bucket.get_many(&reqs);
        got.into_iter()
            .zip(&reqs)
            .map(|(r, (_, a, _))| {
                r.map(|b| Window {
                    base: *a,
                    bytes: Cow::Owned(Vec::from(b)),
                })
                .map_err(|e| io::Error::other(e.to_string()))
            })
            .collect()
    }
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
    let mut findings = Vec::new();
    for b in &listed {
        let at = PathBuf::from(url.show(&b.ulid));
        if !b.complete {
            findings.push(
                Finding::new(
                    Severity::Warning,
                    FindingCode::PartialUpload,
                    &at,
                    format!(
                        "no meta.json: an unfinished or interrupted upload ({} object(s), {} bytes); Thanos and Mimir ignore it (their compactors delete it after a delay); run the upload again to finish it",
                        b.objects.len(),
                        b.bytes()
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
                    "deletion-mark.json: marked for deletion; the Thanos/Mimir compactor deletes the block once the deletion delay has passed, and store gateways stop serving it",
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
    }
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
