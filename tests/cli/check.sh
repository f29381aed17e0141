#!/bin/sh
# dkimrot check's refusals, before any name server is asked: each with
# its exact message and exit code, as text (2) and as a Nagios UNKNOWN
# line on stdout (3).  What it finds in DNS: tests/e2e/check_breakage.sh.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
R=$tmp/repo
now=2026-11-22T13:15:00Z

dk -C "$R" --now $now init -d example.com >/dev/null 2>&1
rm "$R/.git/hooks/post-commit"

# nagios DESC WANT-STDOUT ARGS...: exit 3, exactly that line on stdout
nagios() {
	desc=$1 want=$2
	shift 2
	dk -C "$R" --now $now check --nagios "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	printf '%s\n' "$want" >"$tmp/want"
	if [ $got = 3 ] && same "$tmp/want" "$tmp/out"; then
		ok "$desc"
	else
		nok "$desc (exit $got, want 3)"
	fi
}

noserver="no name server to ask: give --nameserver or set dns.nameservers in dkimrot.yaml"
expect "no name server: a configuration error" 2 "dkimrot: $noserver" \
    -C "$R" --now $now check
nagios "no name server: Nagios UNKNOWN" "DKIM UNKNOWN - $noserver"
expect "a host name is no name server" 2 \
    "dkimrot: bad name server 'ns.example.com': expected ADDR, ADDR:PORT or [IPV6]:PORT" \
    -C "$R" check -n ns.example.com
nagios "a bad name server: Nagios UNKNOWN" \
    "DKIM UNKNOWN - bad name server '127.0.0.1:0': expected ADDR, ADDR:PORT or [IPV6]:PORT" \
    -n 127.0.0.1:0
expect "a domain that is not configured" 2 \
    "dkimrot: domain 'example.org' is not in dkimrot.yaml" \
    -C "$R" check -n 127.0.0.1 -d example.org
nagios "a domain that is not configured: Nagios UNKNOWN" \
    "DKIM UNKNOWN - domain 'example.org' is not in dkimrot.yaml" \
    -n 127.0.0.1 -d example.org
expect "a bad timeout" 2 \
    "dkimrot: bad timeout '0': milliseconds from 1 to 60000" \
    -C "$R" check -n 127.0.0.1 --timeout 0
expect "a bad age" 2 \
    "dkimrot: invalid duration '30': expected a number and a unit (s m h d w), e.g. 30d or 1d12h" \
    -C "$R" check -n 127.0.0.1 --warn-age 30
nagios "--json and --nagios together: Nagios UNKNOWN" \
    "DKIM UNKNOWN - --json and --nagios exclude each other" --json
expect "--json before --nagios: a usage error" 2 \
    "dkimrot: --json and --nagios exclude each other" \
    -C "$R" check --json --nagios
sed -i 's/^  nameservers: \[\]/  nameservers: ["bad"]/' "$R/dkimrot.yaml"
dk -C "$R" check --nagios >"$tmp/out" 2>&1
check "a bad dkimrot.yaml: Nagios UNKNOWN, exit 3 ($?)" \
    [ $? = 3 -a -n "$(grep "^DKIM UNKNOWN - .*dkimrot.yaml:" "$tmp/out")" ]
dk check --help >"$tmp/out" 2>&1
check "--help: the usage on stdout, exit 0 ($?)" \
    [ $? = 0 -a -n "$(grep "^usage: dkimrot check" "$tmp/out")" ]
dk help >"$tmp/out"
check "'dkimrot help' lists check" grep -q '^  check ' "$tmp/out"
echo "1..$n"
