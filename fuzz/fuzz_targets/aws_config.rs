#![no_main]
//! The AWS shared config/credentials INI parser: any text parses (lines it
//! does not understand are skipped); a profile's keys are the credentials
//! file's, else the config file's section `[profile NAME]` (`[default]`).
use libfuzzer_sys::fuzz_target;
use promsnap::objstore::{Profile, parse_ini};

fuzz_target!(|data: &[u8]| {
    // Credentials text, NUL, config text.
    let (c, f) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let (c, f) = (String::from_utf8_lossy(c), String::from_utf8_lossy(f));
    let creds = parse_ini(&c);
    let config = parse_ini(&f);
    for (section, keys) in &creds {
        assert_eq!(section.trim(), section);
        for (k, v) in keys {
            assert_eq!(k.trim(), k);
            assert_eq!(v.trim(), v);
        }
        let name = section.as_str();
        let p = Profile::from_texts(name, &c, &f);
        let conf_section = if name == "default" {
            "default".to_string()
        } else {
            format!("profile {name}")
        };
        for k in keys.keys().chain(config.get(&conf_section).into_iter().flat_map(|m| m.keys())) {
            let want = keys
                .get(k)
                .or_else(|| config.get(&conf_section).and_then(|m| m.get(k)));
            assert_eq!(p.get(k).as_ref(), want);
        }
    }
});
