//! `s3://BUCKET/PREFIX` arguments of `copy`, `verify` and `ls`: the thin
//! layer over [`promsnap::objstore`].

use std::path::Path;

/// How to reach an S3 or S3-compatible server (flattened into the commands
/// that accept `s3://` URLs).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct S3Args {
    /// S3-compatible server for s3:// URLs (e.g. http://127.0.0.1:8333):
    /// path-style requests (default: AWS_ENDPOINT_URL, the profile's
    /// endpoint_url, else AWS).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Region for s3:// URLs (default: AWS_REGION, AWS_DEFAULT_REGION, the
    /// profile's, else us-east-1).
    #[arg(long)]
    pub region: Option<String>,
    /// Profile of ~/.aws/credentials and ~/.aws/config (default: AWS_PROFILE,
    /// else default).
    #[arg(long)]
    pub profile: Option<String>,
    /// Unsigned requests to s3:// URLs even when credentials are found.
    #[arg(long)]
    pub anonymous: bool,
}

/// A Thanos/Mimir marker object of a block: (ULID, object name).
pub type Mark = (String, &'static str);

/// The `s3://…` string of a path argument, if it is one.
pub fn s3_arg(p: &Path) -> Option<&str> {
    p.to_str().filter(|s| s.starts_with("s3://"))
}

#[cfg(not(feature = "s3"))]
fn no_s3(url: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{url}: this promsnap was built without object storage support (cargo feature `s3`)"
    )
}

#[cfg(feature = "s3")]
mod imp {
    use std::io::{IsTerminal, Write};
    use std::time::Instant;

    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use promsnap::check::CheckOptions;
    use promsnap::copy::{CopyOptions, CopyReport, Progress};
    use promsnap::objstore::{self, Bucket, S3Url, StoreOptions};

    use super::super::Outcome;
    use super::super::copy::{CopyArgs, VerifyLevel};
    use super::*;

    pub fn open(url: &str, a: &S3Args, jobs: usize) -> anyhow::Result<Bucket> {
        let u = S3Url::parse(url)?;
        let opts = StoreOptions {
            endpoint: a.endpoint.clone(),
            region: a.region.clone(),
            profile: a.profile.clone(),
            anonymous: a.anonymous,
            concurrency: if jobs == 0 { 0 } else { jobs * 8 },
        };
        Ok(Bucket::open(&u, &opts)?)
    }

    struct Bar(ProgressBar);

    impl Progress for Bar {
        fn bytes(&self, n: u64) {
            self.0.inc(n);
        }
        fn block_done(&self, _: &str) {}
    }

