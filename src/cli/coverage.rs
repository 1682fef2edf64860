//! `promsnap coverage`: the loss window of a snapshot + remote-write replica.

use std::io::Write;
use std::path::PathBuf;

use promsnap::coverage::{self, CoverageOptions, OperatorFacts, QueueSettings, Version};

use super::Outcome;

mod render;
use super::time::{Noted, parse_bytes, parse_duration, parse_noted};
use render::render;

fn parse_version(s: &str) -> Result<Version, String> {
    Version::parse(s).map_err(|e| e.to_string())
}

/// Arguments of `promsnap coverage`.
#[derive(Debug, clap::Args)]
pub struct CoverageArgs {
    /// The snapshot directory (`snapshots/<YYYYMMDDTHHMMSSZ>-<hex>`), or any block/data directory.
    pub snapshot: PathBuf,
    /// The master's data dir, or a copy of its `wal/` (+ `chunks_head/`), as it was at
    /// --observed-at.
    #[arg(long)]
    pub master: Option<PathBuf>,
    /// When --master was observed (RFC 3339 or Unix ms); default: its WAL's newest sample (a live
    /// master writes one every scrape; file times are not trusted: a copy carries the copy's).
    #[arg(long, value_parser = parse_noted, allow_hyphen_values = true)]
    pub observed_at: Option<Noted>,
    /// When the slave was (or will be) up and accepting remote write: its ready time, not its
    /// process start (a later ready line in --slave-log is taken). A time without sub-second
    /// digits is anywhere in that second (taken at its end).
    #[arg(long, value_parser = parse_noted, allow_hyphen_values = true)]
    pub slave_up: Option<Noted>,
    /// When the master's remote_write to the slave started (default: assumed before the snapshot):
    /// the master's start if its config had it then (its log's first `Starting WAL watcher` line
    /// for the queue), else the reload that added it (`Completed loading of configuration file`).
    /// Not taken from --master-log: give it.
    #[arg(long, value_parser = parse_noted, allow_hyphen_values = true)]
    pub rw_start: Option<Noted>,
    /// The master's block range (--storage.tsdb.min-block-duration); default: inferred, else 2h.
    #[arg(long, value_parser = parse_duration, allow_hyphen_values = true)]
    pub block_range: Option<i64>,
    /// The master's scrape interval; default: inferred from the newest block.
    #[arg(long, value_parser = parse_duration, allow_hyphen_values = true)]
    pub scrape_interval: Option<i64>,
    /// The slave's data directory, to check what it holds.
    #[arg(long)]
    pub slave: Option<PathBuf>,
    /// L5: the master's remote_write queue_config.sample_age_limit (default 0 = off).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", allow_hyphen_values = true)]
    pub sample_age_limit: Option<i64>,
    /// How long the queue took (takes) to send its backlog once the slave was up (default:
    /// instant).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", allow_hyphen_values = true)]
    pub catch_up: Option<i64>,
    /// L6: a master restart, or a change of its remote_write block or external labels (repeatable).
    #[arg(long, value_parser = parse_noted, allow_hyphen_values = true, value_name = "TIME")]
    pub master_restart: Vec<Noted>,
    /// L7: the HTTP status the slave's receiver answered remote write with (e.g. 404, 413, 429,
    /// 400).
    #[arg(long, value_name = "CODE")]
    pub receiver_rejects: Option<u16>,
    /// L7: when the receiver stopped answering --receiver-rejects (default: it still does).
    #[arg(
        long,
        value_parser = parse_noted,
        allow_hyphen_values = true,
        value_name = "TIME",
        requires = "receiver_rejects"
    )]
    pub rejects_until: Option<Noted>,
    /// L8: the slave's --storage.tsdb.retention.time (default 15d if no size retention
    /// either; 0 = off).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", allow_hyphen_values = true)]
    pub slave_retention: Option<i64>,
    /// L8: the slave's --storage.tsdb.retention.size (512MB, 1GiB, …: base 2, as
    /// Prometheus; 0 = off).
    #[arg(long, value_parser = parse_bytes, value_name = "BYTES", allow_hyphen_values = true)]
    pub slave_retention_size: Option<u64>,
    /// L9: the master's remote_write send_native_histograms (default false, as Prometheus).
    #[arg(
        long,
        value_name = "BOOL",
        action = clap::ArgAction::Set,
        value_parser = clap::value_parser!(bool)
    )]
    pub send_native_histograms: Option<bool>,
    /// L10: the master's Prometheus version (2.51.0–2.53.0 skip samples after a long stall).
    #[arg(long, value_parser = parse_version, value_name = "X.Y.Z")]
    pub master_version: Option<Version>,
    /// The master's remote_write queue_config.max_samples_per_send (default: 500 before v2.44, 2000
    /// since).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub max_samples_per_send: Option<u64>,
    /// The master's remote_write queue_config.capacity (default: 2500 before v2.44, 10000 since).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub queue_capacity: Option<u64>,
    /// The master's remote_write queue_config.min_shards (default 1).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub min_shards: Option<u64>,
    /// The master's remote_write queue_config.max_shards (default: 200 before v2.44, 50 since).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub max_shards: Option<u64>,
    /// The master's remote_write queue_config.batch_send_deadline (default 5s).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", allow_hyphen_values = true)]
    pub batch_send_deadline: Option<i64>,
    /// Series the slave's queue sends per scrape round after its write_relabel_configs (default:
    /// all).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub sent_series: Option<u64>,
    /// The master's remote_write queue_config.max_backoff (default 5s).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", allow_hyphen_values = true)]
    pub max_backoff: Option<i64>,
    /// The slave's storage.tsdb.out_of_order_time_window (default 0 = off).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", allow_hyphen_values = true)]
    pub slave_ooo_window: Option<i64>,
    /// The slave's --storage.tsdb.min-block-duration (default: the master's block range, with a
    /// bound for any shorter one).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", allow_hyphen_values = true)]
    pub slave_block_range: Option<i64>,
    /// A slave restart after --slave-up: when it was stopped and when it was ready again
    /// (repeatable; default: none).
    #[arg(long, value_parser = parse_restart, value_name = "STOPPED,READY")]
    pub slave_restart: Vec<(Noted, Noted)>,
    /// The slave was already up and receiving this master's remote write before the snapshot,
    /// and was stopped at TIME to be seeded from it (RFC 3339 or Unix ms; --slave-up is its
    /// ready time after the seeding).
    #[arg(long, value_parser = parse_noted, value_name = "TIME")]
    pub slave_received_until: Option<Noted>,
    /// The master's log: the slave's queue's reshards and refused requests during the catch-up.
    /// Read per line: logfmt or --log.format=json, bare (a journal/stderr copy too) or in a
    /// `journalctl -o json` or Docker json-file envelope.
    #[arg(long, value_name = "FILE")]
    pub master_log: Option<PathBuf>,
    /// The slave's queue in --master-log, by its remote_name or url (default: the log's only
    /// queue).
    #[arg(long, value_name = "NAME_OR_URL", requires = "master_log")]
    pub master_log_queue: Option<String>,
    /// When --master-log was taken (RFC 3339 or Unix ms): every line up to then is in it, so a
    /// quiet log reaches that far (default: its last line). Not before its last line.
    #[arg(
        long,
        value_parser = parse_noted,
        value_name = "TIME",
        requires = "master_log",
        allow_hyphen_values = true
    )]
    pub master_log_at: Option<Noted>,
    /// The slave's log: the remote-write requests it refused, one line each, which place the
    /// boundary loss. Read per line as --master-log is (logfmt or JSON, bare or in an envelope).
    #[arg(long, value_name = "FILE")]
    pub slave_log: Option<PathBuf>,
    /// When --slave-log was taken (RFC 3339 or Unix ms): every line up to then is in it (default:
    /// its last line). Not before its last line.
    #[arg(
        long,
        value_parser = parse_noted,
        value_name = "TIME",
        requires = "slave_log",
        allow_hyphen_values = true
    )]
    pub slave_log_at: Option<Noted>,
    /// One JSON document on stdout (format in the README).
    #[arg(long)]
    pub json: bool,
}

