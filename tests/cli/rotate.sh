#!/bin/sh
# init, rotate, status, import, revoke: what they write and commit, the repairs
# of docs/design.md §3, and every refusal with its exact message, its exit code
# and an untouched repository.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
R=$tmp/repo
now=2026-11-22T13:15:00Z
day2=2026-11-23T13:15:00Z

# --- init
dk -C "$R" --now $now init -d example.com -d Example.ORG >"$tmp/out" 2>&1
check "init succeeds" [ $? = 0 ]
check "init commits dkimrot.yaml and .gitignore" \
    [ "$(git -C "$R" show --format= --name-only HEAD | sort | tr '\n' ' ')" = \
    ".gitignore dkimrot.yaml " ]
check "init lists the domains, lower-cased" \
    grep -qx '  - name: example.org' "$R/dkimrot.yaml"
check "init installs an executable post-commit hook calling this binary" \
    grep -q "'$DKIMROT' -C . package" "$R/.git/hooks/post-commit"
expect "init refuses an existing repository" 1 \
    "dkimrot: '$R' is already a git repository; 'dkimrot init' makes new ones only" \
    -C "$R" init
# Packaging is not this test's business.
rm "$R/.git/hooks/post-commit"
sed -i 's/rsa_bits: 2048/rsa_bits: 1024/' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "small keys for the test"

# --- rotate
dk -C "$R" --now $now rotate --dry-run >"$tmp/dry" 2>"$tmp/dryerr"
check "dry run changes nothing" \
    [ -z "$(git -C "$R" status --porcelain)" ]
check "dry run changes nothing (2)" \
    [ ! -d "$R/keys" ]
cat >"$tmp/want" <<EOF
example.com: +20261122131500 pending (rsa 1024)
example.org: +20261122131500 pending (rsa 1024)
EOF
check "dry run prints the plan" \
    same "$tmp/want" "$tmp/dry"
check "dry run prints the plan (2)" \
    [ "$(cat "$tmp/dryerr")" = "dkimrot: dry run: nothing was changed" ]
dk -C "$R" --now $now -q rotate >"$tmp/out"
check "rotate prints what it did" same "$tmp/want" "$tmp/out"
check "rotate commits keys and keys.yaml" \
    [ "$(git -C "$R" show --format= --name-only HEAD | wc -l)" = 6 ]
check "the commit message lists every action" \
    eval 'git -C "$R" log -1 --format=%B | grep -qx \
    "example.com: +20261122131500 pending (rsa 1024)"'
check "private keys are 0600 in 0700 directories" \
    [ "$(stat -c %a "$R/keys" "$R/keys/example.com" \
    "$R/keys/example.com/20261122131500.private" | tr '\n' ' ')" = \
    "700 700 600 " ]
dk -C "$R" --now $now rotate >"$tmp/out" 2>&1
check "a second rotate at the same time does nothing" \
    eval '[ ! -s "$tmp/out" ] && [ "$(git -C "$R" rev-list --count HEAD)" = 3 ]'
dk -C "$R" --now $day2 -q rotate >"$tmp/out"
check "after publish_lead the pending keys activate" \
    grep -qx 'example.com: 20261122131500 pending -> active' "$tmp/out"
dk -C "$R" --now $day2 status >"$tmp/out"
check "status shows the active key" \
    grep -q '^  20261122131500   rsa     1024  active' "$tmp/out"
dk -C "$R" --now $day2 status --json -d example.org >"$tmp/out"
check "status --json is JSON with the documented fields" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
k = d["domains"][0]["keys"][0]
assert d["now"] == "2026-11-23T13:15:00Z" and len(d["domains"]) == 1
for f in ("selector", "algorithm", "bits", "state", "created", "published",
          "active_from", "active_until", "retired"):
    assert f in k, f
assert k["state"] == "active" and k["active_until"] is None
' "$tmp/out"

# --- repairs
before=$(tree "$R")
echo debris >"$R/keys/example.com/20990101000000.private"
echo debris >"$R/keys/example.com/keys.yaml.tmp.abc123"
dk -C "$R" --now $day2 rotate >"$tmp/out" 2>"$tmp/err"
check "orphan files are removed" [ "$before" = "$(tree "$R")" ]
check "and reported" grep -q 'example.com: removed 2 files' "$tmp/err"
chmod 0644 "$R/keys/example.com/20261122131500.private"
# A chmod changes neither keys/ nor keys/DOMAIN: a run whose due index
# holds leaves the domain alone until it is due (at most a day,
# docs/design.md §15; the repository is 0700 all the while); every run
# that visits it puts the modes right.
rm -f "$R/.git/dkimrot-due"
dk -C "$R" --now $day2 rotate >/dev/null 2>&1
check "modes are enforced on every run that visits the domain" [ "$(stat -c %a \
    "$R/keys/example.com/20261122131500.private")" = 600 ]
