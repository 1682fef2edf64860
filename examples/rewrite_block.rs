//! Rewrites one block sample for sample with the block writer (decode every
//! chunk, re-encode, write chunks and index, fsync, rename): the writer's
//! throughput, for comparison with `cp -r` + `sync` of the same block
//! (`bench/run.sh`).
//!
//! The writer is given the source index's symbol table
//! ([`BlockWriter::use_symbols`]; a v2 index, symbols strictly ascending)
//! and takes each series' labels as the source's symbol ordinals: no
//! label string is hashed or sorted.
//!
//! One thread walks the source index (label ordinals and chunk metas
//! copied) in batches; while it walks the next batch, each batch's series
//! are decoded (samples as `fill` reads them) and their chunks re-encoded
//! in parallel ([`Encoded`]), and the calling thread adds the batch before
//! with [`BlockWriter::add_encoded`] (chunks written in order, index table
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

/// Labels as source symbol ordinals (of several series, one after the
/// other).
type Labels = Vec<(u32, u32)>;

// The measured command of bench/run.sh, read top to bottom.
#[allow(clippy::too_many_lines)]
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
    let [r] = readers.as_slice() else {
        return Err("expected one block".into());
    };
    if r.index.version != 2 || r.index.symbols.first_unsorted().is_some() {
        return Err("the source index must be v2 with its symbols strictly ascending".into());
    }
    std::thread::scope(|sc| -> Result<(), Box<dyn std::error::Error>> {
        // Walked batches (entries, how many, every series' labels in one
        // list, where each series' labels end); their entry lists come
        // back to the walker to be reused (their chunk lists too).
        let (walked_tx, walked_rx) =
            sync_channel::<(Vec<SeriesEntry>, usize, Labels, Vec<usize>)>(1);
        let (back_tx, back_rx) = sync_channel::<Vec<SeriesEntry>>(2);
        let (tx, rx) = sync_channel::<(Labels, Vec<usize>, Vec<Encoded>)>(2);
        let (o, sel) = (&o, &sel);
        sc.spawn(move || {
            let mut it = r.index.series();
            let mut more = true;
            while more {
                let mut entries = back_rx.try_recv().unwrap_or_default();
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
                    match res {
                        Ok(()) => {
                            flat.extend_from_slice(&entry.labels);
                            ends.push(flat.len());
                            n += 1;
                        }
                        Err(e) => o.error(format!("{}: {e}", r.files.index_path().display())),
                    }
                }
                if walked_tx.send((entries, n, flat, ends)).is_err() {
                    return;
                }
            }
        });
        sc.spawn(move || {
            for (entries, n, flat, ends) in walked_rx {
                let batch = entries.get(..n).unwrap_or(&[]);
                let encoded: Vec<Encoded> = batch
                    .par_chunks(PART)
                    .map(|part| {
                        // Room for the part's chunk records (about 128
                        // bytes a chunk) up front, not grown step by step.
                        let chunks = part.iter().map(|e| e.chunks.len()).sum::<usize>();
                        let mut e = Encoded::with_capacity(part.len(), 128 * chunks);
                        let mut s = Vec::new();
                        for entry in part {
                            if e.push_from_block(r, entry) {
                                continue;
                            }
                            stream::read_samples(r, entry, sel, &mut s, &mut |err| {
                                let mut labels = Vec::new();
                                let _ = r.index.resolve_labels(entry, &mut labels);
                                o.error(format!("{err} (series {labels:?})"));
                            });
                            e.push(&s);
                        }
                        e
                    })
                    .collect();
                let _ = back_tx.try_send(entries);
                if tx.send((flat, ends, encoded)).is_err() {
                    return;
                }
            }
        });
        // The symbol table is copied while the first batches are walked
        // and encoded.
        w.use_symbols(r.index.symbols.iter())?;
        for (flat, ends, encoded) in rx {
            let mut start = 0;
            let labels = ends.iter().map(|&end| {
                let l = flat.get(start..end).unwrap_or(&[]);
                start = end;
                l
            });
            let mut labels = labels.collect::<Vec<_>>().into_iter();
            for e in &encoded {
                w.add_encoded_ids(labels.by_ref().take(e.len()), e)?;
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
