"""The state a key repository must be in after a run that exited 0.

usage: /usr/bin/python3 repocheck.py REPO NOW [--before FILE] [--save FILE]
    [--packaged]

Checks, printing each problem as a TAP comment and exiting 1 if any:
- no journal (.git/dkimrot.dirty) and 'git status --porcelain' empty;
- 'git fsck --strict' clean;
- for every domain, HEAD's keys/DOMAIN/ holds exactly keys.yaml and the
  files it names (published keys: .private and .txt; revoked: .txt);
- --before FILE (a --save of an earlier state): no key lost, i.e. every
  key published then is still in keys.yaml, published, retired after
  min_age and drain (4 days each here), or revoked;
- --packaged: both packages of HEAD's version are in rpms/private and
  rpms/public and in each one's repodata, and no .repodata.tmp is left;
- --save FILE: writes the keys as they are now, for a later --before.
Uses $DKIMROT for 'status --json' and git for the rest.
"""
import glob
import gzip
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

repo, now = sys.argv[1], sys.argv[2]
opts = sys.argv[3:]
bad = []


def git(*args):
    return subprocess.run(["git", "-C", repo] + list(args),
                          capture_output=True, text=True)


def ts(s):
    return int(datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc).timestamp())


def opt(name):
    return opts[opts.index(name) + 1] if name in opts else None


if os.path.exists(os.path.join(repo, ".git/dkimrot.dirty")):
    bad.append("the journal .git/dkimrot.dirty is still there")
st = git("status", "--porcelain").stdout
if st:
    bad.append("uncommitted changes: %r" % st)
fsck = git("fsck", "--strict")
if fsck.returncode != 0:
    bad.append("git fsck: %s" % (fsck.stdout + fsck.stderr))
p = subprocess.run([os.environ["DKIMROT"], "-C", repo, "--now", now,
                    "status", "--json"], capture_output=True, text=True)
if p.returncode != 0:
    bad.append("status --json failed: %s" % p.stderr)
    keys = {}
else:
    keys = {d["domain"]: {k["selector"]: k for k in d["keys"]}
            for d in json.loads(p.stdout)["domains"]}
for dom, ks in keys.items():
    want = {"keys.yaml"} if ks else set()
    for sel, k in ks.items():
        if k["state"] in ("pending", "active", "retiring"):
            want |= {sel + ".private", sel + ".txt"}
        elif k["state"] == "revoked":
            want.add(sel + ".txt")
    got = set(git("ls-tree", "--name-only", "HEAD",
                  "keys/%s/" % dom).stdout.split())
    got = {os.path.basename(g) for g in got}
    if got != want:
        bad.append("HEAD keys/%s/ holds %s; keys.yaml names %s" %
                   (dom, sorted(got), sorted(want)))
if opt("--before"):
    before = json.load(open(opt("--before")))
    for dom, ks in before.items():
        for sel, k in ks.items():
            if k["state"] not in ("pending", "active", "retiring"):
                continue
            now_k = keys.get(dom, {}).get(sel)
            if now_k is None:
                bad.append("key %s/%s (%s) lost" % (dom, sel, k["state"]))
            elif now_k["state"] == "retired" and (
                    ts(now_k["retired"]) - ts(now_k["created"]) < 4 * 86400
                    or ts(now_k["retired"]) - ts(now_k["active_until"]) <
                    4 * 86400):
                bad.append("key %s/%s retired too early" % (dom, sel))
if "--packaged" in opts:
    v = git("rev-list", "--first-parent", "--count", "HEAD").stdout.strip()
    for sub in ("private", "public"):
        out = os.path.join(repo, "rpms", sub)
        f = "dkim-keys-%s-%s-1.noarch.rpm" % (sub, v)
        if not os.path.exists(os.path.join(out, f)):
            bad.append("%s is missing" % f)
        meta = "".join(gzip.open(x, "rt").read() for x in glob.glob(
            os.path.join(out, "repodata/*primary.xml.gz")))
        if meta.count('<version epoch="0" ver="%s" rel="1"/>' % v) != 1:
            bad.append("rpms/%s/repodata does not list version %s" %
                       (sub, v))
        if os.path.exists(os.path.join(out, ".repodata.tmp")):
            bad.append("rpms/%s/.repodata.tmp left behind" % sub)
if opt("--save"):
    json.dump(keys, open(opt("--save"), "w"))
for b in bad:
    print("# " + b.replace("\n", "\n# "))
sys.exit(1 if bad else 0)
