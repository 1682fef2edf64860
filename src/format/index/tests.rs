//! Hand-built index files for the layouts the real fixtures do not have:
//! v1 (Prometheus 2.0: symbol refs and series ids are file offsets, no
//! alignment) and the ≥ 3.7 layout (no label index sections; the TOC's
//! label-index slots point at the postings).

use super::*;
use crate::format::decode::crc32c;

fn uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn varint(out: &mut Vec<u8>, v: i64) {
    uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn framed(out: &mut Vec<u8>, body: &[u8]) {
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&crc32c(body).to_be_bytes());
}

/// Builds an index with symbols "a", "b", "x", "y" and two series
/// {a="x"} (one chunk) and {a="y", b="x"} (two chunks).
/// `v1`: offsets as refs, no alignment. Else v2 with the ≥ 3.7 TOC.
// Writes an index section by section, in file order.
#[allow(clippy::too_many_lines)]
fn build(v1: bool) -> (Vec<u8>, Vec<u64>) {
    let mut f = vec![0xBA, 0xAA, 0xD7, 0x00, if v1 { 1 } else { 2 }];
    let syms = ["a", "b", "x", "y"];
    let toc_symbols = f.len() as u64;
    let mut body = (syms.len() as u32).to_be_bytes().to_vec();
    let mut sym_ref = Vec::new();
    for (i, s) in syms.iter().enumerate() {
        // v1: absolute offset of the entry (after the 4-byte length + 4-byte count).
        sym_ref.push(if v1 {
            toc_symbols as u32 + 4 + body.len() as u32
        } else {
            i as u32
        });
        uvarint(&mut body, s.len() as u64);
        body.extend_from_slice(s.as_bytes());
    }
    framed(&mut f, &body);
    let toc_series = f.len() as u64;
    type Series<'a> = (&'a [(usize, usize)], &'a [(i64, i64, u64)]);
    let series: [Series<'_>; 2] = [
        (&[(0, 2)], &[(1000, 2000, 8)]),
        (&[(0, 3), (1, 2)], &[(1000, 1500, 40), (1600, 2000, 80)]),
    ];
    let mut ids = Vec::new();
    for (labels, chunks) in series {
        if !v1 {
            while f.len() % 16 != 0 {
                f.push(0);
            }
        }
        let off = f.len() as u64;
        ids.push(if v1 { off } else { off / 16 });
        let mut b = Vec::new();
        uvarint(&mut b, labels.len() as u64);
        for &(n, v) in labels {
            uvarint(&mut b, u64::from(sym_ref[n]));
            uvarint(&mut b, u64::from(sym_ref[v]));
        }
        uvarint(&mut b, chunks.len() as u64);
        let mut prev: Option<(i64, u64)> = None;
        for &(mint, maxt, r) in chunks {
            match prev {
                None => {
                    varint(&mut b, mint);
                    uvarint(&mut b, (maxt - mint) as u64);
                    uvarint(&mut b, r);
                }
                Some((pmaxt, pref)) => {
                    uvarint(&mut b, (mint - pmaxt) as u64);
                    uvarint(&mut b, (maxt - mint) as u64);
                    varint(&mut b, r as i64 - pref as i64);
                }
            }
            prev = Some((maxt, r));
        }
        uvarint(&mut f, b.len() as u64);
        f.extend_from_slice(&b);
        f.extend_from_slice(&crc32c(&b).to_be_bytes());
    }
    let toc_postings = f.len() as u64;
    while f.len() % 4 != 0 {
        f.push(0);
    }
    let list = |f: &mut Vec<u8>, refs: &[u64]| -> u64 {
        let off = f.len() as u64;
        let mut b = (refs.len() as u32).to_be_bytes().to_vec();
        for r in refs {
            b.extend_from_slice(&(*r as u32).to_be_bytes());
        }
        framed(f, &b);
        off
    };
    let all = list(&mut f, &ids);
    let ax = list(&mut f, &ids[..1]);
    let ay = list(&mut f, &ids[1..]);
    let bx = list(&mut f, &ids[1..]);
    let toc_table = f.len() as u64;
    let mut b = 4u32.to_be_bytes().to_vec();
    for (n, v, off) in [
        ("", "", all),
        ("a", "x", ax),
        ("a", "y", ay),
        ("b", "x", bx),
    ] {
        uvarint(&mut b, 2);
        uvarint(&mut b, n.len() as u64);
        b.extend_from_slice(n.as_bytes());
        uvarint(&mut b, v.len() as u64);
        b.extend_from_slice(v.as_bytes());
        uvarint(&mut b, off);
    }
    framed(&mut f, &b);
    // ≥ 3.7 TOC: label_indices == postings, label_indices_table == postings_table.
    let toc = [
        toc_symbols,
        toc_series,
        toc_postings,
        toc_table,
        toc_postings,
        toc_table,
    ];
    let mut t = Vec::new();
    for v in toc {
        t.extend_from_slice(&v.to_be_bytes());
    }
    f.extend_from_slice(&t);
    f.extend_from_slice(&crc32c(&t).to_be_bytes());
    (f, ids)
}

