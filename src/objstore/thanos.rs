//! `meta.json` as it goes into a bucket: the `thanos` section Thanos and
//! Mimir readers expect.

use std::path::Path;

use crate::copy::BlockFile;
use crate::error::{Error, Result};

/// The `thanos.source` Thanos' own uploaders (the sidecar's shipper) write.
pub const THANOS_SOURCE: &str = "sidecar";

/// True for a valid Prometheus label name.
pub fn valid_label_name(n: &str) -> bool {
    let mut b = n.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// `meta.json` as it goes into the bucket: the source's, with the `thanos`
/// section Thanos' readers expect (external labels, downsampling resolution
/// 0, source, and the block's files with their sizes). An existing `thanos`
/// section is kept; its labels are replaced only when labels are given.
pub fn thanos_meta(
    raw: &[u8],
    labels: &[(String, String)],
    files: &[BlockFile],
) -> Result<Vec<u8>> {
    use serde_json::{Map, Value, json};
    let bad = |why: &str| Error::Usage(format!("meta.json: {why}"));
    let mut v: Value = serde_json::from_slice(raw).map_err(|e| bad(&e.to_string()))?;
    // Prometheus, Thanos and Mimir write integers only; a fraction or an
    // integer beyond 64 bits would be rewritten as a rounded float, and the
    // output would not be its own encoding (a bucket-to-bucket copy would
    // then see a conflict where nothing changed).
    if has_non_integer(&v) {
        return Err(bad(
            "a number that is not a 64-bit integer (Prometheus writes integers only)",
        ));
    }
    let obj = v.as_object_mut().ok_or_else(|| bad("not a JSON object"))?;
    let mut thanos = match obj.remove("thanos") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    if !labels.is_empty() || !thanos.contains_key("labels") {
        let m: Map<String, Value> = labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        thanos.insert("labels".into(), Value::Object(m));
    }
    thanos
        .entry("downsample")
        .or_insert_with(|| json!({"resolution": 0}));
    thanos
        .entry("source")
        .or_insert_with(|| Value::String(THANOS_SOURCE.into()));
    let mut fl: Vec<Value> = files
        .iter()
        .map(|f| {
            let rel = f.rel.to_string_lossy();
            if rel == "meta.json" {
                json!({"rel_path": rel})
            } else {
                json!({"rel_path": rel, "size_bytes": f.size})
            }
        })
        .collect();
    if !files.iter().any(|f| f.rel == Path::new("meta.json")) {
        fl.push(json!({"rel_path": "meta.json"}));
    }
    thanos.insert("files".into(), Value::Array(fl));
    obj.insert("thanos".into(), Value::Object(thanos));
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(&v, &mut ser).map_err(|e| bad(&e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}

/// True if some number in `v` is not an `i64`/`u64`.
fn has_non_integer(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Number(n) => !(n.is_i64() || n.is_u64()),
        Value::Array(a) => a.iter().any(has_non_integer),
        Value::Object(m) => m.values().any(has_non_integer),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::meta::BlockMeta;

    #[test]
    fn thanos_section() {
        let raw = concat!(
            r#"{"ulid":"01ARZ3NDEKTSV4RRFFQ69G5FAV","minTime":1,"maxTime":2,"stats":{},"#,
            r#""compaction":{"level":1,"sources":["01ARZ3NDEKTSV4RRFFQ69G5FAV"]},"version":1}"#,
        )
        .as_bytes();
        let files = vec![
            BlockFile {
                rel: "chunks/000001".into(),
                size: 10,
            },
            BlockFile {
                rel: "index".into(),
                size: 20,
            },
            BlockFile {
                rel: "meta.json".into(),
                size: 5,
            },
        ];
        let labels = vec![("cluster".to_string(), "eu1".to_string())];
        let out = thanos_meta(raw, &labels, &files).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["thanos"]["labels"]["cluster"], "eu1");
        assert_eq!(v["thanos"]["source"], THANOS_SOURCE);
        assert_eq!(v["thanos"]["downsample"]["resolution"], 0);
        assert_eq!(v["thanos"]["files"][1]["size_bytes"], 20);
        assert_eq!(v["thanos"]["files"][2]["rel_path"], "meta.json");
        assert_eq!(v["minTime"], 1);
        // Still a Prometheus meta.json.
        assert!(BlockMeta::parse(&out).is_ok());
        // Idempotent: the same bytes again from its own output.
        assert_eq!(thanos_meta(&out, &labels, &files).unwrap(), out);
        assert!(valid_label_name("a_1") && !valid_label_name("1a") && !valid_label_name(""));
    }

    /// Found by the `thanos_meta` fuzz target: a number beyond 64 bits was
    /// rewritten as a float whose own encoding differed.
    #[test]
    fn non_integer_numbers_are_refused() {
        let files = Vec::new();
        for raw in [
            r#"{"ulid":"x","minTime":1795611111111111111111111111111111,"maxTime":2}"#,
            r#"{"ulid":"x","minTime":1,"maxTime":2,"extra":1.5}"#,
        ] {
            assert!(thanos_meta(raw.as_bytes(), &[], &files).is_err(), "{raw}");
        }
        let crash = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/fuzz-regressions/thanos_meta/crash-2ebb55bd502044fd198bc4e4114d8bf1f31ba8a9"
        ))
        .unwrap();
        let end = crash.iter().position(|&b| b == 0xff).unwrap();
        assert!(thanos_meta(&crash[..end], &[], &files).is_err());
    }
}
