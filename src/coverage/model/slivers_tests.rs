//! The samples before the coverage end from the snapshot's blocks
//! (`slivers::read_before_c`), on a recorded run's files: the blocks'
//! `meta.json` as Prometheus 2.42 wrote them and the head block's `up`
//! tail as the recording read it (`targets.json`, checked against
//! `promtool tsdb dump`).

use super::super::{ModelInput, SECOND};
use super::{logged_first_batch, read_before_c};
use crate::coverage::masterlog;
use crate::coverage::queue::Stall;
use crate::coverage::snapshot::BlockSpan;
use crate::coverage::uptail::UpTail;

const RUN: &str = "testdata/loss-runs/deb15-ext-t40-r3";

fn json(path: &str) -> serde_json::Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The snapshot's blocks, from their `meta.json`.
fn blocks() -> Vec<BlockSpan> {
    let snap = "snapshot/20261207T034511Z-1df7a4c7e9b73e6a";
    ["01M979NY0EN8WNQVCE74823112", "01M979P1496DN3VD1TWSK1CGB9"]
        .iter()
        .enumerate()
        .map(|(k, u)| {
            let m = json(&format!("{RUN}/{snap}/{u}/meta.json"));
            BlockSpan {
                ulid: (*u).to_string(),
                min_time: m["minTime"].as_i64().unwrap(),
                max_time: m["maxTime"].as_i64().unwrap(),
                level: 1,
                num_samples: m["stats"]["numSamples"].as_u64().unwrap(),
                num_series: m["stats"]["numSeries"].as_u64().unwrap(),
                head_block: k == 1,
                in_order: true,
                created: None,
                bytes: 0,
            }
        })
        .collect()
}

/// The head block's `up` tails the recording read.
fn tails() -> Vec<UpTail> {
    json(&format!("{RUN}/targets.json"))["up_tail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| UpTail {
            job: t["job"].as_str().map(str::to_string),
            instance: t["instance"].as_str().map(str::to_string),
            times: t["times"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_i64().unwrap())
                .collect(),
            series: t["series"].as_u64().unwrap(),
            stale: false,
        })
        .collect()
}

/// `deb15-ext-t40-r3` (Debian config, `prometheus` every 5 s, `node` every
/// 15 s, the head block in the snapshot): neither target's next scrape is
/// stamped before the coverage end, so the head block holds every sample
/// older than it, and the blocks' counts are the samples the reader
/// forwarded before it (the run's crossing batch then holds 102 series
/// after it, as the slave lost). A target whose newest `up` is missing
/// from the block (its scrape in flight at the head read) leaves the count
/// unknown: that scrape's samples reach the WAL after the read.
#[test]
fn the_head_block_counts_the_samples_before_the_coverage_end_when_no_scrape_is_in_flight() {
    let b = blocks();
    let c = b[1].max_time;
    let first = b[0].min_time;
    let mut inp = ModelInput::new(60 * SECOND, c, b[1].min_time, c + 2_395);
    inp.blocks = b.clone();
    inp.first_sample = Some(first);
    inp.up_tails = Some(tails());
    let st = Stall {
        first_sample: first,
        first_send: first + 5 * SECOND,
        first_batch: 500,
        buffered: 3_499,
        position: first + 45 * SECOND,
    };
    let sum = b[0].num_samples + b[1].num_samples;
    assert_eq!(read_before_c(&inp, &st, c), Some(sum));
    // The `prometheus` target's newest scrape not in the block: its next
    // one is stamped before the coverage end, in flight at the read.
    let mut t = tails();
    let p = t
        .iter_mut()
        .find(|t| t.job.as_deref() == Some("prometheus"))
        .unwrap();
    p.times.pop();
    inp.up_tails = Some(t);
    assert_eq!(read_before_c(&inp, &st, c), None);
    // No tail read: the race is not ruled out.
    inp.up_tails = None;
    assert_eq!(read_before_c(&inp, &st, c), None);
    // Without the head block (`skip_head`) the blocks' end needs no tail.
    inp.head_included = false;
    assert_eq!(read_before_c(&inp, &st, c), Some(sum));
}

/// `deb15-noext-t40-r3`: the master's log shows the first request answered
/// after the queue's start refused with `count=419`: the batch the stalled
/// send held, cut by its deadline short of 500 samples (the next ones are
/// 500 each). That count, not the projected one, places the crossing
/// batch's cut (the run lost 450 series at the first scrape after the
/// coverage end: 500 − (419 + the samples before it) mod 500). A queue of
/// several shards, or a reader stalled past the coverage end, keeps the
/// model's count.
#[test]
fn the_master_log_gives_the_stalled_first_batch() {
    let m = include_str!("../../../testdata/loss-runs/deb15-noext-t40-r3/master-log.txt");
    let log = masterlog::parse_bytes(m.as_bytes(), None);
    let t_q = log.queue_start(i64::MAX).unwrap();
    let c = 1_796_615_318_009;
    let mut inp = ModelInput::new(60 * SECOND, c, c - 60 * SECOND, c);
    inp.facts.master_log = Some(log);
    let st = Stall {
        first_sample: t_q + 100,
        first_send: t_q + 5 * SECOND,
        first_batch: 500,
        buffered: 3_499,
        position: t_q + 30 * SECOND,
    };
    assert_eq!(logged_first_batch(&inp, st, t_q, c).first_batch, 419);
    let past = Stall {
        position: c + SECOND,
        ..st
    };
    assert_eq!(logged_first_batch(&inp, past, t_q, c).first_batch, 500);
    inp.queue.min_shards = 2;
    assert_eq!(logged_first_batch(&inp, st, t_q, c).first_batch, 500);
}
