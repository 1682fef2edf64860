//! The plan's notices about the source and the options, and the target's
//! leftovers of an earlier run.

use std::path::{Path, PathBuf};

use super::super::{Action, CopyOptions, PlannedBlock, Reason, TMP_SUFFIX};
use crate::check::FindingCode;
use crate::layout::{self, DirKind};

const WAL_NOT_COPIED: &str = concat!(
    "the source is a data directory: only its blocks are copied; data still in its head ",
    "(wal/, chunks_head/) is not. Take a snapshot with the head (the default of ",
    "/api/v1/admin/tsdb/snapshot) to include it"
);
const SOURCE_LIVE: &str = concat!(
    "a running Prometheus uses the source (its lock is held, or its files are open): it ",
    "compacts and deletes blocks while we copy; a block that vanishes is re-planned from the ",
    "source as it is then (its data is in the block that replaced it)"
);
const NOT_VERIFIED: &str = concat!(
    "verification off: the source blocks are not checked before copying (each copied file is ",
    "still compared with its source); verify the source first"
);
const VERIFIED_QUICK: &str = concat!(
    "quick verification: the source blocks' checksums and structure are checked, their samples ",
    "not decoded"
);
pub(super) const LINK_FALLBACK: &str = concat!(
    "hard links asked for, but the source and the target are on different filesystems; ",
    "copying instead"
);

/// The notices about the source and the options: a data directory's head
/// not copied, an unfinished snapshot, a live source, verification off or
/// quick.
pub(super) fn source_notices(
    src: &Path,
    src_layout: &layout::Layout,
    opts: &CopyOptions,
) -> Vec<Reason> {
    let mut notices = Vec::new();
    if src_layout.kind == DirKind::Data
        && (src_layout.wal.is_some() || src_layout.chunks_head.is_some())
    {
        notices.push(Reason::new(FindingCode::WalNotCopied, WAL_NOT_COPIED));
    }
    if src_layout.kind == DirKind::Snapshot {
        for t in &src_layout.tmp_dirs {
            if t.to_string_lossy().ends_with(".tmp-for-creation") {
                notices.push(Reason::new(
                    super::super::SNAPSHOT_INCOMPLETE,
                    format!(
                        "{} is an unfinished block: {} ({}); take the snapshot again",
                        t.display(),
                        "the snapshot was cut short (Prometheus died while writing its head \
                         block), so the head's data is missing from this backup",
                        "`promsnap verify` names the range"
                    ),
                ));
            }
        }
    }
    if src_layout.kind == DirKind::Data && crate::check::dir::is_live(src) {
        notices.push(Reason::new(FindingCode::SourceLive, SOURCE_LIVE));
    }
    if opts.skip_verify {
        notices.push(Reason::new(FindingCode::NotVerified, NOT_VERIFIED));
    } else if opts.check.quick {
        notices.push(Reason::new(FindingCode::VerifiedQuick, VERIFIED_QUICK));
    }
    notices
}

/// Leftovers of an earlier run in the target for blocks about to be
/// copied (each named by a notice): they are removed first.
pub(super) fn leftovers(
    dst_layout: &layout::Layout,
    blocks: &[PlannedBlock],
    notices: &mut Vec<Reason>,
) -> Vec<PathBuf> {
    let mut leftovers = Vec::new();
    for t in &dst_layout.tmp_dirs {
        let name = t
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(u) = name.strip_suffix(TMP_SUFFIX)
            && blocks
                .iter()
                .any(|b| b.ulid == u && b.action == Action::Copy)
        {
            notices.push(Reason::new(
                FindingCode::Leftover,
                format!("{name}: an unfinished copy; it is removed and the block copied again"),
            ));
            leftovers.push(t.clone());
        }
    }
    leftovers
}
