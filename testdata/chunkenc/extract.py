#!/usr/bin/env python3
"""Re-creates the files of this directory from the shared fixtures.

usage: extract.py FIXTURES_DIR GO_ORACLE_OUT API_RAW_SAMPLES_JSON_GZ
(see README.md). Only the standard library is used.
"""
import gzip, json, struct, sys

FIX, ORACLE, API = sys.argv[1:4]
S = "prom-2.42-nativehist/data/01M891T624Z2K2QSYVTNJGBBMK/chunks/000001"
L2 = "prom-2.42-nativehist/data/01M8929W2SRP6QC3XJ7D616AK2/chunks/000001"
BF = "backfill-small/blocks/01M88Z547SWC2057Y39068VCCB/chunks/000001"
LIVE = "prom-2.42-live/data/01M88ZEAF15198PYN7F74NS04J/chunks/000001"
# (file, offset of the chunk's data, why)
PICKS = [
    (S, 20258, "Histogram: empty histograms (count 0, no spans), 34 samples"),
    (S, 20998, "Histogram: gauge header, zero bucket + positive buckets"),
    (S, 26368, "Histogram: negative buckets only, schema 1"),
    (S, 28303, "Histogram: schema -4, negative and positive buckets"),
    (L2, 199840, "Histogram: counter-reset header"),
    (S, 1085, "FloatHistogram: one stale marker (sum = StaleNaN)"),
    (S, 541, "FloatHistogram: gauge header, negative buckets, 7 samples"),
    (S, 21350, "FloatHistogram: negative and positive buckets, 34 samples"),
    (S, 27781, "FloatHistogram: schema -2"),
    (L2, 120397, "XOR: contains a float stale marker"),
    (BF, None, "XOR: first chunk written by promtool create-blocks-from"),
    (LIVE, None, "XOR: first chunk of a live-server block"),
    (S, None, "XOR: first XOR chunk of the short native-histogram block"),
]

def uvarint(b, i):
    x = s = 0
    while True:
        c = b[i]; i += 1
        x |= (c & 0x7F) << s; s += 7
        if c < 0x80:
            return x, i

def records(b):
    i = 8
    while i < len(b):
        start = i
        n, i = uvarint(b, i)
        if n == 0:
            return
        enc = b[i]
        yield start, i + 1, enc, i + 1 + n + 4
        i = i + 1 + n + 4

# Go oracle lines per (file, data offset).
golden = {}
cur = None
for line in open(ORACLE):
    line = line.rstrip("\n")
    if line.startswith("file "):
        f = line[5:]
    elif line.startswith("chunk "):
        cur = (f, int(line.split()[1])); golden[cur] = []
    else:
        golden[cur].append(line)

out = bytearray()
readme = []
gold_out = []
picked = []
for f, off, why in PICKS:
    b = open(f"{FIX}/{f}", "rb").read()
    for start, data, enc, end in records(b):
        if (off is None and enc == 1) or data == off:
            break
    else:
        sys.exit(f"not found: {f} {off}")
    readme.append(f"| {len(out)} | {end - start} | `{f}` | {start} | {enc} | {why} |")
    picked.append((f, data))
    lines = golden[(f, data)]
    # Keep the first two and the last two samples' lines (histograms print
    # h and f lines per sample).
    per = 2 if enc == 2 else 1
    keep = lines if len(lines) <= 4 * per else lines[: 2 * per] + lines[-2 * per :]
    idx = list(range(len(lines)))
    keep_idx = idx if len(lines) <= 4 * per else idx[: 2 * per] + idx[-2 * per :]
    gold_out.append(f"chunk {len(out) + (data - start)} {enc} {len(lines) // per}")
    for k in keep_idx:
        gold_out.append(f"{k // per} {lines[k]}")
    out += b[start:end]

open("chunks.bin", "wb").write(out)
open("go_golden.txt", "w").write("\n".join(gold_out) + "\n")
print("\n".join(readme))  # rows of the README table

# API samples whose (t, count, sum) match a sample of the picked histogram chunks.
want = {}
for key in picked:
    for line in golden[key]:
        if line.startswith("f "):
            t = int(line.split()[1])
            head = line.split(" {count:", 1)[1].split(",", 2)
            count, total = float(head[0]), float(head[1].split("sum:")[1].rstrip("}"))
            want.setdefault(t, set()).add((count, total))
api = json.load(gzip.open(API))
rows = []
for name, series in sorted(api["results"].items()):
    for s in series:
        for ts, h in s.get("histograms", []):
            t = round(float(ts) * 1000)
            if (float(h["count"]), float(h["sum"])) in want.get(t, ()):
                rows.append({"t": t, "count": h["count"], "sum": h["sum"], "buckets": h.get("buckets", [])})
rows.sort(key=lambda r: (r["t"], r["count"], r["sum"]))
body = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)
with open("api_samples.jsonl.gz", "wb") as fo:
    # mtime 0 and no name: byte-identical re-runs (like gzip -9 -n).
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=fo, mtime=0) as gz:
        gz.write(body.encode())
print(len(out), "bytes of chunks;", len(rows), "API samples")
