//! `copy s3://… s3://…`: blocks from one bucket prefix to another, checked
//! as an upload from a directory is. Each selected complete block of the
//! source is verified where it lies (every check of the local verify); its
//! objects are copied on the server (S3 CopyObject) when both prefixes are
//! in one bucket and the source object carries its CRC32C, else streamed
//! through (ranged GETs into multipart PUTs, the CRC32C recorded); every
//! copied object is read back and its size and CRC32C compared with the
//! source's; `meta.json` (with the `thanos` section and the external labels)
//! goes up last. Complete blocks already in the target are skipped when
//! identical and never overwritten; a killed run leaves partial uploads that
//! a re-run finishes (objects already copied with the source's size and
//! CRC32C are kept). The source is only read. The test hook of the upload
//! (`PROMSNAP_TEST_S3_EXIT_AT`, see the module docs of `objstore`) counts
//! the same points here: before and after each object's copy, `meta.json`
//! included.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use super::bucket::{Bucket, RemoteBlock, exit_point, is_marker};
use super::thanos::thanos_meta;
use super::upload::{UploadOptions, reason};
use super::verify::{BucketBlock, THREADS};
use crate::check::block::{BlockCheck, verify_block_in};
use crate::check::codes::FindingCode;
use crate::copy::{BlockFile, BlockReport, CopyReport, Progress, Reason};
use crate::error::{Error, Result};
use crate::format::meta::BlockMeta;

/// One source block on its way.
struct Planned<'a> {
    block: &'a RemoteBlock,
    meta: BlockMeta,
    new_meta: Vec<u8>,
    files: Vec<BlockFile>,
    bytes: u64,
}

fn report(
    src: &Bucket,
    b: &RemoteBlock,
    meta: Option<&BlockMeta>,
    method: Option<&'static str>,
    reasons: Vec<Reason>,
) -> BlockReport {
    BlockReport {
        ulid: b.ulid.clone(),
        src: src.url().show(&b.ulid).into(),
        min_time: meta.map(|m| m.min_time),
        max_time: meta.map(|m| m.max_time),
        bytes: b.bytes(),
        method,
        reasons,
        warnings: Vec::new(),
    }
}

/// True when the two prefixes are in one bucket and one holds the other
/// (a copy would list its own output as input).
fn nested(src: &Bucket, dst: &Bucket) -> bool {
    let (a, b) = (src.url(), dst.url());
    a.bucket == b.bucket
        && (a.prefix.is_empty()
            || b.prefix.is_empty()
            || a.prefix == b.prefix
            || b.prefix.starts_with(&format!("{}/", a.prefix))
            || a.prefix.starts_with(&format!("{}/", b.prefix)))
}

const IDENTICAL: &str =
    "already in the target: meta.json identical, every object of the same size and CRC32C";
const NOT_VERIFIED: &str = concat!(
    "verification off: the source blocks are not checked before the copy (every object is ",
    "still read back and compared with the source's)"
);

/// Every block asked for by name is a complete block of `src`.
fn check_wanted(src: &Bucket, listed: &[RemoteBlock], opts: &UploadOptions) -> Result<()> {
    for want in &opts.blocks {
        if !listed.iter().any(|b| &b.ulid == want && b.complete) {
            return Err(Error::bad_option(
                "blocks",
                format!("block {want}: no such complete block in {}", src.url()),
            ));
        }
    }
    Ok(())
}

/// The notices about the source's partial uploads and the options.
fn source_notices(listed: &[RemoteBlock], opts: &UploadOptions, rep: &mut CopyReport) {
    let partial: Vec<&str> = listed
        .iter()
        .filter(|b| !b.complete)
        .map(|b| b.ulid.as_str())
        .collect();
    if !partial.is_empty() {
        rep.notices.push(reason(
            FindingCode::PartialUpload,
            format!(
                "{} partial upload(s) without meta.json not copied: {}",
                partial.len(),
                partial.join(", ")
            ),
        ));
    }
    if opts.skip_verify {
        rep.notices
            .push(reason(FindingCode::NotVerified, NOT_VERIFIED));
    }
}

