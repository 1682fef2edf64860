//! Bucket boundaries of native histograms, bit-for-bit as Prometheus computes
//! them (`getBound` in `model/histogram/generic.go`).
//!
//! * Exponential schema `s <= 0`: the upper bound of bucket `i` is
//!   `2^(i * 2^-s)`, computed as an exact power of two.
//! * Exponential schema `1..=8`: `frac(i mod 2^s) * 2^(floor(i / 2^s) + 1)`,
//!   where `frac(j)` comes from a fixed table of values in `[0.5, 1)`.
//!   Prometheus's table is **not** the correctly rounded `2^(j/2^s) / 2`: 341
//!   of its 510 entries are 1 to 5 ulps off (mostly low). Output must equal
//!   Prometheus's, so [`FRACTIONS`] holds those exact f64 values as bit
//!   patterns; the tests check that every entry is within 8 ulps of the true
//!   value and that they ascend.
//! * The last finite bucket (upper bound would be 2^1024) gets `f64::MAX`.
//! * Custom-bucket schema `-53`: `custom_values[i]`, with `-1` meaning -Inf
//!   and `len` meaning +Inf.
//!
//! Schemas 9..=52 are reserved; Prometheus never computes bounds for them (it
//! first reduces such histograms to schema 8, and so does this crate's
//! decoder). Should a hand-made histogram carry one, its bounds here use an
//! `exp2` approximation that is not guaranteed to be bit-exact.

