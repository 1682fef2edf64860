#![no_main]
//! The Thanos meta.json encoder: any bytes as the source meta.json, any
//! external labels. What it encodes decodes: valid JSON whose
//! `thanos.labels` are the labels given, whose `thanos.files` list the
//! files, still a Prometheus meta.json with the same fields when the source
//! was one, and encoding its own output again gives the same bytes.
use libfuzzer_sys::fuzz_target;
use promsnap::copy::BlockFile;
use promsnap::format::meta::BlockMeta;
use promsnap::objstore::thanos_meta;

fuzz_target!(|data: &[u8]| {
    // meta.json bytes, 0xFF, then `name=value` lines.
    let (raw, rest) = match data.iter().position(|&b| b == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let labels: Vec<(String, String)> = String::from_utf8_lossy(rest)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let files = vec![
        BlockFile { rel: "chunks/000001".into(), size: 123 },
        BlockFile { rel: "index".into(), size: 45 },
    ];
    let Ok(out) = thanos_meta(raw, &labels, &files) else { return };
    let v: serde_json::Value = serde_json::from_slice(&out).expect("the output is JSON");
    let t = &v["thanos"];
    if !labels.is_empty() {
        let want: serde_json::Map<String, serde_json::Value> = labels
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        assert_eq!(t["labels"], serde_json::Value::Object(want));
    }
    assert!(t["labels"].is_object());
    let fl = t["files"].as_array().expect("thanos.files");
    assert_eq!(fl.len(), 3);
    assert_eq!(fl[0]["rel_path"], "chunks/000001");
    assert_eq!(fl[0]["size_bytes"], 123);
    assert_eq!(fl[2]["rel_path"], "meta.json");
    if let Ok(m) = BlockMeta::parse(raw) {
        let n = BlockMeta::parse(&out).expect("still a Prometheus meta.json");
        assert_eq!(
            (&n.ulid, n.min_time, n.max_time, n.version, n.compaction.level),
            (&m.ulid, m.min_time, m.max_time, m.version, m.compaction.level)
        );
        assert_eq!(n.stats.num_samples, m.stats.num_samples);
    }
    assert_eq!(thanos_meta(&out, &labels, &files).expect("its own output"), out);
});
