//! The run matrix that judges `promsnap coverage`'s loss estimate against the
//! real Prometheus 2.42 (issue 14, measurement side).
//!
//! Each *master* is a real Prometheus on a short clock (1 min blocks) scraping
//! a small exporter thread in this process (N series on loopback, every value
//! changing at every scrape), with one `remote_write` queue per *slave* URL,
//! all down at first. Once its first block is written, the master's snapshot
//! is taken with the admin API (also with `skip_head=true` when a slave wants
//! it); then each slave is started on a copy of a snapshot at its own moment:
//! a few seconds later, ≈40 s later (before the next truncation), once a WAL
//! checkpoint newer than the snapshot appears (the stalled reader overtaken),
//! or after several more head truncations. A slave may get its queue only when
//! it starts (`/-/reload`: remote write enabled late), and a master may be
//! restarted during the outage. At each slave start the master's `wal/` is
//! copied: with the snapshot's block metas and the recorded wall times that is
//! what `coverage` is given. A fixed settle time (45–60 s) after the last
//! slave is up, the master is stopped, then the slaves, and
//! `gaps SLAVE --against MASTER` measures the real loss (up to 10 s before
//! the master's stop).
//!
//! Every slave's evidence goes to `<out>/<master>-<slave>/` in the format that
//! `testdata/loss-runs/README.md` describes, and `lossruns.rs` judges the
//! estimator on it without servers.
//!
//! `scripts/loss-matrix.sh` records masters (`lossmatrix::record`, ignored in
//! the normal test run: 6–12 minutes of wall time per master). The test
//! `lossmatrix::ci_subset` runs the small `ci` master (three slaves, ≈5 min)
//! into a temporary directory and judges it; it is skipped without
//! `prometheus` on the PATH (and fails then under CI=true).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::realserver::{
    Server, copy_live_dir, free_port, has_block, http, now_ms, prometheus_available, sleep_until,
    wait_for,
};
use crate::util::{copy_dir, promsnap};

#[path = "lossmatrix_logs.rs"]
mod logs;

/// An exporter serving `series` gauges in the text format on loopback; the
/// values change at every scrape.
pub(crate) struct Exporter {
    pub(crate) port: u16,
    /// The wall times (ms) it serves from / until; outside them every
    /// scrape is answered 503 (the target is down: `up` 0, and the
    /// master writes staleness markers for the series it had).
    gate: Arc<[AtomicI64; 2]>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// How an exporter's series deviate from plain gauges scraped at the
/// scrape time.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ExpOpts {
    /// `(n, k)`: the first `n` series carry a label `gen` that changes
    /// every `k` scrapes (series churn: new series created and the old
    /// ones stale-marked all the time).
    pub(crate) churn: Option<(usize, u64)>,
    /// Every sample exposed with an explicit timestamp this much (ms)
    /// before the scrape (`honor_timestamps`: older than the scrape time).
    pub(crate) ts_lag_ms: i64,
    /// A slow target: every answer delayed by `lo..=hi` ms after the
    /// request (a different delay each scrape).
    pub(crate) delay_ms: Option<(u64, u64)>,
    /// This many native histograms (`lm_hist`, 4 buckets each) next to the
    /// gauges, every series served in the protobuf exposition format.
    pub(crate) native_hist: usize,
}

/// A protobuf varint.
fn pb_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A protobuf field key.
fn pb_key(out: &mut Vec<u8>, field: u64, wire: u64) {
    pb_varint(out, field << 3 | wire);
}

fn pb_bytes(out: &mut Vec<u8>, field: u64, b: &[u8]) {
    pb_key(out, field, 2);
    pb_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn pb_double(out: &mut Vec<u8>, field: u64, v: f64) {
    pb_key(out, field, 1);
    out.extend_from_slice(&v.to_le_bytes());
}

fn pb_uint(out: &mut Vec<u8>, field: u64, v: u64) {
    pb_key(out, field, 0);
    pb_varint(out, v);
}

/// A zig-zag (`sint32`/`sint64`) field.
fn pb_sint(out: &mut Vec<u8>, field: u64, v: i64) {
    pb_uint(out, field, ((v << 1) ^ (v >> 63)) as u64);
}

/// A `io.prometheus.client.Metric`'s labels.
fn pb_labels(m: &mut Vec<u8>, target: &str, i: usize) {
    for (k, v) in [("target", target.to_string()), ("i", i.to_string())] {
        let mut lp = Vec::new();
        pb_bytes(&mut lp, 1, k.as_bytes());
        pb_bytes(&mut lp, 2, v.as_bytes());
        pb_bytes(m, 1, &lp);
    }
}

/// The exposition in the protobuf format (`MetricFamily` messages, each
/// length-delimited): `series` gauges `lm_value` and `hists` native
/// histograms `lm_hist` (schema 0, 4 positive buckets, counts growing
/// with every scrape).
fn exposition_pb(target: &str, series: usize, hists: usize, n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut fam = Vec::new();
    pb_bytes(&mut fam, 1, b"lm_value");
    pb_uint(&mut fam, 3, 1);
    for i in 0..series {
        let mut m = Vec::new();
        pb_labels(&mut m, target, i);
        let mut g = Vec::new();
        pb_double(&mut g, 1, (n * (i as u64 % 13 + 1)) as f64);
        pb_bytes(&mut m, 2, &g);
        pb_bytes(&mut fam, 4, &m);
    }
    pb_varint(&mut out, fam.len() as u64);
    out.extend_from_slice(&fam);
    if hists == 0 {
        return out;
    }
    let mut fam = Vec::new();
    pb_bytes(&mut fam, 1, b"lm_hist");
    pb_uint(&mut fam, 3, 4);
    for i in 0..hists {
        let counts: Vec<i64> = (0..4)
            .map(|k| (n * (k + 1) + i as u64 % 5) as i64)
            .collect();
        let zero = n;
        let mut h = Vec::new();
        pb_uint(&mut h, 1, zero + counts.iter().sum::<i64>() as u64);
        pb_double(&mut h, 2, (n * 10 + i as u64) as f64);
        pb_sint(&mut h, 5, 0);
        pb_double(&mut h, 6, 1e-128);
        pb_uint(&mut h, 7, zero);
        let mut span = Vec::new();
        pb_sint(&mut span, 1, 0);
        pb_uint(&mut span, 2, counts.len() as u64);
        pb_bytes(&mut h, 12, &span);
        let mut prev = 0;
        for c in &counts {
            pb_sint(&mut h, 13, c - prev);
            prev = *c;
        }
        let mut m = Vec::new();
        pb_labels(&mut m, target, i);
        pb_bytes(&mut m, 7, &h);
        pb_bytes(&mut fam, 4, &m);
    }
    pb_varint(&mut out, fam.len() as u64);
    out.extend_from_slice(&fam);
    out
}

fn exposition(target: &str, series: usize, n: u64, opts: ExpOpts) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(series * 64 + 64);
    s.push_str("# TYPE lm_value gauge\n");
    let ts = (opts.ts_lag_ms > 0).then(|| format!(" {}", now_ms() - opts.ts_lag_ms));
    let ts = ts.as_deref().unwrap_or("");
    for i in 0..series {
        let v = n * (i as u64 % 13 + 1);
        match opts.churn {
            Some((c, k)) if i < c => {
                let g = n / k.max(1);
                let _ = writeln!(
                    s,
                    "lm_value{{target=\"{target}\",i=\"{i}\",gen=\"{g}\"}} {v}{ts}"
                );
            }
            _ => {
                let _ = writeln!(s, "lm_value{{target=\"{target}\",i=\"{i}\"}} {v}{ts}");
            }
        }
    }
    s
}

impl Exporter {
    /// With `opts`: churning series or lagging timestamps.
    pub(crate) fn start(target: &str, series: usize, opts: ExpOpts) -> Exporter {
        let listener = TcpListener::bind("127.0.0.1:0").expect("exporter bind");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let gate = Arc::new([AtomicI64::new(i64::MIN), AtomicI64::new(i64::MAX)]);
        let gate2 = gate.clone();
        let target = target.to_string();
        let handle = std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop2.load(Ordering::SeqCst) {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(k) => req.extend_from_slice(&buf[..k]),
                    }
                }
                let now = now_ms();
                if now < gate2[0].load(Ordering::SeqCst) || now >= gate2[1].load(Ordering::SeqCst) {
                    let _ = conn.write_all(
                        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    continue;
                }
                n += 1;
                if let Some((lo, hi)) = opts.delay_ms {
                    let d = lo + (n * 7_919) % (hi - lo + 1);
                    std::thread::sleep(Duration::from_millis(d));
                }
                let (body, ctype) = if opts.native_hist > 0 {
                    (
                        exposition_pb(&target, series, opts.native_hist, n),
                        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
                    )
                } else {
                    (
                        exposition(&target, series, n, opts).into_bytes(),
                        "text/plain; version=0.0.4",
                    )
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(&body);
            }
        });
        Exporter {
            port,
            gate,
            stop,
            handle: Some(handle),
        }
    }
}

impl Exporter {
    /// Serves only from `from` until `until` (wall ms; `None`: unbounded).
    fn set_window(&self, from: Option<i64>, until: Option<i64>) {
        self.gate[0].store(from.unwrap_or(i64::MIN), Ordering::SeqCst);
        self.gate[1].store(until.unwrap_or(i64::MAX), Ordering::SeqCst);
    }
}

/// A duration as Prometheus reads it ("7s", "500ms").
fn prom_dur(ms: i64) -> String {
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// When a step of a master's run happens.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Trigger {
    /// This long after the snapshot call returned (ms).
    AfterSnapshot(i64),
    /// 3 s after a WAL checkpoint that was not there at the snapshot appears.
    NewCheckpoint,
    /// 3 s after this many head compactions (blocks) since the snapshot.
    Truncations(usize),
}

#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// Start a slave.
    Slave {
        name: &'static str,
        /// Started on the `skip_head=true` snapshot.
        skip_head: bool,
        /// Its queue is added by a config reload just before it starts.
        late_rw: bool,
    },
    /// Stop the master (SIGTERM; with `kill` a SIGKILL at once, no SIGTERM,
    /// so no stop line in its log) and start it again after `down_ms`.
    Restart { down_ms: i64, kill: bool },
    /// Stop a slave already up (SIGKILL with `kill`, else SIGTERM) and
    /// start it again on its own data dir and port after `down_ms`.
    SlaveRestart {
        name: &'static str,
        down_ms: i64,
        kill: bool,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) trigger: Trigger,
    pub(crate) action: Action,
}

#[derive(Debug, Clone)]
pub(crate) struct MasterSpec {
    pub(crate) name: &'static str,
    /// Series in all (split evenly over the targets).
    pub(crate) series: usize,
    pub(crate) targets: usize,
    pub(crate) scrape_ms: i64,
    /// `--storage.tsdb.wal-segment-size=10MB`, and
    /// `--no-storage.tsdb.wal-compression` unless `wal_compression`.
    pub(crate) busy: bool,
    /// With `busy`: keep 2.42's default WAL compression (snappy).
    pub(crate) wal_compression: bool,
    /// `--no-storage.tsdb.wal-compression` with the default segment size
    /// (every other non-busy master keeps 2.42's default, snappy).
    pub(crate) uncompressed: bool,
    /// In order of time.
    pub(crate) steps: Vec<Step>,
    /// Wait after the last slave is up before stopping the master (ms).
    pub(crate) settle_ms: i64,
    /// `--storage.tsdb.min-block-duration` and `max-block-duration` ("1m").
    pub(crate) block: &'static str,
    /// A non-default `queue_config` for every remote-write queue.
    pub(crate) queue: Option<QueueCfg>,
    /// Per target, its own scrape interval (ms), one job per target; empty:
    /// every target at `scrape_ms` (the global interval, recorded as
    /// `scrape_interval_ms`).
    pub(crate) intervals: &'static [i64],
    /// Per target its own series count (sums to `series`); empty: `series`
    /// split evenly over the targets.
    pub(crate) sizes: &'static [usize],
    /// Per target, when it is scraped successfully, relative to the snapshot
    /// (ms; `None`: unbounded): a target that appears or goes down during
    /// the outage. Empty: every target always up.
    pub(crate) windows: &'static [(Option<i64>, Option<i64>)],
    /// A `write_relabel_configs` rule on every slave's queue keeping only
    /// the series whose `i` label matches this regex (the rest is never
    /// sent).
    pub(crate) keep_i: Option<&'static str>,
    /// A second `remote_write` endpoint, a healthy receiver up the whole
    /// time, next to the slaves' queues.
    pub(crate) healthy_rw: bool,
    /// Churning series and lagging explicit timestamps of every exporter.
    pub(crate) exp: ExpOpts,
    /// The slaves' block range (`--storage.tsdb.{min,max}-block-duration`);
    /// `None`: 1m like the others.
    pub(crate) slave_block: Option<&'static str>,
    /// Take the snapshot at the master's first head compaction (as soon as
    /// its `.tmp-for-creation` block dir appears) instead of 3 s after the
    /// first block.
    pub(crate) snap_at_compaction: bool,
    /// When the snapshot is taken: `delay_ms` after the master's
    /// `blocks`-th block appeared (default 3 s after the first).
    pub(crate) snap_moment: SnapMoment,
    /// `storage.tsdb.out_of_order_time_window` in the slaves' config (ms).
    pub(crate) slave_ooo_ms: Option<i64>,
    /// `--storage.tsdb.max-block-duration` when it differs from `block`
    /// (the head still compacts `block`-long blocks; the compactor merges
    /// them into blocks up to this long).
    pub(crate) max_block: Option<&'static str>,
    /// `remote_timeout` of every slave's queue (ms; 2.42's default 30 s).
    pub(crate) remote_timeout_ms: Option<i64>,
    /// Slaves up and receiving before the snapshot: each is started on an
    /// empty data dir before the master, and at its `Action::Slave` step
    /// stopped (SIGTERM), its data dir wiped and seeded with the snapshot,
    /// and started again (the procedure applied to a replica that was
    /// already running).
    pub(crate) pre_snapshot: &'static [&'static str],
    /// Master and slaves log in JSON (`--log.format=json`) instead of
    /// 2.42's default logfmt.
    pub(crate) log_json: bool,
    /// The Debian package's configuration instead of the exporter threads:
    /// the master scrapes itself and a real `prometheus-node-exporter`.
    pub(crate) debian: Option<DebianCfg>,
    /// Every run's `slave-log.txt` kept whole (since the eighteenth set):
    /// no refusal cut to a `# cut` note whatever its size (the far-end
    /// class of `KNOWN_MISSES` needs each refused request's start).
    pub(crate) whole_slave_log: bool,
    /// How long a master restart (`Action::Restart`) waits for the old
    /// process after the SIGTERM before it kills it (ms; 90 s unless set).
    /// 2.42 with its slave down takes about two minutes to stop (the queue's
    /// one-minute flush deadline, then the metadata's): a longer wait lets
    /// it stop by itself, as an operator's restart does.
    pub(crate) restart_wait_ms: Option<i64>,
    /// Master and slaves without `--storage.tsdb.{min,max}-block-duration`
    /// (since the nineteenth set): 2.42's defaults, a 2h head block range, as
    /// the package runs; `block` and `slave_block` then say "2h" (the judge
    /// gives the slaves' range as `--slave-block-range`). No head compacts
    /// and no WAL is truncated within a run: the snapshot is taken
    /// `snap_moment(0, delay)` after the master is ready.
    pub(crate) default_blocks: bool,
    /// This slave's data dir is seeded by the `promsnap` binary (since the
    /// nineteenth set): at the snapshot moment the harness runs `promsnap
    /// seed --from <master URL> --to <its data dir> --json` (the README's
    /// operator path: the seed takes the admin-API snapshot, verifies and
    /// copies it) instead of taking the snapshot itself; the seed's snapshot
    /// is the master's snapshot for every slave (the others copy it as
    /// before), and the seed's output is kept in that run's `seed.json`.
    pub(crate) seed_slave: Option<&'static str>,
    /// The master started this many seconds past a block boundary (wall
    /// clock), as `PROMSNAP_LOSS_START_PHASE` does for a whole recording
    /// (which overrides it; since the twenty-first set): the first block's
    /// head compaction, and with it every later truncation's place relative
    /// to a `snap_phase` snapshot, known before the master starts.
    pub(crate) start_phase_s: Option<i64>,
}

/// The master's config as the Debian package ships it
/// (`/etc/prometheus/prometheus.yml` of 2.42: global `scrape_interval` and
/// `evaluation_interval` 15 s, `external_labels: monitor: 'example'`, an
/// alertmanager at localhost:9093, job `prometheus` scraping the server
/// itself every 5 s with a 5 s timeout, job `node` scraping
/// `prometheus-node-exporter` at the global interval), plus `remote_write`.
/// No exporter thread runs: the targets are the master and a real
/// node_exporter (`prometheus-node-exporter` on a free loopback port).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DebianCfg {
    /// `global: scrape_interval` and `evaluation_interval` (ms).
    pub(crate) global_ms: i64,
    /// Job `prometheus` (the master itself): its interval and timeout (ms).
    pub(crate) self_ms: i64,
    /// Job `node`: its interval (ms), the global one when equal; 0: no
    /// `node` job and no node_exporter (`MasterSpec::self_scrape`).
    pub(crate) node_ms: i64,
    /// `external_labels: monitor: 'example'` (the package's); false: the
    /// control without them.
    pub(crate) external_labels: bool,
    /// An `alerting` block pointing at a loopback port nothing listens on,
    /// and a rule file (two recording rules and one alert that always
    /// fires, so that the notifier has alerts to send and fails).
    pub(crate) alerting: bool,
    /// A third target (since the fifteenth set): an exporter thread of the
    /// harness as job `lm`, `(interval ms, series)`, its answers delayed by
    /// `MasterSpec::exp` (`slow`).
    pub(crate) exporter: Option<(i64, usize)>,
    /// `global: scrape_timeout` (ms; 2.42's default 10 s, and no longer
    /// than a job's interval); job `lm` gets it too, capped at its interval.
    pub(crate) timeout_ms: Option<i64>,
    /// `global: evaluation_interval` (ms) when it differs from the scrape
    /// interval (since the sixteenth set: the rules on their own grid).
    pub(crate) eval_ms: Option<i64>,
}

/// When a master's snapshot is taken, relative to its blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SnapMoment {
    /// Head compactions (blocks) waited for.
    pub(crate) blocks: usize,
    /// Then this long (ms).
    pub(crate) delay_ms: i64,
    /// Then until this wall-clock phase of the block range (ms past a
    /// multiple of it), when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) phase_ms: Option<i64>,
}

impl Default for SnapMoment {
    fn default() -> SnapMoment {
        SnapMoment {
            blocks: 1,
            delay_ms: 3_000,
            phase_ms: None,
        }
    }
}

/// A master's `remote_write` `queue_config` (only the fields set are
/// written; `coverage` gets the matching flags).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub(crate) struct QueueCfg {
    pub(crate) capacity: Option<u64>,
    pub(crate) max_samples_per_send: Option<u64>,
    pub(crate) max_shards: Option<u64>,
    /// `min_shards` (2.42's default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) min_shards: Option<u64>,
    /// `batch_send_deadline` in ms (2.42's default 5 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) batch_send_deadline_ms: Option<u64>,
    /// `min_backoff` in ms (2.42's default 30 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) min_backoff_ms: Option<u64>,
    /// `max_backoff` in ms (2.42's default 5 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_backoff_ms: Option<u64>,
}

fn slave(name: &'static str, trigger: Trigger) -> Step {
    Step {
        trigger,
        action: Action::Slave {
            name,
            skip_head: false,
            late_rw: false,
        },
    }
}

/// A slave started `ms` after the snapshot.
fn at(name: &'static str, ms: i64) -> Step {
    slave(name, Trigger::AfterSnapshot(ms))
}

/// The slave started once the stalled reader's segment is gone.
fn overtaken() -> Step {
    slave("overtaken", Trigger::NewCheckpoint)
}

impl MasterSpec {
    /// One target scraped every `scrape_ms`, 1m blocks, 2.42's default WAL
    /// and queue, 45 s settle time; the builders below change one of these.
    fn new(name: &'static str, series: usize, scrape_ms: i64, steps: Vec<Step>) -> MasterSpec {
        MasterSpec {
            name,
            series,
            targets: 1,
            scrape_ms,
            busy: false,
            wal_compression: false,
            uncompressed: false,
            steps,
            settle_ms: 45_000,
            block: "1m",
            queue: None,
            intervals: &[],
            sizes: &[],
            windows: &[],
            keep_i: None,
            healthy_rw: false,
            exp: ExpOpts::default(),
            slave_block: None,
            snap_at_compaction: false,
            snap_moment: SnapMoment::default(),
            slave_ooo_ms: None,
            max_block: None,
            remote_timeout_ms: None,
            pre_snapshot: &[],
            log_json: false,
            debian: None,
            whole_slave_log: false,
            restart_wait_ms: None,
            default_blocks: false,
            seed_slave: None,
            start_phase_s: None,
        }
    }