fn check(v1: bool) {
    let (f, ids) = build(v1);
    let r = IndexReader::open(&f).unwrap();
    assert_eq!(r.version, if v1 { 1 } else { 2 });
    assert!(!r.toc.has_label_indices());
    assert!(r.label_offset_table().unwrap().is_empty());
    let mut it = r.series();
    let mut e = SeriesEntry::default();
    let mut labels = Vec::new();
    let mut got = Vec::new();
    while let Some(x) = it.next_into(&mut e) {
        x.unwrap();
        r.resolve_labels(&e, &mut labels).unwrap();
        let ls: Vec<(String, String)> = labels
            .iter()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(n).into(),
                    String::from_utf8_lossy(v).into(),
                )
            })
            .collect();
        got.push((
            e.id.get(),
            ls,
            e.chunks
                .iter()
                .map(|c| (c.mint, c.maxt, c.chunk_ref.get()))
                .collect::<Vec<_>>(),
        ));
    }
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        got,
        vec![
            (ids[0], vec![s("a", "x")], vec![(1000, 2000, 8)]),
            (
                ids[1],
                vec![s("a", "y"), s("b", "x")],
                vec![(1000, 1500, 40), (1600, 2000, 80)]
            ),
        ]
    );
    let table = r.postings_table().unwrap();
    assert_eq!(table.len(), 4);
    let all: Vec<u64> = r
        .postings(table[0].offset)
        .unwrap()
        .iter()
        .map(u64::from)
        .collect();
    assert_eq!(all, ids);
    for id in ids {
        let mut e = SeriesEntry::default();
        r.series_by_id(SeriesRef(id), &mut e).unwrap();
        assert_eq!(e.id.get(), id);
    }
}

#[test]
fn v1_index_offsets_as_refs_unaligned_series() {
    check(true);
}

#[test]
fn v2_index_with_the_3_7_toc_without_label_indices() {
    check(false);
}

/// One series entry (length, body, CRC) whose label refs are written with
/// the given raw bytes each.
fn entry_with_refs(refs: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    uvarint(&mut body, (refs.len() / 2) as u64);
    for r in refs {
        body.extend_from_slice(r);
    }
    uvarint(&mut body, 0); // no chunks
    let mut e = Vec::new();
    uvarint(&mut e, body.len() as u64);
    e.extend_from_slice(&body);
    e.extend_from_slice(&crc32c(&body).to_be_bytes());
    e
}

