//! `promsnap fill`: write into a replica (TARGET) the samples that a source
//! (SOURCE: the primary's data directory, a snapshot or a copy) has and
//! TARGET lacks, as new blocks that Prometheus loads at its next block
//! reload (every minute) and merges with its own.
//!
//! Both directories are read as `gaps --against` reads them (every block,
//! tombstones applied, and the head: `chunks_head/` + WAL), series streaming
//! by in label order, the two joined by label set. For each SOURCE series,
//! the samples whose timestamps TARGET does not have are cut along TARGET's
//! block-range grid (the range inferred from TARGET's blocks as `ls` does,
//! else SOURCE's, else 2 h) and written, one block per grid window, with
//! [`crate::write::BlockWriter`]. A block spans `[first, last + 1)` of its
//! samples, inside one window. Every block is checked with `verify` in its
//! `*.tmp-for-creation` directory, then renamed into place without replacing
//! anything. TARGET's own blocks and files are never touched; samples it
//! has (same series, same timestamp) are never written again, so a second
//! run adds nothing.
//!
//! **What Prometheus 2.42 does with the new blocks.** While running, it
//! loads them at the next reload and merges overlapping blocks vertically
//! (queries merge them at once; compaction merges them later). On a
//! restart it replays its WAL only from the maxTime of its last block by
//! minTime (`minValidTime`): a new block that became the last one and ends
//! after the oldest sample of TARGET's head would make Prometheus drop head
//! samples older than that block's end. So samples at or after the cutoff
//! `max(maxTime of TARGET's last block, oldest sample of TARGET's head)` are
//! not written: they are reported as `deferred` (run `fill` again once
//! TARGET has compacted its head past them).
//!
//! TARGET is read on a second thread (times only: its values are never
//! needed), SOURCE on the calling one, which also writes.
//!
//! Memory: one series per block of each directory (and a few batches of
//! TARGET's series in flight), both heads (as Prometheus holds them), and
//! per window being written what the index needs of its series.

/// The series streams `fill` reads (shared with `gaps`).
pub use crate::gaps::stream;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::check::block::{CheckOptions, verify_block};
use crate::error::{Error, Result};
use crate::format::chunkenc::Value;
use crate::gaps::relabel::LabelNames;
use crate::layout::DirKind;
use crate::list::infer_block_range;
use crate::selector::Matcher;
use crate::write::{BlockWriter, UnplacedBlock, WrittenBlock};
use relabel::TargetGroup;
use stream::{Opened, Select};

pub use crate::gaps::LabelOnlyInDir;

mod join;
mod relabel;

/// TARGET's series are handed from its reading thread in batches of this
/// many.
const TARGET_BATCH: usize = 512;

/// What to fill.
#[derive(Debug, Clone)]
pub struct FillOptions {
    /// Series selectors (union); empty: all series.
    pub selectors: Vec<Vec<Matcher>>,
    /// Inclusive lower time bound (ms).
    pub min_time: i64,
    /// Inclusive upper time bound (ms).
    pub max_time: i64,
    /// Compute and report, write nothing.
    pub dry_run: bool,
    /// The block range grid; `None`: inferred.
    pub block_range: Option<i64>,
    /// Label names dropped from TARGET's series before the join (a
    /// master's `external_labels`, which remote write adds to the
    /// replica's series): see [`relabel`]. SOURCE's series must not carry
    /// them.
    pub drop_labels: Vec<String>,
    /// Join by exact label sets even when TARGET's series carry label names
    /// SOURCE's have not (else nothing is written, [`FillReport::refused`]).
    pub exact_labels: bool,
}

impl Default for FillOptions {
    fn default() -> Self {
        FillOptions {
            selectors: Vec::new(),
            min_time: i64::MIN,
            max_time: i64::MAX,
            dry_run: false,
            block_range: None,
            drop_labels: Vec::new(),
            exact_labels: false,
        }
    }
}

/// One grid window with samples added (or to add, on a dry run).
#[derive(Debug, Clone, Serialize)]
pub struct FillRange {
    /// Window start (ms, on the grid).
    pub window_start: i64,
    /// Window end (ms, exclusive).
    pub window_end: i64,
    /// The block's minTime: the first sample written (ms).
    pub min_time: i64,
    /// The block's maxTime: last sample written + 1 (ms).
    pub max_time: i64,
    /// Series with samples added.
    pub series: u64,
    /// Samples added.
    pub samples: u64,
    /// The block written (`None` on a dry run).
    pub block: Option<String>,
}

