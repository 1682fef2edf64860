//! Carrying out a copy plan: verify, copy each block into
//! `<ulid>.tmp-for-creation`, fsync, re-read, rename; re-planning when a
//! running Prometheus compacts source blocks away during the copy.

#[allow(clippy::wildcard_imports)]
use super::*;

enum Outcome {
    Copied(&'static str),
    Refused(Reason),
    Failed(Reason),
}

/// Carries out a plan: verifies (if not done yet) and copies every block
/// marked [`Action::Copy`]. Blocks are independent: one refused or failed
/// block does not stop the others. Errors only for a failure of the run as a
/// whole (the target directory cannot be created or synced).
pub fn execute(plan: &CopyPlan, opts: &CopyOptions, progress: &dyn Progress) -> Result<CopyReport> {
    let started = Instant::now();
    let mut report = empty_report(plan, false);
    let to_copy: Vec<&PlannedBlock> = plan
        .blocks
        .iter()
        .filter(|b| b.action == Action::Copy)
        .collect();
    if !to_copy.is_empty() {
        std::fs::create_dir_all(&plan.dst).map_err(|e| Error::io(&plan.dst, e))?;
        if !plan.dst_exists
            && let Some(parent) = plan.dst.parent().filter(|p| !p.as_os_str().is_empty())
        {
            let _ = fsops::sync_dir(parent);
        }
    }
    let bytes = AtomicU64::new(0);
    let run = || -> Vec<Outcome> {
        to_copy
            .par_iter()
            .map(|b| {
                let o = copy_block(b, plan, opts, progress, &bytes);
                progress.block_done(&b.ulid);
                o
            })
            .collect()
    };
    let outcomes = match pool(opts.jobs) {
        Some(p) => p.install(run),
        None => run(),
    };
    // A source block deleted during the copy (a running Prometheus compacted
    // it, or retention deleted it) is not damaged: say so.
    let outcomes = outcomes
        .into_iter()
        .zip(&to_copy)
        .map(|(o, b)| match o {
            Outcome::Refused(_) | Outcome::Failed(_) if !b.src.exists() => {
                Outcome::Refused(vanished_reason(b))
            }
            o => o,
        })
        .collect::<Vec<_>>();
    let mut outcomes = outcomes.into_iter();
    for b in &plan.blocks {
        match b.action {
            Action::Skip => report.skipped.push(block_report(b, None)),
            Action::Refuse => report.refused.push(block_report(b, None)),
            Action::Copy => match outcomes.next() {
                Some(Outcome::Copied(method)) => report.copied.push(block_report(b, Some(method))),
                Some(Outcome::Refused(r)) => {
                    let mut br = block_report(b, None);
                    br.reasons.push(r);
                    report.refused.push(br);
                }
                Some(Outcome::Failed(r)) => {
                    let mut br = block_report(b, None);
                    br.reasons.push(r);
                    report.failed.push(br);
                }
                None => {
                    let mut br = block_report(b, None);
                    br.reasons
                        .push(Reason::new(FindingCode::Io, "no outcome recorded"));
                    report.failed.push(br);
                }
            },
        }
    }
    report.bytes = bytes.load(Ordering::Relaxed);
    report.duration_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

fn vanished_reason(b: &PlannedBlock) -> Reason {
    let range = match &b.meta {
        Some(m) => format!(
            "{}..{}",
            crate::gofmt::rfc3339_ms(m.min_time),
            crate::gofmt::rfc3339_ms(m.max_time)
        ),
        None => "its range".into(),
    };
    Reason::new(
        SOURCE_VANISHED,
        format!(
            concat!(
                "the source block was deleted during the copy (a running Prometheus ",
                "compacted it into a new block, or retention deleted it); nothing ",
                "of it is in the target, and {range} is not covered by this block"
            ),
            range = range
        ),
    )
}

/// [`execute`] `first` (the plan of `src` into `dst`), then, while source
/// blocks vanished during the copy (a running Prometheus compacting), plan
/// and execute again (up to 4 rounds) so their data is taken from the blocks
/// that replaced them. The report joins the rounds: every block copied in any
/// round; the refusals and failures of the last round; a `source_replanned`
/// notice per round naming the vanished blocks. A vanished block's range that
/// no later round covered stays in `refused` with reason `source_vanished`.
pub fn execute_replanning(
    first: &CopyPlan,
    src: &Path,
    dst: &Path,
    opts: &CopyOptions,
    progress: &dyn Progress,
) -> Result<CopyReport> {
    let started = Instant::now();
    let mut report = execute(first, opts, progress)?;
    for _ in 0..3 {
        let vanished: Vec<BlockReport> = report
            .refused
            .iter()
            .filter(|b| b.reasons.iter().any(|r| r.code == SOURCE_VANISHED))
            .cloned()
            .collect();
        if vanished.is_empty() {
            break;
        }
        let again = plan(src, dst, opts)?;
        let next = execute(&again, opts, progress)?;
        let mut joined = next.clone();
        let copied_before: Vec<BlockReport> = report.copied.clone();
        joined
            .skipped
            .retain(|s| !copied_before.iter().any(|c| c.ulid == s.ulid));
        joined.copied = copied_before.into_iter().chain(next.copied).collect();
        let mut notices = report.notices.clone();
        notices.push(Reason::new(
            FindingCode::SourceReplanned,
            format!(
                concat!(
                    "source block(s) {} vanished during the copy (a running Prometheus ",
                    "compacted them): the copy was planned again from the source ",
                    "as it is now"
                ),
                vanished
                    .iter()
                    .map(|b| b.ulid.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
        for n in joined.notices.drain(..) {
            if !notices
                .iter()
                .any(|m| m.code == n.code && m.message == n.message)
            {
                notices.push(n);
            }
        }
        joined.notices = notices;
        // A vanished block whose range no copied block covers stays refused.
        for v in vanished {
            let (Some(a), Some(z)) = (v.min_time, v.max_time) else {
                continue;
            };
            let covered =
                joined.copied.iter().chain(&joined.skipped).any(|c| {
                    c.min_time.is_some_and(|m| m <= a) && c.max_time.is_some_and(|m| m >= z)
                });
            if !covered && !joined.refused.iter().any(|r| r.ulid == v.ulid) {
                joined.refused.push(v);
            }
        }
        joined.bytes = report.bytes + next.bytes;
        report = joined;
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Copies one block; every failure is an outcome, never a panic.
fn copy_block(
    b: &PlannedBlock,
    plan: &CopyPlan,
    opts: &CopyOptions,
    progress: &dyn Progress,
    bytes: &AtomicU64,
) -> Outcome {
    let tmp = plan.dst.join(format!("{}{TMP_SUFFIX}", b.ulid));
    // Verify the source while copying it (the copy stays in the tmp dir,
    // invisible to Prometheus, until both are done): the block costs
    // max(verify, copy) instead of their sum. The copy runs on its own
    // threads, outside the worker pool: it mostly waits for the kernel and
    // the disk (copy_file_range, fsync), and a pool worker blocked there
    // would leave a core idle that the verification could use.
    let threads = copy_threads(opts.jobs, b.files.len());
    let copy = || {
        copy_into_tmp(
            b,
            &tmp,
            plan.link,
            opts.reread_from_device,
            threads,
            progress,
            bytes,
        )
    };
    let verify = || {
        if b.verified || opts.skip_verify {
            return None;
        }
        let mut v = b.clone();
        verify_one(&mut v, &opts.check);
        (v.action == Action::Refuse).then(|| {
            v.reasons
                .pop()
                .unwrap_or_else(|| Reason::new(FindingCode::Damaged, "source verification failed"))
        })
    };
    let (verdict, copied) = std::thread::scope(|s| {
        match std::thread::Builder::new().spawn_scoped(s, copy) {
            Ok(h) => {
                let verdict = verify();
                let copied = h
                    .join()
                    .unwrap_or_else(|_| Err(Error::Usage("the copy thread failed".into())));
                (verdict, copied)
            }
            // No thread to be had: one after the other.
            Err(_) => (verify(), copy()),
        }
    });
    if let Some(r) = verdict {
        let _ = std::fs::remove_dir_all(&tmp);
        return Outcome::Refused(r);
    }
    match copied {
        Ok(method) => {
            let fin = plan.dst.join(&b.ulid);
            fsops::test_pause("before_rename", &b.ulid);
            if let Err(e) = fsops::rename_noreplace(&tmp, &fin) {
                let _ = std::fs::remove_dir_all(&tmp);
                return Outcome::Failed(Reason::new(
                    FindingCode::Io,
                    format!("rename {} -> {}: {e}", tmp.display(), fin.display()),
                ));
            }
            fsops::test_pause("after_rename", &b.ulid);
            // The rename is durable only once the target directory is synced.
            if let Err(e) = fsops::sync_dir(&plan.dst) {
                return Outcome::Failed(Reason::new(
                    FindingCode::Io,
                    format!("fsync {}: {e}", plan.dst.display()),
                ));
            }
            Outcome::Copied(method)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Outcome::Failed(Reason::new(FindingCode::Io, e.to_string()))
        }
    }
}

/// Threads copying the files of one block: one per file, at most one per
/// core (or `jobs`), at most 4.
fn copy_threads(jobs: usize, files: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = if jobs == 0 { cores } else { jobs };
    jobs.min(files).clamp(1, 4)
}

/// Runs `f` over `items` on up to `threads` threads (this one included),
/// each taking the next item; the first error is returned once all are
/// done. Falls back to fewer threads when the OS gives none.
fn for_each_parallel<T: Sync>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> Result<()> + Sync,
) -> Result<()> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let worker = || -> Result<()> {
        let mut first = Ok(());
        while let Some(it) = items.get(next.fetch_add(1, Ordering::Relaxed)) {
            if let Err(e) = f(it) {
                next.store(items.len(), Ordering::Relaxed);
                first = first.and(Err(e));
            }
        }
        first
    };
    let n = threads.min(items.len());
    if n <= 1 {
        return worker();
    }
    std::thread::scope(|s| {
        let helpers: Vec<_> = (1..n)
            .filter_map(|_| std::thread::Builder::new().spawn_scoped(s, worker).ok())
            .collect();
        let mut r = worker();
        for h in helpers {
            let other = h
                .join()
                .unwrap_or_else(|_| Err(Error::Usage("a copy thread failed".into())));
            r = r.and(other);
        }
        r
    })
}

/// The block's sub-directories (relative), empty ones included, and the
/// parents of its files.
fn block_dirs(b: &PlannedBlock) -> BTreeSet<PathBuf> {
    let mut dirs: BTreeSet<PathBuf> = walkdir::WalkDir::new(&b.src)
        .min_depth(1)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_dir())
        .filter_map(|e| e.path().strip_prefix(&b.src).ok().map(Path::to_path_buf))
        .collect();
    for f in &b.files {
        let mut p = f.rel.parent();
        while let Some(d) = p.filter(|d| !d.as_os_str().is_empty()) {
            dirs.insert(d.to_path_buf());
            p = d.parent();
        }
    }
    dirs
}

/// Copies `s` to `d` (`size` bytes as planned) and compares the copy with
/// the source.
fn copy_and_compare(
    s: &Path,
    d: &Path,
    size: u64,
    from_device: bool,
    on: &(dyn Fn(u64) + Sync),
) -> Result<()> {
    let c = fsops::copy_file(s, d, from_device, on).map_err(|e| Error::io(s, e))?;
    let got = c.size;
    if got != size {
        let e = format!("source changed since planning: {got} bytes, planned {size}");
        return Err(Error::io(s, std::io::Error::other(e)));
    }
    // Re-read what was written and compare it with the source, byte for
    // byte (stronger than comparing checksums, and cheaper): done span
    // by span during the copy, or now, from the device.
    let differs_at = if c.compared {
        c.differs_at
    } else {
        fsops::first_difference(s, d).map_err(|e| Error::io(d, e))?
    };
    if let Some(at) = differs_at {
        let e = format!(
            "copy differs from the source after writing, first at byte {at} (source {size} bytes)"
        );
        return Err(Error::io(d, std::io::Error::other(e)));
    }
    Ok(())
}

/// Writes the block into `tmp` (removing a leftover first), syncs and
/// re-verifies it. Returns the method used.
fn copy_into_tmp(
    b: &PlannedBlock,
    tmp: &Path,
    link: bool,
    from_device: bool,
    threads: usize,
    progress: &dyn Progress,
    bytes: &AtomicU64,
) -> Result<&'static str> {
    match std::fs::symlink_metadata(tmp) {
        Ok(_) => std::fs::remove_dir_all(tmp).map_err(|e| Error::io(tmp, e))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(tmp, e)),
    }
    std::fs::create_dir(tmp).map_err(|e| Error::io(tmp, e))?;
    fsops::test_pause("tmp_created", &b.ulid);
    // Sub-directories first (chunks/), empty ones included: Prometheus
    // opens `chunks/` even when a block has no chunk file.
    let dirs = block_dirs(b);
    for d in &dirs {
        let p = tmp.join(d);
        std::fs::create_dir(&p).map_err(|e| Error::io(&p, e))?;
    }
    let (body, meta) = b.files.split_at(b.files.len().saturating_sub(1));
    let mut method = if link { "link" } else { "copy" };
    let linked = std::sync::atomic::AtomicBool::new(link);
    let one = |f: &BlockFile| -> Result<()> {
        let (s, d) = (b.src.join(&f.rel), tmp.join(&f.rel));
        if linked.load(Ordering::Relaxed) {
            if fsops::try_hard_link(&s, &d).map_err(|e| Error::io(&d, e))? {
                progress.bytes(f.size);
                bytes.fetch_add(f.size, Ordering::Relaxed);
                // A link shares the inode: nothing to re-read.
                return Ok(());
            }
            linked.store(false, Ordering::Relaxed);
        }
        let on = |n: u64| {
            progress.bytes(n);
            bytes.fetch_add(n, Ordering::Relaxed);
        };
        copy_and_compare(&s, &d, f.size, from_device, &on)
    };
    for_each_parallel(body, threads, one)?;
    // meta.json last: the block is complete only with it.
    meta.iter().try_for_each(one)?;
    if link && !linked.load(Ordering::Relaxed) {
        method = "copy";
    }
    for d in dirs.iter().rev() {
        let p = tmp.join(d);
        fsops::sync_dir(&p).map_err(|e| Error::io(&p, e))?;
    }
    fsops::sync_dir(tmp).map_err(|e| Error::io(tmp, e))?;
    // The copy's meta.json must parse and name this block.
    let m = crate::block::read_meta(tmp)?;
    if m.ulid != b.ulid {
        return Err(Error::Usage(format!(
            "{}: copied meta.json names {}, expected {}",
            tmp.display(),
            m.ulid,
            b.ulid
        )));
    }
    Ok(method)
}
