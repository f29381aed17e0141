#!/bin/sh
# dns.publish rfc2136: rotate sends TSIG-signed dynamic updates to a
# primary (BIND, Knot, then PowerDNS with its SQLite backend and
# dnsupdate on, each on 127.0.0.1 at a port of its own) for the
# zones a.example (4096-bit RSA) and b.example.  Shown: the records are
# published, a 4096-bit record is served whole (split into strings of at
# most 255 bytes), a run killed between the two domains' updates is
# completed by the next run, the DNS gate then activates the keys, a
# wrong TSIG key is refused with the zone, the server and the rcode and
# nothing activates, a retired key's record is removed, and check
# compares the serial of the zone the updates went to.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/dnsserv.sh"
: "${DKIMROT_FAULTS:?}"
trap 'for s in bind knot pdns; do ds_stop "$tmp/$s/ns" 2>/dev/null; done;
    rm -rf "$tmp"' EXIT INT TERM
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1

for tool in named knotd pdns_server pdnsutil sqlite3 dig openssl; do
	command -v "$tool" >/dev/null 2>&1 || bail "$tool is not installed"
done
chmod 755 "$tmp"

records() {
	ds_records "$1" "$2" +tcp +time=2 +tries=1
}

expected() {
	ds_expected "$1"
}

in_sync() {
	expected "$1" >"$1/want"
	records "$1" "$2" >"$1/got"
	same "$1/want" "$1/got"
}

# explain: after a failed check, what the last dkimrot run said and the
# end of the server's log.  No secret is in them (dkimrot prints no key,
# the servers name a TSIG key, never its secret); a line that held one
# of the test's TSIG secrets would be left out all the same.
explain() {
	if [ -s "$W/err" ]; then
		echo "# dkimrot's stderr:"
		diag "$W/err"
	fi
	_pid=$(cat "$W/ns/pid" 2>/dev/null)
	if [ -n "$_pid" ] && t_alive "$_pid"; then
		_st="runs (pid $_pid)"
	else
		_st="is gone (pid ${_pid:-unknown})"
	fi
	echo "# $S $_st; the end of its log, $W/ns/log:"
	tail -n 30 "$W/ns/log" 2>/dev/null |
	    grep -vF -e "$secret" -e "$wrong" | sed 's/^/#   /'
}

# checkx DESC CMD...: check, explained when it fails
checkx() {
	_cx=$1
	shift
	if "$@"; then ok "$_cx"; else nok "$_cx"; explain; fi
}

# states W DOMAIN: the states of the domain's keys, in keys.yaml order
states() {
	sed -n 's/^    state: //p' "$1/repo/keys/$2/keys.yaml" | paste -sd' '
}

at() { date -u -d "@$((T0 + $1))" +%Y-%m-%dT%H:%M:%SZ; }
T0=$(date -u -d 2026-01-01 +%s)
H=3600
D=86400

