//! `copy DIR s3://…`: verified, resumable uploads in the Thanos/Mimir layout.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use super::bucket::{Bucket, RemoteBlock, exit_point, file_crc};
use super::thanos::{thanos_meta, valid_label_name};
use crate::check::codes::FindingCode;
use crate::check::{self, CheckOptions};
use crate::copy::{self, BlockFile, BlockReport, CopyReport, Progress, Reason};
use crate::error::{Error, Result};
use crate::format::meta::BlockMeta;
use crate::layout::{self, DirKind};

/// What to upload and how.
#[derive(Debug, Clone, Default)]
pub struct UploadOptions {
    /// Only blocks whose `[minTime, maxTime)` reaches at or after this time (ms).
    pub min_time: Option<i64>,
    /// Only blocks starting at or before this time (ms).
    pub max_time: Option<i64>,
    /// Only these ULIDs (empty: all).
    pub blocks: Vec<String>,
    /// External labels written into `meta.json`'s `thanos.labels`.
    pub external_labels: Vec<(String, String)>,
    /// How to verify source blocks.
    pub check: CheckOptions,
    /// Do not verify the source blocks (each object is still read back).
    pub skip_verify: bool,
    /// Plan and verify only: nothing is written to the bucket.
    pub dry_run: bool,
}

pub(super) fn reason(code: FindingCode, message: impl Into<String>) -> Reason {
    Reason {
        code,
        message: message.into(),
    }
}

/// What became of a block: uploaded (or would be, in a dry run), or why not.
type Outcome = std::result::Result<Option<&'static str>, Reason>;

struct Planned {
    ulid: String,
    src: std::path::PathBuf,
    meta: Option<BlockMeta>,
    files: Vec<BlockFile>,
    new_meta: Vec<u8>,
    bytes: u64,
    remote: Option<RemoteBlock>,
}

fn report(p: &Planned, method: Option<&'static str>, reasons: Vec<Reason>) -> BlockReport {
    BlockReport {
        ulid: p.ulid.clone(),
        src: p.src.clone(),
        min_time: p.meta.as_ref().map(|m| m.min_time),
        max_time: p.meta.as_ref().map(|m| m.max_time),
        bytes: p.bytes,
        method,
        reasons,
        warnings: Vec::new(),
    }
}

/// Refuses an external label whose name is not a valid label name.
pub(super) fn check_external_labels(labels: &[(String, String)]) -> Result<()> {
    match labels.iter().find(|(k, _)| !valid_label_name(k)) {
        Some((k, _)) => Err(Error::bad_option(
            "external_labels",
            format!("external label {k}=…: not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)"),
        )),
        None => Ok(()),
    }
}

const WAL_NOT_UPLOADED: &str = concat!(
    "the source is a data directory: only its blocks are uploaded; data still in its head ",
    "(wal/, chunks_head/) is not. Take a snapshot with the head to include it"
);
const IDENTICAL: &str =
    "already in the bucket: meta.json identical, every object of the same size and CRC32C";
const NOT_VERIFIED: &str = concat!(
    "verification off: the source blocks are not checked before the upload (every object is ",
    "still read back and compared with what was sent)"
);

/// The notices about the source and the options.
fn source_notices(lay: &layout::Layout, opts: &UploadOptions, report_: &mut CopyReport) {
    if lay.kind == DirKind::Data && (lay.wal.is_some() || lay.chunks_head.is_some()) {
        report_
            .notices
            .push(reason(FindingCode::WalNotCopied, WAL_NOT_UPLOADED));
    }
    if opts.skip_verify {
        report_
            .notices
            .push(reason(FindingCode::NotVerified, NOT_VERIFIED));
    }
}

/// One block directory planned for the upload: `None` when the options
/// leave it out or it is refused (then in the report).
fn plan_block(
    dir: &Path,
    opts: &UploadOptions,
    remote: &[RemoteBlock],
    report_: &mut CopyReport,
) -> Option<Planned> {
    let ulid = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !opts.blocks.is_empty() && !opts.blocks.contains(&ulid) {
        report_.excluded += 1;
        return None;
    }
    let raw = crate::fileutil::read_meta_json(&dir.join("meta.json"));
    let meta = raw.as_ref().ok().and_then(|r| BlockMeta::parse(r).ok());
    if let Some(m) = &meta {
        let after = opts.min_time.is_some_and(|t| m.max_time < t);
        let before = opts.max_time.is_some_and(|t| m.min_time > t);
        if after || before {
            report_.excluded += 1;
            return None;
        }
    }
    let files = copy::block_files(dir).unwrap_or_default();
    let bytes = files.iter().map(|f| f.size).sum();
    let mut p = Planned {
        ulid: ulid.clone(),
        src: dir.to_path_buf(),
        meta,
        files,
        new_meta: Vec::new(),
        bytes,
        remote: remote.iter().find(|r| r.ulid == ulid).cloned(),
    };
    let (Ok(raw), Some(_)) = (raw, &p.meta) else {
        report_.refused.push(report(
            &p,
            None,
            vec![reason(
                FindingCode::Unreadable,
                format!("{}: meta.json is missing or unreadable", dir.display()),
            )],
        ));
        return None;
    };
    match thanos_meta(&raw, &opts.external_labels, &p.files) {
        Ok(m) => p.new_meta = m,
        Err(e) => {
            report_.refused.push(report(
                &p,
                None,
                vec![reason(FindingCode::Unreadable, e.to_string())],
            ));
            return None;
        }
    }
    Some(p)
}

