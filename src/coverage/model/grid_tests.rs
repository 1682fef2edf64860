//! Tests of the head-compaction forecast on several grids and of the
//! master's log in its place (`grid.rs`).
use super::*;
use crate::coverage::masterlog::parse_bytes;
use crate::coverage::scrapes::{Schedule, ScrapeGrid};
use crate::coverage::snapshot::BlockSpan;

const R: i64 = 60_000;

fn ms(s: &str) -> i64 {
    crate::vocab::parse_rfc3339_ms(s).unwrap()
}

fn grid(interval: i64, phase: i64) -> ScrapeGrid {
    ScrapeGrid {
        interval,
        phase,
        series: 100,
        lag: 0,
        first: i64::MIN,
    }
}

fn level1(min_time: i64, created: i64) -> BlockSpan {
    BlockSpan {
        ulid: String::new(),
        min_time,
        max_time: (min_time.div_euclid(R) + 1) * R,
        level: 1,
        num_samples: 1,
        num_series: 1,
        head_block: false,
        in_order: true,
        created: Some(created),
        bytes: 0,
    }
}

/// The operator's replay `deb-up1m-r2` (the Debian shape, 1m blocks): the
/// master scrapes itself every 5 s (phase .042) and a node exporter every
/// 15 s (phase .955). Its log: the block of [07:50:00.042, 07:51:00) written
/// at 07:51:31.958 (its ULID), then compactions at 07:52:32.00 and
/// 07:53:31.99: each head min is the self-scrape's .042 sample, whose grid
/// lands on the 1.5 R threshold itself (not past it), and the node's next
/// scrape sets the compaction off. The forecast on both grids follows it;
/// on the self-scrape's grid alone it ran 3 s late (07:52:35.046).
#[test]
fn the_forecast_takes_the_first_sample_past_the_threshold_on_any_grid() {
    let head_min = ms("2026-12-07T07:51:00.042Z");
    let snapshot = ms("2026-12-07T07:51:45.000Z");
    let mut inp = ModelInput::new(R, snapshot - 3_000, head_min, snapshot);
    inp.head_included = true;
    inp.scrape_interval = 5_000;
    inp.scrape_grids = Some(Schedule {
        grids: vec![
            grid(5_000, ms("2026-12-07T07:51:40.042Z")),
            grid(15_000, ms("2026-12-07T07:51:31.955Z")),
        ],
    });
    inp.blocks = vec![level1(
        ms("2026-12-07T07:50:00.042Z"),
        ms("2026-12-07T07:51:31.958Z"),
    )];
    let t = truncations(&inp, snapshot - 3_000, R);
    let logged = [
        ms("2026-12-07T07:52:32.000Z"),
        ms("2026-12-07T07:53:31.990Z"),
    ];
    for l in logged {
        let near = t.iter().map(|x| (x - l).abs()).min().unwrap();
        assert!(near <= 100, "{l}: {t:?}");
    }
    // The self-scrape's grid alone lands on the threshold itself and is not
    // past it: one of its intervals later.
    let own = trigger(&[(5_000, head_min)], head_min, R);
    assert_eq!(own, Some(head_min + 95_000));
}

/// The head compactions a master's log shows (`s13k-busy-overtaken`: 5,
/// from 07:28:46.898 to 07:33:46.901) take the place of the forecast over
/// the log; after its reach the forecast goes on.
#[test]
fn the_logged_compactions_replace_the_forecast_over_the_log() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/loss-runs/s13k-busy-overtaken/master-log.txt");
    let log = parse_bytes(&std::fs::read(p).unwrap(), None);
    let logged: Vec<i64> = log.tsdb.head_compactions.iter().map(|c| c.at).collect();
    let (from, reach) = log.truncation_span().unwrap();
    let c = ms("2026-12-07T07:30:26.278Z");
    let mut inp = ModelInput::new(R, c, ms("2026-12-07T07:29:00.277Z"), c + 300);
    inp.head_included = true;
    inp.scrape_interval = 1_000;
    inp.slave_up = Some(c + 10 * R);
    let t_b = ms("2026-12-07T07:28:52.277Z");
    let forecast = truncations(&inp, t_b, R);
    inp.facts.master_log = Some(log);
    let t = truncations(&inp, t_b, R);
    for l in &logged {
        assert!(t.contains(l), "{l}: {t:?}");
    }
    // Over the log only its compactions; after it, the forecast.
    assert!(
        t.iter()
            .filter(|&&x| x >= from && x <= reach)
            .all(|x| logged.contains(x))
    );
    let after: Vec<i64> = forecast
        .iter()
        .copied()
        .filter(|&x| x > reach + R / 4)
        .collect();
    assert!(!after.is_empty());
    assert!(after.iter().all(|x| t.contains(x)), "{after:?} {t:?}");
    assert!(dating(&inp, logged[2]).contains("head compaction the master's log shows"));
    assert!(dating(&inp, after[0]).contains("the master's log reaches only to"));
}
