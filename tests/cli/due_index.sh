#!/bin/sh
# The due index (rotator/due.h) changes nothing but the work: two key
# repositories, A keeping its .git/dkimrot-due and B losing it before
# every run, are rotated side by side every 4 simulated hours for 55
# days through what an operator does to a repository (configuration
# edits, rotate --start, revoke, a corrupted index, git reset --hard, a
# domain removed (and so out of dkimrot.yaml) and added back, a stray key
# directory, the clock going back).  After every run both must have
# printed the same (commit ids aside), exited the same, and hold the same
# file names and keys.yaml files; and A must have skipped the domains
# that were not due on most runs.
set -eu
: "${DKIMROT:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export DKIMROT T
/usr/bin/python3 - <<'PY'
import glob, os, re, subprocess, sys
from datetime import datetime, timedelta, timezone

D = os.environ["DKIMROT"]
T = os.environ["T"]
# Not under DKIMROT_WRAP (valgrind): 800 runs; every path of it runs
# under valgrind in the other CLI tests' rotations.
fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
start = datetime(2026, 11, 1, tzinfo=timezone.utc)
n = 0

def ok(cond, msg):
    global n
    n += 1
    print("%sok %d - %s" % ("" if cond else "not ", n, msg))
    return cond

def dk(repo, *args, now):
    return subprocess.run([D, "-C", repo, "--now", fmt(now)] + list(args),
                          capture_output=True, text=True)

def git(repo, *args):
    return subprocess.run(["git", "-C", repo, "-c", "user.name=t", "-c",
                           "user.email=t@t"] + list(args), check=True,
                          capture_output=True, text=True).stdout

def state(repo):
    """What the repository holds, keys' bytes aside (they are random)."""
    names = git(repo, "ls-tree", "-r", "--name-only", "HEAD")
    yaml = {}
    for f in sorted(glob.glob(os.path.join(repo, "keys/*/keys.yaml"))):
        yaml[f[len(repo):]] = open(f).read()
    return names, yaml, git(repo, "rev-list", "--count", "HEAD")

def norm(err):
    err = err.replace(A, "R").replace(B, "R")
    err = re.sub(r"\b[0-9a-f]{12,40}\b", "ID", err)
    # sorted: the threads of the write protocol log in any order
    return sorted(l for l in err.splitlines() if "due index" not in l)

A, B = os.path.join(T, "a"), os.path.join(T, "b")
DOMAINS = ["a.example", "b.example", "c.example", "d.example", "e.example"]
for r in (A, B):
    p = dk(r, "init", "--no-sign", *sum([["-d", d] for d in DOMAINS], []),
           now=start)
    if p.returncode != 0:
        print("Bail out! init: " + p.stderr)
        sys.exit(1)
    os.unlink(os.path.join(r, ".git/hooks/post-commit"))
    cfg = open(os.path.join(r, "dkimrot.yaml")).read()
    cfg = cfg.replace("rsa_bits: 2048", "rsa_bits: 1024")
    cfg = cfg.replace("rotate_every: 30d", "rotate_every: 10d")
    cfg = cfg.replace("  - name: b.example\n", "  - name: b.example\n"
                      "    algorithms: [rsa, ed25519]\n")
    cfg = cfg.replace("  - name: c.example\n", "  - name: c.example\n"
                      "    algorithms: [ed25519]\n    rotate_every: 7d\n")
    open(os.path.join(r, "dkimrot.yaml"), "w").write(cfg)
    git(r, "commit", "-qam", "test: small keys, short rotations")

def both(fn):
    for r in (A, B):
        fn(r)

def edit(old, new, msg):
    """msg None: an edit not committed (yet)"""
    def f(r):
        p = os.path.join(r, "dkimrot.yaml")
        s = open(p).read()
        assert old in s, old
        open(p, "w").write(s.replace(old, new))
        if msg is not None:
            git(r, "commit", "-qam", msg)
    return f

def stray(r):
    src = os.path.join(r, "keys/a.example/keys.yaml")
    os.makedirs(os.path.join(r, "keys/stray.example"), mode=0o700)
    s = open(src).read().replace("domain: a.example",
                                 "domain: stray.example")
    open(os.path.join(r, "keys/stray.example/keys.yaml"), "w").write(s)
    git(r, "add", "keys/stray.example")
    git(r, "commit", "-qm", "a stray key directory")

