//! Go's `fmt` `%g` (and `%v`) for a float64, as promtool and Prometheus print
//! values.
//!
//! Go formats with the shortest decimal digits that round-trip
//! (`strconv.FormatFloat(v, 'g', -1, 64)`), then picks the layout from the
//! decimal exponent `x` of the first digit: exponent form when `x < -4` or
//! `x >= 6` (with the shortest precision Go fixes that limit at 6, whatever the
//! number of digits), plain decimal otherwise. The exponent has a sign and at
//! least two digits (`1e+06`, `6.1531e-05`, `1.2345678e+100`). Infinities
//! print as `+Inf` / `-Inf` and NaN as `NaN`; negative zero keeps its sign.
//!
//! Rust's `{:e}` yields the same shortest round-trip digits.

#[cfg(test)]
use std::fmt::Write as _;

/// Appends Go's `%g` rendering of `v` to `out`.
pub fn go_format_g(v: f64, out: &mut String) {
    format_g(v).push_to(out);
}

/// Appends Go's `%g` rendering of `v` to `out` as bytes (always ASCII): the
/// dump's hot path, with no UTF-8 check per number.
#[inline]
pub fn go_format_g_bytes(v: f64, out: &mut Vec<u8>) {
    out.extend_from_slice(format_g(v).as_bytes());
}

/// Go's `%g` of `v`, on the stack.
#[inline]
fn format_g(v: f64) -> Small {
    let mut o = Small { b: [0; 64], n: 0 };
    if v.is_nan() {
        o.extend(b"NaN");
        return o;
    }
    if v.is_infinite() {
        o.extend(if v > 0.0 { b"+Inf" } else { b"-Inf" });
        return o;
    }
    if v.is_sign_negative() {
        o.push(b'-');
    }
    let a = v.abs();
    if a == 0.0 {
        o.push(b'0');
        return o;
    }
    // An integer below 10^15 (so below 2^53: its shortest round-trip digits
    // are its own digits without trailing zeros): no float-to-decimal search.
    // The round trip through u64 tests for a whole number without calling
    // `trunc` (no SSE4.1 instruction for it in the baseline target).
    if a < 1e15 && (a as u64) as f64 == a {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut u = a as u64;
        while u > 0 && i > 0 {
            i -= 1;
            if let Some(d) = digits.get_mut(i) {
                *d = b'0' + (u % 10) as u8;
            }
            u /= 10;
        }
        let all = digits.get(i..).unwrap_or(&[]);
        let mut n = all.len();
        while n > 1 && all.get(n - 1) == Some(&b'0') {
            n -= 1;
        }
        push_go_layout(all.get(..n).unwrap_or(&[]), all.len() as i32, &mut o);
        return o;
    }
    let mut ryu_buf = ryu::Buffer::new();
    let (digits, n, point) = shortest_digits(ryu_buf.format_finite(a).as_bytes());
    let digits = digits.get(..n).unwrap_or(&[]);
    push_go_layout(digits, point, &mut o);
    o
}

/// The shortest round-trip digits of a finite positive float as `ryu`
/// prints it (`1.234e30`, `0.001234`, `12340000000.0`): the significant
/// digits (no leading or trailing zeros), their count, and the position of
/// the decimal point relative to the first digit (value = 0.d1d2… × 10^point).
fn shortest_digits(s: &[u8]) -> ([u8; 24], usize, i32) {
    let (mant, exp) = match s.iter().position(|&b| b == b'e') {
        Some(i) => (s.get(..i).unwrap_or(&[]), s.get(i + 1..).unwrap_or(&[])),
        None => (s, &[][..]),
    };
    let mut e: i32 = 0;
    let neg = exp.first() == Some(&b'-');
    for &b in exp {
        if b.is_ascii_digit() {
            e = e * 10 + i32::from(b - b'0');
        }
    }
    if neg {
        e = -e;
    }
    let mut digits = [0u8; 24];
    let (mut n, mut point, mut seen_dot) = (0usize, 0i32, false);
    for &b in mant {
        if b == b'.' {
            seen_dot = true;
            continue;
        }
        if n == 0 && b == b'0' {
            point -= i32::from(seen_dot);
            continue;
        }
        if let Some(d) = digits.get_mut(n) {
            *d = b;
            n += 1;
        }
        point += i32::from(!seen_dot);
    }
    while n > 0 && digits.get(n - 1) == Some(&b'0') {
        n -= 1;
    }
    (digits, n, point + e)
}