/// Samples not written because they lie at or after the cutoff.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Deferred {
    /// The cutoff (ms): the oldest sample of TARGET's head, or its last
    /// block's maxTime if later.
    pub cutoff: Option<i64>,
    /// Series with deferred samples.
    pub series: u64,
    /// Deferred samples.
    pub samples: u64,
    /// Their first time (ms).
    pub from: Option<i64>,
    /// Their last time (ms).
    pub to: Option<i64>,
}

/// The answer of `fill`.
#[derive(Debug, Clone, Serialize)]
pub struct FillReport {
    /// TARGET.
    pub target: PathBuf,
    /// SOURCE.
    pub source: PathBuf,
    /// The grid used (ms).
    pub block_range: i64,
    /// True if nothing was written.
    pub dry_run: bool,
    /// Series read from SOURCE.
    pub source_series: u64,
    /// Samples read from SOURCE.
    pub source_samples: u64,
    /// Per window, by time.
    pub ranges: Vec<FillRange>,
    /// Series with samples added (over all windows; a series counts once).
    pub series_added: u64,
    /// Samples added.
    pub samples_added: u64,
    /// Samples TARGET lacks that were not written (see the module docs).
    pub deferred: Deferred,
    /// Label names TARGET's series carry and no series of SOURCE has (the
    /// dropped ones left out), e.g. a master's external labels that remote
    /// write added to the replica's series.
    pub labels_only_in_target: Vec<LabelOnlyInDir>,
    /// Label names TARGET's series carry on top of a SOURCE series' whole
    /// label set while SOURCE's own series use the name too (refused too).
    pub labels_added_in_target: Vec<LabelOnlyInDir>,
    /// The label names dropped from TARGET's series before the join.
    pub dropped_labels: Vec<String>,
    /// Series written under a label set of TARGET's (SOURCE's with the
    /// dropped names TARGET's series carry) rather than SOURCE's; counted
    /// in `series_added` too.
    pub target_labels_series: u64,
    /// Their samples (counted in `samples_added` too).
    pub target_labels_samples: u64,
    /// True if nothing was written (nor would be, on a dry run) because of
    /// `labels_only_in_target` without `exact_labels`: joined by exact
    /// label set, TARGET's series with such a label would join none of
    /// SOURCE's, and writing SOURCE's samples without it would put a second
    /// series beside each of them. `ranges` is then empty and the counts
    /// of what was added are 0.
    pub refused: bool,
    /// What could not be read (damaged chunks of SOURCE, …); each names the
    /// file and series.
    pub errors: Vec<String>,
}

struct Window {
    writer: Option<BlockWriter>,
    min: i64,
    max: i64,
    series: u64,
    samples: u64,
}

/// The smallest block range a caller may give: one minute (the smallest
/// `--storage.tsdb.min-block-duration` worth running; an inferred range is
/// TARGET's own and is not bounded).
pub const MIN_BLOCK_RANGE_MS: i64 = 60_000;

/// Usage errors on the pair of directories, before anything is read.
fn check_paths(target: &Path, source: &Path) -> Result<(PathBuf, PathBuf)> {
    let t = target.canonicalize().map_err(|e| Error::io(target, e))?;
    let s = source.canonicalize().map_err(|e| Error::io(source, e))?;
    if t == s {
        return Err(Error::Usage(format!(
            "TARGET {} and SOURCE {} are the same directory",
            target.display(),
            source.display()
        )));
    }
    if t.starts_with(&s) {
        return Err(Error::Usage(format!(
            "TARGET {} is inside SOURCE {}: fill writes into TARGET and never modifies SOURCE",
            target.display(),
            source.display()
        )));
    }
    Ok((t, s))
}

