//! `promsnap copy` against `cp -r` + `sync`, with the time split into its
//! parts (plan, source verification, copy + fsync + re-read, both overlapped)
//! and `--link`.
//!
//! ```sh
//! bench/make-bench-data.sh /tmp/bench 1m
//! cargo bench --bench copy -- /tmp/bench/bench-1m /tmp/bench/work 3
//! ```
//! WORK should be on SRC's filesystem so that `--link` can link. The page
//! cache is not dropped: every variant reads a cached source.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use promsnap::copy::{self, CopyOptions, NoProgress};

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

fn rm(p: &Path) {
    let _ = std::fs::remove_dir_all(p);
}

// A benchmark: its setup and timed rounds read top to bottom.
#[allow(clippy::too_many_lines)]
fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (Some(src), Some(work)) = (args.first(), args.get(1)) else {
        eprintln!("usage: cargo bench --bench copy -- SRC WORK [ROUNDS]");
        return;
    };
    let rounds: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(3);
    let (src, work) = (Path::new(src), Path::new(work));
    std::fs::create_dir_all(work).expect("work dir");
    let opts = CopyOptions {
        retention: Some(i64::MAX / 2),
        ..CopyOptions::default()
    };
    let size: u64 = walkdir::WalkDir::new(src)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .sum();
    println!("source {} ({:.1} MB)", src.display(), size as f64 / 1e6);
    println!(
        "round | cp -r+sync | copy (verify ∥ copy) | ratio | verify only | copy only (verified) | \
         copy only, re-read from disk | --link"
    );
    for r in 1..=rounds {
        let (cp, ps, only, ln) = (
            work.join("cp"),
            work.join("ps"),
            work.join("only"),
            work.join("ln"),
        );
        for p in [&cp, &ps, &only, &ln] {
            rm(p);
        }
        let _ = Command::new("sync").status();
        let (_, t_cp) = timed(|| {
            assert!(
                Command::new("cp")
                    .arg("-r")
                    .arg(src)
                    .arg(&cp)
                    .status()
                    .unwrap()
                    .success()
            );
            assert!(Command::new("sync").status().unwrap().success());
        });
        // The whole command: plan, then verify and copy overlapped per block.
        let (rep, t_full) = timed(|| {
            let plan = copy::plan(src, &ps, &opts).unwrap();
            copy::execute(&plan, &opts, &NoProgress).unwrap()
        });
        assert_eq!(rep.refused.len() + rep.failed.len(), 0);
        // Its parts: verification alone, copying alone.
        let mut plan = copy::plan(src, &only, &opts).unwrap();
        let (_, t_verify) = timed(|| copy::verify_sources(&mut plan, &opts));
        let (rep, t_copy) = timed(|| copy::execute(&plan, &opts, &NoProgress).unwrap());
        assert_eq!(rep.copied.len(), plan.blocks.len());
        // The same, re-reading the copy from the device (--reread-from-disk).
        let dev = work.join("dev");
        let dopts = CopyOptions {
            reread_from_device: true,
            ..opts.clone()
        };
        let mut dplan = copy::plan(src, &dev, &dopts).unwrap();
        for b in &mut dplan.blocks {
            b.verified = true;
        }
        let (_, t_dev) = timed(|| copy::execute(&dplan, &dopts, &NoProgress).unwrap());
        rm(&dev);
        let lopts = CopyOptions {
            link: true,
            ..opts.clone()
        };
        let (rep, t_link) = timed(|| {
            let plan = copy::plan(src, &ln, &lopts).unwrap();
            copy::execute(&plan, &lopts, &NoProgress).unwrap()
        });
        assert!(rep.link);
        let mut lplan = copy::plan(src, &work.join("ln2"), &lopts).unwrap();
        for b in &mut lplan.blocks {
            b.verified = true;
        }
        rm(&work.join("ln2"));
        let (_, t_link_only) = timed(|| copy::execute(&lplan, &lopts, &NoProgress).unwrap());
        println!(
            "{r:5} | {:9.2}s | {:19.2}s | {:4.1}x | {:10.2}s | {:12.2}s ({:.1}x) | {:20.2}s \
             ({:.1}x) | {:.3}s ({:.0} ms without verify)",
            secs(t_cp),
            secs(t_full),
            secs(t_full) / secs(t_cp),
            secs(t_verify),
            secs(t_copy),
            secs(t_copy) / secs(t_cp),
            secs(t_dev),
            secs(t_dev) / secs(t_cp),
            secs(t_link),
            secs(t_link_only) * 1000.0
        );
        for p in [&cp, &ps, &only, &ln, &work.join("ln2")] {
            rm(p);
        }
    }
}
