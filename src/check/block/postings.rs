//! Postings: the offset table, every list, and their agreement with the
//! series (order-independent fingerprints; a precise diagnosis on mismatch);
//! the legacy label indices.

#[allow(clippy::wildcard_imports)]
use super::*;
use crate::format::index::postings::{Postings, PostingsEntry};

/// Per-series label refs, for the precise postings diagnosis (built only
/// when the fingerprints disagree).
pub(super) struct SeriesTable {
    ids: Vec<SeriesRef>,
    label_start: Vec<u32>,
    labels: Vec<(u32, u32)>,
}

/// Order-independent fingerprint of a multiset of (label name, label value,
/// series id) triples: the series side and the postings side must agree.
/// Two independent 64-bit combinations make an accidental match of damaged
/// data vanishingly unlikely; any disagreement triggers the precise check.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fingerprint {
    sum: u64,
    xor: u64,
    count: u64,
}

#[inline]
pub(super) fn mix(mut x: u64) -> u64 {
    // splitmix64 finalizer
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A fast hash of a byte string (8 bytes at a time).
#[inline]
pub(super) fn hash_bytes(b: &[u8]) -> u64 {
    let (words, tail) = b.as_chunks::<8>();
    let mut h = 0x51_7CC1_B727_220A_u64 ^ (b.len() as u64);
    for w in words {
        h = mix(h ^ u64::from_le_bytes(*w));
    }
    let mut last = [0u8; 8];
    for (d, s) in last.iter_mut().zip(tail) {
        *d = *s;
    }
    mix(h ^ u64::from_le_bytes(last))
}

impl Fingerprint {
    pub(super) fn merge(&mut self, o: Fingerprint) {
        self.sum = self.sum.wrapping_add(o.sum);
        self.xor ^= o.xor;
        self.count += o.count;
    }

    #[inline]
    pub(super) fn add(&mut self, pair_hash: u64, id: u64) {
        self.add_keyed(pair_hash, id_key(id));
    }

    /// [`Self::add`] with `id_key(id)` computed once by the caller (a
    /// series adds all its labels with the same id).
    #[inline]
    pub(super) fn add_keyed(&mut self, pair_hash: u64, id_key: u64) {
        let h = mix(pair_hash ^ id_key);
        self.sum = self.sum.wrapping_add(h);
        // A second, independent-looking function of the already mixed h.
        self.xor ^= h.rotate_left(29).wrapping_mul(0xD6E8_FEB8_6659_FD93);
        self.count += 1;
    }
}

/// A series id's part of a fingerprint key: one multiply by an odd
/// constant (a bijection, so distinct ids give distinct keys for the same
/// pair; the spread bits keep a pair key xored with it from meeting another
/// pair's key by accident). The key is mixed in [`Fingerprint::add_keyed`];
/// a second mix here cost one per postings reference of the block.
#[inline]
pub(super) fn id_key(id: u64) -> u64 {
    id.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The pair key by symbol refs (v2, strictly sorted symbol table): the two
/// ordinals side by side, one key per pair. Not mixed here: every key goes
/// into [`Fingerprint::add_keyed`] xored with a series id's key and mixed
/// there, which is what makes two different (pair, id) entries collide only
/// by chance (one mix less per label of every series).
#[inline]
pub(super) fn ref_pair_hash(name: u32, value: u32) -> u64 {
    (u64::from(name) << 32) | u64::from(value)
}

#[inline]
pub(super) fn pair_hash(name: &[u8], value: &[u8]) -> u64 {
    hash_bytes(name) ^ mix(hash_bytes(value))
}

/// What the streaming postings pass found, before it is compared with the
/// series walk (the two run at the same time).
pub(super) struct PostingsPass {
    findings: Findings,
    lists_fp: Fingerprint,
    /// Offset of the all-postings list, when it came first and was readable.
    all_list: Option<u64>,
    structural: bool,
    /// Some list (the all-postings one included) is not strictly ascending.
    unsorted: bool,
    lists: u64,
    /// False when the index has no postings table at all.
    ran: bool,
}

/// Streams the postings offset table and every list: the table sorted,
/// every list CRC-checked, and the (name, value, id) multiset of all lists
/// but the all-postings one fingerprinted. Needs nothing from the series
/// walk, so it runs beside it.
pub(super) fn postings_pass(
    dir: &Path,
    ulid: &str,
    index: &IndexReader<'_>,
    index_bytes: &crate::fileutil::FileBytes,
    by_ref: bool,
) -> PostingsPass {
    let mut cx = Ctx {
        dir: dir.to_path_buf(),
        ulid: ulid.to_string(),
        findings: Findings::default(),
    };
    let mut pass = PostingsPass {
        findings: Findings::default(),
        lists_fp: Fingerprint::default(),
        all_list: None,
        structural: false,
        unsorted: false,
        lists: 0,
        ran: false,
    };
    let path = dir.join("index");
    if index.toc.postings_table == 0 {
        return pass;
    }
    pass.ran = true;
    let entries = match index.postings_table_iter() {
        Ok(e) => e,
        Err(e) => {
            cx.decode(FileKind::Index, &path, &e);
            pass.structural = true;
            pass.findings = cx.findings;
            return pass;
        }
    };
    let mut prev: Option<(&[u8], &[u8])> = None;
    // The symbol ordinal of the previous entry's value, when the cursor
    // found it (then ordinals order the values as their bytes do).
    let mut prev_value_ref: Option<usize> = None;
    let mut first = true;
    let mut released: Option<u64> = None;
    let mut cursor = ValueCursor::default();
    for pe in entries {
        let pe = match pe {
            Ok(pe) => pe,
            Err(e) => {
                cx.decode(FileKind::Index, &path, &e);
                pass.structural = true;
                break;
            }
        };
        release_behind(index_bytes, &mut released, pe.offset);
        let list = index.postings(pe.offset);
        let all = pe.name.is_empty() && pe.value.is_empty();
        // The pair key (by refs) of a readable list but the all-postings
        // one, and whether its entry is after the one before it as far as
        // the ordinals tell (same name, both values symbols).
        let keyed = (by_ref && list.is_ok() && !all).then(|| cursor.pair_key(index, &pe));
        if index.version >= 2 {
            let after = match keyed {
                Some(k) if k.same_name => k.value_ref.zip(prev_value_ref).map(|(v, p)| v > p),
                _ => None,
            };
            table_order(&mut cx, &path, index, first, prev, &pe, after);
        }
        prev_value_ref = keyed.and_then(|k| k.value_ref);
        first = false;
        prev = Some((pe.name, pe.value));
        let list = match list {
            Ok(l) => l,
            Err(e) => {
                cx.decode(FileKind::Index, &path, &e);
                pass.structural = true;
                continue;
            }
        };
        pass.lists += 1;
        if all {
            // Its order is checked against the series ids in check_postings.
            pass.all_list = Some(pe.offset);
            continue;
        }
        let ph = match keyed {
            Some(k) => k.hash,
            None => pair_hash(pe.name, pe.value),
        };
        pass.add_list(ph, &list);
    }
    pass.findings = cx.findings;
    pass
}

/// Lists are read in file order: lets the pages more than 8 MiB behind
/// the list at `offset` go.
fn release_behind(bytes: &crate::fileutil::FileBytes, released: &mut Option<u64>, offset: u64) {
    match *released {
        Some(r) if offset > r + (8 << 20) => {
            bytes.release(r, offset);
            *released = Some(offset);
        }
        None => *released = Some(offset),
        _ => {}
    }
}

const ALL_POSTINGS_MISSING: &str =
    "the postings offset table does not start with the all-postings list (\"\", \"\")";

/// The v2 order rules of one postings offset table entry: the
/// all-postings list first, every entry after the one before it (`after`
/// when the symbol ordinals already tell, else by the bytes).
fn table_order(
    cx: &mut Ctx,
    path: &Path,
    index: &IndexReader<'_>,
    first: bool,
    prev: Option<(&[u8], &[u8])>,
    pe: &PostingsEntry<'_>,
    after: Option<bool>,
) {
    if first && (!pe.name.is_empty() || !pe.value.is_empty()) {
        let f = Finding::new(
            Severity::Warning,
            FindingCode::IndexPostingsAllMissing,
            path,
            ALL_POSTINGS_MISSING,
        );
        cx.push(f.at(index.toc.postings_table));
    }
    let before = match after {
        Some(after) => !after,
        None => prev.is_some_and(|p| p >= (pe.name, pe.value)),
    };
    if before {
        cx.push(
            Finding::new(
                Severity::Error,
                FindingCode::IndexPostingsTableUnsorted,
                path,
                format!(
                    "postings offset table entry {}={:?} is not after the entry before it",
                    String::from_utf8_lossy(pe.name),
                    String::from_utf8_lossy(pe.value)
                ),
            )
            .at(pe.entry_offset),
        );
    }
}

/// Where the by-ref pair keys of the postings table are: the current
/// name, its symbol ordinal, and the ordinal of the last value found.
#[derive(Default)]
struct ValueCursor<'a> {
    name: Option<&'a [u8]>,
    name_ref: Option<usize>,
    value_ref: usize,
}

/// What [`ValueCursor::pair_key`] found for one table entry.
#[derive(Clone, Copy)]
struct PairKey {
    /// The pair key by symbol refs (`u64::MAX` when not both are symbols).
    hash: u64,
    /// The entry has the name of the entry the cursor saw before it.
    same_name: bool,
    /// The symbol ordinal of the value, if it was found.
    value_ref: Option<usize>,
}

impl<'a> ValueCursor<'a> {
    /// The pair key of `pe` by symbol refs. The table and the symbols are
    /// both sorted: a name's values come in ascending order, so each value
    /// is found by a short forward search from the previous one (mostly
    /// the symbol right after it, tried first: the symbols are unique, so
    /// that is the one the search would find).
    fn pair_key(&mut self, index: &IndexReader<'_>, pe: &PostingsEntry<'a>) -> PairKey {
        let same_name = self.name == Some(pe.name);
        if !same_name {
            self.name = Some(pe.name);
            self.name_ref = index.symbols.position_from(pe.name, 0);
            self.value_ref = 0;
        }
        let next = self.value_ref + 1;
        let next_is = u32::try_from(next)
            .ok()
            .and_then(|n| index.symbols.lookup(n));
        let v = if same_name && next_is == Some(pe.value) {
            Some(next)
        } else {
            index.symbols.position_from(pe.value, self.value_ref)
        };
        if let Some(v) = v {
            self.value_ref = v;
        }
        let hash = match (self.name_ref, v) {
            (Some(n), Some(v)) => ref_pair_hash(n as u32, v as u32),
            _ => u64::MAX, // not a symbol: cannot match any series
        };
        PairKey {
            hash,
            same_name,
            value_ref: v,
        }
    }
}

impl PostingsPass {
    /// One list (not the all-postings one) into the fingerprint under
    /// pair key `ph`. The fingerprint ignores order, so a reordered list
    /// would match: the strict ascent is checked here (one compare per
    /// ref, no branch).
    #[inline]
    fn add_list(&mut self, ph: u64, list: &Postings<'_>) {
        let mut next_min = 0u64;
        let mut ascending = true;
        for r in list.iter() {
            let r = u64::from(r);
            ascending &= r >= next_min;
            next_min = r + 1;
            self.lists_fp.add(ph, r);
        }
        self.unsorted |= !ascending;
    }
}

/// Compares the postings pass with the series walk: the all-postings list
/// equal to the series ids (so in their ascending order), the fingerprints
/// equal and every list ascending; on any disagreement, names the lists
/// that disagree.
pub(super) fn check_postings(
    cx: &mut Ctx,
    index: &IndexReader<'_>,
    pass: PostingsPass,
    ids: &super::index::SeriesIds,
    series_fp: Fingerprint,
    counts: &mut Counts,
) {
    counts.postings += pass.lists;
    cx.findings.absorb(pass.findings);
    if !pass.ran {
        return;
    }
    let all_ok = pass.all_list.is_some_and(|off| {
        index.postings(off).is_ok_and(|list| {
            list.len() == ids.len() && list.iter().zip(ids.iter()).all(|(r, id)| id == r.into())
        })
    });
    if all_ok && pass.lists_fp == series_fp && !pass.structural && !pass.unsorted {
        return;
    }
    name_disagreements(cx, index, ids.len());
}

/// The slow path of [`check_postings`]: re-walks the series and names
/// each list that disagrees with them, and the label pairs of the series
/// that have no list.
fn name_disagreements(cx: &mut Ctx, index: &IndexReader<'_>, n_series: usize) {
    let Ok(entries) = index.postings_table() else {
        return;
    };
    let path = cx.dir.join("index");
    let table = series_table(index, n_series);
    // Expected number of series per (name, value), from the series entries.
    let mut expected: HashMap<(&[u8], &[u8]), u64> = HashMap::new();
    for &(n, v) in &table.labels {
        if let (Some(n), Some(v)) = (index.symbols.lookup(n), index.symbols.lookup(v)) {
            *expected.entry((n, v)).or_default() += 1;
        }
    }
    let mut seen_pairs = 0usize;
    for pe in &entries {
        // Damaged lists were reported by the fast path.
        let Ok(list) = index.postings(pe.offset) else {
            continue;
        };
        let reported = table.check_list(cx, &path, index, pe, &list);
        if pe.name.is_empty() && pe.value.is_empty() {
            if list.len() != table.ids.len() && !reported {
                let message = format!(
                    "the all-postings list has {} series, the series section {}",
                    list.len(),
                    table.ids.len()
                );
                let code = FindingCode::IndexPostingsAllMismatch;
                cx.push(Finding::new(Severity::Error, code, &path, message).at(pe.offset));
            }
        } else {
            seen_pairs += 1;
            let want = expected.get(&(pe.name, pe.value)).copied().unwrap_or(0);
            if list.len() as u64 != want && !reported {
                let message = format!(
                    "postings list {} has {} series, but {want} series carry that label",
                    list_key(pe),
                    list.len()
                );
                let code = FindingCode::IndexPostingsMismatch;
                cx.push(Finding::new(Severity::Error, code, &path, message).at(pe.offset));
            }
        }
    }
    if seen_pairs < expected.len() {
        cx.push(
            Finding::new(
                Severity::Error,
                FindingCode::IndexPostingsMissing,
                &path,
                format!(
                    "{} label pairs of the series have no postings list",
                    expected.len() - seen_pairs
                ),
            )
            .at(index.toc.postings_table),
        );
    }
}

/// A postings list's label pair as findings name it: `name="value"`.
fn list_key(pe: &PostingsEntry<'_>) -> String {
    format!(
        "{}={:?}",
        String::from_utf8_lossy(pe.name),
        String::from_utf8_lossy(pe.value)
    )
}

impl SeriesTable {
    /// The label refs of the series of ordinal `ord`.
    fn labels_of(&self, ord: usize) -> &[(u32, u32)] {
        let s = self.label_start.get(ord).copied().unwrap_or(0) as usize;
        let e = self
            .label_start
            .get(ord + 1)
            .map_or(self.labels.len(), |&x| x as usize);
        self.labels.get(s..e).unwrap_or(&[])
    }

    /// The first thing wrong with one list's refs, if any (a finding):
    /// not strictly ascending, naming no series entry, or naming a series
    /// without the list's label. True if something was reported.
    fn check_list(
        &self,
        cx: &mut Ctx,
        path: &Path,
        index: &IndexReader<'_>,
        pe: &PostingsEntry<'_>,
        list: &Postings<'_>,
    ) -> bool {
        let all = pe.name.is_empty() && pe.value.is_empty();
        let mut prev: Option<u32> = None;
        for r in list.iter() {
            let code = if prev.is_some_and(|p| r <= p) {
                FindingCode::IndexPostingsUnsorted
            } else {
                match self.ids.binary_search(&SeriesRef::from(r)) {
                    Err(_) => FindingCode::IndexPostingsDangling,
                    Ok(ord) if !all && !self.has_pair(index, ord, pe) => {
                        FindingCode::IndexPostingsMismatch
                    }
                    Ok(_) => {
                        prev = Some(r);
                        continue;
                    }
                }
            };
            let key = list_key(pe);
            let message = match code {
                FindingCode::IndexPostingsUnsorted => {
                    format!("postings list {key} is not strictly ascending at series ref {r}")
                }
                FindingCode::IndexPostingsDangling => {
                    format!("postings list {key} names series ref {r}, which is not a series entry")
                }
                _ => format!(
                    "postings list {key} names series ref {r}, which does not have that label"
                ),
            };
            cx.push(Finding::new(Severity::Error, code, path, message).at(pe.offset));
            return true;
        }
        false
    }

    /// True if series `ord` carries the label pair of `pe`.
    fn has_pair(&self, index: &IndexReader<'_>, ord: usize, pe: &PostingsEntry<'_>) -> bool {
        self.labels_of(ord).iter().any(|&(n, v)| {
            index.symbols.lookup(n) == Some(pe.name) && index.symbols.lookup(v) == Some(pe.value)
        })
    }
}

/// Re-walks the series section collecting label refs (slow path only).
fn series_table(index: &IndexReader<'_>, n: usize) -> SeriesTable {
    let mut t = SeriesTable {
        ids: Vec::with_capacity(n),
        label_start: Vec::with_capacity(n),
        labels: Vec::new(),
    };
    let mut it = index.series();
    let mut e = SeriesEntry::default();
    while let Some(r) = it.next_into(&mut e) {
        if r.is_ok() {
            t.ids.push(e.id);
            t.label_start.push(t.labels.len() as u32);
            t.labels.extend_from_slice(&e.labels);
        }
    }
    t
}

pub(super) fn check_label_indices(cx: &mut Ctx, index: &IndexReader<'_>) {
    let path = cx.dir.join("index");
    let table = match index.label_offset_table() {
        Ok(t) => t,
        Err(e) => {
            cx.decode(FileKind::Index, &path, &e);
            return;
        }
    };
    for le in table {
        match crate::format::index::postings::parse_label_index(index.bytes(), le.offset) {
            Ok(li) => {
                if let Some(r) = li.refs.iter().find(|&&r| index.symbols.lookup(r).is_none()) {
                    cx.push(
                        Finding::new(
                            Severity::Error,
                            FindingCode::IndexLabelIndexBadSymbol,
                            &path,
                            format!(
                                "label index for {:?} names symbol {r}, which does not exist",
                                String::from_utf8_lossy(le.name)
                            ),
                        )
                        .at(le.offset),
                    );
                }
            }
            Err(e) => {
                cx.decode(FileKind::Index, &path, &e);
            }
        }
    }
}