/// Checks the options and opens TARGET and SOURCE: TARGET must be a data
/// directory with blocks or a WAL, SOURCE must hold blocks or a head.
fn open_pair(target: &Path, source: &Path, opts: &FillOptions) -> Result<(Opened, Opened)> {
    if opts.min_time > opts.max_time {
        return Err(Error::bad_option(
            "min_time",
            "the time range's start is after its end",
        ));
    }
    // As `coverage` bounds it: a block range of years is a typo, and a
    // window of that size would put every sample into one block. Below
    // MIN_BLOCK_RANGE_MS (`1ms` for `1m`) every scrape would become a block
    // of its own: hundreds of thousands of blocks written into a replica.
    if opts
        .block_range
        .is_some_and(|r| !(MIN_BLOCK_RANGE_MS..=crate::coverage::PLAUSIBLE_MS / 100).contains(&r))
    {
        return Err(Error::bad_option(
            "block_range",
            "the block range must be at least 1m and under about 3 years",
        ));
    }
    check_paths(target, source)?;
    crate::layout::scan_source(target)?;
    crate::layout::scan_source(source)?;
    let mine = Opened::open(target)?;
    if mine.kind != DirKind::Data {
        return Err(Error::Usage(format!(
            "TARGET {}: not a Prometheus data directory (it is a {} directory)",
            target.display(),
            match mine.kind {
                DirKind::Block => "block",
                DirKind::Snapshot => "snapshot",
                DirKind::Data => "data",
            }
        )));
    }
    if mine.files.is_empty() && mine.head.is_none() && !target.join("wal").is_dir() {
        return Err(Error::Usage(format!(
            "TARGET {}: not a Prometheus data directory (no blocks, no wal/)",
            target.display()
        )));
    }
    let theirs = Opened::open(source)?;
    if theirs.files.is_empty() && theirs.head.is_none() {
        return Err(Error::Usage(format!(
            "SOURCE {}: no blocks and no head found",
            source.display()
        )));
    }
    Ok((mine, theirs))
}

/// The cutoff of TARGET: the end of its newest block or the start of its
/// head, whichever is later; `None` without a head.
fn cutoff(mine: &Opened) -> Option<i64> {
    let last_max = mine
        .metas
        .iter()
        .max_by_key(|m| m.min_time)
        .map(|m| m.max_time);
    let head_min = mine.head.as_ref().and_then(|h| {
        h.series
            .iter()
            .filter_map(|s| s.samples.first().map(|x| x.0))
            .min()
    });
    match (last_max, head_min) {
        (_, None) => None,
        (None, Some(h)) => Some(h),
        (Some(l), Some(h)) => Some(l.max(h)),
    }
}

/// The samples of `samples` whose times are not in `have` (both ascending),
/// into `missing`.
fn missing_from(samples: Vec<(i64, Value)>, have: &[i64], missing: &mut Vec<(i64, Value)>) {
    missing.clear();
    let mut j = 0usize;
    for (t, v) in samples {
        while have.get(j).is_some_and(|&x| x < t) {
            j += 1;
        }
        if have.get(j) == Some(&t) {
            continue;
        }
        missing.push((t, v));
    }
}

impl Deferred {
    /// One series' samples at or after the cutoff (none: nothing).
    fn add(&mut self, rest: &[(i64, Value)]) {
        let (Some(f), Some(l)) = (rest.first().map(|x| x.0), rest.last().map(|x| x.0)) else {
            return;
        };
        self.series += 1;
        self.samples += rest.len() as u64;
        self.from = self.from.min(Some(f)).or(Some(f));
        self.to = self.to.max(Some(l));
    }
}

/// Adds one series' samples to the windows of `block_range` they fall in
/// (a window's writer created at its first series, none on a dry run);
/// the number of samples added.
fn add_to_windows(
    windows: &mut BTreeMap<i64, Window>,
    target: &Path,
    dry_run: bool,
    block_range: i64,
    labels: &stream::Labels,
    write: &[(i64, Value)],
) -> Result<u64> {
    let mut added = 0u64;
    let mut i = 0usize;
    while let Some(&(t0, _)) = write.get(i) {
        let w0 = t0.div_euclid(block_range) * block_range;
        let w1 = w0.saturating_add(block_range);
        let n = write.get(i..).unwrap_or(&[]).partition_point(|x| x.0 < w1);
        let part = write.get(i..i + n).unwrap_or(&[]);
        let win = match windows.entry(w0) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let writer = if dry_run {
                    None
                } else {
                    Some(BlockWriter::create(target, w0, w1)?)
                };
                e.insert(Window {
                    writer,
                    min: i64::MAX,
                    max: i64::MIN,
                    series: 0,
                    samples: 0,
                })
            }
        };
        if let Some(w) = win.writer.as_mut() {
            w.add_series(labels, part)?;
        }
        win.series += 1;
        win.samples += part.len() as u64;
        win.min = win.min.min(part.first().map_or(i64::MAX, |x| x.0));
        win.max = win.max.max(part.last().map_or(i64::MIN, |x| x.0));
        added += part.len() as u64;
        i += n.max(1);
    }
    Ok(added)
}

