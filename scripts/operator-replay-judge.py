#!/usr/bin/env python3
"""Judges the `coverage` answers of one operator-replay scenario (scripts/operator-replay.sh).

    scripts/operator-replay-judge.py DIR/SCENARIO [ANSWERS]

Reads DIR/SCENARIO/gaps.json (the real loss: `promsnap gaps SLAVE --against MASTER --json`),
cross-checks it with the two `promtool tsdb dump` files, and judges every
DIR/SCENARIO/ANSWERS/*.json (default answers/) against it by the done criteria of
docs/LOSS-WINDOWS.md (the same four as tests/lossruns.rs, plus the verdict's wording); writes
DIR/SCENARIO/judged-ANSWERS.txt.
"""
import collections
import datetime
import json
import os
import re
import sys

SCRAPE = 1000  # ms: the scenario's scrape interval (its times file's scrape_ms; default 1 s)


def ms(rfc):
    return int(datetime.datetime.fromisoformat(rfc.replace("Z", "+00:00")).timestamp() * 1000)


def sec(x):
    return f"{x / 1e3:+.1f}s"


def span_len(real, a, b, i=SCRAPE):
    if b < a:
        return 0
    return b - a + i if real else ((b - a) // i + 1) * i


def union_len(ws, real):
    v = sorted((w["from"], w["to"]) for w in ws)
    total, cur = 0, None
    for a, b in v:
        if cur and a <= cur[1]:
            cur = (cur[0], max(cur[1], b))
        else:
            if cur:
                total += span_len(real, *cur)
            cur = (a, b)
    return total + (span_len(real, *cur) if cur else 0)


def dump_times(path, drop=None):
    """series -> sorted sample times (ms) from a `promtool tsdb dump` file; with `drop`
    (`name="value"`), that label is taken out of every series (an external label)."""
    out = collections.defaultdict(list)
    line_re = re.compile(r"^(.*\}) (\S+) (\d+)$")
    with open(path) as f:
        for line in f:
            m = line_re.match(line.strip())
            if m:
                s = m.group(1)
                if drop:
                    s = s.replace(", " + drop, "").replace(drop + ", ", "")
                out[s].append(int(m.group(3)))
    return out


def crosscheck(d, c_snap, stop):
    """The loss by promtool: per series, master samples after C_snap the slave lacks."""
    mp, sp = os.path.join(d, "master.dump"), os.path.join(d, "slave.dump")
    if not (os.path.exists(mp) and os.path.exists(sp)):
        return None
    # The Debian config's external label, added by remote write to the slave's series only.
    yml = os.path.join(d, "master.yml")
    drop = ('monitor="example"' if os.path.exists(yml) and "monitor: 'example'" in open(yml).read()
            else None)
    master, slave = dump_times(mp), dump_times(sp, drop)
    lost = collections.Counter()
    series = 0
    first = last = None
    for s, ts in master.items():
        have = set(slave.get(s, ()))
        miss = [t for t in ts if t >= c_snap and t <= stop and t not in have]
        if miss:
            series += 1
            for t in miss:
                lost[t] += 1
            first = min(miss) if first is None else min(first, min(miss))
            last = max(miss) if last is None else max(last, max(miss))
    return {"series": series, "samples": sum(lost.values()), "first": first, "last": last}


def windows(cov):
    out = []
    for w in cov.get("loss_windows") or []:
        if w.get("from") is None or w.get("to") is None:
            continue
        out.append({
            "cause": w.get("cause"), "certainty": w.get("certainty"), "from": w["from"],
            "to": w["to"], "to_earliest": w.get("to_earliest", w["to"]),
            "series": w.get("series"),
        })
    return out


def judge(cov, real, gaps_to):
    c = cov.get("coverage_end") or 0
    pred = windows(cov)
    fails = []
    long_ = lambda w, realw: span_len(realw, w["from"], w["to"]) > 2 * SCRAPE  # noqa: E731

    def matches(p, r):
        return (abs(p["from"] - r["from"]) <= SCRAPE and r["to"] >= p["to_earliest"] - SCRAPE
                and r["to"] <= p["to"] + SCRAPE)

    def covers(r, p):
        return r["from"] <= p["from"] + SCRAPE and r["to"] >= p["to_earliest"] - SCRAPE

    for r in [r for r in real if long_(r, True)]:
        if not any(matches(p, r) for p in pred):
            fails.append(f"real loss {sec(r['from'] - c)}..{sec(r['to'] - c)} not in a predicted "
                         "window (start +-1 s, end in its range +-1 s)")
    for p in [p for p in pred if long_(p, False) and p["certainty"] != "risk"]:
        if not any(matches(p, r) or covers(r, p) for r in real if long_(r, True)):
            fails.append(f"predicted {p['cause']} ({p['certainty']}) {sec(p['from'] - c)}.."
                         f"{sec(p['to'] - c)} (end from {sec(p['to_earliest'] - c)}) did not happen")
    if not any(long_(r, True) for r in real):
        ps = union_len([p for p in pred if p["certainty"] != "risk"], False)
        rs = union_len(real, True)
        if ps > rs + 10_000:
            fails.append(f"boundary sliver predicted {ps / 1e3:.1f} s long, real {rs / 1e3:.1f} s")
    for r in [r for r in real if r["from"] < gaps_to - 2 * SCRAPE]:
        if not any(p["from"] - SCRAPE <= r["to"] and p["to"] + SCRAPE >= r["from"] for p in pred):
            fails.append(f"real loss {sec(r['from'] - c)}..{sec(r['to'] - c)} outside every "
                         "predicted window: a lost sample called safe")
    # The understatement as the issue names it: a stretch of a real loss longer than two scrape
    # intervals that no predicted window or bound holds (each widened by one scrape interval),
    # even where another part of that loss overlaps a window (criterion 4 checks only overlap).
    for r in [r for r in real if r["from"] < gaps_to - 2 * SCRAPE]:
        end = min(r["to"], gaps_to)
        held = sorted((max(p["from"] - SCRAPE, r["from"]), min(p["to"] + SCRAPE, end))
                      for p in pred)
        held = [(a, b) for a, b in held if a <= b]
        gaps_, cur = [], r["from"]
        for a, b in held:
            if a > cur:
                gaps_.append((cur, a))
            cur = max(cur, b)
        if cur < end:
            gaps_.append((cur, end))
        for a, b in gaps_:
            if b - a > 2 * SCRAPE:
                fails.append(f"UNDERSTATED: real loss {sec(a - c)}..{sec(b - c)} "
                             f"({(b - a) / 1e3:.1f} s) outside every predicted window and bound")
    verdict = cov.get("verdict") or ""
    # "No real loss beyond the boundary sliver" names the sliver; a bare "no loss" with samples
    # lost is the understatement the issue names as the worst answer.
    if real and re.search(r"\bno (real )?loss\b(?! beyond)", verdict, re.I):
        fails.append("verdict says no loss while samples were lost")
    return fails, pred


# Each answer asked with one input taken away, its fuller answer, and the words by which its
# assumptions must name what it was not given (round five: never more optimistic than the fuller
# answer, and it says what it assumed).
REDUCED = {
    "op-nowal": ("op", r"no master WAL given"),
    "op-no-rwstart": ("op", r"no remote write start given"),
    "op-nologs": ("op", r"no master's log given|no slave's log given"),
    "op-no-masterlog": ("op", r"no master's log given"),
    "op-norestart": ("op", r"no master restart"),
}


def covered(ws, a, b):
    """Whether the union of windows ws (each widened by one scrape interval) holds [a, b]."""
    cur = a
    for w in sorted(ws, key=lambda w: w["from"]):
        if w["from"] - SCRAPE <= cur:
            cur = max(cur, w["to"] + SCRAPE)
    return cur >= b


def monotone(answers):
    """The reduced answers against their fuller ones: no window of the fuller answer (any
    certainty) left uncovered by the reduced one, no verdict of no loss where the fuller one
    has an expected window, and the missing input named in the assumptions."""
    out = []
    for red, (full, words) in REDUCED.items():
        pr, pf = os.path.join(answers, red + ".json"), os.path.join(answers, full + ".json")
        if not (os.path.exists(pr) and os.path.exists(pf)):
            continue
        try:
            r, f = json.load(open(pr)), json.load(open(pf))
        except (json.JSONDecodeError, OSError):
            out.append(f"  monotone {red} vs {full}: unreadable")
            continue
        if "error" in r or "error" in f:
            out.append(f"  monotone {red} vs {full}: an error document")
            continue
        wr, wf = windows(r), windows(f)
        bad = [w for w in wf if span_len(False, w["from"], w["to"]) > 2 * SCRAPE
               and not covered(wr, w["from"], w["to_earliest"])]
        weaker = [w for w in wf if w["certainty"] == "expected" and not any(
            x["certainty"] == "expected" and x["from"] - SCRAPE <= w["from"]
            and x["to"] + SCRAPE >= w["to_earliest"] for x in wr)]
        notes = []
        for w in bad:
            notes.append(f"MORE OPTIMISTIC: {full}'s {w['cause']} {w['certainty']} window "
                         f"[{w['from']}, {w['to_earliest']}..{w['to']}] not held by {red}")
        c = f.get("coverage_end") or 0
        for w in weaker:
            if w not in bad:
                notes.append(f"weaker: {full}'s {w['cause']} expected [{sec(w['from'] - c)}, "
                             f"{sec(w['to'] - c)}] only as a risk/bound in {red}")
        if any(w["certainty"] == "expected" for w in wf) and re.search(
                r"\bno (real )?loss\b(?! beyond)", r.get("verdict") or "", re.I):
            notes.append(f"MORE OPTIMISTIC: {red}'s verdict says no loss")
        texts = [a if isinstance(a, str) else json.dumps(a) for a in (r.get("assumptions") or [])]
        named = [t for t in texts if re.search(words, t, re.I)]
        if not named:
            notes.append(f"ASSUMPTION NOT NAMED: no assumption of {red} matches /{words}/")
        ru, fu = union_len(wr, False), union_len(wf, False)
        out.append(f"  monotone {red} vs {full}: {'FAIL' if any(n.startswith(('MORE', 'ASSUMPTION')) for n in notes) else 'OK'}"
                   f" (windows {ru / 1e3:.0f} s vs {fu / 1e3:.0f} s)")
        out += [f"      - {n}" for n in notes]
        if named:
            out.append(f"      assumption: {named[0][:240]}")
    return out


def main():
    d = sys.argv[1]
    times = dict(line.strip().split("=", 1) for line in open(os.path.join(d, "times")) if "=" in line)
    global SCRAPE
    # The Debian shape scrapes every 5 s and 15 s: judged at 15 s, as tests/lossruns.rs does.
    SCRAPE = int(times.get("scrape_ms", SCRAPE))
    gaps = json.load(open(os.path.join(d, "gaps.json")))
    stop = ms(times["master_stop"])
    real_all = [{"from": m["from"], "to": m["to"], "series": m.get("series"),
                 "samples": m.get("samples")} for m in gaps["missing"]["merged"]]
    # The master's last scrapes at its stop are the measurement's edge (criterion 4's exception).
    real = [r for r in real_all if r["from"] < stop - 2 * SCRAPE]
    lines = [f"scenario {os.path.basename(d)}"]
    for k in ("rw_start", "snapshot", "master_restart", "master_restart_ready", "slave_up",
              "slave_stop", "slave_up2", "master_stop"):
        if k not in times:
            continue
        lines.append(f"  {k}: {times.get(k)}")
    tag = sys.argv[2] if len(sys.argv) > 2 else "answers"
    answers = os.path.join(d, tag)
    c_snap = None
    for f in sorted(os.listdir(answers)):
        if f.endswith(".json") and os.path.getsize(os.path.join(answers, f)):
            c_snap = json.load(open(os.path.join(answers, f))).get("coverage_end")
            if c_snap:
                break
    c = c_snap or 0
    lines.append(f"  C_snap: {c}; slave up {sec(ms(times['slave_up']) - c)}; "
                 f"judged at a {SCRAPE / 1e3:g} s scrape interval")
    lines.append("  real loss (gaps --against): " + "; ".join(
        f"[{sec(r['from'] - c)}, {sec(r['to'] - c)}] {r['series']} series {r['samples']} samples"
        for r in real_all) if real_all else "  real loss: none")
    cc = crosscheck(d, c, stop) if c else None
    if cc:
        lines.append(f"  promtool cross-check: {cc['series']} series, {cc['samples']} samples, "
                     f"{sec((cc['first'] or c) - c)}..{sec((cc['last'] or c) - c)}")
    for f in sorted(os.listdir(answers)):
        if not f.endswith(".json"):
            continue
        name = f[:-5]
        text = open(os.path.join(answers, name + ".txt")).read()
        exit_line = text.strip().splitlines()[-1] if text.strip() else "?"
        try:
            cov = json.load(open(os.path.join(answers, f)))
            if "error" in cov:  # refused (exit 2): the error document, not an answer
                raise ValueError(cov["error"])
        except (json.JSONDecodeError, OSError, ValueError):
            err = " ".join(text.strip().splitlines()[:-1])[:300]
            lines.append(f"  {name}: no answer ({exit_line}): {err}")
            continue
        fails, pred = judge(cov, real, stop)
        if cov.get("verdict") is None and exit_line != "exit 0":
            # An error in place of an answer (an empty snapshot: no block, no coverage end) is
            # no answer, whatever the windows.
            err = [x for x in text.strip().splitlines() if x.startswith("ERROR")]
            fails.append(f"no verdict ({exit_line}): {' '.join(err)[:200]}")
        ws = "; ".join(f"{p['cause']} {p['certainty']} [{sec(p['from'] - c)}, "
                       f"{sec(p['to_earliest'] - c)}..{sec(p['to'] - c)}]" for p in pred)
        lines.append(f"  {name}: {'PASS' if not fails else 'FAIL'} ({exit_line}); {ws or 'no window'}")
        for x in fails:
            lines.append(f"      - {x}")
        lines.append(f"      verdict: {cov.get('verdict')}")
    lines += monotone(answers)
    out = "\n".join(lines) + "\n"
    open(os.path.join(d, f"judged-{tag}.txt"), "w").write(out)
    print(out)


if __name__ == "__main__":
    main()
