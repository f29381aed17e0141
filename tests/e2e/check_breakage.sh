#!/bin/sh
# 'dkimrot check' against a real name server (NSD on 127.0.0.1) that
# serves what the key repository says, then one breakage per domain:
#   a.example  the active key's p= with one character changed
#   b.example  the pending key's record missing (a warning while
#              publish_lead lasts, then critical)
#   c.example  k=ed25519 on the active RSA key's record
#   d.example  a revoked key still served with its old p=
#   e.example  a retired key still served
# and a name server nobody runs.  Each must give its exact line, Nagios
# state and exit code; the healthy zone must pass.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/nsd.sh"
trap 'nsd_stop "$tmp/ns" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
R=$tmp/repo
S=$tmp/stash
DOMS="a.example b.example c.example d.example e.example"
K1=20261120000000
K2=20261220000000
K3=20270119000000
NOW=2027-01-20T00:00:00Z
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1

# --- five domains, each with a retired, an active and a pending key
dk -C "$R" --now 2026-11-20T00:00:00Z init -d a.example -d b.example \
    -d c.example -d d.example -d e.example >/dev/null || bail "init failed"
rm -f "$R/.git/hooks/post-commit"	# no packages needed here
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e 's/keep_published: 2 /keep_published: 1 /' "$R/dkimrot.yaml"
mkdir "$S"
for t in 2026-11-20 2026-11-21 2026-12-20 2026-12-21 2026-12-25 2027-01-19; do
	dk -C "$R" --now "${t}T00:00:00Z" -q rotate >/dev/null ||
	    bail "rotate at $t failed"
	# every record ever written, kept for serving stale ones later
	for d in $DOMS; do
		mkdir -p "$S/$d" && cp "$R/keys/$d/"*.txt "$S/$d/"
	done
done
dk -C "$R" --now 2027-01-19T01:00:00Z -q revoke -d d.example -s "$K3" \
    >/dev/null || bail "revoke failed"
dk -C "$R" --now "$NOW" status --json >"$tmp/status.json"
states=$(/usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(k["state"] for x in d["domains"] for k in x["keys"]))
' "$tmp/status.json")
check "the repository is as planned ($states)" [ "$states" = \
    "retired active pending retired active pending retired active pending retired active revoked retired active pending" ]

# zone LINES...: the zone "example." with the given records, serial $serial
serial=1
zone() {
	printf '$ORIGIN example.\n$TTL 300\n'
	printf '@ IN SOA ns.example. hostmaster.example. %s 3600 600 86400 300\n' \
	    "$serial"
	printf '@ IN NS ns.example.\nns IN A 127.0.0.1\n'
	printf '%s\n' "$@"
}
# inc DOMAIN FILE: the lines that $INCLUDE FILE (relative owner names)
inc() { printf '$ORIGIN %s.\n$INCLUDE %s\n' "$1" "$2"; }
healthy() {
	for d in $DOMS; do
		inc "$d" "$S/$d/$K2.txt"
		inc "$d" "$R/keys/$d/$K3.txt"	# d.example's: p= empty
	done
}
mkdir "$tmp/ns"
zone "$(healthy)" >"$tmp/ns/example.zone"
nsd_start "$tmp/ns" example example.zone || bail "nsd did not start"
NS=127.0.0.1:$NSD_PORT

# check ARGS...: dkimrot check at NOW against NSD; output in $tmp/out
run() {
	dk -C "$R" --now "$NOW" check "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
# expect_out DESC CODE: exit CODE and stdout exactly $tmp/want
expect_out() {
	if [ "$rc" = "$2" ] && same "$tmp/want" "$tmp/out"; then
		ok "$1"
	else
		nok "$1 (exit $rc, want $2)"
		diag "$tmp/err"
	fi
}
# the performance data of one domain's check: 3 keys, K2 is 31d old
perf() {
	echo "keys=3;;;0 servers=1;;;0 warning=$1;;;0 critical=$2;;;0 unknown=0;;;0 age_max=2678400s;2851200;15552000;0"
}

run -n "$NS" --nagios
echo "DKIM OK - 15 keys on 1 server | keys=15;;;0 servers=1;;;0 warning=0;;;0 critical=0;;;0 unknown=0;;;0 age_max=2678400s;2851200;15552000;0" \
    >"$tmp/want"
expect_out "the healthy zone: OK, exit 0" 0

# --- break it
corrupt() {	# one character of p= changed, in the middle of the key
	awk '/"p=/ { i = index($0, "\"p=") + 60; c = substr($0, i, 1);
	    $0 = substr($0, 1, i - 1) (c == "A" ? "B" : "A") substr($0, i + 1) }
	    { print }' "$1"
}
corrupt "$S/a.example/$K2.txt" >"$tmp/a.txt"
sed 's/k=rsa/k=ed25519/' "$S/c.example/$K2.txt" >"$tmp/c.txt"
cmp -s "$tmp/a.txt" "$S/a.example/$K2.txt" && bail "corrupt changed nothing"
serial=2
zone "$(inc a.example "$tmp/a.txt"; inc a.example "$S/a.example/$K3.txt"
    inc b.example "$S/b.example/$K2.txt"
    inc c.example "$tmp/c.txt"; inc c.example "$S/c.example/$K3.txt"
    inc d.example "$S/d.example/$K2.txt"; inc d.example "$S/d.example/$K3.txt"
    inc e.example "$S/e.example/$K1.txt"; inc e.example "$S/e.example/$K2.txt"
    inc e.example "$S/e.example/$K3.txt")" >"$tmp/ns/example.zone"