    /// The Debian package's configuration (`DebianCfg`): scrape targets
    /// the master itself and a real node_exporter, no exporter thread.
    fn debian(mut self, d: DebianCfg) -> MasterSpec {
        self.debian = Some(d);
        self.targets = 1 + usize::from(d.node_ms > 0) + usize::from(d.exporter.is_some());
        self.scrape_ms = d.global_ms;
        self.intervals = match d.exporter {
            Some((lm_ms, _)) if d.node_ms == 0 => {
                Box::leak(vec![d.self_ms, lm_ms].into_boxed_slice())
            }
            Some((lm_ms, _)) => Box::leak(vec![d.self_ms, d.node_ms, lm_ms].into_boxed_slice()),
            None if d.self_ms == d.node_ms || d.node_ms == 0 => &[],
            None => Box::leak(vec![d.self_ms, d.node_ms].into_boxed_slice()),
        };
        self
    }

    /// A Debian-config master's third target, the harness's exporter
    /// (job `lm`, `series` series every `interval_ms`).
    fn deb_exporter(self, interval_ms: i64, series: usize) -> MasterSpec {
        let mut d = self.debian.expect("deb_exporter on a Debian-config master");
        d.exporter = Some((interval_ms, series));
        self.debian(d)
    }

    /// A Debian-config master's `evaluation_interval` (ms), unlike its
    /// scrape intervals.
    fn deb_eval(mut self, eval_ms: i64) -> MasterSpec {
        if let Some(d) = self.debian.as_mut() {
            d.eval_ms = Some(eval_ms);
        }
        self
    }

    /// A Debian-config master's global `scrape_timeout` (ms).
    fn deb_timeout(mut self, timeout_ms: i64) -> MasterSpec {
        if let Some(d) = self.debian.as_mut() {
            d.timeout_ms = Some(timeout_ms);
        }
        self
    }

    /// Master and slaves log in JSON (`--log.format=json`).
    fn json_log(mut self) -> MasterSpec {
        self.log_json = true;
        self
    }

    /// These slaves are up and receiving from before the master starts
    /// until their step (then stopped, wiped, seeded, started again).
    fn pre_snapshot(mut self, names: &'static [&'static str]) -> MasterSpec {
        self.pre_snapshot = names;
        self
    }

    /// Blocks compacted up to `max` (the head's blocks stay `block` long).
    fn max_block(mut self, max: &'static str) -> MasterSpec {
        self.max_block = Some(max);
        self
    }

    /// The slaves' queues time out their sends after `ms`.
    fn remote_timeout(mut self, ms: i64) -> MasterSpec {
        self.remote_timeout_ms = Some(ms);
        self
    }

    /// The first `n` series of each target change their `gen` label every
    /// `k` scrapes.
    fn churn(mut self, n: usize, k: u64) -> MasterSpec {
        self.exp.churn = Some((n, k));
        self
    }

    /// Samples exposed with explicit timestamps `ms` before the scrape.
    fn ts_lag(mut self, ms: i64) -> MasterSpec {
        self.exp.ts_lag_ms = ms;
        self
    }

    /// The slaves run with this block range (the master keeps `block`).
    fn slave_block(mut self, block: &'static str) -> MasterSpec {
        self.slave_block = Some(block);
        self
    }

    /// The snapshot taken `delay_ms` after the `blocks`-th block appeared.
    fn snap_moment(mut self, blocks: usize, delay_ms: i64) -> MasterSpec {
        self.snap_moment = SnapMoment {
            blocks,
            delay_ms,
            phase_ms: None,
        };
        self
    }

    /// The snapshot taken at the first moment `phase_ms` past a block
    /// boundary (wall clock) after the first block appeared.
    fn snap_phase(mut self, phase_ms: i64) -> MasterSpec {
        self.snap_moment = SnapMoment {
            blocks: 1,
            delay_ms: 0,
            phase_ms: Some(phase_ms),
        };
        self
    }

    /// `n` native histograms per target next to the gauges (protobuf
    /// exposition; master and slaves with `--enable-feature=
    /// native-histograms`, the queues with `send_native_histograms`).
    fn native_hist(mut self, n: usize) -> MasterSpec {
        self.exp.native_hist = n;
        self
    }

    /// Every answer of the targets delayed by `lo..=hi` ms.
    fn slow(mut self, lo: u64, hi: u64) -> MasterSpec {
        self.exp.delay_ms = Some((lo, hi));
        self
    }

    /// The slaves accept out-of-order samples within `ms`.
    fn slave_ooo(mut self, ms: i64) -> MasterSpec {
        self.slave_ooo_ms = Some(ms);
        self
    }

    /// `min_backoff` and `max_backoff` (ms) of the queue.
    fn backoff(mut self, min_ms: Option<u64>, max_ms: Option<u64>) -> MasterSpec {
        let q = self.queue.get_or_insert_with(QueueCfg::default);
        q.min_backoff_ms = min_ms;
        q.max_backoff_ms = max_ms;
        self
    }

    /// The snapshot taken during the master's first head compaction.
    fn snap_at_compaction(mut self) -> MasterSpec {
        self.snap_at_compaction = true;
        self
    }

    /// Per target its serving window relative to the snapshot.
    fn windows(mut self, windows: &'static [(Option<i64>, Option<i64>)]) -> MasterSpec {
        self.targets = windows.len();
        self.windows = windows;
        self
    }

    /// Keep (send) only the series whose `i` matches `regex`.
    fn keep_i(mut self, regex: &'static str) -> MasterSpec {
        self.keep_i = Some(regex);
        self
    }

    /// A second, healthy remote-write receiver.
    fn healthy_rw(mut self) -> MasterSpec {
        self.healthy_rw = true;
        self
    }

    fn targets(mut self, targets: usize) -> MasterSpec {
        self.targets = targets;
        self
    }

    /// Targets of these sizes (`series` is their sum).
    fn sizes(mut self, sizes: &'static [usize]) -> MasterSpec {
        self.targets = sizes.len();
        self.sizes = sizes;
        self
    }

    /// One job per target, each at its own interval.
    fn intervals(mut self, intervals: &'static [i64]) -> MasterSpec {
        self.targets = intervals.len();
        self.intervals = intervals;
        self
    }

    fn settle(mut self, ms: i64) -> MasterSpec {
        self.settle_ms = ms;
        self
    }

    fn block(mut self, block: &'static str) -> MasterSpec {
        self.block = block;
        self
    }

    /// Keep every run's `slave-log.txt` whole (no `# cut` notes).
    fn whole_slave_log(mut self) -> MasterSpec {
        self.whole_slave_log = true;
        self
    }

    /// 2.42's default block range (2h) on master and slaves: no block
    /// flags (`default_blocks`).
    fn default_blocks(mut self) -> MasterSpec {
        self.default_blocks = true;
        self.block = "2h";
        self.slave_block = Some("2h");
        self
    }

    /// Slave `name` seeded by `promsnap seed`, whose snapshot is the
    /// master's (`seed_slave`).
    fn seed_slave(mut self, name: &'static str) -> MasterSpec {
        self.seed_slave = Some(name);
        self
    }

    /// The master scrapes only itself every `ms` (global interval the same,
    /// no rules, no alertmanager, no external labels): the issue's own
    /// master, a Debian-config master without the `node` job
    /// (`DebianCfg::node_ms` 0).
    fn self_scrape(self, ms: i64) -> MasterSpec {
        let mut d = deb(ms, ms, 0, false);
        d.alerting = false;
        self.debian(d)
    }

    /// The master started `s` seconds past a block boundary
    /// (`start_phase_s`).
    fn start_phase(mut self, s: i64) -> MasterSpec {
        self.start_phase_s = Some(s);
        self
    }

    /// A master restart waits this long for the old process (ms).
    fn restart_wait(mut self, ms: i64) -> MasterSpec {
        self.restart_wait_ms = Some(ms);
        self
    }

    /// 10 MB WAL segments, compressed or not.
    fn busy(mut self, wal_compression: bool) -> MasterSpec {
        self.busy = true;
        self.wal_compression = wal_compression;
        self
    }

    /// 2.42's default segment size, WAL compression off.
    fn uncompressed(mut self) -> MasterSpec {
        self.uncompressed = true;
        self
    }

    fn queue(
        mut self,
        capacity: Option<u64>,
        max_samples_per_send: Option<u64>,
        max_shards: Option<u64>,
    ) -> MasterSpec {
        let q = self.queue.get_or_insert_with(QueueCfg::default);
        q.capacity = capacity;
        q.max_samples_per_send = max_samples_per_send;
        q.max_shards = max_shards;
        self
    }

    /// `min_shards` and `batch_send_deadline` (ms) of the queue.
    fn queue_shards_deadline(
        mut self,
        min_shards: Option<u64>,
        batch_send_deadline_ms: Option<u64>,
    ) -> MasterSpec {
        let q = self.queue.get_or_insert_with(QueueCfg::default);
        q.min_shards = min_shards;
        q.batch_send_deadline_ms = batch_send_deadline_ms;
        self
    }
}

