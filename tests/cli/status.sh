#!/bin/sh
# status tells what will happen, and when only when it will: a retiring
# key that keep_published holds says so instead of a retire date that
# will not hold, and a key created after --now is not "0s" old.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1
PY=/usr/bin/python3
R=$tmp/r
dk -C "$R" --now 2026-11-20T00:00:00Z init --no-sign -d x.example \
    >/dev/null 2>&1 || bail "init failed"
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e 's|mta_reload: .*|mta_reload: ""|' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "small keys" || bail "commit failed"
for t in 2026-11-20 2026-11-21 2026-12-20 2026-12-21; do
	dk -C "$R" --now "${t}T00:00:00Z" -q rotate >/dev/null 2>&1 ||
	    bail "rotate at $t failed"
done

dk -C "$R" --now 2026-12-22T00:00:00Z status >"$tmp/got" 2>&1
cat >"$tmp/want" <<'EOF'
x.example
  20261120000000   rsa     1024  retiring age 4w4d      -> retired: 20261120000000 waits: keep_published 2 rsa keys stay published; it retires once another is published, not before 2026-12-25T00:00:00Z
  20261220000000   rsa     1024  active   age 2d        -> retiring at 2027-01-20T00:00:00Z
  next rsa key: 2027-01-19T00:00:00Z
EOF
check "a retiring key held by keep_published: no retire date that will not hold" \
    same "$tmp/want" "$tmp/got"
dk -C "$R" --now 2026-12-22T00:00:00Z status --json >"$tmp/json"
"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
k = d["domains"][0]["keys"][0]
print(k["next"]["at"], k["next"]["reason"].split(":")[0])' "$tmp/json" \
    >"$tmp/got" 2>&1
echo "None 20261120000000 waits" >"$tmp/want"
check "... and in JSON its next has no time" same "$tmp/want" "$tmp/got"

# Asked about a time before the newer key existed
dk -C "$R" --now 2026-11-25T00:00:00Z status >"$tmp/got" 2>&1
grep -c ' age -3w4d ' "$tmp/got" >"$tmp/n"
check "a key created after --now has a negative age, not 0s" \
    [ "$(cat "$tmp/n")" = 1 ]
echo "1..$n"