/// The refusal of a block the source verification found errors in: their
/// count and the first.
fn damaged(c: &BlockCheck) -> Option<Reason> {
    if !c.has_errors() {
        return None;
    }
    let first = c.findings.iter().find(|f| f.is_error()).map(|f| {
        let at = f
            .offset
            .map(|o| format!(" at offset {o}"))
            .unwrap_or_default();
        format!(": {}{at}: {} ({})", f.path.display(), f.message, f.code)
    });
    Some(reason(
        FindingCode::Damaged,
        format!(
            "source verification found {} error(s){}",
            c.tally().errors,
            first.unwrap_or_default()
        ),
    ))
}

/// A block complete in the target too: skipped when identical, refused
/// when it differs.
fn already_there(
    src: &Bucket,
    dst: &Bucket,
    b: &RemoteBlock,
    p: &Planned<'_>,
    r: &RemoteBlock,
    rep: &mut CopyReport,
) {
    let done = |method, reasons| report(src, b, Some(&p.meta), method, reasons);
    match same(src, dst, p, r) {
        Ok(None) => rep
            .skipped
            .push(done(None, vec![reason(FindingCode::Identical, IDENTICAL)])),
        Ok(Some(diff)) => rep.refused.push(done(
            None,
            vec![reason(
                FindingCode::UlidConflict,
                format!(
                    "a complete block with this ULID is in the target and differs ({diff}); {}",
                    "it is never overwritten"
                ),
            )],
        )),
        Err(e) => rep
            .failed
            .push(done(None, vec![reason(FindingCode::Io, e.to_string())])),
    }
}

/// Copies the complete blocks of `src` to `dst` (see the module docs).
/// Blocks are independent: a refused or failed block does not stop the
/// others. Errors only for the run as a whole.
pub fn transfer(
    src: &Bucket,
    dst: &Bucket,
    opts: &UploadOptions,
    progress: &dyn Progress,
) -> Result<CopyReport> {
    let started = Instant::now();
    super::upload::check_external_labels(&opts.external_labels)?;
    if nested(src, dst) {
        return Err(Error::Usage(format!(
            "{} and {}: one prefix holds the other; copy to a prefix outside the source",
            src.url(),
            dst.url()
        )));
    }
    let (listed, _) = src.blocks()?;
    check_wanted(src, &listed, opts)?;
    let mut rep = CopyReport::new(
        src.url().show("").into(),
        dst.url().show("").into(),
        opts.dry_run,
    );
    source_notices(&listed, opts, &mut rep);
    let (remote, _) = dst.blocks()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(THREADS)
        .build()
        .map_err(|e| Error::io(src.url().show(""), std::io::Error::other(e)))?;
    let bytes = AtomicU64::new(0);
    for b in listed.iter().filter(|b| b.complete) {
        if !opts.blocks.is_empty() && !opts.blocks.contains(&b.ulid) {
            rep.excluded += 1;
            continue;
        }
        let p = match plan(src, b, opts) {
            Ok(Some(p)) => p,
            Ok(None) => {
                rep.excluded += 1;
                continue;
            }
            Err(r) => {
                rep.refused.push(report(src, b, None, None, vec![r]));
                continue;
            }
        };
        let done = |method, reasons| report(src, b, Some(&p.meta), method, reasons);
        if let Some(r) = remote.iter().find(|r| r.ulid == b.ulid && r.complete) {
            already_there(src, dst, b, &p, r, &mut rep);
            progress.block_done(&b.ulid);
            continue;
        }
        rep.bytes_planned += p.bytes;
        if !opts.skip_verify {
            let source = BucketBlock {
                bucket: src,
                block: b,
                dir: src.url().show(&b.ulid).into(),
            };
            let c = pool.install(|| verify_block_in(&source, &opts.check));
            if let Some(r) = damaged(&c) {
                rep.refused.push(done(None, vec![r]));
                progress.block_done(&b.ulid);
                continue;
            }
        }
        if opts.dry_run {
            rep.copied.push(done(Some("copy"), Vec::new()));
        } else {
            let partial = remote.iter().find(|r| r.ulid == b.ulid);
            match pool.install(|| copy_block(src, dst, &p, partial, progress, &bytes)) {
                Ok(method) => rep.copied.push(done(Some(method), Vec::new())),
                Err(e) => rep
                    .failed
                    .push(done(None, vec![reason(FindingCode::Io, e.to_string())])),
            }
        }
        progress.block_done(&b.ulid);
    }
    rep.bytes = bytes.load(Ordering::Relaxed);
    rep.duration_ms = started.elapsed().as_millis() as u64;
    Ok(rep)
}

