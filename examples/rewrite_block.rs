//! Rewrites one block sample for sample with the block writer (decode every
//! chunk, re-encode, write chunks and index, fsync, rename): the writer's
//! throughput, for comparison with `cp -r` + `sync` of the same block
//! (`bench/run.sh`).
//!
//! One thread reads and decodes the series (labels borrowed from the
//! source index, samples as `fill` reads them), handing batches to the
//! writer, which encodes each batch's chunks in parallel
//! ([`BlockWriter::add_batch`]) and writes them in order.
//!
//! usage: cargo run --release --example rewrite_block BLOCK_DIR OUT_DATA_DIR

use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use promsnap::fill::stream::{self, Opened, Select};
use promsnap::format::chunkenc::Value;
use promsnap::write::BlockWriter;

const BATCH: usize = 2048;

/// One series, its labels borrowed from the source index.
type Series<'a> = (Vec<(&'a [u8], &'a [u8])>, Vec<(i64, Value)>);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(block), Some(out)) = (args.get(1), args.get(2)) else {
        return Err("usage: rewrite_block BLOCK_DIR OUT_DATA_DIR".into());
    };
    let started = Instant::now();
    let meta = promsnap::block::read_meta(Path::new(block))?;
    std::fs::create_dir_all(out)?;
    let mut w = BlockWriter::create(Path::new(out), meta.min_time, meta.max_time)?;
    let o = Opened::open(Path::new(block))?;
    let sel = Select {
        selectors: Vec::new(),
        from: i64::MIN,
        to: i64::MAX,
    };
    let (mut series, mut samples) = (0u64, 0u64);
    std::thread::scope(|sc| -> Result<(), Box<dyn std::error::Error>> {
        let (tx, rx) = sync_channel::<Vec<Series<'_>>>(4);
        let (o, sel) = (&o, &sel);
        sc.spawn(move || {
            for r in o.readers(i64::MIN, i64::MAX) {
                let mut batch = Vec::with_capacity(BATCH);
                stream::for_each_block_series(&r, sel, &o.errors, |labels, s| {
                    batch.push((labels.to_vec(), s));
                    if batch.len() < BATCH {
                        return true;
                    }
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    tx.send(full).is_ok()
                });
                if !batch.is_empty() && tx.send(batch).is_err() {
                    return;
                }
            }
        });
        for batch in rx {
            series += batch.len() as u64;
            samples += batch.iter().map(|(_, s)| s.len() as u64).sum::<u64>();
            w.add_batch(&batch)?;
        }
        Ok(())
    })?;
    let errors = o.take_errors();
    if !errors.is_empty() {
        return Err(format!("read errors: {}", errors.join("; ")).into());
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
