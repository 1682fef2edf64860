//! CRC-32C (Castagnoli), as every Prometheus TSDB file uses.
//!
//! Long inputs go to the `crc32c` crate (three interleaved streams). Short
//! ones — chunk records, series entries, postings lists: tens of bytes each,
//! millions per block — are hashed with the SSE4.2 instruction directly,
//! eight bytes at a time from unaligned loads: the crate's per-call
//! alignment split costs more than the hashing at these sizes (callgrind on
//! bench-1m's verify: ~110 instructions per call before, ~30 after).

/// Inputs shorter than this take the short path.
const SHORT: usize = 256;

/// CRC-32C of `bytes`.
#[inline]
pub fn crc32c(bytes: &[u8]) -> u32 {
    crc32c_append(0, bytes)
}

/// CRC-32C of the bytes already hashed into `crc` followed by `bytes`.
#[inline]
pub fn crc32c_append(crc: u32, bytes: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if bytes.len() < SHORT && std::arch::is_x86_feature_detected!("sse4.2") {
        // SAFETY: the CPU has SSE4.2, checked just above; `short_sse42`
        // reads only through safe slice APIs.
        return unsafe { short_sse42(crc, bytes) };
    }
    crc32c::crc32c_append(crc, bytes)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
fn short_sse42(crc: u32, bytes: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_crc32_u8, _mm_crc32_u64};
    let (words, tail) = bytes.as_chunks::<8>();
    let mut c = u64::from(!crc);
    for w in words {
        c = _mm_crc32_u64(c, u64::from_le_bytes(*w));
    }
    let mut c = c as u32;
    for &b in tail {
        c = _mm_crc32_u8(c, b);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_paths_agree_with_the_crate() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 131 % 251) as u8).collect();
        for len in 0..600 {
            for start in [0usize, 1, 3, 7] {
                let b = &data[start..start + len];
                assert_eq!(crc32c(b), crc32c::crc32c(b), "len {len} start {start}");
                assert_eq!(
                    crc32c_append(0x1234_5678, b),
                    crc32c::crc32c_append(0x1234_5678, b)
                );
            }
        }
        // The check value of CRC-32C.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }
}
