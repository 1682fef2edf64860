//! The time range a data directory's head holds: samples in `wal/` (and its
//! newest checkpoint) and chunks in `chunks_head/`. Used only to warn before
//! a copied block lands inside (or beyond) data Prometheus will replay.
//!
//! This is a tolerant scanner, not a validator: it reads what it can and
//! stops a file at the first thing it does not understand. A damaged WAL is
//! `promsnap check`'s business; here the question is only "which times".

use std::path::{Path, PathBuf};

use crate::format::decode::Decoder;

/// Sample time range `[min, max]` (inclusive, ms) found in a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct HeadRange {
    /// Oldest sample or chunk start.
    pub min_time: i64,
    /// Newest sample or chunk end.
    pub max_time: i64,
}

impl HeadRange {
    fn add(r: &mut Option<HeadRange>, min: i64, max: i64) {
        match r {
            Some(h) => {
                h.min_time = h.min_time.min(min);
                h.max_time = h.max_time.max(max);
            }
            None => {
                *r = Some(HeadRange {
                    min_time: min,
                    max_time: max,
                })
            }
        }
    }
}

const PAGE: usize = 32 * 1024;
const HEAD_CHUNK_MAGIC: u32 = 0x0130_BC91;

/// Scans `wal/` (newest checkpoint, then segments) and `chunks_head/` of a
/// data directory. `None` when neither holds any sample.
pub fn head_range(data_dir: &Path) -> Option<HeadRange> {
    let mut r = None;
    let wal = data_dir.join("wal");
    if wal.is_dir() {
        let mut checkpoints: Vec<PathBuf> = numbered(&wal, |n| {
            n.strip_prefix("checkpoint.")
                .filter(|d| !d.contains('.'))
                .map(str::to_owned)
        });
        checkpoints.sort();
        if let Some(cp) = checkpoints.last() {
            for seg in segments(cp) {
                scan_wal_segment(&seg, &mut r);
            }
        }
        for seg in segments(&wal) {
            scan_wal_segment(&seg, &mut r);
        }
    }
    let ch = data_dir.join("chunks_head");
    if ch.is_dir() {
        for f in numbered(&ch, |n| Some(n.to_owned())) {
            scan_head_chunks(&f, &mut r);
        }
    }
    r
}

fn numbered(dir: &Path, key: impl Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().into_string().ok()?;
            let k = key(&n)?;
            (!k.is_empty() && k.bytes().all(|b| b.is_ascii_digit())).then(|| e.path())
        })
        .collect();
    v.sort();
    v
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    numbered(dir, |n| Some(n.to_owned()))
        .into_iter()
        .filter(|p| p.is_file())
        .collect()
}

/// Reads one WAL segment's records and widens `r` with every sample time.
fn scan_wal_segment(path: &Path, r: &mut Option<HeadRange>) {
    let Ok(bytes) = std::fs::read(path) else {
        return;
    };
    let mut rec: Vec<u8> = Vec::new();
    let mut compressed = false;
    let mut pos = 0usize;
    while pos < bytes.len() {
        let page_left = PAGE - pos % PAGE;
        let Some(&t) = bytes.get(pos) else { break };
        if t == 0 {
            pos += page_left; // page terminator: rest of page is zero
            continue;
        }
        let Some(h) = bytes.get(pos..pos + 7) else {
            break;
        };
        let len = usize::from(u16::from_be_bytes([h[1], h[2]]));
        let Some(data) = bytes.get(pos + 7..pos + 7 + len) else {
            break;
        };
        pos += 7 + len;
        let kind = t & 0x07;
        match kind {
            1 => {
                rec.clear();
                rec.extend_from_slice(data);
                compressed = t & 0x18 != 0;
            }
            2 => {
                rec.clear();
                rec.extend_from_slice(data);
                compressed = t & 0x18 != 0;
                continue;
            }
            3 => {
                rec.extend_from_slice(data);
                continue;
            }
            4 => rec.extend_from_slice(data),
            _ => break,
        }
        let plain;
        let body: &[u8] = if compressed {
            if t & 0x08 != 0 {
                match snap::raw::Decoder::new().decompress_vec(&rec) {
                    Ok(v) => {
                        plain = v;
                        &plain
                    }
                    Err(_) => continue,
                }
            } else {
                match zstd::stream::decode_all(&rec[..]) {
                    Ok(v) => {
                        plain = v;
                        &plain
                    }
                    Err(_) => continue,
                }
            }
        } else {
            &rec
        };
        record_times(body, r);
    }
}

/// Sample times of a Samples (2) or histogram (7, 8, 9, 10) record. Only the
/// per-sample time deltas are read for the float record; histogram records
/// carry variable-length payloads, so only their base time is used.
fn record_times(body: &[u8], r: &mut Option<HeadRange>) {
    let mut d = Decoder::new(body, 0);
    let Ok(typ) = d.u8() else { return };
    if !matches!(typ, 2 | 7 | 8 | 9 | 10) || d.is_empty() {
        return;
    }
    let (Ok(_base_ref), Ok(base_t)) = (d.be_u64(), d.be_u64()) else {
        return;
    };
    let base_t = base_t as i64;
    if typ != 2 {
        HeadRange::add(r, base_t, base_t);
        return;
    }
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    while !d.is_empty() {
        let (Ok(_), Ok(dt), Ok(_)) = (d.varint(), d.varint(), d.be_u64()) else {
            break;
        };
        let t = base_t.wrapping_add(dt);
        lo = lo.min(t);
        hi = hi.max(t);
    }
    if lo <= hi {
        HeadRange::add(r, lo, hi);
    }
}

/// Widens `r` with the `[mint, maxt]` of every chunk in a head chunk file.
fn scan_head_chunks(path: &Path, r: &mut Option<HeadRange>) {
    let Ok(bytes) = std::fs::read(path) else {
        return;
    };
    let mut d = Decoder::new(&bytes, 0);
    if d.be_u32().ok() != Some(HEAD_CHUNK_MAGIC) || d.bytes(4).is_err() {
        return;
    }
    loop {
        let (Ok(sref), Ok(mint), Ok(maxt), Ok(_enc), Ok(len)) =
            (d.be_u64(), d.be_u64(), d.be_u64(), d.u8(), d.uvarint())
        else {
            return;
        };
        if sref == 0 && mint == 0 && maxt == 0 {
            return;
        }
        let Ok(len) = usize::try_from(len) else {
            return;
        };
        if d.bytes(len).is_err() || d.be_u32().is_err() {
            return;
        }
        HeadRange::add(r, mint as i64, maxt as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_fixture_head_covers_the_snapshot_head_block() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/prom-2.42-live/data");
        let h = head_range(&dir).expect("head range");
        // The snapshot taken with the head cut block 01M88ZMVFV… covering
        // [1795597800128, 1795597954511) from this head.
        assert!(h.min_time <= 1_795_597_800_128, "{h:?}");
        assert!(h.max_time >= 1_795_597_954_000, "{h:?}");
    }
}