/// A finished window: its start, its tally and its block, not yet placed.
type Unplaced = (i64, Window, Option<UnplacedBlock>);

/// Finishes every window's block and verifies them all; on any error in
/// one, every block is discarded and nothing is placed.
fn finish_verified(
    windows: impl Iterator<Item = (i64, Window)>,
    target: &Path,
) -> Result<Vec<Unplaced>> {
    let mut unplaced: Vec<Unplaced> = Vec::new();
    for (w0, mut win) in windows {
        let u = match win.writer.take() {
            Some(w) => w.finish_unplaced_range(win.min, win.max.saturating_add(1))?,
            None => None,
        };
        unplaced.push((w0, win, u));
    }
    let opts_check = CheckOptions::default();
    for (_, _, u) in &unplaced {
        if let Some(u) = u {
            let c = verify_block(&u.tmp, &opts_check);
            // The name check is for the final directory; the block is
            // checked in its temporary one.
            let what: Vec<String> = c
                .findings
                .iter()
                .filter(|f| f.is_error() && f.code != "meta_ulid_mismatch")
                .map(|f| format!("{} {}: {}", f.code, f.path.display(), f.message))
                .collect();
            if !what.is_empty() {
                let msg = format!(
                    "a written block failed verification, nothing placed: {}",
                    what.join("; ")
                );
                for (_, _, u) in unplaced {
                    if let Some(u) = u {
                        u.discard();
                    }
                }
                return Err(Error::io(target, std::io::Error::other(msg)));
            }
        }
    }
    Ok(unplaced)
}

/// Places every verified block, each window's range into the report.
fn place(report: &mut FillReport, unplaced: Vec<Unplaced>) -> Result<()> {
    let block_range = report.block_range;
    for (w0, win, u) in unplaced {
        let placed: Option<WrittenBlock> = match u {
            Some(u) => Some(u.place()?),
            None => None,
        };
        report.ranges.push(FillRange {
            window_start: w0,
            window_end: w0.saturating_add(block_range),
            min_time: win.min,
            max_time: win.max.saturating_add(1),
            series: win.series,
            samples: win.samples,
            block: placed.map(|b| b.ulid),
        });
    }
    Ok(())
}

/// TARGET's series groups (times only; see [`relabel`] for `drop`), sent
/// in batches of [`TARGET_BATCH`] until the receiver hangs up; the label
/// names of TARGET's selected series, whatever their samples' times. With
/// `drop`, TARGET is read whatever the time range (the series that carry
/// a dropped name, and the seeded ones' ends, lie outside a range that
/// covers only the hole), the times outside it dropped as they are read.
fn send_in_batches(
    mine: &Opened,
    sel: &Select,
    drop: &[Vec<u8>],
    tx: &std::sync::mpsc::SyncSender<Vec<TargetGroup>>,
) -> LabelNames {
    let whole = Select {
        selectors: sel.selectors.clone(),
        from: i64::MIN,
        to: i64::MAX,
    };
    let range = (sel.from, sel.to);
    let read_whole = !drop.is_empty() || (sel.from, sel.to) == (i64::MIN, i64::MAX);
    // Read in part, TARGET's names come from its indexes and head (a
    // replica's remote-written series may all lie after a range that
    // covers only the hole); read whole, from its series as they come.
    let mut names = if read_whole {
        LabelNames::default()
    } else {
        relabel::target_names(mine, sel)
    };
    let readers = if drop.is_empty() {
        mine.readers(sel.from, sel.to)
    } else {
        mine.readers(i64::MIN, i64::MAX)
    };
    let mut see = |s: &stream::SeriesOf<i64>| {
        if read_whole {
            names.saw_dir(&s.0);
        }
    };
    let groups: Box<dyn Iterator<Item = TargetGroup>> = if drop.is_empty() {
        let all = stream::series::<i64>(&readers, mine, sel);
        Box::new(all.inspect(&mut see).map(TargetGroup::from))
    } else {
        let all = stream::series::<i64>(&readers, mine, &whole);
        let held = relabel::hold(all.inspect(&mut see), drop, range);
        let plain = stream::series::<i64>(&readers, mine, &whole);
        Box::new(relabel::groups(plain, held, drop, range))
    };
    let mut batch = Vec::with_capacity(TARGET_BATCH);
    let mut hung_up = false;
    for g in groups {
        batch.push(g);
        if batch.len() == TARGET_BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(TARGET_BATCH));
            if tx.send(full).is_err() {
                hung_up = true;
                break;
            }
        }
    }
    if !hung_up {
        let _ = tx.send(batch);
    }
    names
}

