#!/bin/sh
# 120 simulated days of 'dkimrot rotate --now' at 6-hour steps for three
# domains (one dual rsa+ed25519), with 'rotate --start' (policy.h rule 7)
# on a random twentieth of the steps (a fixed seed: the same steps each
# time), some for one domain only, asserting the lifecycle invariants of
# docs/design.md §4 at every step from 'status --json', and that git (the CLI)
# sees one commit per step that changed something and none otherwise.
set -eu
: "${DKIMROT:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export DKIMROT T
# Not exec: the trap must still remove $T.
/usr/bin/python3 - <<'PY'
import json, os, random, re, subprocess, sys
from datetime import datetime, timedelta, timezone

D = os.environ["DKIMROT"]
# Not under DKIMROT_WRAP (valgrind): 960 runs would take half an hour;
# the other CLI tests run every code path here under it.
wrap = []
repo = os.path.join(os.environ["T"], "repo")
DAY = 86400
LEAD, MIN_AGE, DRAIN, EVERY = 1 * DAY, 4 * DAY, 4 * DAY, 30 * DAY

def run(*args, now, check=True):
    p = subprocess.run(wrap + [D, "-C", repo, "--now", now] + list(args),
                       capture_output=True, text=True)
    if check and p.returncode != 0:
        print("not ok - dkimrot %s at %s exited %d: %s" %
              (" ".join(args), now, p.returncode, p.stderr.strip()))
        sys.exit(1)
    return p

def git(*args):
    return subprocess.run(["git", "-C", repo] + list(args), check=True,
                          capture_output=True, text=True).stdout

def ts(s):
    return None if s is None else int(datetime.strptime(
        s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())

start = datetime(2026, 11, 22, 0, 0, tzinfo=timezone.utc)
fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
# Signing is not this test's business either: no key to make.
run("init", "--no-sign", "-d", "example.com", "-d", "example.org", "-d",
    "example.net", now=fmt(start))
cfg = open(os.path.join(repo, "dkimrot.yaml")).read()
cfg = cfg.replace("rsa_bits: 2048", "rsa_bits: 1024")
cfg = re.sub(r"(?m)^  - name: example.org\n",
             "  - name: example.org\n    algorithms: [rsa, ed25519]\n", cfg)
open(os.path.join(repo, "dkimrot.yaml"), "w").write(cfg)
git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam",
    "test config: small keys, one dual domain")
# The hook would build packages: not this test's business.
os.unlink(os.path.join(repo, ".git/hooks/post-commit"))

failures = []
def fail(msg):
    failures.append(msg)

seen_two = set()          # tracks that once had two keys
seen_active = set()       # tracks that once had an active key
retired_ok = {}
commits = int(git("rev-list", "--count", "HEAD"))
steps = changed_steps = 0
rng = random.Random(20261122)
starts = started = 0
t = start
end = start + timedelta(days=120)
while t <= end:
    now = fmt(t)
    head = git("rev-parse", "HEAD").strip()
    args = ["rotate"]
    if rng.random() < 0.05:
        args.append("--start")
        if rng.random() < 0.5:
            args += ["--domain", rng.choice(["example.com", "example.org"])]
        starts += 1
    out = run(*args, now=now).stdout
    if "--start" in args and " pending (" in out:
        started += 1
    new_head = git("rev-parse", "HEAD").strip()
    steps += 1
    if out.strip():
        changed_steps += 1
        if new_head == head:
            fail("%s: rotate changed %r but made no commit" % (now, out))
        else:
            msg = git("log", "-1", "--format=%B")
            for line in out.strip().splitlines():
                if line not in msg:
                    fail("%s: commit message lacks %r" % (now, line))
    elif new_head != head:
        fail("%s: a commit for a step that changed nothing" % now)
    st = json.loads(run("status", "--json", now=now).stdout)
    for d in st["domains"]:
        tracks = {}
        for k in d["keys"]:
            tracks.setdefault(k["algorithm"], []).append(k)
        for alg, keys in tracks.items():
            tr = (d["domain"], alg)
            pub = [k for k in keys
                   if k["state"] in ("pending", "active", "retiring")]
            act = [k for k in keys if k["state"] == "active"]
            if len(keys) >= 2:
                seen_two.add(tr)
            if tr in seen_two and len(pub) < 2:
                fail("%s %s: %d published keys" % (now, tr, len(pub)))
            if act:
                seen_active.add(tr)
            if tr in seen_active and len(act) != 1:
                fail("%s %s: %d active keys" % (now, tr, len(act)))
            for k in keys:
                if k["active_from"] is not None and \
                        ts(k["active_from"]) - ts(k["published"]) < LEAD:
                    fail("%s %s: active before publish_lead" %
                         (now, k["selector"]))
                if k["state"] == "retired":
                    r = ts(k["retired"])
                    if r - ts(k["created"]) < MIN_AGE:
                        fail("%s %s retired younger than min_age" %
                             (now, k["selector"]))
                    if r - ts(k["active_until"]) < DRAIN:
                        fail("%s %s retired before drain" %
                             (now, k["selector"]))
                    retired_ok[k["selector"]] = True
                    path = os.path.join(repo, "keys", d["domain"],
                                        k["selector"] + ".private")
                    if os.path.exists(path):
                        fail("%s: retired key file %s still there" %
                             (now, path))
    t += timedelta(hours=6)

n = 0
def ok(cond, what):
    global n
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, what))

ok(not failures, "invariants held at all %d steps" % steps)
for f in failures[:20]:
    print("# " + f)
ok(len(seen_two) == 4, "every track reached two keys: %s" % sorted(seen_two))
ok(len(retired_ok) >= 4, "keys were retired along the way (%d)" %
   len(retired_ok))
ok(starts >= 10 and started >= 5,
   "rotate --start ran %d times, %d of them began a rotation" %
   (starts, started))
total = int(git("rev-list", "--count", "HEAD"))
ok(total == commits + changed_steps,
   "one commit per changing step (%d + %d = %d)" %
   (commits, changed_steps, total))
shown = git("log", "--format=%H %an %s")
ok(len(shown.splitlines()) == total and "dkimrot rotate at" in shown,
   "git log reads every commit")
last = git("show", "--stat", "HEAD")
ok("keys/" in last, "git show reads the last rotation")
fsck = subprocess.run(["git", "-C", repo, "fsck", "--strict"],
                      capture_output=True, text=True)
ok(fsck.returncode == 0, "git fsck --strict is clean")
print("1..%d" % n)
PY