/// The whole matrix.
// The matrix of recorded masters: one table.
#[allow(clippy::too_many_lines)]
pub(crate) fn matrix() -> Vec<MasterSpec> {
    use Trigger::*;
    let skiphead = |t| Step {
        trigger: t,
        action: Action::Slave {
            name: "skiphead",
            skip_head: true,
            late_rw: false,
        },
    };
    let laterw = |t| Step {
        trigger: t,
        action: Action::Slave {
            name: "laterw",
            skip_head: false,
            late_rw: true,
        },
    };
    let restart = |ms, down_ms| Step {
        trigger: AfterSnapshot(ms),
        action: Action::Restart {
            down_ms,
            kill: false,
        },
    };
    // A master killed (SIGKILL, no SIGTERM) and started again (since the
    // twenty-third set).
    let kill_restart = |ms, down_ms| Step {
        trigger: AfterSnapshot(ms),
        action: Action::Restart {
            down_ms,
            kill: true,
        },
    };
    let slave_restart = |name, ms, down_ms, kill| Step {
        trigger: AfterSnapshot(ms),
        action: Action::SlaveRestart {
            name,
            down_ms,
            kill,
        },
    };
    vec![
        // The CI subset: the former realserver soon/late pair plus skip_head.
        MasterSpec::new(
            "ci",
            500,
            1_000,
            vec![
                at("soon", 5_000),
                skiphead(AfterSnapshot(8_000)),
                overtaken(),
            ],
        ),
        MasterSpec::new(
            "s50",
            50,
            1_000,
            vec![
                at("soon", 5_000),
                skiphead(AfterSnapshot(8_000)),
                at("t40", 40_000),
                laterw(AfterSnapshot(60_000)),
                overtaken(),
                slave("late6", Truncations(6)),
            ],
        ),
        MasterSpec::new(
            "s500x2-5s",
            500,
            5_000,
            vec![
                at("soon", 5_000),
                at("t40", 40_000),
                overtaken(),
                slave("late6", Truncations(6)),
            ],
        )
        .targets(2)
        .settle(60_000),
        MasterSpec::new(
            "s20k-busy",
            20_000,
            1_000,
            vec![
                at("soon", 5_000),
                at("t40", 40_000),
                overtaken(),
                slave("late6", Truncations(6)),
            ],
        )
        .busy(false)
        .settle(60_000),
        MasterSpec::new(
            "s500-restart",
            500,
            1_000,
            vec![restart(15_000, 10_000), at("soon", 45_000), overtaken()],
        ),
        // Out of sample (recorded after the estimator was fitted; nothing in
        // it was tuned to these): other series counts, scrape intervals,
        // target counts, slave-up times, block range and queue settings.
        MasterSpec::new(
            "s2k-2s",
            2_000,
            2_000,
            vec![
                at("up20", 20_000),
                skiphead(AfterSnapshot(30_000)),
                at("up90", 90_000),
                overtaken(),
            ],
        )
        .settle(60_000),
        MasterSpec::new(
            "s300x3-10s",
            300,
            10_000,
            vec![
                at("soon", 5_000),
                at("up20", 20_000),
                at("up90", 90_000),
                overtaken(),
            ],
        )
        .targets(3)
        .settle(60_000),
        MasterSpec::new(
            "s5k-2m",
            5_000,
            1_000,
            vec![at("up20", 20_000), at("up90", 90_000), overtaken()],
        )
        .settle(60_000)
        .block("2m"),
        MasterSpec::new(
            "s800-q",
            800,
            1_000,
            vec![at("soon", 5_000), at("up20", 20_000), overtaken()],
        )
        .queue(Some(500), Some(100), Some(4)),
        // Out of sample, second set (recorded after the first out-of-sample
        // set and before any rule change it led to): a 15 s scrape, a 3 000-
        // series master with capacity and max_shards set, two targets at
        // different intervals, a 3m block range.
        MasterSpec::new(
            "s1k-15s",
            1_000,
            15_000,
            vec![at("soon", 5_000), at("up40", 40_000), overtaken()],
        )
        .settle(60_000),
        MasterSpec::new(
            "s3k-q",
            3_000,
            1_000,
            vec![at("soon", 5_000), at("up30", 30_000), overtaken()],
        )
        .queue(Some(1_500), None, Some(6)),
        MasterSpec::new(
            "s600x2-1s5s",
            600,
            1_000,
            vec![at("soon", 5_000), at("up40", 40_000), overtaken()],
        )
        .intervals(&[1_000, 5_000])
        .settle(60_000),
        MasterSpec::new("s400-3m", 400, 2_000, vec![at("up30", 30_000), overtaken()]).block("3m"),
        // Out of sample, third set (recorded against the estimator as it was
        // after the second set's rule changes): a busy master with 10 MB
        // segments and WAL compression kept, a 30 s scrape on 2m blocks,
        // three targets of different sizes, a non-default batch size, a
        // restart at another size and interval, a slave up after several
        // truncations of 2m blocks, skip_head at a 3 s scrape.
        MasterSpec::new(
            "s9k-busyz",
            9_000,
            1_000,
            vec![at("soon", 5_000), at("up25", 25_000), overtaken()],
        )
        .busy(true)
        .settle(60_000),
        MasterSpec::new(
            "s300-30s-2m",
            300,
            30_000,
            vec![at("soon", 5_000), at("up50", 50_000), overtaken()],
        )
        .settle(90_000)
        .block("2m"),
        MasterSpec::new(
            "s1700x3-2s",
            1_700,
            2_000,
            vec![at("soon", 5_000), at("up15", 15_000), overtaken()],
        )
        .sizes(&[100, 400, 1_200])
        .settle(60_000),
        MasterSpec::new(
            "s1500-q2k",
            1_500,
            1_000,
            vec![at("soon", 5_000), at("up25", 25_000), overtaken()],
        )
        .queue(Some(6_000), Some(2_000), Some(12)),
        MasterSpec::new(
            "s1200-restart-2s",
            1_200,
            2_000,
            vec![restart(25_000, 15_000), at("soon", 40_000), overtaken()],
        ),
        MasterSpec::new(
            "s250-late-2m",
            250,
            1_000,
            vec![at("up10", 10_000), slave("late3", Truncations(3))],
        )
        .block("2m"),
        // A slave up long before the first scrape after C_snap (s300-30s-2m-soon
        // lost nothing) and one up a few seconds before it.
        MasterSpec::new(
            "s450-20s",
            450,
            20_000,
            vec![at("soon", 5_000), at("up14", 14_000), overtaken()],
        )
        .settle(60_000),
        // A quiet master's stalled reader: overtaken or not (s450-20s).
        MasterSpec::new(
            "s120-20s",
            120,
            20_000,
            vec![
                at("up30", 30_000),
                overtaken(),
                slave("late4", Truncations(4)),
            ],
        )
        .settle(60_000),
        // Remote write enabled late, at another size, interval and time.
        MasterSpec::new(
            "s150-5s-laterw",
            150,
            5_000,
            vec![
                at("soon", 5_000),
                laterw(AfterSnapshot(25_000)),
                overtaken(),
            ],
        ),
        MasterSpec::new(
            "s700-3s-skip",
            700,
            3_000,
            vec![
                skiphead(AfterSnapshot(12_000)),
                at("up35", 35_000),
                overtaken(),
            ],
        ),
        // Out of sample, fourth set (recorded against main's estimator at
        // 0dfe491, judged by it unchanged): a quiet master with WAL
        // compression off, four targets of four sizes at four intervals, a
        // small queue of three shards, 3 500 series at 3 s, a 90 s block
        // range, a restart before a skip_head slave, min_shards and
        // batch_send_deadline set.
        MasterSpec::new(
            "s1100-nz",
            1_100,
            1_000,
            vec![at("soon", 6_000), at("up22", 22_000), overtaken()],
        )
        .uncompressed(),
        MasterSpec::new(
            "s1900x4-mix",
            1_900,
            1_000,
            vec![at("soon", 5_000), at("up32", 32_000)],
        )
        .intervals(&[1_000, 2_000, 5_000, 10_000])
        .sizes(&[900, 500, 300, 200])
        .settle(60_000),
        MasterSpec::new(
            "s2k-q500x3",
            2_000,
            1_000,
            vec![at("soon", 5_000), at("up20", 20_000)],
        )
        .queue(Some(500), None, Some(3)),
        MasterSpec::new(
            "s3500-3s",
            3_500,
            3_000,
            vec![at("up8", 8_000), at("up45", 45_000)],
        ),
        MasterSpec::new(
            "s900-restart-skip",
            900,
            1_000,
            vec![
                restart(20_000, 10_000),
                skiphead(AfterSnapshot(35_000)),
                at("soon", 40_000),
            ],
        ),
        MasterSpec::new(
            "s60-90s",
            60,
            1_000,
            vec![at("soon", 5_000), at("up60", 60_000)],
        )
        .block("90s"),
        MasterSpec::new(
            "s1k-2s-qmin",
            1_000,
            2_000,
            vec![at("soon", 5_000), at("up25", 25_000)],
        )
        .queue_shards_deadline(Some(4), Some(2_000)),
        MasterSpec::new(
            "s600-5s-nz",
            600,
            5_000,
            vec![at("soon", 5_000), at("up30", 30_000), overtaken()],
        )
        .uncompressed()
        .settle(60_000),
        MasterSpec::new(
            "s400-restart-laterw",
            400,
            2_000,
            vec![
                restart(15_000, 10_000),
                laterw(AfterSnapshot(30_000)),
                at("soon", 35_000),
            ],
        ),
        MasterSpec::new(
            "s6k-2s-nz",
            6_000,
            2_000,
            vec![at("soon", 5_000), at("up40", 40_000), overtaken()],
        )
        .uncompressed()
        .settle(60_000),
        // Out of sample, fifth set (recorded against main's estimator at
        // 063aa79, judged by it unchanged): a 4m block range at a 7 s
        // scrape, a slave up after nine truncations.
        MasterSpec::new(
            "s500-7s-4m",
            500,
            7_000,
            vec![at("soon", 5_000), at("up45", 45_000), overtaken()],
        )
        .block("4m")
        .settle(60_000),
        MasterSpec::new(
            "s350-2s-late9",
            350,
            2_000,
            vec![at("up12", 12_000), slave("late9", Truncations(9))],
        ),
        // write_relabel_configs keeping half the series (even `i`): only
        // sent series can be lost.
        MasterSpec::new(
            "s2k-relabel",
            2_000,
            1_000,
            vec![at("soon", 5_000), at("up30", 30_000), overtaken()],
        )
        .keep_i("[0-9]*[02468]"),
        // A target going down at +12 s (staleness markers) and one
        // appearing at +10 s (new series during the outage).
        MasterSpec::new(
            "s800x2-updown",
            800,
            2_000,
            vec![at("up25", 25_000), at("up50", 50_000), overtaken()],
        )
        .windows(&[(None, Some(12_000)), (Some(10_000), None)])
        .settle(60_000),
        MasterSpec::new(
            "s12k-busyz",
            12_000,
            1_000,
            vec![at("soon", 5_000), at("up35", 35_000), overtaken()],
        )
        .busy(true)
        .settle(60_000),
        MasterSpec::new(
            "s1k-500ms",
            1_000,
            500,
            vec![at("soon", 5_000), at("up20", 20_000), overtaken()],
        ),
        // A second remote_write endpoint, healthy the whole time.
        MasterSpec::new(
            "s1500-2rw",
            1_500,
            1_000,
            vec![at("soon", 5_000), at("up30", 30_000), overtaken()],
        )
        .healthy_rw(),
        MasterSpec::new(
            "s700-q1",
            700,
            1_000,
            vec![at("soon", 5_000), at("up20", 20_000), overtaken()],
        )
        .queue(None, None, Some(1)),
        MasterSpec::new(
            "s400-1500ms",
            400,
            1_500,
            vec![at("soon", 5_000), at("up25", 25_000), overtaken()],
        ),
        // A keep rule whose sent series (450 a scrape) do not fill whole
        // 500-sample batches, unlike s2k-relabel's 1 000.
        MasterSpec::new(
            "s1500-relabel",
            1_500,
            1_000,
            vec![at("soon", 5_000), at("up25", 25_000)],
        )
        .keep_i("[0-9]*[012]"),
        // Out of sample, sixth set (recorded against main's estimator at
        // c026195, judged by it unchanged): series churn, a slave restarted
        // during its catch-up and one down again after it, slaves with
        // another block range than their master's, queue settings not
        // recorded before, explicit timestamps lagging the scrape, the
        // snapshot taken during a head compaction.
        // 400 of the 1 000 series get a new `gen` label every 5 scrapes.
        MasterSpec::new(
            "s1k-churn",
            1_000,
            1_000,
            vec![at("soon", 5_000), at("up25", 25_000), overtaken()],
        )
        .churn(400, 5)
        .settle(60_000),
        // `soon` killed (SIGKILL) 1.5 s after it is up, during its catch-up,
        // up again 5 s later; `up30` stopped (SIGTERM) at +60 s, after it
        // caught up, for 10 s.
        MasterSpec::new(
            "s1300-srestart",
            1_300,
            1_000,
            vec![
                at("soon", 5_000),
                slave_restart("soon", 6_500, 5_000, true),
                at("up30", 30_000),
                slave_restart("up30", 60_000, 10_000, false),
                overtaken(),
            ],
        ),
        // Master 1m blocks, slaves 2m.
        MasterSpec::new(
            "s700-sblk2m",
            700,
            1_000,
            vec![at("soon", 5_000), at("up40", 40_000), overtaken()],
        )
        .slave_block("2m"),
        MasterSpec::new(
            "s2500-q5k",
            2_500,
            1_000,
            vec![at("soon", 5_000), at("up25", 25_000), overtaken()],
        )
        .queue(Some(10_000), Some(5_000), None),
        // Every sample exposed with a timestamp 7 s before its scrape.
        MasterSpec::new(
            "s600-lag7s",
            600,
            1_000,
            vec![at("soon", 5_000), at("up25", 25_000), overtaken()],
        )
        .ts_lag(7_000),
        // The snapshot (and the skip_head one right after it) called while
        // the master writes its first block.
        MasterSpec::new(
            "s5k-snapcomp",
            5_000,
            1_000,
            vec![
                at("soon", 5_000),
                skiphead(AfterSnapshot(10_000)),
                at("up30", 30_000),
                overtaken(),
            ],
        )
        .snap_at_compaction()
        .settle(60_000),
        // A sparse master (85 samples a scrape, a 500-sample batch would
        // take 30 s) with a 10 s batch_send_deadline.
        MasterSpec::new(
            "s80-5s-d10s",
            80,
            5_000,
            vec![at("soon", 5_000), at("up20", 20_000), overtaken()],
        )
        .queue_shards_deadline(None, Some(10_000))
        .settle(60_000),
        // A 1 s batch_send_deadline where a batch would take 3 scrapes.
        MasterSpec::new(
            "s150-d1s",
            150,
            1_000,
            vec![at("soon", 5_000), at("up20", 20_000)],
        )
        .queue_shards_deadline(None, Some(1_000)),
        // 50-sample batches: 9 a scrape.
        MasterSpec::new(
            "s400-q50",
            400,
            1_000,
            vec![at("soon", 5_000), at("up20", 20_000)],
        )
        .queue(None, Some(50), None),
        // Timestamps 3 s behind the scrape at a 2 s interval (s600-lag7s at
        // another lag and interval).
        MasterSpec::new(
            "s900-2s-lag3s",
            900,
            2_000,
            vec![at("soon", 5_000), at("up25", 25_000)],
        )
        .ts_lag(3_000),
        // Out of sample, seventh set (recorded against main's estimator at
        // 35c77a4, judged by it unchanged): the snapshot at other moments
        // of the block range, a slow target, slaves accepting out-of-order
        // samples, thirty small targets, queue backoffs not recorded before.
        // Every answer 300-900 ms after the request (stamped at the
        // scrape's start, appended at its end).
        MasterSpec::new(
            "s500-slow",
            500,
            1_000,
            vec![at("soon", 5_000), at("up20", 20_000), overtaken()],
        )
        .slow(300, 900),
        // Slaves with a 10m out-of-order window (2.42's
        // storage.tsdb.out_of_order_time_window).
        MasterSpec::new(
            "s700-ooo",
            700,
            1_000,
            vec![at("soon", 5_000), at("up25", 25_000), overtaken()],
        )
        .slave_ooo(600_000),
        // The snapshot 25 s after the first block (late in the range).
        MasterSpec::new(
            "s600-snap25",
            600,
            1_000,
            vec![at("soon", 5_000), at("up20", 20_000), overtaken()],
        )
        .snap_moment(1, 25_000),
        // Thirty targets of 10-50 series (889 in all).
        MasterSpec::new(
            "s889x30",
            889,
            1_000,
            vec![at("soon", 5_000), at("up25", 25_000), overtaken()],
        )
        .sizes(&SIZES_X30),
        MasterSpec::new(
            "s1k-mb30s",
            1_000,
            1_000,
            vec![at("soon", 5_000), at("up20", 20_000)],
        )
        .backoff(None, Some(30_000)),
        // The snapshot 3 s after the third block.
        MasterSpec::new(
            "s800-snapb3",
            800,
            1_000,
            vec![at("soon", 5_000), at("up25", 25_000), overtaken()],
        )
        .snap_moment(3, 3_000),
        // The snapshot 50 s after the first block (the next range begun).
        MasterSpec::new(
            "s400-2s-snap50",
            400,
            2_000,
            vec![at("soon", 5_000), at("up30", 30_000)],
        )
        .snap_moment(1, 50_000),
        MasterSpec::new(
            "s300-2s-mb1s",
            300,
            2_000,
            vec![at("soon", 5_000), at("up25", 25_000)],
        )
        .backoff(Some(100), Some(1_000)),
        // A slower target at 2 s: every answer 1.2-1.8 s after the request.
        MasterSpec::new(
            "s1200-2s-slow",
            1_200,
            2_000,
            vec![at("soon", 5_000), at("up30", 30_000), overtaken()],
        )
        .slow(1_200, 1_800),
        // The snapshot 40 s after the first block, at another size.
        MasterSpec::new(
            "s2k-snap40",
            2_000,
            1_000,
            vec![at("soon", 5_000), at("up25", 25_000), overtaken()],
        )
        .snap_moment(1, 40_000)
        .settle(60_000),
        // The out-of-order window at a 5 s scrape and a 2m window.
        MasterSpec::new(
            "s300-5s-ooo",
            300,
            5_000,
            vec![at("soon", 5_000), at("up30", 30_000)],
        )
        .slave_ooo(120_000),
        // The snapshot 25 s past the block boundary after the first block:
        // the head holds about 85 s then, the most it ever holds.
        MasterSpec::new(
            "s500-snapph25",
            500,
            1_000,
            vec![at("soon", 5_000), at("up25", 25_000), overtaken()],
        )
        .snap_phase(25_000),
        // Out of sample, eighth set (recorded against main's estimator at
        // 73a0e82, judged by it unchanged): the catch-up's reshard capped at
        // few or many shards, blocks compacted into bigger ones during the
        // outage, a short remote_timeout on a busy master, a large queue with
        // 2 000-sample batches.
        MasterSpec::new(
            "s7k-ms20",
            7_000,
            1_000,
            vec![at("up20", 20_000), at("up50", 50_000)],
        )
        .queue(None, None, Some(20))
        .settle(60_000),
        // min 1m, max 3m: three 1m blocks merged into a 3m one while the
        // slaves are down.
        MasterSpec::new(
            "s650-b1m3m",
            650,
            1_000,
            vec![at("soon", 5_000), overtaken(), at("up200", 200_000)],
        )
        .max_block("3m"),
        MasterSpec::new(
            "s4k-ms5",
            4_000,
            1_000,
            vec![at("up15", 15_000), at("up45", 45_000)],
        )
        .queue(None, None, Some(5))
        .settle(60_000),
        MasterSpec::new(
            "s8k-rt2s",
            8_000,
            1_000,
            vec![at("soon", 5_000), at("up30", 30_000)],
        )
        .busy(true)
        .remote_timeout(2_000)
        .settle(60_000),
        MasterSpec::new(
            "s5500-ms50",
            5_500,
            1_000,
            vec![at("up30", 30_000), at("up60", 60_000)],
        )
        .queue(None, None, Some(50))
        .settle(60_000),
        MasterSpec::new(
            "s3200-q10k2k",
            3_200,
            1_000,
            vec![at("soon", 5_000), at("up40", 40_000)],
        )
        .queue(Some(10_000), Some(2_000), None)
        .settle(60_000),
        // Slaves up 5 s past a multiple of 10 s after the snapshot, more than
        // half the block range after it: the queue's first reshard tick
        // (every 10 s from its start) comes while it is still refusing its
        // backlog, at 50 and at 200 shards.
        MasterSpec::new(
            "s4500-ms50",
            4_500,
            1_000,
            vec![at("up35", 35_000), at("up55", 55_000)],
        )
        .queue(None, None, Some(50))
        .settle(60_000),
        MasterSpec::new(
            "s6500-up45",
            6_500,
            1_000,
            vec![at("up25", 25_000), at("up45", 45_000)],
        )
        .settle(60_000),
        // Out of sample, ninth set (recorded against main's estimator at
        // c7ff0f3, judged by it unchanged): scrapes of 10 s and 15 s on
        // masters big enough to reshard, a 30 s batch_send_deadline that
        // closes every batch of a sparse 4 s master, 1 000-sample sends,
        // min_shards 2 with max_shards 8, and the reshard regime with
        // slave-up times fixed before any of these runs (38 s and 67 s: one
        // inside the first block range after the snapshot, one past it).
        MasterSpec::new(
            "s4200-10s",
            4_200,
            10_000,
            vec![at("soon", 5_000), at("up40", 40_000), overtaken()],
        )
        .settle(60_000),
        // 45 samples a scrape: a 500-sample batch would take 44 s, the
        // deadline closes it after 30 s.
        MasterSpec::new(
            "s40-4s-d30s",
            40,
            4_000,
            vec![at("soon", 5_000), at("up20", 20_000)],
        )
        .queue_shards_deadline(None, Some(30_000))
        .settle(60_000),
        MasterSpec::new(
            "s7500-15s",
            7_500,
            15_000,
            vec![at("soon", 5_000), at("up30", 30_000)],
        )
        .settle(60_000),
        MasterSpec::new(
            "s3300-spp1k",
            3_300,
            1_000,
            vec![at("soon", 5_000), at("up25", 25_000)],
        )
        .queue(None, Some(1_000), None)
        .settle(60_000),
        MasterSpec::new(
            "s2600-2s-min2",
            2_600,
            2_000,
            vec![at("soon", 5_000), at("up30", 30_000)],
        )
        .queue(None, None, Some(8))
        .queue_shards_deadline(Some(2), None)
        .settle(60_000),
        MasterSpec::new(
            "s5800-up38",
            5_800,
            1_000,
            vec![at("up38", 38_000), at("up67", 67_000)],
        )
        .settle(60_000),
        // Added to the ninth set once its first six were under way: a
        // 1 000-sample queue sending 250 at a time, 9 500 series at 10 s,
        // and a 5 000-sample queue capped at 10 shards.
        MasterSpec::new(
            "s2200-q1k250",
            2_200,
            1_000,
            vec![at("soon", 5_000), at("up25", 25_000)],
        )
        .queue(Some(1_000), Some(250), None)
        .settle(60_000),
        MasterSpec::new(
            "s9500-10s",
            9_500,
            10_000,
            vec![at("soon", 5_000), at("up35", 35_000)],
        )
        .settle(60_000),
        MasterSpec::new(
            "s6200-q5k-ms10",
            6_200,
            1_000,
            vec![at("up25", 25_000), at("up55", 55_000)],
        )
        .queue(Some(5_000), None, Some(10))
        .settle(60_000),
        // Added later still: 3 000 series at 20 s, min_shards 8, a
        // 20 000-sample queue of up to 100 shards, and the reshard regime
        // once more with slave-up times fixed before it was recorded (47 s
        // and 82 s).
        MasterSpec::new(
            "s3k-20s",
            3_000,
            20_000,
            vec![at("soon", 5_000), at("up30", 30_000)],
        )
        .settle(60_000),
        MasterSpec::new(
            "s1800-min8",
            1_800,
            1_000,
            vec![at("soon", 5_000), at("up25", 25_000)],
        )
        .queue_shards_deadline(Some(8), None)
        .settle(60_000),
        MasterSpec::new(
            "s10k-q20k",
            10_000,
            1_000,
            vec![at("soon", 5_000), at("up40", 40_000)],
        )
        .queue(Some(20_000), None, Some(100))
        .settle(60_000),
        MasterSpec::new(
            "s3900-up47",
            3_900,
            1_000,
            vec![at("up47", 47_000), at("up82", 82_000)],
        )
        .settle(60_000),
        // Last of the ninth set: three 2 000-series targets at 10 s, and
        // 2 400 series at 5 s (5 s masters so far had at most 600).
        MasterSpec::new(
            "s6kx3-10s",
            6_000,
            10_000,
            vec![at("soon", 5_000), at("up30", 30_000)],
        )
        .targets(3)
        .settle(60_000),
        MasterSpec::new(
            "s2400-5s",
            2_400,
            5_000,
            vec![at("soon", 5_000), at("up45", 45_000)],
        )
        .settle(60_000),
        // 1 500 series at 30 s (the one 30 s master had 300), and 7 000 at
        // 2 s with slaves up 20 s and 50 s (fixed before it was recorded).
        MasterSpec::new(
            "s1500-30s",
            1_500,
            30_000,
            vec![at("soon", 5_000), at("up40", 40_000)],
        )
        .settle(60_000),
        MasterSpec::new(
            "s7k-2s",
            7_000,
            2_000,
            vec![at("up20", 20_000), at("up50", 50_000)],
        )
        .settle(60_000),
        // Out of sample, tenth set (listed in docs/LOSS-WINDOWS.md and
        // committed before any of it was recorded; judged by main's
        // estimator unchanged). The second-loss regime: 3 000-12 000 series,
        // a 1 -> many reshard in the backlog, slaves up more than half the
        // block range after the snapshot, at queue settings never recorded.
        MasterSpec::new(
            "s4800-spp200",
            4_800,
            1_000,
            vec![at("up41", 41_000), at("up63", 63_000)],
        )
        .queue(None, Some(200), None)
        .settle(60_000),
        MasterSpec::new(
            "s6800-cap4k",
            6_800,
            1_000,
            vec![at("up44", 44_000), at("up73", 73_000)],
        )
        .queue(Some(4_000), None, None)
        .settle(60_000),
        MasterSpec::new(
            "s3400-spp750-ms25",
            3_400,
            1_000,
            vec![at("up36", 36_000), at("up58", 58_000)],
        )
        .queue(None, Some(750), Some(25))
        .settle(60_000),
        MasterSpec::new(
            "s8500-ms30",
            8_500,
            1_000,
            vec![at("up52", 52_000), at("up77", 77_000)],
        )
        .queue(None, None, Some(30))
        .settle(60_000),
        MasterSpec::new(
            "s11k",
            11_000,
            1_000,
            vec![at("up48", 48_000), at("up71", 71_000)],
        )
        .settle(60_000),
        // 2m blocks: half the range is 60 s.
        MasterSpec::new(
            "s4400-2m",
            4_400,
            1_000,
            vec![at("up75", 75_000), at("up105", 105_000)],
        )
        .block("2m")
        .settle(60_000),
        MasterSpec::new(
            "s7300-cap1800-ms80",
            7_300,
            1_000,
            vec![at("up39", 39_000), at("up66", 66_000)],
        )
        .queue(Some(1_800), None, Some(80))
        .settle(60_000),
        MasterSpec::new(
            "s3100-spp300-cap1200",
            3_100,
            1_000,
            vec![at("up33", 33_000), at("up54", 54_000)],
        )
        .queue(Some(1_200), Some(300), None)
        .settle(60_000),
        // Tenth set, ordinary regimes at values not recorded before: 3 s,
        // 7 s and 12 s scrapes, 2m blocks with skip_head, remote write
        // enabled late, a master restart.
        MasterSpec::new(
            "s1350-3s",
            1_350,
            3_000,
            vec![at("soon", 5_000), at("up40", 40_000)],
        )
        .settle(60_000),
        MasterSpec::new(
            "s2100-7s",
            2_100,
            7_000,
            vec![at("soon", 5_000), at("up35", 35_000)],
        )
        .settle(60_000),
        MasterSpec::new(
            "s950-12s",
            950,
            12_000,
            vec![at("soon", 5_000), at("up40", 40_000)],
        )
        .settle(60_000),
        MasterSpec::new(
            "s1650-2m-skip",
            1_650,
            1_000,
            vec![skiphead(AfterSnapshot(8_000)), at("up50", 50_000)],
        )
        .block("2m")
        .settle(60_000),
        MasterSpec::new(
            "s2300-laterw",
            2_300,
            1_000,
            vec![at("soon", 5_000), laterw(AfterSnapshot(45_000))],
        )
        .settle(60_000),
        MasterSpec::new(
            "s1950-restart",
            1_950,
            1_000,
            vec![
                restart(18_000, 12_000),
                at("soon", 40_000),
                at("up60", 60_000),
            ],
        )
        .settle(60_000),
        MasterSpec::new(
            "s640-12s-skip",
            640,
            12_000,
            vec![skiphead(AfterSnapshot(10_000)), at("up30", 30_000)],
        )
        .settle(60_000),
        MasterSpec::new(
            "s280-3s-laterw",
            280,
            3_000,
            vec![
                skiphead(AfterSnapshot(6_000)),
                laterw(AfterSnapshot(30_000)),
            ],
        )
        .settle(60_000),
        // Out of sample, eleventh set (listed in docs/LOSS-WINDOWS.md and
        // committed before any of it was recorded; judged by main's
        // estimator unchanged). The two regimes whose slave logs were cut
        // before the notes kept every refused timestamp, anew at
        // neighbouring values, and the second-loss regime at queue settings
        // never recorded, with 1m and 2m blocks.
        MasterSpec::new(
            "s4700-ms45",
            4_700,
            1_000,
            vec![at("up50", 50_000), at("up57", 57_000)],
        )
        .queue(None, None, Some(45))
        .settle(60_000),
        MasterSpec::new(
            "s9k-q18k-ms90",
            9_000,
            1_000,
            vec![at("up12", 12_000), at("up45", 45_000)],
        )
        .queue(Some(18_000), None, Some(90))
        .settle(60_000),
        MasterSpec::new(
            "s3600-2m-spp400",
            3_600,
            1_000,
            vec![at("up70", 70_000), at("up95", 95_000)],
        )
        .queue(None, Some(400), None)
        .block("2m")
        .settle(60_000),
        MasterSpec::new(
            "s6300-2m-cap3k-ms60",
            6_300,
            1_000,
            vec![at("up65", 65_000), at("up110", 110_000)],
        )
        .queue(Some(3_000), None, Some(60))
        .block("2m")
        .settle(60_000),
        MasterSpec::new(
            "s5200-cap2200-spp600",
            5_200,
            1_000,
            vec![at("up42", 42_000), at("up69", 69_000)],
        )
        .queue(Some(2_200), Some(600), None)
        .settle(60_000),
        MasterSpec::new(
            "s7700-ms15",
            7_700,
            1_000,
            vec![at("up34", 34_000), at("up61", 61_000)],
        )
        .queue(None, None, Some(15))
        .settle(60_000),
        // Slaves up and receiving before the snapshot, then stopped (3 s
        // and 20 s after it), wiped, seeded with the snapshot and started
        // again.
        MasterSpec::new(
            "s730-pre",
            730,
            1_000,
            vec![at("pre3", 3_000), at("pre20", 20_000)],
        )
        .pre_snapshot(&["pre3", "pre20"])
        .settle(60_000),
        // Native histograms: 250 gauges and 10 native histograms, scraped
        // over protobuf and remote-written (2.42, feature flag).
        MasterSpec::new(
            "s260-nh",
            260,
            1_000,
            vec![at("soon", 5_000), at("up30", 30_000)],
        )
        .native_hist(10)
        .settle(60_000),
        // Eleventh set, ordinary regimes at values not recorded before.
        MasterSpec::new(
            "s2700-2s-2m",
            2_700,
            2_000,
            vec![at("soon", 5_000), at("up50", 50_000)],
        )
        .block("2m")
        .settle(60_000),
        MasterSpec::new(
            "s1150-4s-skip",
            1_150,
            4_000,
            vec![skiphead(AfterSnapshot(7_000)), at("up33", 33_000)],
        )
        .settle(60_000),
        MasterSpec::new(
            "s430-6s-3m",
            430,
            6_000,
            vec![at("soon", 5_000), at("up45", 45_000)],
        )
        .block("3m")
        .settle(60_000),
        MasterSpec::new(
            "s170-10s-laterw",
            170,
            10_000,
            vec![at("soon", 5_000), laterw(AfterSnapshot(40_000))],
        )
        .settle(60_000),
        MasterSpec::new(
            "s2900-restart",
            2_900,
            1_000,
            vec![
                restart(14_000, 11_000),
                at("soon", 35_000),
                at("up55", 55_000),
            ],
        )
        .settle(60_000),
        MasterSpec::new(
            "s880x2-2s",
            880,
            2_000,
            vec![at("soon", 5_000), at("up28", 28_000)],
        )
        .targets(2)
        .settle(60_000),
        // Out of sample, twelfth set (listed in docs/LOSS-WINDOWS.md and
        // committed before any of it was recorded; judged by main's
        // estimator unchanged): production-like values. 15 s and 30 s
        // scrapes on 2m blocks with a slave up after the next head
        // truncation (`late1`), one with a non-default batch size; several
        // jobs at different intervals; slaves receiving before the snapshot
        // stopped at new delays; the sliver regime (skip_head at 5-6 s);
        // the second-loss regime (capacity about 2x the series, max_shards
        // 75 and 115); a busy master with slaves up many truncations later.
        MasterSpec::new(
            "s2200-15s-2m",
            2_200,
            15_000,
            vec![at("up40", 40_000), slave("late1", Truncations(1))],
        )
        .block("2m")
        .settle(60_000),
        MasterSpec::new(
            "s3k-30s-2m-spp250",
            3_000,
            30_000,
            vec![at("up45", 45_000), slave("late1", Truncations(1))],
        )
        .queue(None, Some(250), None)
        .block("2m")
        .settle(60_000),
        MasterSpec::new(
            "s2500x3-1s15s30s",
            2_500,
            1_000,
            vec![at("soon", 5_000), slave("late1", Truncations(1))],
        )
        .intervals(&[1_000, 15_000, 30_000])
        .sizes(&[500, 1_000, 1_000])
        .block("2m")
        .settle(60_000),
        MasterSpec::new(
            "s1400-pre",
            1_400,
            1_000,
            vec![at("pre8", 8_000), at("pre40", 40_000)],
        )
        .pre_snapshot(&["pre8", "pre40"])
        .settle(60_000),
        MasterSpec::new(
            "s2600-5s-skip",
            2_600,
            5_000,
            vec![skiphead(AfterSnapshot(9_000)), at("up36", 36_000)],
        )
        .settle(60_000),
        MasterSpec::new(
            "s4200-6s-skip",
            4_200,
            6_000,
            vec![skiphead(AfterSnapshot(13_000)), at("up48", 48_000)],
        )
        .settle(60_000),
        MasterSpec::new(
            "s1800x2-5s15s",
            1_800,
            5_000,
            vec![at("soon", 5_000), at("up50", 50_000)],
        )
        .intervals(&[5_000, 15_000])
        .settle(60_000),
        MasterSpec::new(
            "s2k-15s-pre",
            2_000,
            15_000,
            vec![at("pre30", 30_000), at("pre75", 75_000)],
        )
        .pre_snapshot(&["pre30", "pre75"])
        .settle(60_000),
        MasterSpec::new(
            "s8200-q16k-ms75",
            8_200,
            1_000,
            vec![at("up44", 44_000), at("up59", 59_000)],
        )
        .queue(Some(16_000), None, Some(75))
        .settle(60_000),
        MasterSpec::new(
            "s9500-q19k-ms115",
            9_500,
            1_000,
            vec![at("up41", 41_000), at("up52", 52_000)],
        )
        .queue(Some(19_000), None, Some(115))
        .settle(60_000),
        MasterSpec::new(
            "s15k-busy",
            15_000,
            1_000,
            vec![
                slave("late3", Truncations(3)),
                slave("late5", Truncations(5)),
            ],
        )
        .busy(false)
        .settle(60_000),
        // Twelfth set, only if time allowed (listed as such before recording).
        MasterSpec::new(
            "s5600-15s-cap1k",
            5_600,
            15_000,
            vec![at("soon", 5_000), at("up70", 70_000)],
        )
        .queue(Some(1_000), None, None)
        .settle(60_000),
        MasterSpec::new(
            "s1300-30s-3m",
            1_300,
            30_000,
            vec![at("up50", 50_000), slave("late1", Truncations(1))],
        )
        .block("3m")
        .settle(60_000),
        // JSON logs (`--log.format=json` on master and slaves; listed before
        // recording, judged by main's estimator unchanged): the regimes whose
        // answers the logs move. A reshard inside the refused backlog (the
        // master's log decides it), and the skip_head sliver with a slave up
        // later (the slave's log places the boundary windows).
        MasterSpec::new(
            "s4600-ms55-json",
            4_600,
            1_000,
            vec![at("up48", 48_000), at("up53", 53_000)],
        )
        .queue(None, None, Some(55))
        .settle(60_000)
        .json_log(),
        MasterSpec::new(
            "s3000-5s-skip-json",
            3_000,
            5_000,
            vec![skiphead(AfterSnapshot(11_000)), at("up42", 42_000)],
        )
        .settle(60_000)
        .json_log(),
        // Out of sample, thirteenth set (listed in docs/LOSS-WINDOWS.md and
        // committed before any of it was recorded; judged by main's
        // estimator unchanged): the issue's four scenarios at new values
        // (2-3 s scrapes, skip_head, a slave up 6-8 truncations later,
        // remote write enabled late), slaves with 2m/3m blocks under a 1m
        // master, batch_send_deadline 1 s and 10 s with min_shards 3, 10 s
        // with skip_head, a master restart at 2 s, slave restarts after
        // the catch-up, a write_relabel keep rule at 2 s.
        MasterSpec::new(
            "s300-2s-skip",
            300,
            2_000,
            vec![skiphead(AfterSnapshot(8_000)), at("up25", 25_000)],
        ),
        MasterSpec::new(
            "s600-3s-skip",
            600,
            3_000,
            vec![skiphead(AfterSnapshot(8_000)), at("up35", 35_000)],
        )
        .settle(60_000),
        MasterSpec::new(
            "s450-2s-late6",
            450,
            2_000,
            vec![at("up50", 50_000), slave("late6", Truncations(6))],
        ),
        MasterSpec::new(
            "s380-late8",
            380,
            1_000,
            vec![
                skiphead(AfterSnapshot(20_000)),
                slave("late8", Truncations(8)),
            ],
        ),
        MasterSpec::new(
            "s350-3s-laterw",
            350,
            3_000,
            vec![laterw(AfterSnapshot(35_000)), at("up50", 50_000)],
        )
        .settle(60_000),
        MasterSpec::new(
            "s600-2s-sblk2m",
            600,
            2_000,
            vec![at("up30", 30_000), at("up55", 55_000)],
        )
        .slave_block("2m"),
        MasterSpec::new(
            "s1200-sblk3m",
            1_200,
            1_000,
            vec![at("soon", 5_000), at("up50", 50_000)],
        )
        .slave_block("3m"),
        MasterSpec::new(
            "s1500-bsd1s",
            1_500,
            1_000,
            vec![at("soon", 5_000), at("up35", 35_000)],
        )
        .queue_shards_deadline(None, Some(1_000)),
        MasterSpec::new(
            "s2400-min3-bsd10s",
            2_400,
            1_000,
            vec![at("up20", 20_000), at("up45", 45_000)],
        )
        .queue_shards_deadline(Some(3), Some(10_000))
        .settle(60_000),
        MasterSpec::new(
            "s1600-10s-skip",
            1_600,
            10_000,
            vec![skiphead(AfterSnapshot(12_000)), at("up60", 60_000)],
        )
        .settle(60_000),
        MasterSpec::new(
            "s800-2s-restart",
            800,
            2_000,
            vec![
                restart(22_000, 8_000),
                at("up40", 40_000),
                at("up70", 70_000),
            ],
        )
        .settle(60_000),
        MasterSpec::new(
            "s900-srestart",
            900,
            1_000,
            vec![
                at("soon", 5_000),
                slave_restart("soon", 25_000, 20_000, true),
                at("up35", 35_000),
                slave_restart("up35", 70_000, 8_000, false),
            ],
        ),
        MasterSpec::new(
            "s2400-2s-relabel",
            2_400,
            2_000,
            vec![at("soon", 5_000), at("up40", 40_000)],
        )
        .keep_i("[0-9]*[0-4]"),
        // Thirteenth set, only if time allowed (listed as such before recording).
        MasterSpec::new(
            "s420-late9",
            420,
            1_000,
            vec![at("up45", 45_000), slave("late9", Truncations(9))],
        ),
        // Out of sample, fourteenth set (listed in docs/LOSS-WINDOWS.md and
        // committed before any of it was recorded; judged by main's
        // estimator unchanged): the Debian package's prometheus.yml (the
        // master scraping itself and a real node_exporter, external labels,
        // an alertmanager that does not run, a rule file) plus remote_write,
        // with the issue's scenarios; the same without external labels; the
        // same at 1 s and at 5 s.
        MasterSpec::new("deb15-ext", 0, 15_000, debian_steps(6))
            .debian(deb(15_000, 5_000, 15_000, true))
            .settle(60_000),
        MasterSpec::new("deb15-noext", 0, 15_000, debian_steps(6))
            .debian(deb(15_000, 5_000, 15_000, false))
            .settle(60_000),
        MasterSpec::new("deb1s-ext", 0, 1_000, debian_steps(5))
            .debian(deb(1_000, 1_000, 1_000, true))
            .settle(60_000),
        MasterSpec::new("deb1s-noext", 0, 1_000, debian_steps(5))
            .debian(deb(1_000, 1_000, 1_000, false))
            .settle(60_000),
        MasterSpec::new(
            "deb5s-ext",
            0,
            5_000,
            vec![
                at("soon", 5_000),
                at("up45", 45_000),
                slave("late7", Truncations(7)),
            ],
        )
        .debian(deb(5_000, 5_000, 5_000, true))
        .settle(60_000),
        MasterSpec::new(
            "deb15-ext-soon",
            0,
            15_000,
            vec![
                at("soon", 5_000),
                at("up90", 90_000),
                slave("late3", Truncations(3)),
            ],
        )
        .debian(deb(15_000, 5_000, 15_000, true))
        .settle(60_000),
        // Added after the first results (not in the list fixed before
        // recording): the control of deb5s-ext without external labels.
        MasterSpec::new(
            "deb5s-noext",
            0,
            5_000,
            vec![
                at("soon", 5_000),
                at("up45", 45_000),
                slave("late7", Truncations(7)),
            ],
        )
        .debian(deb(5_000, 5_000, 5_000, false))
        .settle(60_000),
        // Out of sample, fifteenth set (listed in docs/LOSS-WINDOWS.md and
        // committed before any of it was recorded; judged by main's
        // estimator): snapshots with the head, several targets, long
        // intervals, slow targets; `up_tail` recorded (L4 evidence).
        MasterSpec::new(
            "deb15h-ext",
            0,
            15_000,
            vec![at("up7", 7_000), at("up24", 24_000), at("up51", 51_000)],
        )
        .debian(deb(15_000, 5_000, 15_000, true))
        .settle(60_000),
        MasterSpec::new(
            "deb3t-slow",
            0,
            15_000,
            vec![
                at("up11", 11_000),
                at("up37", 37_000),
                slave("late2", Truncations(2)),
            ],
        )
        .debian(deb(15_000, 5_000, 15_000, true))
        .deb_exporter(5_000, 200)
        .slow(2_000, 4_000)
        .settle(60_000),
        MasterSpec::new(
            "deb10-ext",
            0,
            10_000,
            vec![
                at("up13", 13_000),
                at("up46", 46_000),
                slave("late4", Truncations(4)),
            ],
        )
        .debian(deb(10_000, 10_000, 10_000, true))
        .settle(60_000),
        MasterSpec::new(
            "deb3t-15-10",
            0,
            15_000,
            vec![
                at("up7", 7_000),
                skiphead(AfterSnapshot(12_000)),
                at("up29", 29_000),
            ],
        )
        .debian(deb(15_000, 5_000, 15_000, true))
        .deb_exporter(10_000, 300)
        .settle(60_000),
        MasterSpec::new(
            "deb30-ext",
            0,
            30_000,
            vec![
                skiphead(AfterSnapshot(8_000)),
                at("up19", 19_000),
                at("up64", 64_000),
            ],
        )
        .debian(deb(30_000, 30_000, 30_000, true))
        .settle(60_000),
        MasterSpec::new(
            "deb10-tmo9",
            0,
            10_000,
            vec![
                at("up17", 17_000),
                at("up43", 43_000),
                slave("late2", Truncations(2)),
            ],
        )
        .debian(deb(10_000, 10_000, 10_000, false))
        .deb_timeout(9_000)
        .deb_exporter(10_000, 200)
        .slow(6_000, 8_500)
        .settle(60_000),
        MasterSpec::new(
            "deb3t-30s",
            0,
            30_000,
            vec![
                at("up7", 7_000),
                at("up37", 37_000),
                slave("late4", Truncations(4)),
            ],
        )
        .debian(deb(30_000, 5_000, 30_000, true))
        .deb_exporter(15_000, 200)
        .settle(60_000),
        MasterSpec::new(
            "s600-15s-1t",
            600,
            15_000,
            vec![at("up7", 7_000), at("up29", 29_000), at("up51", 51_000)],
        )
        .settle(60_000),
        // Fifteenth set, only as time allows (listed before recording).
        MasterSpec::new(
            "deb15h-noext",
            0,
            15_000,
            vec![at("up11", 11_000), at("up29", 29_000), at("up64", 64_000)],
        )
        .debian(deb(15_000, 5_000, 15_000, false))
        .settle(60_000),
        MasterSpec::new(
            "deb5s-slow",
            0,
            5_000,
            vec![at("up7", 7_000), at("up24", 24_000), at("up51", 51_000)],
        )
        .debian(deb(5_000, 5_000, 5_000, true))
        .deb_exporter(5_000, 200)
        .slow(3_000, 4_800)
        .settle(60_000),
        // Out of sample, sixteenth set (listed in docs/LOSS-WINDOWS.md and
        // committed before any of it was recorded; judged by main's
        // estimator): besides repeats (PROMSNAP_LOSS_TAG) of deb15-ext,
        // deb15-noext, deb15-ext-soon and deb1s-ext, the issue's scenarios at
        // a new snapshot phase, rules on their own grid, a small queue on
        // three targets, three exporter targets of thousands of series.
        MasterSpec::new(
            "deb1s-ph41",
            0,
            1_000,
            vec![
                skiphead(AfterSnapshot(11_000)),
                at("up31", 31_000),
                Step {
                    trigger: AfterSnapshot(53_000),
                    action: Action::Slave {
                        name: "laterw",
                        skip_head: false,
                        late_rw: true,
                    },
                },
                slave("late7", Truncations(7)),
            ],
        )
        .debian(deb(1_000, 1_000, 1_000, true))
        .snap_phase(41_000)
        .settle(60_000),
        MasterSpec::new(
            "deb3t-ev7",
            0,
            15_000,
            vec![
                at("up9", 9_000),
                at("up27", 27_000),
                slave("late3", Truncations(3)),
            ],
        )
        .debian(deb(15_000, 5_000, 15_000, true))
        .deb_exporter(10_000, 300)
        .deb_eval(7_000)
        .settle(60_000),
        MasterSpec::new(
            "deb3t-q300",
            0,
            15_000,
            vec![at("up16", 16_000), at("up49", 49_000)],
        )
        .debian(deb(15_000, 5_000, 15_000, true))
        .deb_exporter(5_000, 2_000)
        .queue(Some(1_200), Some(300), None)
        .settle(60_000),
        MasterSpec::new(
            "s7500x3-2s3s5s",
            7_500,
            2_000,
            vec![at("up6", 6_000), at("up21", 21_000), at("up56", 56_000)],
        )
        .intervals(&[2_000, 3_000, 5_000])
        .sizes(&[3_000, 2_500, 2_000])
        .settle(60_000),
        // Sixteenth set, only as time allows (listed before recording).
        MasterSpec::new(
            "deb1s-ev4",
            0,
            1_000,
            vec![at("up18", 18_000), at("up62", 62_000)],
        )
        .debian(deb(1_000, 1_000, 1_000, true))
        .deb_eval(4_000)
        .settle(60_000),
        // Out of sample, seventeenth set (listed in docs/LOSS-WINDOWS.md and
        // committed before any of it was recorded; judged by main's
        // estimator): the issue's scenarios at two snapshot phases never used
        // and a slave ~7 min later at a fixed time (not a truncation), a busy
        // WAL rotating by size, three grids of thousands of series, rules on
        // a 3 s grid, two shards at most, a fixed shard count.
        MasterSpec::new(
            "deb1s-ph14",
            0,
            1_000,
            vec![
                at("up39h", 39_500),
                skiphead(AfterSnapshot(42_000)),
                laterw(AfterSnapshot(68_000)),
                at("up425", 425_000),
            ],
        )
        .debian(deb(1_000, 1_000, 1_000, true))
        .snap_phase(14_000)
        .settle(60_000),
        MasterSpec::new(
            "deb15-ph57",
            0,
            15_000,
            vec![
                skiphead(AfterSnapshot(37_000)),
                at("up40h", 40_500),
                laterw(AfterSnapshot(74_000)),
                at("up405", 405_000),
            ],
        )
        .debian(deb(15_000, 5_000, 15_000, true))
        .snap_phase(57_000)
        .settle(60_000),
        MasterSpec::new(
            "s13k-busy",
            13_000,
            1_000,
            vec![at("up23", 23_000), overtaken(), at("up165", 165_000)],
        )
        .busy(false)
        .settle(60_000),
        MasterSpec::new(
            "s8400x3-3s2s5s",
            8_400,
            3_000,
            vec![at("up26", 26_000), at("up72", 72_000), at("up87", 87_000)],
        )
        .intervals(&[3_000, 2_000, 5_000])
        .sizes(&[2_400, 3_600, 2_400])
        .settle(60_000),
        MasterSpec::new(
            "deb3t-ev3",
            0,
            10_000,
            vec![overtaken(), at("up250", 250_000)],
        )
        .debian(deb(10_000, 5_000, 10_000, true))
        .deb_exporter(15_000, 400)
        .deb_eval(3_000)
        .settle(60_000),
        MasterSpec::new(
            "s5k-ms2",
            5_000,
            1_000,
            vec![at("up23", 23_000), at("up80", 80_000)],
        )
        .queue(None, None, Some(2))
        .settle(60_000),
        MasterSpec::new(
            "s3600-2s-fix3",
            3_600,
            2_000,
            vec![at("up26", 26_000), at("up83", 83_000)],
        )
        .queue(None, None, Some(3))
        .queue_shards_deadline(Some(3), None)
        .settle(60_000),
        // Seventeenth set, only as time allows (listed before recording).
        MasterSpec::new(
            "s900-25s",
            900,
            25_000,
            vec![at("up26", 26_000), at("up270", 270_000)],
        )
        .settle(60_000),
        // Added after the first results (not in the list; said so in
        // docs/LOSS-WINDOWS.md): s13k-busy wrote 8.7-9.0 MB of WAL a minute,
        // its segments cut at truncations only; at 18 000 series the 10 MB
        // segments fill before each truncation (rotation by size).
        MasterSpec::new(
            "s18k-busy",
            18_000,
            1_000,
            vec![at("up23", 23_000), overtaken(), at("up165", 165_000)],
        )
        .busy(false)
        .settle(60_000),
        // Out of sample, eighteenth set (listed in docs/LOSS-WINDOWS.md and
        // committed before any of it was recorded; judged by main's
        // estimator): the issue's scenarios at two snapshot phases never used
        // (5 s, 47 s), the operator's second replay as harness runs (the
        // Debian two-target shape with slaves about 1 and 5 minutes late, a
        // master restart left to stop by itself, a snapshot 2 s after the
        // second head compaction), the far-end class with whole slave logs,
        // two shards at most with 100-sample sends.
        MasterSpec::new(
            "deb1s-ph5",
            0,
            1_000,
            vec![
                at("up41h", 41_500),
                skiphead(AfterSnapshot(44_000)),
                laterw(AfterSnapshot(63_000)),
                at("up415", 415_000),
            ],
        )
        .debian(deb(1_000, 1_000, 1_000, true))
        .snap_phase(5_000)
        .settle(60_000),
        MasterSpec::new(
            "deb15-ph47",
            0,
            15_000,
            vec![
                skiphead(AfterSnapshot(39_000)),
                at("up42h", 42_500),
                laterw(AfterSnapshot(78_000)),
                at("up435", 435_000),
            ],
        )
        .debian(deb(15_000, 5_000, 15_000, true))
        .snap_phase(47_000)
        .settle(60_000),
        MasterSpec::new(
            "deb15-rp2",
            0,
            15_000,
            vec![
                at("up60h", 60_500),
                at("up64h", 64_500),
                at("up68", 68_000),
                at("up295", 295_000),
            ],
        )
        .debian(deb(15_000, 5_000, 15_000, true))
        .settle(60_000),
        MasterSpec::new(
            "deb1s-restart",
            0,
            1_000,
            vec![
                restart(20_000, 5_000),
                at("up175", 175_000),
                at("up232", 232_000),
            ],
        )
        .debian(deb(1_000, 1_000, 1_000, true))
        .restart_wait(200_000)
        .settle(60_000),
        MasterSpec::new(
            "deb1s-headgc",
            0,
            1_000,
            vec![at("up38h", 38_500), at("up76", 76_000)],
        )
        .debian(deb(1_000, 1_000, 1_000, true))
        .snap_moment(2, 2_000)
        .settle(60_000),
        MasterSpec::new(
            "s6100-ms35",
            6_100,
            1_000,
            vec![at("up53h", 53_500), at("up58h", 58_500)],
        )
        .queue(None, None, Some(35))
        .whole_slave_log()
        .settle(60_000),
        MasterSpec::new(
            "s1250-4s-skip",
            1_250,
            4_000,
            vec![skiphead(AfterSnapshot(16_000)), at("up46h", 46_500)],
        )
        .whole_slave_log()
        .settle(60_000),
        MasterSpec::new(
            "s12k-ms2-spp100",
            12_000,
            1_000,
            vec![at("up44h", 44_500), at("up79", 79_000)],
        )
        .queue(None, Some(100), Some(2))
        .settle(60_000),
        // Eighteenth set, only as time allows (listed before recording).
        MasterSpec::new(
            "s4k-cap250-spp125",
            4_000,
            1_000,
            vec![at("up47h", 47_500), at("up81", 81_000)],
        )
        .queue(Some(250), Some(125), None)
        .settle(60_000),
        // Out of sample, nineteenth set (listed in docs/LOSS-WINDOWS.md and
        // committed before any of it was recorded; judged by main's
        // estimator): 2.42's default 2h block range on master and slaves
        // (no block flags), slaves seeded by `promsnap seed`, the issue's
        // four scenarios on its own master (self-scrape only, 1 s) at a
        // snapshot phase no run had (13 s), a slave block range 120 times
        // the master's.
        MasterSpec::new(
            "self1s-2h",
            0,
            1_000,
            vec![
                skiphead(AfterSnapshot(41_000)),
                at("up49h", 49_500),
                laterw(AfterSnapshot(57_000)),
                at("up245", 245_000),
            ],
        )
        .self_scrape(1_000)
        .default_blocks()
        .snap_moment(0, 75_000)
        .settle(60_000),
        MasterSpec::new(
            "deb15-2h",
            0,
            15_000,
            vec![
                skiphead(AfterSnapshot(43_000)),
                at("up51h", 51_500),
                laterw(AfterSnapshot(65_000)),
                at("up255", 255_000),
            ],
        )
        .debian(deb(15_000, 5_000, 15_000, true))
        .default_blocks()
        .snap_moment(0, 100_000)
        .settle(60_000),
        MasterSpec::new(
            "self1s-seed",
            0,
            1_000,
            vec![at("seed55h", 55_500), at("up84", 84_000)],
        )
        .self_scrape(1_000)
        .seed_slave("seed55h")
        .settle(60_000),
        MasterSpec::new(
            "deb15-seed",
            0,
            15_000,
            vec![at("seed62h", 62_500), at("up88", 88_000)],
        )
        .debian(deb(15_000, 5_000, 15_000, true))
        .seed_slave("seed62h")
        .settle(60_000),
        MasterSpec::new(
            "self1s-ph13",
            0,
            1_000,
            vec![
                skiphead(AfterSnapshot(45_000)),
                at("up56h", 56_500),
                laterw(AfterSnapshot(70_000)),
                at("up355", 355_000),
            ],
        )
        .self_scrape(1_000)
        .snap_phase(13_000)
        .settle(60_000),
        // Nineteenth set, only as time allows (listed before recording).
        MasterSpec::new(
            "self1s-sblk2h",
            0,
            1_000,
            vec![at("up61h", 61_500), at("up93", 93_000)],
        )
        .self_scrape(1_000)
        .slave_block("2h")
        .settle(60_000),
        // Out of sample, twentieth set (listed in docs/LOSS-WINDOWS.md and
        // committed before any of it was recorded; judged by main's
        // estimator): the issue's master with slaves 15 and 18 minutes after
        // the snapshot (about twice the truncations of any recorded run), the
        // global default scrape interval (15 s) with 1m blocks, six shards at
        // least with a 300-sample capacity in 150-sample sends; as time
        // allows a busy master with a 10-minute outage and the issue's four
        // scenarios at snapshot phase 46.5 s.
        MasterSpec::new(
            "self1s-long",
            0,
            1_000,
            vec![at("up915", 915_000), at("up1085", 1_085_000)],
        )
        .self_scrape(1_000)
        .settle(60_000),
        MasterSpec::new(
            "s1050-15s",
            1_050,
            15_000,
            vec![
                skiphead(AfterSnapshot(34_000)),
                at("up39", 39_300),
                laterw(AfterSnapshot(50_000)),
                at("up375", 375_000),
            ],
        )
        .settle(60_000),
        MasterSpec::new(
            "s2k-min6-cap300",
            2_000,
            1_000,
            vec![at("up32h", 32_500), at("up127", 127_000)],
        )
        .queue(Some(300), Some(150), None)
        .queue_shards_deadline(Some(6), None)
        .settle(60_000),
        // Twentieth set, only as time allows (listed before recording).
        MasterSpec::new(
            "s19k-busy",
            19_000,
            1_000,
            vec![at("up485", 485_000), at("up610", 610_000)],
        )
        .busy(false)
        .settle(60_000),
        MasterSpec::new(
            "self1s-ph46h",
            0,
            1_000,
            vec![
                skiphead(AfterSnapshot(36_000)),
                at("up53", 53_800),
                laterw(AfterSnapshot(62_000)),
                at("up395", 395_000),
            ],
        )
        .self_scrape(1_000)
        .snap_phase(46_500)
        .settle(60_000),
        // Out of sample, twenty-first set (listed in docs/LOSS-WINDOWS.md
        // and committed before any of it was recorded; judged by main's
        // estimator): the issue's master with slaves a few seconds either
        // side of the first truncation after the snapshot and of the
        // deadline (master started 5 s past a minute, snapshot at 50 s past
        // the next: the truncations at about +40 s and +160 s), 10 s scrapes
        // with 2m blocks, two master restarts in one outage; as time allows
        // the issue's four scenarios at snapshot phase 21.5 s.
        MasterSpec::new(
            "self1s-edge",
            0,
            1_000,
            vec![
                at("up36h", 36_500),
                at("up44", 44_700),
                at("up156", 156_800),
                at("up164", 164_300),
            ],
        )
        .self_scrape(1_000)
        .start_phase(5)
        .snap_phase(50_000)
        .settle(60_000),
        MasterSpec::new(
            "s800-10s-2m",
            800,
            10_000,
            vec![
                skiphead(AfterSnapshot(38_200)),
                at("up40", 40_800),
                laterw(AfterSnapshot(47_000)),
                at("up370", 370_000),
            ],
        )
        .block("2m")
        .settle(60_000),
        MasterSpec::new(
            "self1s-2rst",
            0,
            1_000,
            vec![
                restart(15_000, 25_000),
                restart(70_000, 25_000),
                at("up109", 109_000),
                at("up215", 215_000),
            ],
        )
        .self_scrape(1_000)
        .restart_wait(25_000)
        .settle(60_000),
        // Twenty-first set, only as time allows (listed before recording).
        MasterSpec::new(
            "self1s-ph21h",
            0,
            1_000,
            vec![
                skiphead(AfterSnapshot(35_400)),
                at("up52", 52_700),
                laterw(AfterSnapshot(55_000)),
                at("up385", 385_000),
            ],
        )
        .self_scrape(1_000)
        .snap_phase(21_500)
        .settle(60_000),
        // Out of sample, twenty-second set (listed in docs/LOSS-WINDOWS.md
        // and committed before any of it was recorded; judged by main's
        // estimator): (a) the issue's master with seven slave-up delays,
        // the snapshot's phase and the master's start phase drawn with
        // `shuf` from a seeded source (the draw is in the doc); (b) a master
        // restart about 3 s after the slave is up (its reader still behind),
        // and one about 4 s before it (killed 4 s after the SIGTERM, started
        // at once); (c) 2.5 s scrapes, never recorded with 1m blocks; (e) as
        // time allows, (b)'s restart about 7 s after the slave is up.
        MasterSpec::new(
            "self1s-drawn",
            0,
            1_000,
            vec![
                at("up94h", 94_500),
                at("up95", 94_800),
                at("up104", 104_800),
                at("up145", 145_600),
                at("up227", 227_500),
                at("up390", 390_900),
                at("up472", 472_500),
            ],
        )
        .self_scrape(1_000)
        .start_phase(38)
        .snap_phase(59_300)
        .settle(60_000),
        MasterSpec::new(
            "self1s-rstup",
            0,
            1_000,
            vec![at("up60", 60_400), restart(63_600, 0)],
        )
        .self_scrape(1_000)
        .start_phase(5)
        .snap_phase(50_000)
        .settle(60_000),
        MasterSpec::new(
            "self1s-rstpre",
            0,
            1_000,
            vec![restart(67_600, 0), at("up75", 75_600)],
        )
        .self_scrape(1_000)
        .start_phase(5)
        .snap_phase(50_000)
        .restart_wait(4_000)
        .settle(60_000),
        MasterSpec::new(
            "s1000-2500ms",
            1_000,
            2_500,
            vec![
                at("up40", 40_300),
                at("up168", 168_400),
                at("up287", 287_600),
            ],
        )
        .start_phase(20)
        .settle(60_000),
        // Twenty-second set, only as time allows (listed before recording).
        MasterSpec::new(
            "self1s-rstup7",
            0,
            1_000,
            vec![at("up60", 60_400), restart(67_500, 0)],
        )
        .self_scrape(1_000)
        .start_phase(5)
        .snap_phase(50_000)
        .settle(60_000),
        // Out of sample, twenty-third set (listed in docs/LOSS-WINDOWS.md
        // and committed before any of it was recorded; judged by main's
        // estimator): the issue's master restarted at times drawn with
        // `shuf` from a seeded source (the draw is in the doc), the geometry
        // of `self1s-rstup` (the old reader's deadline about +162 s). (a) a
        // master killed (SIGKILL, no stop line) +108.0 s, its slave up 52.1 s
        // after the restart; one killed 7.4 s after its slave is ready;
        // (b) SIGTERM restarts 13.5, 7.5 and 2.5 s after the slave is ready.
        MasterSpec::new(
            "self1s-kpre",
            0,
            1_000,
            vec![kill_restart(108_000, 0), at("up160", 160_100)],
        )
        .self_scrape(1_000)
        .start_phase(5)
        .snap_phase(50_000)
        .settle(60_000),
        MasterSpec::new(
            "self1s-kup",
            0,
            1_000,
            vec![at("up91", 91_600), kill_restart(99_100, 0)],
        )
        .self_scrape(1_000)
        .start_phase(5)
        .snap_phase(50_000)
        .settle(60_000),
        MasterSpec::new(
            "self1s-tup135",
            0,
            1_000,
            vec![at("up99", 99_900), restart(113_500, 0)],
        )
        .self_scrape(1_000)
        .start_phase(5)
        .snap_phase(50_000)
        .settle(60_000),
        MasterSpec::new(
            "self1s-tup75",
            0,
            1_000,
            vec![at("up99", 99_900), restart(107_500, 0)],
        )
        .self_scrape(1_000)
        .start_phase(5)
        .snap_phase(50_000)
        .settle(60_000),
        MasterSpec::new(
            "self1s-tup25",
            0,
            1_000,
            vec![at("up99", 99_900), restart(102_500, 0)],
        )
        .self_scrape(1_000)
        .start_phase(5)
        .snap_phase(50_000)
        .settle(60_000),
        // Out of sample, twenty-fourth set (listed in docs/LOSS-WINDOWS.md
        // and committed before any of it was recorded; judged by main's
        // estimator): restarts after the slave is ready, drawn 14-45 s after
        // it with `shuf` from a seeded source, around and past the catch-up
        // rule's bound (about 16.5 s after the ready time here). (a) the
        // issue's master: SIGTERMs 22.7, 33.8 and 35.4 s after the ready
        // time, a SIGKILL 15.5 s after it; (b) the same with an exporter of
        // 4000 series at 1 s (job `lm`), a SIGTERM 9.2 s after it.
        MasterSpec::new(
            "self1s-tup227",
            0,
            1_000,
            vec![at("up93", 93_700), restart(116_500, 0)],
        )
        .self_scrape(1_000)
        .start_phase(5)
        .snap_phase(50_000)
        .settle(60_000),
        MasterSpec::new(
            "self1s-tup338",
            0,
            1_000,
            vec![at("up93", 93_700), restart(127_600, 0)],
        )
        .self_scrape(1_000)
        .start_phase(5)
        .snap_phase(50_000)
        .settle(60_000),
        MasterSpec::new(
            "self1s-tup354",
            0,
            1_000,
            vec![at("up93", 93_700), restart(129_200, 0)],
        )
        .self_scrape(1_000)
        .start_phase(5)
        .snap_phase(50_000)
        .settle(60_000),
        MasterSpec::new(
            "self1s-kup155",
            0,
            1_000,
            vec![at("up94", 94_600), kill_restart(110_200, 0)],
        )
        .self_scrape(1_000)
        .start_phase(5)
        .snap_phase(50_000)
        .settle(60_000),
        MasterSpec::new(
            "self1s-lm4k-tup92",
            0,
            1_000,
            vec![at("up95", 95_200), restart(104_500, 0)],
        )
        .self_scrape(1_000)
        .deb_exporter(1_000, 4_000)
        .start_phase(5)
        .snap_phase(50_000)
        .settle(60_000),
    ]
}

