//! One part of the series section walked by one task: each entry's label
//! references fingerprinted for the postings check, its label set and chunk
//! metas checked, its chunks queued into pieces checked as they fill.

use std::sync::Mutex;

use super::postings::{Fingerprint, id_key, pair_hash, ref_pair_hash};
use super::samples::{Piece, check_piece, series_name};
#[allow(clippy::wildcard_imports)]
use super::*;

/// Chunk metas checked together by one call of [`check_piece`].
pub(super) const PIECE_CHUNKS: usize = 4096;

/// What every part's walk reads and nothing changes.
pub(super) struct Shared<'s, 'a> {
    pub(super) dir: PathBuf,
    pub(super) ulid: String,
    pub(super) files: &'s BlockFiles,
    /// The chunk segments, wherever they are stored.
    pub(super) chunks: &'s dyn ChunkSource,
    pub(super) meta: &'s BlockMeta,
    pub(super) opts: &'s CheckOptions,
    /// Per chunk segment: its header reads.
    pub(super) seg_ok: &'s [bool],
    pub(super) index: &'s IndexReader<'a>,
    pub(super) index_path: &'s Path,
    /// The symbol table is strictly sorted (v2): label references are
    /// compared and fingerprinted without resolving them.
    pub(super) fast: bool,
    /// The reference of the empty string, when `fast`.
    pub(super) empty_ref: Option<u32>,
    /// Used-symbols bit sets (v2 with a strictly sorted table), each of
    /// `nsym_words` words: a part takes one (or makes one) and gives it
    /// back when done, so there are about as many as threads, not parts;
    /// their union is the block's.
    pub(super) used: &'s Mutex<Vec<Vec<u64>>>,
    pub(super) nsym_words: usize,
}

/// What one task found walking one part of the series section.
pub(super) struct PartResult {
    /// This part's chunks, checked (series ordinals relative to the part).
    pub(super) pieces: Vec<Piece>,
    pub(super) findings: Findings,
    pub(super) ids: Vec<SeriesRef>,
    pub(super) fp: Fingerprint,
    pub(super) series: u64,
    pub(super) chunks: u64,
    pub(super) first_refs: Option<Vec<(u32, u32)>>,
    pub(super) last_refs: Vec<(u32, u32)>,
    pub(super) first_offset: Option<u64>,
    pub(super) last_offset: Option<u64>,
}

/// The state of one part's walk.
struct PartWalk<'s, 'a> {
    sh: &'s Shared<'s, 'a>,
    cx: Ctx,
    counts: Counts,
    ids: Vec<SeriesRef>,
    fp: Fingerprint,
    used: Vec<u64>,
    /// Chunk metas wait here until a piece is full, then the piece's
    /// chunks are checked on this thread: the metas of a whole block are
    /// never held at once.
    batch: Vec<(u32, ChunkMeta)>,
    pieces: Vec<Piece>,
    prev_resolved: Vec<(&'a [u8], &'a [u8])>,
    resolved: Vec<(&'a [u8], &'a [u8])>,
    prev_refs: Vec<(u32, u32)>,
    first_refs: Option<Vec<(u32, u32)>>,
    first_offset: Option<u64>,
    prev_offset: Option<u64>,
    /// The greatest chunk reference so far.
    last_ref: ChunkRef,
}