    fn bar(show: bool) -> Bar {
        if !show {
            return Bar(ProgressBar::hidden());
        }
        let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("{bytes} {binary_bytes_per_sec} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Bar(b)
    }

    fn labels(args: &CopyArgs) -> anyhow::Result<Vec<(String, String)>> {
        args.external_labels
            .iter()
            .map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .ok_or_else(|| anyhow::anyhow!("--external-label {kv}: expected NAME=VALUE"))
            })
            .collect()
    }

    fn upload_options(
        args: &CopyArgs,
        check: CheckOptions,
    ) -> anyhow::Result<objstore::UploadOptions> {
        Ok(objstore::UploadOptions {
            min_time: args.min_time,
            max_time: args.max_time,
            blocks: args.blocks.clone(),
            external_labels: labels(args)?,
            check,
            skip_verify: args.verify == VerifyLevel::None,
            dry_run: args.dry_run,
        })
    }

    /// Refuses the flags that only a local target takes.
    fn local_target_only(args: &CopyArgs) -> anyhow::Result<()> {
        if args.link
            || args.allow_overlap
            || args.retention.is_some()
            || args.retention_size.is_some()
        {
            anyhow::bail!(concat!(
                "--link, --allow-overlap, --retention and --retention-size apply ",
                "to a local target only"
            ));
        }
        Ok(())
    }

    /// A restore's options from the flags.
    fn restore_options(args: &CopyArgs, check: CheckOptions) -> objstore::RestoreOptions {
        objstore::RestoreOptions {
            copy: CopyOptions {
                link: true,
                check,
                ..super::super::copy::copy_options(args)
            },
            dry_run: args.dry_run,
        }
    }

    /// `copy` with an `s3://` source or target; `None` when neither is one.
    pub fn copy(args: &CopyArgs, out: &mut dyn Write) -> anyhow::Result<Option<Outcome>> {
        let (src, dst) = (s3_arg(&args.src), s3_arg(&args.dst));
        if src.is_none() && dst.is_none() {
            if !args.external_labels.is_empty() {
                anyhow::bail!(
                    "--external-label applies to uploads (copy DIR s3://BUCKET/PREFIX) only"
                );
            }
            return Ok(None);
        }
        let started = Instant::now();
        super::super::time::check_range("--min-time", args.min_time, "--max-time", args.max_time)?;
        let check = CheckOptions {
            quick: args.verify == VerifyLevel::Quick,
            ..CheckOptions::default()
        };
        let plain = anyhow::Error::from;
        let attended = !args.json && std::io::stderr().is_terminal();
        let progress = bar(attended);
        let report: CopyReport = match (src, dst) {
            (Some(s), Some(d)) => {
                local_target_only(args)?;
                let from = open(s, &args.s3, args.jobs.unwrap_or(0))?;
                let to = open(d, &args.s3, args.jobs.unwrap_or(0))?;
                objstore::transfer(&from, &to, &upload_options(args, check)?, &progress)
                    .map_err(plain)?
            }
            (None, Some(d)) => {
                local_target_only(args)?;
                let bucket = open(d, &args.s3, args.jobs.unwrap_or(0))?;
                let opts = upload_options(args, check)?;
                objstore::upload(&args.src, &bucket, &opts, &progress).map_err(plain)?
            }
            (Some(s), None) => {
                if !args.external_labels.is_empty() {
                    anyhow::bail!("--external-label applies to uploads only");
                }
                let bucket = open(s, &args.s3, args.jobs.unwrap_or(0))?;
                let opts = restore_options(args, check);
                objstore::restore(&bucket, &args.dst, &opts, &progress).map_err(plain)?
            }
            // Neither is a bucket: returned above; local copy goes on.
            (None, None) => return Ok(None),
        };
        progress.0.finish_and_clear();
        let mut report = report;
        report.duration_ms = started.elapsed().as_millis() as u64;
        if args.json {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        } else {
            out.write_all(super::super::copy::render(&report).as_bytes())?;
        }
        if !report.failed.is_empty() {
            anyhow::bail!(
                concat!(
                    "{} block(s) could not be copied (errors above); no block is ",
                    "visible half-written in {}"
                ),
                report.failed.len(),
                report.dst.display()
            );
        }
        Ok(Some(if report.refused.is_empty() {
            Outcome::Ok
        } else {
            Outcome::Findings
        }))
    }

    pub fn verify(
        url: &str,
        a: &S3Args,
        opts: &CheckOptions,
        progress: &(dyn Fn(&promsnap::check::block::BlockCheck) + Sync),
    ) -> promsnap::error::Result<promsnap::check::dir::DirCheck> {
        let bucket = open(url, a, 0)
            .map_err(|e| promsnap::error::Error::Usage(crate::cli::flag::describe(&e)))?;
        objstore::verify(&bucket, opts, progress)
    }

    pub fn ls(url: &str, a: &S3Args) -> anyhow::Result<(promsnap::list::Listing, Vec<Mark>)> {
        let bucket = open(url, a, 0)?;
        let (l, blocks) = objstore::listing(&bucket)?;
        let mut marks = Vec::new();
        for b in blocks {
            if b.deletion_mark {
                marks.push((b.ulid.clone(), "deletion-mark.json"));
            }
            if b.no_compact_mark {
                marks.push((b.ulid.clone(), "no-compact-mark.json"));
            }
        }
        Ok((l, marks))
    }
}

#[cfg(feature = "s3")]
pub use imp::*;

/// `copy` without object storage support: an error for `s3://` URLs.
#[cfg(not(feature = "s3"))]
pub fn copy(
    args: &super::copy::CopyArgs,
    _out: &mut dyn std::io::Write,
) -> anyhow::Result<Option<super::Outcome>> {
    match s3_arg(&args.src).or(s3_arg(&args.dst)) {
        Some(u) => Err(no_s3(u)),
        None => Ok(None),
    }
}

/// `verify` without object storage support.
#[cfg(not(feature = "s3"))]
pub fn verify(
    url: &str,
    _a: &S3Args,
    _opts: &promsnap::check::CheckOptions,
    _progress: &(dyn Fn(&promsnap::check::block::BlockCheck) + Sync),
) -> promsnap::error::Result<promsnap::check::dir::DirCheck> {
    Err(promsnap::error::Error::Usage(no_s3(url).to_string()))
}

/// `ls` without object storage support.
#[cfg(not(feature = "s3"))]
pub fn ls(url: &str, _a: &S3Args) -> anyhow::Result<(promsnap::list::Listing, Vec<Mark>)> {
    Err(no_s3(url))
}