/// A few bytes of ASCII built on the stack, then appended at once.
struct Small {
    b: [u8; 64],
    n: usize,
}

impl Small {
    #[inline]
    fn push(&mut self, c: u8) {
        if let Some(x) = self.b.get_mut(self.n) {
            *x = c;
            self.n += 1;
        }
    }
    #[inline]
    fn extend(&mut self, s: &[u8]) {
        if let Some(x) = self.b.get_mut(self.n..self.n + s.len()) {
            x.copy_from_slice(s);
            self.n += s.len();
        }
    }
    #[inline]
    fn as_bytes(&self) -> &[u8] {
        self.b.get(..self.n).unwrap_or(&[])
    }
    fn push_to(&self, out: &mut String) {
        out.push_str(std::str::from_utf8(self.as_bytes()).unwrap_or(""));
    }
}

/// Go's `%g` layout of the significant `digits` (at most 20) with the
/// decimal point `point` digits after the first: exponent form when the
/// decimal exponent of the first digit is below -4 or at least 6, plain
/// decimal otherwise.
fn push_go_layout(digits: &[u8], point: i32, o: &mut Small) {
    let x = point - 1;
    if !(-4..6).contains(&x) {
        let (first, rest) = digits.split_at(digits.len().min(1));
        o.extend(first);
        if !rest.is_empty() {
            o.push(b'.');
            o.extend(rest);
        }
        o.push(b'e');
        o.push(if x < 0 { b'-' } else { b'+' });
        let x = x.unsigned_abs();
        if x >= 100 {
            o.push(b'0' + (x / 100) as u8);
        }
        o.push(b'0' + (x / 10 % 10) as u8);
        o.push(b'0' + (x % 10) as u8);
    } else if point <= 0 {
        o.extend(b"0.");
        for _ in 0..(-point) {
            o.push(b'0');
        }
        o.extend(digits);
    } else {
        let point = point as usize;
        if digits.len() <= point {
            o.extend(digits);
            for _ in digits.len()..point {
                o.push(b'0');
            }
        } else {
            let (int, frac) = digits.split_at(point);
            o.extend(int);
            o.push(b'.');
            o.extend(frac);
        }
    }
}

