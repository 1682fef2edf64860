use super::*;

/// Made-up lines in the form 2.42 writes them (`caller` and keys as in
/// queue_manager.go); the test on a recorded log reads a real one.
const LOG: &str = include_str!("../../testdata/master-log/synthetic-2.42-format.log");

fn ms(s: &str) -> i64 {
    crate::vocab::parse_rfc3339_ms(s).unwrap()
}

#[test]
fn reads_reshards_and_refusals_of_the_one_queue() {
    let l = parse_bytes(LOG.as_bytes(), None);
    assert_eq!(l.queue.as_deref(), Some("abc123"));
    assert_eq!(l.url.as_deref(), Some("http://127.0.0.1:9101/api/v1/write"));
    assert!(l.decides());
    assert_eq!(l.extent.lines, 7);
    assert_eq!(l.queue_lines, 6);
    assert_eq!(
        l.reshards,
        vec![Reshard {
            at: ms("2026-12-06T01:01:09.200Z"),
            from: 1,
            to: 200
        }]
    );
    assert_eq!(l.refusals.len(), 3);
    assert_eq!(l.refusals[2].samples, 410);
    let r = l
        .first_reshard(ms("2026-12-06T01:01:00Z"), i64::MAX)
        .unwrap();
    let last = l.last_refusal(r.at, i64::MAX).unwrap();
    assert_eq!(last.at, ms("2026-12-06T01:01:16.100Z"));
    assert!(l.first_reshard(r.at, i64::MAX).is_none());
}

#[test]
fn other_queues_are_told_apart() {
    let two = LOG.to_string()
        + "ts=2026-12-06T01:01:20.000Z caller=dedupe.go:112 component=remote level=info \
           remote_name=other url=http://10.0.0.1/w msg=\"Remote storage resharding\" from=1 to=3\n";
    let l = parse_bytes(two.as_bytes(), None);
    assert!(l.ambiguous && !l.decides());
    assert!(l.reshards.is_empty());
    let l = parse_bytes(two.as_bytes(), Some("abc123"));
    assert!(l.decides());
    assert_eq!(l.reshards.len(), 1);
    assert_eq!(l.other_queues, vec!["other".to_string()]);
    let l = parse_bytes(two.as_bytes(), Some("http://10.0.0.1/w"));
    assert_eq!(l.queue.as_deref(), Some("other"));
    assert_eq!(l.reshards[0].to, 3);
    assert!(l.refusals.is_empty());
}

#[test]
fn journal_prefixes_and_offsets_are_read() {
    let j = "Dec 06 01:01:09 host prometheus[812]: ts=2026-12-06T02:01:09.2+01:00 \
             caller=dedupe.go:112 component=remote level=info remote_name=q url=u msg=\"Remote \
             storage resharding\" from=1 to=50\r\n";
    let l = parse_bytes(j.as_bytes(), None);
    assert_eq!(l.reshards[0].at, ms("2026-12-06T01:01:09.200Z"));
    assert_eq!(l.reshards[0].to, 50);
}

#[test]
fn garbage_long_and_cut_lines_never_panic() {
    let mut data = Vec::new();
    data.extend_from_slice(b"\xff\xfe not logfmt = = \"\"\"\\\n");
    data.extend_from_slice(b"ts=2026-13-06T01:00:00Z msg=x\n");
    data.extend_from_slice(
        b"ts=\"2026-12-06T01:00:00Z\" remote_name=q msg=\"Remote storage resharding\" from=x \
          to=2\n",
    );
    data.extend(vec![b'a'; MAX_LINE * 2]);
    data.extend_from_slice(
        b"\nts=2026-12-06T01:00:00Z remote_name=q msg=\"non-recoverable error\" count=7",
    );
    let l = parse_bytes(&data, None);
    assert_eq!(l.extent.lines, 5);
    assert_eq!(l.extent.unreadable_lines, 3);
    assert_eq!(l.refusals.len(), 1);
    assert_eq!(l.refusals[0].samples, 7);
    assert!(l.reshards.is_empty());
    // A `ts` past a cut: the line is read only up to MAX_LINE bytes.
    let mut long = b"ts=2026-12-06T01:00:00Z remote_name=q ".to_vec();
    long.extend(vec![b'x'; MAX_LINE]);
    long.extend_from_slice(b" msg=\"Remote storage resharding\" from=1 to=9\n");
    let l = parse_bytes(&long, None);
    assert!(l.reshards.is_empty());
    assert_eq!(l.extent.unreadable_lines, 1);
}

