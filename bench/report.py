#!/usr/bin/env python3
"""Turns bench/run.sh's results (bench/alt.py JSON) into BENCHMARKS.md: medians,
ratios and targets, with the spread of the runs and the machine's load beside
each figure, and a note where a figure moved by more than its spread since the
BENCHMARKS.md it replaces."""
import datetime, json, os, re, subprocess, sys

out, md = sys.argv[1], sys.argv[2]


def load(name):
    p = os.path.join(out, name + ".json")
    return json.load(open(p)) if os.path.exists(p) else None


def res(name, i=0):
    d = load(name)
    return d["results"][i] if d and i < len(d["results"]) else None


def med(name, i=0):
    r = res(name, i)
    return r and r["median"]


def spread(name, i=0):
    r = res(name, i)
    return r and (r["max"] - r["min"])


def cpu(name, i=0):
    r = res(name, i)
    return r and r.get("cpu_median")


def cpu_note(name, ours=0, theirs=1):
    """The CPU-time ratio (user + system) of the same runs: the machine's load
    stretches wall times, not CPU times."""
    a, b = cpu(name, ours), cpu(name, theirs)
    if not a or not b:
        return ""
    return f"CPU time {a:.2f} s vs {b:.2f} s ({b / a:.1f}×)"


def rss_mb(name, i=0):
    r = res(name, i)
    if not r or not r.get("max_rss_kb"):
        return None
    v = sorted(r["max_rss_kb"])
    return v[len(v) // 2] / 1024


def loadavg(name):
    d = load(name)
    if not d:
        return ""
    return f"load {d['load_before'][0]:.1f}→{d['load_after'][0]:.1f}"


def ver(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.splitlines()[0]
    except Exception:
        return "?"


def text_of(path):
    p = os.path.join(out, path)
    return open(p).read().strip() if os.path.exists(p) else None


# The figures of the BENCHMARKS.md being replaced, by row.
old = {}
if os.path.exists(md):
    for line in open(md):
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 3 and cells[1] and not cells[1].startswith(("what", "---", "kernel")):
            old[cells[1]] = cells[2]

rows = []


def fmt(x):
    if x is None:
        return "–"
    return f"{x:.3f} s" if isinstance(x, float) else str(x)


def row(what, ours, theirs, target, ok, note="", src=None, i=0):
    notes = [note] if note else []
    if src:
        sp = spread(src, i)
        if sp is not None:
            notes.append(f"spread {sp:.3f} s")
        notes.append(loadavg(src))
        # Moved by more than the spread of this run's runs?
        prev = old.get(what)
        m = re.match(r"([0-9.]+) s$", prev or "")
        if m and isinstance(ours, float) and sp is not None:
            before = float(m.group(1))
            if abs(ours - before) > sp:
                notes.append(f"moved from {before:.3f} s (more than the spread)")
    rows.append(f"| {what} | {fmt(ours)} | {fmt(theirs)} | {target} | {'met' if ok else 'NOT met'} | {'; '.join(n for n in notes if n)} |")


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


v1, a1, ae1 = med("verify-1m", 0), med("verify-1m", 1), med("verify-1m", 2)
r = ratio(v1, a1)
row("full `verify` bench-1m vs `promtool tsdb analyze`", v1, a1, "≤ 0.05×", r is not None and r <= 0.05,
    f"ratio {r:.3f}; vs analyze --extended ({ae1:.3f} s): {ratio(v1, ae1):.3f}; {cpu_note('verify-1m')}" if r else "", "verify-1m")
rv, rp = rss_mb("verify-1m", 0), rss_mb("verify-1m", 1)
rr = ratio(rv, rp)
row("`verify` bench-1m peak RSS (MB)", rv and round(rv), rp and round(rp), "≤ 0.5×", rr is not None and rr <= 0.5, f"ratio {rr:.2f}" if rr else "")
v100, pdu = med("verify-100k", 0), med("verify-100k", 1)
r = ratio(v100, pdu)
row("full `verify` bench-100k vs pypdu decode", v100, pdu, "≤ 0.5×", r is not None and r <= 0.5, f"ratio {r:.3f}" if r else "", "verify-100k")
for kind, name, target in (("full", "dump-100k", 30), ("window", "dump-window", 15)):
    d, pd = med(name, 0), med(name, 1)
    ident = text_of(f"dump-{kind}-identical") or "?"
    r = ratio(pd, d)
    what = "`dump` bench-100k vs `promtool tsdb dump`" if kind == "full" else "`dump` bench-100k, 10-minute window, vs `promtool tsdb dump`"
    row(what, d, pd, f"≥ {target}× faster, identical", r is not None and r >= target and ident.startswith("identical"),
        (f"{r:.1f}× faster; output {ident}; " + cpu_note(name)) if r else ident, name)
f1, fc = med("dump-floor", 0), med("dump-floor", 1)
if f1 and d:
    row("`dump` bench-100k on one core (`taskset -c 0`); through a pipe", f1, fc, "(floor)", True,
        f"{ratio(f1, med('dump-100k', 0)):.2f}× the parallel dump; piped through `cat`: {fc:.3f} s", "dump-floor")
c, cp, cv = med("copy-1m", 0), med("copy-1m", 1), med("copy-1m", 2)
r = ratio(c, cp)
row("verified `copy` bench-1m vs `cp -r` + `sync`", c, cp, "≤ 1.6×", r is not None and r <= 1.6,
    f"ratio {r:.2f}; `verify` alone {cv:.3f} s = {ratio(cv, cp):.2f}× cp; CPU time {cpu('copy-1m', 0):.2f} s vs cp {cpu('copy-1m', 1):.2f} s" if r and cv else "", "copy-1m")
cq, cn, cp2 = med("copy-modes-1m", 0), med("copy-modes-1m", 1), med("copy-modes-1m", 2)
r = ratio(cq, cp2)
row("`copy --verify quick` bench-1m vs `cp -r` + `sync`", cq, cp2, "(≤ 2×)", r is not None and r <= 2, f"ratio {r:.2f}; checksums and structure, no sample decoding" if r else "", "copy-modes-1m")
r = ratio(cn, cp2)
row("`copy --verify none` bench-1m vs `cp -r` + `sync`", cn, cp2, "(≤ 2×)", r is not None and r <= 2, f"ratio {r:.2f}; copy, fsync, re-read and compare only" if r else "", "copy-modes-1m", 1)
l, lv = med("link-1m", 0), med("link-1m", 1)
row("`copy --link --verify none` bench-1m", f"{l * 1000:.1f} ms" if l else None, None, "milliseconds", l is not None and l < 0.1, f"with the full verify: {lv:.3f} s; {loadavg('link-1m')}" if lv else "")


def size(name):
    p = os.path.join(out, name)
    return int(open(p).read()) if os.path.exists(p) else None


for i, (label, bytes_file) in enumerate((("wal-12m (uncompressed, `promtool tsdb bench write`)", "wal-bytes"),
                                        ("wal-snappy (snappy, recorded by the real server)", "wal-snappy-bytes"))):
    w, wb = med("wal-j1", i), size(bytes_file)
    gbps = (wb / w / 1e9) if (w and wb) else None
    sp = spread("wal-j1", i)
    row(f"`wal` {label}, one core", f"{gbps:.2f} GB/s" if gbps else None, None, "≥ 1 GB/s/core", gbps is not None and gbps >= 1,
        f"{wb / 1e6:.0f} MB on disk (WAL + chunks_head) in {w:.3f} s, whole process; by CPU time {wb / cpu('wal-j1', i) / 1e9:.2f} GB/s; spread {sp:.3f} s; {loadavg('wal-j1')}" if gbps else "no `wal` command")
j1, j2 = med("jobs-1m", 0), med("jobs-1m", 1)
r = ratio(j1, j2)
row("`verify --jobs 2` vs `--jobs 1` bench-1m (speed-up)", j2, j1, "≥ 1.7×", r is not None and r >= 1.7, f"{r:.2f}×" if r else "", "jobs-1m", 1)
k1, k2 = med("jobs-100k", 0), med("jobs-100k", 1)
r = ratio(k1, k2)
row("`verify --jobs 2` vs `--jobs 1` bench-100k (speed-up)", k2, k1, "≥ 1.7×", r is not None and r >= 1.7, f"{r:.2f}×" if r else "", "jobs-100k", 1)
b100, b1m = size("bytes-100k"), size("bytes-1m")
if v100 and v1 and b100 and b1m:
    per100, per1m = v100 / b100 * 1e9, v1 / b1m * 1e9
    r = per1m / per100
    row("`verify` time per byte, bench-1m vs bench-100k (scaling)", f"{per1m:.2f} ns/B", f"{per100:.2f} ns/B", "linear (≈ 1×)", r <= 1.5, f"ratio {r:.2f}: bench-1m has 10× the series and 4× the index bytes per sample")
s1, s20, loop20 = med("scale-20", 0), med("scale-20", 1), med("scale-20", 2)
# 20 × one block: the one block verified 20 times in a row when the run has
# it (as long a stretch as the 20-block run, under the same load), else 20 ×
# the median of single runs.
twenty = loop20 or (s1 and 20 * s1)
r = ratio(s20, twenty)
how = (f"one block 20 times in a row {loop20:.3f} s (20 × its single runs' median {s1:.3f} s: ratio {s20 / (20 * s1):.2f})"
       if loop20 and s1 and s20 else f"one block {s1:.3f} s")
row("`verify --jobs 1` of 20 bench-1m-sized blocks vs 20 × one block", s20, twenty, "≤ 1.1×", r is not None and r <= 1.1,
    "; ".join(x for x in (f"ratio {r:.2f}", how, cpu_note("scale-20", 1, 2) if loop20 else "") if x) if r else "", "scale-20", 1)
m1, m20 = rss_mb("scale-20", 0), rss_mb("scale-20", 1)
rr = ratio(m20, m1)
row("`verify --jobs 1` of 20 blocks, peak RSS (MB) vs one block's", m20 and round(m20), m1 and round(m1), "≤ 2×", rr is not None and rr <= 2, f"ratio {rr:.2f}" if rr else "")
ls, pl = med("ls", 0), med("ls", 1)
r = ratio(ls, pl)
row("`ls` bench-1m vs `promtool tsdb list`", ls, pl, "faster", r is not None and r < 1, f"ratio {r:.3f}" if r else "", "ls")
an, pan = med("analyze-1m", 0), med("analyze-1m", 1)
r = ratio(an, pan)
row("`analyze` bench-1m vs `promtool tsdb analyze`", an, pan, "≤ 0.2×", r is not None and r <= 0.2, f"ratio {r:.3f}" if r else "", "analyze-1m")
ra, rpa = rss_mb("analyze-1m", 0), rss_mb("analyze-1m", 1)
rr = ratio(ra, rpa)
row("`analyze` bench-1m peak RSS (MB)", ra and round(ra), rpa and round(rpa), "≤ 0.5×", rr is not None and rr <= 0.5, f"ratio {rr:.2f}" if rr else "")

# The block writer (writer_bench in run.sh).
rw, rwcp = med("rewrite-1m", 0), med("rewrite-1m", 1)
r = ratio(rw, rwcp)
rwr = rss_mb("rewrite-1m")
row("rewrite bench-1m (decode every chunk, re-encode, write, fsync) vs `cp -r` + `sync`", rw, rwcp, "≤ 4×", r is not None and r <= 4, (f"ratio {r:.2f}; peak RSS {rwr:.0f} MB (1M series); `examples/rewrite_block`" if r and rwr else ""))
fl = med("fill-100k", 0)
try:
    fr = json.load(open(os.path.join(out, "fill-100k.report.json")))
    fnote = f"{fr['series_added']} series, {fr['samples_added']} samples added; reads both directories whole"
except Exception:
    fnote = ""
flr = rss_mb("fill-100k")
row("`fill` of a 10-minute hole across bench-100k's 100k series", fl, None, "≤ 2 s", fl is not None and fl <= 2, fnote + (f"; peak RSS {flr:.0f} MB" if flr else ""))

kernels = []
crit = os.path.join(out, "criterion")
for dirpath, dirs, files in sorted(os.walk(crit)):
    if os.path.basename(dirpath) != "new" or "estimates.json" not in files:
        continue
    est = json.load(open(os.path.join(dirpath, "estimates.json")))["median"]["point_estimate"]
    b = json.load(open(os.path.join(dirpath, "benchmark.json")))
    tp = b.get("throughput") or {}
    if not any(tp.values()):
        continue  # nothing measured (e.g. no histogram chunks in the input)
    if "Elements" in tp:
        fig = f"{est / tp['Elements']:.2f} ns/element ({tp['Elements'] / est * 1e3:.0f} M/s)"
    elif "Bytes" in tp:
        fig = f"{tp['Bytes'] / est:.2f} GB/s"
    else:
        fig = f"{est / 1e6:.3f} ms"
    kernels.append(f"| {b.get('group_id', '?')} | {b.get('function_id') or ''} | {fig} |")
ktext = ("\n\n| kernel group | function | median |\n|---|---|---|\n" + "\n".join(kernels)) if kernels else ""

walrep = text_of("wal-snappy-report.json")
walnote = ""
if walrep:
    try:
        w = json.loads(walrep)["wal"]
        walnote = f" {len(w['segments'])} segments, {sum(x['float_samples'] for x in w['segments']) / 1e6:.1f}M samples;"
    except Exception:
        pass

cores = os.cpu_count()
la = open("/proc/loadavg").read().split()[:3]
# Sections measured by other tools than this run, kept as they stand in the
# previous file with their own date and load: object storage (bench/s3.sh, a
# loopback S3 server) and the snappy decoders compared (bench/snappy-compare).
KEPT = ("\nObject storage (", "\nSnappy decoders (")
kept_sections = []
try:
    prev = open(md).read()
    for head in KEPT:
        i = prev.find(head)
        if i < 0:
            continue
        # Only the section itself: a kernels paragraph or another kept
        # section after it is not part of it.
        ends = [j for j in (prev.find(h, i + 1) for h in KEPT + ("\nKernels (criterion",)) if j >= 0]
        kept_sections.append(prev[i + 1:min(ends) if ends else len(prev)].rstrip("\n"))
except OSError:
    pass
s3_section = "".join("\n" + k + "\n" for k in kept_sections)

text = f"""# Benchmarks

Made by `bench/run.sh` (whole-process, page cache warm) on
{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; machine: {cores} cores, shared; load average
{' '.join(la)} at the end of the run. Versions: {ver('promtool --version')};
promsnap {ver('git rev-parse --short HEAD')}.
Data: real blocks and real WALs built by promtool and Prometheus 2.42 with
`make-bench-data.sh` (bench-100k: 100k series, 24M samples, 61 MB; bench-1m: 1M series,
24M samples, 205 MB, 141 MB index; wal-12m: 165 MB WAL; wal-snappy: a snappy WAL the real
server recorded;{walnote} scale-20: 20 hard-linked bench-1m blocks with their own ULIDs and ranges).

Every comparison alternates its commands run by run (A B A B …, order flipped every other
round) from one process (`bench/alt.py`); figures are medians of wall time, and each row
gives the spread (slowest − fastest run), the load average before → after its runs and,
where the load stretches wall times, the CPU time (user + system) of the same runs. A figure that
moved by more than its spread since the previous BENCHMARKS.md says so. Optimisations were
judged by instruction counts (`valgrind --tool=callgrind`), which hold on a loaded machine.

| what | promsnap | other tool | target | result | notes |
|---|---|---|---|---|---|
""" + "\n".join(rows) + """

""" + ("" if kernels else "Kernels were not run in this run (`BENCH_KERNELS=0`); run them with\n`cargo bench --bench NAME`.\n") + """
Kernels (criterion, short runs in the same session; `benches/`): `chunkenc` on bench-100k's
real chunks (random values: the decoder's hard case), `index` (CRC32C, series entries of a real
index), `wal` (on the first segment of wal-snappy, `PROMSNAP_BENCH_WAL`: framing and CRC,
reassembly of split records, the snappy decoder alone, then all of them and record decoding), `gofmt` (Go's `%g` of real sample values).""" + ktext + "\n" + s3_section
open(md, "w").write(text)
print(text)
