//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `testdata/<rel>`.
pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

/// Runs the built `promsnap` binary.
pub fn promsnap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_promsnap"))
        .args(args)
        .output()
        .expect("run promsnap")
}

/// Reads a gzip oracle into a string.
pub fn gunzip(path: &Path) -> String {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut s = String::new();
    flate2::read::GzDecoder::new(f)
        .read_to_string(&mut s)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    s
}

/// Asserts two multi-line texts are equal, showing the first differing line.
pub fn assert_same_lines(ours: &str, oracle: &str, what: &str) {
    if ours == oracle {
        return;
    }
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), oracle.lines().collect());
    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
        if x != y {
            panic!(
                "{what}: line {} differs\n ours:   {x}\n oracle: {y}\n({} vs {} lines)",
                i + 1,
                a.len(),
                b.len()
            );
        }
    }
    panic!(
        "{what}: {} lines ours vs {} lines oracle (common prefix equal); trailing newline ours={} \
         oracle={}",
        a.len(),
        b.len(),
        ours.ends_with('\n'),
        oracle.ends_with('\n')
    );
}

/// Recursively copies a directory (for damaging copies in tests).
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
            let mut p = std::fs::metadata(&to).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            p.set_readonly(false);
            std::fs::set_permissions(&to, p).unwrap();
        }
    }
}

/// The live fixture's snapshot with the head written as a block.
pub const LIVE_WITH_HEAD: &str = "prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98";
/// The live fixture's `skip_head` snapshot.
pub const LIVE_SKIP_HEAD: &str = "prom-2.42-live/data/snapshots/20261125T091235Z-7531d0e39246db15";

/// Runs `promsnap` with `args` (which include `--json`) and parses stdout.
pub fn run_json(args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = promsnap(args);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: {e}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), v)
}

/// Whether `promtool` is on the PATH. Without it, oracle tests that run it
/// are skipped — except under `CI=true`, where its absence is a failure.
/// `promtool tsdb dump` of a data directory: its stdout (asserting success).
pub fn promtool_tsdb_dump(dir: &Path) -> String {
    let out = Command::new("promtool")
        .args(["tsdb", "dump"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool tsdb dump {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn promtool_available(what: &str) -> bool {
    let ok = Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{what}: promtool is not installed but CI is set"
        );
        eprintln!("{what}: promtool not on PATH: skipped");
    }
    ok
}

/// The peer corpus (real TSDB bytes other projects ship, with promtool
/// oracles), when `$PEER_DATA` names one (`.ci/run` sets it).
pub fn peer_data() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var_os("PEER_DATA")?);
    p.join("datasets.tsv").is_file().then_some(p)
}

/// OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`: the
/// gauge `name{job="bf"}` with value `t % modulo` at each second `t` of
/// `times`, then the lines of `extra`, then `# EOF`.
pub fn gauge_om(
    name: &str,
    times: impl IntoIterator<Item = i64>,
    modulo: i64,
    extra: &str,
) -> String {
    let mut om = format!("# TYPE {name} gauge\n");
    for t in times {
        om.push_str(&format!("{name}{{job=\"bf\"}} {} {t}\n", t % modulo));
    }
    om.push_str(extra);
    om.push_str("# EOF\n");
    om
}