#[test]
fn quoted_values_unescape() {
    let kv = logfmt(r#"a="x \"y\" \\ z" b=c d="#);
    assert_eq!(kv[0], ("a", "x \"y\" \\ z".to_string()));
    assert_eq!(kv[1], ("b", "c".to_string()));
    assert_eq!(kv[2], ("d", String::new()));
}

/// The real 2.42 log of a recorded run (`testdata/loss-runs`, kept by the
/// loss matrix): its queue's reshards 1 -> 200 -> 11 and its refusals, the
/// harness's `#` notes and the TSDB's lines read as lines of no queue.
#[test]
fn real_log_of_a_recorded_run() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/loss-runs/s12k-busyz-up35-r3/master-log.txt");
    let f = std::fs::File::open(&p).unwrap();
    let l = parse(std::io::BufReader::new(f), None).unwrap();
    assert!(l.decides(), "{l:?}");
    assert_eq!(l.queue.as_deref(), Some("up35"));
    assert!(l.url.as_deref().unwrap().ends_with("/api/v1/write"));
    let steps: Vec<(u64, u64)> = l.reshards.iter().map(|r| (r.from, r.to)).collect();
    assert_eq!(steps, vec![(1, 200), (200, 11)]);
    assert_eq!(
        l.reshards[0].at,
        crate::vocab::parse_rfc3339_ms("2026-12-06T01:47:22.965Z").unwrap()
    );
    assert!(l.refusals.iter().any(|r| r.samples == 499));
    // The two `#` notes have no `ts`.
    assert_eq!(l.extent.unreadable_lines, 2);
    // It reaches its last line's ts.
    let text = std::fs::read_to_string(&p).unwrap();
    let last = text.lines().rev().find(|x| x.starts_with("ts=")).unwrap();
    let ts = last
        .split_whitespace()
        .next()
        .unwrap()
        .trim_start_matches("ts=");
    assert_eq!(l.extent.last_ts, crate::vocab::parse_rfc3339_ms(ts));
    let first = text.lines().find(|x| x.starts_with("ts=")).unwrap();
    let ts = first
        .split_whitespace()
        .next()
        .unwrap()
        .trim_start_matches("ts=");
    assert_eq!(l.extent.first_ts, crate::vocab::parse_rfc3339_ms(ts));
    // Named by its url, the same queue.
    let url = l.url.clone().unwrap();
    let f = std::fs::File::open(&p).unwrap();
    let by_url = parse(std::io::BufReader::new(f), Some(&url)).unwrap();
    assert_eq!(by_url.reshards, l.reshards);
    // Another queue's name: nothing read.
    let none = parse_bytes(&std::fs::read(&p).unwrap(), Some("soon"));
    assert!(none.queue.is_none() && none.reshards.is_empty());
}

/// `Starting WAL watcher` is the queue's start: the origin of its reshard
/// ticks (`updateShardsLoop` starts its ticker right after it).
#[test]
fn the_queue_start_is_read() {
    let l = parse_bytes(LOG.as_bytes(), None);
    assert_eq!(l.starts, vec![ms("2026-12-06T01:00:01.000Z")]);
    assert_eq!(
        l.queue_start(ms("2026-12-06T01:01:00Z")),
        Some(ms("2026-12-06T01:00:01.000Z"))
    );
    assert_eq!(l.queue_start(ms("2026-12-06T01:00:00Z")), None);
}

