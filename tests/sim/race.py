"""Two rotation hosts racing against one remote (tests/sim/race.sh).

Two clones, A and B, of one bare repository (git.remote, file://) run
'dkimrot rotate' at the same simulated hour, every hour, at the same
time; now and then one of them is killed at a fault point of
common/fault.h, its commit made or not, pushed or not.  For a few
windows their post-commit hooks build the packages.

After every hour, on the remote's head (a third clone, checked out):
at most one active and one pending key per track, no key active before
publish_lead, none retired before min_age and drain, no key that was
ever on the remote vanishing from keys.yaml or coming back, and no
commit on the remote that does not descend from the one before (no
rewritten history).  At the end: every package either host built is of
a commit the remote has, and where both built the same version the
files are byte-identical; git fsck of the remote.

Environment: DKIMROT_FAULTS (the binary), DKIMROT_RACE_HOURS (720),
DKIMROT_SIM_SEED (random; printed, to replay a run).
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.join(os.environ["DKIMROT_SRC"], "tests/lib"))
from retired import retired_yaml  # noqa: E402

BIN = os.environ["DKIMROT_FAULTS"]
HOURS = int(os.environ.get("DKIMROT_RACE_HOURS", "720"))
SEED = int(os.environ.get("DKIMROT_SIM_SEED") or random.randrange(1 << 31))
rng = random.Random(SEED)
H = 3600
MIN_AGE = DRAIN = 4 * 86400
# name, algorithms, rotate_every, publish_lead (hours)
DOMAINS = [
    ("r1.example", ["rsa"], "5d", 12),
    ("r2.example", ["ed25519"], "7d", 24),
    ("r3.example", ["rsa", "ed25519"], "6d", 6),
]
LEAD = {d: lead * H for d, _, _, lead in DOMAINS}
FAULTS = ["after-key-write", "after-keys-yaml", "before-commit",
          "after-commit", "after-push"]
WINDOWS = [(100, 130), (HOURS - 30, HOURS)]

tmp = tempfile.mkdtemp(prefix="dkimrot-race.")
bare = os.path.join(tmp, "remote.git")
hosts = {h: os.path.join(tmp, h) for h in ("a", "b")}
checker = os.path.join(tmp, "check")
start = datetime(2027, 3, 1, tzinfo=timezone.utc)
problems = []
stats = {"runs": 0, "killed": {}, "lost_race": 0, "commits": 0, "75": 0}


counted = [0]


def note(msg):
    counted[0] += 1
    if len(problems) < 30:
        problems.append(msg)


def fmt(hour):
    return (start + timedelta(hours=hour)).strftime("%Y-%m-%dT%H:%M:%SZ")


def ts(s):
    return None if s is None else int(datetime.strptime(
        s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, "-c", "user.name=t", "-c",
                           "user.email=t@t"] + list(args), check=True,
                          capture_output=True, text=True).stdout


def env_with(fault):
    e = dict(os.environ)
    e.pop("DKIMROT_FAULT", None)
    if fault:
        e["DKIMROT_FAULT"] = fault
    return e


def setup():
    os.umask(0o077)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", bare],
                   check=True)
    git(bare, "config", "receive.denyNonFastForwards", "true")
    seed = os.path.join(tmp, "seed")
    subprocess.run([BIN, "-C", seed, "--now", fmt(0), "init", "--no-sign"] +
                   [a for d in DOMAINS for a in ("-d", d[0])], check=True,
                   capture_output=True)
    path = os.path.join(seed, "dkimrot.yaml")
    cfg = open(path).read().replace("rsa_bits: 2048", "rsa_bits: 1024")
    cfg = cfg.replace("  author:", "  remote: file://%s\n  author:" % bare)
    for name, algs, every, lead in DOMAINS:
        cfg = cfg.replace(
            "  - name: %s\n" % name,
            "  - name: %s\n    algorithms: [%s]\n    rotate_every: %s\n"
            "    publish_lead: %dh\n" % (name, ", ".join(algs), every, lead))
    open(path, "w").write(cfg)
    hook = open(os.path.join(seed, ".git/hooks/post-commit")).read()
    git(seed, "commit", "-qam", "race: two hosts, one remote")
    git(seed, "push", "-q", bare, "main")
    for h, d in list(hosts.items()) + [("check", checker)]:
        subprocess.run(["git", "clone", "-q", bare, d], check=True)
        subprocess.run(["chmod", "-R", "go-rwx", d], check=True)
        if d != checker:
            # The hook init wrote, off until a window opens.
            with open(os.path.join(d, ".git/hooks/post-commit.off"),
                      "w") as f:
                f.write(hook)
            os.chmod(os.path.join(d, ".git/hooks/post-commit.off"), 0o755)


def set_hooks(on):
    for d in hosts.values():
        hook = os.path.join(d, ".git/hooks/post-commit")
        if on and os.path.exists(hook + ".off"):
            os.rename(hook + ".off", hook)
        elif not on and os.path.exists(hook):
            os.rename(hook, hook + ".off")


# --- the remote's head, as the checker sees it
ever = {}           # (domain, sel) -> last state on the remote
last_remote = None


def remote_head():
    return git(bare, "rev-parse", "main").strip()


def check_remote(hour):
    """Every commit the remote took since the last look."""
    global last_remote
    h = remote_head()
    if h == last_remote:
        return
    if last_remote is not None:
        r = subprocess.run(["git", "-C", bare, "merge-base",
                            "--is-ancestor", last_remote, h])
        if r.returncode != 0:
            note("%s: the remote's history was rewritten" % fmt(hour))
    new = git(bare, "rev-list", "--reverse", "--first-parent",
              h if last_remote is None else "%s..%s" % (last_remote, h))
    last_remote = h
    git(checker, "fetch", "-q", "origin")
    for c in new.split():
        stats["commits"] += 1
        check_commit(hour, c)


def check_commit(hour, c):
    """docs/design.md §4 on one commit of the remote's history."""
    git(checker, "reset", "-q", "--hard", c)
    p = subprocess.run([BIN, "-C", checker, "--now", fmt(hour), "status",
                        "--json"], capture_output=True, text=True)
    if p.returncode != 0:
        note("%s: status failed: %s" % (fmt(hour), p.stderr))
        return
    seen = set()
    for d in json.loads(p.stdout)["domains"]:
        dom = d["domain"]
        tracks = {}
        for k in d["keys"]:
            key = (dom, k["selector"])
            seen.add(key)
            tracks.setdefault(k["algorithm"], []).append(k)
            prev = ever.get(key)
            if prev == "retired" and k["state"] != "retired":
                note("%s %s/%s came back as %s" % (fmt(hour), dom,
                                                   k["selector"], k["state"]))
            if k["active_from"] and \
                    ts(k["active_from"]) - ts(k["published"]) < LEAD[dom]:
                note("%s %s/%s active before publish_lead" %
                     (fmt(hour), dom, k["selector"]))
            if k["state"] == "retired" and k["active_until"] and (
                    ts(k["retired"]) - ts(k["created"]) < MIN_AGE or
                    ts(k["retired"]) - ts(k["active_until"]) < DRAIN):
                note("%s %s/%s retired before min_age/drain" %
                     (fmt(hour), dom, k["selector"]))
            ever[key] = k["state"]
        for alg, ks in tracks.items():
            for st in ("active", "pending"):
                n = sum(1 for k in ks if k["state"] == st)
                if n > 1:
                    note("%s %s %s: %d %s keys" % (fmt(hour), dom, alg, n,
                                                   st))
    # Retired long ago, moved to retired.yaml (docs/design.md §3).
    moved = retired_yaml(checker)
    for key in ever:
        if key in moved and (ever[key] != "retired" or
                             moved[key] != "retired"):
            note("%s %s/%s in retired.yaml as %s, was %s" %
                 (fmt(hour), *key, moved[key], ever[key]))
        elif key not in seen and key not in moved:
            note("%s %s/%s vanished from keys.yaml" % (fmt(hour), *key))


