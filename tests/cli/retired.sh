#!/bin/sh
# keys.yaml stays small as years pass (docs/design.md §3): a key retired
# 30 days before the latest event keys.yaml records moves to retired.yaml,
# committed beside it; no key is lost or kept twice, not when the run is
# killed between the two files, not when both hold a key; a clock gone
# back does not reuse an archived selector; retired.yaml is kept by the
# repair, refused as a link and when it holds a key not retired.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1
PY=/usr/bin/python3
R=$tmp/r
K=$R/keys/a.example
T0=$(date -u -d 2026-01-01T00:00:00Z +%s)
day() { date -u -d "@$((T0 + $1 * 86400))" +%Y-%m-%dT%H:%M:%SZ; }
dk -C "$R" --now "$(day 0)" init --no-sign -d a.example >/dev/null 2>&1 ||
    bail "init failed"
sed -i -e 's/algorithms: \[rsa\]/algorithms: [ed25519]/' \
    -e 's/rotate_every: 30d/rotate_every: 7d/' \
    -e 's|mta_reload: .*|mta_reload: ""|' "$R/dkimrot.yaml"
grep -q 'rotate_every: 7d' "$R/dkimrot.yaml" &&
    grep -q 'algorithms: \[ed25519\]' "$R/dkimrot.yaml" || bail "no config"
rm -f "$R/.git/hooks/post-commit"
gitq -C "$R" commit -qam "weekly keys" || bail "commit failed"
d=1
while [ $d -le 72 ]; do
	dk -C "$R" --now "$(day $d)" -q rotate >/dev/null 2>"$tmp/err" ||
	    { diag "$tmp/err"; bail "rotate of day $d failed"; }
	d=$((d + 1))
done

# every selector ever made, from git's history of the .txt files
made() {
	git -C "$R" log --diff-filter=A --name-only --format= -- keys |
	    sed -n 's|^keys/a.example/\([0-9]*\)\.txt$|\1|p' | sort -u
}
# The files' keys: "keys SEL STATE" and "retired SEL STATE" lines, and
# what is wrong with them (a moved key not retired 30 days before
# keys.yaml's latest event, one in both, one lost).
audit() {
	made >"$tmp/made"
	"$PY" - "$K" "$tmp/made" <<'PY'
import sys, yaml
from datetime import timezone
d, made = sys.argv[1], open(sys.argv[2]).read().split()
def keys(name):
    try:
        return yaml.safe_load(open("%s/%s" % (d, name)))["keys"] or []
    except FileNotFoundError:
        return []
def t(v):
    return v.replace(tzinfo=timezone.utc).timestamp() if v else 0
k, r = keys("keys.yaml"), keys("retired.yaml")
latest = max(t(x[f]) for x in k for f in
             ("created", "published", "active_from", "active_until",
              "retired", "revoked"))
bad = []
for x in k:
    if x["state"] == "retired" and t(x["retired"]) <= latest - 30 * 86400:
        bad.append("kept %s" % x["selector"])
for x in r:
    if x["state"] != "retired":
        bad.append("moved %s is %s" % (x["selector"], x["state"]))
ks, rs = {x["selector"] for x in k}, {x["selector"] for x in r}
bad += ["both %s" % s for s in sorted(ks & rs)]
bad += ["lost %s" % s for s in made if s not in ks | rs]
print("keys %d retired %d %s" % (len(ks), len(rs), " ".join(bad) or "ok"))
PY
}
audit >"$tmp/a"
check "after 72 days of weekly keys: older retired keys in retired.yaml" \
    grep -Eq '^keys [1-7] retired [1-9][0-9]* ok$' "$tmp/a"
diag "$tmp/a"
check "retired.yaml is committed, 0644" eval \
    'git -C "$R" cat-file -e HEAD:keys/a.example/retired.yaml &&
    [ "$(stat -c %a "$K/retired.yaml")" = 644 ] &&
    [ -z "$(git -C "$R" status --porcelain)" ]'

# The clock back to an archived key's time (day 72: no key pending, so
# --start makes one): that selector is not reused.
sel=$(sed -n 's/^  - selector: "\([0-9]*\)"$/\1/p' "$K/retired.yaml" |
    head -1)
back=$(echo "$sel" | sed 's/\(....\)\(..\)\(..\)\(..\)\(..\)\(..\)/\1-\2-\3T\4:\5:\6Z/')
git -C "$R" rev-parse HEAD >"$tmp/h0"
dk -C "$R" --now "$back" rotate --force --start >/dev/null 2>"$tmp/err"
check "a forced rotate back at $back: refused for that domain" [ $? = 1 ]
check "... saying the selector is a retired key's" grep -q \
    "selector '$sel' of a.example is taken: keys/a.example/retired.yaml holds a retired key" \
    "$tmp/err"
check "... nothing made or committed" eval \
    '[ ! -e "$K/$sel.private" ] && [ "$(git -C "$R" rev-parse HEAD)" = "$(cat "$tmp/h0")" ] &&
    [ -z "$(git -C "$R" status --porcelain)" ]'

