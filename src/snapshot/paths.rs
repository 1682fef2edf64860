//! OUT and DATA_DIR checked before anything is written, and the temporary
//! directory OUT is written as.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fileutil::absolute;
use crate::format::meta::is_valid_ulid;
use crate::layout::{self, DirKind};

/// Usage errors on DATA_DIR and OUT, before anything is written. Returns
/// the absolute OUT.
pub(super) fn check_paths(data_dir: &Path, out: &Path) -> Result<PathBuf> {
    let lay = layout::scan_source(data_dir)?;
    if lay.kind != DirKind::Data {
        return Err(Error::Usage(format!(
            "{}: not a Prometheus data directory (it is a {} directory)",
            data_dir.display(),
            if lay.kind == DirKind::Block {
                "block"
            } else {
                "snapshot"
            }
        )));
    }
    if lay.blocks.is_empty() && lay.wal.is_none() {
        return Err(Error::Usage(format!(
            "{}: not a Prometheus data directory (no blocks, no wal/)",
            data_dir.display()
        )));
    }
    let data = data_dir
        .canonicalize()
        .map_err(|e| Error::io(data_dir, e))?;
    let out_abs = absolute(out).map_err(|e| Error::io(out, e))?;
    let Some(name) = out_abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
    else {
        return Err(Error::Usage(format!(
            "OUT {}: needs a directory name",
            out.display()
        )));
    };
    if is_valid_ulid(&name) {
        return Err(Error::Usage(format!(
            "OUT {}: a snapshot directory must not be named like a block (a ULID)",
            out.display()
        )));
    }
    if data.starts_with(&out_abs) {
        return Err(Error::Usage(format!(
            "OUT {} contains DATA_DIR {}",
            out.display(),
            data_dir.display()
        )));
    }
    if out_abs.starts_with(&data) && out_abs.parent() != Some(data.join("snapshots").as_path()) {
        return Err(Error::Usage(format!(
            concat!(
                "OUT {} is inside DATA_DIR {}: only DATA_DIR/snapshots/<name> ",
                "is allowed there (as the admin API does); the data directory ",
                "is never modified otherwise"
            ),
            out.display(),
            data_dir.display()
        )));
    }
    match std::fs::symlink_metadata(&out_abs) {
        Ok(md) if !md.is_dir() => {
            return Err(Error::Usage(format!(
                "OUT {}: exists and is not a directory",
                out.display()
            )));
        }
        Ok(_) => {
            let mut rd = std::fs::read_dir(&out_abs).map_err(|e| Error::io(&out_abs, e))?;
            if rd.next().is_some() {
                return Err(Error::Usage(format!(
                    concat!(
                        "OUT {}: not empty (a snapshot is written into a new or empty ",
                        "directory; nothing is replaced)"
                    ),
                    out.display()
                )));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(&out_abs, e)),
    }
    Ok(out_abs)
}

/// Removes the temporary directory unless disarmed, and the parent
/// directories created for OUT (those still empty).
pub(super) struct TmpGuard {
    tmp: Option<PathBuf>,
    created: Vec<PathBuf>,
    /// Set once OUT is in place: nothing is removed.
    pub(super) done: bool,
}

impl Drop for TmpGuard {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(p) = self.tmp.take() {
            let _ = std::fs::remove_dir_all(p);
        }
        for d in &self.created {
            let _ = std::fs::remove_dir(d);
        }
    }
}

impl TmpGuard {
    /// Creates OUT's parent directories and the empty temporary directory
    /// `.<name>.tmp-for-creation` beside OUT (a leftover one removed, with a
    /// notice). Returns the guard, the parent and the temporary directory.
    pub(super) fn create(
        parent: &Path,
        name: &str,
        notices: &mut Vec<String>,
    ) -> Result<(TmpGuard, PathBuf)> {
        // The parents to create, deepest first (removed again on failure).
        let created: Vec<PathBuf> = parent
            .ancestors()
            .take_while(|a| a.symlink_metadata().is_err())
            .map(Path::to_path_buf)
            .collect();
        let mut guard = TmpGuard {
            tmp: None,
            created,
            done: false,
        };
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        let tmp = parent.join(format!(".{name}.tmp-for-creation"));
        if tmp.symlink_metadata().is_ok() {
            std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
            notices.push(format!(
                "removed {}, left by an interrupted snapshot",
                tmp.display()
            ));
        }
        std::fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, e))?;
        guard.tmp = Some(tmp.clone());
        Ok((guard, tmp))
    }
}
