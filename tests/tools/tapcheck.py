#!/usr/bin/env python3
"""The test scripts' own check: `check DESC CMD1 && CMD2` checks CMD1
only (the shell runs check, then CMD2 outside it), so a second condition
written that way can never fail a test; `check DESC CMD | grep ...` and
`check DESC CMD >FILE` send check's own TAP line into grep or the file,
so the result is never seen.  Prints FILE:LINE of each such check among
the files given; exits 1 when there is one.  A check that needs more
than one command says so with eval '...' (tests/lib/tap.sh); a
redirection of stderr alone (2>) is allowed.
"""
import re
import sys


def statement(text, i):
    """The end of the shell statement from i, and the offsets of its
    top-level && and || (outside quotes and $(...))."""
    ops, stack, n = [], [], len(text)	# stack: '"' and '(' open
    while i < n:
        c, top = text[i], stack[-1] if stack else None
        if c == '\\':
            i += 2
            continue
        if top == '"':
            if c == '"':
                stack.pop()
            elif text.startswith('$(', i):
                stack.append('(')
                i += 1
        elif c == "'":
            i = text.index("'", i + 1)
        elif c == '"':
            stack.append('"')
        elif c == '(':
            stack.append('(')
        elif c == ')' and top == '(':
            stack.pop()
        elif top is None:
            if text.startswith('&&', i) or text.startswith('||', i):
                ops.append((i, text[i:i + 2]))
                i += 2
                while i < n and text[i] in ' \t\n':
                    i += 1
                continue
            if c == '|' or (c == '>' and text[i - 1] != '2'):
                ops.append((i, c))
            if c in '\n;' or (c == '#' and text[i - 1] in ' \t'):
                return i, ops
        i += 1
    return n, ops


def main(paths):
    bad = 0
    for path in paths:
        text = open(path).read()
        for m in re.finditer(r'(?m)^[ \t]*check ', text):
            end, ops = statement(text, m.end())
            cut = min([o for o, k in ops if k == '||'], default=end)
            stmt = text[m.start():end]
            if re.match(r'\s*check ("(?:[^"\\]|\\.)*"|\S+)\s*\\?\s*'
                        r'(eval|sh -c) ', stmt):
                continue
            what = sorted({k for o, k in ops if o < cut and k != '||'})
            if what:
                bad += 1
                print('%s:%d: check with %s outside it' %
                      (path, text.count('\n', 0, m.start()) + 1,
                       ' '.join(what)))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
