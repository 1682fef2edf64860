//! The human renderers of `promsnap coverage`: the report's text and its
//! timeline.

use promsnap::coverage::{Certainty, CoverageReport, Severity, Source, fmt_dur, fmt_time};

fn source(s: Source) -> &'static str {
    match s {
        Source::Flag => "given",
        Source::Inferred => "from the files",
        Source::Default => "Prometheus' default",
        Source::Unknown => "unknown",
    }
}

fn rel(t: i64, base: Option<i64>) -> String {
    match base {
        Some(b) if t != i64::MAX => {
            let d = t - b;
            if d >= 0 {
                format!("{} after the snapshot", fmt_dur(d))
            } else {
                format!("{} before the snapshot", fmt_dur(-d))
            }
        }
        _ => String::new(),
    }
}

/// The human report.
pub fn render(r: &CoverageReport) -> String {
    let mut s = String::new();
    render_blocks(&mut s, r);
    s.push('\n');
    s.push_str(&timeline(r));
    render_wal(&mut s, r);
    if let Some(l) = &r.facts.master_log {
        s.push_str(&format!("Master log    {}\n", l.summary()));
    }
    if let Some(l) = &r.facts.slave_log {
        s.push_str(&format!("Slave log     {}\n", l.summary()));
    }
    render_native_histograms(&mut s, r);
    render_forecast(&mut s, r);
    render_loss_windows(&mut s, r);
    render_tail(&mut s, r);
    s
}

/// The snapshot, its blocks, holes and head, and the coverage end.
fn render_blocks(s: &mut String, r: &CoverageReport) {
    let snap = r.snapshot_time;
    s.push_str(&format!("Snapshot      {}\n", r.snapshot.display()));
    match snap {
        Some(t) => s.push_str(&format!(
            "Taken at      {} ({})\n",
            fmt_time(t),
            source(r.snapshot_time_source)
        )),
        None => s.push_str("Taken at      unknown (no snapshot directory name, no head block)\n"),
    }
    s.push_str(&format!(
        "Block range   {} ({})\n",
        fmt_dur(r.block_range),
        source(r.block_range_source)
    ));
    s.push_str(&format!("\nBlocks ({}):\n", r.blocks.len()));
    for b in &r.blocks {
        s.push_str(&format!(
            "  {}  {} → {}  {:>8}  level {}{}{}\n",
            b.ulid,
            fmt_time(b.min_time),
            fmt_time(b.max_time),
            fmt_dur(b.max_time - b.min_time),
            b.level,
            if b.head_block { "  HEAD BLOCK" } else { "" },
            if b.in_order { "" } else { "  (out-of-order)" }
        ));
    }
    if r.holes.is_empty() {
        s.push_str("Holes         none\n");
    }
    for h in &r.holes {
        s.push_str(&format!(
            "Hole          {} → {} ({})\n",
            fmt_time(h.from),
            fmt_time(h.to),
            fmt_dur(h.to - h.from)
        ));
    }
    match &r.head_block {
        Some(h) => s.push_str(&format!(
            "Head          included: head block {} covers {} → {}\n",
            h.ulid,
            fmt_time(h.min_time),
            fmt_time(h.max_time)
        )),
        None => s.push_str("Head          NOT included (skip_head=true, or an empty head)\n"),
    }
    if let Some(c) = r.coverage_end {
        s.push_str(&format!(
            "Coverage end  C_snap = {} {}\n              the slave rejects every sample older than \
             this\n",
            fmt_time(c),
            paren(&rel(c, snap))
        ));
    }
    if let Some(f) = &r.first_slave_block {
        s.push_str(&format!(
            "Slave's first block  {} → {}\n",
            fmt_time(f.from),
            fmt_time(f.to)
        ));
    }
}

/// The master WAL's checkpoint and segments.
fn render_wal(s: &mut String, r: &CoverageReport) {
    if let Some(w) = &r.wal {
        s.push_str(&format!(
            "\nMaster WAL    {} observed at {}\n",
            w.view.dir.display(),
            fmt_time(w.view.observed_at)
        ));
        if let Some(c) = &w.view.checkpoint {
            s.push_str(&format!(
                "  {:<20} {}  (segments ≤ {:08} deleted)\n",
                c.name,
                range(c.min_t, c.max_t),
                c.index
            ));
        }
        for g in &w.view.segments {
            s.push_str(&format!(
                "  {:<20} {}  {} bytes{}\n",
                g.name,
                range(g.min_t, g.max_t),
                g.size,
                g.problem
                    .as_ref()
                    .map(|p| format!("  DAMAGED: {p}"))
                    .unwrap_or_default()
            ));
        }
        if let Some(live) = w.coverage_end_in_live_segment {
            s.push_str(&format!(
                "  samples just after C_snap: {}\n",
                if live {
                    "still in a live segment (remote write can still read them)"
                } else {
                    "only in a checkpoint or deleted (remote write can no longer send them)"
                }
            ));
        }
    }
}

