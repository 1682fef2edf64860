//! Hard links (or copies, across filesystems) of one block's files, as
//! Prometheus' `Block.Snapshot` makes them: `meta.json`, `index`,
//! `tombstones` and every file of `chunks/`.

use std::io;
use std::path::{Path, PathBuf};

use crate::copy::fsops;

/// How a block's files got into the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Hard links (the same filesystem).
    Link,
    /// Copies (another filesystem, or no hard links there), each read back
    /// and compared with its source, fsynced.
    Copy,
}

/// The files of a block directory to take, relative to it.
fn block_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for name in ["meta.json", "index", "tombstones"] {
        if dir.join(name).symlink_metadata().is_ok() {
            out.push(PathBuf::from(name));
        }
    }
    // A block without meta.json or index is not one Prometheus opens; it
    // is taken as it is (the caller reports it).
    let chunks = dir.join("chunks");
    let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", chunks.display()));
    let mut names: Vec<_> = std::fs::read_dir(&chunks)
        .map_err(named)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<_>>()
        .map_err(named)?;
    names.sort();
    for n in names {
        out.push(Path::new("chunks").join(n));
    }
    Ok(out)
}

/// Links (or copies) block `src` into the new directory `dst`; returns the
/// method used and the bytes taken. `NotFound` when `src` or one of its
/// files vanished meanwhile (a running Prometheus deleted the block); then
/// `dst` is removed again.
pub fn take_block(src: &Path, dst: &Path, allow_link: bool) -> io::Result<(Method, u64)> {
    let res = take_files(src, dst, allow_link);
    if res.is_err() {
        let _ = std::fs::remove_dir_all(dst);
    }
    res
}

fn take_files(src: &Path, dst: &Path, allow_link: bool) -> io::Result<(Method, u64)> {
    let files = block_files(src)?;
    std::fs::create_dir(dst)?;
    std::fs::create_dir(dst.join("chunks"))?;
    let mut method = if allow_link {
        Method::Link
    } else {
        Method::Copy
    };
    let mut bytes = 0u64;
    for rel in &files {
        let (from, to) = (src.join(rel), dst.join(rel));
        if method == Method::Link {
            if fsops::try_hard_link(&from, &to)? {
                bytes += std::fs::metadata(&to)?.len();
                continue;
            }
            method = Method::Copy;
        }
        let c = fsops::copy_file(&from, &to, false, &|_| {})?;
        if let Some(at) = c.differs_at {
            return Err(io::Error::other(format!(
                "{}: the copy differs from its source at byte {at}",
                to.display()
            )));
        }
        bytes += c.size;
    }
    fsops::sync_dir(&dst.join("chunks"))?;
    fsops::sync_dir(dst)?;
    Ok((method, bytes))
}