/// A Debian-config master (`DebianCfg`) with its alertmanager and rules.
fn deb(global_ms: i64, self_ms: i64, node_ms: i64, external_labels: bool) -> DebianCfg {
    DebianCfg {
        global_ms,
        self_ms,
        node_ms,
        external_labels,
        alerting: true,
        exporter: None,
        timeout_ms: None,
        eval_ms: None,
    }
}

/// The issue's scenarios on one master: `skip_head` (+8 s), a slave up 40 s
/// after the snapshot, remote write enabled at +60 s, and a slave up 3 s
/// after the `late`-th head truncation since the snapshot.
fn debian_steps(late: usize) -> Vec<Step> {
    let name = match late {
        5 => "late5",
        _ => "late6",
    };
    vec![
        Step {
            trigger: Trigger::AfterSnapshot(8_000),
            action: Action::Slave {
                name: "skiphead",
                skip_head: true,
                late_rw: false,
            },
        },
        at("t40", 40_000),
        Step {
            trigger: Trigger::AfterSnapshot(60_000),
            action: Action::Slave {
                name: "laterw",
                skip_head: false,
                late_rw: true,
            },
        },
        slave(name, Trigger::Truncations(late)),
    ]
}

/// The thirty targets of `s889x30`: 10 to 50 series each.
const SIZES_X30: [usize; 30] = [
    10, 27, 44, 20, 37, 13, 30, 47, 23, 40, 16, 33, 50, 26, 43, 19, 36, 12, 29, 46, 22, 39, 15, 32,
    49, 25, 42, 18, 35, 11,
];