/// Of one series' samples TARGET lacks (`missing`), those to write: the
/// ones at or after the cutoff are deferred, and none is written if the
/// label set is one Prometheus could not have written (no labels, an empty
/// name or value): then the series is named in `errors`.
fn writable<'a>(
    report: &mut FillReport,
    labels: &stream::Labels,
    missing: &'a [(i64, Value)],
) -> &'a [(i64, Value)] {
    let split = report
        .deferred
        .cutoff
        .map_or(missing.len(), |c| missing.partition_point(|x| x.0 < c));
    report.deferred.add(missing.get(split..).unwrap_or(&[]));
    let write = missing.get(..split).unwrap_or(&[]);
    if write.is_empty() {
        return &[];
    }
    if labels.is_empty() || labels.iter().any(|(n, v)| n.is_empty() || v.is_empty()) {
        let mut l = String::new();
        crate::dump::format_labels(&mut l, &stream::borrowed(labels));
        report.errors.push(format!(
            "source: series {l} not written: an empty label name or value"
        ));
        return &[];
    }
    write
}

/// One series' samples TARGET lacks (`missing`), those [`writable`]
/// written into their windows.
fn write_series(
    report: &mut FillReport,
    windows: &mut BTreeMap<i64, Window>,
    target: &Path,
    labels: &stream::Labels,
    missing: &[(i64, Value)],
) -> Result<()> {
    let write = writable(report, labels, missing);
    if write.is_empty() {
        return Ok(());
    }
    report.series_added += 1;
    report.samples_added += add_to_windows(
        windows,
        target,
        report.dry_run,
        report.block_range,
        labels,
        write,
    )?;
    Ok(())
}

/// Takes an exclusive `flock` on TARGET's directory for the whole run, so
/// that a second fill into the same TARGET refuses to start instead of
/// writing every missing sample a second time (each fill reads TARGET first,
/// then writes blocks of new ULIDs: two at once would both find the same
/// samples missing). A lock on the directory itself leaves no file behind;
/// Prometheus locks its `lock` file, not the directory, so a running server
/// is not in the way. A dry run writes nothing and takes no lock. A TARGET
/// that cannot be opened is left to the path checks, which say why.
fn lock_target(target: &Path, dry_run: bool) -> Result<Option<std::fs::File>> {
    if dry_run {
        return Ok(None);
    }
    let Ok(dir) = std::fs::File::open(target) else {
        return Ok(None);
    };
    match crate::fileutil::flock_try_exclusive(&dir) {
        Ok(true) => Ok(Some(dir)),
        Ok(false) => Err(Error::Usage(format!(
            "TARGET {}: another fill is writing into it (it holds the lock on the directory); \
             run again when it has ended: two at once would write the same samples twice",
            target.display()
        ))),
        Err(e) => Err(Error::io(target, e)),
    }
}

