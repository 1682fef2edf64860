#!/usr/bin/env python3
"""Shortens lines over 100 columns in Rust sources without changing what they mean.

    python3 scripts/wrap-long-lines.py FILE.rs...   # rewrite the files, then run rustfmt
    python3 scripts/wrap-long-lines.py --count DIR  # list the lines over 100 columns

rustfmt leaves a line it cannot fit alone, with the code around it. This
script splits the string literals of such lines at spaces with `\\`-newline
continuations (the value stays byte for byte the same: it checks so), aligned
one column after the opening quote, and rewraps comments by words (not
tables, diagrams or code blocks). It runs rustfmt on the files and aligns the
literals again after it.
"""
import os
import re
import subprocess
import sys

LIMIT = 100


def scan(lines):
    """Per line: flags per char (0 code, 1 normal string, 2 raw string or char
    literal, 3 comment) and, for string chars, the column of the quote that
    opened the string on this line (None if it opened on an earlier line)."""
    out = []
    state = None
    for line in lines:
        flags = [0] * len(line)
        opens = [None] * len(line)
        i, open_col = 0, None
        while i < len(line):
            c = line[i]
            if state is None:
                if line.startswith('//', i):
                    for j in range(i, len(line)):
                        flags[j] = 3
                    break
                m = re.match(r'b?r(#*)"', line[i:])
                if m and (i == 0 or not (line[i - 1].isalnum() or line[i - 1] == '_')):
                    state = ('r', m.group(1))
                    for j in range(i, i + m.end()):
                        flags[j] = 2
                    i += m.end()
                    continue
                if c == '"':
                    state, open_col = ('s',), i
                    flags[i], opens[i] = 1, i
                    i += 1
                    continue
                if c == "'":
                    m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\x..|\\.|[^\\'])'", line[i:])
                    if m:
                        for j in range(i, i + m.end()):
                            flags[j] = 2
                        i += m.end()
                        continue
                i += 1
                continue
            if state[0] == 'r':
                end = '"' + state[1]
                flags[i] = 2
                if line.startswith(end, i):
                    for j in range(i, i + len(end)):
                        flags[j] = 2
                    i += len(end)
                    state = None
                    continue
                i += 1
                continue
            flags[i], opens[i] = 1, open_col
            if c == '\\':
                if i + 1 < len(line):
                    flags[i + 1], opens[i + 1] = 1, open_col
                i += 2
                continue
            if c == '"':
                state, open_col = None, None
            i += 1
        out.append((flags, opens))
    return out


def continues(line, flags):
    """The line ends inside a normal string with a `\\` continuation."""
    if not line.endswith('\\') or not flags or flags[-1] != 1:
        return False
    k = len(line) - len(line.rstrip('\\'))
    return k % 2 == 1


def split_line(line, flags, opens, limit=LIMIT):
    """Splits a line inside its normal string literals at spaces (never
    inside `{...}`); None if there is no place to split."""
    pieces, start, prefix_len = [], 0, 0
    lead = len(line) - len(line.lstrip(' '))
    while prefix_len + len(line) - start > limit:
        best, best_nl, depth = None, None, 0
        for oi in range(start, len(line)):
            if flags[oi] != 1:
                depth = 0
                continue
            ch = line[oi]
            if ch == '{':
                depth += 1
            elif ch == '}':
                depth = max(0, depth - 1)
            if not (depth == 0 and oi + 1 < len(line) and flags[oi + 1] == 1
                    and line[oi + 1] not in ' \t"\\'
                    and prefix_len + (oi + 1 - start) + 1 <= limit and oi - start > 20):
                continue
            if ch == ' ' and line[oi - 1] != '\\':
                best = oi
            elif ch == 'n' and line[oi - 1] == '\\' and line[oi - 2] != '\\':
                best = best_nl = oi  # after an escaped newline
        if best is None:
            break
        # An escaped newline is the better place to break, if not much earlier.
        if best_nl is not None and best_nl - start >= (best - start) * 3 // 5:
            best = best_nl
        head = line[:best + 1] if start == 0 else ' ' * prefix_len + line[start:best + 1]
        pieces.append(head + '\\')
        oc = opens[best]
        if oc is None:
            prefix_len = lead
        elif oc >= start:
            prefix_len = (prefix_len + (oc - start) + 1) if start else oc + 1
        start = best + 1
    if not pieces:
        return None
    pieces.append(' ' * prefix_len + line[start:])
    return pieces


def wrap_comment(line):
    m = re.match(r'^(\s*(?:///|//!|//) ?)(\s*)(.*)$', line)
    prefix, indent, text = m.groups()
    if text.startswith('|') or not text.strip():
        return None
    prefix += indent
    out, cur = [], ''
    for w in text.split(' '):
        cand = w if cur == '' else cur + ' ' + w
        if len(prefix) + len(cand) > LIMIT and cur:
            out.append(prefix + cur)
            cur = w
        else:
            cur = cand
    out.append(prefix + cur)
    if len(out) == 1 or any(len(x) > LIMIT for x in out[:-1]):
        return None
    return [x.rstrip() for x in out]


def literal_key(joined, flags, col):
    """The source of the string literal that opens at `col` of a joined line."""
    end = col + 1
    while end < len(joined) and flags[end] == 1 and not (joined[end] == '"' and end > col and
                                                          (end - col) > 0 and _closes(joined, col, end)):
        end += 1
    return joined[col:end + 1]


def _closes(s, col, end):
    k, i = 0, end - 1
    while i > col and s[i] == '\\':
        k += 1
        i -= 1
    return k % 2 == 0


def reflow(lines, keys, first_pass):
    """One pass: returns the new lines. On the first pass a statement whose
    lines (one, or several joined by continuations) hold one over LIMIT is
    split, and its literals' keys remembered; later passes re-split those
    literals only (rustfmt may have moved their first line)."""
    sc = scan(lines)
    res, i, fence = [], 0, False
    while i < len(lines):
        line = lines[i]
        flags, opens = sc[i]
        st = line.strip()
        if re.match(r'(///|//!)\s*```', st):
            fence = not fence
        # the run of lines joined by string continuations
        j = i
        while j < len(lines) - 1 and continues(lines[j], sc[j][0]):
            j += 1
        run = lines[i:j + 1]
        if j > i or 1 in flags:
            joined = run[0][:-1] if j > i else run[0]
            for k, l in enumerate(run[1:], 1):
                part = l.lstrip(' \t')
                joined += part[:-1] if k < len(run) - 1 else part
            jflags, jopens = scan([joined])[0] if not (opens and opens[0] is None and flags[0] == 1) \
                else (None, None)
            if jflags is not None:
                cols = [c for c in range(len(joined)) if jflags[c] == 1 and jopens[c] == c]
                lits = [literal_key(joined, jflags, c) for c in cols]
                # A literal whose lines start with spaces after `\n` (YAML, an
                # indented listing) keeps its own line structure: not reflowed.
                indented = '\\n ' in joined
                long_run = any(len(l) > LIMIT for l in run) and not indented
                mine = any(k in keys for k in lits)
                if (first_pass and long_run) or (not first_pass and mine):
                    # First pass: room for rustfmt to indent the statement by a level.
                    limit = LIMIT - 4 if first_pass else LIMIT
                    new = split_line(joined, jflags, jopens, limit) if len(joined) > limit \
                        else [joined]
                    if new and (first_pass or new != run):
                        if first_pass:
                            keys.update(lits)
                        res.extend(new)
                        i = j + 1
                        continue
        if first_pass and len(line) > LIMIT and j == i and flags and not fence:
            first = len(line) - len(line.lstrip())
            if first < len(flags) and flags[first] == 3:
                new = wrap_comment(line)
                if new:
                    res.extend(new)
                    i += 1
                    continue
        res.extend(run)
        i = j + 1
    return res


def values(text):
    """The values of the file's normal string literals, continuations removed:
    equal before and after when no literal changed."""
    vals, i, n = [], 0, len(text)
    while i < n:
        if text.startswith('//', i):
            j = text.find('\n', i)
            i = n if j < 0 else j
            continue
        m = re.match(r'b?r(#*)"', text[i:i + 40])
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == '_')):
            end = text.find('"' + m.group(1), i + m.end())
            i = n if end < 0 else end + 1 + len(m.group(1))
            continue
        if text[i] == "'":
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\x..|\\.|[^\\'])'", text[i:i + 12])
            if m:
                i += m.end()
                continue
        if text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == '\\' else 1
            vals.append(re.sub(r'\\\n[ \t\n\r]*', '', text[i + 1:j]))
            i = j + 1
            continue
        i += 1
    return vals


def fix(paths):
    keys = {}
    before = {p: open(p).read() for p in paths}
    for p in paths:
        k = set()
        lines = before[p].split('\n')
        open(p, 'w').write('\n'.join(reflow(lines, k, True)))
        keys[p] = k
    for _ in range(3):
        subprocess.run(['rustfmt', '--edition', '2024'] + paths, check=False)
        changed = False
        for p in paths:
            text = open(p).read()
            new = '\n'.join(reflow(text.split('\n'), keys[p], False))
            if new != text:
                open(p, 'w').write(new)
                changed = True
        if not changed:
            break
    for p in paths:
        after = open(p).read()
        if values(before[p]) != values(after):
            open(p, 'w').write(before[p])
            print(f'{p}: a value would change; left as it was', file=sys.stderr)


def count(root):
    n = 0
    for d, _, files in os.walk(root):
        for f in sorted(files):
            if f.endswith('.rs'):
                p = os.path.join(d, f)
                for i, l in enumerate(open(p).read().split('\n'), 1):
                    if len(l) > LIMIT:
                        n += 1
                        print(f'{p}:{i}: {len(l)}')
    print(n)


if __name__ == '__main__':
    if sys.argv[1:2] == ['--count']:
        count(sys.argv[2] if len(sys.argv) > 2 else 'src')
    else:
        fix(sys.argv[1:])
