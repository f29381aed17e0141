#!/usr/bin/env python3
"""Prints every entry of an RPM's signature and main headers, one line
each: "sig|main TAG TYPE COUNT VALUE" (VALUE as JSON; binary as hex),
then the payload's size.  Read from the bytes themselves, not through
librpm, for tests that compare two packages entry by entry
(tests/e2e/rpm_header.sh).

usage: rpmhdr.py PACKAGE"""
import json
import struct
import sys

SIZES = {1: (1, 'c'), 2: (1, 'B'), 3: (2, 'H'), 4: (4, 'I'), 5: (8, 'Q')}


def header(b, off, what, out):
    if b[off:off + 3] != b'\x8e\xad\xe8':
        sys.exit('%s header: bad magic at %d' % (what, off))
    n, dlen = struct.unpack('>II', b[off + 8:off + 16])
    index, data = off + 16, off + 16 + 16 * n
    for i in range(n):
        tag, typ, o, cnt = struct.unpack(
            '>IIiI', b[index + 16 * i:index + 16 * i + 16])
        p = data + o
        if typ in (6, 8, 9):
            v = []
            for _ in range(cnt):
                e = b.index(b'\0', p)
                v.append(b[p:e].decode('utf-8', 'replace'))
                p = e + 1
        elif typ == 7:
            v = b[p:p + cnt].hex()
        elif typ in SIZES:
            size, fmt = SIZES[typ]
            v = list(struct.unpack('>%d%s' % (cnt, fmt),
                                   b[p:p + size * cnt]))
            if typ == 1:
                v = [c.decode('latin-1') for c in v]
        else:
            sys.exit('%s header: tag %d has type %d' % (what, tag, typ))
        out.write('%s %d %d %d %s\n' % (what, tag, typ, cnt,
                                        json.dumps(v, sort_keys=True)))
    return data + dlen


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], 'rb') as f:
        b = f.read()
    if b[:4] != b'\xed\xab\xee\xdb':
        sys.exit('not an rpm package')
    out = sys.stdout
    out.write('lead %s\n' % b[:96].hex())
    end = header(b, 96, 'sig', out)
    end = header(b, (end + 7) & ~7, 'main', out)
    out.write('payload %d\n' % (len(b) - end))


main()
