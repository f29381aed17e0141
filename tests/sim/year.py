"""One simulated year of hourly 'dkimrot rotate --now' (tests/sim/year.sh).

Ten domains (RSA, Ed25519, one dual), each with its own rhythm, rotated
every hour by the fault-injection binary.  Now and then a run is killed
at one of the fault points of common/fault.h (DKIMROT_FAULT), two runs
start at the same hour, the clock goes back; for a few windows the
post-commit hook builds the packages, killed there too.

What is published is what HEAD says: packages come from commits only.
Every hour each domain's active key(s) in HEAD sign a message (domain,
selector, hour); the selector must stay published in HEAD for the 96
hours that message may spend in queues.  After every run that exits 0:
the invariants of docs/design.md §4, on keys.yaml's times and on the hours HEAD
showed each change, no file keys.yaml does not name, no journal, no
uncommitted change under keys/.  At the end: git fsck, HEAD packaged.

Environment: DKIMROT_FAULTS (the binary), DKIMROT_SIM_HOURS (8760),
DKIMROT_SIM_SEED (random; printed, to replay a run).
"""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.join(os.environ["DKIMROT_SRC"], "tests/lib"))
from retired import retired_yaml  # noqa: E402

BIN = os.environ["DKIMROT_FAULTS"]
# DKIMROT_SIM_RFC2136=1 (tests/sim/year_rfc2136.sh): the records go to a
# real BIND by TSIG-signed dynamic updates, activation waits for them
# (dns.verify), and every key is looked up there when it starts to sign
# and daily while it signs: a key that signs unserved is a failure.
RFC2136 = os.environ.get("DKIMROT_SIM_RFC2136") == "1"

HOURS = int(os.environ.get("DKIMROT_SIM_HOURS", "8760"))
SEED = int(os.environ.get("DKIMROT_SIM_SEED") or random.randrange(1 << 31))
rng = random.Random(SEED)
H = 3600
QUEUE = 96                      # hours a message may wait for delivery

# name, algorithms, rotate_every, publish_lead (hours)
DOMAINS = [
    ("d01.example", ["rsa"], "30d", 24),
    ("d02.example", ["rsa"], "29d", 24),
    ("d03.example", ["rsa"], "14d", 12),
    ("d04.example", ["rsa"], "31d", 48),
    ("d05.example", ["rsa"], "9d", 24),
    ("d06.example", ["ed25519"], "30d", 24),
    ("d07.example", ["ed25519"], "21d", 24),
    ("d08.example", ["ed25519"], "10d", 6),
    ("d09.example", ["ed25519"], "45d", 24),
    ("d10.example", ["rsa", "ed25519"], "30d", 24),
]
LEAD = {d: lead * H for d, _, _, lead in DOMAINS}
MIN_AGE = DRAIN = 4 * 86400
# Points a rotate reaches itself, with how many times each may be hit.
ROTATE_FAULTS = [("after-key-write", 4), ("after-keys-yaml", 2),
                 ("before-commit", 1), ("after-commit", 1)]