#[test]
fn series_label_refs_of_every_length_decode_alike() {
    let minimal = |v: u64| {
        let mut b = Vec::new();
        uvarint(&mut b, v);
        b
    };
    // Minimal encodings of 1 to 5 bytes, and longer non-minimal ones
    // (Go's Uvarint accepts them; the tight path hands them over).
    let cases: Vec<(Vec<u8>, u32)> = vec![
        (minimal(0), 0),
        (minimal(127), 127),
        (minimal(128), 128),
        (minimal(16_383), 16_383),
        (minimal(16_384), 16_384),
        (minimal((1 << 21) - 1), (1 << 21) - 1),
        (minimal(1 << 21), 1 << 21),
        (minimal(u64::from(u32::MAX)), u32::MAX),
        (vec![0x85, 0x00], 5),
        (vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 0),
    ];
    for (a, va) in &cases {
        for (b, vb) in &cases {
            let e = entry_with_refs(&[a.clone(), b.clone(), b.clone(), a.clone()]);
            let mut out = series::SeriesEntry::default();
            series::decode_series_into(&e, 0, 2, &mut out).unwrap();
            assert_eq!(out.labels, vec![(*va, *vb), (*vb, *va)]);
            assert_eq!(out.encoded_len, e.len() as u64);
        }
    }
    // A ref beyond 32 bits is an error at its offset, as before.
    let e = entry_with_refs(&[minimal(1), minimal(1 << 32)]);
    let mut out = series::SeriesEntry::default();
    let err = series::decode_series_into(&e, 0, 2, &mut out).unwrap_err();
    assert!(matches!(err, DecodeError::Varint { offset: 3 }), "{err:?}");
    // Cut inside a ref: the CRC no longer covers it, so build the cut body.
    let e = entry_with_refs(&[minimal(1), vec![0x80, 0x80]]);
    let err = series::decode_series_into(&e, 0, 2, &mut out).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::UnexpectedEof { .. } | DecodeError::Varint { .. }
        ),
        "{err:?}"
    );
}

/// Label ref pairs and chunk metas of one series body.
type Body = (Vec<(u32, u32)>, Vec<ChunkMeta>);

/// The body decoded by the checked cursor alone: what `decode_series_into`
/// returned before its fast path, the reference the fast path must match.
fn reference_body(body: &[u8], at: u64) -> Result<Body> {
    use crate::format::decode::Decoder;
    use crate::format::refs::ChunkRef;
    let mut b = Decoder::new(body, at);
    let mut labels = Vec::new();
    for _ in 0..b.uvarint()? {
        let name = b.uvarint32()?;
        labels.push((name, b.uvarint32()?));
    }
    let mut chunks: Vec<ChunkMeta> = Vec::new();
    for _ in 0..b.uvarint()? {
        let (mint, maxt, r) = match chunks.last() {
            None => {
                let mint = b.varint()?;
                (mint, (b.uvarint()? as i64).wrapping_add(mint), b.uvarint()?)
            }
            Some(p) => {
                let mint = (b.uvarint()? as i64).wrapping_add(p.maxt);
                let maxt = (b.uvarint()? as i64).wrapping_add(mint);
                (mint, maxt, (b.varint()? as u64).wrapping_add(p.chunk_ref.0))
            }
        };
        chunks.push(ChunkMeta {
            mint,
            maxt,
            chunk_ref: ChunkRef(r),
        });
    }
    if !b.is_empty() {
        return Err(DecodeError::SeriesTrailingBytes {
            offset: b.offset(),
            found: b.remaining() as u64,
        });
    }
    Ok((labels, chunks))
}