/// Walks the series entries in `[part_start, part_end)` of the index.
pub(super) fn walk_part(sh: &Shared<'_, '_>, part_start: u64, part_end: u64) -> PartResult {
    let mut w = PartWalk {
        sh,
        cx: Ctx {
            dir: sh.dir.clone(),
            ulid: sh.ulid.clone(),
            findings: Findings::default(),
        },
        counts: Counts::default(),
        ids: Vec::new(),
        fp: Fingerprint::default(),
        used: sh
            .used
            .lock()
            .ok()
            .and_then(|mut v| v.pop())
            .unwrap_or_else(|| vec![0; sh.nsym_words]),
        batch: Vec::with_capacity(PIECE_CHUNKS),
        pieces: Vec::new(),
        prev_resolved: Vec::new(),
        resolved: Vec::new(),
        prev_refs: Vec::new(),
        first_refs: None,
        first_offset: None,
        prev_offset: None,
        last_ref: ChunkRef(0),
    };
    let files = sh.files;
    let mut entry = SeriesEntry::default();
    let mut released = part_start;
    let mut it = sh.index.series_range(part_start, part_end);
    while let Some(r) = it.next_into(&mut entry) {
        if let Err(e) = r {
            w.cx.decode(FileKind::Index, sh.index_path, &e);
            continue;
        }
        if entry.offset > released + (8 << 20) {
            files.index.release(released, entry.offset);
            released = entry.offset;
        }
        w.series(&entry);
    }
    if !w.batch.is_empty() {
        w.pieces
            .push(check_piece(sh.chunks, sh.seg_ok, sh.opts, 0, &w.batch));
    }
    files.index.release(released, part_end);
    if let Ok(mut v) = sh.used.lock() {
        v.push(std::mem::take(&mut w.used));
    }
    PartResult {
        pieces: w.pieces,
        findings: w.cx.findings,
        ids: w.ids,
        fp: w.fp,
        series: w.counts.series,
        chunks: w.counts.chunks,
        first_refs: w.first_refs,
        last_refs: w.prev_refs,
        first_offset: w.first_offset,
        last_offset: w.prev_offset,
    }
}

impl PartWalk<'_, '_> {
    /// One series entry.
    fn series(&mut self, entry: &SeriesEntry) {
        let ordinal = self.ids.len() as u32;
        self.ids.push(entry.id);
        self.counts.series += 1;
        self.counts.chunks += entry.chunks.len() as u64;
        if self.sh.fast {
            self.fast_labels(entry, ordinal);
        } else if self.fingerprint(entry) {
            self.label_set(entry, ordinal);
        }
        if self.first_offset.is_none() {
            self.first_offset = Some(entry.offset);
            // Compared with the series before the cut only when a walk
            // without the cut would compare it (its refs in the table).
            let n = self.sh.index.symbols.len() as u32;
            if entry.labels.iter().all(|&(a, b)| a < n && b < n) {
                self.first_refs = Some(entry.labels.clone());
            }
        }
        self.prev_offset = Some(entry.offset);
        self.chunk_metas(entry, ordinal);
        if self.batch.len() >= PIECE_CHUNKS {
            let sh = self.sh;
            self.pieces
                .push(check_piece(sh.chunks, sh.seg_ok, sh.opts, 0, &self.batch));
            self.batch.clear();
        }
    }

