//! Tests of the overtaking's dating by the `truncateWAL` rule (`walrule.rs`).
use super::*;
use crate::coverage::wal::tests::seg_range;
