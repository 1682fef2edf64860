//! Chunk segment files: cut, framed, fsynced.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use super::{ChunkOut, MAX_SEGMENT_SIZE, SEGMENT_MAGIC};
use crate::error::{Error, Result};
use crate::format::crc::crc32c_append;

pub(super) struct Segments {
    pub(super) dir: PathBuf,
    pub(super) files: Vec<PathBuf>,
    pub(super) cur: Option<BufWriter<File>>,
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
        let mut w = BufWriter::with_capacity(1 << 20, f);
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
    pub(super) fn close_unsynced(&mut self) -> Result<Option<impl FnOnce() -> Result<()> + Send>> {
        let Some(w) = self.cur.take() else {
            return Ok(None);
        };
        let path = self.files.last().cloned().unwrap_or_default();
        let f = w
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        Ok(Some(move || f.sync_all().map_err(|e| Error::io(&path, e))))
    }

    /// Writes one series' chunks as one batch; their refs into `refs`.
    pub(super) fn write(&mut self, chunks: &[ChunkOut<'_>], refs: &mut Vec<u64>) -> Result<()> {
        let batch: u64 = chunks.iter().map(|c| c.data.len() as u64 + 1 + 4 + 5).sum();
        if self.cur.is_none() || (self.size > 8 && self.size + batch > MAX_SEGMENT_SIZE) {
            self.cut()?;
        }
        let seg = (self.files.len() as u64).saturating_sub(1);
        let files = &self.files;
        let io = |e| Error::io(files.last().cloned().unwrap_or_default(), e);
        let Some(w) = self.cur.as_mut() else {
            return Err(Error::Usage("internal: no chunk segment open".into()));
        };
        refs.clear();
        let mut head = [0u8; 11];
        for c in chunks {
            if self.size > u64::from(u32::MAX) {
                return Err(io(io::Error::other(
                    "chunk segment offset past 4 GiB (one series too large)",
                )));
            }
            refs.push((seg << 32) | self.size);
            let hn = put_uvarint_array(&mut head, c.data.len() as u64);
            let enc = c.encoding.to_u8();
            if let Some(h) = head.get_mut(hn) {
                *h = enc;
            }
            let crc = crc32c_append(crc32c_append(0, &[enc]), c.data);
            w.write_all(head.get(..hn + 1).unwrap_or(&[])).map_err(io)?;
            w.write_all(c.data).map_err(io)?;
            w.write_all(&crc.to_be_bytes()).map_err(io)?;
            self.size += (hn + 1 + c.data.len() + 4) as u64;
        }
        Ok(())
    }
}

/// `v` as a uvarint into `out`; returns its length.
fn put_uvarint_array(out: &mut [u8; 11], mut v: u64) -> usize {
    let mut i = 0;
    while v >= 0x80 {
        if let Some(b) = out.get_mut(i) {
            *b = (v as u8) | 0x80;
        }
        v >>= 7;
        i += 1;
    }
    if let Some(b) = out.get_mut(i) {
        *b = v as u8;
    }
    i + 1
}