/// One slave's recorded facts (`run.json`), all times in ms since the epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RunRecord {
    /// `<master>-<slave>`.
    pub(crate) run: String,
    pub(crate) master: String,
    pub(crate) slave: String,
    pub(crate) prometheus_version: String,
    pub(crate) series: usize,
    pub(crate) targets: usize,
    pub(crate) scrape_interval_ms: i64,
    pub(crate) master_flags: Vec<String>,
    /// Just before the master process was spawned.
    pub(crate) master_start: i64,
    pub(crate) master_ready: i64,
    /// When this slave's queue began: the master start, or the reload that
    /// added it (remote write enabled late).
    pub(crate) rw_start: i64,
    pub(crate) rw_late: bool,
    /// The reload call for a late queue: sent / answered.
    pub(crate) reload_called: Option<i64>,
    pub(crate) reload_done: Option<i64>,
    /// The snapshot call: sent / answered; the snapshot's directory name.
    pub(crate) snapshot_called: i64,
    pub(crate) snapshot_taken: i64,
    pub(crate) snapshot_name: String,
    pub(crate) skip_head: bool,
    /// Master restarts during the recording: `{stopped, exited, started,
    /// ready}`; since the twenty-second set also those after this slave was
    /// up (before, only those before its start were recorded).
    pub(crate) restarts: Vec<Restart>,
    /// When the master's `wal/` copy began / ended.
    pub(crate) wal_observed_at: i64,
    pub(crate) wal_copied_at: i64,
    /// Slave process spawned / answered ready.
    pub(crate) slave_started: i64,
    pub(crate) slave_up: i64,
    /// Head compactions (blocks) of the master at the snapshot and at the
    /// slave start; checkpoints in its `wal/` then.
    pub(crate) master_blocks_at_snapshot: usize,
    pub(crate) master_blocks_at_slave_start: usize,
    pub(crate) checkpoints_at_snapshot: Vec<String>,
    pub(crate) checkpoints_at_slave_start: Vec<String>,
    /// SIGTERM to the master at the end.
    pub(crate) master_stopped: i64,
    /// The range `gaps --against` measured: master start .. stop − 10 s.
    pub(crate) gaps_from: i64,
    pub(crate) gaps_to: i64,
    /// How the evidence keeps the `wal/` copy: "real" or "thinned".
    pub(crate) wal_evidence: String,
    /// The master's non-default `queue_config` (absent: 2.42's defaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) queue_config: Option<QueueCfg>,
    /// Per target its own scrape interval (ms), when they differ
    /// (`scrape_interval_ms` is then the global one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) target_intervals_ms: Option<Vec<i64>>,
    /// Per target its series count, when they differ (`series` is the sum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) target_series: Option<Vec<usize>>,
    /// Per target its serving window (wall ms, `null`: unbounded), when a
    /// target appeared or went down during the run (503 outside it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) target_windows: Option<Vec<(Option<i64>, Option<i64>)>>,
    /// The `write_relabel_configs` of the slave's queue: keep the series
    /// whose `i` label matches this regex (the others are never sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) write_relabel_keep_i: Option<String>,
    /// Other `remote_write` endpoints of the master, healthy the whole time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) healthy_receivers: Option<usize>,
    /// Series churn: `[n, k]`, the first `n` series of each target change
    /// their `gen` label every `k` scrapes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) churn: Option<(usize, u64)>,
    /// Every exporter sample carried an explicit timestamp this many ms
    /// before its scrape (`honor_timestamps`, 2.42's default, on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) exporter_ts_lag_ms: Option<i64>,
    /// The slave's block range, when it differs from the master's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) slave_block: Option<String>,
    /// The snapshot was called at the master's first head compaction: true
    /// when its `.tmp-for-creation` block dir was there at the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) snapshot_during_compaction: Option<bool>,
    /// This slave's restarts after it was first up: `{stopped, exited,
    /// killed, started, ready}` (`killed`: SIGKILL instead of SIGTERM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) slave_restarts: Option<Vec<Restart>>,
    /// The snapshot's moment, when not 3 s after the first block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) snapshot_moment: Option<SnapMoment>,
    /// Every target answered this many ms (`[lo, hi]`) after the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) exporter_delay_ms: Option<(u64, u64)>,
    /// The slave's `storage.tsdb.out_of_order_time_window` (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) slave_ooo_window_ms: Option<i64>,
    /// The `remote_timeout` of the slave's queue (ms), when not 2.42's 30 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) remote_timeout_ms: Option<i64>,
    /// Only when this slave was up and receiving before the snapshot: its
    /// first process `{started, ready}` (spawned before the master, on an
    /// empty data dir), `{stopped, exited}` (SIGTERM at its step, gone);
    /// its data dir was then wiped and seeded with the snapshot, and
    /// `slave_started` / `slave_up` are the seeded process's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) slave_before_snapshot: Option<EarlySlave>,
    /// Only with native histograms: how many of `series` (per target:
    /// `lm_hist`, schema 0, 4 buckets) were native histograms (protobuf
    /// scrapes, `--enable-feature=native-histograms` on master and slave,
    /// `send_native_histograms: true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) native_histograms: Option<usize>,
    /// The servers' log format when not 2.42's default logfmt: `json`
    /// (`--log.format=json` on master and slaves; their logs' lines are
    /// kept as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) log_format: Option<String>,
    /// Only for a master on the Debian package's configuration
    /// (`DebianCfg`): `global_interval_ms` (scrape and evaluation;
    /// `evaluation_interval_ms` when the evaluation's differs),
    /// `prometheus_job_interval_ms` (the master's self-scrape, timeout the
    /// same), `node_job_interval_ms`, `node_exporter` (its version),
    /// `external_labels` (`{}` without), `alertmanager` (the address nothing
    /// listened on, absent without alerting) and `rules` (the rule file's
    /// rules). `series` is then the head block's series count at the
    /// snapshot (the targets' own series move).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) debian_config: Option<serde_json::Value>,
    /// Only when `slave-log.txt` was kept whole (since the eighteenth set,
    /// `MasterSpec::whole_slave_log`): `true`, no line of it cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) slave_log_whole: Option<bool>,
    /// Only when the slave's data dir was seeded by `promsnap seed` (since
    /// the nineteenth set, `MasterSpec::seed_slave`): `true`; the seed took
    /// the snapshot (`snapshot_called`: the seed started; `snapshot_taken`:
    /// that plus its `flags` and `snapshot` steps' durations) and its
    /// output is the run's `seed.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) seeded_by_promsnap: Option<bool>,
    /// Only when master and slaves ran without the block-duration flags
    /// (since the nineteenth set, `MasterSpec::default_blocks`): `true`,
    /// 2.42's default 2h block range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) default_block_range: Option<bool>,
}

