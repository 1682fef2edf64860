//! meta.json on its own, tombstones, and meta.json's stats against the recount.

#[allow(clippy::wildcard_imports)]
use super::*;

/// One meta.json rule broken: severity, code, message.
type MetaIssue = (Severity, FindingCode, String);

/// Reads and checks the block's meta.json; `None` when it cannot be read.
pub(super) fn check_meta(
    cx: &mut Ctx,
    dir_name: &str,
    read: std::io::Result<Vec<u8>>,
) -> Option<BlockMeta> {
    let path = cx.dir.join("meta.json");
    let meta = read_meta_file(cx, &path, read)?;
    let mut issues = Vec::new();
    identity_issues(&meta, dir_name, &mut issues);
    compaction_issues(&meta, &mut issues);
    for (severity, code, message) in issues {
        cx.push(Finding::new(severity, code, &path, message));
    }
    Some(meta)
}

/// meta.json (its bytes as `read`) parsed, or a finding.
fn read_meta_file(cx: &mut Ctx, path: &Path, read: std::io::Result<Vec<u8>>) -> Option<BlockMeta> {
    let bytes = match read {
        Ok(b) => b,
        Err(e) => {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                FindingCode::FileMissing
            } else {
                FindingCode::FileUnreadable
            };
            cx.push(Finding::new(
                Severity::Error,
                code,
                path,
                format!("cannot read meta.json: {e}"),
            ));
            return None;
        }
    };
    match BlockMeta::parse(&bytes) {
        Ok(m) => Some(m),
        Err(e) => {
            cx.decode(FileKind::Meta, path, &e);
            None
        }
    }
}

/// The version, the ULID against the directory name, the time range.
fn identity_issues(meta: &BlockMeta, dir_name: &str, out: &mut Vec<MetaIssue>) {
    if meta.version == 2 {
        out.push((
            Severity::Warning,
            FindingCode::MetaVersion2,
            "meta.json version 2 (Prometheus 2.1 bug): Prometheus rewrites the index header and \
             meta.json on open"
                .into(),
        ));
    }
    if !is_valid_ulid(&meta.ulid) {
        out.push((
            Severity::Error,
            FindingCode::MetaUlidInvalid,
            format!("ulid {:?} is not a valid ULID", meta.ulid),
        ));
    } else if meta.ulid != dir_name && !is_valid_ulid(dir_name) {
        // A block opened by its path (as Prometheus' own tests open theirs):
        // the name does not matter there; only inside a data directory,
        // where Prometheus loads nothing not named by a ULID.
        out.push((
            Severity::Info,
            FindingCode::MetaUlidDirName,
            format!(
                "directory {dir_name:?} is not named by the block's ULID {}: fine when the block \
                 is opened by path; inside a data directory Prometheus would not load it",
                meta.ulid
            ),
        ));
    } else if meta.ulid != dir_name {
        out.push((
            Severity::Error,
            FindingCode::MetaUlidMismatch,
            format!(
                "ulid {} differs from the directory name {dir_name}",
                meta.ulid
            ),
        ));
    }
    if meta.min_time >= meta.max_time {
        out.push((
            Severity::Error,
            FindingCode::MetaTimeRangeInvalid,
            format!(
                "minTime {} is not before maxTime {}",
                meta.min_time, meta.max_time
            ),
        ));
    } else if let Some(issue) = max_time_after_creation(meta) {
        out.push(issue);
    }
}

/// How far a block's maxTime may lie after the moment its ULID was made
/// before the range is taken for damage: a day, far above any clock skew
/// between a scraped target and Prometheus.
const AFTER_CREATION_MS: i64 = 24 * 3600 * 1000;

/// A maxTime later than the block's own creation (the ULID's 48-bit
/// millisecond time; Prometheus, promtool and promsnap make a block's ULID
/// from the clock when they write it, after its data). A flipped bit in
/// meta.json's digits does this (`1795…` → `9795…`), and it is not harmless:
/// Prometheus 2.42 counts time retention from the newest block's maxTime
/// (`BeyondTimeRetention`, tsdb/db.go), so it deletes every block ending
/// more than its retention before that time, and its head refuses samples
/// older than the maxTime of the block that starts last (the head's
/// `minValidTime`, `DB.open`).
pub(crate) fn max_time_after_creation(meta: &BlockMeta) -> Option<MetaIssue> {
    let created = i64::try_from(crate::format::meta::ulid_time(&meta.ulid)?).ok()?;
    let ahead = meta.max_time.saturating_sub(created);
    if ahead <= AFTER_CREATION_MS {
        return None;
    }
    Some((
        Severity::Error,
        FindingCode::MetaTimeRangeFuture,
        format!(
            concat!(
                "maxTime {} lies {} after the block was made ({}, its ULID's time): a damaged ",
                "meta.json, or samples stamped in the future; opened in a data directory, ",
                "Prometheus counts its time retention (15d by default) from this maxTime and ",
                "deletes every block that ends more than the retention before it, and while this ",
                "block starts last its head refuses every sample older than it"
            ),
            crate::gofmt::rfc3339_ms(meta.max_time),
            crate::vocab::duration(ahead),
            crate::gofmt::rfc3339_ms(created),
        ),
    ))
}