/// `STOPPED,READY`: two times (each as `--slave-up` takes it).
fn parse_restart(s: &str) -> Result<(Noted, Noted), String> {
    let (a, b) = s
        .split_once(',')
        .ok_or_else(|| format!("{s}: give STOPPED,READY (two times)"))?;
    let (a, b) = (parse_noted(a.trim())?, parse_noted(b.trim())?);
    if b.ms.saturating_add(b.width) <= a.ms {
        return Err(format!(
            "{s}: the slave is ready again before it was stopped"
        ));
    }
    Ok((a, b))
}

/// How finely each time was given (its last digit's unit).
fn noted(args: &CoverageArgs) -> coverage::noted::NotedTimes {
    let w = |n: Option<Noted>| n.map_or(1, |n| n.width);
    coverage::noted::NotedTimes {
        observed_at: w(args.observed_at),
        slave_up: w(args.slave_up),
        rw_start: w(args.rw_start),
        master_restarts: args.master_restart.iter().map(|n| n.width).collect(),
        slave_restarts: args
            .slave_restart
            .iter()
            .map(|(a, b)| (a.width, b.width))
            .collect(),
        slave_received_until: w(args.slave_received_until),
        rejects_until: w(args.rejects_until),
        master_log_at: w(args.master_log_at),
        slave_log_at: w(args.slave_log_at),
    }
}

