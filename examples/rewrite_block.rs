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
//! built). A series whose chunks are already what the encoder would
//! write for their samples is decoded and checked, then its chunk bytes
//! copied instead of encoded again ([`Encoded::push_from_block`]): the
//! output is the same bytes.
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

/// Labels borrowed from the source index (of several series, one after
/// the other).
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
        let (tx, rx) = sync_channel::<(Labels<'_>, Vec<usize>, Vec<Encoded>)>(2);
        let (o, readers, sel) = (&o, &readers, &sel);
        sc.spawn(move || {
            // Entries reused from batch to batch (their chunk lists too).
            let mut entries: Vec<SeriesEntry> = Vec::new();
            let mut labels = Vec::new();
            for r in readers {
                let mut it = r.index.series();
                let mut more = true;
                while more {
                    // Every series' labels in one list, `ends` where each
                    // series' end.
                    let (mut flat, mut ends) = (Vec::new(), Vec::with_capacity(BATCH));
                    let mut n = 0;
                    while n < BATCH {
                        if n == entries.len() {
                            entries.push(SeriesEntry::default());
                        }
                        let Some(entry) = entries.get_mut(n) else {
                            break;
                        };
                        let Some(res) = it.next_into(entry) else {
                            more = false;
                            break;
                        };
                        match res.and_then(|()| r.index.resolve_labels(entry, &mut labels)) {
                            Ok(()) => {
                                flat.extend_from_slice(&labels);
                                ends.push(flat.len());
                                n += 1;
                            }
                            Err(e) => o.error(format!("{}: {e}", r.files.index_path().display())),
                        }
                    }
                    let batch = entries.get(..n).unwrap_or(&[]);
                    let encoded: Vec<Encoded> = batch
                        .par_chunks(PART)
                        .enumerate()
                        .map(|(k, part)| {
                            let (mut e, mut s) = (Encoded::default(), Vec::new());
                            for (i, entry) in part.iter().enumerate() {
                                if e.push_from_block(r, entry) {
                                    continue;
                                }
                                stream::read_samples(r, entry, sel, &mut s, &mut |err| {
                                    let i = k * PART + i;
                                    let start = if i == 0 { 0 } else { ends[i - 1] };
                                    let labels = flat.get(start..ends[i]).unwrap_or(&[]);
                                    o.error(format!("{err} (series {labels:?})"));
                                });
                                e.push(&s);
                            }
                            e
                        })
                        .collect();
                    if tx.send((flat, ends, encoded)).is_err() {
                        return;
                    }
                }
            }
        });
        for (flat, ends, encoded) in rx {
            let mut start = 0;
            let labels = ends.iter().map(|&end| {
                let l = flat.get(start..end).unwrap_or(&[]);
                start = end;
                l
            });
            let mut labels = labels.collect::<Vec<_>>().into_iter();
            for e in &encoded {
                w.add_encoded(labels.by_ref().take(e.len()), e)?;
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
