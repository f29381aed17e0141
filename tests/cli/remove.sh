#!/bin/sh
# dkimrot remove (policy.h rule 8): a domain leaves.  It stops signing in
# the commit remove makes, its entry leaves dkimrot.yaml with the rest of
# the file as written, its keys drain (min_age, drain) and retire; status
# says when it is gone; a domain already deleted from dkimrot.yaml is
# confirmed the same way; adding it back resumes it; the refusals.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
R=$tmp/repo
t0=2026-11-22T00:00:00Z

dk -C "$R" --now $t0 init --no-sign -d a.example -d b.example -d c.example \
    >/dev/null 2>&1 || bail "init failed"
rm "$R/.git/hooks/post-commit"
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e 's/^  - name: b.example$/  - name: b.example  # a customer\n    algorithms: [rsa, ed25519]\n    ttl: 600/' \
    "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "test configuration"
dk -C "$R" --now $t0 -q rotate >/dev/null &&
    dk -C "$R" --now 2026-11-23T00:00:00Z -q rotate >/dev/null ||
    bail "the first rotations failed"
cp "$R/dkimrot.yaml" "$tmp/before.yaml"
before=$(tree "$R")

# --- the refusals change nothing
expect "remove without -d is a usage error" 2 \
    "$(dk remove 2>&1 >/dev/null)" -C "$R" remove
expect "remove of a domain neither configured nor with keys" 2 \
    "dkimrot: domain 'x.example' is not in dkimrot.yaml and has no keys" \
    -C "$R" --now 2026-11-24T00:00:00Z remove -d x.example
expect "remove of an invalid name" 2 \
    "dkimrot: invalid domain 'b_x.example': only letters, digits, '-' and '.' are allowed (IDNs as xn-- A-labels)" \
    -C "$R" remove -d b_x.example
check "the refusals changed nothing" [ "$(tree "$R")" = "$before" ]

# --- dry run
dk -C "$R" --now 2026-11-24T00:00:00Z remove -n -d b.example \
    >"$tmp/out" 2>"$tmp/err"
echo 'b.example: 20261122000000r active -> retiring; 20261122000000e active -> retiring; leaving; out of dkimrot.yaml' \
    >"$tmp/want"
check "remove --dry-run prints what it would do" same "$tmp/want" "$tmp/out"
check "remove --dry-run changes nothing" [ "$(tree "$R")" = "$before" ]

# --- remove
dk -C "$R" --now 2026-11-24T00:00:00Z -q remove -d b.example >"$tmp/out"
check "remove prints what it did" same "$tmp/want" "$tmp/out"
check "one commit, whose message says it" \
    eval 'git -C "$R" log -1 --format=%B | grep -qx \
    "b.example: 20261122000000r active -> retiring; 20261122000000e active -> retiring; leaving; out of dkimrot.yaml"'
check "the commit holds dkimrot.yaml and keys.yaml" \
    [ "$(git -C "$R" show --format= --name-only HEAD | tr '\n' ' ')" = \
    "dkimrot.yaml keys/b.example/keys.yaml " ]
grep -v -e '^  - name: b.example  # a customer$' \
    -e '^    algorithms: \[rsa, ed25519\]$' -e '^    ttl: 600$' \
    "$tmp/before.yaml" >"$tmp/want"
check "its entry left dkimrot.yaml, the rest as written" \
    same "$tmp/want" "$R/dkimrot.yaml"
check "keys.yaml records it as leaving" \
    grep -qx 'leaving: 2026-11-24T00:00:00Z' "$R/keys/b.example/keys.yaml"
check "the work tree is clean" [ -z "$(git -C "$R" status --porcelain)" ]
dk -C "$R" --now 2026-11-24T00:00:00Z status -d b.example >"$tmp/out"
cat >"$tmp/want" <<'EOF'
b.example
  leaving: removed 2026-11-24T00:00:00Z, signs no more; gone from DNS and the packages at 2026-11-28T00:00:00Z
  20261122000000e  ed25519  256  retiring age 2d        -> retired at 2026-11-28T00:00:00Z
  20261122000000r  rsa     1024  retiring age 2d        -> retired at 2026-11-28T00:00:00Z
EOF
check "status shows it leaving, with the date it will be gone" \
    same "$tmp/want" "$tmp/out"
