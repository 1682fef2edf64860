//! `copy s3://… DIR`: blocks fetched with ranged GETs into a staging
//! directory beside the target, then the local copy.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use super::bucket::{Bucket, RemoteBlock, is_marker};
use super::url::S3Url;
use crate::check::codes::FindingCode;
use crate::copy::{self, CopyOptions, CopyReport, Progress, Reason};
use crate::error::{Error, Result};
use crate::format::meta::BlockMeta;

/// A directory removed (recursively) when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(path: PathBuf) -> Result<Scratch> {
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{nanos:x}", std::process::id())
}

/// Fetches the TSDB objects of a block (not the markers) into `dir/<ULID>/`,
/// in parallel, each object's size checked against the listing.
fn fetch_block(bucket: &Bucket, b: &RemoteBlock, dir: &Path, only_meta: bool) -> Result<PathBuf> {
    let bdir = dir.join(&b.ulid);
    std::fs::create_dir_all(bdir.join("chunks")).map_err(|e| Error::io(&bdir, e))?;
    let objs: Vec<&(String, u64)> = b
        .objects
        .iter()
        .filter(|(r, _)| !is_marker(r) && (!only_meta || r == "meta.json"))
        .filter(|(r, _)| !r.split('/').any(|s| s.is_empty() || s == "." || s == ".."))
        .collect();
    let res: Vec<Result<()>> = objs
        .par_iter()
        .map(|(r, size)| bucket.download(&format!("{}/{r}", b.ulid), *size, &bdir.join(r)))
        .collect();
    res.into_iter().collect::<Result<Vec<()>>>()?;
    Ok(bdir)
}

/// How to restore.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// The local copy's options (`blocks`, `min_time`, `max_time` select the
    /// bucket's blocks; `link` is set internally).
    pub copy: CopyOptions,
    /// Plan only: only the `meta.json` objects are fetched.
    pub dry_run: bool,
}

/// The notice about blocks without `meta.json` (not restored), if any.
fn partial_uploads(listed: &[RemoteBlock]) -> Option<Reason> {
    let partial: Vec<&str> = listed
        .iter()
        .filter(|b| !b.complete)
        .map(|b| b.ulid.as_str())
        .collect();
    (!partial.is_empty()).then(|| Reason {
        code: FindingCode::PartialUpload,
        message: format!(
            "{} partial upload(s) without meta.json not restored: {}",
            partial.len(),
            partial.join(", ")
        ),
    })
}

/// The staging directory: beside the target (hard links from it into the
/// target); a dry run fetches only meta.json objects, into the temporary
/// directory.
fn staging(dst: &Path, dry_run: bool) -> Result<Scratch> {
    let parent = dst
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let base = dst
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "restore".into());
    if dry_run {
        Scratch::new(std::env::temp_dir().join(unique("promsnap-restore-plan")))
    } else {
        Scratch::new(parent.join(unique(&format!(".{base}.promsnap-staging"))))
    }
}

/// The complete blocks the options select, by their meta.json objects
/// (fetched into `staging`), and how many were left out.
fn select<'l>(
    bucket: &Bucket,
    listed: &'l [RemoteBlock],
    opts: &RestoreOptions,
    staging: &Path,
    notices: &mut Vec<Reason>,
) -> Result<(Vec<&'l RemoteBlock>, usize)> {
    let mut selected = Vec::new();
    let mut excluded = 0;
    for b in listed.iter().filter(|b| b.complete) {
        if !opts.copy.blocks.is_empty() && !opts.copy.blocks.contains(&b.ulid) {
            excluded += 1;
            continue;
        }
        let dir = fetch_block(bucket, b, staging, true)?;
        if let Some(m) = crate::fileutil::read_meta_json(&dir.join("meta.json"))
            .ok()
            .and_then(|r| BlockMeta::parse(&r).ok())
        {
            let after = opts.copy.min_time.is_some_and(|t| m.max_time < t);
            let before = opts.copy.max_time.is_some_and(|t| m.min_time > t);
            if after || before {
                let _ = std::fs::remove_dir_all(&dir);
                excluded += 1;
                continue;
            }
        }
        if b.deletion_mark {
            notices.push(Reason {
                code: FindingCode::DeletionMarked,
                message: format!(
                    "{}: marked for deletion in the bucket (deletion-mark.json); {}",
                    b.ulid, "restored all the same"
                ),
            });
        }
        selected.push(b);
    }
    Ok((selected, excluded))
}

/// The report's blocks named by their place in the bucket, not the
/// staging directory they were copied from.
fn name_the_bucket(report: &mut CopyReport, url: &S3Url, staging: &Path) {
    for b in report
        .copied
        .iter_mut()
        .chain(&mut report.skipped)
        .chain(&mut report.refused)
        .chain(&mut report.failed)
    {
        b.src = url.show(&b.ulid).into();
        if b.method.is_some() {
            b.method = Some("download");
        }
        let staged = staging.display().to_string();
        for r in b.reasons.iter_mut().chain(&mut b.warnings) {
            r.message = r.message.replace(&staged, &url.show(""));
        }
    }
}

/// Restores the complete blocks under the bucket prefix into the data
/// directory `dst` (see the module docs). The report's `src` fields are
/// `s3://` URLs.
pub fn restore(
    bucket: &Bucket,
    dst: &Path,
    opts: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<CopyReport> {
    let started = Instant::now();
    let url = bucket.url().clone();
    let (listed, _) = bucket.blocks()?;
    for want in &opts.copy.blocks {
        if !listed.iter().any(|b| &b.ulid == want && b.complete) {
            return Err(Error::bad_option(
                "blocks",
                format!("block {want}: no such complete block in {url}"),
            ));
        }
    }
    let mut notices: Vec<Reason> = partial_uploads(&listed).into_iter().collect();
    let staging = staging(dst, opts.dry_run)?;
    let (selected, excluded) = select(bucket, &listed, opts, &staging.0, &mut notices)?;
    if !opts.dry_run {
        for b in &selected {
            fetch_block(bucket, b, &staging.0, false)?;
        }
    }
    let mut copts = opts.copy.clone();
    copts.blocks.clear();
    copts.min_time = None;
    copts.max_time = None;
    copts.link = true;
    let mut report = if selected.is_empty() {
        CopyReport::new(url.show("").into(), dst.to_path_buf(), opts.dry_run)
    } else {
        let mut plan = copy::plan(&staging.0, dst, &copts)?;
        if opts.dry_run {
            for pb in &mut plan.blocks {
                if let Some(b) = selected.iter().find(|b| b.ulid == pb.ulid) {
                    pb.bytes = b.bytes();
                }
            }
            CopyReport::from_plan(&plan, started)
        } else {
            copy::execute(&plan, &copts, progress)?
        }
    };
    report.notices.retain(|n| n.code != "link_fallback");
    report.notices.extend(notices);
    report.src = url.show("").into();
    report.link = false;
    report.excluded += excluded;
    name_the_bucket(&mut report, &url, &staging.0);
    if opts.dry_run {
        report.bytes_planned = report.copied.iter().map(|b| b.bytes).sum();
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    drop(staging);
    Ok(report)
}