/// A log taken at a time reaches it; one "taken" before its last line is
/// refused with that line's time.
#[test]
fn a_log_reaches_when_it_was_taken() {
    let l = parse_bytes(LOG.as_bytes(), None);
    let last = l.extent.last_ts.unwrap();
    assert_eq!(l.extent.reaches(), Some(last));
    let t = taken_at(l.clone(), Some(last + 60_000)).unwrap();
    assert_eq!(t.extent.reaches(), Some(last + 60_000));
    assert!(t.extent.span().ends_with("(taken then)"));
    assert_eq!(taken_at(l.clone(), Some(last - 1)), Err(last));
    assert_eq!(taken_at(l.clone(), None), Ok(l));
}

/// A recorded log's logfmt lines written as go-kit's JSON logger writes
/// them (keys sorted, numbers bare) and wrapped in a Docker envelope.
fn as_json(text: &str, docker: bool) -> String {
    as_json_every(text, docker, 1)
}

/// As [`as_json`], every `nth` line only (the others left in logfmt).
fn as_json_every(text: &str, docker: bool, nth: usize) -> String {
    let mut out = String::new();
    for (i, l) in text.lines().enumerate() {
        let f = super::super::logline::fields(l);
        if f.get("ts").is_none() || i % nth != 0 {
            out.push_str(l);
        } else {
            let m: serde_json::Map<String, serde_json::Value> =
                f.kv.into_iter()
                    .map(|(k, v)| {
                        let n = v
                            .parse::<i64>()
                            .ok()
                            .filter(|_| k != "remote_name" && k != "queue");
                        (k, n.map_or(serde_json::Value::String(v), Into::into))
                    })
                    .collect();
            let line = serde_json::Value::Object(m).to_string();
            let line = if docker {
                serde_json::json!({ "log": format!("{line}\n"), "stream": "stderr" }).to_string()
            } else {
                line
            };
            out.push_str(&line);
        }
        out.push('\n');
    }
    out
}

#[test]
fn a_json_log_reads_as_its_logfmt() {
    let rec = include_str!("../../testdata/loss-runs/s4500-ms50-up55-r3/master-log.txt");
    let a = parse_bytes(rec.as_bytes(), None);
    assert!(a.decides() && !a.reshards.is_empty(), "{a:?}");
    for docker in [false, true] {
        let mut b = parse_bytes(as_json(rec, docker).as_bytes(), None);
        let readable = b.extent.lines - b.extent.unreadable_lines;
        assert_eq!(b.extent.json_lines, readable);
        assert_eq!(b.extent.envelope_lines, if docker { readable } else { 0 });
        (b.extent.json_lines, b.extent.envelope_lines) = (0, 0);
        assert_eq!(a, b);
    }
    // A log mixing both (a server restarted with the other flag): every
    // other line JSON, some of those in an envelope.
    let mut c = parse_bytes(as_json_every(rec, true, 2).as_bytes(), None);
    assert!(c.extent.json_lines > 0 && c.extent.json_lines < c.extent.lines);
    (c.extent.json_lines, c.extent.envelope_lines) = (0, 0);
    assert_eq!(a, c);
}

#[test]
fn a_log_with_no_prometheus_line_says_so() {
    let l = parse_bytes(b"hello\n{\"a\":1}\nlevel=info msg=x\n", None);
    assert!(l.extent.unrecognised);
    assert_eq!(l.extent.lines, 3);
    let s = l.summary();
    assert!(
        s.contains("none of its 3 lines is a Prometheus log line"),
        "{s}"
    );
    let v = serde_json::to_value(&l).unwrap();
    assert_eq!(v["unrecognised"], true);
    assert!(parse_bytes(b"", None).summary().contains("holds no line"));
    let ok = parse_bytes(LOG.as_bytes(), None);
    assert!(!ok.extent.unrecognised);
    assert!(
        serde_json::to_value(&ok)
            .unwrap()
            .get("unrecognised")
            .is_none()
    );
}

