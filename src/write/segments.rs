//! Chunk segment files: cut, framed, fsynced.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use super::writeback::Writeback;
use super::{Framed, MAX_SEGMENT_SIZE, SEGMENT_MAGIC};
use crate::error::{Error, Result};

pub(super) struct Segments {
    pub(super) dir: PathBuf,
    pub(super) files: Vec<PathBuf>,
    pub(super) cur: Option<BufWriter<Writeback>>,
    pub(super) size: u64,
}

impl Segments {
    pub(super) fn cut(&mut self) -> Result<()> {
        self.close()?;
        let path = self.dir.join(format!("{:06}", self.files.len() + 1));
        let f = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, Writeback::new(f));
        let mut h = SEGMENT_MAGIC.to_be_bytes().to_vec();
        h.extend_from_slice(&[1, 0, 0, 0]);
        w.write_all(&h).map_err(|e| Error::io(&path, e))?;
        self.files.push(path);
        self.cur = Some(w);
        self.size = 8;
        Ok(())
    }

    pub(super) fn close(&mut self) -> Result<()> {
        if let Some(sync) = self.close_unsynced()? {
            sync()?;
        }
        Ok(())
    }

    /// Flushes the open segment and closes it; returns its fsync, for the
    /// caller to run (on another thread while it writes the index).
    pub(super) fn close_unsynced(
        &mut self,
    ) -> Result<Option<impl FnOnce() -> Result<()> + Send + use<>>> {
        let Some(w) = self.cur.take() else {
            return Ok(None);
        };
        let path = self.files.last().cloned().unwrap_or_default();
        let f = w
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?
            .into_file();
        Ok(Some(move || f.sync_all().map_err(|e| Error::io(&path, e))))
    }

    /// Writes one series' framed chunk records; their refs into `refs`.
    pub(super) fn write(&mut self, f: &Framed<'_>, refs: &mut Vec<u64>) -> Result<()> {
        if self.cur.is_none() || (self.size > 8 && self.size + f.estimate > MAX_SEGMENT_SIZE) {
            self.cut()?;
        }
        let seg = (self.files.len() as u64).saturating_sub(1);
        let files = &self.files;
        let io = |e| Error::io(files.last().cloned().unwrap_or_default(), e);
        let Some(w) = self.cur.as_mut() else {
            return Err(Error::Usage("internal: no chunk segment open".into()));
        };
        refs.clear();
        for &(_, _, start) in f.chunks {
            let at = self.size + start as u64;
            if at > u64::from(u32::MAX) {
                return Err(io(io::Error::other(
                    "chunk segment offset past 4 GiB (one series too large)",
                )));
            }
            refs.push((seg << 32) | at);
        }
        w.write_all(f.bytes).map_err(io)?;
        self.size += f.bytes.len() as u64;
        Ok(())
    }
}
