//! File access: read-only memory maps (the only `unsafe` in the crate) and
//! small helpers. Nothing here ever writes to a source tree.

use std::fs::File;
use std::ops::Deref;
use std::path::Path;

use memmap2::Mmap;

use crate::error::{Error, Result};

/// The bytes of a file: memory-mapped, or read into memory for empty files.
#[derive(Debug)]
pub enum FileBytes {
    /// A read-only shared mapping.
    Mapped(Mmap),
    /// An owned copy (used for empty files, which cannot be mapped).
    Owned(Vec<u8>),
}

impl Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Owned(v) => v,
        }
    }
}

impl FileBytes {
    /// Tells the kernel this process is done with `[start, end)` of the file
    /// for now, so its pages stop counting against our resident memory (they
    /// stay in the page cache; a later read faults them back in). Keeps the
    /// RSS of a pass over a large file bounded by the part being read.
    pub fn release(&self, start: u64, end: u64) {
        let FileBytes::Mapped(m) = self else { return };
        const PAGE: u64 = 4096;
        let start = start.div_ceil(PAGE) * PAGE;
        let end = end.min(m.len() as u64) / PAGE * PAGE;
        if end > start {
            // SAFETY: MADV_DONTNEED on a read-only, file-backed mapping only
            // drops this process' copies of the pages; the bytes read after
            // it are the file's bytes again, so every outstanding reference
            // keeps seeing the same content (the files are immutable, see
            // `map_file`).
            let _ = unsafe {
                m.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    start as usize,
                    (end - start) as usize,
                )
            };
        }
    }
}

/// Maps `path` read-only.
///
/// Contract: the file must not be truncated while mapped (another process
/// shrinking it would raise SIGBUS). Block files are immutable once their
/// directory has its final name, which is all promsnap maps; WAL segments,
/// which may still grow, are read with plain reads instead.
pub fn map_file(path: &Path) -> Result<FileBytes> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if len == 0 {
        return Ok(FileBytes::Owned(Vec::new()));
    }
    // SAFETY: read-only mapping of an immutable block file; see the contract above.
    let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
    #[cfg(unix)]
    {
        let _ = map.advise(memmap2::Advice::Sequential);
    }
    Ok(FileBytes::Mapped(map))
}

/// Size of a file in bytes, 0 if it cannot be read.
pub fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}