/// The custom-buckets schema (NHCB).
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// `frac(j)` for schema 1 (2 entries), then schema 2 (4), ..., schema 8 (256):
/// schema `s` starts at index `2^s - 2`.
#[rustfmt::skip]
const FRACTIONS: [u64; 510] = [
    0x3fe0000000000000, 0x3fe6a09e667f3bcc, 0x3fe0000000000000, 0x3fe306fe0a31b715,
    0x3fe6a09e667f3bcc, 0x3feae89f995ad3ac, 0x3fe0000000000000, 0x3fe172b83c7d517b,
    0x3fe306fe0a31b715, 0x3fe4bfdad5362a27, 0x3fe6a09e667f3bcc, 0x3fe8ace5422aa0db,
    0x3feae89f995ad3ac, 0x3fed5818dcfba486, 0x3fe0000000000000, 0x3fe0b5586cf9890f,
    0x3fe172b83c7d517b, 0x3fe2387a6e756238, 0x3fe306fe0a31b715, 0x3fe3dea64c123422,
    0x3fe4bfdad5362a27, 0x3fe5ab07dd485429, 0x3fe6a09e667f3bcc, 0x3fe7a11473eb0186,
    0x3fe8ace5422aa0db, 0x3fe9c49182a3f08f, 0x3feae89f995ad3ac, 0x3fec199bdd85529a,
    0x3fed5818dcfba486, 0x3feea4afa2a490d8, 0x3fe0000000000000, 0x3fe059b0d3158574,
    0x3fe0b5586cf9890f, 0x3fe11301d0125b50, 0x3fe172b83c7d517b, 0x3fe1d4873168b9aa,
    0x3fe2387a6e756238, 0x3fe29e9df51fdee1, 0x3fe306fe0a31b715, 0x3fe371a7373aa9ca,
    0x3fe3dea64c123422, 0x3fe44e086061892d, 0x3fe4bfdad5362a27, 0x3fe5342b569d4f81,
    0x3fe5ab07dd485429, 0x3fe6247eb03a5584, 0x3fe6a09e667f3bcc, 0x3fe71f75e8ec5f73,
    0x3fe7a11473eb0186, 0x3fe82589994cce11, 0x3fe8ace5422aa0db, 0x3fe93737b0cdc5e4,
    0x3fe9c49182a3f08f, 0x3fea5503b23e255b, 0x3feae89f995ad3ac, 0x3feb7f76f2fb5e45,
    0x3fec199bdd85529a, 0x3fecb720dcef9066, 0x3fed5818dcfba486, 0x3fedfc97337b9b5d,
    0x3feea4afa2a490d8, 0x3fef50765b6e453e, 0x3fe0000000000000, 0x3fe02c9a3e778061,
    0x3fe059b0d3158574, 0x3fe0874518759bc8, 0x3fe0b5586cf9890f, 0x3fe0e3ec32d3d1a2,
    0x3fe11301d0125b50, 0x3fe1429aaea92ddf, 0x3fe172b83c7d517b, 0x3fe1a35beb6fcb75,
    0x3fe1d4873168b9aa, 0x3fe2063b88628cd6, 0x3fe2387a6e756238, 0x3fe26b4565e27cdd,
    0x3fe29e9df51fdee1, 0x3fe2d285a6e4030b, 0x3fe306fe0a31b715, 0x3fe33c08b26416ff,
    0x3fe371a7373aa9ca, 0x3fe3a7db34e59ff6, 0x3fe3dea64c123422, 0x3fe4160a21f72e2a,
    0x3fe44e086061892d, 0x3fe486a2b5c13cd0, 0x3fe4bfdad5362a27, 0x3fe4f9b2769d2ca7,
    0x3fe5342b569d4f81, 0x3fe56f4736b527da, 0x3fe5ab07dd485429, 0x3fe5e76f15ad2148,
    0x3fe6247eb03a5584, 0x3fe6623882552224, 0x3fe6a09e667f3bcc, 0x3fe6dfb23c651a2e,
    0x3fe71f75e8ec5f73, 0x3fe75feb564267c8, 0x3fe7a11473eb0186, 0x3fe7e2f336cf4e61,
    0x3fe82589994cce11, 0x3fe868d99b4492eb, 0x3fe8ace5422aa0db, 0x3fe8f1ae99157736,
    0x3fe93737b0cdc5e4, 0x3fe97d829fde4e4f, 0x3fe9c49182a3f08f, 0x3fea0c667b5de564,
    0x3fea5503b23e255b, 0x3fea9e6b5579fdbe, 0x3feae89f995ad3ac, 0x3feb33a2b84f15fa,
    0x3feb7f76f2fb5e45, 0x3febcc1e904bc1d0, 0x3fec199bdd85529a, 0x3fec67f12e57d149,
    0x3fecb720dcef9066, 0x3fed072d4a078979, 0x3fed5818dcfba486, 0x3feda9e603db3284,
    0x3fedfc97337b9b5d, 0x3fee502ee78b3ff5, 0x3feea4afa2a490d8, 0x3feefa1bee615a26,
    0x3fef50765b6e453e, 0x3fefa7c1819e90d6, 0x3fe0000000000000, 0x3fe0163da9fb3335,
    0x3fe02c9a3e778061, 0x3fe04315e86e7f84, 0x3fe059b0d3158574, 0x3fe0706b29ddf6dd,
    0x3fe0874518759bc8, 0x3fe09e3ecac6f383, 0x3fe0b5586cf9890f, 0x3fe0cc922b7247f6,
    0x3fe0e3ec32d3d1a2, 0x3fe0fb66affed31a, 0x3fe11301d0125b50, 0x3fe12abdc06c31cb,
    0x3fe1429aaea92ddf, 0x3fe15a98c8a58e50, 0x3fe172b83c7d517b, 0x3fe18af9388c8de9,
    0x3fe1a35beb6fcb75, 0x3fe1bbe084045cd3, 0x3fe1d4873168b9aa, 0x3fe1ed5022fcd91c,
    0x3fe2063b88628cd6, 0x3fe21f49917ddc95, 0x3fe2387a6e756238, 0x3fe251ce4fb2a63e,
    0x3fe26b4565e27cdd, 0x3fe284dfe1f56380, 0x3fe29e9df51fdee1, 0x3fe2b87fd0dad98f,
    0x3fe2d285a6e4030b, 0x3fe2ecafa93e2f55, 0x3fe306fe0a31b715, 0x3fe32170fc4cd831,
    0x3fe33c08b26416ff, 0x3fe356c55f929ff0, 0x3fe371a7373aa9ca, 0x3fe38cae6d05d864,
    0x3fe3a7db34e59ff6, 0x3fe3c32dc313a8e3, 0x3fe3dea64c123422, 0x3fe3fa4504ac801b,
    0x3fe4160a21f72e2a, 0x3fe431f5d950a896, 0x3fe44e086061892d, 0x3fe46a41ed1d0057,
    0x3fe486a2b5c13cd0, 0x3fe4a32af0d7d3de, 0x3fe4bfdad5362a27, 0x3fe4dcb299fddd0d,
    0x3fe4f9b2769d2ca7, 0x3fe516daa2cf6642, 0x3fe5342b569d4f81, 0x3fe551a4ca5d920d,
    0x3fe56f4736b527da, 0x3fe58d12d497c7fc, 0x3fe5ab07dd485429, 0x3fe5c9268a5946b6,
    0x3fe5e76f15ad2148, 0x3fe605e1b976dc08, 0x3fe6247eb03a5584, 0x3fe6434634ccc31e,
    0x3fe6623882552224, 0x3fe68155d44ca972, 0x3fe6a09e667f3bcc, 0x3fe6c012750bdabe,
    0x3fe6dfb23c651a2e, 0x3fe6ff7df9519482, 0x3fe71f75e8ec5f73, 0x3fe73f9a48a58172,
    0x3fe75feb564267c8, 0x3fe780694fde5d3e, 0x3fe7a11473eb0186, 0x3fe7c1ed0130c131,
    0x3fe7e2f336cf4e61, 0x3fe80427543e1a10, 0x3fe82589994cce11, 0x3fe8471a4623c7ab,
    0x3fe868d99b4492eb, 0x3fe88ac7d98a6697, 0x3fe8ace5422aa0db, 0x3fe8cf3216b5448b,
    0x3fe8f1ae99157736, 0x3fe9145b0b91ffc5, 0x3fe93737b0cdc5e4, 0x3fe95a44cbc8520d,
    0x3fe97d829fde4e4f, 0x3fe9a0f170ca07b8, 0x3fe9c49182a3f08f, 0x3fe9e86319e32321,
    0x3fea0c667b5de564, 0x3fea309bec4a2d32, 0x3fea5503b23e255b, 0x3fea799e1330b356,
    0x3fea9e6b5579fdbe, 0x3feac36bbfd3f378, 0x3feae89f995ad3ac, 0x3feb0e07298db663,
    0x3feb33a2b84f15fa, 0x3feb59728de55938, 0x3feb7f76f2fb5e45, 0x3feba5b030a10647,
    0x3febcc1e904bc1d0, 0x3febf2c25bd71e06, 0x3fec199bdd85529a, 0x3fec40ab5fffd078,
    0x3fec67f12e57d149, 0x3fec8f6d9406e7b2, 0x3fecb720dcef9066, 0x3fecdf0b555dc3f6,
    0x3fed072d4a078979, 0x3fed2f87080d89ee, 0x3fed5818dcfba486, 0x3fed80e316c98396,
    0x3feda9e603db3284, 0x3fedd321f301b45e, 0x3fedfc97337b9b5d, 0x3fee264614f5a126,
    0x3fee502ee78b3ff5, 0x3fee7a51fbc74c81, 0x3feea4afa2a490d8, 0x3feecf482d8e67ee,
    0x3feefa1bee615a26, 0x3fef252b376bba95, 0x3fef50765b6e453e, 0x3fef7bfdad9cbe10,
    0x3fefa7c1819e90d6, 0x3fefd3c22b8f71ee, 0x3fe0000000000000, 0x3fe00b1afa5abcbf,
    0x3fe0163da9fb3335, 0x3fe02168143b0281, 0x3fe02c9a3e778061, 0x3fe037d42e11bbcc,
    0x3fe04315e86e7f84, 0x3fe04e5f72f654b1, 0x3fe059b0d3158574, 0x3fe0650a0e3c1f89,
    0x3fe0706b29ddf6dd, 0x3fe07bd42b72a836, 0x3fe0874518759bc8, 0x3fe092bdf66607e0,
    0x3fe09e3ecac6f383, 0x3fe0a9c79b1f3919, 0x3fe0b5586cf9890f, 0x3fe0c0f145e46c85,
    0x3fe0cc922b7247f6, 0x3fe0d83b23395dea, 0x3fe0e3ec32d3d1a2, 0x3fe0efa55fdfa9c5,
    0x3fe0fb66affed31a, 0x3fe1073028d7233d, 0x3fe11301d0125b50, 0x3fe11edbab5e2ab5,
    0x3fe12abdc06c31cb, 0x3fe136a814f204aa, 0x3fe1429aaea92ddf, 0x3fe14e95934f312d,
    0x3fe15a98c8a58e50, 0x3fe166a45471c3c1, 0x3fe172b83c7d517b, 0x3fe17ed48695bbc0,
    0x3fe18af9388c8de9, 0x3fe1972658375d2f, 0x3fe1a35beb6fcb75, 0x3fe1af99f8138a1c,
    0x3fe1bbe084045cd3, 0x3fe1c82f95281c6b, 0x3fe1d4873168b9aa, 0x3fe1e0e75eb44026,
    0x3fe1ed5022fcd91c, 0x3fe1f9c18438ce4c, 0x3fe2063b88628cd6, 0x3fe212be3578a819,
    0x3fe21f49917ddc95, 0x3fe22bdda27912d0, 0x3fe2387a6e756238, 0x3fe2451ffb82140a,
    0x3fe251ce4fb2a63e, 0x3fe25e85711ece74, 0x3fe26b4565e27cdd, 0x3fe2780e341ddf2a,
    0x3fe284dfe1f56380, 0x3fe291ba7591bb6f, 0x3fe29e9df51fdee1, 0x3fe2ab8a66d10f13,
    0x3fe2b87fd0dad98f, 0x3fe2c57e39771b2e, 0x3fe2d285a6e4030b, 0x3fe2df961f641589,
    0x3fe2ecafa93e2f55, 0x3fe2f9d24abd886a, 0x3fe306fe0a31b715, 0x3fe31432edeeb2fd,
    0x3fe32170fc4cd831, 0x3fe32eb83ba8ea32, 0x3fe33c08b26416ff, 0x3fe3496266e3fa2d,
    0x3fe356c55f929ff0, 0x3fe36431a2de883a, 0x3fe371a7373aa9ca, 0x3fe37f26231e7549,
    0x3fe38cae6d05d864, 0x3fe39a401b7140ed, 0x3fe3a7db34e59ff6, 0x3fe3b57fbfec6cf4,
    0x3fe3c32dc313a8e3, 0x3fe3d0e544ede172, 0x3fe3dea64c123422, 0x3fe3ec70df1c5175,
    0x3fe3fa4504ac801b, 0x3fe40822c367a024, 0x3fe4160a21f72e2a, 0x3fe423fb2709468a,
    0x3fe431f5d950a896, 0x3fe43ffa3f84b9d4, 0x3fe44e086061892d, 0x3fe45c2042a7d232,
    0x3fe46a41ed1d0057, 0x3fe4786d668b3236, 0x3fe486a2b5c13cd0, 0x3fe494e1e192aed2,
    0x3fe4a32af0d7d3de, 0x3fe4b17dea6db7d7, 0x3fe4bfdad5362a27, 0x3fe4ce41b817c114,
    0x3fe4dcb299fddd0d, 0x3fe4eb2d81d8abfe, 0x3fe4f9b2769d2ca7, 0x3fe508417f4531ef,
    0x3fe516daa2cf6642, 0x3fe5257de83f4eef, 0x3fe5342b569d4f81, 0x3fe542e2f4f6ad27,
    0x3fe551a4ca5d920d, 0x3fe56070dde910d0, 0x3fe56f4736b527da, 0x3fe57e27dbe2c4cf,
    0x3fe58d12d497c7fc, 0x3fe59c0827ff07cb, 0x3fe5ab07dd485429, 0x3fe5ba11fba87a02,
    0x3fe5c9268a5946b6, 0x3fe5d84590998b92, 0x3fe5e76f15ad2148, 0x3fe5f6a320dceb71,
    0x3fe605e1b976dc08, 0x3fe6152ae6cdf6f4, 0x3fe6247eb03a5584, 0x3fe633dd1d1929fd,
    0x3fe6434634ccc31e, 0x3fe652b9febc8fb5, 0x3fe6623882552224, 0x3fe671c1c70833f5,
    0x3fe68155d44ca972, 0x3fe690f4b19e9537, 0x3fe6a09e667f3bcc, 0x3fe6b052fa75173e,
    0x3fe6c012750bdabe, 0x3fe6cfdcddd47645, 0x3fe6dfb23c651a2e, 0x3fe6ef9298593ae4,
    0x3fe6ff7df9519482, 0x3fe70f7466f42e85, 0x3fe71f75e8ec5f73, 0x3fe72f8286ead089,
    0x3fe73f9a48a58172, 0x3fe74fbd35d7cbfc, 0x3fe75feb564267c8, 0x3fe77024b1ab6e09,
    0x3fe780694fde5d3e, 0x3fe790b938ac1cf5, 0x3fe7a11473eb0186, 0x3fe7b17b0976cfda,
    0x3fe7c1ed0130c131, 0x3fe7d26a62ff86ef, 0x3fe7e2f336cf4e61, 0x3fe7f3878491c490,
    0x3fe80427543e1a10, 0x3fe814d2add106d8, 0x3fe82589994cce11, 0x3fe8364c1eb941f6,
    0x3fe8471a4623c7ab, 0x3fe857f4179f5b1f, 0x3fe868d99b4492eb, 0x3fe879cad931a435,
    0x3fe88ac7d98a6697, 0x3fe89bd0a478580d, 0x3fe8ace5422aa0db, 0x3fe8be05bad61778,
    0x3fe8cf3216b5448b, 0x3fe8e06a5e0866d8, 0x3fe8f1ae99157736, 0x3fe902fed0282c8a,
    0x3fe9145b0b91ffc5, 0x3fe925c353aa2fe2, 0x3fe93737b0cdc5e4, 0x3fe948b82b5f98e4,
    0x3fe95a44cbc8520d, 0x3fe96bdd9a7670b1, 0x3fe97d829fde4e4f, 0x3fe98f33e47a22a2,
    0x3fe9a0f170ca07b8, 0x3fe9b2bb4d53fe0b, 0x3fe9c49182a3f08f, 0x3fe9d674194bb8d4,
    0x3fe9e86319e32321, 0x3fe9fa5e8d07f29c, 0x3fea0c667b5de564, 0x3fea1e7aed8eb8bb,
    0x3fea309bec4a2d32, 0x3fea42c980460ad7, 0x3fea5503b23e255b, 0x3fea674a8af46051,
    0x3fea799e1330b356, 0x3fea8bfe53c12e57, 0x3fea9e6b5579fdbe, 0x3feab0e521356eb9,
    0x3feac36bbfd3f378, 0x3fead5ff3a3c2773, 0x3feae89f995ad3ac, 0x3feafb4ce622f2fe,
    0x3feb0e07298db663, 0x3feb20ce6c9a8950, 0x3feb33a2b84f15fa, 0x3feb468415b749b0,
    0x3feb59728de55938, 0x3feb6c6e29f1c529, 0x3feb7f76f2fb5e45, 0x3feb928cf22749e2,
    0x3feba5b030a10647, 0x3febb8e0b79a6f1d, 0x3febcc1e904bc1d0, 0x3febdf69c3f3a205,
    0x3febf2c25bd71e06, 0x3fec06286141b33b, 0x3fec199bdd85529a, 0x3fec2d1cd9fa652a,
    0x3fec40ab5fffd078, 0x3fec544778fafb20, 0x3fec67f12e57d149, 0x3fec7ba88988c931,
    0x3fec8f6d9406e7b2, 0x3feca3405751c4d8, 0x3fecb720dcef9066, 0x3feccb0f2e6d1672,
    0x3fecdf0b555dc3f6, 0x3fecf3155b5bab70, 0x3fed072d4a078979, 0x3fed1b532b08c966,
    0x3fed2f87080d89ee, 0x3fed43c8eacaa1d3, 0x3fed5818dcfba486, 0x3fed6c76e862e6d2,
    0x3fed80e316c98396, 0x3fed955d71ff6074, 0x3feda9e603db3284, 0x3fedbe7cd63a8313,
    0x3fedd321f301b45e, 0x3fede7d5641c0656, 0x3fedfc97337b9b5d, 0x3fee11676b197d16,
    0x3fee264614f5a126, 0x3fee3b333b16ee0f, 0x3fee502ee78b3ff5, 0x3fee653924676d75,
    0x3fee7a51fbc74c81, 0x3fee8f7977cdb73e, 0x3feea4afa2a490d8, 0x3feeb9f4867cca6d,
    0x3feecf482d8e67ee, 0x3feee4aaa218850e, 0x3feefa1bee615a26, 0x3fef0f9c1cb64129,
    0x3fef252b376bba95, 0x3fef3ac948dd7272, 0x3fef50765b6e453e, 0x3fef6632798844f6,
    0x3fef7bfdad9cbe10, 0x3fef91d802243c86, 0x3fefa7c1819e90d6, 0x3fefbdba3692d512,
    0x3fefd3c22b8f71ee, 0x3fefe9d96b2a23d6,
];