/// Blocks complete in the bucket: identical (skip) or a conflict (refuse);
/// the others, to upload.
fn against_bucket(
    bucket: &Bucket,
    planned: Vec<Planned>,
    report_: &mut CopyReport,
) -> Vec<Planned> {
    let mut todo = Vec::new();
    for p in planned {
        match &p.remote {
        Some(r) if r.complete => match same_as_remote(bucket, &p) {
            Ok(None) => report_.skipped.push(report(
                &p,
                None,
                vec![reason(
                    FindingCode::Identical,
                    IDENTICAL,
                )],
            )),
            Ok(Some(diff)) => report_.refused.push(report(
                &p,
                None,
                vec![reason(
                    FindingCode::UlidConflict,
                    format!(
                        "a complete block with this ULID is in the bucket and differs ({diff}); {}",
                        "it is never overwritten"
                    ),
                )],
            )),
            Err(e) => report_
                .failed
                .push(report(&p, None, vec![reason(FindingCode::Io, e.to_string())])),
        },
        _ => todo.push(p),
    }
    }
    todo
}

/// Uploads the blocks of `src` (a snapshot, data or block directory) to the
/// bucket: see the module docs. Blocks are independent: a refused or failed
/// block does not stop the others. Errors only for the run as a whole (the
/// source unreadable, the bucket unreachable for listing).
pub fn upload(
    src: &Path,
    bucket: &Bucket,
    opts: &UploadOptions,
    progress: &dyn Progress,
) -> Result<CopyReport> {
    let started = Instant::now();
    check_external_labels(&opts.external_labels)?;
    let lay = layout::scan_source(src)?;
    crate::copy::check_selected(&opts.blocks, &lay, src)?;
    let mut report_ = CopyReport::new(
        src.to_path_buf(),
        bucket.url().show("").into(),
        opts.dry_run,
    );
    source_notices(&lay, opts, &mut report_);
    let (remote, _) = bucket.blocks()?;
    let mut planned = Vec::new();
    for dir in &lay.blocks {
        if let Some(p) = plan_block(dir, opts, &remote, &mut report_) {
            planned.push(p);
        }
    }
    // Blocks complete in the bucket: identical (skip) or a conflict (refuse).
    let todo = against_bucket(bucket, planned, &mut report_);
    report_.bytes_planned = todo.iter().map(|p| p.bytes).sum();
    let bytes = AtomicU64::new(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads((bucket.concurrency() / 4).max(2))
        .build()
        .map_err(|e| Error::io(src, std::io::Error::other(e)))?;
    // Verification of the next block overlaps the upload of this one.
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Option<Reason>)>(1);
    let verify_one = |p: &Planned| -> Option<Reason> {
        if opts.skip_verify {
            return None;
        }
        crate::copy::damage_reason(&check::verify_block(&p.src, &opts.check))
    };
    let outcomes: Vec<(usize, Outcome)> = std::thread::scope(|s| {
        let todo = &todo;
        s.spawn(move || {
            for (i, p) in todo.iter().enumerate() {
                if tx.send((i, verify_one(p))).is_err() {
                    break;
                }
            }
        });
        let mut out = Vec::new();
        for (i, refusal) in rx {
            let p = &todo[i];
            if let Some(r) = refusal {
                out.push((i, Err(r)));
            } else if opts.dry_run {
                out.push((i, Ok(None)));
            } else {
                let r = pool.install(|| upload_block(bucket, p, progress, &bytes));
                out.push((
                    i,
                    r.map(|()| Some("upload"))
                        .map_err(|e| reason(FindingCode::Io, e.to_string())),
                ));
            }
            progress.block_done(&p.ulid);
        }
        out
    });
    for (i, o) in outcomes {
        let p = &todo[i];
        match o {
            Ok(m) => report_
                .copied
                .push(report(p, m.or(Some("upload")), Vec::new())),
            Err(r) if r.code == "io" => report_.failed.push(report(p, None, vec![r])),
            Err(r) => report_.refused.push(report(p, None, vec![r])),
        }
    }
    report_.bytes = bytes.load(Ordering::Relaxed);
    report_.duration_ms = started.elapsed().as_millis() as u64;
    Ok(report_)
}