/// Runs `coverage`.
pub fn run(args: &CoverageArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let opts = CoverageOptions {
        block_range: args.block_range,
        master: args.master.clone(),
        observed_at: args.observed_at.map(|n| n.ms),
        slave_up: args.slave_up.map(|n| n.ms),
        rw_start: args.rw_start.map(|n| n.ms),
        slave: args.slave.clone(),
        scrape_interval: args.scrape_interval,
        facts: OperatorFacts {
            sample_age_limit: args.sample_age_limit,
            catch_up: args.catch_up,
            master_restarts: args.master_restart.iter().map(|n| n.ms).collect(),
            receiver_rejects: args.receiver_rejects,
            rejects_until: args.rejects_until.map(|n| n.ms),
            slave_retention: args.slave_retention,
            slave_retention_size: args.slave_retention_size,
            send_native_histograms: args.send_native_histograms,
            master_version: args.master_version,
            queue: QueueSettings {
                max_samples_per_send: args.max_samples_per_send,
                capacity: args.queue_capacity,
                min_shards: args.min_shards,
                max_shards: args.max_shards,
                batch_send_deadline: args.batch_send_deadline,
                min_backoff: None,
                max_backoff: args.max_backoff,
            },
            sent_series: args.sent_series,
            slave_ooo_window: args.slave_ooo_window,
            slave_block_range: args.slave_block_range,
            slave_restarts: args
                .slave_restart
                .iter()
                .map(|(a, b)| (a.ms, b.ms))
                .collect(),
            slave_received_until: args.slave_received_until.map(|n| n.ms),
            master_log: None,
            slave_log: None,
            noted: noted(args),
        },
        head_block: None,
        master_log: args.master_log.clone(),
        master_log_queue: args.master_log_queue.clone(),
        master_log_at: args.master_log_at.map(|n| n.ms),
        slave_log: args.slave_log.clone(),
        slave_log_at: args.slave_log_at.map(|n| n.ms),
    };
    let report = coverage::coverage(&args.snapshot, &opts)?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(render(&report).as_bytes())?;
        out.write_all(heal_hint(&report, args).as_bytes())?;
    }
    Ok(if report.has_errors() {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}
/// The operator's next step when the answer names a loss: measure it once the slave has caught
/// up, and write it back from the master's data (`gaps --against`, `fill`). Empty otherwise.
fn heal_hint(r: &coverage::CoverageReport, args: &CoverageArgs) -> String {
    if r.loss_windows.is_empty() || r.slave_up.is_none() {
        return String::new();
    }
    // `--master` may be a copy of `wal/` alone; fill reads the master's data dir.
    let master = args
        .master
        .as_deref()
        .filter(|m| m.join("wal").is_dir())
        .map_or_else(|| "MASTER_DATA_DIR".to_string(), super::seed::sh);
    let slave = args
        .slave
        .as_deref()
        .map_or_else(|| "SLAVE_DATA_DIR".to_string(), super::seed::sh);
    format!(
        "Heal: once the slave has caught up, `promsnap gaps {slave} --against {master}` \
         measures what it lacks, and `promsnap fill {slave} --from {master}` writes it back \
         (`--dry-run` first; `--drop-label NAME` for each of the master's external_labels)\n"
    )
}

#[cfg(test)]
mod tests {
    /// `--slave-restart STOPPED,READY`: two times, ready not before stopped.
    #[test]
    fn slave_restart_takes_two_ordered_times() {
        let ms = |(a, b): (super::Noted, super::Noted)| (a.ms, b.ms);
        assert_eq!(
            super::parse_restart("1000, 2500").map(ms),
            Ok((1_000, 2_500))
        );
        // Both in the same second: not refused.
        assert!(super::parse_restart("2026-12-07T05:31:12.400Z,2026-12-07T05:31:12Z").is_ok());
        assert!(super::parse_restart("2500,1000").is_err());
        assert!(super::parse_restart("1000").is_err());
    }
}