/// The compaction section: level, sources, parents, the markers.
fn compaction_issues(meta: &BlockMeta, out: &mut Vec<MetaIssue>) {
    if meta.compaction.level < 1 {
        out.push((
            Severity::Error,
            FindingCode::MetaLevelInvalid,
            format!("compaction level {} is below 1", meta.compaction.level),
        ));
    }
    let srcs = &meta.compaction.sources;
    if let Some(bad) = srcs.iter().find(|s| !is_valid_ulid(s)) {
        out.push((
            Severity::Error,
            FindingCode::MetaSourcesInvalid,
            format!("source {bad:?} is not a valid ULID"),
        ));
    } else if srcs.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
        out.push((
            Severity::Warning,
            FindingCode::MetaSourcesUnsorted,
            "compaction sources are not sorted and unique".into(),
        ));
    }
    if meta.compaction.level == 1 && !srcs.is_empty() && !srcs.contains(&meta.ulid) {
        out.push((
            Severity::Info,
            FindingCode::MetaLevel1ForeignSource,
            "level-1 block does not list itself as its source".into(),
        ));
    }
    for p in &meta.compaction.parents {
        let ooo_quirk = p.ulid == "00000000000000000000000000";
        if !ooo_quirk && !is_valid_ulid(&p.ulid) {
            out.push((
                Severity::Error,
                FindingCode::MetaParentsInvalid,
                format!("parent {:?} is not a valid ULID", p.ulid),
            ));
        } else if !ooo_quirk && p.min_time >= p.max_time {
            out.push((
                Severity::Warning,
                FindingCode::MetaParentsInvalid,
                format!(
                    "parent {} has minTime {} not before maxTime {}",
                    p.ulid, p.min_time, p.max_time
                ),
            ));
        }
    }
    if meta.compaction.deletable {
        out.push((
            Severity::Warning,
            FindingCode::MetaDeletable,
            "block is marked deletable: Prometheus deletes it at the next reload".into(),
        ));
    }
    if meta.compaction.failed {
        out.push((
            Severity::Warning,
            FindingCode::MetaCompactionFailed,
            "block is marked failed: a compaction using it failed and the planner skips it".into(),
        ));
    }
}

pub(super) fn check_tombstones(
    cx: &mut Ctx,
    files: &BlockFiles,
    ids: Option<&super::index::SeriesIds>,
    counts: &mut Counts,
) {
    let path = files.tombstones_path();
    let Some(bytes) = &files.tombstones else {
        return;
    };
    let stones = match tombstones::parse(bytes) {
        Ok(s) => s,
        Err(e) => {
            cx.decode(FileKind::Tombstones, &path, &e);
            return;
        }
    };
    counts.tombstones = stones.len() as u64;
    // The ids in one vector (for the binary search) only when there are
    // tombstones to look up.
    let flat = ids.map(|i| {
        if stones.is_empty() {
            Vec::new()
        } else {
            i.to_vec()
        }
    });
    let ids = flat.as_deref();
    for s in &stones {
        if s.interval.mint > s.interval.maxt {
            cx.push(
                Finding::new(
                    Severity::Error,
                    FindingCode::TombstoneIntervalInvalid,
                    &path,
                    format!(
                        "interval [{}, {}] of series ref {} is reversed",
                        s.interval.mint, s.interval.maxt, s.series_ref
                    ),
                )
                .at(s.offset),
            );
        }
        if let Some(ids) = ids
            && ids.binary_search(&s.series_ref).is_err()
        {
            cx.push(
                Finding::new(
                    Severity::Warning,
                    FindingCode::TombstoneDanglingSeries,
                    &path,
                    format!(
                        "tombstone names series ref {}, which is not in the index",
                        s.series_ref
                    ),
                )
                .at(s.offset),
            );
        }
    }
}

pub(super) fn check_stats(cx: &mut Ctx, meta: &BlockMeta, counts: &Counts) {
    let path = cx.dir.join("meta.json");
    let st = &meta.stats;
    let mut cmp = |name: &str, stored: u64, found: u64, skip_zero: bool| {
        if stored != found && !(skip_zero && stored == 0) {
            cx.push(Finding::new(
                Severity::Error,
                FindingCode::MetaStatsMismatch,
                &path,
                format!("stats.{name} is {stored}, but the data holds {found}"),
            ));
        }
    };
    cmp("numSeries", st.num_series, counts.series, false);
    cmp("numChunks", st.num_chunks, counts.chunks, false);
    cmp("numSamples", st.num_samples, counts.samples, false);
    cmp(
        "numFloatSamples",
        st.num_float_samples,
        counts.float_samples,
        true,
    );
    cmp(
        "numHistogramSamples",
        st.num_histogram_samples,
        counts.histogram_samples,
        true,
    );
    cmp("numTombstones", st.num_tombstones, counts.tombstones, false);
}