    /// The labels when the symbol table is strictly sorted (v2), by
    /// reference alone (then ref order is string order), in one pass: each
    /// pair fingerprinted, its refs marked used (those not shared with the
    /// series before it), and the label-set rules
    /// (names strictly ascending, no empty value, after the previous
    /// series) noted; a series that breaks one goes through
    /// [`Self::label_set`] for its findings. Refs outside the table: the
    /// finding of resolving them, and nothing else.
    fn fast_labels(&mut self, entry: &SeriesEntry, ordinal: u32) {
        let sh = self.sh;
        let n = sh.index.symbols.len() as u32;
        let labels = entry.labels.as_slice();
        if !labels.iter().all(|&(a, b)| a < n && b < n) {
            if let Err(e) = sh.index.resolve_labels(entry, &mut self.resolved) {
                self.cx.decode(FileKind::Index, sh.index_path, &e);
            }
            return;
        }
        let id = id_key(entry.id.get());
        // No ref below `n` equals u32::MAX: no value is empty without one.
        let empty = sh.empty_ref.unwrap_or(u32::MAX);
        let mut ok = !labels.is_empty();
        let mut prev_name = -1i64;
        // The labels this series shares with the one before it (a prefix):
        // their refs were marked used with it (every series' refs are
        // marked, in this part's set), so only the others are marked.
        let prev = self.prev_refs.as_slice();
        let mut same = 0;
        for (i, &(a, b)) in labels.iter().enumerate() {
            self.fp.add_keyed(ref_pair_hash(a, b), id);
            if same == i && prev.get(i) == Some(&(a, b)) {
                same += 1;
            } else {
                for r in [a, b] {
                    if let Some(w) = self.used.get_mut(r as usize / 64) {
                        *w |= 1 << (r % 64);
                    }
                }
            }
            ok &= i64::from(a) > prev_name && b != empty;
            prev_name = i64::from(a);
        }
        // After the previous series (labels compared as slices): the first
        // label that differs is greater, or the previous series' labels
        // are a proper prefix of these.
        let after = match (labels.get(same), prev.get(same)) {
            (Some(x), Some(y)) => x > y,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if ok && (ordinal == 0 || after) {
            // The shared prefix is there already: the rest (mostly one
            // label) pushed.
            self.prev_refs.truncate(same);
            for &l in labels.get(same..).unwrap_or(&[]) {
                self.prev_refs.push(l);
            }
        } else {
            self.label_set(entry, ordinal);
        }
    }

    /// Resolves the entry's labels and adds their pairs to the fingerprint
    /// (symbol tables not strictly sorted, or v1). False if the labels
    /// cannot be read.
    fn fingerprint(&mut self, entry: &SeriesEntry) -> bool {
        match self.sh.index.resolve_labels(entry, &mut self.resolved) {
            Ok(()) => {
                for (n, v) in &self.resolved {
                    self.fp.add(pair_hash(n, v), entry.id.get());
                }
                true
            }
            Err(e) => {
                self.cx.decode(FileKind::Index, self.sh.index_path, &e);
                false
            }
        }
    }

    /// The label-set rules, against the series before it.
    fn label_set(&mut self, entry: &SeriesEntry, ordinal: u32) {
        let sh = self.sh;
        let issues = if sh.fast {
            let r = label_issues(&entry.labels, &self.prev_refs, ordinal > 0, |v| {
                Some(*v) == sh.empty_ref
            });
            self.prev_refs.clone_from(&entry.labels);
            r
        } else {
            let r = label_issues(&self.resolved, &self.prev_resolved, ordinal > 0, |v| {
                v.is_empty()
            });
            self.prev_resolved.clone_from(&self.resolved);
            r
        };
        if issues.is_empty() {
            return;
        }
        let _ = sh.index.resolve_labels(entry, &mut self.resolved);
        let mut this = String::new();
        format_labels(&mut this, &self.resolved);
        for (severity, code, message) in issues {
            let message = if code == FindingCode::IndexSeriesUnsorted {
                let prev_s = self
                    .prev_offset
                    .and_then(|o| series_name(sh.index, Some(o)))
                    .unwrap_or_default();
                format!("{message} ({prev_s})")
            } else {
                message.to_string()
            };
            self.cx.push(
                Finding {
                    severity,
                    series: Some(this.clone()),
                    ..Finding::new(severity, code, sh.index_path, message)
                }
                .at(entry.offset),
            );
        }
    }

    /// The entry's chunk metas: each in order, inside the block, pointing
    /// into a segment; those that do are queued for the chunk check.
    fn chunk_metas(&mut self, entry: &SeriesEntry, ordinal: u32) {
        let mut prev: Option<ChunkMeta> = None;
        for c in &entry.chunks {
            self.chunk_meta(entry, c, prev);
            if self.points_into_segment(entry, c) {
                self.batch.push((ordinal, *c));
            }
            self.last_ref = self.last_ref.max(c.chunk_ref);
            prev = Some(*c);
        }
    }

    /// A finding about chunk meta `c` of `entry`; each use sets its own
    /// code and message.
    fn base(&self, entry: &SeriesEntry, c: &ChunkMeta) -> Finding {
        let sh = self.sh;
        Finding::new(
            Severity::Error,
            FindingCode::IndexChunkMetaInvalid,
            sh.index_path,
            "",
        )
        .at(entry.offset)
        .series(series_name(sh.index, Some(entry.offset)).unwrap_or_default())
        .costs(c.mint, c.maxt.saturating_add(1))
    }

    /// One chunk meta's own rules and its order after `prev`.
    fn chunk_meta(&mut self, entry: &SeriesEntry, c: &ChunkMeta, prev: Option<ChunkMeta>) {
        let meta = self.sh.meta;
        if c.mint > c.maxt {
            let f = Finding {
                code: FindingCode::IndexChunkMetaInvalid,
                message: format!("chunk mint {} is after maxt {}", c.mint, c.maxt),
                ..self.base(entry, c)
            };
            self.cx.push(f);
        }
        if c.mint < meta.min_time || c.maxt >= meta.max_time {
            let f = Finding {
                code: FindingCode::ChunkOutsideBlock,
                message: format!(
                    "chunk [{}, {}] lies outside the block's [{}, {})",
                    c.mint, c.maxt, meta.min_time, meta.max_time
                ),
                ..self.base(entry, c)
            };
            self.cx.push(f);
        }
        if let Some(p) = prev {
            if c.chunk_ref == p.chunk_ref {
                let f = Finding {
                    code: FindingCode::IndexChunkDuplicate,
                    message: "two chunk metas of the series point to the same chunk".into(),
                    ..self.base(entry, c)
                };
                self.cx.push(f);
            } else if c.mint <= p.maxt {
                let code = if c.mint < p.mint {
                    FindingCode::IndexChunksUnordered
                } else {
                    FindingCode::IndexChunksOverlap
                };
                let f = Finding {
                    code,
                    message: format!(
                        "chunk [{}, {}] starts before the previous chunk [{}, {}] ends",
                        c.mint, c.maxt, p.mint, p.maxt
                    ),
                    ..self.base(entry, c)
                };
                self.cx.push(f);
            }
        }
        if c.chunk_ref < self.last_ref {
            let f = Finding {
                severity: Severity::Info,
                code: FindingCode::IndexChunkRefsUnordered,
                message: "chunk reference is lower than the one before it (Prometheus ≥ 2.51 \
                          writes them ascending)"
                    .into(),
                ..self.base(entry, c)
            };
            self.cx.push(f);
        }
    }

    /// True if `c` points into one of the block's segments, past its
    /// header; a finding otherwise.
    fn points_into_segment(&mut self, entry: &SeriesEntry, c: &ChunkMeta) -> bool {
        let segs = self.sh.chunks;
        let seg = c.segment() as usize;
        let message = match (seg < segs.count()).then(|| segs.len(seg)) {
            None => format!(
                "chunk reference {:#x} names segment #{seg}, but the block has {} chunk files",
                c.chunk_ref,
                segs.count()
            ),
            Some(len)
                if u64::from(c.offset()) >= len
                    || (c.offset() as usize) < chunks::SEGMENT_HEADER_LEN =>
            {
                format!(
                    "chunk reference {:#x} points to offset {} outside segment #{seg} ({len} \
                     bytes)",
                    c.chunk_ref,
                    c.offset(),
                )
            }
            Some(_) => return true,
        };
        let f = Finding {
            code: FindingCode::IndexChunkRefInvalid,
            message,
            ..self.base(entry, c)
        };
        self.cx.push(f);
        false
    }
}

/// The message of a series with the label set of the series before it.
pub(super) const SERIES_DUPLICATE: &str = "series has the same label set as the series before it";
/// The message of a series sorting before the series before it (that
/// series follows it in parentheses).
pub(super) const SERIES_UNSORTED: &str = "series sorts before the series before it";

/// The label-set rules of one series, given its labels and the previous
/// series' labels as comparable keys: non-empty, names strictly ascending,
/// no empty values, and strictly after the previous series.
fn label_issues<K: Ord>(
    cur: &[(K, K)],
    prev: &[(K, K)],
    has_prev: bool,
    is_empty_value: impl Fn(&K) -> bool,
) -> Vec<(Severity, FindingCode, &'static str)> {
    let mut out = Vec::new();
    if cur.is_empty() {
        out.push((
            Severity::Error,
            FindingCode::IndexSeriesEmptyLabels,
            "series has an empty label set",
        ));
    }
    if cur.windows(2).any(|w| matches!(w, [a, b] if a.0 == b.0)) {
        out.push((
            Severity::Error,
            FindingCode::IndexSeriesDuplicateLabel,
            "series has a label name twice",
        ));
    } else if cur.windows(2).any(|w| matches!(w, [a, b] if a.0 > b.0)) {
        out.push((
            Severity::Error,
            FindingCode::IndexSeriesLabelsUnsorted,
            "label names of the series are not sorted",
        ));
    }
    if cur.iter().any(|(_, v)| is_empty_value(v)) {
        out.push((
            Severity::Warning,
            FindingCode::IndexSeriesEmptyLabelValue,
            "series has a label with an empty value (Prometheus drops such labels)",
        ));
    }
    if has_prev && cur <= prev {
        if cur == prev {
            out.push((
                Severity::Error,
                FindingCode::IndexSeriesDuplicate,
                SERIES_DUPLICATE,
            ));
        } else {
            out.push((
                Severity::Error,
                FindingCode::IndexSeriesUnsorted,
                SERIES_UNSORTED,
            ));
        }
    }
    out
}