/// The block's meta.json, selection and the meta.json it gets in the
/// target; `None` when the time range leaves it out.
fn plan<'a>(
    src: &Bucket,
    b: &'a RemoteBlock,
    opts: &UploadOptions,
) -> std::result::Result<Option<Planned<'a>>, Reason> {
    let rel = format!("{}/meta.json", b.ulid);
    let unreadable = |why: String| {
        reason(
            FindingCode::Unreadable,
            format!("{}: {why}", src.url().show(&rel)),
        )
    };
    let raw = match src.get_opt(&rel) {
        Ok(Some(r)) => r,
        Ok(None) => return Err(unreadable("vanished".into())),
        Err(e) => return Err(reason(FindingCode::Io, e.to_string())),
    };
    let meta = BlockMeta::parse(&raw).map_err(|e| unreadable(e.to_string()))?;
    let after = opts.min_time.is_some_and(|t| meta.max_time < t);
    let before = opts.max_time.is_some_and(|t| meta.min_time > t);
    if after || before {
        return Ok(None);
    }
    let files: Vec<BlockFile> = b
        .objects
        .iter()
        .filter(|(r, _)| !is_marker(r) && r != "meta.json")
        .map(|(r, s)| BlockFile {
            rel: r.into(),
            size: *s,
        })
        .collect();
    let new_meta =
        thanos_meta(&raw, &opts.external_labels, &files).map_err(|e| unreadable(e.to_string()))?;
    let bytes = files.iter().map(|f| f.size).sum::<u64>() + new_meta.len() as u64;
    Ok(Some(Planned {
        block: b,
        meta,
        new_meta,
        files,
        bytes,
    }))
}

/// `None` when the complete target block equals what the copy would write;
/// else what differs.
fn same(src: &Bucket, dst: &Bucket, p: &Planned<'_>, r: &RemoteBlock) -> Result<Option<String>> {
    let rel = |f: &str| format!("{}/{f}", p.block.ulid);
    match dst.get_opt(&rel("meta.json"))? {
        Some(m) if m == p.new_meta => {}
        Some(_) => return Ok(Some("meta.json differs".into())),
        None => return Ok(Some("meta.json vanished".into())),
    }
    for f in &p.files {
        let r_ = f.rel.to_string_lossy();
        if r.size_of(&r_) != Some(f.size) {
            return Ok(Some(format!("{r_} differs in size or is missing")));
        }
        let (a, b) = (src.head(&rel(&r_))?, dst.head(&rel(&r_))?);
        match (a.and_then(|x| x.1), b.and_then(|x| x.1)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(x), Some(y)) => {
                return Ok(Some(format!(
                    "{r_}: CRC32C {y:08x}, the source's is {x:08x}"
                )));
            }
            _ => return Ok(Some(format!("{r_}: no recorded CRC32C to compare"))),
        }
    }
    Ok(None)
}