/// Random series bodies — values of every width (refs past 32 bits,
/// varints of 9 and 10 bytes, non-minimal encodings), bodies cut, lengthened
/// or with a byte changed (CRC fixed), counts larger than the body — at the
/// end of the file or before more bytes: the fast decode gives what the
/// checked cursor gives, value for value and error for error.
#[test]
fn series_fast_decode_agrees_with_the_checked_cursor() {
    let mut x = 0x2545_F491_4F6C_DD1D_u64;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for case in 0..30_000u32 {
        let val = |r: &mut dyn FnMut() -> u64| {
            let bits = [3, 7, 14, 21, 32, 33, 42, 56, 63, 64][(r() % 10) as usize];
            r() & (u64::MAX >> (64 - bits))
        };
        let mut body = Vec::new();
        let n_labels = rnd() % 7;
        uvarint(&mut body, n_labels);
        for _ in 0..2 * n_labels {
            let v = if rnd() % 8 == 0 {
                val(&mut rnd)
            } else {
                rnd() % 300
            };
            uvarint(&mut body, v);
            if rnd() % 50 == 0 {
                // Non-minimal: a continuation byte more, then zero.
                let last = body.len() - 1;
                body[last] |= 0x80;
                body.push(0);
            }
        }
        let n_chunks = rnd() % 4;
        uvarint(&mut body, n_chunks);
        for i in 0..n_chunks {
            if i == 0 {
                varint(&mut body, 1_764_028_800_000 + (rnd() % 1000) as i64);
            } else {
                uvarint(&mut body, val(&mut rnd));
            }
            uvarint(&mut body, val(&mut rnd));
            if i == 0 {
                uvarint(&mut body, val(&mut rnd));
            } else {
                varint(&mut body, val(&mut rnd) as i64);
            }
        }
        match case % 6 {
            1 if !body.is_empty() => {
                body.pop();
            }
            2 => body.push((rnd() % 256) as u8),
            3 if !body.is_empty() => {
                let i = (rnd() % body.len() as u64) as usize;
                body[i] = (rnd() % 256) as u8;
            }
            4 => body[0] = 0xff,
            _ => {}
        }
        let mut file = vec![0u8; 16];
        uvarint(&mut file, body.len() as u64);
        let body_at = file.len() as u64;
        file.extend_from_slice(&body);
        file.extend_from_slice(&crc32c(&body).to_be_bytes());
        let more = (rnd() % 12) as usize;
        file.extend((0..more).map(|_| (rnd() % 256) as u8));
        let mut out = series::SeriesEntry::default();
        let got = series::decode_series_into(&file, 16, 2, &mut out);
        match reference_body(&body, body_at) {
            Ok((labels, chunks)) => {
                assert_eq!(got, Ok(()), "case {case}");
                assert_eq!(out.labels, labels, "case {case}");
                assert_eq!(out.chunks, chunks, "case {case}");
                assert_eq!(out.encoded_len, file.len() as u64 - 16 - more as u64);
            }
            Err(e) => assert_eq!(got, Err(e), "case {case}"),
        }
    }
}

/// Random postings offset tables — names and values of every length
/// around 128, offsets of every width, entries cut, a byte changed (CRC
/// fixed) — read by the table iterator give, entry for entry and error for
/// error, what the checked cursor alone gives.
#[test]
fn postings_table_fast_entries_agree_with_the_checked_cursor() {
    use crate::format::decode::Decoder;
    let mut x = 0x9E37_79B9_7F4A_7C15_u64;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for case in 0..5_000u32 {
        let n = (rnd() % 6) as u32;
        let mut body = n.to_be_bytes().to_vec();
        for _ in 0..n {
            uvarint(&mut body, if rnd() % 40 == 0 { 3 } else { 2 });
            for _ in 0..2 {
                let len = [0, 1, 5, 127, 128, 200][(rnd() % 6) as usize];
                uvarint(&mut body, len);
                body.extend((0..len).map(|_| (rnd() % 256) as u8));
            }
            uvarint(&mut body, rnd() >> (rnd() % 64));
        }
        if case % 3 == 1 && body.len() > 4 {
            let i = 4 + (rnd() % (body.len() as u64 - 4)) as usize;
            body[i] = (rnd() % 256) as u8;
        }
        if case % 5 == 2 {
            body.truncate(body.len().saturating_sub((rnd() % 4) as usize).max(4));
        }
        let mut file = Vec::new();
        framed(&mut file, &body);
        let Ok(it) = postings::PostingsTableIter::new(&file, 0) else {
            continue;
        };
        let got: Vec<_> = it.take(n as usize).collect();
        // The reference: each entry by the checked cursor.
        let mut d = Decoder::new(&body[4..], 8);
        let mut want = Vec::new();
        for _ in 0..n {
            let at = d.offset();
            let e = (|| {
                let keys = d.uvarint()?;
                if keys != 2 {
                    return Err(DecodeError::KeyCount {
                        section: Section::PostingsOffsetTable,
                        offset: at,
                        expected: 2,
                        found: keys,
                    });
                }
                let (name, value) = (d.uvarint_bytes()?, d.uvarint_bytes()?);
                Ok(PostingsEntry {
                    name,
                    value,
                    offset: d.uvarint()?,
                    entry_offset: at,
                })
            })();
            let stop = e.is_err();
            want.push(e);
            if stop {
                break;
            }
        }
        assert_eq!(got, want, "case {case}");
    }
}
