//! Exemplars (4), MmapMarkers (5), Metadata (6) and MinValidTime (14):
//! records promsnap reports but does not need to replay samples.

#[allow(clippy::wildcard_imports)]
use super::*;

/// One exemplar of an Exemplars record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefExemplar<'a> {
    /// Head series reference.
    pub series_ref: SeriesRef,
    /// Timestamp (ms).
    pub t: i64,
    /// Value.
    pub v: f64,
    /// Exemplar labels.
    pub labels: Labels<'a>,
}

/// Calls `f` for each exemplar of an Exemplars record (type 4). Returns the
/// number of exemplars.
pub fn for_each_exemplar<'a>(
    rec: &'a [u8],
    base_offset: u64,
    mut f: impl FnMut(RefExemplar<'a>),
) -> Result<usize> {
    let (_, mut d) = body(
        rec,
        base_offset,
        &[RecordType::Exemplars],
        "exemplars record (type 4)",
    )?;
    if d.is_empty() {
        return Ok(0);
    }
    let base_ref = d.be_u64()?;
    let base_t = d.be_i64()?;
    let mut n = 0;
    while !d.is_empty() {
        let dref = d.varint()?;
        let dt = d.varint()?;
        let v = d.be_f64()?;
        let labels = Labels::read(&mut d)?;
        f(RefExemplar {
            series_ref: SeriesRef(base_ref.wrapping_add(dref as u64)),
            t: base_t.wrapping_add(dt),
            v,
            labels,
        });
        n += 1;
    }
    Ok(n)
}

/// Calls `f(series_ref, chunk_disk_mapper_ref)` for each marker of an
/// MmapMarkers record (type 5). Returns the number of markers.
pub fn for_each_mmap_marker(
    rec: &[u8],
    base_offset: u64,
    mut f: impl FnMut(SeriesRef, ChunkRef),
) -> Result<usize> {
    let (_, mut d) = body(
        rec,
        base_offset,
        &[RecordType::MmapMarkers],
        "mmap markers record (type 5)",
    )?;
    let mut n = 0;
    while !d.is_empty() {
        let r = SeriesRef(d.be_u64()?);
        let c = ChunkRef(d.be_u64()?);
        f(r, c);
        n += 1;
    }
    Ok(n)
}

/// One entry of a Metadata record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefMetadata<'a> {
    /// Head series reference.
    pub series_ref: SeriesRef,
    /// Metric type: 0 unknown, 1 counter, 2 gauge, 3 histogram,
    /// 4 gauge histogram, 5 summary, 6 info, 7 stateset.
    pub metric_type: u8,
    /// The `UNIT` field (empty if absent).
    pub unit: &'a [u8],
    /// The `HELP` field (empty if absent).
    pub help: &'a [u8],
}

/// Calls `f` for each entry of a Metadata record (type 6); fields other than
/// `UNIT` and `HELP` are skipped. Returns the number of entries.
pub fn for_each_metadata<'a>(
    rec: &'a [u8],
    base_offset: u64,
    mut f: impl FnMut(RefMetadata<'a>),
) -> Result<usize> {
    let (_, mut d) = body(
        rec,
        base_offset,
        &[RecordType::Metadata],
        "metadata record (type 6)",
    )?;
    let mut n = 0;
    while !d.is_empty() {
        let series_ref = SeriesRef(d.uvarint()?);
        let metric_type = d.u8()?;
        let fields = d.uvarint()?;
        let (mut unit, mut help): (&[u8], &[u8]) = (&[], &[]);
        for _ in 0..fields {
            let name = d.uvarint_bytes()?;
            let value = d.uvarint_bytes()?;
            match name {
                b"UNIT" => unit = value,
                b"HELP" => help = value,
                _ => {}
            }
        }
        f(RefMetadata {
            series_ref,
            metric_type,
            unit,
            help,
        });
        n += 1;
    }
    Ok(n)
}

/// The mint of a MinValidTime record (type 14).
pub fn min_valid_time(rec: &[u8], base_offset: u64) -> Result<i64> {
    let (_, mut d) = body(
        rec,
        base_offset,
        &[RecordType::MinValidTime],
        "min valid time record (type 14)",
    )?;
    let t = d.be_i64()?;
    if !d.is_empty() {
        return Err(DecodeError::RecordTrailingBytes {
            offset: d.offset(),
            found: d.remaining() as u64,
        });
    }
    Ok(t)
}
