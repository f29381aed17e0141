"""Every DKIM-Signature of a message, verified by dkimpy through the
test's own name server on 127.0.0.1:PORT, one line each in the order of
the message: "d=DOMAIN s=SELECTOR a=ALGORITHM pass|fail".

    python3 dkimverify.py PORT FILE
"""
import os
import re
import sys

import dkim

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dnstxt import txt_at  # noqa: E402

msg = open(sys.argv[2], "rb").read()
d = dkim.DKIM(msg)
sigs = [v for k, v in dkim.rfc822_parse(msg)[0]
        if k.lower() == b"dkim-signature"]
for i, v in enumerate(sigs):
    tags = dict(re.findall(rb"([a-z]+)\s*=\s*([^;]*)", re.sub(rb"\s", b"", v)))
    try:
        ok = d.verify(idx=i, dnsfunc=txt_at(int(sys.argv[1])))
    except dkim.ValidationError:
        ok = False
    print("d=%s s=%s a=%s %s" % (tags[b"d"].decode(), tags[b"s"].decode(),
                                  tags[b"a"].decode(),
                                  "pass" if ok else "fail"))
