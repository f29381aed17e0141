#!/bin/sh
# import --opendkim: an OpenDKIM installation's KeyTable and SigningTable
# adopted in one commit; every refusal with its file and line, and then
# nothing imported; --dry-run; the keys as they were (compared by their
# public halves, never printed).
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
V=$DKIMROT_SRC/tests/vectors
R=$tmp/repo
O=$tmp/opendkim
now=2026-11-22T00:00:00Z
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1

dk -C "$R" --now $now init --no-sign -d a.example >/dev/null 2>&1 ||
    bail "init failed"
rm "$R/.git/hooks/post-commit"
mkdir -p "$O/keys" && cp "$V/rsa1024.private" "$O/keys/b-default.private" &&
    cp "$V/rsa2048.private" "$O/keys/c-mail.private" &&
    cp "$V/ed25519.private" "$O/keys/c-ed.private" &&
    cp "$V/rsa1024.private" "$O/keys/c-old.private" ||
    bail "cannot copy the vectors"
inline=$(grep -v '^-----' "$V/rsa2048.private" | tr -d '\n')
cat >"$O/KeyTable" <<EOF
# an OpenDKIM installation
default._domainkey.b.example b.example:default:$O/keys/b-default.private
mail._domainkey.c.example c.example:mail:$O/keys/c-mail.private
ed._domainkey.c.example c.example:ed:$O/keys/c-ed.private
old._domainkey.c.example c.example:old:$O/keys/c-old.private
x._domainkey.d.example d.example:x:$inline
y._domainkey.e.example e.example:y:$O/keys/c-old.private
EOF
cat >"$O/SigningTable" <<'EOF'
*@b.example default._domainkey.b.example
*@c.example mail._domainkey.c.example
*@c.example ed._domainkey.c.example
*@d.example x._domainkey.d.example
EOF
before=$(tree "$R")

# --- refusals: every line, nothing imported
cp "$O/KeyTable" "$O/bad.kt"
cat >>"$O/bad.kt" <<EOF
z._domainkey.f.example %:z:$O/keys/c-old.private
w._domainkey.g.example g.example:w:$O/keys/missing.private
v._domainkey.h.example h.example:v:bm90IGEga2V5
EOF
cp "$O/SigningTable" "$O/bad.st"
cat >>"$O/bad.st" <<'EOF'
postmaster@b.example default._domainkey.b.example
*@*.c.example mail._domainkey.c.example
EOF
expect "a KeyTable line it cannot map is refused with its line" 2 \
    "dkimrot: $O/bad.kt:8: cannot map '%' (the domain of each message): dkimrot keys belong to one domain
dkimrot: nothing imported: 1 entry cannot be mapped" \
    -C "$R" --now $now import --opendkim "$O/bad.kt" \
    --signing-table "$O/bad.st"
sed -i '/^z\._domainkey/d' "$O/bad.kt"
expect "SigningTable patterns beyond *@domain are refused, each line" 2 \
    "dkimrot: $O/bad.st:5: cannot map pattern 'postmaster@b.example': dkimrot signs whole domains (*@DOMAIN)
dkimrot: $O/bad.st:6: cannot map pattern '*@*.c.example': dkimrot signs whole domains (*@DOMAIN)
dkimrot: nothing imported: 2 entries cannot be mapped" \
    -C "$R" --now $now import --opendkim "$O/bad.kt" \
    --signing-table "$O/bad.st"
expect "a missing key file and an unreadable inline key, with their lines" 2 \
    "dkimrot: $O/bad.kt:8: no such key file