/// Native histograms in the block and the WAL.
fn render_native_histograms(s: &mut String, r: &CoverageReport) {
    if let Some(n) = &r.native_histograms
        && n.present()
    {
        let mut parts = Vec::new();
        if let (Some(series), Some(b)) = (n.series, &n.block) {
            parts.push(format!(
                "{series} series, {} samples in block {b}",
                n.samples.unwrap_or(0)
            ));
        }
        if let Some(k) = n.wal_samples_after_coverage_end {
            parts.push(format!("{k} samples in master WAL segments after C_snap"));
        }
        s.push_str(&format!("\nNative histograms  {}\n", parts.join("; ")));
    }
}

/// The forecast head compactions and the deadline.
fn render_forecast(s: &mut String, r: &CoverageReport) {
    let snap = r.snapshot_time;
    if !r.next_truncations.is_empty() {
        s.push_str(
            "\nMaster head compactions + WAL truncations (the blocks', the master's log's, else \
             forecast on the scrape grids):\n  ",
        );
        let v: Vec<String> = r
            .next_truncations
            .iter()
            .take(6)
            .map(|&t| fmt_time(t))
            .collect();
        s.push_str(&v.join(", "));
        s.push('\n');
    }
    if let Some(d) = &r.deadline
        && d.at == i64::MAX
    {
        s.push_str(&format!(
            "\nDeadline      none within the forecast\n              {}\n",
            d.why
        ));
    } else if let Some(d) = &r.deadline {
        s.push_str(&format!(
            "\nDeadline      {} {}\n              the slave must be up and caught up by then \
             ({})\n              {}\n",
            fmt_time(d.at),
            paren(&rel(d.at, snap)),
            d.basis,
            d.why
        ));
        if d.latest != d.at {
            s.push_str(&format!(
                "              a low-volume master tolerates up to {}\n",
                fmt_time(d.latest)
            ));
        }
    }
}

/// Each loss window, its certainty and why.
fn render_loss_windows(s: &mut String, r: &CoverageReport) {
    s.push_str("\nLoss windows:\n");
    if r.loss_windows.is_empty() {
        s.push_str(if r.slave_up.is_some() {
            "  none\n"
        } else {
            "  none (give --slave-up for the windows)\n"
        });
    }
    for w in &r.loss_windows {
        let mut earliest = w
            .to_earliest
            .map(|e| format!(", ends between {} and {}", fmt_time(e), fmt_time(w.to)))
            .unwrap_or_default();
        if let Some(b) = w.bound_to {
            // The library's words for the end with any slave block range.
            let other = if w.why.contains("with any slave block range") {
                "on the queue's other path or with a shorter slave block range"
            } else {
                "on the queue's other path"
            };
            earliest.push_str(&format!(", at most to {} {other}", fmt_time(b)));
        }
        let series = w
            .series
            .map(|n| format!(", {n} series only"))
            .unwrap_or_default();
        let ongoing = if w.ongoing {
            ", and on past the inputs' end"
        } else {
            ""
        };
        s.push_str(&format!(
            "  {:?} {:<8} {} → {} ({}){earliest}{series}{ongoing}\n      {}\n",
            w.cause,
            match w.certainty {
                Certainty::Expected => "expected",
                Certainty::Bound => "at most",
                Certainty::Risk => "risk",
            },
            fmt_time(w.from),
            fmt_time(w.to),
            window_len(w.from, w.to),
            w.why
        ));
    }
}

/// A window's length: one instant is one scrape (each series sampled there
/// loses that one sample), as the verdict says it, not "1ms".
fn window_len(from: i64, to: i64) -> String {
    if from == to {
        "one scrape".into()
    } else {
        fmt_dur(to.saturating_sub(from).saturating_add(1))
    }
}