/// The former implementation through Rust's `{:e}` (shortest round-trip
/// digits too): the reference the `ryu` path is tested against.
#[cfg(test)]
fn go_format_g_std(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if v.is_sign_negative() {
        out.push('-');
    }
    let mut buf = String::with_capacity(32);
    let _ = write!(buf, "{:e}", v.abs());
    let (mantissa, exp) = buf.split_once('e').unwrap_or((buf.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let digits = digits.trim_end_matches('0');
    if digits.is_empty() {
        out.push('0');
        return;
    }
    let mut o = Small { b: [0; 64], n: 0 };
    push_go_layout(digits.as_bytes(), exp + 1, &mut o);
    o.push_to(out);
}

/// Go's `%g` of `v` as a new `String`.
pub fn go_g(v: f64) -> String {
    let mut s = String::new();
    go_format_g(v, &mut s);
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn ryu_path_matches_std_shortest_digits() {
        // Random bit patterns (every exponent, subnormals) and random
        // decimal-ish values: the fast path prints what `{:e}` digits give.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let (mut a, mut b) = (String::new(), String::new());
        let mut ties = 0;
        for i in 0..400_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = if i % 2 == 0 {
                f64::from_bits(x)
            } else {
                (x % 100_000_000) as f64 / [1.0, 10.0, 1000.0, 1e6][(x >> 60) as usize % 4]
            };
            a.clear();
            b.clear();
            go_format_g(v, &mut a);
            go_format_g_std(v, &mut b);
            let mut bytes = Vec::new();
            go_format_g_bytes(v, &mut bytes);
            assert_eq!(bytes, a.as_bytes());
            if a != b {
                // An exact tie between two shortest digit strings (the value
                // lies halfway): Go's ryuDigits32 rounds half to even, as
                // `ryu` does; Rust's `{:e}` rounds half up. Same length, both
                // round-trip, and the fast path's last digit is even.
                let mantissa_end = |s: &str| s.split('e').next().unwrap().bytes().last().unwrap();
                assert_eq!(a.len(), b.len(), "{:#x}: {a} vs {b}", v.to_bits());
                assert_eq!(a.parse::<f64>().unwrap(), v, "{a}");
                assert_eq!(b.parse::<f64>().unwrap(), v, "{b}");
                assert_eq!((mantissa_end(&a) - b'0') % 2, 0, "{a} vs {b}");
                ties += 1;
            }
        }
        assert!(ties < 100, "{ties} ties");
    }

    #[test]
    fn go_vectors() {
        // (input, what Go 1.19 fmt.Sprintf("%g") prints). The first group is
        // from Go's documentation and promtool output; GO_VECTORS (below)
        // were printed by a Go 1.19 program.
        let cases: &[(f64, &str)] = &[
            (12000000.0, "1.2e+07"),
            (6.1531e-05, "6.1531e-05"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (100000.0, "100000"),
            (1000000.0, "1e+06"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.5, "0.5"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (1e100, "1e+100"),
            (-2.5e-300, "-2.5e-300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1795600046.37, "1.79560004637e+09"),
        ];
        for (v, want) in cases {
            assert_eq!(go_g(*v), *want, "{v:?}");
        }
        for (bits, want) in GO_VECTORS {
            assert_eq!(go_g(f64::from_bits(*bits)), *want, "{bits:#x}");
        }
    }

    /// Printed by Go 1.19 (`fmt.Sprintf("%g", math.Float64frombits(b))`).
    #[rustfmt::skip]
    const GO_VECTORS: &[(u64, &str)] = &[
        (0x3d719799812dea11, "1e-12"),
        (0x3d7a636641c4df1a, "1.5e-12"),
        (0xbd75b7ffc3f8cd46, "-1.2345678e-12"),
        (0x3da5fd7fe1796495, "1e-11"),
        (0x3db07e1fe91b0b70, "1.5e-11"),
        (0xbdab25ffb4f70097, "-1.2345678e-11"),
        (0x3ddb7cdfd9d7bdbb, "1e-10"),
        (0x3de49da7e361ce4c, "1.5e-10"),
        (0xbde0f7bfd11a605f, "-1.2345678e-10"),
        (0x3e112e0be826d695, "1e-09"),
        (0x3e19c511dc3a41e0, "1.5000000000000002e-09"),
        (0xbe1535afc560f877, "-1.2345678000000001e-09"),
        (0x3e45798ee2308c3a, "1e-08"),
        (0x3e501b2b29a4692c, "1.5000000000000002e-08"),
        (0xbe4a831bb6b93694, "-1.2345678e-08"),
        (0x3e7ad7f29abcaf48, "1e-07"),
        (0x3e8421f5f40d8376, "1.5e-07"),
        (0xbe8091f15233c21c, "-1.2345678e-07"),
        (0x3eb0c6f7a0b5ed8d, "1e-06"),
        (0x3eb92a737110e454, "1.5e-06"),
        (0xbeb4b66da6c0b2a3, "-1.2345677999999999e-06"),
        (0x3ee4f8b588e368f1, "1e-05"),
        (0x3eef75104d551d6a, "1.5000000000000002e-05"),
        (0xbee9e4091070df4d, "-1.2345678000000001e-05"),
        (0x3f1a36e2eb1c432d, "0.0001"),
        (0x3f23a92a30553262, "0.00015000000000000001"),
        (0xbf202e85aa468b90, "-0.00012345678"),
        (0x3f50624dd2f1a9fc, "0.001"),
        (0x3f589374bc6a7efa, "0.0015"),
        (0xbf543a2714d82e74, "-0.0012345678"),
        (0x3f847ae147ae147b, "0.01"),
        (0x3f8eb851eb851eb8, "0.015"),
        (0xbf8948b0da0e3a11, "-0.012345678"),
        (0x3fb999999999999a, "0.1"),
        (0x3fc3333333333334, "0.15000000000000002"),
        (0xbfbf9add1091c895, "-0.12345678"),
        (0x3ff0000000000000, "1"),
        (0x3ff8000000000000, "1.5"),
        (0xbff3c0ca2a5b1d5d, "-1.2345678"),
        (0x4024000000000000, "10"),
        (0x402e000000000000, "15"),
        (0xc028b0fcb4f1e4b4, "-12.345678"),
        (0x4059000000000000, "100"),
        (0x4062c00000000000, "150"),
        (0xc05edd3be22e5de1, "-123.45678"),
        (0x408f400000000000, "1000"),
        (0x4097700000000000, "1500"),
        (0xc0934a456d5cfaad, "-1234.5678"),
        (0x40c3880000000000, "10000"),
        (0x40cd4c0000000000, "15000"),
        (0xc0c81cd6c8b43958, "-12345.678"),
        (0x40f86a0000000000, "100000"),
        (0x41024f8000000000, "150000"),
        (0xc0fe240c7ae147ae, "-123456.78"),
        (0x412e848000000000, "1e+06"),
        (0x4136e36000000000, "1.5e+06"),
        (0xc132d687cccccccd, "-1.2345678e+06"),
        (0x416312d000000000, "1e+07"),
        (0x416c9c3800000000, "1.5e+07"),
        (0xc1678c29c0000000, "-1.2345678e+07"),
        (0x4197d78400000000, "1e+08"),
        (0x41a1e1a300000000, "1.5e+08"),
        (0xc19d6f3430000000, "-1.2345678e+08"),
        (0x41cdcd6500000000, "1e+09"),
        (0x41d65a0bc0000000, "1.5e+09"),
        (0xc1d265809e000000, "-1.2345678e+09"),
        (0x4202a05f20000000, "1e+10"),
        (0x420bf08eb0000000, "1.5e+10"),
        (0xc206fee0c5800000, "-1.2345678e+10"),
        (0x42374876e8000000, "1e+11"),
        (0x424176592e000000, "1.5e+11"),
        (0xc23cbe98f6e00000, "-1.2345678e+11"),
        (0x426d1a94a2000000, "1e+12"),
        (0x4275d3ef79800000, "1.5e+12"),
        (0xc271f71f9a4c0000, "-1.2345678e+12"),
        (0x42a2309ce5400000, "1e+13"),
        (0x42ab48eb57e00000, "1.5e+13"),
        (0xc2a674e780df0000, "-1.2345678e+13"),
        (0x42d6bcc41e900000, "1e+14"),
        (0x42e10d9316ec0000, "1.5e+14"),
        (0xc2dc12216116c000, "-1.2345678e+14"),
        (0x430c6bf526340000, "1e+15"),
        (0x431550f7dca70000, "1.5e+15"),
        (0xc3118b54dcae3800, "-1.2345678e+15"),
        (0x4341c37937e08000, "1e+16"),
        (0x434aa535d3d0c000, "1.5e+16"),
        (0xc345ee2a13d9c600, "-1.2345678e+16"),
        (0x4376345785d8a000, "1e+17"),
        (0x4380a741a4627800, "1.5e+17"),
        (0xc37b69b498d03780, "-1.2345678e+17"),
        (0x43abc16d674ec800, "1e+18"),
        (0x43b4d1120d7b1600, "1.5e+18"),
        (0xc3b12210df8222b0, "-1.2345678e+18"),
        (0x43e158e460913d00, "1e+19"),
        (0x43ea055690d9db80, "1.5e+19"),
        (0xc3e56a951762ab5c, "-1.2345678e+19"),
        (0x4415af1d78b58c40, "1e+20"),
        (0x442043561a882930, "1.5e+20"),
        (0xc41ac53a5d3b5633, "-1.2345678e+20"),
        (0x444b1ae4d6e2ef50, "1e+21"),
        (0x4454542ba12a337c, "1.5e+21"),
        (0xc450bb447a4515e0, "-1.2345678e+21"),
        (0x4480f0cf064dd592, "1e+22"),
        (0x448969368974c05b, "1.5e+22"),
        (0xc484ea1598d65b58, "-1.2345678e+22"),
        (0x44b52d02c7e14af6, "1e+23"),
        (0x44bfc3842bd1f071, "1.4999999999999999e+23"),
        (0xc4ba249aff0bf22d, "-1.2345677999999999e+23"),
        (0x44ea784379d99db4, "1e+24"),
        (0x44f3da329b633647, "1.5e+24"),
        (0xc4f056e0df67775d, "-1.2345678e+24"),
        (0x45208b2a2c280291, "1e+25"),
        (0x4528d0bf423c03da, "1.5000000000000002e+25"),
        (0xc5246c9917415534, "-1.2345678e+25"),
        (0xafbf64b1967f8c53, "-1.0590551977833753e-78"),
        (0x8872b44b9fbb971b, "-5.664803348173744e-268"),
        (0x4d52f284145b9fe8, "3.1177914365038574e+64"),
        (0x1aba923e34d9c909, "6.4034611399797715e-180"),
        (0x859bd7df529ddd09, "-1.1983509255581862e-281"),
        (0x310c7a619b42764d, "2.0147507687872112e-72"),
        (0x680c5ba53b0d9f9f, "1.6172705659179921e+193"),
        (0xb13585884c14d6c0, "-1.2180800143456042e-71"),
        (0xb1079b70e0cb1a84, "-1.67014958479621e-72"),
        (0xd2bc75d3613f0858, "-3.623410418339401e+90"),
        (0x5e2919f9f41db402, "3.918023916458315e+145"),
        (0x9be5826f9eda8fe1, "-2.717710242793732e-174"),
        (0xae4b9ee7818e744e, "-1.110775366211978e-85"),
        (0x0f84badc4ce36fbd, "6.519752176402688e-234"),
        (0xd4fe4f8c3ed6e83e, "-2.6518869724353848e+101"),
        (0xbbac8f6d54eaeb1c, "-3.023935364090901e-21"),
        (0x5b2ece04ac1add13, "1.7082284228237814e+131"),
        (0xdba2cf79557c87a2, "-2.67034374271532e+133"),
        (0x7888aeaf0b1b8ec7, "4.172657595118774e+272"),
        (0xfc428a1051a7821b, "-3.613428243934914e+290"),
        (0x0f4643aa3c903ced, "4.3764579434052575e-235"),
        (0x2b8a97160662785a, "6.078448054132433e-99"),
        (0xa4aef3c4c6e30ced, "-5.4508437669254427e-132"),
        (0x1d12575b49e0c37b, "1.2149853813225835e-168"),
        (0x538728100cbefdfe, "2.415135395728288e+94"),
        (0x855f882dcdda00e1, "-8.481934196026387e-283"),
        (0x76a100da07b62c69, "2.677072465278272e+263"),
        (0x10a296e771701c1c, "1.5326404562613212e-228"),
        (0x39b2745b5ac22ddc, "9.098780332348182e-31"),
        (0x1b053f275e7029e1, "1.6384905944058275e-178"),
        (0x2f052b8e822623c9, "3.4871850107242563e-82"),
        (0xdc61108e6517386e, "-9.922611991383212e+136"),
        (0xf24144f3fd478949, "-2.3030452318577753e+242"),
        (0xffa83f0216c1d40e, "-8.513104215095926e+306"),
        (0x88ff27ed6f6b57e3, "-2.415600241547998e-265"),
        (0xfc9afdcac0ba7489, "-1.6834523206407462e+292"),
        (0x77e71936b19256d0, "3.813376991164253e+269"),
        (0x6d8d9ec7fd4d9638, "5.227998041898826e+219"),
        (0x9366fd1c66734353, "-3.3343239937574286e-215"),
        (0x5049891b1eec4fd7, "5.913634018965815e+78"),
        (0xdf21754b6e23b71a, "-1.7858578038437913e+150"),
        (0xe0c342eb2bcf9062, "-1.3222562001283676e+158"),
        (0x20aaf160853227ca, "2.5721494029628344e-151"),
        (0x0746bfe8a6ce67c0, "1.3141609253445164e-273"),
        (0xda2c4080462babd4, "-2.3905440010400785e+126"),
        (0xc9325d880e82b25f, "-4.095611538549145e+44"),
        (0x6ad4838297def160, "4.116245652951433e+206"),
        (0x4594206cf9369aa0, "1.5572251088521567e+27"),
        (0x4746a64dede34617, "2.3520717014638092e+35"),
        (0x64fcb4a74f8baea9, "2.908072695469106e+178"),
        (0x97ed751afaba203a, "-2.0176593373918906e-193"),
        (0x169ac3b0b8867a32, "8.741393039418618e-200"),
        (0xf81912b5b3d2cff1, "-3.311493428860132e+270"),
        (0x658d44bf3a5379ea, "1.5181284307956972e+181"),
        (0x44337560329d472c, "3.589459531517686e+20"),
        (0x1df01cccc8145990, "1.7487402209801522e-164"),
        (0xba029d920e9ea39d, "-2.937009598899356e-29"),
        (0x247b3969b1bcbc4a, "5.992915480545019e-133"),
        (0x85016e0aefe734b7, "-1.4651694852847197e-284"),
        (0x2124e45feb4d85f1, "5.105920096356579e-149"),
        (0x41004359effc0000, "133227.2421798706"),
        (0x416679ac2f808000, "1.1783521484436035e+07"),
        (0x4176fcdb52e42000, "2.410437318069458e+07"),
        (0x41e5139c0393e000, "2.8288532766210938e+09"),
        (0x414ce1231b1c0000, "3.785286211791992e+06"),
        (0x40bbcc979314e000, "7116.592088036239"),
        (0x41ed9088ce398000, "3.968091761796875e+09"),
        (0x40e4052bc8d86000, "41001.36826723814"),
        (0x40eebeae22b84000, "62965.44173824787"),
        (0x4203f75c29432000, "1.0719298856390625e+10"),
        (0x4237e9b8c5458000, "1.027054482615e+11"),
        (0x3fef6e30a65f0000, "0.9822009324489045"),
        (0x418f4c25ece5a000, "6.563551761212158e+07"),
        (0x40cafe0188c1c000, "13820.011985987425"),
        (0x4125b8cd20198000, "711782.5626945496"),
        (0x4009d4bb2f0d2000, "3.2288726497536118"),
        (0x40a9cfbb932d4000, "3303.866357244551"),
        (0x4076e7630bcb0000, "366.4616811685264"),
        (0x415e4c9d9c6b8000, "7.942774444061279e+06"),
        (0x421096fcc12e0000, "1.78131559155e+10"),
        (0x40ac5e893d840000, "3631.268047451973"),
        (0x417e0379a8afc000, "3.1471514542907715e+07"),
        (0x4116a66f41000000, "371099.8134765625"),
        (0x40b5dc1088efe000, "5596.064589492977"),
        (0x41f117a3f02f8000, "4.58819149096875e+09"),
        (0x407f1f2a4bbe4000, "497.9478261405602"),
        (0x40ff085f0ef80000, "127109.94115447998"),
        (0x3fc6b11ee32a0000, "0.1772802933883213"),
        (0x42286fabd23e4000, "5.2476373279125e+10"),
        (0x413a71a84dea0000, "1.7330323043518066e+06"),
        (0x4246243bffad6000, "1.9019438473075e+11"),
        (0x41e6c140b9c34000, "3.0541101581015625e+09"),
        (0x406be6a668b84000, "223.20781360613182"),
        (0x404fba8d8b974000, "63.45744461903814"),
        (0x41887bec48006000, "5.1346825000183105e+07"),
        (0x41ceaa30864a4000, "1.0289400445800781e+09"),
        (0x411cd531cfd38000, "472396.452955246"),
        (0x41fec7c7bd884000, "8.262548440515625e+09"),
        (0x40f4c5bd7be78000, "85083.84275007248"),
        (0x3fc384e31bae0000, "0.15249289371058694"),
        (0x401c9c9e118a8000, "7.15294673354947"),
        (0x40f7e72fd9818000, "97906.99060201645"),
        (0x3fa998368a180000, "0.049989418370387284"),
        (0x419f5654dac26000, "1.3143787868981934e+08"),
        (0x408ab42e7b660000, "854.522696301341"),
        (0x4164b5958e062000, "1.085764443824768e+07"),
        (0x41ddb581dd698000, "1.9937381016484375e+09"),
        (0x40a7f0f593260000, "3064.4796382784843"),
        (0x42195e4d974a2000, "2.723908142653125e+10"),
        (0x405ce74ed416a000, "115.61418630799744"),
        (0x4194456d268f0000, "8.502356163964844e+07"),
        (0x410c1dad18018000, "230325.63672161102"),
        (0x4144d4790a538000, "2.730226080673218e+06"),
        (0x40912aca13ace000, "1098.6973406802863"),
        (0x4211ebf5fa52e000, "1.924330254871875e+10"),
        (0x405ac112f2f08000, "107.01678155409172"),
        (0x4085682d97cbc000, "685.0222621839494"),
        (0x41b45a4759e98000, "3.414608259121094e+08"),
        (0x41e0675fb8a04000, "2.2016813490078125e+09"),
        (0x40c53d47d3374000, "10874.561133295298"),
        (0xbd59afeb3b248764, "-3.650368269434348e-13"),
        (0x40f1df26d948d468, "73202.42804797145"),
        (0x3e1a153d281269b7, "1.5182283488454822e-09"),
        (0x3d52898a700b25ab, "2.634304314768519e-13"),
        (0x40ed48d9d42aa85d, "59974.80714924701"),
        (0x4143b73459b723a7, "2.584168700901467e+06"),
        (0x3d2a7c3043c19b1b, "4.704700888507244e-14"),
        (0x3e3c3d1b9ffb02a3, "6.574835342561383e-09"),
        (0xbcc675c049f2f519, "-6.233892664632978e-16"),
        (0x41300fdda19ece5e, "1.052637631329439e+06"),
        (0x40b5a1dd3130bb9f, "5537.864031835371"),
        (0x42366f324c4b9f7e, "9.635484781962302e+10"),
        (0xbfe4a6b9d77b5740, "-0.6453522881153972"),
        (0xbef2511ceee38fc4, "-1.746830724237682e-05"),
        (0xbcd8196736cfe672, "-1.3377760661642417e-15"),
        (0xbd6fa8f380932be2, "-8.998303414217257e-13"),
        (0xc0f4079d437a2741, "-82041.82897391637"),
        (0x3e26997ebbb41c26, "2.6309385482950095e-09"),
        (0xc0516253ee88ee66, "-69.53637278911773"),
        (0x41c9437df9a91832, "8.477071233210509e+08"),
        (0x3d99e010bc6d44e2, "5.883351916904623e-12"),
        (0xc291b9c1962d110a, "-4.87237861664426e+12"),
        (0x3dbc0f0801e2fef3, "2.551925347940482e-11"),
        (0xc261a57f068a63a4, "-6.063280753471138e+11"),
        (0x3d655a7bd70790b7, "6.069016122812271e-13"),
        (0x3cb8c5e50159ee33, "3.437947925405211e-16"),
        (0xc229f5350fda2778, "-5.574403889307709e+10"),
        (0x3f9a3b4186389e1a, "0.025616668526849386"),
        (0x3d5a29e68b29cf7d, "3.71808170971587e-13"),
        (0x3e510e3bed4bd601, "1.588426708477776e-08"),
        (0x0000000000000001, "5e-324"),
        (0x7fefffffffffffff, "1.7976931348623157e+308"),
        (0x412e847f00000000, "999999.5"),
        (0x412e847e00000000, "999999"),
        (0x416312cf60000000, "9.999995e+06"),
        (0x3f201f31f46ed246, "0.000123"),
        (0x3ee9e0fcaf9380fc, "1.234e-05"),
        (0x444b1ae4d6e2ef50, "1e+21"),
        (0x4415af1d78b58c40, "1e+20"),
        (0x423cbe991a140000, "1.23456789012e+11"),
        (0x3efa36e2eb1c432d, "2.5e-05"),
    ];
}