/// `frac * 2^exp`, correctly rounded (Go `math.Ldexp` for finite `frac`).
pub(crate) fn ldexp(frac: f64, exp: i64) -> f64 {
    if frac == 0.0 || !frac.is_finite() {
        return frac;
    }
    // Normalize a subnormal input first.
    let (frac, exp) = if frac.is_subnormal() {
        (
            frac * f64::from_bits(0x4330_0000_0000_0000),
            exp.saturating_sub(52),
        ) // * 2^52
    } else {
        (frac, exp)
    };
    let bits = frac.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let e = e.saturating_add(exp);
    let sign = bits & (1 << 63);
    if e > 1023 {
        return f64::from_bits(sign | 0x7ff0_0000_0000_0000);
    }
    if e < -1075 {
        return f64::from_bits(sign);
    }
    let mant = bits & 0x000f_ffff_ffff_ffff;
    if e >= -1022 {
        return f64::from_bits(sign | (((e + 1023) as u64) << 52) | mant);
    }
    // Subnormal result: build it 2^53 larger, then scale once (one rounding).
    let x = f64::from_bits(sign | (((e + 53 + 1023) as u64) << 52) | mant);
    x * f64::from_bits(0x3ca0_0000_0000_0000) // 2^-53
}

/// Upper bound of bucket `idx` of an exponential schema.
pub fn exponential_bound(idx: i32, schema: i32) -> f64 {
    let idx = i64::from(idx);
    if schema < 0 {
        let exp = idx << (-i64::from(schema)).clamp(0, 32);
        if exp == 1024 {
            return f64::MAX;
        }
        return ldexp(1.0, exp);
    }
    let schema = schema.min(62);
    let mask = (1i64 << schema) - 1;
    let frac_idx = idx & mask;
    let frac = if schema == 0 {
        0.5
    } else if schema <= 8 {
        let base = (1usize << schema) - 2;
        FRACTIONS
            .get(base + frac_idx as usize)
            .map_or(f64::NAN, |b| f64::from_bits(*b))
    } else {
        ((frac_idx as f64) / ((1i64 << schema) as f64)).exp2() / 2.0
    };
    let exp = (idx >> schema) + 1;
    if frac == 0.5 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(frac, exp)
}