/// A real `prometheus-node-exporter` on a free loopback port, killed when
/// dropped; its log goes to `node-exporter.log` next to the master's.
struct NodeExporter {
    port: u16,
    child: std::process::Child,
}

impl NodeExporter {
    fn start(base: &Path) -> NodeExporter {
        let port = free_port();
        let log = std::fs::File::create(base.join("node-exporter.log")).unwrap();
        let child = std::process::Command::new("prometheus-node-exporter")
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn prometheus-node-exporter");
        wait_for("node_exporter", Duration::from_secs(30), || {
            http(port, "GET", "/metrics").is_some_and(|(st, _)| st == 200)
        });
        NodeExporter { port, child }
    }
}

impl Drop for NodeExporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The series count of a snapshot's newest block (its head block).
fn head_series(snapshot: &Path) -> usize {
    let mut best = (i64::MIN, 0);
    for e in std::fs::read_dir(snapshot).into_iter().flatten().flatten() {
        let Ok(t) = std::fs::read_to_string(e.path().join("meta.json")) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&t) else {
            continue;
        };
        let max = v["maxTime"].as_i64().unwrap_or(i64::MIN);
        if max > best.0 {
            best = (max, v["stats"]["numSeries"].as_u64().unwrap_or(0) as usize);
        }
    }
    best.1
}

/// `RunRecord::debian_config` of a Debian-config master.
fn debian_record(d: &DebianCfg, live: &DebianLive) -> serde_json::Value {
    let version = std::process::Command::new("prometheus-node-exporter")
        .arg("--version")
        .output()
        .map(|o| {
            let t = String::from_utf8_lossy(&o.stdout).into_owned()
                + &String::from_utf8_lossy(&o.stderr);
            t.lines().next().unwrap_or("").to_string()
        })
        .unwrap_or_default();
    let mut v = serde_json::json!({
        "global_interval_ms": d.global_ms,
        "prometheus_job_interval_ms": d.self_ms,
        "node_job_interval_ms": (d.node_ms > 0).then_some(d.node_ms),
        "node_exporter": version,
        "external_labels": if d.external_labels {
            serde_json::json!({"monitor": "example"})
        } else {
            serde_json::json!({})
        },
    });
    if d.node_ms == 0 {
        v["node_exporter"] = serde_json::Value::Null;
    }
    if d.alerting {
        v["alertmanager"] = format!("127.0.0.1:{} (nothing listening)", live.am_port).into();
        v["rules"] = DEBIAN_RULES.into();
    }
    if let Some(t) = d.timeout_ms {
        v["scrape_timeout_ms"] = t.into();
    }
    if let Some(e) = d.eval_ms {
        v["evaluation_interval_ms"] = e.into();
    }
    if let Some((iv, n)) = d.exporter {
        v["lm_job"] = serde_json::json!({
            "interval_ms": iv,
            "timeout_ms": lm_timeout(d, iv),
            "series": n,
        });
    }
    v
}

/// Job `lm`'s scrape timeout on a Debian-config master: the global one
/// (2.42's default 10 s), at most its interval.
fn lm_timeout(d: &DebianCfg, interval_ms: i64) -> i64 {
    d.timeout_ms.unwrap_or(10_000).min(interval_ms)
}

/// A slave's process before the snapshot (`RunRecord::slave_before_snapshot`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct EarlySlave {
    pub(crate) started: i64,
    pub(crate) ready: i64,
    pub(crate) stopped: i64,
    pub(crate) exited: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Restart {
    /// SIGTERM sent (SIGKILL with `sigkill`).
    pub(crate) stopped: i64,
    /// The old process exited (a 2.42 shutdown waits up to a minute for its
    /// remote-write queues); absent in the first recordings.
    #[serde(default)]
    pub(crate) exited: Option<i64>,
    /// It did not exit within 90 s of the SIGTERM and was killed (SIGKILL).
    #[serde(default)]
    pub(crate) killed: Option<bool>,
    /// A master killed at once (SIGKILL at `stopped`, no SIGTERM: no stop
    /// line in its log; `Action::Restart` with `kill`, since the
    /// twenty-third set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sigkill: Option<bool>,
    pub(crate) started: i64,
    pub(crate) ready: i64,
}

struct SlaveLive {
    name: &'static str,
    server: Server,
    data: PathBuf,
    wal_copy: PathBuf,
    rec: RunRecord,
}

fn block_count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |rd| {
        rd.flatten()
            .filter(|e| e.file_name().len() == 26 && e.path().join("meta.json").is_file())
            .count()
    })
}

fn checkpoints(wal: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(wal).map_or(Vec::new(), |rd| {
        rd.flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("checkpoint.") && !n.ends_with(".tmp"))
            .collect()
    });
    v.sort();
    v
}

/// What a Debian-config master's file names besides its queues: its own
/// port, the node_exporter's, the alertmanager port nothing listens on and
/// the rule file.
pub(crate) struct DebianLive {
    master_port: u16,
    node_port: u16,
    am_port: u16,
    rules: PathBuf,
    /// The harness's exporter (`DebianCfg::exporter`), if any.
    lm_port: Option<u16>,
}

/// The rule file of a Debian-config master with `alerting` (the package
/// ships none; these make the rule manager and the notifier work).
const DEBIAN_RULES: &str = "groups:\n  - name: promsnap-lossmatrix\n    rules:\n      \
- record: job:up:sum\n        expr: sum by (job) (up)\n      \
- record: instance:node_cpu_seconds:rate1m\n        \
expr: sum by (instance) (rate(node_cpu_seconds_total[1m]))\n      \
- alert: AlwaysFiring\n        expr: vector(1)\n";

/// The Debian package's `prometheus.yml` (`DebianCfg`), ports filled in.
fn debian_config(d: &DebianCfg, live: &DebianLive) -> String {
    let g = prom_dur(d.global_ms);
    let e = prom_dur(d.eval_ms.unwrap_or(d.global_ms));
    let mut c = format!("global:\n  scrape_interval: {g}\n  evaluation_interval: {e}\n");
    if let Some(t) = d.timeout_ms {
        c.push_str(&format!("  scrape_timeout: {}\n", prom_dur(t)));
    }
    if d.external_labels {
        c.push_str("  external_labels:\n      monitor: 'example'\n");
    }
    if d.alerting {
        c.push_str(&format!(
            "alerting:\n  alertmanagers:\n  - static_configs:\n    - targets: ['127.0.0.1:{}']\n\
             rule_files:\n  - {}\n",
            live.am_port,
            live.rules.display()
        ));
    }
    let s = prom_dur(d.self_ms);
    c.push_str(&format!(
        "scrape_configs:\n  - job_name: 'prometheus'\n    scrape_interval: {s}\n    \
         scrape_timeout: {s}\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
        live.master_port
    ));
    if d.node_ms > 0 {
        c.push_str("  - job_name: node\n");
        if d.node_ms != d.global_ms {
            c.push_str(&format!("    scrape_interval: {}\n", prom_dur(d.node_ms)));
        }
        c.push_str(&format!(
            "    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
            live.node_port
        ));
    }
    if let (Some((iv, _)), Some(port)) = (d.exporter, live.lm_port) {
        c.push_str(&format!(
            "  - job_name: lm\n    scrape_interval: {}\n    scrape_timeout: {}\n    \
             static_configs:\n      - targets: ['127.0.0.1:{port}']\n",
            prom_dur(iv),
            prom_dur(lm_timeout(d, iv))
        ));
    }
    c
}

fn master_config(
    spec: &MasterSpec,
    exporters: &[Exporter],
    queues: &[(String, u16)],
    live: Option<&DebianLive>,
) -> String {
    let s = prom_dur(spec.scrape_ms);
    let targets: Vec<String> = exporters
        .iter()
        .map(|e| format!("\"127.0.0.1:{}\"", e.port))
        .collect();
    let mut c =
        format!("global:\n  scrape_interval: {s}\n  scrape_timeout: {s}\nscrape_configs:\n");
    if let (Some(d), Some(live)) = (&spec.debian, live) {
        c = debian_config(d, live);
    } else if spec.intervals.is_empty() {
        c.push_str(&format!(
            "  - job_name: lm\n    static_configs:\n      - targets: [{}]\n",
            targets.join(", ")
        ));
    } else {
        // One job per target, each at its own interval, its timeout the
        // global interval capped at its own (a job finer than the global
        // interval, as in s8400x3-3s2s5s, would fail the config's check).
        for (i, (t, iv)) in targets.iter().zip(spec.intervals).enumerate() {
            c.push_str(&format!(
                "  - job_name: lm{i}\n    scrape_interval: {}ms\n    scrape_timeout: {}\n    static_configs:\n      - targets: [{t}]\n",
                iv,
                prom_dur(spec.scrape_ms.min(*iv))
            ));
        }
    }
    if !queues.is_empty() {
        c.push_str("remote_write:\n");
        for (name, port) in queues {
            c.push_str(&format!(
                "  - url: http://127.0.0.1:{port}/api/v1/write\n    name: {name}\n"
            ));
            if spec.exp.native_hist > 0 {
                c.push_str("    send_native_histograms: true\n");
            }
            if let Some(ms) = spec.remote_timeout_ms.filter(|_| name != HEALTHY) {
                c.push_str(&format!("    remote_timeout: {}\n", prom_dur(ms)));
            }
            if let Some(re) = spec.keep_i.filter(|_| name != HEALTHY) {
                c.push_str(&format!(
                    "    write_relabel_configs:\n      - source_labels: [i]\n        regex: '{re}'\n        action: keep\n"
                ));
            }
            if let Some(q) = spec.queue {
                c.push_str("    queue_config:\n");
                for (k, v) in [
                    ("capacity", q.capacity),
                    ("max_samples_per_send", q.max_samples_per_send),
                    ("max_shards", q.max_shards),
                    ("min_shards", q.min_shards),
                ] {
                    if let Some(v) = v {
                        c.push_str(&format!("      {k}: {v}\n"));
                    }
                }
                for (k, v) in [
                    ("batch_send_deadline", q.batch_send_deadline_ms),
                    ("min_backoff", q.min_backoff_ms),
                    ("max_backoff", q.max_backoff_ms),
                ] {
                    if let Some(ms) = v {
                        c.push_str(&format!("      {k}: {ms}ms\n"));
                    }
                }
            }
        }
    }
    c
}

/// Starts slave `name` on `data` (a remote-write receiver), with 1m blocks
/// like every master's default, or with the spec's slave block range (and
/// its out-of-order window, native histograms and log format).
fn start_slave(name: &str, base: &Path, data: &Path, port: u16, spec: &MasterSpec) -> Server {
    let (block, ooo_ms) = (spec.slave_block, spec.slave_ooo_ms);
    let name = format!("slave-{name}");
    let mut extra = vec!["--web.enable-remote-write-receiver"];
    if spec.exp.native_hist > 0 {
        extra.push("--enable-feature=native-histograms");
    }
    if spec.log_json {
        extra.push("--log.format=json");
    }
    let mut config = "global:\n  scrape_interval: 1m\n".to_string();
    if let Some(ms) = ooo_ms {
        config.push_str(&format!(
            "storage:\n  tsdb:\n    out_of_order_time_window: {}\n",
            prom_dur(ms)
        ));
    }
    let Some(block) = block else {
        return Server::start(&name, base, &config, data, port, &extra);
    };
    let cfg = base.join(format!("{name}.yml"));
    std::fs::write(&cfg, config).unwrap();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(base.join(format!("{name}.log")))
        .unwrap();
    let child = std::process::Command::new("prometheus")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(
            (!spec.default_blocks)
                .then(|| {
                    [
                        format!("--storage.tsdb.min-block-duration={block}"),
                        format!("--storage.tsdb.max-block-duration={block}"),
                    ]
                })
                .into_iter()
                .flatten(),
        )
        .arg("--storage.tsdb.retention.time=1d")
        .args(&extra)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn prometheus");
    Server {
        name,
        child: Some(child),
        port,
    }
}

/// Waits (polling every 2 ms) for the master's first head compaction: its
/// `.tmp-for-creation` block dir (true), or the first block if the write
/// went unseen between two polls (false).
fn wait_compaction(data: &Path) -> bool {
    let end = now_ms() + 600_000;
    while now_ms() < end {
        let tmp = std::fs::read_dir(data).is_ok_and(|rd| {
            rd.flatten().any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .ends_with(".tmp-for-creation")
            })
        });
        if tmp {
            return true;
        }
        if has_block(data) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("no head compaction of the master in 10 minutes");
}

/// The name of the healthy receiver's queue (`MasterSpec::healthy_rw`).
const HEALTHY: &str = "healthy";

/// Starts a master like `Server::start`, but with all of `flags` (its block
/// duration may differ from the 1m that `Server::start` fixes; 2.42 refuses
/// a repeated flag).
fn start_master(base: &Path, config: &str, data: &Path, port: u16, flags: &[String]) -> Server {
    let cfg = base.join("master.yml");
    std::fs::write(&cfg, config).unwrap();
    // Appended to: a restarted master keeps the log of its first run.
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(base.join("master.log"))
        .unwrap();
    let child = std::process::Command::new("prometheus")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(flags)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn prometheus");
    Server {
        name: "master".to_string(),
        child: Some(child),
        port,
    }
}

fn prometheus_version() -> String {
    std::process::Command::new("prometheus")
        .arg("--version")
        .output()
        .map(|o| {
            let t = String::from_utf8_lossy(&o.stdout).into_owned()
                + &String::from_utf8_lossy(&o.stderr);
            t.lines().next().unwrap_or("").to_string()
        })
        .unwrap_or_default()
}