/// A recorded 2.42 log whose stalled reader was overtaken (`testdata/
/// loss-runs/deb3t-ev7-late3-r2`): the reader's start replays the WAL too,
/// but only the replay after `error tailing WAL` is a restart; it comes
/// 5 s after the error (the watcher's wait).
#[test]
fn a_reader_restart_after_a_tail_error_is_read() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/loss-runs/deb3t-ev7-late3-r2/master-log.txt");
    let f = std::fs::File::open(&p).unwrap();
    let l = parse(std::io::BufReader::new(f), None).unwrap();
    assert!(l.decides(), "{l:?}");
    let error_at = ms("2026-12-07T04:11:43.012Z");
    let replay_at = ms("2026-12-07T04:11:48.014Z");
    assert_eq!(
        l.reader_restarts,
        vec![ReaderRestart {
            error_at,
            replay_at: Some(replay_at)
        }]
    );
    assert_eq!(
        l.reader_restart(error_at - 60_000).unwrap().error_at,
        error_at
    );
    assert!(l.reader_restart(error_at + 1).is_none());
    // An error the log ends after holds no restart to place.
    let cut: String = std::fs::read_to_string(&p)
        .unwrap()
        .lines()
        .take_while(|x| !x.contains("04:11:48.014Z"))
        .map(|x| format!("{x}\n"))
        .collect();
    let l = parse_bytes(cut.as_bytes(), None);
    assert_eq!(l.reader_restarts[0].replay_at, None);
    assert!(l.reader_restart(error_at).is_none());
    // A new watcher started in between (the queue's own `Starting WAL
    // watcher` line, moved there): its replay is that start's, not the
    // restart after the error.
    let text = std::fs::read_to_string(&p).unwrap();
    let start = text
        .lines()
        .find(|x| x.contains("msg=\"Starting WAL watcher\""))
        .unwrap()
        .replacen("04:07:08.982Z", "04:11:45.000Z", 1);
    let moved: String = text
        .lines()
        .flat_map(|x| {
            let mut v = vec![x.to_string()];
            if x.contains("msg=\"error tailing WAL\"") {
                v.push(start.clone());
            }
            v
        })
        .map(|x| x + "\n")
        .collect();
    let l = parse_bytes(moved.as_bytes(), None);
    assert_eq!(l.starts.len(), 2);
    assert_eq!(l.reader_restarts[0].replay_at, None);
    assert!(l.reader_restart(error_at).is_none());
}

fn recorded_log(run: &str) -> MasterLog {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/loss-runs")
        .join(run)
        .join("master-log.txt");
    parse_bytes(&std::fs::read(p).unwrap(), None)
}

/// `s13k-busy-overtaken`'s log (2.42, logfmt): five `write block` lines
/// followed by the head GC of `truncateMemory` are the head compactions;
/// the snapshot's head block (`Snapshotting block`, no GC after it) is not
/// one. Each starts at its block's ULID time, the line's time less its
/// duration. Its two checkpoints pair `Creating checkpoint` with `WAL
/// checkpoint complete`.
#[test]
fn reads_head_compactions_and_checkpoints_of_a_recorded_log() {
    let l = recorded_log("s13k-busy-overtaken");
    assert!(l.decides() && l.decides_truncations());
    let c = &l.tsdb.head_compactions;
    assert_eq!(c.len(), 5, "{c:?}");
    // The snapshot's head block ended at its newest sample, off the grid.
    assert!(c.iter().all(|h| h.max_time % 60_000 == 0), "{c:?}");
    let ulid = crate::format::meta::ulid_time("01M97PJBXWETBZTCF1E0638YSS").unwrap() as i64;
    assert_eq!(c[0].at, ulid);
    // `write block` at 07:30:23.435, duration=143.245533ms.
    assert!((ms("2026-12-07T07:30:23.435Z") - 143 - ulid).abs() <= 2);
    assert_eq!(
        l.tsdb.checkpoints,
        vec![
            WalCheckpoint {
                at: ms("2026-12-07T07:31:30.521Z"),
                done_at: Some(ms("2026-12-07T07:31:30.588Z")),
                first: 0,
                last: 1
            },
            WalCheckpoint {
                at: ms("2026-12-07T07:33:31.940Z"),
                done_at: Some(ms("2026-12-07T07:33:31.980Z")),
                first: 2,
                last: 3
            }
        ]
    );
    assert_eq!(l.tsdb.deletion_of(1), Some(l.tsdb.checkpoints[0]));
    assert_eq!(l.tsdb.deletion_of(2), Some(l.tsdb.checkpoints[1]));
    assert_eq!(l.tsdb.deletion_of(4), None);
    assert!(
        l.summary()
            .ends_with("head compactions 5, WAL checkpoints 2")
    );
    let (from, reach) = l.truncation_span().unwrap();
    assert_eq!(from, ms("2026-12-07T07:28:46.898Z"));
    assert_eq!(reach, ms("2026-12-07T07:33:46.901Z"));
}

