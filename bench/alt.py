#!/usr/bin/env python3
"""Times commands in alternation (A B C A B C ...) from this one process, so
that a change in the machine's load hits every command alike, and writes
hyperfine-shaped JSON (results[i].median/mean/min/max/times) plus what the
harness needs to stay honest: each run's peak RSS and CPU time, and the load
average before and after.

usage: alt.py NAME OUT_DIR [--runs N] [--warmup N] [--prepare CMD]
              [--shell] [--cpu CPU] -- CMD [-- CMD ...]
Each CMD is one argument (a shell string with --shell, else split on spaces).
"""
import json
import os
import shlex
import statistics
import subprocess
import sys
import time


def parse(argv):
    opts = {"runs": 5, "warmup": 1, "prepare": None, "shell": False}
    name, out = argv[0], argv[1]
    rest = argv[2:]
    cmds = []
    i = 0
    while i < len(rest):
        a = rest[i]
        if a == "--":
            cmds.append(rest[i + 1])
            i += 2
            continue
        if a in ("--runs", "--warmup"):
            opts[a[2:]] = int(rest[i + 1])
            i += 2
        elif a == "--prepare":
            opts["prepare"] = rest[i + 1]
            i += 2
        elif a == "--shell":
            opts["shell"] = True
            i += 1
        else:
            sys.exit(f"alt.py: unknown option {a}")
    return name, out, opts, cmds


def run_once(cmd, shell):
    """Wall time (s), peak RSS (KB), exit code and CPU time (user + system, s)
    of one run; the command's output is discarded."""
    args = ["/bin/sh", "-c", cmd] if shell else shlex.split(cmd)
    # /dev/null opened write-only, as a shell's `> /dev/null` does (promsnap
    # takes a read-write /dev/null on fd 1 for a closed stdout).
    with open(os.devnull, "wb") as null:
        t0 = time.perf_counter()
        p = subprocess.Popen(args, stdout=null, stderr=null)
        _, status, ru = os.wait4(p.pid, 0)
        dt = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return dt, ru.ru_maxrss, p.returncode, ru.ru_utime + ru.ru_stime


def main():
    name, out, o, cmds = parse(sys.argv[1:])
    if not cmds:
        sys.exit("alt.py: no command")
    load_before = os.getloadavg()
    times = [[] for _ in cmds]
    rss = [[] for _ in cmds]
    codes = [set() for _ in cmds]
    cpu = [[] for _ in cmds]
    for r in range(o["warmup"] + o["runs"]):
        # Alternate, and flip the order every other round (A B, B A, ...) so
        # that neither command always runs right after the other.
        order = list(range(len(cmds)))
        if r % 2 == 1:
            order.reverse()
        for i in order:
            if o["prepare"]:
                subprocess.run(["/bin/sh", "-c", o["prepare"]], check=False,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            dt, kb, code, c = run_once(cmds[i], o["shell"])
            if r >= o["warmup"]:
                cpu[i].append(c)
                times[i].append(dt)
                rss[i].append(kb)
                codes[i].add(code)
    load_after = os.getloadavg()
    results = []
    for i, c in enumerate(cmds):
        t = times[i]
        results.append({
            "command": c,
            "median": statistics.median(t),
            "mean": statistics.mean(t),
            "min": min(t),
            "max": max(t),
            "times": t,
            "max_rss_kb": rss[i],
            # CPU time (user + system) of the process tree: what the
            # machine's load does not stretch.
            "cpu_median": statistics.median(cpu[i]),
            "cpu_times": cpu[i],
            "exit_codes": sorted(codes[i]),
        })
    doc = {"results": results, "load_before": load_before, "load_after": load_after,
           "alternating": True}
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(doc, f, indent=1)
    for r in results:
        print(f"{name}: {r['median']:.3f} s [{r['min']:.3f}..{r['max']:.3f}] cpu {r['cpu_median']:.3f} s  {r['command']}")


if __name__ == "__main__":
    main()
