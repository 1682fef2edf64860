//! `chunks_head/` files and `chunk_snapshot.*` directories.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Reads one head chunk file's bytes.
pub fn scan_head_chunk_file(bytes: &[u8]) -> HeadChunkFileReport {
    let mut r = HeadChunkFileReport {
        name: String::new(),
        index: 0,
        path: PathBuf::new(),
        size: bytes.len() as u64,
        chunks: 0,
        ooo_chunks: 0,
        series: 0,
        encodings: BTreeMap::new(),
        time: TimeRange::default(),
        end_offset: None,
        corruption: None,
        read_error: None,
        deleted_on_startup: false,
    };
    let problem = |e: crate::format::DecodeError| Problem {
        offset: e.offset(),
        code: FindingCode::of_decode(&e),
        message: e.to_string(),
    };
    let mut it = match head_chunks::chunks(bytes) {
        Ok(it) => it,
        Err(e) => {
            r.corruption = Some(problem(e));
            return r;
        }
    };
    let mut series = HashSet::new();
    let mut enc = [0u64; 128];
    for c in it.by_ref() {
        match c {
            Ok(c) => {
                r.chunks += 1;
                r.ooo_chunks += u64::from(c.ooo);
                series.insert(c.series_ref);
                if let Some(slot) = enc.get_mut(usize::from(c.encoding)) {
                    *slot += 1;
                }
                r.time.add(c.mint);
                r.time.add(c.maxt);
            }
            Err(e) => r.corruption = Some(problem(e)),
        }
    }
    r.end_offset = it.end_offset();
    r.series = series.len() as u64;
    for (e, &n) in enc.iter().enumerate() {
        if n > 0 {
            let name = match head_chunks::encoding_name(e as u8) {
                "unknown" => format!("unknown({e})"),
                known => known.to_string(),
            };
            r.encodings.insert(name, n);
        }
    }
    r
}

/// The first `N` bytes of a file (`None`: it is shorter).
fn first_bytes<const N: usize>(path: &Path) -> std::io::Result<Option<[u8; N]>> {
    use std::io::Read;
    let mut b = [0u8; N];
    match crate::fileutil::open_input(path)?.read_exact(&mut b) {
        Ok(()) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads a `chunks_head/` directory.
pub fn inspect_chunks_head(dir: &Path) -> Result<ChunksHeadReport, Error> {
    let mut files = Vec::new();
    for (i, path) in head_chunk_files(dir)? {
        // Mapped, not read: Prometheus maps these files itself and only ever
        // appends to or deletes them, never shrinks one in place.
        let mut r = match crate::fileutil::map_file(&path) {
            Ok(b) => scan_head_chunk_file(&b),
            Err(e) => {
                let mut r = scan_head_chunk_file(&[]);
                r.corruption = None;
                r.size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                r.read_error = Some(e.to_string());
                r
            }
        };
        r.name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        r.index = i;
        r.path = path;
        files.push(r);
    }
    if let Some(last) = files.last_mut() {
        let head = first_bytes::<4>(&last.path).map(|b| b.map(|m| m == [0, 0, 0, 0]));
        last.deleted_on_startup =
            last.read_error.is_none() && head.unwrap_or(Some(false)).unwrap_or(true);
    }
    let idx: Vec<u32> = files.iter().map(|f| f.index).collect();
    let mut time = TimeRange::default();
    for f in &files {
        time.merge(f.time);
    }
    Ok(ChunksHeadReport {
        path: dir.to_path_buf(),
        file_gaps: names::gaps(&idx)
            .into_iter()
            .map(|(first, last)| Gap { first, last })
            .collect(),
        time,
        chunks: files.iter().map(|f| f.chunks).sum(),
        files,
    })
}

pub(super) fn inspect_chunk_snapshot(name: &str, path: &Path) -> Option<ChunkSnapshotReport> {
    let n = names::parse_chunk_snapshot_name(name)?;
    let mut files = Vec::new();
    if let Ok(entries) = list_dir(path) {
        for (fname, p, _) in entries {
            let size = fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
            files.push((fname, size));
        }
    }
    Some(ChunkSnapshotReport {
        name: name.to_string(),
        path: path.to_path_buf(),
        wal_segment: n.segment,
        wal_offset: n.offset,
        tmp: n.tmp,
        size: files.iter().map(|(_, s)| s).sum(),
        files,
    })
}