dkimrot: $O/bad.kt:9: cannot read the inline key of 'v._domainkey.h.example': not a private key in base64 DER (PKCS#8 or PKCS#1)
dkimrot: nothing imported: 2 entries cannot be mapped" \
    -C "$R" --now $now import --opendkim "$O/bad.kt" \
    --signing-table "$O/SigningTable"
cat >"$O/two.st" <<'EOF'
*@c.example mail._domainkey.c.example
*@c.example old._domainkey.c.example
EOF
expect "two keys of one algorithm signing for a domain" 2 \
    "dkimrot: $O/two.st:2: a second rsa key signs for c.example (the first at line 1): dkimrot signs with one key per algorithm
dkimrot: nothing imported: 1 entry cannot be mapped" \
    -C "$R" --now $now import --opendkim "$O/KeyTable" \
    --signing-table "$O/two.st"
expect "without a SigningTable a domain with two rsa keys is ambiguous" 2 \
    "dkimrot: $O/KeyTable:5: c.example has more than one rsa key (also line 3): give --signing-table to tell which one signs
dkimrot: nothing imported: 1 entry cannot be mapped" \
    -C "$R" --now $now import --opendkim "$O/KeyTable"
expect "a KeyTable that does not exist" 2 \
    "dkimrot: cannot read '$O/nosuch': No such file or directory" \
    -C "$R" --now $now import --opendkim "$O/nosuch"
check "the refusals changed nothing" [ "$(tree "$R")" = "$before" ]

# --- dry run
cat >"$tmp/want" <<'EOF'
b.example: +default imported (rsa 1024) active; added to dkimrot.yaml
c.example: +mail imported (rsa 2048) active; +ed imported (ed25519 256) active; +old imported (rsa 1024) retiring; added to dkimrot.yaml
d.example: +x imported (rsa 2048) active; added to dkimrot.yaml
EOF
dk -C "$R" --now $now import --opendkim "$O/KeyTable" \
    --signing-table "$O/SigningTable" --dry-run >"$tmp/out" 2>"$tmp/err"
check "--dry-run prints what it would do" same "$tmp/want" "$tmp/out"
echo "dkimrot: warning: e.example: no key of it is in the SigningTable; not imported
dkimrot: dry run: nothing was changed" >"$tmp/wanterr"
check "a domain the SigningTable does not sign for is left out, warned" \
    same "$tmp/wanterr" "$tmp/err"
check "--dry-run changes nothing" [ "$(tree "$R")" = "$before" ]

# --- the import
dk -C "$R" --now $now -q import --opendkim "$O/KeyTable" \
    --signing-table "$O/SigningTable" >"$tmp/out" 2>"$tmp/err"
check "import --opendkim adopts the installation" \
    same "$tmp/want" "$tmp/out"
check "in one commit" eval '[ "$(git -C "$R" rev-list --count HEAD)" = 2 ] &&
    git -C "$R" log -1 --format=%B | grep -qx \
    '\''d.example: +x imported (rsa 2048) active; added to dkimrot.yaml'\'''
cat >"$tmp/want" <<'EOF'
domains:
  - name: a.example
  - name: b.example
  - name: c.example
    algorithms: [rsa, ed25519]
  - name: d.example

EOF
sed -n '/^domains:/,/^$/p' "$R/dkimrot.yaml" >"$tmp/out"
check "the domains are appended to dkimrot.yaml's list" \
    same "$tmp/want" "$tmp/out"
pub() { openssl pkey -in "$1" -pubout 2>/dev/null | sha256sum; }
check "the keys are the installation's (public halves compared)" \
    eval '[ "$(pub "$R/keys/b.example/default.private")" = \
    "$(pub "$V/rsa1024.private")" ] &&
    [ "$(pub "$R/keys/d.example/x.private")" = \
    "$(pub "$V/rsa2048.private")" ] &&
    [ "$(pub "$R/keys/c.example/ed.private")" = \
    "$(pub "$V/ed25519.private")" ]'
dk -C "$R" --now $now status -d c.example >"$tmp/out"
check "status: the SigningTable's keys active, the other retiring" \
    [ "$(awk 'NR > 1 && $1 != "next" { print $1 "=" $4 }' "$tmp/out" |
    sort | tr '\n' ' ')" = "ed=active mail=active old=retiring " ]
expect "a domain that already has keys is refused" 2 \
    "dkimrot: warning: e.example: no key of it is in the SigningTable; not imported
dkimrot: $O/KeyTable: b.example already has keys in the repository (import -d adopts one key)
dkimrot: $O/KeyTable: c.example already has keys in the repository (import -d adopts one key)
dkimrot: $O/KeyTable: d.example already has keys in the repository (import -d adopts one key)
dkimrot: nothing imported: 3 entries cannot be mapped" \
    -C "$R" --now $now import --opendkim "$O/KeyTable" \
    --signing-table "$O/SigningTable"

# --- the next rotation: timestamp selectors
dk -C "$R" --now 2026-12-22T00:00:00Z -q rotate >"$tmp/out" 2>&1
cat "$tmp/out" >&2
# The plan's actions track by track: the RSA one's, then Ed25519's.
check "the next rotation gives each domain a timestamp selector" \
    eval 'grep -qx '\''b.example: +20261222000000 pending (rsa 2048)'\'' "$tmp/out" &&
    grep -qx '\''c.example: +20261222000000r pending (rsa 2048); old retiring -> retired; +20261222000000e pending (ed25519 256)'\'' "$tmp/out"'
echo "1..$n"
