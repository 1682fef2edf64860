//! Record decompression (snappy 0x08, zstd 0x10) with an expansion cap
//! against decompression bombs.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The most a record of `stored` compressed bytes may expand to.
pub(super) fn expansion_limit(stored: usize) -> usize {
    stored
        .saturating_mul(MAX_EXPANSION)
        .saturating_add(1 << 20)
        .min(MAX_DECOMPRESSED_RECORD)
}

/// Snappy-decompresses `input` into `out[..n]`, returning `n`. `out.len()` is
/// kept as a high-water mark so the buffer is not re-zeroed for every record.
pub(super) fn snappy_into(
    dec: &mut snap::raw::Decoder,
    input: &[u8],
    out: &mut Vec<u8>,
) -> Result<usize, String> {
    let n = snap::raw::decompress_len(input).map_err(|e| e.to_string())?;
    if n > expansion_limit(input.len()).min(input.len().saturating_mul(32).saturating_add(64)) {
        return Err(format!(
            "a snappy header claiming {n} bytes from {} compressed bytes",
            input.len()
        ));
    }
    if out.len() < n {
        out.resize(n, 0);
    }
    let dst = out.get_mut(..n).unwrap_or(&mut []);
    dec.decompress(input, dst).map_err(|e| e.to_string())
}

/// Zstd-decompresses `input` (one or more frames) into `out`, returning the
/// length. Refuses output beyond [`expansion_limit`].
pub(super) fn zstd_into(
    dec: &mut Option<zstd::bulk::Decompressor<'static>>,
    input: &[u8],
    out: &mut Vec<u8>,
) -> Result<usize, String> {
    let limit = expansion_limit(input.len());
    // Fast path: a single frame that states its size (klauspost's EncodeAll does).
    if let Ok(Some(size)) = zstd::zstd_safe::get_frame_content_size(input)
        && let Ok(size) = usize::try_from(size)
        && size <= limit
    {
        if dec.is_none() {
            *dec = zstd::bulk::Decompressor::new().ok();
        }
        if let Some(d) = dec.as_mut() {
            out.clear();
            out.reserve(size);
            if let Ok(n) = d.decompress_to_buffer(input, out)
                && n == size
            {
                return Ok(n);
            }
        }
    }
    // General path: stream with a cap.
    out.clear();
    let decoder = zstd::stream::read::Decoder::with_buffer(input).map_err(|e| e.to_string())?;
    let mut limited = decoder.take(limit as u64 + 1);
    limited.read_to_end(out).map_err(|e| e.to_string())?;
    if out.len() > limit {
        return Err(format!(
            "a record decompressing to more than {limit} bytes from {} bytes",
            input.len()
        ));
    }
    Ok(out.len())
}