server() {
	S=$1
	W=$tmp/$S
	R=$W/repo
	mkdir -p "$W/ns" || bail "mkdir $W"
	secret=$(openssl rand -base64 32)
	echo "dkimrot-test hmac-sha256 $secret" >"$W/ns/update"
	(umask 077 && echo "hmac-sha256:dkimrot-test:$secret" >"$W/tsig.key")
	wrong=$(openssl rand -base64 32)
	(umask 077 && echo "hmac-sha256:dkimrot-test:$wrong" >"$W/wrong.key")
	: >"$W/ns/zones"
	for d in a.example b.example; do
		cat >"$W/ns/$d.zone" <<EOF
\$ORIGIN $d.
\$TTL 300
@	IN	SOA	ns.$d. hostmaster.$d. 1 3600 600 86400 300
@	IN	NS	ns.$d.
ns	IN	A	127.0.0.1
EOF
		echo "$d $W/ns/$d.zone" >>"$W/ns/zones"
	done
	ds_start "$S" "$W/ns" || bail "$S did not start"
	P=$(cat "$W/ns/port")
	dk -C "$R" --now "$(at 0)" init --no-sign -d a.example -d b.example \
	    >/dev/null 2>&1 || bail "init failed"
	sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
	    -e 's/^  - name: a.example$/  - name: a.example\
    rsa_bits: 4096/' \
	    -e 's/^  verify: .*/  verify: true/' \
	    -e "s/^  nameservers: .*/  nameservers: [\"127.0.0.1:$P\"]/" \
	    -e "s|^  server: .*|  publish: rfc2136\\
  primary: \"127.0.0.1:$P\"\\
  tsig_key_file: $W/tsig.key|" \
	    -e "s|zone_dir: .*|zone_dir: $W/zones|" \
	    -e 's|mta_reload: .*|mta_reload: ""|' "$R/dkimrot.yaml"
	gitq -C "$R" commit -qam "rfc2136" || bail "commit failed"

	# Killed after a.example's update, before b.example's.
	DKIMROT_FAULT=after-update:1 "$DKIMROT_FAULTS" -C "$R" --now "$(at 0)" \
	    -q rotate >/dev/null 2>"$W/err"
	rc=$?
	expected "$W" | grep '^a\.example ' >"$W/want"
	records "$W" "$P" >"$W/got"
	checkx "$S: killed after the first update (exit $rc), only a.example is out" \
	    eval '[ $rc = 99 ] && same "$W/want" "$W/got"'
	dk -C "$R" --now "$(at $H)" -q rotate >/dev/null 2>"$W/err"
	rc=$?
	checkx "$S: the next run completes the update (exit $rc)" \
	    eval '[ $rc = 0 ] && in_sync "$W" "$P"'
	len=$(grep '^a\.example ' "$W/got" | cut -d' ' -f3- | tr -d '\n' |
	    wc -c)
	checkx "$S: the 4096-bit record is served whole ($len bytes)" \
	    [ "${len:-0}" -gt 700 ]

	dk -C "$R" --now "$(at $((D + 2 * H)))" -q rotate >/dev/null 2>"$W/err"
	checkx "$S: the gate sees the records: both keys active" \
	    [ "$(states "$W" a.example) $(states "$W" b.example)" = \
	    "active active" ]
	# check finds the zone the updates went to: the domain's own
	serial=$(dig +short +time=2 +tries=1 -p "$P" @127.0.0.1 a.example SOA |
	    awk '{ print $3 }')
	dk -C "$R" --now "$(at $((D + 2 * H)))" check -d a.example \
	    >"$W/out" 2>&1
	check "$S: check: the primary's serial of zone 'a.example'" grep -qx \
	    "OK a.example - @127.0.0.1:$P: zone 'a.example' at serial ${serial:-?}, the primary's" \
	    "$W/out"

	# A wrong key: the update is refused; no key activates.
	sed -i "s|tsig_key_file: .*|tsig_key_file: $W/wrong.key|" \
	    "$R/dkimrot.yaml"
	gitq -C "$R" commit -qam "wrong key" || bail "commit failed"
	dk -C "$R" --now "$(at $((31 * D)))" -q rotate >/dev/null 2>"$W/err"
	rc=$?
	# BIND and Knot say NOTAUTH (RFC 8945 5.2), PowerDNS REFUSED.
	[ "$S" = pdns ] && want=REFUSED || want=NOTAUTH
	printf '%s\n' \
	    "dkimrot: a.example: cannot update zone 'a.example' at name server 127.0.0.1:$P: $want" \
	    "dkimrot: b.example: cannot update zone 'b.example' at name server 127.0.0.1:$P: $want" \
	    "dkimrot: the primary 127.0.0.1:$P does not serve what keys.yaml says" \
	    >"$W/want"
	checkx "$S: a wrong TSIG key: exit 1, zone, server and rcode named" \
	    eval '[ $rc = 1 ] && same "$W/want" "$W/err"'
	head=$(git -C "$R" rev-parse HEAD)
	dk -C "$R" --now "$(at $((32 * D + H)))" -q rotate >/dev/null 2>"$W/err"
	rc=$?
	checkx "$S: and the next run, refused too, activates nothing (exit $rc)" \
	    eval '[ $rc = 1 ] && [ "$(git -C "$R" rev-parse HEAD)" = "$head" ] &&
	    [ "$(states "$W" a.example)" = "active pending" ]'

	sed -i "s|tsig_key_file: .*|tsig_key_file: $W/tsig.key|" \
	    "$R/dkimrot.yaml"
	gitq -C "$R" commit -qam "right key" || bail "commit failed"
	dk -C "$R" --now "$(at $((32 * D + 2 * H)))" -q rotate >/dev/null \
	    2>"$W/err"
	rc=$?
	checkx "$S: the right key: published, then activated (exit $rc)" \
	    eval '[ $rc = 0 ] && in_sync "$W" "$P" &&
	    [ "$(states "$W" a.example)" = "retiring active" ]'
	# keep_published 2: the old key retires when the next one comes.
	dk -C "$R" --now "$(at $((63 * D)))" -q rotate >/dev/null 2>"$W/err"
	rc=$?
	checkx "$S: a retired key's record is removed (exit $rc)" \
	    eval '[ $rc = 0 ] && in_sync "$W" "$P" &&
	    [ "$(states "$W" a.example)" = "retired active pending" ]'
	[ -s "$W/err" ] && diag "$W/err"
	ds_stop "$W/ns"
	# The primary down: a temporary failure (75), nothing committed.
	head=$(git -C "$R" rev-parse HEAD)
	dk -C "$R" --now "$(at $((64 * D)))" -q rotate >/dev/null 2>"$W/err"
	rc=$?
	checkx "$S: the primary down: exit 75, nothing committed (exit $rc)" \
	    eval '[ $rc = 75 ] && [ "$(git -C "$R" rev-parse HEAD)" = "$head" ] &&
	    grep -q "the primary 127.0.0.1:$P cannot be reached" "$W/err"'
}

server bind
server knot
server pdns
echo "1..$n"
