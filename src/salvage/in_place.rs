//! `salvage --in-place`: the damaged blocks rewritten beside themselves and
//! moved, with the WAL's and the head chunks' damaged tails, into a
//! quarantine directory beside the data directory.

use std::path::{Path, PathBuf};

use super::{
    BlockAction, BlockSalvage, RewriteResult, SalvageOptions, SalvageReport, check_room,
    checkpoint, resolve, rewrite_and_place, tally, usage, verify_all, wal,
};
use crate::check::BlockCheck;
use crate::copy::fsops;
use crate::error::{Error, Result};
use crate::layout::{DirKind, Layout, scan};

/// `YYYYMMDDTHHMMSSZ` of the current time.
fn stamp() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let t = crate::coverage::fmt_time(ms);
    // 2026-12-05T07:15:00.123Z → 20261205T071500Z
    let core: String = t
        .chars()
        .take(19)
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    format!("{core}Z")
}

/// Usage errors on DATA_DIR: a Prometheus data directory no process uses.
fn check_data_dir(data: &Path, layout: &Layout) -> Result<()> {
    if layout.kind != DirKind::Data {
        return Err(usage(format!(
            "{}: salvaging in place needs a Prometheus data directory (this is a {} directory)",
            data.display(),
            format!("{:?}", layout.kind).to_lowercase()
        )));
    }
    if crate::check::dir::nothing_recognisable(layout) {
        return Err(usage(format!(
            "{}: nothing recognisable (no block, no WAL): not a Prometheus data directory",
            data.display()
        )));
    }
    if crate::check::dir::is_live(data) {
        return Err(usage(format!(
            concat!(
                "{}: a running Prometheus (or another process) uses this directory: ",
                "stop it first; salvaging in place never changes a live data directory"
            ),
            data.display()
        )));
    }
    Ok(())
}

/// The quarantine directory, created on first use.
struct Quarantine {
    dir: PathBuf,
    made: bool,
}

impl Quarantine {
    /// Creates the directory unless it exists already.
    fn ensure(&mut self) -> Result<()> {
        if !self.made {
            std::fs::create_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
            self.made = true;
        }
        Ok(())
    }

    /// Moves `p` into the quarantine (under `sub`, when given); returns
    /// where it now is.
    fn take(&mut self, p: &Path, sub: Option<&str>) -> Result<PathBuf> {
        self.ensure()?;
        let mut dst = self.dir.clone();
        if let Some(s) = sub {
            dst.push(s);
            if !dst.exists() {
                std::fs::create_dir(&dst).map_err(|e| Error::io(&dst, e))?;
            }
        }
        dst.push(p.file_name().unwrap_or_default());
        fsops::rename_noreplace(p, &dst).map_err(|e| {
            Error::io(
                p,
                std::io::Error::new(e.kind(), format!("cannot move into {}: {e}", dst.display())),
            )
        })?;
        Ok(dst)
    }
}

/// Salvages the data directory `data` in place. See the module docs.
pub fn salvage_in_place(data: &Path, opts: &SalvageOptions) -> Result<SalvageReport> {
    let layout = scan(data)?;
    check_data_dir(data, &layout)?;
    let root = resolve(data);
    let qparent = root
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| usage(format!("{}: has no parent directory", data.display())))?;
    let mut q = Quarantine {
        dir: qparent.join(format!("promsnap-quarantine-{}", stamp())),
        made: false,
    };
    if q.dir.exists() {
        return Err(usage(format!(
            "{} already exists: run again in a second",
            q.dir.display()
        )));
    }
    let checks = verify_all(&layout.blocks);
    check_room(&checks, BlockCheck::has_errors, data)?;
    let mut report = SalvageReport::new(data, None, opts);
    for c in &checks {
        let b = salvage_block(c, data, opts, &mut q)?;
        report.blocks.push(b);
    }
    // The newest block's end once salvage is done: the restart takes the
    // WAL's older samples to be in blocks.
    let min_valid_time = checks
        .iter()
        .zip(&report.blocks)
        .filter(|(_, b)| b.action != BlockAction::Unreadable)
        .filter_map(|(c, _)| c.meta.as_ref().map(|m| m.max_time))
        .max()
        .unwrap_or(i64::MIN);
    cut_head(&layout, opts, &mut q, &mut report, min_valid_time)?;
    let something_moved = report.blocks.iter().any(|b| b.quarantined_to.is_some())
        || report.wal.as_ref().is_some_and(|w| w.cut)
        || report.checkpoint.is_some()
        || report
            .chunks_head
            .as_ref()
            .is_some_and(|c| !c.moved.is_empty());
    if something_moved {
        report.quarantine = Some(q.dir.clone());
    }
    if q.made {
        fsops::sync_dir(&q.dir).map_err(|e| Error::io(&q.dir, e))?;
        fsops::sync_dir(&qparent).map_err(|e| Error::io(&qparent, e))?;
        fsops::sync_dir(data).map_err(|e| Error::io(data, e))?;
    }
    tally(&mut report);
    Ok(report)
}

