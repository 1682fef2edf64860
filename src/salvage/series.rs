//! Walking a damaged index's series section: entries whose CRC fails,
//! labels recovered from the postings lists, and the walk resumed at the
//! series ids the all-postings list names when the framing is lost.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::fileutil::FileBytes;
use crate::format::index::series::{SeriesOffsets, decode_series_into};
use crate::format::index::{ChunkMeta, IndexReader, SeriesEntry};
use crate::format::{DecodeError, SeriesRef};
use crate::format::{chunkenc, chunks};

/// Series id → its labels as the postings lists name them.
pub(super) type Recovered<'a> = HashMap<SeriesRef, Vec<(&'a [u8], &'a [u8])>>;

/// True when every label reference of `e` resolves to a trusted symbol.
pub(super) fn labels_trusted(
    index: &IndexReader<'_>,
    trusted: &Option<HashSet<&[u8]>>,
    e: &SeriesEntry,
) -> bool {
    e.labels.iter().all(
        |&(a, b)| match (index.symbols.lookup(a), index.symbols.lookup(b)) {
            (Some(x), Some(y)) => trusted
                .as_ref()
                .is_none_or(|t| t.contains(x) && t.contains(y)),
            _ => false,
        },
    )
}

/// Fills, for each series id in `need`, its labels from the postings lists
/// whose CRCs hold (the postings offset table is sorted by name, so the
/// labels come out sorted).
pub(super) fn recover_labels<'a>(index: &IndexReader<'a>, need: &mut Recovered<'a>) {
    let Ok(table) = index.postings_table_iter() else {
        return;
    };
    for pe in table {
        let Ok(pe) = pe else { break };
        if pe.name.is_empty() {
            continue;
        }
        let Ok(list) = index.postings(pe.offset) else {
            continue;
        };
        for id in list.iter() {
            if let Some(v) = need.get_mut(&SeriesRef::from(id))
                && v.last().is_none_or(|l| l.0 != pe.name)
            {
                v.push((pe.name, pe.value));
            }
        }
    }
}

/// The time range and sample count of chunks named by a series entry,
/// decoded from the chunks themselves where their CRCs hold; `None`s when
/// some chunk cannot be read.
pub(super) fn damaged_extent(
    segs: &[(PathBuf, FileBytes)],
    metas: &[ChunkMeta],
) -> (Option<i64>, Option<i64>, Option<u64>) {
    let (mut lo, mut hi, mut n) = (None::<i64>, None::<i64>, 0u64);
    for c in metas {
        let Some((_, bytes)) = segs.get(c.segment() as usize) else {
            return (None, None, None);
        };
        let Ok(rec) = chunks::read_chunk(bytes, u64::from(c.offset())) else {
            return (None, None, None);
        };
        if rec.check_crc().is_err() {
            return (None, None, None);
        }
        let Ok(it) =
            chunkenc::samples_for_byte(rec.encoding, rec.offset, rec.data, rec.data_offset)
        else {
            return (None, None, None);
        };
        for s in it {
            let Ok(s) = s else {
                return (None, None, None);
            };
            n += 1;
            lo = Some(lo.map_or(s.t, |x| x.min(s.t)));
            hi = Some(hi.map_or(s.t, |x| x.max(s.t)));
        }
    }
    (lo, hi.map(|h| h.saturating_add(1)), Some(n))
}

/// Walks the series section entry by entry: `Err((Some(start), e))` for a
/// damaged entry whose length is readable (the walk goes on), `Err((None,
/// e))` when the framing is lost. Then the walk goes on with the series ids
/// the all-postings list names after that point (ids are entry offsets, in
/// label order), when that list is readable.
pub(super) struct Walker<'a> {
    pub(super) index: IndexReader<'a>,
    pub(super) offs: SeriesOffsets<'a>,
    /// After the framing is lost: the ids still to decode, descending.
    pub(super) ids: Option<Vec<SeriesRef>>,
    /// True when the framing was lost in padding and the all-postings list
    /// names the very next aligned entry: then no entry can be missing.
    pub(super) lost_nothing: bool,
}

impl<'a> Walker<'a> {
    pub(super) fn new(index: &IndexReader<'a>) -> Self {
        let (a, b) = index.series_region();
        Walker {
            index: index.clone(),
            offs: SeriesOffsets::new(index.bytes(), a, b, index.version),
            ids: None,
            lost_nothing: false,
        }
    }

    pub(super) fn lost_at(&mut self, at: u64) {
        let mut ids: Vec<SeriesRef> = Vec::new();
        if let Ok(table) = self.index.postings_table_iter() {
            for pe in table {
                let Ok(pe) = pe else { break };
                if pe.name.is_empty() && pe.value.is_empty() {
                    if let Ok(list) = self.index.postings(pe.offset) {
                        ids.extend(
                            list.iter()
                                .map(SeriesRef::from)
                                .filter(|&id| self.index.series_offset(id) > at),
                        );
                    }
                    break;
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        self.lost_nothing = self.index.version >= 2
            && !at.is_multiple_of(16)
            && ids
                .first()
                .is_some_and(|&id| self.index.series_offset(id) == at.div_ceil(16) * 16);
        ids.reverse();
        self.ids = Some(ids);
    }

    #[allow(clippy::type_complexity)]
    pub(super) fn next(
        &mut self,
        out: &mut SeriesEntry,
    ) -> Option<std::result::Result<(), (Option<u64>, DecodeError)>> {
        let file = self.index.bytes();
        let version = self.index.version;
        if let Some(ids) = &mut self.ids {
            let id = ids.pop()?;
            let off = self.index.series_offset(id);
            return Some(match decode_series_into(file, off, version, out) {
                Ok(()) => Ok(()),
                Err(e) => Err((Some(off), e)),
            });
        }
        let off = match self.offs.next_offset()? {
            Ok(o) => o,
            Err(e) => {
                self.lost_at(e.offset());
                return Some(Err((None, e)));
            }
        };
        match decode_series_into(file, off, version, out) {
            Ok(()) => {
                self.offs.advance(out.encoded_len);
                Some(Ok(()))
            }
            Err(e) => match self.offs.entry_len_at(off) {
                Ok(len) if off.saturating_add(len) <= file.len() as u64 => {
                    self.offs.advance(len);
                    Some(Err((Some(off), e)))
                }
                _ => {
                    self.offs.advance(u64::MAX / 2);
                    self.lost_at(off);
                    Some(Err((None, e)))
                }
            },
        }
    }
}
