//! Rewrites one block sample for sample with the block writer (decode every
//! chunk, re-encode, write chunks and index, fsync, rename): the writer's
//! throughput, for comparison with `cp -r` + `sync` of the same block.
//!
//! usage: cargo run --release --example rewrite_block BLOCK_DIR OUT_DATA_DIR

use std::path::Path;
use std::time::Instant;

use promsnap::fill::stream::{self, Opened, Select};
use promsnap::write::BlockWriter;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(block), Some(out)) = (args.get(1), args.get(2)) else {
        return Err("usage: rewrite_block BLOCK_DIR OUT_DATA_DIR".into());
    };
    let started = Instant::now();
    let meta = promsnap::block::read_meta(Path::new(block))?;
    let o = Opened::open(Path::new(block))?;
    let sel = Select {
        selectors: Vec::new(),
        from: i64::MIN,
        to: i64::MAX,
    };
    let readers = o.readers(i64::MIN, i64::MAX);
    std::fs::create_dir_all(out)?;
    let mut w = BlockWriter::create(Path::new(out), meta.min_time, meta.max_time)?;
    let (mut series, mut samples) = (0u64, 0u64);
    for (labels, s) in stream::series(&readers, &o, &sel) {
        series += 1;
        samples += s.len() as u64;
        w.add_series(&labels, &s)?;
    }
    let b = w.finish()?.ok_or("empty block")?;
    eprintln!(
        "{} series, {} samples -> {} in {:.2?}",
        series,
        samples,
        b.dir.display(),
        started.elapsed()
    );
    Ok(())
}
