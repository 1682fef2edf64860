//! Rewrites one block sample for sample with the block writer (decode every
//! chunk, re-encode, write chunks and index, fsync, rename): the writer's
//! throughput, for comparison with `cp -r` + `sync` of the same block
//! (`bench/run.sh`).
//!
//! One thread walks the source index (labels borrowed from it, chunk
//! metas copied) in batches; each batch's series are decoded (samples as
//! `fill` reads them) and their chunks re-encoded in parallel
//! ([`Encoded`]), while the calling thread adds the previous batch with
//! [`BlockWriter::add_encoded`] (chunks written in order, index table
//! built).
//!
//! usage: cargo run --release --example rewrite_block BLOCK_DIR OUT_DATA_DIR

use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use promsnap::fill::stream::{self, Opened, Select};
use promsnap::format::index::series::SeriesEntry;
use promsnap::write::{BlockWriter, Encoded};
use rayon::prelude::*;

/// Series walked, then decoded and encoded, together.
const BATCH: usize = 4096;
/// Series decoded and encoded by one task.
const PART: usize = 256;

/// Labels borrowed from the source index.
type Labels<'a> = Vec<(&'a [u8], &'a [u8])>;

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
    let readers = o.readers(i64::MIN, i64::MAX);
    std::thread::scope(|sc| -> Result<(), Box<dyn std::error::Error>> {
        let (tx, rx) = sync_channel::<(Vec<Labels<'_>>, Vec<Encoded>)>(2);
        let (o, readers, sel) = (&o, &readers, &sel);
        sc.spawn(move || {
            for r in readers {
                let mut it = r.index.series();
                let mut entry = SeriesEntry::default();
                let mut labels = Vec::new();
                let mut batch: Vec<(Labels<'_>, SeriesEntry)> = Vec::with_capacity(BATCH);
                let mut more = true;
                while more {
                    batch.clear();
                    while batch.len() < BATCH {
                        let Some(res) = it.next_into(&mut entry) else {
                            more = false;
                            break;
                        };
                        match res.and_then(|()| r.index.resolve_labels(&entry, &mut labels)) {
                            Ok(()) => batch.push((labels.clone(), std::mem::take(&mut entry))),
                            Err(e) => o.error(format!("{}: {e}", r.files.index_path().display())),
                        }
                    }
                    let encoded: Vec<Encoded> = batch
                        .par_chunks(PART)
                        .map(|part| {
                            let (mut e, mut s) = (Encoded::default(), Vec::new());
                            for (labels, entry) in part {
                                if e.push_from_block(r, entry) {
                                    continue;
                                }
                                stream::read_samples(r, entry, sel, &mut s, &mut |err| {
                                    o.error(format!("{err} (series {labels:?})"));
                                });
                                e.push(&s);
                            }
                            e
                        })
                        .collect();
                    let labels = batch.drain(..).map(|(l, _)| l).collect();
                    if tx.send((labels, encoded)).is_err() {
                        return;
                    }
                }
            }
        });
        for (labels, encoded) in rx {
            for (ls, e) in labels.chunks(PART).zip(&encoded) {
                w.add_encoded(ls.iter().map(Vec::as_slice), e)?;
            }
        }
        Ok(())
    })?;
    let errors = o.take_errors();
    if !errors.is_empty() {
        return Err(format!("read errors: {}", errors.join("; ")).into());
    }
    // The source's mappings are not needed for the index: unmapped before
    // it is built, so they do not add to the peak memory.
    drop(readers);
    drop(o);
    let b = w.finish()?.ok_or("empty block")?;
    eprintln!(
        "{} series, {} samples -> {} in {:.2?}",
        b.stats.series,
        b.stats.samples,
        b.dir.display(),
        started.elapsed()
    );
    Ok(())
}