mv "$R/keys/example.org/20261122131500.private" "$tmp/saved"
before=$(git -C "$R" rev-parse HEAD:keys/example.org)
expect "a missing key file stops that domain" 1 \
    "dkimrot: example.org: key file 'keys/example.org/20261122131500.private' is missing; keys.yaml names it (state active)" \
    -C "$R" --now 2027-01-01T00:00:00Z -q rotate
check "and touches nothing of it" \
    [ "$before" = "$(git -C "$R" rev-parse HEAD:keys/example.org)" ]
check "and touches nothing of it (2)" \
    [ "$(git -C "$R" status --porcelain keys/example.org)" = \
    " D keys/example.org/20261122131500.private" ]
check "while the other domain rotated" \
    grep -q '^example.com: +20270101000000 pending' "$tmp/.out"
mv "$tmp/saved" "$R/keys/example.org/20261122131500.private"

# --- bad input: clear message, non-zero exit, nothing changed
before=$(tree "$R")
expect "not a repository" 1 \
    "dkimrot: '$tmp' is not a git repository (run 'dkimrot init')" \
    -C "$tmp" rotate
expect "unknown domain in --domain" 2 \
    "dkimrot: domain 'example.net' is not in dkimrot.yaml" \
    -C "$R" rotate --domain example.net
expect "--now unparsable" 2 \
    "dkimrot: invalid time 'tomorrow': expected RFC 3339 (2026-11-22T13:15:00Z) or @EPOCH" \
    -C "$R" --now tomorrow rotate
expect "clock going back is refused" 1 \
    "dkimrot: example.com: clock went back: 2026-11-01T00:00:00Z is earlier than the last recorded event 2027-01-01T00:00:00Z for example.com; use --force" \
    -C "$R" --now 2026-11-01T00:00:00Z rotate -d example.com
expect "revoke of an unknown selector" 1 \
    "dkimrot: cannot revoke key '19990101000000': example.com has no such key" \
    -C "$R" --now 2027-01-01T00:00:00Z revoke -d example.com -s 19990101000000
check "and none of them changed anything" [ "$before" = "$(tree "$R")" ]
cp "$R/keys/example.org/keys.yaml" "$tmp/keys.yaml"
sed -i 's/^    state: active/    state: actve/' "$R/keys/example.org/keys.yaml"
dk -C "$R" --now 2027-01-01T00:00:00Z rotate -d example.org >/dev/null \
    2>"$tmp/err"
check "malformed keys.yaml names line and column" \
    grep -q "^dkimrot: example.org: keys/example.org/keys.yaml:[0-9]*:[0-9]*: " \
    "$tmp/err"
cp "$tmp/keys.yaml" "$R/keys/example.org/keys.yaml"

# --- import and revoke
opendkim-genkey -b 1024 -D "$tmp" -d example.com -s legacy 2>/dev/null
dk -C "$R" --now 2027-01-02T00:00:00Z import -d example.com -s legacy \
    --private "$tmp/legacy.private" --active >"$tmp/out" 2>&1
check "import --active adopts an opendkim-genkey key as the signing key" \
    grep -q '^example.com: +legacy imported (rsa 1024); 20261122131500 active -> retiring; legacy pending -> active$' \
    "$tmp/out"
check "the imported key is stored as PKCS#8, 0600" \
    [ "$(head -n 1 "$R/keys/example.com/legacy.private")" = \
    "-----BEGIN PRIVATE KEY-----" ]
check "the imported key is stored as PKCS#8, 0600 (2)" \
    [ "$(stat -c %a "$R/keys/example.com/legacy.private")" = 600 ]
dk -C "$R" --now 2027-01-02T00:00:00Z revoke -d example.com -s legacy \
    >"$tmp/out" 2>"$tmp/err"
check "revoke of the signing key activates the pending one, with a warning" \
    grep -q 'legacy active -> revoked' "$tmp/out"
check "revoke of the signing key activates the pending one, with a warning (2)" \
    grep -q 'warning' "$tmp/err"
check "the revoked key is published with p= empty, its private key gone" \
    grep -q 'p=' "$R/keys/example.com/legacy.txt"
check "the revoked key is published with p= empty, its private key gone (2)" \
    not grep -q 'p=[A-Za-z0-9]' "$R/keys/example.com/legacy.txt"
check "the revoked key is published with p= empty, its private key gone (3)" \
    [ ! -e "$R/keys/example.com/legacy.private" ]
echo "1..$n"
