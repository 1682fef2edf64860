//! Where the checks read a block from: a directory (its files mapped), or
//! any store that lists the block's entries and reads byte ranges (object
//! storage, `crate::objstore`). Every check runs the same on both.

use std::borrow::Cow;
use std::io;
use std::path::{Path, PathBuf};

use crate::block::{BlockFiles, block_size, chunk_segment_paths};
use crate::error::Result;
use crate::fileutil::FileBytes;

/// Bytes of a chunk segment from offset `base` on.
#[derive(Debug)]
pub struct Window<'a> {
    /// Offset in the segment of `bytes[0]`.
    pub base: u64,
    /// The bytes.
    pub bytes: Cow<'a, [u8]>,
}

impl Window<'_> {
    /// Offset in the segment just past the last byte.
    pub fn end(&self) -> u64 {
        self.base + self.bytes.len() as u64
    }
}

/// A block's chunk segments, read whole (mapped) or by byte ranges.
pub trait ChunkSource: Sync {
    /// Number of segments, in the order that numbers chunk references.
    fn count(&self) -> usize;
    /// The path naming segment `seg` in findings.
    fn path(&self, seg: usize) -> &Path;
    /// Length of segment `seg` in bytes.
    fn len(&self, seg: usize) -> u64;
    /// The whole segment when it is at hand (a mapped file): then no range
    /// is ever read.
    fn whole(&self, seg: usize) -> Option<&[u8]>;
    /// Reads the ranges `(segment, start, end)` (`end` clamped to the
    /// segment's length), in parallel where the store allows; one result per
    /// range, in order.
    fn read(&self, ranges: &[(usize, u64, u64)]) -> Vec<io::Result<Window<'_>>>;
    /// Done with `[start, end)` of segment `seg` for now (see
    /// [`FileBytes::release`]).
    fn release(&self, _seg: usize, _start: u64, _end: u64) {}
}

/// What the checks need of a block, wherever it is stored.
pub trait BlockSource: Sync {
    /// The block's path in findings (a directory, or an `s3://` URL).
    fn dir(&self) -> &Path;
    /// The whole small file `name` (`meta.json`); `NotFound` when absent.
    fn read(&self, name: &str) -> io::Result<Vec<u8>>;
    /// Names of the entries of the block directory (`chunks` for the
    /// chunks directory).
    fn entries(&self) -> io::Result<Vec<String>>;
    /// Chunk segment paths in the order that numbers chunk references
    /// (see [`chunk_segment_paths`]).
    fn segment_paths(&self) -> Result<Vec<PathBuf>>;
    /// Bytes of index, chunks, tombstones and meta.json.
    fn size(&self) -> u64;
    /// Opens the block for the content checks: index and tombstones read
    /// (the returned files have no `chunks`), chunk segments as a source.
    fn open(&self) -> Result<(BlockFiles, Box<dyn ChunkSource + '_>)>;
}

/// A block directory on a local file system.
#[derive(Debug)]
pub struct LocalBlock<'a>(pub &'a Path);

impl BlockSource for LocalBlock<'_> {
    fn dir(&self) -> &Path {
        self.0
    }
    fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        let path = self.0.join(name);
        if name == "meta.json" {
            return crate::fileutil::read_meta_json(&path);
        }
        crate::fileutil::read_input(&path)
    }
    fn entries(&self) -> io::Result<Vec<String>> {
        Ok(std::fs::read_dir(self.0)?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect())
    }
    fn segment_paths(&self) -> Result<Vec<PathBuf>> {
        chunk_segment_paths(self.0)
    }
    fn size(&self) -> u64 {
        block_size(self.0)
    }
    fn open(&self) -> Result<(BlockFiles, Box<dyn ChunkSource + '_>)> {
        let mut files = BlockFiles::open(self.0)?;
        let chunks = std::mem::take(&mut files.chunks);
        Ok((files, Box::new(MappedChunks(chunks))))
    }
}

/// Mapped chunk segment files.
#[derive(Debug)]
pub struct MappedChunks(pub Vec<(PathBuf, FileBytes)>);

impl ChunkSource for MappedChunks {
    fn count(&self) -> usize {
        self.0.len()
    }
    fn path(&self, seg: usize) -> &Path {
        self.0
            .get(seg)
            .map(|(p, _)| p.as_path())
            .unwrap_or(Path::new(""))
    }
    fn len(&self, seg: usize) -> u64 {
        self.0.get(seg).map(|(_, b)| b.len() as u64).unwrap_or(0)
    }
    fn whole(&self, seg: usize) -> Option<&[u8]> {
        self.0.get(seg).map(|(_, b)| &b[..])
    }
    fn read(&self, ranges: &[(usize, u64, u64)]) -> Vec<io::Result<Window<'_>>> {
        ranges
            .iter()
            .map(|&(seg, _, _)| {
                self.whole(seg)
                    .map(|b| Window {
                        base: 0,
                        bytes: Cow::Borrowed(b),
                    })
                    .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
            })
            .collect()
    }
    fn release(&self, seg: usize, start: u64, end: u64) {
        if let Some((_, b)) = self.0.get(seg) {
            b.release(start, end);
        }
    }
}