fn snapshot(port: u16, data: &Path, skip_head: bool) -> (i64, i64, String, PathBuf) {
    let called = now_ms();
    let path = if skip_head {
        "/api/v1/admin/tsdb/snapshot?skip_head=true"
    } else {
        "/api/v1/admin/tsdb/snapshot"
    };
    let (st, body) = http(port, "POST", path).expect("snapshot");
    let taken = now_ms();
    assert_eq!(st, 200, "snapshot: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("snapshot json");
    let name = v["data"]["name"]
        .as_str()
        .expect("snapshot name")
        .to_string();
    let dir = data.join("snapshots").join(&name);
    (called, taken, name, dir)
}

/// The master's snapshot taken by `promsnap seed --from <master> --to
/// <base>/slave-<name> --json` (`MasterSpec::seed_slave`): its output kept in
/// `<base>/seed.json` (stderr in `seed-stderr.txt`); the times as
/// `snapshot()` gives them, the snapshot's end placed by the seed's own
/// step durations (`flags`, then `snapshot`).
fn seed_snapshot(base: &Path, name: &str, port: u16, data: &Path) -> (i64, i64, String, PathBuf) {
    let to = base.join(format!("slave-{name}"));
    let called = now_ms();
    let out = promsnap(&[
        "seed",
        "--from",
        &format!("http://127.0.0.1:{port}"),
        "--to",
        to.to_str().unwrap(),
        "--json",
    ]);
    let done = now_ms();
    std::fs::write(base.join("seed.json"), &out.stdout).unwrap();
    std::fs::write(base.join("seed-stderr.txt"), &out.stderr).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "promsnap seed (exit {:?}): {e}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let step_ms = |n: &str| {
        v["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["step"] == n)
            .and_then(|s| s["duration_ms"].as_i64())
            .unwrap_or(0)
    };
    let taken = (called + step_ms("flags") + step_ms("snapshot")).min(done);
    let sname = v["snapshot"]["name"]
        .as_str()
        .unwrap_or_else(|| panic!("promsnap seed: no snapshot: {v}"))
        .to_string();
    assert!(
        v["copy"].is_object(),
        "promsnap seed copied nothing (exit {:?}): {v}",
        out.status.code()
    );
    let dir = data.join("snapshots").join(&sname);
    (called, taken, sname, dir)
}

/// Runs one master with its slaves in `raw/<master>/` and writes each
/// slave's evidence to `out/<master>-<slave>/`. Returns the run names.
// One recorded run against real servers, step by step.
#[allow(clippy::too_many_lines)]
pub(crate) fn record_master(spec: &MasterSpec, raw: &Path, out: &Path) -> Vec<String> {
    let base = raw.join(spec.name);
    if base.exists() {
        std::fs::remove_dir_all(&base).unwrap();
    }
    std::fs::create_dir_all(&base).unwrap();
    let log = |m: &str| eprintln!("lossmatrix {}: {m}", spec.name);
    // `series` counts the native histograms too.
    let per = (spec.series - spec.exp.native_hist * spec.targets) / spec.targets.max(1);
    // A Debian-config master scrapes itself and a real node_exporter, and
    // the harness's exporter only as its third target.
    let deb_lm = spec.debian.and_then(|d| d.exporter);
    let n_exporters = match (spec.debian, deb_lm) {
        (Some(_), Some(_)) => 1,
        (Some(_), None) => 0,
        (None, _) => spec.targets,
    };
    let exporters: Vec<Exporter> = (0..n_exporters)
        .map(|i| {
            let n = deb_lm.map_or_else(|| spec.sizes.get(i).copied().unwrap_or(per), |e| e.1);
            Exporter::start(&format!("t{i}"), n, spec.exp)
        })
        .collect();
    // One queue per slave; a late queue is configured only at its slave's start.
    let mut ports = Vec::new();
    let mut queues = Vec::new();
    for st in &spec.steps {
        if let Action::Slave { name, late_rw, .. } = &st.action {
            let p = free_port();
            ports.push((name.to_string(), p));
            if !late_rw {
                queues.push((name.to_string(), p));
            }
        }
    }
    let port_of = |n: &str| ports.iter().find(|x| x.0 == n).unwrap().1;
    // A target that appears during the outage is down (503) until then.
    for (e, w) in exporters.iter().zip(spec.windows) {
        if w.0.is_some() {
            e.set_window(Some(i64::MAX), None);
        }
    }
    // The healthy receiver, up before the master and the whole time.
    let mut healthy = spec.healthy_rw.then(|| {
        let p = free_port();
        queues.push((HEALTHY.to_string(), p));
        let mut h = Server::start(
            HEALTHY,
            &base,
            "global:\n  scrape_interval: 1m\n",
            &base.join(HEALTHY),
            p,
            &["--web.enable-remote-write-receiver"],
        );
        h.wait_ready(Duration::from_secs(60));
        h
    });
    // Slaves up and receiving before the snapshot (before the master, so
    // that their queues never fail until they are stopped).
    let mut early: Vec<(&str, Server, i64, i64)> = spec
        .pre_snapshot
        .iter()
        .map(|name| {
            let data = base.join(format!("slave-{name}"));
            let started = now_ms();
            let mut server = start_slave(name, &base, &data, port_of(name), spec);
            let ready = server.wait_ready(Duration::from_secs(60));
            (*name, server, started, ready)
        })
        .collect();
    let mut flags: Vec<String> = vec![
        format!("--storage.tsdb.min-block-duration={}", spec.block),
        format!(
            "--storage.tsdb.max-block-duration={}",
            spec.max_block.unwrap_or(spec.block)
        ),
        "--storage.tsdb.retention.time=1d".into(),
        "--web.enable-admin-api".into(),
        "--web.enable-lifecycle".into(),
    ];
    if spec.default_blocks {
        flags.drain(..2);
    }
    if spec.busy {
        flags.push("--storage.tsdb.wal-segment-size=10MB".into());
        if !spec.wal_compression {
            flags.push("--no-storage.tsdb.wal-compression".into());
        }
    } else if spec.uncompressed {
        flags.push("--no-storage.tsdb.wal-compression".into());
    }
    if spec.exp.native_hist > 0 {
        flags.push("--enable-feature=native-histograms".into());
    }
    if spec.log_json {
        flags.push("--log.format=json".into());
    }
    let master_data = base.join("master");
    let master_port = free_port();
    let mut node_exporter: Option<NodeExporter> = None;
    let debian_live = spec.debian.map(|d| {
        let ne = (d.node_ms > 0).then(|| NodeExporter::start(&base));
        let live = DebianLive {
            master_port,
            node_port: ne.as_ref().map_or(0, |n| n.port),
            am_port: free_port(),
            rules: base.join("rules.yml"),
            lm_port: exporters.first().map(|e| e.port),
        };
        node_exporter = ne;
        if d.alerting {
            std::fs::write(&live.rules, DEBIAN_RULES).unwrap();
        }
        live
    });
    let mut cfg = master_config(spec, &exporters, &queues, debian_live.as_ref());
    // PROMSNAP_LOSS_START_PHASE=S: start the master S seconds past a block
    // boundary (a wall-clock multiple of the block range). Late in the range
    // (S ≳ 50 with 1m blocks) the first two head compactions come seconds
    // apart, both before the snapshot: the two-block case (issue 14).
    if let Some(ph) = std::env::var("PROMSNAP_LOSS_START_PHASE")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .or(spec.start_phase_s)
    {
        let r: i64 = spec.block.trim_end_matches('m').parse::<i64>().unwrap_or(1) * 60_000;
        let now = now_ms();
        let mut at = now.div_euclid(r) * r + ph * 1_000;
        if at < now + 2_000 {
            at += r;
        }
        log(&format!(
            "start phase {ph}s: waiting {:.1}s",
            (at - now) as f64 / 1e3
        ));
        sleep_until(at);
    }
    let master_start = now_ms();
    let mut master = start_master(&base, &cfg, &master_data, master_port, &flags);
    let master_ready = master.wait_ready(Duration::from_secs(60));
    let snapshot_during_compaction = if spec.snap_at_compaction {
        log("master up; waiting for its first head compaction");
        Some(wait_compaction(&master_data))
    } else {
        let m = spec.snap_moment;
        log(&format!("master up; waiting for its block {}", m.blocks));
        wait_for("the master's blocks", Duration::from_secs(900), || {
            block_count(&master_data) >= m.blocks
        });
        std::thread::sleep(Duration::from_millis(m.delay_ms as u64));
        if let Some(ph) = m.phase_ms {
            let r: i64 = spec.block.trim_end_matches('m').parse::<i64>().unwrap_or(1) * 60_000;
            let now = now_ms();
            let mut at = now.div_euclid(r) * r + ph;
            if at < now {
                at += r;
            }
            sleep_until(at);
        }
        None
    };
    let (snapshot_called, snapshot_taken, snap_name, snap_dir) = match spec.seed_slave {
        Some(name) => seed_snapshot(&base, name, master.port, &master_data),
        None => snapshot(master.port, &master_data, false),
    };
    let wants_skip = spec.steps.iter().any(|s| {
        matches!(
            s.action,
            Action::Slave {
                skip_head: true,
                ..
            }
        )
    });
    let skip = wants_skip.then(|| snapshot(master.port, &master_data, true));
    // Targets appearing or going down during the outage, from now on.
    let target_windows: Option<Vec<(Option<i64>, Option<i64>)>> =
        (!spec.windows.is_empty()).then(|| {
            spec.windows
                .iter()
                .map(|(f, u)| (f.map(|f| snapshot_taken + f), u.map(|u| snapshot_taken + u)))
                .collect()
        });
    for (e, w) in exporters.iter().zip(target_windows.iter().flatten()) {
        e.set_window(w.0, w.1);
    }
    let blocks_at_snapshot = block_count(&master_data);
    let ckpt_at_snapshot = checkpoints(&master_data.join("wal"));
    log(&format!(
        "snapshot {snap_name} ({blocks_at_snapshot} blocks)"
    ));

    let version = prometheus_version();
    let mut restarts: Vec<Restart> = Vec::new();
    let mut slaves: Vec<SlaveLive> = Vec::new();
    for st in &spec.steps {
        match st.trigger {
            Trigger::AfterSnapshot(d) => sleep_until(snapshot_taken + d),
            Trigger::NewCheckpoint => {
                wait_for("a new WAL checkpoint", Duration::from_secs(900), || {
                    checkpoints(&master_data.join("wal"))
                        .iter()
                        .any(|c| !ckpt_at_snapshot.contains(c))
                });
                std::thread::sleep(Duration::from_secs(3));
            }
            Trigger::Truncations(n) => {
                wait_for("head truncations", Duration::from_secs(900), || {
                    block_count(&master_data) >= blocks_at_snapshot + n
                });
                std::thread::sleep(Duration::from_secs(3));
            }
        }
        match &st.action {
            Action::SlaveRestart {
                name,
                down_ms,
                kill,
            } => {
                let s = slaves
                    .iter_mut()
                    .find(|s| s.name == *name)
                    .expect("a slave restarted before it started");
                let stopped = now_ms();
                if *kill {
                    if let Some(mut c) = s.server.child.take() {
                        let _ = c.kill();
                        let _ = c.wait();
                    }
                } else {
                    s.server.stop(Duration::from_secs(60));
                }
                let exited = Some(now_ms());
                log(&format!("slave {name} stopped (restart)"));
                sleep_until(stopped + down_ms);
                let started = now_ms();
                s.server = start_slave(name, &base, &s.data, s.server.port, spec);
                let ready = s.server.wait_ready(Duration::from_secs(120));
                log(&format!(
                    "slave {name} up again {:.1}s after the snapshot",
                    (ready - snapshot_taken) as f64 / 1e3
                ));
                s.rec
                    .slave_restarts
                    .get_or_insert_with(Vec::new)
                    .push(Restart {
                        stopped,
                        exited,
                        killed: Some(*kill),
                        sigkill: None,
                        started,
                        ready,
                    });
            }
            Action::Restart { down_ms, kill } => {
                let stopped = now_ms();
                let wait = u64::try_from(spec.restart_wait_ms.unwrap_or(90_000)).unwrap();
                let killed = if *kill {
                    if let Some(mut c) = master.child.take() {
                        let _ = c.kill();
                        let _ = c.wait();
                    }
                    true
                } else {
                    master.stop(Duration::from_millis(wait))
                };
                let exited = Some(now_ms());
                log("master stopped (restart)");
                sleep_until(stopped + down_ms);
                let started = now_ms();
                master = start_master(&base, &cfg, &master_data, master_port, &flags);
                let ready = master.wait_ready(Duration::from_secs(120));
                restarts.push(Restart {
                    stopped,
                    exited,
                    killed: Some(killed),
                    sigkill: kill.then_some(true),
                    started,
                    ready,
                });
                log("master restarted");
            }
            Action::Slave {
                name,
                skip_head,
                late_rw,
            } => {
                let port = port_of(name);
                // A slave up before the snapshot: stopped, its data wiped.
                let early_rec = early.iter().position(|e| e.0 == *name).map(|i| {
                    let (_, mut server, started, ready) = early.remove(i);
                    let stopped = now_ms();
                    server.stop(Duration::from_secs(60));
                    let exited = now_ms();
                    let d = base.join(format!("slave-{name}"));
                    std::fs::remove_dir_all(&d).unwrap();
                    log(&format!(
                        "slave {name} (up before the snapshot) stopped {:.1}s after it; wiped",
                        (stopped - snapshot_taken) as f64 / 1e3
                    ));
                    EarlySlave {
                        started,
                        ready,
                        stopped,
                        exited,
                    }
                });
                let (mut reload_called, mut reload_done, mut rw_start) = (None, None, master_start);
                if *late_rw {
                    queues.push((name.to_string(), port));
                    cfg = master_config(spec, &exporters, &queues, debian_live.as_ref());
                    std::fs::write(base.join("master.yml"), &cfg).unwrap();
                    let called = now_ms();
                    let (code, body) = http(master.port, "POST", "/-/reload").expect("reload");
                    assert_eq!(code, 200, "reload: {body}");
                    let done = now_ms();
                    reload_called = Some(called);
                    reload_done = Some(done);
                    rw_start = done;
                }
                let wal_copy = base.join(format!("wal-at-{name}"));
                let wal_observed_at = now_ms();
                copy_live_dir(&master_data.join("wal"), &wal_copy);
                let wal_copied_at = now_ms();
                let ck_now = checkpoints(&master_data.join("wal"));
                let blocks_now = block_count(&master_data);
                let data = base.join(format!("slave-{name}"));
                let (called, taken, sname, sdir) = match (skip_head, &skip) {
                    (true, Some(s)) => s.clone(),
                    _ => (
                        snapshot_called,
                        snapshot_taken,
                        snap_name.clone(),
                        snap_dir.clone(),
                    ),
                };
                // A slave seeded by `promsnap seed` holds the seed's copy.
                if spec.seed_slave != Some(*name) || *skip_head {
                    copy_dir(&sdir, &data);
                }
                // The slave's port was picked, and left free, when the master
                // started: a process bound to it since (another test's server)
                // has been taking this slave's remote-write stream.
                assert!(
                    TcpListener::bind(("127.0.0.1", port)).is_ok(),
                    "lossmatrix {}: port {port} of slave {name} was taken by another process while \
                     the master's queue pointed at it: not a run of this master",
                    spec.name
                );
                let slave_started = now_ms();
                let mut server = start_slave(name, &base, &data, port, spec);
                let slave_up = server.wait_ready(Duration::from_secs(120));
                log(&format!(
                    "slave {name} up {:.1}s after the snapshot",
                    (slave_up - snapshot_taken) as f64 / 1e3
                ));
                slaves.push(SlaveLive {
                    name,
                    server,
                    data,
                    wal_copy,
                    rec: RunRecord {
                        run: format!("{}-{name}{}", spec.name, run_tag()),
                        master: spec.name.to_string(),
                        slave: name.to_string(),
                        prometheus_version: version.clone(),
                        series: if spec.debian.is_some() {
                            head_series(&snap_dir)
                        } else {
                            spec.series
                        },
                        targets: spec.targets,
                        scrape_interval_ms: spec.scrape_ms,
                        master_flags: flags.clone(),
                        master_start,
                        master_ready,
                        rw_start,
                        rw_late: *late_rw,
                        reload_called,
                        reload_done,
                        snapshot_called: called,
                        snapshot_taken: taken,
                        snapshot_name: sname,
                        skip_head: *skip_head,
                        restarts: restarts.clone(),
                        wal_observed_at,
                        wal_copied_at,
                        slave_started,
                        slave_up,
                        master_blocks_at_snapshot: blocks_at_snapshot,
                        master_blocks_at_slave_start: blocks_now,
                        checkpoints_at_snapshot: ckpt_at_snapshot.clone(),
                        checkpoints_at_slave_start: ck_now,
                        master_stopped: 0,
                        gaps_from: 0,
                        gaps_to: 0,
                        wal_evidence: String::new(),
                        queue_config: spec.queue,
                        target_intervals_ms: (!spec.intervals.is_empty())
                            .then(|| spec.intervals.to_vec()),
                        target_series: (!spec.sizes.is_empty()).then(|| spec.sizes.to_vec()),
                        target_windows: target_windows.clone(),
                        write_relabel_keep_i: spec.keep_i.map(str::to_string),
                        healthy_receivers: spec.healthy_rw.then_some(1),
                        churn: spec.exp.churn,
                        exporter_ts_lag_ms: (spec.exp.ts_lag_ms > 0).then_some(spec.exp.ts_lag_ms),
                        slave_block: spec.slave_block.map(str::to_string),
                        snapshot_during_compaction,
                        slave_restarts: None,
                        snapshot_moment: (spec.snap_moment != SnapMoment::default())
                            .then_some(spec.snap_moment),
                        exporter_delay_ms: spec.exp.delay_ms,
                        slave_ooo_window_ms: spec.slave_ooo_ms,
                        remote_timeout_ms: spec.remote_timeout_ms,
                        slave_before_snapshot: early_rec,
                        native_histograms: (spec.exp.native_hist > 0)
                            .then_some(spec.exp.native_hist * spec.targets),
                        log_format: spec.log_json.then(|| "json".to_string()),
                        debian_config: spec
                            .debian
                            .zip(debian_live.as_ref())
                            .map(|(d, l)| debian_record(&d, l)),
                        slave_log_whole: spec.whole_slave_log.then_some(true),
                        seeded_by_promsnap: (spec.seed_slave == Some(*name) && !*skip_head)
                            .then_some(true),
                        default_block_range: spec.default_blocks.then_some(true),
                    },
                });
            }
        }
    }
    // Every master restart of the recording goes into every run's record,
    // also one after that slave was up (a restart during its catch-up; since
    // the twenty-second set): an operator knows of it. Before, a run's record
    // held only the restarts before its own slave's start.
    for s in &mut slaves {
        s.rec.restarts.clone_from(&restarts);
    }
    let last_up = slaves
        .iter()
        .flat_map(|s| {
            let again = s.rec.slave_restarts.iter().flatten().map(|r| r.ready);
            std::iter::once(s.rec.slave_up).chain(again)
        })
        .max()
        .unwrap_or(0);
    log("all slaves up; letting them catch up");
    sleep_until(last_up + spec.settle_ms);
    let master_stopped = now_ms();
    master.stop(Duration::from_secs(90));
    std::thread::sleep(Duration::from_secs(2));
    for s in &mut slaves {
        s.server.stop(Duration::from_secs(60));
    }
    if let Some(h) = &mut healthy {
        h.stop(Duration::from_secs(60));
    }
    drop(exporters);
    drop(node_exporter);
    log("servers stopped; measuring");

    for s in &mut slaves {
        s.rec.master_stopped = master_stopped;
        s.rec.gaps_from = master_start;
        s.rec.gaps_to = master_stopped - 10_000;
    }
    // The records, so that the evidence can be written again from raw data.
    let recs: Vec<&RunRecord> = slaves.iter().map(|s| &s.rec).collect();
    std::fs::write(
        base.join("records.json"),
        serde_json::to_string_pretty(&recs).unwrap(),
    )
    .unwrap();
    let mut names = Vec::new();
    for (i, s) in slaves.iter_mut().enumerate() {
        let snap = if s.rec.skip_head {
            skip.as_ref().unwrap().3.clone()
        } else {
            snap_dir.clone()
        };
        let dir = out.join(&s.rec.run);
        write_evidence(
            &dir,
            &mut s.rec,
            &snap,
            &s.wal_copy,
            &s.data,
            &master_data,
            i == 0,
        );
        if s.rec.seeded_by_promsnap == Some(true) {
            for f in ["seed.json", "seed-stderr.txt"] {
                std::fs::copy(base.join(f), dir.join(f)).unwrap();
            }
        }
        eprintln!("lossmatrix {}: recorded {}", spec.name, dir.display());
        let _ = s.name;
        names.push(s.rec.run.clone());
    }
    names
}

/// `PROMSNAP_LOSS_TAG`: a suffix for the run names of a repeated recording.
fn run_tag() -> String {
    std::env::var("PROMSNAP_LOSS_TAG")
        .ok()
        .filter(|t| !t.is_empty())
        .map(|t| format!("-{t}"))
        .unwrap_or_default()
}

fn json_of(args: &[&str]) -> serde_json::Value {
    let out = promsnap(args);
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "promsnap {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("promsnap {args:?}: {e}"))
}

fn mtime_ms(p: &Path) -> Option<i64> {
    let m = std::fs::metadata(p).ok()?.modified().ok()?;
    Some(m.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64)
}

/// Name, size and mtime of every file under `dir` (relative paths).
fn file_list(dir: &Path, rel: &str, out: &mut Vec<serde_json::Value>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut es: Vec<_> = rd.flatten().collect();
    es.sort_by_key(|e| e.file_name());
    for e in es {
        let name = format!("{rel}{}", e.file_name().to_string_lossy());
        if e.path().is_dir() {
            file_list(&e.path(), &format!("{name}/"), out);
        } else {
            out.push(serde_json::json!({
                "name": name,
                "size": e.metadata().map_or(0, |m| m.len()),
                "mtime": mtime_ms(&e.path()),
            }));
        }
    }
}

// Writes one run's evidence files, one after the other.
#[allow(clippy::too_many_lines)]
fn write_evidence(
    dir: &Path,
    rec: &mut RunRecord,
    snapshot: &Path,
    wal_copy: &Path,
    slave_data: &Path,
    master_data: &Path,
    crosscheck: bool,
) {
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap();
    }
    std::fs::create_dir_all(dir).unwrap();
    // The snapshot: every block's meta.json (coverage reads the chunks only
    // to infer the scrape interval and count native histograms; the judge
    // gives --scrape-interval, and these runs have no histograms).
    let sdir = dir.join("snapshot").join(&rec.snapshot_name);
    std::fs::create_dir_all(&sdir).unwrap();
    for e in std::fs::read_dir(snapshot).unwrap().flatten() {
        let m = e.path().join("meta.json");
        if m.is_file() {
            let to = sdir.join(e.file_name());
            std::fs::create_dir_all(&to).unwrap();
            std::fs::copy(&m, to.join("meta.json")).unwrap();
        }
    }
    if let Some(mut t) = up_targets(snapshot) {
        let check = up_tail_promtool(snapshot, &t);
        let agree = check["targets"]
            .as_array()
            .is_some_and(|v| v.iter().all(|x| x["agree"] == true));
        eprintln!(
            "lossmatrix {}: up_tail against promtool: {}",
            rec.run,
            if agree { "agrees" } else { "DIFFERS" }
        );
        t["up_tail_promtool"] = check;
        std::fs::write(
            dir.join("targets.json"),
            serde_json::to_string_pretty(&t).unwrap(),
        )
        .unwrap();
    }
    // The master's wal/ at slave start.
    let mut files = Vec::new();
    file_list(wal_copy, "", &mut files);
    std::fs::write(
        dir.join("wal-files.json"),
        serde_json::to_string_pretty(&files).unwrap(),
    )
    .unwrap();
    let summary = json_of(&["wal", wal_copy.to_str().unwrap(), "--json"]);
    std::fs::write(
        dir.join("wal-summary.json"),
        serde_json::to_string_pretty(&summary).unwrap(),
    )
    .unwrap();
    // Always thinned: the estimator reads of a segment its name, size
    // (wal-files.json, restored by the judge), mtime and sample time range.
    // Since the eighteenth set it also keeps the series records of the
    // series the slave's refusal lines name, and each target's newest
    // samples record whole (values zeroed): where a refused request's first
    // sample sits among its shard's samples (walthin).
    let named = named_series(rec, master_data);
    crate::walthin::thin_dir_keeping(wal_copy, &dir.join("master-wal"), &named);
    rec.wal_evidence = "thinned".into();
    // The real loss.
    let (from, to) = (rec.gaps_from.to_string(), rec.gaps_to.to_string());
    let mut args = vec![
        "gaps",
        slave_data.to_str().unwrap(),
        "--against",
        master_data.to_str().unwrap(),
        "--from",
        &from,
        "--to",
        &to,
        "--json",
    ];
    // With a write_relabel_configs keep rule, only the series it keeps are
    // sent: the others are missing from the slave by design, not lost.
    let sent = rec
        .write_relabel_keep_i
        .as_ref()
        .map(|re| format!("{{i=~\"{re}\"}}"));
    if let Some(m) = &sent {
        args.extend(["--match", m.as_str()]);
    }
    // A Debian-config master's external labels: remote write adds them to
    // every series it sends, the snapshot (and so the slave's seeded blocks)
    // and the master's own TSDB hold the series without them. Joined by
    // label set as stored, every master series would stop at the seeding;
    // the loss is measured with them dropped on both sides, and the join as
    // stored is kept beside it (`as_stored`).
    let ext: Vec<String> = rec
        .debian_config
        .as_ref()
        .and_then(|d| d["external_labels"].as_object())
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let plain = (!ext.is_empty()).then(|| json_of(&args));
    for n in &ext {
        args.extend(["--drop-label", n.as_str()]);
    }
    let g = json_of(&args);
    let missing = &g["missing"];
    let per = missing["per_series"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let series_with_loss = per
        .iter()
        .filter(|s| s["ranges"].as_array().is_some_and(|r| !r.is_empty()))
        .count();
    let real = serde_json::json!({
        "from": rec.gaps_from,
        "to": rec.gaps_to,
        "dir": g["dir"],
        "against": g["against"],
        "merged": missing["merged"],
        "series_with_loss": series_with_loss,
        "errors": g["errors"],
    });
    let mut real = real;
    if let Some(p) = &plain {
        let with_loss = p["missing"]["per_series"].as_array().map_or(0, |v| v.len());
        real["dropped_labels"] = g["dropped_labels"].clone();
        real["as_stored"] = serde_json::json!({
            "what": "gaps --against without --drop-label: series joined by label set as stored",
            "dir": p["dir"],
            "merged": p["missing"]["merged"],
            "series_with_loss": with_loss,
            "labels_only_in_dir": p["labels_only_in_dir"],
        });
    }
    std::fs::write(
        dir.join("real-loss.json"),
        serde_json::to_string_pretty(&real).unwrap(),
    )
    .unwrap();
    if crosscheck {
        let c = crate::lossruns::crosscheck(
            master_data,
            slave_data,
            rec.gaps_from,
            rec.gaps_to,
            &per,
            rec.debian_config.is_some(),
        );
        std::fs::write(
            dir.join("crosscheck.json"),
            serde_json::to_string_pretty(&c).unwrap(),
        )
        .unwrap();
    }
    // Each target's scrapes around the coverage end as master and slave
    // hold them (since the fifteenth set): which scrape the slave lacks.
    let longest = rec
        .target_intervals_ms
        .iter()
        .flatten()
        .copied()
        .chain([rec.scrape_interval_ms])
        .max()
        .unwrap_or(0);
    if let Some(a) = up_around(snapshot, master_data, slave_data, (3 * longest).max(30_000)) {
        std::fs::write(
            dir.join("up-around-csnap.json"),
            serde_json::to_string_pretty(&a).unwrap(),
        )
        .unwrap();
    }
    write_logs(dir, rec, master_data);
    std::fs::write(
        dir.join("run.json"),
        serde_json::to_string_pretty(&rec).unwrap(),
    )
    .unwrap();
}

/// `master-log.txt` and `slave-log.txt` (README.md): the lines of the
/// master's log (`master.log` next to its data dir, kept across restarts)
/// about this slave's queue and the master's TSDB, and the slave's lines
/// about refused samples, from the master's start to the end of the
/// measured range. Absent when the server logs are.
fn write_logs(dir: &Path, rec: &RunRecord, master_data: &Path) {
    let Some(base) = master_data.parent() else {
        return;
    };
    let (from, to) = (rec.master_start, rec.gaps_to);
    let range = format!(
        "{} .. {} (master start .. gaps to)",
        logs::ts_str(from),
        logs::ts_str(to)
    );
    if let Ok(text) = std::fs::read_to_string(base.join("master.log")) {
        let lines = logs::master_lines(&text, &rec.slave, from, to);
        let header = format!(
            "master log of run {}: lines with remote_name={} (this slave's queue), component=tsdb, \
             readiness and config loads; ts in {range}",
            rec.run, rec.slave
        );
        std::fs::write(dir.join("master-log.txt"), logs::render(&header, &lines)).unwrap();
    }
    let slave_log = base.join(format!("slave-{}.log", rec.slave));
    if let Ok(text) = std::fs::read_to_string(slave_log) {
        let lines = logs::slave_lines(&text, from, to);
        let header = format!(
            "slave log of run {}: refused remote-write requests (one line each), other remote-write \
             errors, head compactions and readiness; ts in {range}",
            rec.run
        );
        if rec.slave_log_whole == Some(true) {
            std::fs::write(
                dir.join("slave-log.txt"),
                logs::render_whole(&header, &lines),
            )
            .unwrap();
        } else {
            std::fs::write(dir.join("slave-log.txt"), logs::render(&header, &lines)).unwrap();
            if logs::is_cut(&lines) {
                std::fs::write(
                    dir.join("slave-log.txt.gz"),
                    logs::gzip_whole(&header, &lines),
                )
                .unwrap();
            }
        }
    }
}

/// The series the slave's refusal lines name over the run's measured range
/// (the thinned WAL keeps their series records: `walthin`).
fn named_series(rec: &RunRecord, master_data: &Path) -> std::collections::HashSet<String> {
    let Some(base) = master_data.parent() else {
        return Default::default();
    };
    std::fs::read_to_string(base.join(format!("slave-{}.log", rec.slave)))
        .map(|t| logs::refused_series(&logs::slave_lines(&t, rec.master_start, rec.gaps_to)))
        .unwrap_or_default()
}

/// What L4 (the isolation race) needs of the snapshot, without its index:
/// the newest block (largest maxTime: the head block, or the last block with
/// `skip_head`, as `coverage` picks it), the `job`/`instance` label pairs
/// of its `up` series (one per scrape target), and since the fifteenth set
/// `up_tail`: per target the timestamps of the last (up to
/// [`UP_TAIL`]) `up` samples in that block, ascending, and how many series
/// of the block carry the target's `job`/`instance` (read with promsnap's
/// own block reader). The judge writes a stand-in index holding these `up`
/// series into that block, so that `coverage` counts the targets on its
/// real path.
pub(crate) fn up_targets(snapshot: &Path) -> Option<serde_json::Value> {
    let (dir, ulid) = newest_block(snapshot)?;
    let files = promsnap::block::BlockFiles::open(&dir).ok()?;
    let reader = files.reader().ok()?;
    let mut entry = promsnap::format::index::SeriesEntry::default();
    let mut it = reader.index.series();
    let mut labels = Vec::new();
    type Target = (Option<String>, Option<String>);
    let mut up: std::collections::BTreeMap<Target, Vec<i64>> = Default::default();
    let mut count: std::collections::BTreeMap<Target, u64> = Default::default();
    while let Some(res) = it.next_into(&mut entry) {
        if res.is_err() || reader.index.resolve_labels(&entry, &mut labels).is_err() {
            continue;
        }
        let get = |n: &[u8]| {
            labels
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        let key = (get(b"job"), get(b"instance"));
        *count.entry(key.clone()).or_default() += 1;
        if get(b"__name__").as_deref() != Some("up") {
            continue;
        }
        let times = up.entry(key).or_default();
        for m in &entry.chunks {
            let Ok(rec) = reader.chunk(m) else { continue };
            let Ok(samples) = promsnap::format::chunkenc::samples_for_byte(
                rec.encoding,
                rec.data_offset.saturating_sub(1),
                rec.data,
                rec.data_offset,
            ) else {
                continue;
            };
            times.extend(samples.flatten().map(|s| s.t));
        }
    }
    let tail: Vec<_> = up
        .iter()
        .map(|((job, instance), times)| {
            let mut t = times.clone();
            t.sort_unstable();
            t.dedup();
            let t = t[t.len().saturating_sub(UP_TAIL)..].to_vec();
            serde_json::json!({
                "job": job,
                "instance": instance,
                "times": t,
                "series": count.get(&(job.clone(), instance.clone())).copied().unwrap_or(0),
            })
        })
        .collect();
    let up: Vec<_> = up
        .keys()
        .map(|(job, instance)| serde_json::json!({"job": job, "instance": instance}))
        .collect();
    Some(serde_json::json!({
        "block": ulid,
        "source": "the snapshot's index",
        "up": up,
        "up_tail": tail,
    }))
}

/// How many of a target's newest `up` samples `targets.json` keeps.
const UP_TAIL: usize = 8;

/// The snapshot's newest block (largest maxTime): its dir and ULID.
fn newest_block(snapshot: &Path) -> Option<(PathBuf, String)> {
    let mut newest: Option<(i64, PathBuf, String)> = None;
    for e in std::fs::read_dir(snapshot).ok()?.flatten() {
        let Ok(s) = std::fs::read_to_string(e.path().join("meta.json")) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&s) else {
            continue;
        };
        let Some(max) = v["maxTime"].as_i64() else {
            continue;
        };
        if newest.as_ref().is_none_or(|n| max > n.0) {
            let name = e.file_name().to_string_lossy().into_owned();
            newest = Some((max, e.path(), name));
        }
    }
    newest.map(|(_, d, n)| (d, n))
}

/// `promtool tsdb dump` of the `up` series (`extra` matchers added) of
/// `dir` in `[from, to]`: per series (its labels as promtool prints them,
/// `monitor="example"` removed) the sample times, ascending; empty when
/// promtool cannot run.
fn promtool_up(
    dir: &Path,
    from: i64,
    to: i64,
    extra: &str,
) -> std::collections::BTreeMap<String, Vec<i64>> {
    let matcher = format!("--match={{__name__=\"up\"{extra}}}");
    promtool_times(dir, from, to, &matcher).unwrap_or_default()
}

/// `promtool tsdb dump` of `dir` in `[from, to]` with the `--match=`
/// argument `matcher`: per series (its labels as promtool prints them,
/// `monitor="example"` removed: the seeded and remote-written series
/// joined) the sample times, ascending. `None` when promtool cannot run.
pub(crate) fn promtool_times(
    dir: &Path,
    from: i64,
    to: i64,
    matcher: &str,
) -> Option<std::collections::BTreeMap<String, Vec<i64>>> {
    let out = std::process::Command::new("promtool")
        .args([
            "tsdb",
            "dump",
            &format!("--min-time={from}"),
            &format!("--max-time={to}"),
            matcher,
        ])
        .arg(dir)
        .output()
        .ok()?;
    let mut m: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut it = line.rsplitn(3, ' ');
        let (Some(ts), Some(_v), Some(labels)) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        if let Ok(t) = ts.parse::<i64>() {
            let labels = labels.replace(", monitor=\"example\"", "");
            m.entry(labels).or_default().push(t);
        }
    }
    for v in m.values_mut() {
        v.sort_unstable();
        v.dedup();
    }
    Some(m)
}