/// `--log.format=json` (`s4600-ms55-json-up48`): the same events, the GC's
/// `caller` key once, as `truncateMemory`.
#[test]
fn reads_head_compactions_of_a_json_log() {
    let l = recorded_log("s4600-ms55-json-up48");
    assert!(l.decides_truncations());
    let at: Vec<i64> = l.tsdb.head_compactions.iter().map(|c| c.at).collect();
    let ulid = |u| crate::format::meta::ulid_time(u).unwrap() as i64;
    assert_eq!(
        at,
        vec![
            ulid("01M966SXS8C3A96XWWNJ47EBBT"),
            ulid("01M966VGJ0H9MJKTBAE2EDAE6R")
        ]
    );
    assert!(l.tsdb.checkpoints.is_empty());
}

/// A log of the queue's lines alone holds no TSDB line: it dates no
/// truncation (the forecast stays).
#[test]
fn a_log_without_tsdb_lines_dates_no_truncation() {
    let l = parse_bytes(LOG.as_bytes(), None);
    assert!(l.decides());
    assert!(!l.decides_truncations());
    assert!(l.truncation_span().is_none());
    assert!(!l.summary().contains("head compactions"));
}

/// A checkpoint whose `Creating checkpoint` line the log lost starts at
/// its completion less its duration.
#[test]
fn a_lone_completion_starts_its_duration_earlier() {
    let line = "ts=2026-12-07T07:31:30.588Z caller=head.go:1191 level=info component=tsdb \
                msg=\"WAL checkpoint complete\" first=4 last=6 duration=1.5s\n";
    let l = parse_bytes(line.as_bytes(), None);
    assert_eq!(
        l.tsdb.checkpoints,
        vec![WalCheckpoint {
            at: ms("2026-12-07T07:31:29.088Z"),
            done_at: Some(ms("2026-12-07T07:31:30.588Z")),
            first: 4,
            last: 6
        }]
    );
    assert_eq!(l.tsdb.deletion_of(3), None);
}

/// A recorded master SIGTERM'd at 16:25:37.313 (its queue stopping 2 ms
/// later) and started again (its configuration loaded, its queue's watcher
/// started, at 16:27:37.447): a restart given anywhere from the stop to
/// that load (within the slack of a time given to the second) follows that
/// stop, as does one given up to a second before it; one given after the
/// new process ran, or long before any stop, follows none the log shows.
#[test]
fn a_restart_follows_the_stop_the_log_shows() {
    let l = parse_bytes(
        include_bytes!("../../testdata/master-log/restart-overtaken.log"),
        None,
    );
    let sigterm = ms("2026-12-07T16:25:37.313Z");
    // The queue's `Stopping remote storage...`, 2 ms later, is the latest.
    let stop = ms("2026-12-07T16:25:37.315Z");
    let start = ms("2026-12-07T16:27:37.447Z");
    assert_eq!(l.process_stops.get(..2), Some(&[sigterm, stop][..]));
    assert_eq!(l.stop_before(start, 0), Some(stop));
    assert_eq!(l.stop_before(stop + 60_000, 0), Some(stop));
    assert_eq!(l.stop_before(start + 552, 999), Some(stop));
    assert_eq!(l.stop_before(start + 552, 0), None);
    assert_eq!(l.stop_before(start + 60_000, 999), None);
    // Given just before the line (the stop as an operator noted it).
    assert_eq!(l.stop_before(sigterm - 1, 0), Some(stop));
    assert_eq!(l.stop_before(sigterm - 1_001, 999), None);
}
