//! What a copy run reports (the `--json` document).

#[allow(clippy::wildcard_imports)]
use super::*;

/// One block in the report.
#[derive(Debug, Clone, Serialize)]
pub struct BlockReport {
    /// ULID.
    pub ulid: String,
    /// Source block directory.
    pub src: PathBuf,
    /// minTime (ms), when meta.json was readable.
    pub min_time: Option<i64>,
    /// maxTime (ms, exclusive).
    pub max_time: Option<i64>,
    /// Bytes of the block's files.
    pub bytes: u64,
    /// `copy` or `link` for copied blocks.
    pub method: Option<&'static str>,
    /// Why skipped, refused or failed.
    pub reasons: Vec<Reason>,
    /// Hazards that did not stop the copy.
    pub warnings: Vec<Reason>,
}

/// The outcome of a copy (or of a dry run). See the module docs for the JSON.
#[derive(Debug, Clone, Serialize)]
pub struct CopyReport {
    /// Source directory.
    pub src: PathBuf,
    /// Target directory.
    pub dst: PathBuf,
    /// True if nothing was written.
    pub dry_run: bool,
    /// True if hard links were used.
    pub link: bool,
    /// Blocks copied (or, in a dry run, that would be).
    pub copied: Vec<BlockReport>,
    /// Blocks already in the target with identical content.
    pub skipped: Vec<BlockReport>,
    /// Blocks not copied, with reasons.
    pub refused: Vec<BlockReport>,
    /// Blocks whose copy failed with an I/O error.
    pub failed: Vec<BlockReport>,
    /// Target-level notices.
    pub notices: Vec<Reason>,
    /// Source blocks left out by the filters.
    pub excluded: usize,
    /// Bytes copied or linked by this run.
    pub bytes: u64,
    /// Bytes of the blocks planned for copy.
    pub bytes_planned: u64,
    /// Wall time in ms.
    pub duration_ms: u64,
}

impl CopyReport {
    /// A report from `src` to `dst` with nothing in it yet.
    pub fn new(src: PathBuf, dst: PathBuf, dry_run: bool) -> CopyReport {
        CopyReport {
            src,
            dst,
            dry_run,
            link: false,
            copied: Vec::new(),
            skipped: Vec::new(),
            refused: Vec::new(),
            failed: Vec::new(),
            notices: Vec::new(),
            excluded: 0,
            bytes: 0,
            bytes_planned: 0,
            duration_ms: 0,
        }
    }

    /// The report of a dry run: what the plan would do.
    pub fn from_plan(plan: &CopyPlan, started: Instant) -> CopyReport {
        let mut r = empty_report(plan, true);
        for b in &plan.blocks {
            let method =
                (b.action == Action::Copy).then_some(if plan.link { "link" } else { "copy" });
            let br = block_report(b, method);
            match b.action {
                Action::Copy => r.copied.push(br),
                Action::Skip => r.skipped.push(br),
                Action::Refuse => r.refused.push(br),
            }
        }
        r.duration_ms = started.elapsed().as_millis() as u64;
        r
    }
}

pub(super) fn empty_report(plan: &CopyPlan, dry_run: bool) -> CopyReport {
    CopyReport {
        link: plan.link,
        notices: plan.notices.clone(),
        excluded: plan.excluded,
        bytes_planned: plan.bytes_to_copy(),
        ..CopyReport::new(plan.src.clone(), plan.dst.clone(), dry_run)
    }
}

pub(super) fn block_report(b: &PlannedBlock, method: Option<&'static str>) -> BlockReport {
    BlockReport {
        ulid: b.ulid.clone(),
        src: b.src.clone(),
        min_time: b.meta.as_ref().map(|m| m.min_time),
        max_time: b.meta.as_ref().map(|m| m.max_time),
        bytes: b.bytes,
        method,
        reasons: b.reasons.clone(),
        warnings: b.warnings.clone(),
    }
}
