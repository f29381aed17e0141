#!/bin/sh
# rotate --start (policy.h rule 7): a rotation begun now, by hand, whatever
# the keys' age; the new key waits for publish_lead before it signs and the
# old one drains as usual.  And status saying when a changed rsa_bits takes
# effect.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
R=$tmp/repo
t0=2026-11-22T00:00:00Z

dk -C "$R" --now $t0 init --no-sign -d example.com -d example.org \
    >/dev/null 2>&1 || bail "init failed"
# Packaging is not this test's business.
rm "$R/.git/hooks/post-commit"
sed -i 's/rsa_bits: 2048/rsa_bits: 1024/' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "small keys for the test"
dk -C "$R" --now $t0 -q rotate >/dev/null &&
    dk -C "$R" --now 2026-11-23T00:00:00Z -q rotate >/dev/null ||
    bail "first rotation failed"

# --- rsa_bits changed: status says when it takes effect
sed -i 's/rsa_bits: 1024/rsa_bits: 2048/' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "bigger keys"
dk -C "$R" --now 2026-11-25T00:00:00Z status -d example.com >"$tmp/out"
cat >"$tmp/want" <<'EOF'
example.com
  20261122000000   rsa     1024  active   age 3d        -> retiring at 2026-12-01T02:12:00Z
  next rsa key: 2026-11-30T02:12:00Z
  rsa_bits 2048 (active key 20261122000000 has 1024) takes effect at the next rotation, 2026-11-30T02:12:00Z;
  'dkimrot rotate --start' brings it forward
EOF
check "status: a changed rsa_bits takes effect at the next rotation" \
    same "$tmp/want" "$tmp/out"
dk -C "$R" --now 2026-11-25T00:00:00Z status --json -d example.com \
    >"$tmp/out"
check "status --json: the change and its date" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["domains"][0]
assert d["changes"] == [{"algorithm": "rsa", "setting": "rsa_bits",
    "from": 1024, "to": 2048, "at": "2026-11-30T02:12:00Z"}], d["changes"]
' "$tmp/out"
dk -C "$R" --now 2026-11-25T00:00:00Z rotate >"$tmp/out" 2>&1
check "without --start nothing happens" [ ! -s "$tmp/out" ]

# --- rotate --start
head=$(git -C "$R" rev-parse HEAD)
dk -C "$R" --now 2026-11-25T00:00:00Z -q rotate --start --dry-run \
    -d example.com >"$tmp/out" 2>&1
echo 'example.com: +20261125000000 pending (rsa 2048)' >"$tmp/want"
check "--start --dry-run prints the plan" same "$tmp/want" "$tmp/out"
check "--start --dry-run changes nothing" \
    eval '[ "$(git -C "$R" rev-parse HEAD)" = "$head" ] && \
    [ ! -e "$R/keys/example.com/20261125000000.private" ]'
dk -C "$R" --now 2026-11-25T00:00:00Z -q rotate --start -d example.com \
    >"$tmp/out" 2>&1
check "--start -d: a pending key of the new size, now, for that domain" \
    same "$tmp/want" "$tmp/out"
check "--start commits it" \
    eval 'git -C "$R" log -1 --format=%B | grep -qx \
    "example.com: +20261125000000 pending (rsa 2048)"'
dk -C "$R" --now 2026-11-25T00:00:00Z status -d example.org >"$tmp/out"
check "the domain not named is left alone" \
    not grep -q 20261125 "$tmp/out"
dk -C "$R" --now 2026-11-25T06:00:00Z rotate --start -d example.com \
    >"$tmp/out" 2>&1
check "a second --start while the rotation is under way does nothing" \
    [ ! -s "$tmp/out" ]
dk -C "$R" --now 2026-11-25T23:59:59Z rotate >"$tmp/out" 2>&1
check "the new key does not sign before publish_lead" [ ! -s "$tmp/out" ]
dk -C "$R" --now 2026-11-26T00:00:00Z -q rotate >"$tmp/out" 2>&1
echo 'example.com: 20261122000000 active -> retiring; 20261125000000 pending -> active' \
    >"$tmp/want"
check "after publish_lead it signs and the old key drains" \
    same "$tmp/want" "$tmp/out"
dk -C "$R" --now 2026-11-29T23:59:59Z rotate >"$tmp/out" 2>&1
check "the old key stays published for drain" eval '[ ! -s "$tmp/out" ] && \
    [ -f "$R/keys/example.com/20261122000000.private" ]'
dk -C "$R" --now 2026-11-30T00:00:00Z rotate -d example.com \
    >"$tmp/out" 2>&1
check "after drain it still waits for keep_published" [ ! -s "$tmp/out" ]
dk -C "$R" --now 2026-11-30T00:00:00Z status -d example.com >"$tmp/out"
check "the change is in effect: status no longer mentions it" \
    not grep -q rsa_bits "$tmp/out"

# --- --start for every domain, dual signing
sed -i 's/^  - name: example.org$/  - name: example.org\n    algorithms: [rsa, ed25519]/' \
    "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "dual"
dk -C "$R" --now 2026-11-30T00:00:00Z -q rotate --start >"$tmp/out" 2>&1
cat >"$tmp/want" <<'EOF'
example.com: +20261130000000 pending (rsa 2048); 20261122000000 retiring -> retired
example.org: +20261130000000r pending (rsa 2048); +20261130000000e pending (ed25519 256)
EOF
check "--start without -d: every track of every domain; the drained key goes" \
    same "$tmp/want" "$tmp/out"
expect "--start -d refuses a domain not configured" 2 \
    "dkimrot: domain 'example.net' is not in dkimrot.yaml" \
    -C "$R" --now 2026-11-30T00:00:00Z rotate --start -d example.net
echo "1..$n"