# import names its selector: an archived one is refused too; revoke of
# an archived key says it is retired.
openssl genpkey -algorithm ed25519 -out "$tmp/imp.pem" 2>/dev/null ||
    bail "openssl genpkey failed"
dk -C "$R" --now "$(day $d)" import -d a.example -s "$sel" \
    --private "$tmp/imp.pem" >/dev/null 2>"$tmp/err"
rc=$?
check "import -s $sel (archived): refused, exit 2, nothing left" eval \
    '[ $rc = 2 ] && grep -q "selector .$sel. of a.example is taken" \
    "$tmp/err" && [ ! -e "$K/$sel.private" ] && [ ! -e "$K/$sel.txt" ] &&
    [ "$(git -C "$R" rev-parse HEAD)" = "$(cat "$tmp/h0")" ] &&
    [ -z "$(git -C "$R" status --porcelain)" ]'
diag "$tmp/err"
dk -C "$R" --now "$(day $d)" revoke -d a.example -s "$sel" >/dev/null \
    2>"$tmp/err"
rc=$?
check "revoke -s $sel (archived): refused as retired" eval \
    '[ $rc != 0 ] && grep -q "cannot revoke key .$sel. of a.example: it is retired" "$tmp/err"'
diag "$tmp/err"

# Killed between retired.yaml and keys.yaml: rolled back, then redone.
killed=
while [ $d -le 100 ] && [ -z "$killed" ]; do
	DKIMROT_FAULT=after-retired-yaml "$DKIMROT_FAULTS" -C "$R" \
	    --now "$(day $d)" -q rotate >/dev/null 2>&1
	case $? in
	99) killed=$d ;;
	0) d=$((d + 1)) ;;
	*) bail "the faults binary failed on day $d" ;;
	esac
done
[ -n "$killed" ] || bail "no run moved a key by day 100"
dk -C "$R" --now "$(day "$killed")" -q rotate >/dev/null 2>"$tmp/err"
check "killed after retired.yaml: the next run exits 0" [ $? = 0 ]
audit >"$tmp/a"
check "... nothing lost, nothing in both files, no change uncommitted" \
    eval 'grep -Eq " ok$" "$tmp/a" &&
    [ -z "$(git -C "$R" status --porcelain)" ]'
diag "$tmp/a"

# A key in both files (as a crash between the renames would leave it,
# had nothing rolled it back): the next move keeps the one in retired.yaml.
"$PY" - "$K" <<'PY'
import re, sys
d = sys.argv[1]
r = open(d + "/retired.yaml").read()
first = re.search(r'(?ms)^  - selector: .*?(?=^  - |\Z)', r).group(0)
k = open(d + "/keys.yaml").read()
open(d + "/keys.yaml", "w").write(k.replace("keys:\n", "keys:\n" + first, 1))
PY
gitq -C "$R" commit -qam "a key in both" || bail "commit failed"
audit | grep -q ' both ' || bail "no key in both files"
moved=
d=$((killed + 1))
while [ $d -le 140 ] && [ -z "$moved" ]; do
	dk -C "$R" --now "$(day $d)" -q rotate >/dev/null 2>&1 ||
	    bail "rotate of day $d failed"
	git -C "$R" show --stat --format= HEAD | grep -q retired.yaml &&
	    moved=$d
	d=$((d + 1))
done
audit >"$tmp/a"
check "a key in both files: once, in retired.yaml, after the next move" \
    eval '[ -n "$moved" ] && grep -Eq " ok$" "$tmp/a"'
diag "$tmp/a"

# retired.yaml as a link: refused, not followed.
mv "$K/retired.yaml" "$tmp/saved"
ln -s "$tmp/saved" "$K/retired.yaml"
dk -C "$R" --now "$(day $d)" -q rotate >/dev/null 2>"$tmp/err"
rc=$?
check "retired.yaml a symlink: rotate refuses, not following it" eval \
    '[ $rc = 1 ] && [ -L "$K/retired.yaml" ] && grep -q \
    "refusing .keys/a.example/retired.yaml.: a symbolic link" "$tmp/err"'
rm "$K/retired.yaml"
mv "$tmp/saved" "$K/retired.yaml"

# A key in retired.yaml that is not retired is an error, said so.
sed -i '0,/state: retired/s//state: active/' "$K/retired.yaml"
gitq -C "$R" commit -qam "an active key in retired.yaml" || bail "commit"
rc=0
while [ $d -le 200 ] && [ $rc = 0 ]; do
	dk -C "$R" --now "$(day $d)" -q rotate >/dev/null 2>"$tmp/err"
	rc=$?
	d=$((d + 1))
done
check "an active key in retired.yaml: refused when it is next read" grep -q \
    "keys/a.example/retired.yaml: key '[0-9]*' is active; this file holds retired keys only" \
    "$tmp/err"
echo "1..$n"