/// Assumptions, the slave, the verdict and the findings.
fn render_tail(s: &mut String, r: &CoverageReport) {
    if !r.assumptions.is_empty() {
        s.push_str("\nAssumptions:\n");
        for a in &r.assumptions {
            s.push_str(&format!("  - {a}\n"));
        }
    }
    if let Some(sl) = &r.slave {
        s.push_str(&format!("\nSlave         {}\n", sl.path.display()));
        s.push_str(&format!(
            "  own blocks: {}; first received sample in blocks: {}\n",
            sl.own_blocks.len(),
            sl.first_received.map_or("-".into(), fmt_time)
        ));
        if let Some(h) = &sl.head {
            s.push_str(&format!("  head: {}\n", h.summary()));
        }
        if let (Some(a), Some(b)) = (sl.received_from, sl.received_to) {
            s.push_str(&format!(
                "  received (own blocks and head): {} … {}{}\n",
                fmt_time(a),
                fmt_time(b),
                r.coverage_end.map_or(String::new(), |c| format!(
                    " (C_snap + {} … + {})",
                    fmt_dur(a.saturating_sub(c)),
                    fmt_dur(b.saturating_sub(c))
                ))
            ));
        }
    }
    if let Some(v) = &r.verdict {
        s.push_str(&format!("\nVerdict: {v}\n"));
    } else if r.slave_up.is_none() && r.coverage_end.is_some() {
        // The plain-words answer needs the slave's start; say how to get it.
        s.push_str(concat!(
            "\nVerdict: none without the slave's ready time: give it (--slave-up, RFC 3339 or ",
            "Unix ms) for what a slave up then loses; the deadline above is when it must be up ",
            "and caught up\n"
        ));
    }
    for f in &r.findings {
        s.push_str(&format!(
            "{}: {}\n",
            match f.severity {
                Severity::Note => "note",
                Severity::Warning => "warning",
                Severity::Error => "ERROR",
            },
            f.message
        ));
    }
}

fn paren(x: &str) -> String {
    if x.is_empty() {
        String::new()
    } else {
        format!("({x})")
    }
}

fn range(a: Option<i64>, b: Option<i64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) => format!("{} → {} ({})", fmt_time(a), fmt_time(b), fmt_dur(b - a)),
        _ => "no samples (or not read)".into(),
    }
}

const WIDTH: usize = 64;

/// The drawn time range [lo, hi] and its mapping onto the columns.
struct Scale {
    lo: i64,
    hi: i64,
    span: i64,
}

impl Scale {
    /// From four block ranges before the coverage end `c` to past the
    /// snapshot, the loss windows, a near deadline and the live WAL.
    fn of(r: &CoverageReport, c: i64, rr: i64) -> Scale {
        let first = r.blocks.iter().map(|b| b.min_time).min().unwrap_or(c);
        let lo = first.max(c - 4 * rr);
        let mut hi = c + rr / 4;
        for t in [r.snapshot_time, r.loss_windows.iter().map(|w| w.to).max()]
            .into_iter()
            .flatten()
        {
            hi = hi.max(t);
        }
        if let Some(d) = &r.deadline
            && d.at != i64::MAX
            && d.at < c + 6 * rr
        {
            hi = hi.max(d.at);
        }
        if let Some(w) = &r.wal
            && let (_, Some(m)) = w.view.live_range()
        {
            hi = hi.max(m.min(c + 6 * rr));
        }
        hi += (hi - lo) / 20 + 1;
        Scale {
            lo,
            hi,
            span: (hi - lo).max(1),
        }
    }

    fn col(&self, t: i64) -> usize {
        (((t.clamp(self.lo, self.hi) - self.lo) as i128 * (WIDTH as i128 - 1) / self.span as i128)
            as usize)
            .min(WIDTH - 1)
    }

    fn contains(&self, t: i64) -> bool {
        (self.lo..=self.hi).contains(&t)
    }
}

/// The blocks row: `[===` per block, `[###` for the head block, `X` where
/// blocks overlap.
fn draw_blocks(r: &CoverageReport, sc: &Scale) -> Vec<u8> {
    let mut blocks = vec![b' '; WIDTH];
    for b in &r.blocks {
        if b.max_time <= sc.lo {
            continue;
        }
        let (a, e) = (sc.col(b.min_time), sc.col(b.max_time - 1));
        for (i, x) in blocks.iter_mut().enumerate().take(e + 1).skip(a) {
            let ch = if b.head_block { b'#' } else { b'=' };
            *x = if *x == b' ' || i == a { ch } else { b'X' };
        }
        blocks[a] = b'[';
    }
    blocks
}