dk -C "$R" --now 2026-11-24T00:00:00Z status --json >"$tmp/out"
check "status --json lists it last, with leaving" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["domains"]
assert [x["domain"] for x in d] == ["a.example", "c.example", "b.example"]
assert d[0]["leaving"] is None
assert d[2]["leaving"] == {"since": "2026-11-24T00:00:00Z",
    "gone": "2026-11-28T00:00:00Z", "resumes": False}, d[2]["leaving"]
' "$tmp/out"
dk -C "$R" --now 2026-11-24T00:00:00Z -q remove -d b.example >"$tmp/out" \
    2>&1
echo 'b.example: leaving since 2026-11-24T00:00:00Z' >"$tmp/want"
check "remove again says so and changes nothing" \
    same "$tmp/want" "$tmp/out"

# --- drain
dk -C "$R" --now 2026-11-27T23:59:59Z rotate >"$tmp/out" 2>&1
check "no key of it retires before drain, and no warning" \
    eval '[ ! -s "$tmp/out" ] && [ -f "$R/keys/b.example/20261122000000r.private" ]'
dk -C "$R" --now 2026-11-28T00:00:00Z -q rotate -d b.example >"$tmp/out" \
    2>&1
echo 'b.example: 20261122000000r retiring -> retired; 20261122000000e retiring -> retired' \
    >"$tmp/want"
check "after drain every key retires, below keep_published" \
    same "$tmp/want" "$tmp/out"
check "its key files are gone, keys.yaml (its history) stays" \
    [ "$(ls "$R/keys/b.example")" = keys.yaml ]
dk -C "$R" --now 2026-11-29T00:00:00Z status -d b.example >"$tmp/out"
check "status says it is gone" grep -qx \
    '  left: removed 2026-11-24T00:00:00Z, out of DNS and the packages since 2026-11-28T00:00:00Z' \
    "$tmp/out"

# --- a domain deleted from dkimrot.yaml by hand, then confirmed
sed -i '/^  - name: c.example$/d' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "c.example leaves"
dk -C "$R" --now 2026-11-29T00:00:00Z rotate >"$tmp/out" 2>&1
echo "dkimrot: warning: c.example: has keys but is not in dkimrot.yaml; its keys are left as they are" \
    >"$tmp/want"
check "deleted from dkimrot.yaml alone: a warning, its keys as they are" \
    same "$tmp/want" "$tmp/out"
dk -C "$R" --now 2026-11-29T00:00:00Z -q remove -d c.example >"$tmp/out"
echo 'c.example: 20261122000000 active -> retiring; leaving' >"$tmp/want"
check "remove confirms it: it stops signing" same "$tmp/want" "$tmp/out"
dk -C "$R" --now 2026-11-29T00:00:00Z rotate >"$tmp/out" 2>&1
check "and the warning is gone" [ ! -s "$tmp/out" ]

# --- back before it is gone: resumes
printf '  - name: c.example\n' >>"$tmp/add"
sed -i '/^  - name: a.example$/r '"$tmp/add" "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "c.example is back"
dk -C "$R" --now 2026-11-30T00:00:00Z status -d c.example >"$tmp/out"
check "status: back in dkimrot.yaml, resumes at the next rotate" grep -qx \
    '  leaving since 2026-11-29T00:00:00Z, but back in dkimrot.yaml: resumes at the next rotate' \
    "$tmp/out"
dk -C "$R" --now 2026-11-30T00:00:00Z -q rotate >"$tmp/out" 2>&1
echo 'c.example: back in dkimrot.yaml; +20261130000000 pending (rsa 1024)' \
    >"$tmp/want"
check "rotate resumes it with a new key" same "$tmp/want" "$tmp/out"
check "keys.yaml no longer says leaving" \
    not grep -q '^leaving:' "$R/keys/c.example/keys.yaml"
dk -C "$R" --now 2026-12-01T00:00:00Z -q rotate >"$tmp/out" 2>&1
echo 'c.example: 20261130000000 pending -> active' >"$tmp/want"
check "and it signs after publish_lead" same "$tmp/want" "$tmp/out"

# --- a list dkimrot cannot edit: refused, nothing changed
sed -i 's/^  - name: a.example$/  - {name: a.example}/' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "flow style"
before=$(tree "$R")
expect "an entry not in the block form is left to the operator" 2 \
    "dkimrot: cannot take 'a.example' out of dkimrot.yaml: line 23 is not '- name: a.example' (edit the file by hand, then run the command again)" \
    -C "$R" --now 2026-12-01T00:00:00Z remove -d a.example
check "and nothing changed" [ "$(tree "$R")" = "$before" ]
echo "1..$n"
