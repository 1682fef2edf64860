//! One block directory: `meta.json`, `index`, `chunks/NNNNNN`, `tombstones`,
//! opened read-only.
//!
//! ```no_run
//! # fn main() -> promsnap::error::Result<()> {
//! let files = promsnap::block::BlockFiles::open("data/01M88Z547SWC2057Y39068VCCB".as_ref())?;
//! let block = files.reader()?;
//! println!("{} series", block.files.meta.stats.num_series);
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fileutil::{FileBytes, file_size, map_file};
use crate::format::DecodeError;
use crate::format::chunks::{self, ChunkRecord};
use crate::format::index::{ChunkMeta, IndexReader};
use crate::format::meta::BlockMeta;
use crate::format::tombstones::{self, Stone, Tombstones};

/// The files of a block, mapped and ready to be decoded.
#[derive(Debug)]
pub struct BlockFiles {
    /// The block directory.
    pub dir: PathBuf,
    /// Parsed `meta.json`.
    pub meta: BlockMeta,
    /// `index` bytes.
    pub index: FileBytes,
    /// Chunk segment files in sorted order: (path, bytes).
    pub chunks: Vec<(PathBuf, FileBytes)>,
    /// `tombstones` bytes, `None` when the file is missing.
    pub tombstones: Option<FileBytes>,
}

/// Reads and parses `<dir>/meta.json`.
pub fn read_meta(dir: &Path) -> Result<BlockMeta> {
    let path = dir.join("meta.json");
    let bytes = crate::fileutil::read_meta_json(&path).map_err(|e| Error::io(&path, e))?;
    BlockMeta::parse(&bytes).map_err(|e| Error::decode(&path, e))
}

/// The chunk segment files of a block, in the order that defines segment
/// indexes: names that parse as unsigned integers, sorted lexicographically.
pub fn chunk_segment_paths(dir: &Path) -> Result<Vec<PathBuf>> {
    let cdir = dir.join("chunks");
    let rd = std::fs::read_dir(&cdir).map_err(|e| Error::io(&cdir, e))?;
    let mut names = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| Error::io(&cdir, e))?;
        let name = ent.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
            names.push(name.to_string());
        }
    }
    names.sort();
    Ok(names.into_iter().map(|n| cdir.join(n)).collect())
}

/// Size of a block as promtool reports it: index + chunks + tombstones + meta.json.
pub fn block_size(dir: &Path) -> u64 {
    let chunks: u64 = chunk_segment_paths(dir)
        .map(|v| v.iter().map(|p| file_size(p)).sum())
        .unwrap_or(0);
    chunks
        + file_size(&dir.join("index"))
        + file_size(&dir.join("tombstones"))
        + file_size(&dir.join("meta.json"))
}

impl BlockFiles {
    /// Opens a block directory: parses meta.json, maps index and chunk files,
    /// reads tombstones.
    pub fn open(dir: &Path) -> Result<BlockFiles> {
        let meta = read_meta(dir)?;
        let index = map_file(&dir.join("index"))?;
        let mut chunks = Vec::new();
        for p in chunk_segment_paths(dir)? {
            let bytes = map_file(&p)?;
            chunks.push((p, bytes));
        }
        let tpath = dir.join("tombstones");
        let tombstones =
            crate::fileutil::map_tombstones(&tpath).map_err(|e| Error::io(&tpath, e))?;
        Ok(BlockFiles {
            dir: dir.to_path_buf(),
            meta,
            index,
            chunks,
            tombstones,
        })
    }

    /// Path of the index file.
    pub fn index_path(&self) -> PathBuf {
        self.dir.join("index")
    }

    /// Path of the tombstones file.
    pub fn tombstones_path(&self) -> PathBuf {
        self.dir.join("tombstones")
    }

    /// Opens the decoders: index header/TOC/symbols and tombstones checked.
    pub fn reader(&self) -> Result<BlockReader<'_>> {
        let index = if self.meta.version == 2 {
            IndexReader::open_as_v2(&self.index)
        } else {
            IndexReader::open(&self.index)
        }
        .map_err(|e| Error::decode(self.index_path(), e))?;
        let stones = self.stones()?;
        Ok(BlockReader {
            files: self,
            index,
            tombstones: Tombstones::from_stones(&stones),
        })
    }

    /// Parsed tombstone entries (empty when the file is missing).
    pub fn stones(&self) -> Result<Vec<Stone>> {
        match &self.tombstones {
            Some(b) => tombstones::parse(b).map_err(|e| Error::decode(self.tombstones_path(), e)),
            None => Ok(Vec::new()),
        }
    }
}

/// Decoders over an opened block.
#[derive(Debug)]
pub struct BlockReader<'a> {
    /// The underlying files.
    pub files: &'a BlockFiles,
    /// Index decoder.
    pub index: IndexReader<'a>,
    /// Merged tombstones.
    pub tombstones: Tombstones,
}

impl<'a> BlockReader<'a> {
    /// The chunk record a chunk meta points to (CRC not checked).
    #[inline]
    pub fn chunk(&self, meta: &ChunkMeta) -> Result<ChunkRecord<'a>> {
        let seg = meta.segment() as usize;
        let Some((path, bytes)) = self.files.chunks.get(seg) else {
            return Err(Error::decode(
                self.files.dir.join("chunks"),
                DecodeError::OutOfBounds {
                    what: "chunk reference segment",
                    offset: u64::from(meta.offset()),
                    target: u64::from(meta.segment()),
                    len: self.files.chunks.len() as u64,
                },
            ));
        };
        let bytes: &'a [u8] = bytes;
        chunks::read_chunk(bytes, u64::from(meta.offset())).map_err(|e| Error::decode(path, e))
    }

    /// Checks every segment header.
    pub fn check_segment_headers(&self) -> Result<()> {
        for (path, bytes) in &self.files.chunks {
            chunks::parse_segment_header(bytes).map_err(|e| Error::decode(path, e))?;
        }
        Ok(())
    }

    /// The path of chunk segment `seg`.
    pub fn segment_path(&self, seg: u32) -> PathBuf {
        self.files
            .chunks
            .get(seg as usize)
            .map(|(p, _)| p.clone())
            .unwrap_or_else(|| self.files.dir.join("chunks"))
    }
}

/// An error for a chunk whose encoding byte is unknown.
pub fn unsupported_encoding(rec: &ChunkRecord<'_>) -> DecodeError {
    DecodeError::UnsupportedEncoding {
        offset: rec.offset,
        encoding: rec.encoding,
    }
}