/// One block: kept when it has no error; otherwise rewritten into `data`
/// and the original moved into the quarantine just before the new block is
/// placed (moved alone when nothing can be read).
fn salvage_block(
    c: &BlockCheck,
    data: &Path,
    opts: &SalvageOptions,
    q: &mut Quarantine,
) -> Result<BlockSalvage> {
    let mut b = BlockSalvage::new(c, BlockAction::Kept);
    if !c.has_errors() {
        return Ok(b);
    }
    let qdst = q.dir.join(c.dir.file_name().unwrap_or_default());
    let mut moved = false;
    let (res, placed) = rewrite_and_place(&c.dir, data, opts.dry_run, &mut || {
        q.take(&c.dir, None)?;
        moved = true;
        Ok(())
    })?;
    match res {
        RewriteResult::Unreadable { reason } => {
            b.action = BlockAction::Unreadable;
            b.reason = Some(reason);
            b.quarantined_to = Some(if opts.dry_run {
                qdst
            } else {
                q.take(&c.dir, None)?
            });
        }
        RewriteResult::Done { rewrite, .. } => {
            b.rewritten(*rewrite, placed);
            if moved || opts.dry_run {
                b.quarantined_to = Some(qdst);
            }
        }
    }
    Ok(b)
}

/// The WAL cut at its first damage and the damaged head chunk files, moved
/// into the quarantine.
fn cut_head(
    layout: &Layout,
    opts: &SalvageOptions,
    q: &mut Quarantine,
    report: &mut SalvageReport,
    min_valid_time: i64,
) -> Result<()> {
    // The WAL's checkpoint first, then its segments, then the head chunks.
    if let Some(w) = &layout.wal {
        let cc = checkpoint::plan_checkpoint_cut(w, layout.chunks_head.as_deref())?;
        if let Some(c) = cc.as_ref().filter(|_| !opts.dry_run) {
            q.ensure()?;
            let qdir = q
                .dir
                .join("wal")
                .join(c.dir.file_name().unwrap_or_default());
            checkpoint::apply_checkpoint_cut(c, &qdir)?;
        }
        report.checkpoint = cc;
    }
    // The head chunk files that leave are planned first: the WAL cut's loss
    // counts what the chunks still in place serve.
    let hc = layout.chunks_head.as_deref().map(wal::plan_head_chunks_cut);
    if let Some(w) = &layout.wal {
        let gone = hc.as_ref().map_or(&[][..], |h| &h.moved[..]);
        let cut = wal::plan_wal_cut(w, layout.chunks_head.as_deref(), gone, min_valid_time)?;
        if cut.cut && !opts.dry_run {
            q.ensure()?;
            wal::apply_wal_cut(&cut, &q.dir.join("wal"))?;
        }
        report.wal = Some(cut);
    }
    if let (Some(h), Some(hc)) = (&layout.chunks_head, hc) {
        if !hc.moved.is_empty() && !opts.dry_run {
            q.ensure()?;
            for p in &hc.moved {
                q.take(p, Some("chunks_head"))?;
            }
            fsops::sync_dir(h).map_err(|e| Error::io(h, e))?;
        }
        report.chunks_head = Some(hc);
    }
    Ok(())
}