/// Upper bound of bucket `idx` under `schema` (Go `getBound`). For custom
/// buckets an index outside `-1..=len` yields NaN (Go would panic).
pub fn bucket_bound(idx: i32, schema: i32, custom_values: &[f64]) -> f64 {
    if schema == CUSTOM_BUCKETS_SCHEMA {
        let len = custom_values.len();
        return match idx {
            -1 => f64::NEG_INFINITY,
            i if i >= 0 && i as usize == len => f64::INFINITY,
            i => usize::try_from(i)
                .ok()
                .and_then(|i| custom_values.get(i).copied())
                .unwrap_or(f64::NAN),
        };
    }
    exponential_bound(idx, schema)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn fraction_table_is_close_and_ascending() {
        for s in 1..=8u32 {
            let n = 1usize << s;
            let base = n - 2;
            let mut prev = 0.0;
            for j in 0..n {
                let got = f64::from_bits(FRACTIONS[base + j]);
                let want = ((j as f64) / (n as f64)).exp2() / 2.0;
                let ulps = (got.to_bits() as i64 - want.to_bits() as i64).abs();
                assert!(ulps <= 8, "schema {s} j {j}: {got} vs {want}");
                assert!(got > prev);
                prev = got;
                // Finer schemas repeat the coarser fractions.
                if s > 1 && j % 2 == 0 {
                    assert_eq!(FRACTIONS[base + j], FRACTIONS[(n / 2 - 2) + j / 2]);
                }
            }
            assert_eq!(FRACTIONS[base], 0.5f64.to_bits());
        }
    }

    #[test]
    fn ldexp_edges() {
        assert_eq!(ldexp(0.5, 1), 1.0);
        assert_eq!(ldexp(1.0, -1074), f64::from_bits(1));
        assert_eq!(ldexp(1.0, -1075), 0.0); // tie rounds to even (0)
        assert_eq!(ldexp(0.75, -1073), f64::from_bits(2)); // 1.5 * 2^-1074 -> 2
        assert_eq!(ldexp(1.0, 1024), f64::INFINITY);
        assert_eq!(ldexp(0.5, 1024), 2f64.powi(1023));
        assert_eq!(ldexp(1.0, i64::MIN), 0.0);
        assert_eq!(ldexp(-1.0, -1), -0.5);
    }

    #[test]
    fn known_bounds() {
        assert_eq!(exponential_bound(0, 0), 1.0);
        assert_eq!(exponential_bound(-1, 0), 0.5);
        assert_eq!(exponential_bound(3, 0), 8.0);
        assert_eq!(exponential_bound(1, 1), 0.7071067811865475 * 2.0);
        assert_eq!(exponential_bound(1, -2), 16.0);
        assert_eq!(exponential_bound(4096, 2), f64::MAX);
        assert_eq!(
            exponential_bound(4095, 2),
            ldexp(f64::from_bits(FRACTIONS[2 + 3]), 1024)
        );
        assert_eq!(exponential_bound(1024, 0), f64::MAX);
        assert_eq!(exponential_bound(1025, 0), f64::INFINITY);
        assert_eq!(exponential_bound(64, -4), f64::MAX);
        assert_eq!(exponential_bound(-1100, 0), 0.0);
        let cv = [1.0, 2.5];
        assert_eq!(
            bucket_bound(-1, CUSTOM_BUCKETS_SCHEMA, &cv),
            f64::NEG_INFINITY
        );
        assert_eq!(bucket_bound(1, CUSTOM_BUCKETS_SCHEMA, &cv), 2.5);
        assert_eq!(bucket_bound(2, CUSTOM_BUCKETS_SCHEMA, &cv), f64::INFINITY);
        assert!(bucket_bound(3, CUSTOM_BUCKETS_SCHEMA, &cv).is_nan());
        assert!(bucket_bound(-2, CUSTOM_BUCKETS_SCHEMA, &cv).is_nan());
    }
}