/// The WAL row: `~` for the checkpoint, `|---` per segment.
fn draw_wal(r: &CoverageReport, sc: &Scale) -> Vec<u8> {
    let mut wal = vec![b' '; WIDTH];
    let Some(w) = &r.wal else {
        return wal;
    };
    if let (Some(a), Some(e)) = (
        w.view.checkpoint.as_ref().and_then(|c| c.min_t),
        w.view.checkpoint.as_ref().and_then(|c| c.max_t),
    ) {
        for x in wal.iter_mut().take(sc.col(e) + 1).skip(sc.col(a)) {
            *x = b'~';
        }
    }
    for g in &w.view.segments {
        if let (Some(a), Some(e)) = (g.min_t, g.max_t) {
            for x in wal.iter_mut().take(sc.col(e) + 1).skip(sc.col(a)) {
                *x = b'-';
            }
            wal[sc.col(a)] = b'|';
        }
    }
    wal
}

/// The loss row: `!` for a loss, `?` for a bound (a loss wins).
fn draw_loss(r: &CoverageReport, sc: &Scale) -> Vec<u8> {
    let mut loss = vec![b' '; WIDTH];
    for w in &r.loss_windows {
        let ch = if w.certainty == Certainty::Bound {
            b'?'
        } else {
            b'!'
        };
        for x in loss.iter_mut().take(sc.col(w.to) + 1).skip(sc.col(w.from)) {
            if *x != b'!' {
                *x = ch;
            }
        }
    }
    loss
}

/// The marks row: truncations, then remote write start, slave up,
/// snapshot, coverage end and deadline (a later one wins a column).
fn draw_marks(r: &CoverageReport, sc: &Scale, c: i64) -> Vec<u8> {
    let mut marks = vec![b' '; WIDTH];
    for &t in &r.next_truncations {
        if sc.contains(t) {
            marks[sc.col(t)] = b't';
        }
    }
    let mut put = |t: Option<i64>, ch: u8| {
        if let Some(t) = t
            && sc.contains(t)
        {
            marks[sc.col(t)] = ch;
        }
    };
    put(r.rw_start, b'R');
    put(r.slave_up, b'U');
    put(r.snapshot_time, b'S');
    put(Some(c), b'C');
    put(r.deadline.as_ref().map(|d| d.at), b'D');
    marks
}

/// The terminal drawing: grid, blocks, head block, WAL, loss windows, marks.
pub fn timeline(r: &CoverageReport) -> String {
    let Some(c) = r.coverage_end else {
        return "Timeline      nothing to draw (no blocks)\n".into();
    };
    let rr = r.block_range.max(1);
    let sc = Scale::of(r, c, rr);
    let (lo, hi, span) = (sc.lo, sc.hi, sc.span);
    let mut grid = vec![b' '; WIDTH];
    if (rr as i128) * (WIDTH as i128) / (span as i128) >= 2 {
        let mut g = lo.div_euclid(rr) * rr;
        while g <= hi {
            if g >= lo {
                grid[sc.col(g)] = b'|';
            }
            g += rr;
        }
    }
    let blocks = draw_blocks(r, &sc);
    let wal = draw_wal(r, &sc);
    let loss = draw_loss(r, &sc);
    let marks = draw_marks(r, &sc, c);
    let row = |name: &str, v: &[u8]| format!("  {name:<7}{}\n", String::from_utf8_lossy(v));
    let mut s = format!(
        "Timeline      one column ≈ {}; grid lines every {}\n",
        fmt_dur(span / WIDTH as i64),
        fmt_dur(rr)
    );
    s.push_str(&row("grid", &grid));
    s.push_str(&row("blocks", &blocks));
    if r.wal.is_some() {
        s.push_str(&row("wal", &wal));
    }
    if !r.loss_windows.is_empty() {
        s.push_str(&row("loss", &loss));
    }
    s.push_str(&row("marks", &marks));
    let left = fmt_time(lo);
    let right = fmt_time(hi);
    let pad = (WIDTH + 9).saturating_sub(left.len() + right.len() + 2);
    s.push_str(&format!("  {left}{}{right}\n", " ".repeat(pad)));
    s.push_str(
        "  [=== block  [### head block  X overlap  | wal segment  ~ checkpoint  ! loss  ? boundary \
         sliver (at most)\n  \
         R remote write start  S snapshot  C coverage end  U slave up  t master truncation  D \
         deadline\n",
    );
    s
}