HOOK_FAULTS = ["mid-package", "mid-repodata"]
# Hours with the hook on: [start, end).  The rest of the year it is off
# (8760 package builds would take an hour).
WINDOWS = [(200, 260), (HOURS // 2, HOURS // 2 + 60), (HOURS - 80, HOURS)]

tmp = tempfile.mkdtemp(prefix="dkimrot-year.")
repo = os.path.join(tmp, "repo")
hook = os.path.join(repo, ".git/hooks/post-commit")
start = datetime(2027, 1, 1, tzinfo=timezone.utc)
counts = {"messages": 0, "failures": 0, "violations": 0, "lost": 0}
stats = {"runs": 0, "faulted": 0, "killed": {}, "concurrent": 0,
         "locked": 0, "waited": 0, "commits": 0}
problems = []


def note(kind, msg):
    counts[kind] += 1
    if len(problems) < 30:
        problems.append("%s: %s" % (kind, msg))


def fmt(hour):
    return (start + timedelta(hours=hour)).strftime("%Y-%m-%dT%H:%M:%SZ")


def ts(s):
    return None if s is None else int(datetime.strptime(
        s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def cmd(hour, *args):
    return [BIN, "-C", repo, "--now", fmt(hour)] + list(args)


def env_with(fault):
    e = dict(os.environ)
    e.pop("DKIMROT_FAULT", None)
    if fault:
        e["DKIMROT_FAULT"] = fault
    return e


def git(*args):
    return subprocess.run(["git", "-C", repo] + list(args), check=True,
                          capture_output=True, text=True).stdout


def head():
    # Read the ref directly (no git process per hour); `git gc --auto` in
    # the hook may have moved it into packed-refs.
    try:
        with open(os.path.join(repo, ".git/refs/heads/main")) as f:
            return f.read().strip()
    except FileNotFoundError:
        with open(os.path.join(repo, ".git/packed-refs")) as f:
            for line in f:
                if line.rstrip().endswith(" refs/heads/main"):
                    return line.split()[0]
    raise RuntimeError("no refs/heads/main")


ns_dir = os.path.join(tmp, "ns")
ns_port = None


def dns_setup(cfg):
    """BIND on loopback with one zone per domain that takes updates."""
    global ns_port
    import base64
    os.mkdir(ns_dir)
    os.chmod(tmp, 0o755)
    secret = base64.b64encode(os.urandom(32)).decode()
    with open(os.path.join(ns_dir, "update"), "w") as f:
        f.write("dkimrot-sim hmac-sha256 %s\n" % secret)
    fd = os.open(os.path.join(tmp, "tsig.key"),
                 os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, ("hmac-sha256:dkimrot-sim:%s\n" % secret).encode())
    os.close(fd)
    with open(os.path.join(ns_dir, "zones"), "w") as z:
        for name, _, _, _ in DOMAINS:
            zf = os.path.join(ns_dir, name + ".zone")
            with open(zf, "w") as f:
                f.write("$ORIGIN %s.\n$TTL 300\n@ IN SOA ns.%s. "
                        "hostmaster.%s. 1 3600 600 86400 300\n"
                        "@ IN NS ns.%s.\nns IN A 127.0.0.1\n" %
                        (name, name, name, name))
            z.write("%s %s\n" % (name, zf))
    subprocess.run(["sh", "-c", '. "$DKIMROT_SRC/tests/lib/dnsserv.sh" && '
                    'ds_start bind "$1"', "sh", ns_dir], check=True)
    ns_port = int(open(os.path.join(ns_dir, "port")).read())
    server = "127.0.0.1:%d" % ns_port
    cfg = cfg.replace("  verify: false", "  verify: true")
    cfg = re.sub(r"(?m)^  nameservers: .*$",
                 '  nameservers: ["%s"]' % server, cfg)
    cfg = re.sub(r"(?m)^  server: .*$",
                 '  publish: rfc2136\n  primary: "%s"\n'
                 '  tsig_key_file: %s' % (server,
                                          os.path.join(tmp, "tsig.key")),
                 cfg)
    return cfg


def served(dom, sel):
    """Whether BIND serves exactly the record of keys/DOM/SEL.txt."""
    import dns.message
    import dns.query
    try:
        want = "".join(re.findall(r'"([^"]*)"', open(os.path.join(
            repo, "keys", dom, sel + ".txt")).read()))
    except OSError:
        return False
    q = dns.message.make_query("%s._domainkey.%s" % (sel, dom), "TXT")
    a = dns.query.tcp(q, "127.0.0.1", port=ns_port, timeout=5)
    got = [b"".join(rd.strings).decode() for rr in a.answer for rd in rr]
    return got == [want]


def setup():
    subprocess.run(cmd(0, "init") + [a for d in DOMAINS
                                     for a in ("-d", d[0])],
                   check=True, capture_output=True)
    path = os.path.join(repo, "dkimrot.yaml")
    cfg = open(path).read()
    cfg = cfg.replace("rsa_bits: 2048", "rsa_bits: 1024")
    cfg = cfg.replace("testmode: false", "testmode: true")
    for name, algs, every, lead in DOMAINS:
        cfg = cfg.replace(
            "  - name: %s\n" % name,
            "  - name: %s\n    algorithms: [%s]\n    rotate_every: %s\n"
            "    publish_lead: %dh\n" % (name, ", ".join(algs), every, lead))
    if RFC2136:
        cfg = dns_setup(cfg)
    open(path, "w").write(cfg)
    os.rename(hook, hook + ".off")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam",
        "simulation: small test keys, one rhythm per domain")


# --- what HEAD publishes, and what it showed when
state = {}          # domain -> {selector: key dict} (HEAD = work tree)
first_pub = {}      # (domain, sel) -> first hour published in HEAD
first_act = {}      # (domain, sel) -> first hour active in HEAD
last_act = {}       # (domain, sel) -> last hour active in HEAD
ever = {}           # (domain, sel) -> last state seen
moved = set()       # (domain, sel) in retired.yaml (HEAD = work tree)
two_keys = set()    # tracks that had two keys
signed = {}         # (domain, sel) -> [first hour, last hour] signing
failed_msgs = set()


def load(hour):
    p = subprocess.run(cmd(hour, "status", "--json"), capture_output=True,
                       text=True)
    if p.returncode != 0:
        note("violations", "%s: status failed: %s" % (fmt(hour), p.stderr))
        return
    state.clear()
    for d in json.loads(p.stdout)["domains"]:
        state[d["domain"]] = {k["selector"]: k for k in d["keys"]}
    moved.clear()
    for key, st in retired_yaml(repo).items():
        if st != "retired":
            note("violations", "%s %s/%s in retired.yaml is %s" %
                 (fmt(hour), key[0], key[1], st))
        moved.add(key)


def published(k):
    return k["state"] in ("pending", "active", "retiring")


def check_state(hour):
    """docs/design.md §4 on HEAD's keys, nothing lost since the last look."""
    now = fmt(hour)
    seen = set()
    for dom, keys in state.items():
        tracks = {}
        for sel, k in keys.items():
            seen.add((dom, sel))
            tracks.setdefault(k["algorithm"], []).append(k)
            key = (dom, sel)
            if published(k):
                first_pub.setdefault(key, hour)
            if k["state"] == "active":
                first_act.setdefault(key, hour)
                last_act[key] = hour
            prev = ever.get(key)
            if prev in ("pending", "active", "retiring") and \
                    k["state"] not in ("pending", "active", "retiring",
                                       "retired"):
                note("lost", "%s %s/%s went from %s to %s" %
                     (now, dom, sel, prev, k["state"]))
            if k["state"] == "retired" and prev != "retired":
                if prev is not None and prev != "retiring":
                    note("violations", "%s %s/%s retired from %s" %
                         (now, dom, sel, prev))
                r = ts(k["retired"])
                if r - ts(k["created"]) < MIN_AGE or \
                        r - ts(k["active_until"]) < DRAIN:
                    note("lost", "%s %s/%s retired before min_age/drain" %
                         (now, dom, sel))
                if key in last_act and (hour - last_act[key] - 1) * H < DRAIN:
                    note("lost", "%s %s/%s left HEAD %dh after it last "
                         "signed there" % (now, dom, sel,
                                           hour - last_act[key] - 1))
            if k["active_from"] is not None and \
                    ts(k["active_from"]) - ts(k["published"]) < LEAD[dom]:
                note("violations", "%s %s/%s active before publish_lead" %
                     (now, dom, sel))
            if k["state"] == "active" and first_act[key] == hour and \
                    (hour - first_pub[key]) * H < LEAD[dom]:
                note("violations", "%s %s/%s signed in HEAD %dh after it "
                     "was first published there" %
                     (now, dom, sel, hour - first_pub[key]))
            ever[key] = k["state"]
        for alg, ks in tracks.items():
            tr = (dom, alg)
            pub = [k for k in ks if published(k)]
            act = [k for k in ks if k["state"] == "active"]
            if len(ks) >= 2:
                two_keys.add(tr)
            if tr in two_keys and len(pub) < 2:
                note("violations", "%s %s: %d published" % (now, tr,
                                                             len(pub)))
            if len(act) > 1 or (any(k["active_from"] for k in ks) and
                                len(act) != 1):
                note("violations", "%s %s: %d active" % (now, tr, len(act)))
    # Retired long ago, moved to retired.yaml (docs/design.md §3).
    for key, st in ever.items():
        if key in moved and (st != "retired" or key in seen):
            note("violations", "%s %s/%s in retired.yaml, %s in keys.yaml"
                 % (now, key[0], key[1], st if key in seen else "was " + st))
        elif key not in seen and key not in moved:
            note("lost", "%s %s/%s vanished from keys.yaml (was %s)" %
                 (now, key[0], key[1], st))


def check_files(hour):
    """After a run that exited 0: the work tree is HEAD, nothing extra."""
    if os.path.exists(os.path.join(repo, ".git/dkimrot.dirty")):
        note("violations", "%s: journal left by a run that exited 0" %
             fmt(hour))
    for dom, keys in state.items():
        want = {"keys.yaml"}
        if any(k[0] == dom for k in moved):
            want.add("retired.yaml")
        for sel, k in keys.items():
            if published(k):
                want |= {sel + ".private", sel + ".txt"}
        d = os.path.join(repo, "keys", dom)
        got = set(os.listdir(d)) if os.path.isdir(d) else set()
        if keys and got != want:
            note("violations", "%s %s: files %s, keys.yaml names %s" %
                 (fmt(hour), dom, sorted(got ^ want), sorted(want)))


def sign_and_verify(hour):
    for dom, keys in state.items():
        for sel, k in keys.items():
            if k["state"] == "active":
                s = signed.setdefault((dom, sel), [hour, hour])
                s[1] = hour
                counts["messages"] += 1
                if RFC2136 and (s[0] == hour or hour % 24 == 0) and \
                        not served(dom, sel):
                    failed_msgs.add((dom, sel, hour))
                    note("failures", "%s/%s signs at %s, not served by "
                         "the primary" % (dom, sel, fmt(hour)))
    # Every message signed in the last QUEUE hours must still verify.
    for (dom, sel), (first, last) in signed.items():
        if last < hour - QUEUE + 1:
            continue
        k = state.get(dom, {}).get(sel)
        if k is not None and published(k):
            continue
        for h in range(max(first, hour - QUEUE + 1), min(last, hour) + 1):
            if (dom, sel, h) not in failed_msgs:
                failed_msgs.add((dom, sel, h))
                note("failures", "%s/%s signed at %s, gone at %s" %
                     (dom, sel, fmt(h), fmt(hour)))


def in_window(hour):
    return any(a <= hour < b for a, b in WINDOWS)


def set_hook(on):
    if on and os.path.exists(hook + ".off"):
        os.rename(hook + ".off", hook)
    elif not on and os.path.exists(hook):
        os.rename(hook, hook + ".off")


def pick_fault(hooked):
    if hooked and rng.random() < 0.4:
        return rng.choice(HOOK_FAULTS)
    name, most = rng.choice(ROTATE_FAULTS)
    return "%s:%d" % (name, rng.randint(1, most)) if most > 1 else name


def packaged():
    v = int(git("rev-list", "--first-parent", "--count", "HEAD"))
    return all(os.path.exists(os.path.join(repo, "rpms", d,
                                           "%s-%d-1.noarch.rpm" % (n, v)))
               for d, n in (("private", "dkim-keys-private"),
                            ("public", "dkim-keys-public")))


def run_one(hour, fault, extra=()):
    stats["runs"] += 1
    if fault:
        stats["faulted"] += 1
    return subprocess.run(cmd(hour, "rotate", *extra), env=env_with(fault),
                          capture_output=True, text=True)


def run_pair(hour, fault):
    """Two runs at once: one works, the other waits or exits 75."""
    stats["concurrent"] += 1
    wait = rng.random() < 0.5
    procs = []
    for args, f, w in ((("rotate",), fault, False),
                       (("rotate", "--wait", "60") if wait else ("rotate",),
                        None, wait)):
        p = subprocess.Popen(cmd(hour, *args), env=env_with(f),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        procs.append((p, w))
    res = [(p, w, p.communicate()[1]) for p, w in procs]
    stats["runs"] += 2
    # The one that met the lock, if any, last.
    res.sort(key=lambda x: x[0].returncode == 75)
    (a, _, ea), (b, bwait, eb) = res
    if b.returncode == 75:
        stats["locked"] += 1
        m = re.search(r"locked by another dkimrot \(pid (\d+)\)", eb)
        if bwait or a.returncode == 75 or m is None or \
                int(m.group(1)) != a.pid:
            note("violations", "%s: exit 75 without naming the holder: "
                 "%s" % (fmt(hour), [(p.pid, p.returncode, w, e)
                                     for p, w, e in res]))
    elif b.returncode not in (0, 99):
        note("violations", "%s: concurrent run exited %d: %s" %
             (fmt(hour), b.returncode, eb))
    elif bwait:
        stats["waited"] += 1
    # Report the run that had the fault, or the one that worked.
    if procs[0][0].returncode == 99:
        return 99, ""
    return a.returncode, ea


def main():
    setup()
    t0 = time.time()
    hook_on = False
    armed = None
    last_head = head()
    clock_back_at = rng.randrange(HOURS // 4, HOURS // 2)
    load(0)
    for hour in range(HOURS):
        want = in_window(hour)
        if want != hook_on:
            set_hook(want)
            hook_on = want
            if want:
                # Each window's first packaging dies at one of these.
                w = next(i for i, (a, b) in enumerate(WINDOWS)
                         if a <= hour < b)
                armed = HOOK_FAULTS[w % len(HOOK_FAULTS)]
            elif armed in HOOK_FAULTS:
                armed = None    # no hook runs till the next window
        if armed is None and rng.random() < 0.05:
            armed = pick_fault(hook_on)
        if hour == clock_back_at:
            before = head()
            p = run_one(hour - 24 * 40, None)
            if p.returncode != 1 or "clock went back" not in p.stderr or \
                    head() != before:
                note("violations", "%s: clock 40 days back: exit %d %r" %
                     (fmt(hour), p.returncode, p.stderr))
        if rng.random() < 0.01:
            rc, err = run_pair(hour, armed)
        else:
            p = run_one(hour, armed)
            rc, err = p.returncode, p.stderr
        if rc == 99 or (rc == 0 and "hook failed (exit 99)" in err):
            name = armed.split(":")[0]
            stats["killed"][name] = stats["killed"].get(name, 0) + 1
            armed = None
        elif rc != 0:
            note("violations", "%s: rotate exited %d: %s" %
                 (fmt(hour), rc, err.strip()))
        elif armed and "committed" in err and armed not in HOOK_FAULTS:
            # It passed its point fewer times than the fault counts.
            armed = None
        h = head()
        if h != last_head:
            stats["commits"] += 1
            load(hour)
            last_head = h
            if git("status", "--porcelain", "keys"):
                note("violations", "%s: uncommitted changes under keys/ "
                     "with HEAD moved" % fmt(hour))
        check_state(hour)
        if rc == 0:
            check_files(hour)
        sign_and_verify(hour)
        if hook_on and hour + 1 in [b for _, b in WINDOWS] and rc == 0 \
                and not packaged():
            note("violations", "%s: HEAD unpackaged at the end of a "
                 "window" % fmt(hour))
    # The end: one clean run with the hook, then the checks of git.
    set_hook(True)
    p = run_one(HOURS, None)
    if p.returncode != 0:
        note("violations", "final rotate exited %d: %s" %
             (p.returncode, p.stderr))
    fsck = subprocess.run(["git", "-C", repo, "fsck", "--strict"],
                          capture_output=True, text=True)
    results = [
        ("git fsck --strict is clean", fsck.returncode == 0),
        ("HEAD is packaged at the end", packaged()),
        ("the work tree is clean", git("status", "--porcelain") == ""),
        ("runs were killed at every fault point (%s)" %
         json.dumps(stats["killed"], sort_keys=True),
         all(stats["killed"].get(n, 0) > 0 for n, _ in ROTATE_FAULTS) and
         all(stats["killed"].get(n, 0) > 0 for n in HOOK_FAULTS)),
        ("concurrent runs met the lock (%d pairs: %d exited 75, %d "
         "waited)" % (stats["concurrent"], stats["locked"],
                      stats["waited"]), stats["locked"] > 0),
    ]
    line = "%d messages, %d verification failures, %d invariant " \
           "violations, %d keys lost" % (counts["messages"],
                                         counts["failures"],
                                         counts["violations"], counts["lost"])
    print("1..%d" % (len(results) + 1))
    print("# seed %d (DKIMROT_SIM_SEED), %d hours, %d runs (%d with a "
          "fault), %d commits, %.0f s" %
          (SEED, HOURS, stats["runs"], stats["faulted"], stats["commits"],
           time.time() - t0))
    print("# " + line)
    for p in problems:
        print("# " + p)
    good = counts["failures"] == counts["violations"] == counts["lost"] == 0
    print("%s 1 - %s" % ("ok" if good else "not ok", line))
    failed = not good
    for i, (what, cond) in enumerate(results, 2):
        # A short run need not reach every point: crash.sh does.
        skip = " # skip %d hours only" % HOURS \
            if HOURS < 8760 and (what.startswith("runs were killed") or
                                 (what.startswith("concurrent") and
                                  stats["concurrent"] == 0)) else ""
        print("%s %d - %s%s" % ("ok" if cond or skip else "not ok", i,
                                what, skip))
        failed = failed or not (cond or skip)
        if not cond and what.startswith("git fsck"):
            print("# " + fsck.stdout.replace("\n", "\n# "))
    if failed:
        # prove shows stderr, not comments, without -v (make check, CI):
        # what went wrong there too, and the seed that replays it.
        sys.stderr.write("year.py: DKIMROT_SIM_SEED=%d replays this run "
                         "(%d hours)\n" % (SEED, HOURS))
        for p in problems:
            sys.stderr.write("year.py: %s\n" % p)


try:
    main()
finally:
    if RFC2136:
        subprocess.run(["sh", "-c", '. "$DKIMROT_SRC/tests/lib/dnsserv.sh" '
                        '&& ds_stop "$1"', "sh", ns_dir])
    shutil.rmtree(tmp, ignore_errors=True)
