#!/usr/bin/env python3
"""Turns bench/run.sh's hyperfine JSON into BENCHMARKS.md: medians, ratios, targets."""
import datetime, json, os, subprocess, sys

out, md = sys.argv[1], sys.argv[2]


def med(name, i=0):
    p = os.path.join(out, name + ".json")
    if not os.path.exists(p):
        return None
    return json.load(open(p))["results"][i]["median"]


def rss(name):
    p = os.path.join(out, name + ".rss")
    try:
        return int(open(p).read().split()[-1]) / 1024
    except Exception:
        return None


def ver(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.splitlines()[0]
    except Exception:
        return "?"


rows = []


def row(what, ours, theirs, target, ok, note=""):
    f = lambda x: "–" if x is None else (f"{x:.3f} s" if isinstance(x, float) else str(x))  # noqa: E731
    rows.append(f"| {what} | {f(ours)} | {f(theirs)} | {target} | {'met' if ok else 'NOT met'} | {note} |")


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


v1, a1, ae1 = med("verify-1m", 0), med("verify-1m", 1), med("verify-1m", 2)
r = ratio(v1, a1)
row("full `verify` bench-1m vs `promtool tsdb analyze`", v1, a1, "≤ 0.1×", r is not None and r <= 0.1, f"ratio {r:.3f}; vs analyze --extended ({ae1:.3f} s): {ratio(v1, ae1):.3f}" if r else "")
rv, rp = rss("verify-1m-promsnap"), rss("verify-1m-promtool")
rr = ratio(rv, rp)
row("`verify` bench-1m peak RSS (MB)", rv and round(rv), rp and round(rp), "≤ 0.5×", rr is not None and rr <= 0.5, f"ratio {rr:.2f}" if rr else "")
v100, pdu = med("verify-100k", 0), med("verify-100k", 1)
r = ratio(v100, pdu)
row("full `verify` bench-100k vs pypdu decode", v100, pdu, "≤ 0.5×", r is not None and r <= 0.5, f"ratio {r:.3f}" if r else "")
d, pd = med("dump-100k", 0), med("dump-100k", 1)
ident = open(os.path.join(out, "dump-identical")).read().strip() if os.path.exists(os.path.join(out, "dump-identical")) else "?"
r = ratio(pd, d)
row("`dump` bench-100k vs `promtool tsdb dump`", d, pd, "≥ 10× faster, identical", r is not None and r >= 10 and ident == "identical", f"{r:.1f}× faster; output {ident}" if r else ident)
c, cp, cv = med("copy-1m", 0), med("copy-1m", 1), med("copy-1m", 2)
r = ratio(c, cp)
row("verified `copy` bench-1m vs `cp -r` + `sync`", c, cp, "≤ 2×", r is not None and r <= 2, f"ratio {r:.2f}; `verify` alone {cv:.3f} s = {ratio(cv, cp):.2f}× cp" if r and cv else "")
cq, cn, cp2 = med("copy-modes-1m", 0), med("copy-modes-1m", 1), med("copy-modes-1m", 2)
r = ratio(cq, cp2)
row("`copy --verify quick` bench-1m vs `cp -r` + `sync`", cq, cp2, "(≤ 2×)", r is not None and r <= 2, f"ratio {r:.2f}; checksums and structure, no sample decoding" if r else "")
r = ratio(cn, cp2)
row("`copy --verify none` bench-1m vs `cp -r` + `sync`", cn, cp2, "(≤ 2×)", r is not None and r <= 2, f"ratio {r:.2f}; copy, fsync, re-read and compare only" if r else "")
l, lv = med("link-1m", 0), med("link-1m", 1)
row("`copy --link --verify none` bench-1m", f"{l * 1000:.1f} ms" if l else None, None, "milliseconds", l is not None and l < 0.1, f"with the full verify: {lv:.3f} s" if lv else "")
w = med("wal-j1", 0)
wb = int(open(os.path.join(out, "wal-bytes")).read()) if os.path.exists(os.path.join(out, "wal-bytes")) else None
gbps = (wb / w / 1e9) if (w and wb) else None
row("`wal` wal-12m, one core", f"{gbps:.2f} GB/s" if gbps else None, None, "≥ 1 GB/s/core", gbps is not None and gbps >= 1, f"{wb/1e6:.0f} MB (WAL + chunks_head) in {w:.3f} s, whole process" if gbps else "no `wal` command")
j1, j2 = med("jobs-1m", 0), med("jobs-1m", 1)
r = ratio(j1, j2)
row("`verify --jobs 2` vs `--jobs 1` bench-1m (speed-up)", j2, j1, "≥ 1.7×", r is not None and r >= 1.7, f"{r:.2f}×" if r else "")
k1, k2 = med("jobs-100k", 0), med("jobs-100k", 1)
r = ratio(k1, k2)
row("`verify --jobs 2` vs `--jobs 1` bench-100k (speed-up)", k2, k1, "≥ 1.7×", r is not None and r >= 1.7, f"{r:.2f}×" if r else "")
def size(name):
    p = os.path.join(out, name)
    return int(open(p).read()) if os.path.exists(p) else None
b100, b1m = size("bytes-100k"), size("bytes-1m")
if v100 and v1 and b100 and b1m:
    per100, per1m = v100 / b100 * 1e9, v1 / b1m * 1e9
    r = per1m / per100
    row("`verify` time per byte, bench-1m vs bench-100k (scaling)", f"{per1m:.2f} ns/B", f"{per100:.2f} ns/B", "linear (≈ 1×)", r <= 1.5, f"ratio {r:.2f}: bench-1m has 10× the series and 4× the index bytes per sample")
ls, pl = med("ls", 0), med("ls", 1)
r = ratio(ls, pl)
row("`ls` bench-1m vs `promtool tsdb list`", ls, pl, "faster", r is not None and r < 1, f"ratio {r:.3f}" if r else "")
an, pan = med("analyze-1m", 0), med("analyze-1m", 1)
r = ratio(an, pan)
row("`analyze` bench-1m vs `promtool tsdb analyze`", an, pan, "≤ 0.2×", r is not None and r <= 0.2, f"ratio {r:.3f}" if r else "")
ra, rpa = rss("analyze-1m-promsnap"), rss("analyze-1m-promtool")
rr = ratio(ra, rpa)
row("`analyze` bench-1m peak RSS (MB)", ra and round(ra), rpa and round(rpa), "≤ 0.5×", rr is not None and rr <= 0.5, f"ratio {rr:.2f}" if rr else "")

# The block writer (writer_bench in run.sh).
rw, rwcp = med("rewrite-1m", 0), med("rewrite-1m", 1)
r = ratio(rw, rwcp)
rwr = rss("rewrite-1m")
row("rewrite bench-1m (decode every chunk, re-encode, write, fsync) vs `cp -r` + `sync`", rw, rwcp, "≤ 4×", r is not None and r <= 4, (f"ratio {r:.2f}; peak RSS {rwr:.0f} MB (1M series); `examples/rewrite_block`" if r and rwr else ""))
fl = med("fill-100k", 0)
try:
    fr = json.load(open(os.path.join(out, "fill-100k.report.json")))
    fnote = f"{fr['series_added']} series, {fr['samples_added']} samples added; reads both directories whole"
except Exception:
    fnote = ""
flr = rss("fill-100k")
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

cores = os.cpu_count()
load = open("/proc/loadavg").read().split()[:3]
text = f"""# Benchmarks

Made by `bench/run.sh` (whole-process, hyperfine medians, page cache warm) on
{datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M UTC')}; machine: {cores} cores, load average
{' '.join(load)} at the end of the run. Versions: {ver('promtool --version')};
{ver('hyperfine --version')}; promsnap {ver('git rev-parse --short HEAD')}.
Data: real blocks and a real WAL built by promtool 2.42 with
`make-bench-data.sh` (bench-100k: 100k series, 24M samples, 61 MB; bench-1m: 1M series,
24M samples, 205 MB, 141 MB index; wal-12m: 165 MB WAL). Times are medians of the runs.

| what | promsnap | other tool | target | result | notes |
|---|---|---|---|---|---|
""" + "\n".join(rows) + """

Kernels (criterion, short runs in the same session; `benches/`): `chunkenc` on bench-100k's
real chunks (random values: the decoder's hard case), `index` (CRC32C, series entries of a real
index), `wal` (fragment reassembly, CRC, decompression, record decoding of the real WAL in testdata
or `PROMSNAP_BENCH_WAL`).""" + ktext + "\n"
open(md, "w").write(text)
print(text)
