#!/bin/sh
# dns.publish zones: init -z writes the mode and the DKIM zones' name
# servers and prints the NS records each domain's owner adds to its own
# zone; status prints them again for the domains it shows (a domain
# added since init); -q leaves them out; plain init prints none.  And
# the bad -z values of docs/bad-input.md (N14, N15), refused before
# anything is made.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1
R=$tmp/r
now=2026-11-22T13:15:00Z

# block DOMAIN...: the delegation records, as the README gives them
block() {
	echo "; dns.publish zones: in each domain's own zone, the delegation of its DKIM names"
	for d; do
		printf '_domainkey.%s.\t86400\tIN\tNS\tns1.example.net.\n' "$d"
		printf '_domainkey.%s.\t86400\tIN\tNS\tns2.example.net.\n' "$d"
	done
}

dk -C "$R" --now $now init --no-sign -d a.example -d b.example \
    -z ns1.example.net --zone-nameserver ns2.example.net >"$tmp/out" \
    2>"$tmp/err"
rc=$?
{
	echo "initialized key repository '$R' with 2 domains"
	block a.example b.example
} >"$tmp/want"
check "init -z: exit 0 ($rc), the NS records of both domains" \
    eval '[ $rc = 0 ] && same "$tmp/want" "$tmp/out" && [ ! -s "$tmp/err" ]'
check "init -z: dkimrot.yaml says publish: zones, with the name servers" \
    eval 'grep -q "^  publish: zones " "$R/dkimrot.yaml" &&
    grep -qx "  zone_nameservers: \[ns1.example.net, ns2.example.net\]" \
    "$R/dkimrot.yaml"'

dk -C "$tmp/q" -q init --no-sign -d a.example -z ns1.example.net \
    >"$tmp/out" 2>&1
echo "initialized key repository '$tmp/q' with 1 domain" >"$tmp/want"
check "init -q -z: no records" same "$tmp/want" "$tmp/out"
dk -C "$tmp/plain" init --no-sign -d a.example >"$tmp/out" 2>&1
echo "initialized key repository '$tmp/plain' with 1 domain" >"$tmp/want"
check "init without -z: no records" same "$tmp/want" "$tmp/out"

# A domain added later: status gives its records too.
sed -i 's/^  - name: b.example$/&\n  - name: c.example/' "$R/dkimrot.yaml"
dk -C "$R" --now $now status >"$tmp/out" 2>&1
block a.example b.example c.example >"$tmp/want"
grep -v '^[a-z ]' "$tmp/out" >"$tmp/got"
check "status: the records of every domain, c.example's included" \
    same "$tmp/want" "$tmp/got"
dk -C "$R" --now $now status -d c.example >"$tmp/out" 2>&1
block c.example >"$tmp/want"
grep -v '^[a-z ]' "$tmp/out" >"$tmp/got"
check "status -d: the records of that domain only" same "$tmp/want" "$tmp/got"
dk -C "$R" --now $now -q status >"$tmp/out" 2>&1
check "status -q: none" not grep -q '_domainkey' "$tmp/out"
dk -C "$R" --now $now status --json >"$tmp/out" 2>&1
check "status --json: none, still JSON" /usr/bin/python3 -c \
    'import json, sys; json.load(open(sys.argv[1]))' "$tmp/out"
dk -C "$tmp/plain" --now $now status >"$tmp/out" 2>&1
check "status without zones: none" not grep -q '_domainkey' "$tmp/out"

expect "N14: init -z with a bad host name" 2 \
    "dkimrot: invalid host name 'ns 1' for --zone-nameserver (expected letters, digits, '-' and '.', at least two labels)" \
    -C "$tmp/n14" init --no-sign -z 'ns 1'
check "N14: nothing made" [ ! -e "$tmp/n14" ]
expect "N15: init -z twice with one name server" 2 \
    "dkimrot: name server 'NS1.example.net' given twice" \
    -C "$tmp/n15" init --no-sign -z ns1.example.net -z NS1.example.net
check "N15: nothing made" [ ! -e "$tmp/n15" ]
echo "1..$n"