nsd_reload || bail "nsd_reload failed"

run -n "$NS"
cat >"$tmp/want" <<EOF
OK a.example $K1 @$NS: retired; not served
CRITICAL a.example $K2 @$NS: p= does not match the private key
OK a.example $K3 @$NS: pending; p= matches the private key
OK b.example $K1 @$NS: retired; not served
OK b.example $K2 @$NS: active; libopendkim verified a signature made with the private key
CRITICAL b.example $K3 @$NS: not served: no such name (NXDOMAIN)
OK c.example $K1 @$NS: retired; not served
CRITICAL c.example $K2 @$NS: record has k=ed25519, the key is rsa
OK c.example $K3 @$NS: pending; p= matches the private key
OK d.example $K1 @$NS: retired; not served
OK d.example $K2 @$NS: active; libopendkim verified a signature made with the private key
CRITICAL d.example $K3 @$NS: revoked key is served with a p=; it must be empty
WARNING e.example $K1 @$NS: retired key is still served
OK e.example $K2 @$NS: active; libopendkim verified a signature made with the private key
OK e.example $K3 @$NS: pending; p= matches the private key
DKIM CRITICAL: 15 keys on 1 server, 15 checks: 10 OK, 1 WARNING, 4 CRITICAL, 0 UNKNOWN
EOF
expect_out "every breakage on its line, exit 1" 1

# nagios DOMAIN STATE CODE CRIT WARN LINE: --domain DOMAIN --nagios
nagios() {
	run -n "$NS" --nagios -d "$1"
	{
		echo "DKIM $2 - $6 | $(perf "$5" "$4")"
		echo "$2 $6"
	} >"$tmp/want"
	expect_out "$1: Nagios $2, exit $3" "$3"
}
nagios a.example CRITICAL 2 1 0 \
    "a.example $K2 @$NS: p= does not match the private key"
nagios b.example CRITICAL 2 1 0 \
    "b.example $K3 @$NS: not served: no such name (NXDOMAIN)"
# before publish_lead is over, a pending key on its way is a warning
dk -C "$R" --now 2027-01-19T12:00:00Z check -n "$NS" -d b.example \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
cat >"$tmp/want" <<EOF
OK b.example $K1 @$NS: retired; not served
OK b.example $K2 @$NS: active; libopendkim verified a signature made with the private key
WARNING b.example $K3 @$NS: not served: no such name (NXDOMAIN); due to sign in 12h
DKIM WARNING: 3 keys on 1 server, 3 checks: 2 OK, 1 WARNING, 0 CRITICAL, 0 UNKNOWN
EOF
expect_out "b.example 12h earlier: the pending key is on its way, WARNING" 1
nagios c.example CRITICAL 2 1 0 \
    "c.example $K2 @$NS: record has k=ed25519, the key is rsa"
nagios d.example CRITICAL 2 1 0 \
    "d.example $K3 @$NS: revoked key is served with a p=; it must be empty"
nagios e.example WARNING 1 0 1 \
    "e.example $K1 @$NS: retired key is still served"

# --- a name server nobody runs
DEAD=$(/usr/bin/python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
start=$(date +%s)
run -n "127.0.0.1:$DEAD" -n "$NS" -d e.example --timeout 500 --nagios
took=$(($(date +%s) - start))
{
	echo "DKIM CRITICAL - e.example $K1 @127.0.0.1:$DEAD: did not answer in 500 ms (4 problems) | keys=3;;;0 servers=2;;;0 warning=1;;;0 critical=3;;;0 unknown=0;;;0 age_max=2678400s;2851200;15552000;0"
	echo "CRITICAL e.example $K1 @127.0.0.1:$DEAD: did not answer in 500 ms"
	echo "WARNING e.example $K1 @$NS: retired key is still served"
	echo "CRITICAL e.example $K2 @127.0.0.1:$DEAD: did not answer in 500 ms"
	echo "CRITICAL e.example $K3 @127.0.0.1:$DEAD: did not answer in 500 ms"
} >"$tmp/want"
expect_out "a server that does not answer: CRITICAL for each key, exit 2" 2
check "a silent server costs one timeout, not one per key (${took}s)" \
    [ "$took" -le 2 ]

# --- the active key's age
serial=3
zone "$(healthy)" >"$tmp/ns/example.zone"
nsd_reload || bail "nsd_reload failed"
run -n "$NS" -d b.example --warn-age 30d
cat >"$tmp/want" <<EOF
OK b.example $K1 @$NS: retired; not served
WARNING b.example $K2 @$NS: key is 4w3d old, rotation is overdue (warning after 4w2d)
OK b.example $K3 @$NS: pending; p= matches the private key
DKIM WARNING: 3 keys on 1 server, 3 checks: 2 OK, 1 WARNING, 0 CRITICAL, 0 UNKNOWN
EOF
expect_out "an active key older than --warn-age: WARNING, exit 1" 1
run -n "$NS" -d b.example --warn-age 1d --crit-age 30d --nagios
echo "DKIM CRITICAL - b.example $K2 @$NS: key is 4w3d old (critical after 4w2d) | keys=3;;;0 servers=1;;;0 warning=0;;;0 critical=1;;;0 unknown=0;;;0 age_max=2678400s;86400;2592000;0" \
    >"$tmp/want"
echo "CRITICAL b.example $K2 @$NS: key is 4w3d old (critical after 4w2d)" \
    >>"$tmp/want"
expect_out "older than --crit-age: CRITICAL, exit 2" 2
echo "1..$n"