/// The error of an object whose bytes streamed up (size and CRC32C `sent`)
/// are not the ones the source listed (`listed`).
fn changed_while_read(sent: (u64, u32), listed: (u64, u32)) -> std::io::Error {
    std::io::Error::other(format!(
        concat!(
            "the source changed while it was read: {} bytes with CRC32C {:08x} sent, ",
            "{} bytes with CRC32C {:08x} listed"
        ),
        sent.0, sent.1, listed.0, listed.1
    ))
}

/// The error of an object read back from the target (size and CRC32C
/// `got`) that differs from the source's (`source`).
fn read_back_differs(got: (u64, u32), source: (u64, u32)) -> std::io::Error {
    std::io::Error::other(format!(
        concat!(
            "read back: {} bytes with CRC32C {:08x} in the target, {} bytes ",
            "with CRC32C {:08x} in the source"
        ),
        got.0, got.1, source.0, source.1
    ))
}

/// Copies one block's objects (those already in a partial upload of the
/// target with the source's size and CRC32C kept), reads each back, then
/// writes meta.json and reads it back. The method: `server-side copy` when
/// every object was copied on the server, else `stream`.
fn copy_block(
    src: &Bucket,
    dst: &Bucket,
    p: &Planned<'_>,
    partial: Option<&RemoteBlock>,
    progress: &dyn Progress,
    bytes: &AtomicU64,
) -> Result<&'static str> {
    let rel = |f: &str| format!("{}/{f}", p.block.ulid);
    let one_bucket = src.url().bucket == dst.url().bucket;
    let methods: Vec<Result<bool>> = p
        .files
        .par_iter()
        .map(|f| {
            let r = rel(&f.rel.to_string_lossy());
            // The source's CRC32C: recorded by its uploader, else read.
            let recorded = src.head(&r)?.and_then(|h| h.1);
            let crc = match recorded {
                Some(c) => c,
                None => src.read_back(&r, f.size)?.1,
            };
            let up = partial.and_then(|b| b.size_of(&f.rel.to_string_lossy())) == Some(f.size)
                && dst.head(&r)?.and_then(|h| h.1) == Some(crc);
            let mut server = false;
            if !up {
                exit_point();
                if one_bucket && recorded.is_some() {
                    dst.copy_in_bucket(&src.url().key(&r), &r)?;
                    server = true;
                } else {
                    let (n, sent) =
                        dst.put_pieces(&r, f.size, crc, |a, z| src.get_range(&r, a, z))?;
                    if (n, sent) != (f.size, crc) {
                        return Err(Error::io(
                            src.url().show(&r),
                            changed_while_read((n, sent), (f.size, crc)),
                        ));
                    }
                }
                exit_point();
                bytes.fetch_add(f.size, Ordering::Relaxed);
                progress.bytes(f.size);
            }
            let got = dst.read_back(&r, f.size)?;
            if got != (f.size, crc) {
                return Err(Error::io(
                    dst.url().show(&r),
                    read_back_differs(got, (f.size, crc)),
                ));
            }
            Ok(server)
        })
        .collect();
    let methods: Vec<bool> = methods.into_iter().collect::<Result<_>>()?;
    let m = rel("meta.json");
    exit_point();
    let (n, crc) = dst.put_pieces(&m, p.new_meta.len() as u64, 0, |_, _| {
        Ok(bytes::Bytes::from(p.new_meta.clone()))
    })?;
    exit_point();
    let got = dst.read_back(&m, n)?;
    if got != (n, crc) {
        return Err(Error::io(
            dst.url().show(&m),
            std::io::Error::other(format!(
                "read back: {} bytes with CRC32C {:08x}, {n} bytes with CRC32C {crc:08x} sent",
                got.0, got.1
            )),
        ));
    }
    bytes.fetch_add(n, Ordering::Relaxed);
    progress.bytes(n);
    Ok(if methods.iter().all(|&s| s) {
        "server-side copy"
    } else {
        "stream"
    })
}