/// The oracle for `up_tail`: `promtool tsdb dump` of the newest block alone
/// (copied to a scratch dir: promtool's read-only open writes
/// `chunks_head/` into the dir it reads), each target's last `up` times next to the ones
/// promsnap read. Returned per target with `agree`.
fn up_tail_promtool(snapshot: &Path, t: &serde_json::Value) -> serde_json::Value {
    let Some((dir, ulid)) = newest_block(snapshot) else {
        return serde_json::Value::Null;
    };
    let scratch = tempfile::Builder::new()
        .prefix("promsnap-uptail-")
        .tempdir()
        .unwrap();
    copy_dir(&dir, &scratch.path().join(&ulid));
    // promtool's read-only open wants a wal/ (empty here: the block alone).
    std::fs::create_dir_all(scratch.path().join("wal")).unwrap();
    let mut out = Vec::new();
    for u in t["up_tail"].as_array().into_iter().flatten() {
        let (job, inst) = (
            u["job"].as_str().unwrap_or(""),
            u["instance"].as_str().unwrap_or(""),
        );
        let extra = format!(",job=\"{job}\",instance=\"{inst}\"");
        let dump = promtool_up(scratch.path(), i64::MIN / 2, i64::MAX / 2, &extra);
        let mut times: Vec<i64> = dump.into_values().flatten().collect();
        times.sort_unstable();
        times.dedup();
        let tail = times[times.len().saturating_sub(UP_TAIL)..].to_vec();
        let ours: Vec<i64> = u["times"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_i64)
            .collect();
        out.push(serde_json::json!({
            "job": job,
            "instance": inst,
            "promtool_times": tail,
            "agree": tail == ours,
        }));
    }
    serde_json::json!({
        "what": "promtool tsdb dump of the newest block alone: each target's last up times",
        "targets": out,
    })
}

/// `up-around-csnap.json` (README.md): every target's `up` sample times
/// from `span` before the snapshot's coverage end (the newest block's
/// maxTime − 1) to `span` after it, as the master and the slave hold them
/// after the run (`promtool tsdb dump` of their data dirs; the slave's
/// `monitor="example"` removed, so its seeded and remote-written series
/// of a target are one).
fn up_around(
    snapshot: &Path,
    master_data: &Path,
    slave_data: &Path,
    span: i64,
) -> Option<serde_json::Value> {
    let (dir, _) = newest_block(snapshot)?;
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).ok()?).ok()?;
    let c = meta["maxTime"].as_i64()? - 1;
    let (from, to) = (c - span, c + span);
    Some(serde_json::json!({
        "coverage_end": c,
        "from": from,
        "to": to,
        "master": promtool_up(master_data, from, to, ""),
        "slave": promtool_up(slave_data, from, to, ""),
    }))
}

/// Records the masters named in `PROMSNAP_LOSS_MATRIX` (comma-separated, or
/// `all`), concurrently, raw data in `PROMSNAP_LOSS_RAW` (default: a temp
/// dir), evidence in `PROMSNAP_LOSS_OUT` (default `testdata/loss-runs`).
#[test]
#[ignore = "real servers for 6–12 minutes per master: run by scripts/loss-matrix.sh"]
fn record() {
    assert!(prometheus_available(), "prometheus is not on the PATH");
    let want = std::env::var("PROMSNAP_LOSS_MATRIX").unwrap_or_else(|_| "all".into());
    let raw = std::env::var_os("PROMSNAP_LOSS_RAW")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            tempfile::Builder::new()
                .prefix("promsnap-lossmatrix-")
                .tempdir()
                .unwrap()
                .keep()
        });
    let out = std::env::var_os("PROMSNAP_LOSS_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::util::testdata("loss-runs"));
    let mut specs: Vec<MasterSpec> = matrix()
        .into_iter()
        .filter(|m| want == "all" || want.split(',').any(|w| w == m.name))
        .collect();
    assert!(!specs.is_empty(), "no master named {want}");
    // PROMSNAP_LOSS_SLAVES=a,b: only these slaves of each master (and the
    // master's other steps, restarts, kept in order).
    if let Ok(only) = std::env::var("PROMSNAP_LOSS_SLAVES") {
        let keep = |n: &str| only.split(',').any(|w| w == n);
        for m in &mut specs {
            m.steps.retain(|s| match &s.action {
                Action::Slave { name, .. } | Action::SlaveRestart { name, .. } => keep(name),
                Action::Restart { .. } => true,
            });
            assert!(
                m.steps
                    .iter()
                    .any(|s| matches!(s.action, Action::Slave { .. })),
                "no slave of {} named in PROMSNAP_LOSS_SLAVES={only}",
                m.name
            );
        }
    }
    let handles: Vec<_> = specs
        .into_iter()
        .map(|m| {
            let (raw, out) = (raw.clone(), out.clone());
            std::thread::spawn(move || record_master(&m, &raw, &out))
        })
        .collect();
    let mut failed = 0;
    for h in handles {
        match h.join() {
            Ok(names) => eprintln!("lossmatrix: recorded {names:?}"),
            Err(_) => failed += 1,
        }
    }
    assert_eq!(failed, 0, "{failed} master run(s) failed");
}

/// The CI subset: the `ci` master recorded afresh and judged like the
/// recorded runs.
#[test]
fn ci_subset() {
    if !prometheus_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "prometheus is not installed but CI is set"
        );
        eprintln!("lossmatrix: prometheus not on PATH: skipped");
        return;
    }
    let spec = matrix().into_iter().find(|m| m.name == "ci").unwrap();
    // A fresh real run is never repeated exactly (compaction and send
    // timing). One failing recording is reported with its evidence kept and
    // the master recorded once more; two failing in a row fail the test.
    let mut kept = Vec::new();
    for attempt in 1..=2 {
        let tmp = tempfile::Builder::new()
            .prefix("promsnap-lossmatrix-ci-")
            .tempdir()
            .unwrap();
        let out = tmp.path().join("runs");
        let names = record_master(&spec, &tmp.path().join("raw"), &out);
        let results: Vec<_> = names
            .iter()
            .map(|n| crate::lossruns::judge(&out.join(n)))
            .collect();
        eprintln!("{}", crate::lossruns::table(&results));
        let mut failed: Vec<String> = results
            .iter()
            .filter(|r| !r.failures.is_empty())
            .map(|r| r.run.clone())
            .collect();
        // A recording another process wrote into is no run of this master:
        // reported apart, and recorded again like a failing one.
        failed.extend(names.iter().filter_map(|n| foreign_writes(&out.join(n))));
        if failed.is_empty() {
            if !kept.is_empty() {
                eprintln!(
                    "lossmatrix ci: attempt {attempt} passed; the failing recording before it is kept: {kept:?}"
                );
            }
            return;
        }
        // Keep the failing recording: the evidence to find what the model
        // missed.
        let dir = tmp.keep();
        eprintln!(
            "lossmatrix ci: attempt {attempt}: runs failing the done criteria: {failed:?} (the recording is kept in {})",
            dir.display()
        );
        kept.push((failed, dir));
    }
    panic!("two fresh recordings in a row fail the done criteria: {kept:?}");
}

/// A slave holding more series than its master: another process wrote into
/// it (another test's master whose queue pointed at the same port, picked
/// twice), so its loss is not this master's. Its slave started on the
/// master's snapshot and received only the master's samples otherwise.
fn foreign_writes(ev: &Path) -> Option<String> {
    let text = std::fs::read_to_string(ev.join("real-loss.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let (slave, master) = (
        v["dir"]["series"].as_u64()?,
        v["against"]["series"].as_u64()?,
    );
    (slave > master).then(|| {
        format!(
            "{} (foreign writes: the slave holds {slave} series, its master {master})",
            ev.file_name().unwrap_or_default().to_string_lossy()
        )
    })
}

/// Writes the evidence again from the raw data of recorded masters
/// (`PROMSNAP_LOSS_RAW/<master>/records.json` and the data dirs next to it),
/// for the masters in `PROMSNAP_LOSS_MATRIX`.
#[test]
#[ignore = "needs the raw data of a recording: run by scripts/loss-matrix.sh package"]
fn package() {
    let raw = PathBuf::from(std::env::var_os("PROMSNAP_LOSS_RAW").expect("PROMSNAP_LOSS_RAW"));
    let out = std::env::var_os("PROMSNAP_LOSS_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::util::testdata("loss-runs"));
    let want = std::env::var("PROMSNAP_LOSS_MATRIX").expect("PROMSNAP_LOSS_MATRIX");
    for m in want.split(',') {
        let base = raw.join(m);
        let recs: Vec<RunRecord> =
            serde_json::from_str(&std::fs::read_to_string(base.join("records.json")).unwrap())
                .unwrap();
        let master = base.join("master");
        for (i, mut rec) in recs.into_iter().enumerate() {
            let snap = master.join("snapshots").join(&rec.snapshot_name);
            let wal = base.join(format!("wal-at-{}", rec.slave));
            let data = base.join(format!("slave-{}", rec.slave));
            let dir = out.join(&rec.run);
            write_evidence(&dir, &mut rec, &snap, &wal, &data, &master, i == 0);
            eprintln!("lossmatrix {m}: packaged {}", dir.display());
        }
    }
}

/// Thins the `master-wal/` of every recorded run kept `real` (the runs
/// recorded when copies up to 1 MiB were kept whole), in place; `run.json`
/// then says `thinned`. The judge restores the real sizes from
/// `wal-files.json`.
#[test]
#[ignore = "rewrites testdata/loss-runs: run by scripts/loss-matrix.sh thin"]
fn thin_recorded() {
    let dir = crate::util::testdata("loss-runs");
    for ev in crate::lossruns::recorded(&dir) {
        let p = ev.join("run.json");
        let text = std::fs::read_to_string(&p).unwrap();
        let real = "\"wal_evidence\": \"real\"";
        if !text.contains(real) {
            continue;
        }
        let wal = ev.join("master-wal");
        let tmp = ev.join("master-wal.thin");
        crate::walthin::thin_dir(&wal, &tmp);
        std::fs::remove_dir_all(&wal).unwrap();
        std::fs::rename(&tmp, &wal).unwrap();
        std::fs::write(&p, text.replace(real, "\"wal_evidence\": \"thinned\"")).unwrap();
        eprintln!("thinned {}", ev.display());
    }
}