/// `None` when the complete remote block equals what we would upload; else
/// what differs.
fn same_as_remote(bucket: &Bucket, p: &Planned) -> Result<Option<String>> {
    let rel = |f: &str| format!("{}/{f}", p.ulid);
    match bucket.get_opt(&rel("meta.json"))? {
        Some(m) if m == p.new_meta => {}
        Some(_) => return Ok(Some("meta.json differs".into())),
        None => return Ok(Some("meta.json vanished".into())),
    }
    let results: Vec<Result<Option<String>>> = p
        .files
        .par_iter()
        .filter(|f| f.rel != Path::new("meta.json"))
        .map(|f| {
            let r = f.rel.to_string_lossy();
            let local = file_crc(&p.src.join(&f.rel))?;
            Ok(match bucket.head(&rel(&r))? {
                None => Some(format!("{r} is missing")),
                Some((size, _)) if size != local.0 => {
                    Some(format!("{r}: {size} bytes, the source has {}", local.0))
                }
                Some((_, Some(crc))) if crc != local.1 => Some(format!(
                    "{r}: CRC32C {crc:08x}, the source's is {:08x}",
                    local.1
                )),
                Some((_, None)) => Some(format!("{r}: no recorded CRC32C to compare")),
                Some(_) => None,
            })
        })
        .collect();
    for r in results {
        if let Some(d) = r? {
            return Ok(Some(d));
        }
    }
    Ok(None)
}

/// Uploads one block's files (objects already up with the same size and CRC
/// kept), reads every object back, then uploads `meta.json` and reads it back.
fn upload_block(
    bucket: &Bucket,
    p: &Planned,
    progress: &dyn Progress,
    bytes: &AtomicU64,
) -> Result<()> {
    let rel = |f: &str| format!("{}/{f}", p.ulid);
    let data: Vec<&BlockFile> = p
        .files
        .iter()
        .filter(|f| f.rel != Path::new("meta.json"))
        .collect();
    // Each object is read back as soon as it is up (while the others are
    // still going up), and all before meta.json makes the block visible.
    let sent: Vec<Result<()>> = data
        .par_iter()
        .map(|f| {
            let r = f.rel.to_string_lossy().into_owned();
            let path = p.src.join(&f.rel);
            let key = rel(&r);
            // Resume: an object of the same size whose recorded CRC equals
            // the source file's is already up.
            let resumed = match p.remote.as_ref().and_then(|b| b.size_of(&r)) {
                Some(listed) if listed == f.size => match bucket.head(&key)? {
                    Some((size, Some(crc))) if file_crc(&path)? == (size, crc) => Some((size, crc)),
                    _ => None,
                },
                _ => None,
            };
            let (n, crc) = match resumed {
                Some(up) => up,
                None => {
                    exit_point();
                    let (n, crc) = bucket.put_file(&key, &path, f.size)?;
                    exit_point();
                    bytes.fetch_add(n, Ordering::Relaxed);
                    progress.bytes(n);
                    (n, crc)
                }
            };
            let got = bucket.read_back(&key, n)?;
            if got != (n, crc) {
                return Err(bucket.err(
                    &key,
                    "read back",
                    format!(
                        concat!(
                            "{} bytes with CRC32C {:08x} in the bucket, {n} bytes with CRC32C ",
                            "{crc:08x} sent"
                        ),
                        got.0,
                        got.1,
                        n = n,
                        crc = crc
                    ),
                ));
            }
            Ok(())
        })
        .collect();
    sent.into_iter().collect::<Result<Vec<()>>>()?;
    exit_point();
    let (n, crc) = bucket.put_small(&rel("meta.json"), p.new_meta.clone())?;
    exit_point();
    let got = bucket.read_back(&rel("meta.json"), n)?;
    if got != (n, crc) {
        return Err(bucket.err(
            &rel("meta.json"),
            "read back",
            format!(
                "{} bytes with CRC32C {:08x} in the bucket, {n} bytes with CRC32C {crc:08x} sent",
                got.0, got.1
            ),
        ));
    }
    bytes.fetch_add(n, Ordering::Relaxed);
    progress.bytes(n);
    Ok(())
}
