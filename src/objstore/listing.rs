//! `ls s3://…`.

use std::path::PathBuf;

use super::bucket::{Bucket, RemoteBlock};
use crate::error::{Error, Result};

/// `ls s3://…`: the blocks under the prefix as `promsnap ls` lists a
/// directory (the `meta.json` objects fetched in parallel; sizes from the
/// listing). A partial upload (no `meta.json`) or an unreadable `meta.json`
/// is an entry with an error. Also returns the listed blocks (objects, marks).
pub fn listing(bucket: &Bucket) -> Result<(crate::list::Listing, Vec<RemoteBlock>)> {
    use crate::list::{BlockEntry, Listing, infer_block_range};
    use rayon::prelude::*;
    let (blocks, _) = bucket.blocks()?;
    let mut entries: Vec<BlockEntry> = blocks
        .par_iter()
        .map(|b| {
            let size = b
                .objects
                .iter()
                .filter(|(r, _)| {
                    r == "index"
                        || r == "tombstones"
                        || r == "meta.json"
                        || r.starts_with("chunks/")
                })
                .map(|(_, s)| s)
                .sum();
            let meta = if b.complete {
                bucket
                    .get_opt(&format!("{}/meta.json", b.ulid))
                    .and_then(|raw| {
                        let raw = raw.unwrap_or_default();
                        crate::format::meta::BlockMeta::parse(&raw).map_err(|e| {
                            Error::decode(bucket.url().show(&format!("{}/meta.json", b.ulid)), e)
                        })
                    })
            } else {
                Err(Error::Usage(format!(
                    "partial upload: no meta.json ({} object(s)); Thanos and Mimir ignore it",
                    b.objects.len()
                )))
            };
            let missing = (!b.objects.iter().any(|(r, _)| r == "index")
                || !b.objects.iter().any(|(r, _)| r.starts_with("chunks/")))
            .then(|| "index or chunks/ missing: Prometheus cannot open the block".to_string());
            let dir = PathBuf::from(bucket.url().show(&b.ulid));
            match meta {
                Ok(m) => BlockEntry::of_meta(dir, m, size, missing),
                Err(e) => BlockEntry::unreadable(dir, b.ulid.clone(), size, e.to_string()),
            }
        })
        .collect();
    crate::list::sort_entries(&mut entries);
    let metas: Vec<&crate::format::meta::BlockMeta> =
        entries.iter().filter_map(|b| b.meta.as_ref()).collect();
    let block_range = infer_block_range(&metas);
    Ok((
        Listing {
            path: PathBuf::from(bucket.url().show("")),
            kind: crate::layout::DirKind::Data,
            snapshot_time: None,
            block_range,
            blocks: entries,
        },
        blocks,
    ))
}