def active(r, d):
    y = open(os.path.join(r, "keys", d, "keys.yaml")).read()
    m = re.findall(r'selector: "(\d+)"\n(?:    .*\n)*?    state: active', y)
    return m[0]

# step -> what happens before that step's run (to both)
events = {
    30: ("a new domain, not committed", edit("  - name: e.example\n",
         "  - name: e.example\n  - name: f.example\n", None)),
    50: ("a policy change", edit("rotate_every: 10d", "rotate_every: 12d",
         "rotate every 12 days")),
    120: ("git reset --hard HEAD~1", lambda r: git(r, "reset", "-q",
          "--hard", "HEAD~1")),
    150: ("a stray key directory", stray),
    260: ("c.example back before it is gone",
          edit("  - name: d.example\n", "  - name: c.example\n"
               "  - name: d.example\n", "c.example is back")),
}
# step -> the command instead of a plain rotate
commands = {
    70: ["rotate", "--start", "-d", "d.example"],
    100: "revoke",
    200: ["remove", "-d", "c.example"],
}
# step -> why A's index does not hold then (docs/bad-input.md S7-S10)
stale = {30: "made for another dkimrot.yaml", 120: "made for another commit",
         170: "cut short", 300: "made after now (the clock went back)"}
said = {}
diffs, runs, skipping, used = [], 0, 0, 0
t = start
for step in range(330):
    if step in events:
        both(events[step][1])
    now = t
    if step == 300:
        now = t - timedelta(days=2)    # the clock goes back
    if step == 170:
        p = os.path.join(A, ".git/dkimrot-due")
        if os.path.exists(p):
            s = open(p).read()
            open(p, "w").write(s[:len(s) // 2])
    args = commands.get(step, ["rotate"])
    if args == "revoke":
        args = ["revoke", "-d", "a.example", "-s", active(A, "a.example")]
    if os.path.exists(os.path.join(B, ".git/dkimrot-due")):
        os.unlink(os.path.join(B, ".git/dkimrot-due"))
    pa = dk(A, "-v", *args, now=now)
    pb = dk(B, "-v", *args, now=now)
    runs += 1
    if step in stale:
        said[step] = "dkimrot: the due index is not used: " + stale[step] \
            in pa.stderr
    m = re.search(r"the due index: (\d+) of (\d+) domains due", pa.stderr)
    if m:
        used += 1
        if int(m.group(1)) < int(m.group(2)):
            skipping += 1
    if re.search(r"the due index: ", pb.stderr):
        diffs.append("step %d: B used an index it had not" % step)
    if (pa.returncode, pa.stdout, norm(pa.stderr)) != \
            (pb.returncode, pb.stdout, norm(pb.stderr)):
        diffs.append("step %d (%s): A exited %d, B %d\nA: %s%sB: %s%s" % (
            step, fmt(now), pa.returncode, pb.returncode, pa.stdout,
            pa.stderr, pb.stdout, pb.stderr))
    elif state(A) != state(B):
        diffs.append("step %d (%s): the repositories differ" %
                     (step, fmt(now)))
    if len(diffs) > 3:
        break
    t += timedelta(hours=4)

for d in diffs[:3]:
    print("# " + d.replace("\n", "\n# "))
ok(not diffs, "%d runs: A (with its index) and B (without) did the same" %
   runs)
for step in sorted(stale):
    ok(said.get(step), "step %d: -v says the index is %s" % (step,
       stale[step]))
ok(used > runs * 0.7, "A used its index on %d of %d runs" % (used, runs))
ok(skipping > runs * 0.6,
   "A skipped domains not due on %d of %d runs" % (skipping, runs))
head = git(A, "rev-parse", "HEAD").strip()
ok("\nhead %s\n" % head in open(os.path.join(A, ".git/dkimrot-due")).read(),
   "the index is made for HEAD")
names = git(A, "ls-tree", "-r", "--name-only", "HEAD")
ok("dkimrot-due" not in names, "the index is never committed")
mode = os.stat(os.path.join(A, ".git/dkimrot-due")).st_mode & 0o777
ok(mode == 0o600, "the index is mode 0600 (%o)" % mode)
print("1..%d" % n)
PY
