//! Checks of the source tree itself (issue 18): the crate doc names every
//! module, and the lines rustfmt cannot format do not grow in number.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, recursively, into `out`.
pub(crate) fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Lines of `src/` over 100 columns, at most. rustfmt leaves alone a line
/// it cannot fit, and the code around it: a message goes in a `const`,
/// `concat!` or a `\`-continued literal instead. What is left: diagrams
/// and tables in module docs, long literals of tests. Lower it when you
/// shorten lines; never raise it.
const LONG_LINES_MAX: usize = 17;

#[test]
fn lines_over_100_columns_do_not_grow() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rs_files(&root.join("src"), &mut files);
    assert!(files.len() > 100, "sources not found");
    files.sort();
    let mut long = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            if line.chars().count() > 100 {
                let rel = f.strip_prefix(root).unwrap_or(f);
                long.push(format!("{}:{}", rel.display(), i + 1));
            }
        }
    }
    assert!(
        long.len() <= LONG_LINES_MAX,
        "{} lines over 100 columns under src/ (at most {LONG_LINES_MAX}): {long:#?}",
        long.len()
    );
}

#[test]
fn crate_doc_names_every_module() {
    let lib = include_str!("lib.rs");
    let doc: String = lib
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .collect::<Vec<_>>()
        .join("\n");
    let missing: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';'))
        .filter(|m| !doc.contains(&format!("[`{m}`]")))
        .collect();
    assert!(
        missing.is_empty(),
        "modules the crate doc does not name: {missing:?}"
    );
}