def run_hour(hour, fault_host, fault):
    """Both hosts at once; True when the fault fired."""
    fired = False
    procs = {}
    for h, d in hosts.items():
        f = fault if h == fault_host else None
        procs[h] = subprocess.Popen(
            [BIN, "-C", d, "--now", fmt(hour), "rotate"], env=env_with(f),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for h, p in procs.items():
        err = p.communicate()[1]
        stats["runs"] += 1
        if "another host pushed" in err:
            stats["lost_race"] += 1
        if p.returncode == 99:
            stats["killed"][fault] = stats["killed"].get(fault, 0) + 1
            fired = True
        elif p.returncode == 75:
            stats["75"] += 1
        elif p.returncode != 0:
            note("%s: rotate on %s exited %d: %s" %
                 (fmt(hour), h, p.returncode, err.strip()))
    return fired


def rpm_vcs(path):
    return subprocess.run(["rpm", "-qp", "--qf", "%{VCS}", path],
                          capture_output=True, text=True).stdout.strip()


def main():
    setup()
    t0 = time.time()
    hook_on = False
    # (host, fault), kept until it fires.  The first keys are made at
    # hour 0: the one point only key generation reaches, first.
    armed = (rng.choice(sorted(hosts)), "after-key-write")
    for hour in range(HOURS):
        want = any(a <= hour < b for a, b in WINDOWS)
        if want != hook_on:
            set_hooks(want)
            hook_on = want
        # The points not reached yet first, then now and then any.
        left = [f for f in FAULTS if f not in stats["killed"]]
        if armed is None and (left or rng.random() < 0.2):
            armed = (rng.choice(sorted(hosts)), rng.choice(left or FAULTS))
        if run_hour(hour, *(armed or (None, None))):
            armed = None
        check_remote(hour)
    # The end: one clean run each, with the hooks.
    set_hooks(True)
    for h in sorted(hosts):
        run_hour(HOURS, None, None)
    check_remote(HOURS)
    pkgs = {}
    stray = 0
    for h, d in hosts.items():
        for sub in ("private", "public"):
            top = os.path.join(d, "rpms", sub)
            for f in sorted(os.listdir(top)) if os.path.isdir(top) else []:
                if not f.endswith(".rpm"):
                    continue
                path = os.path.join(top, f)
                vcs = rpm_vcs(path)
                r = subprocess.run(["git", "-C", bare, "merge-base",
                                    "--is-ancestor", vcs, "main"],
                                   capture_output=True)
                if r.returncode != 0:
                    stray += 1
                    note("%s/%s is of %s, which the remote lacks" %
                         (h, f, vcs))
                pkgs.setdefault(f, []).append(path)
    both = [f for f, ps in pkgs.items() if len(ps) == 2]
    differ = [f for f in both
              if open(pkgs[f][0], "rb").read() != open(pkgs[f][1],
                                                       "rb").read()]
    fsck = subprocess.run(["git", "-C", bare, "fsck", "--strict"],
                          capture_output=True, text=True)
    results = [
        ("every invariant held on every commit of the remote",
         not problems),
        ("every package is of a pushed commit (%d packages)" %
         sum(len(p) for p in pkgs.values()), stray == 0 and pkgs),
        ("both hosts built byte-identical packages of the same commits "
         "(%d in common)" % len(both), both and not differ),
        ("the hosts lost races and planned again (%d)" % stats["lost_race"],
         stats["lost_race"] > 0),
        ("runs were killed at every fault point (%s)" %
         json.dumps(stats["killed"], sort_keys=True),
         all(stats["killed"].get(n, 0) > 0 for n in FAULTS)),
        ("git fsck --strict of the remote is clean", fsck.returncode == 0),
    ]
    print("1..%d" % len(results))
    print("# seed %d (DKIMROT_SIM_SEED), %d hours, %d runs, %d commits on "
          "the remote, %d gave up (75), %.0f s" %
          (SEED, HOURS, stats["runs"], stats["commits"], stats["75"],
           time.time() - t0))
    for i, (desc, good) in enumerate(results, 1):
        print("%sok %d - %s" % ("" if good else "not ", i, desc))
    for p in problems:
        print("# " + p)
    if not problems and all(g for _, g in results):
        shutil.rmtree(tmp)
    else:
        print("# left in " + tmp)


main()