impl FillReport {
    /// The report before anything is read: the cutoff is TARGET's (see the
    /// module docs).
    fn new(
        target: &Path,
        source: &Path,
        opts: &FillOptions,
        block_range: i64,
        cutoff: Option<i64>,
    ) -> Self {
        FillReport {
            target: target.to_path_buf(),
            source: source.to_path_buf(),
            block_range,
            dry_run: opts.dry_run,
            deferred: Deferred {
                cutoff,
                ..Deferred::default()
            },
            source_series: 0,
            source_samples: 0,
            ranges: Vec::new(),
            series_added: 0,
            samples_added: 0,
            labels_only_in_target: Vec::new(),
            labels_added_in_target: Vec::new(),
            dropped_labels: opts.drop_labels.clone(),
            target_labels_series: 0,
            target_labels_samples: 0,
            refused: false,
            errors: Vec::new(),
        }
    }

    /// What TARGET (`mine`) and SOURCE (`theirs`) could not give, into
    /// `errors`.
    fn take_errors(&mut self, mine: &Opened, theirs: &Opened) {
        let t = mine
            .take_errors()
            .into_iter()
            .map(|e| format!("target: {e}"));
        self.errors.extend(t);
        let s = theirs.take_errors().into_iter();
        self.errors.extend(s.map(|e| format!("source: {e}")));
    }
}

/// Fills TARGET from SOURCE. See the module documentation.
pub fn fill(target: &Path, source: &Path, opts: &FillOptions) -> Result<FillReport> {
    // Held until the function returns (the lock ends when the file closes).
    let _lock = lock_target(target, opts.dry_run)?;
    let (mine, theirs) = open_pair(target, source, opts)?;
    let block_range = opts.block_range.unwrap_or_else(|| {
        let m: Vec<_> = if mine.metas.is_empty() {
            theirs.metas.iter().collect()
        } else {
            mine.metas.iter().collect()
        };
        infer_block_range(&m)
    });
    let sel = Select {
        selectors: opts.selectors.clone(),
        from: opts.min_time,
        to: opts.max_time,
    };
    let their_readers = theirs.readers(sel.from, sel.to);
    let b = stream::series::<(i64, Value)>(&their_readers, &theirs, &sel);
    let drop: Vec<Vec<u8>> = opts
        .drop_labels
        .iter()
        .map(|n| n.as_bytes().to_vec())
        .collect();

    let mut report = FillReport::new(target, source, opts, block_range, cutoff(&mine));
    let mut sink = join::Sink {
        target,
        windows: BTreeMap::new(),
        tagged: BTreeMap::new(),
    };
    let (mut names, mut sets) = (LabelNames::default(), std::collections::HashSet::new());
    // TARGET's series (times only) are read on a second thread, in
    // batches, while this one reads SOURCE's and writes.
    let result = std::thread::scope(|sc| -> Result<LabelNames> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<TargetGroup>>(8);
        let (mine, sel, drop) = (&mine, &sel, &drop);
        let h = sc.spawn(move || send_in_batches(mine, sel, drop, &tx));
        let a = rx.into_iter().flatten();
        let r = join::join(&mut report, &mut sink, a, b, drop, (&mut names, &mut sets));
        let target_names = h.join().unwrap_or_default();
        r.map(|()| target_names)
    });
    report.take_errors(&mine, &theirs);
    // On any error the writers are dropped: their tmp dirs are removed.
    report.labels_only_in_target = result?
        .with_other(names)
        .only_in_dir()
        .into_iter()
        .filter(|l| !opts.drop_labels.contains(&l.name))
        .collect();
    if report.labels_only_in_target.is_empty() && drop.is_empty() {
        report.labels_added_in_target =
            crate::gaps::relabel::added_in_dir(&mine, &sel.selectors, &sets);
    }
    let added = !report.labels_added_in_target.is_empty();
    if (added || !report.labels_only_in_target.is_empty()) && !opts.exact_labels {
        // Nothing written: the writers are dropped, their tmp dirs removed.
        join::refuse(&mut report);
        return Ok(report);
    }
    let tagged = join::write_tagged(&mut report, std::mem::take(&mut sink.tagged), target)?;

    // Finish, verify, then place every block; nothing is placed unless all
    // of them verified.
    let unplaced = finish_verified(sink.windows.into_iter().chain(tagged), target)?;
    place(&mut report, unplaced)?;
    report.ranges.sort_by_key(|r| r.window_start);
    Ok(report)
}
