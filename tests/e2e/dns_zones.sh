#!/bin/sh
# dns.publish zones: dkim-keys-public carries one zone _domainkey.DOMAIN
# per domain and the zone lists named.conf, nsd.conf and knot.conf.  For
# each pair (BIND primary, NSD secondary), (NSD, Knot), (Knot, BIND),
# all on 127.0.0.1 at ports of their own: the package is installed on
# the primary only (rpm -U, its %post as shipped), whose configuration
# includes the zone list; the secondary, which has nothing installed,
# gets the zones by NOTIFY and zone transfer.  A rotation's new key must
# reach the secondary with the package's version as SOA serial, and a
# domain removed from the repository loses its zone on the primary.
# named-checkconf, nsd-checkconf and knotc conf-check must accept the
# three zone lists of one package.
#
# And check sees the secondary: with Knot as primary, BIND's secondary
# is restarted with a primary that does not answer, so that it keeps
# serving the zones it has; new packages on the primary make it 1, then
# 3 serials behind (WARNING, then CRITICAL past dns.max_serial_lag 2),
# stopped it does not answer (CRITICAL), and put back it catches up (OK).
#
# As in dns_include.sh, the packages install below $tmp with rpm
# --dbpath and $tmp/PAIR/pri/bin first in the scriptlets' PATH.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/dnsserv.sh"
trap 'for d in "$tmp"/*/pri "$tmp"/*/sec; do ds_stop "$d" 2>/dev/null; done;
    rm -rf "$tmp"' EXIT INT TERM
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1

for tool in named named-checkconf rndc nsd nsd-checkconf nsd-control \
    knotd knotc dig rpm; do
	command -v "$tool" >/dev/null 2>&1 || bail "$tool is not installed"
done
chmod 755 "$tmp"

# quiet CMD...: CMD without its stdout
quiet() { "$@" >/dev/null; }

# soa W DIR ZONE: the SOA serial DIR's server answers for ZONE
soa() {
	dig +short +time=1 +tries=1 -p "$(cat "$2/port")" @127.0.0.1 "$3" SOA |
	    awk '{ print $3 }'
}

# records W DIR: "DOMAIN SELECTOR RECORD" of every selector the
# repository ever had that DIR's server answers, sorted.
records() {
	ds_records "$1" "$(cat "$2/port")" +time=1 +tries=1
}

# expected W: the same from the commit's SEL.txt files.
expected() {
	ds_expected "$1"
}

# until_same W DIR V: DIR serves W's records, both zones at serial V
until_same() {
	expected "$1" >"$1/want"
	i=0
	while :; do
		records "$1" "$2" >"$1/got"
		if cmp -s "$1/want" "$1/got" &&
		    [ "$(soa "$1" "$2" _domainkey.a.example)" = "$3" ]; then
			return 0
		fi
		i=$((i + 1))
		[ $i -lt 100 ] || break
		sleep 0.1
	done
	same "$1/want" "$1/got"
	echo "# serial $(soa "$1" "$2" _domainkey.a.example), want $3"
	diag "$2/log"
	return 1
}

rpmu() {
	timeout 120 rpm --dbpath "$1/rpmdb" --nodeps \
	    --define "_install_script_path $1/pri/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
	    -U "$2" >"$1/rpm.out" 2>&1
}

# until_serial W DIR V: DIR's server serves _domainkey.a.example at V
until_serial() {
	i=0
	until [ "$(soa "$1" "$2" _domainkey.a.example)" = "$3" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || return 1
		sleep 0.1
	done
}

# ship W MESSAGE: the work tree committed, packaged by the hook, and the
# public package of that version V installed on the primary
ship() {
	gitq -C "$R" commit -qam "$2" || bail "commit failed"
	"$R/.git/hooks/post-commit" >/dev/null 2>&1
	V=$(git -C "$R" rev-list --count --first-parent HEAD)
	rpmu "$1" "$R/rpms/public/dkim-keys-public-$V-1.noarch.rpm" ||
	    diag "$1/rpm.out"
}

# bump W: a new package that changes the TTL only, shipped; the primary
# then serves its serial V
ttl=3600
bump() {
	ttl=$((ttl + 1))
	sed -i "s/^  ttl: [0-9]*/  ttl: $ttl/" "$R/dkimrot.yaml"
	ship "$1" "ttl $ttl"
	until_serial "$1" "$1/pri" "$V" || bail "the primary is not at $V"
}

# secondary W PORT: the secondary restarted, transferring from PORT
secondary() {
	ds_stop "$1/sec"
	printf '_domainkey.a.example %s\n_domainkey.b.example %s\n' "$2" \
	    "$2" >"$1/sec/secondary"
	ds_start "$S" "$1/sec" || bail "$S did not start again"
}

# zcheck W DESC CODE NAGIOS ARGS...: check -d a.example exits CODE, its
# serial lines (" - @") are exactly $W/want, and with --nagios it exits
# NAGIOS with a status line of that state
zcheck() {
	_w=$1 _d=$2 _c=$3 _n=$4
	shift 4
	dk -C "$R" --now 2026-02-02T01:00:00Z check -d a.example "$@" \
	    >"$_w/out" 2>"$_w/err"
	_rc=$?
	grep '^[A-Z]* a.example - @' "$_w/out" >"$_w/got"
	dk -C "$R" --now 2026-02-02T01:00:00Z check -d a.example --nagios \
	    "$@" >"$_w/nagios" 2>>"$_w/err"
	_nrc=$?
	set -- OK WARNING CRITICAL
	shift "$_n"
	if [ $_rc = "$_c" ] && same "$_w/want" "$_w/got" &&
	    [ $_nrc = "$_n" ] && case $(head -n 1 "$_w/nagios") in
	    "DKIM $1 - "*) true ;; *) false ;; esac; then
		ok "$_d"
	else
		nok "$_d (exit $_rc, want $_c; --nagios $_nrc, want $_n)"
		diag "$_w/out"
		diag "$_w/nagios"
		diag "$_w/err"
	fi
}

# lagging W: check against a secondary that falls behind, then catches up
lagging() {
	pn=127.0.0.1:$(cat "$1/pri/port")
	sn=127.0.0.1:$(cat "$1/sec/port")
	z=_domainkey.a.example
	printf '%s\n' "OK a.example - @$pn: zone '$z' at serial $V, the newest package's" \
	    "OK a.example - @$sn: zone '$z' at serial $V, the newest package's" \
	    >"$1/want"
	zcheck "$1" "check: primary and secondary at the newest serial, OK" 0 0
	dk -C "$R" --now 2026-02-02T01:00:00Z check -d a.example --json \
	    >"$1/json" 2>/dev/null
	check "check --json: the servers of dkimrot.yaml, each zone's serial" \
	    /usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
s = [c for c in d["checks"] if c["selector"] is None]
assert d["servers"] == [sys.argv[2], sys.argv[3]], d["servers"]
assert [(c["server"], c["serial"], c["algorithm"]) for c in s] == \
    [(sys.argv[2], int(sys.argv[4]), None),
     (sys.argv[3], int(sys.argv[4]), None)], s
' "$1/json" "$pn" "$sn" "$V"

	old=$V
	secondary "$1" "$(ds_port)"
	bump "$1"
	printf '%s\n' "OK a.example - @$pn: zone '$z' at serial $V, the newest package's" \
	    "WARNING a.example - @$sn: zone '$z' at serial $old, 1 behind $V, the newest package's; critical when more than 2 behind" \
	    >"$1/want"
	zcheck "$1" "check: a secondary 1 serial behind, WARNING" 1 1
	check "  and its lag in the performance data" \
	    grep -q " serial_lag=1;0;2;0\$" "$1/nagios"
	bump "$1"
	bump "$1"
	printf '%s\n' "OK a.example - @$pn: zone '$z' at serial $V, the newest package's" \
	    "CRITICAL a.example - @$sn: zone '$z' at serial $old, 3 behind $V, the newest package's; more than dns.max_serial_lag 2" \
	    >"$1/want"
	zcheck "$1" "check: 3 serials behind, past dns.max_serial_lag, CRITICAL" \
	    1 2
	sed -i 's/^  max_serial_lag: 2 /  max_serial_lag: 3 /' "$R/dkimrot.yaml"
	sed -e 's/^CRITICAL/WARNING/' -e 's/; more than .*/; critical when more than 3 behind/' \
	    "$1/want" >"$1/want3" && mv "$1/want3" "$1/want"
	zcheck "$1" "check: with dns.max_serial_lag 3 the same lag is a WARNING" \
	    1 1
	sed -i 's/^  max_serial_lag: 3 /  max_serial_lag: 2 /' "$R/dkimrot.yaml"

	ds_stop "$1/sec"
	printf '%s\n' "OK a.example - @$pn: zone '$z' at serial $V, the newest package's" \
	    "CRITICAL a.example - @$sn: did not answer in 500 ms" >"$1/want"
	zcheck "$1" "check: a secondary that does not answer, CRITICAL, named" \
	    1 2 --timeout 500
	# Put back, it transfers once the next package's NOTIFY comes.
	secondary "$1" "$(cat "$1/pri/port")"
	bump "$1"
	until_serial "$1" "$1/sec" "$V" || diag "$1/sec/log"
	printf '%s\n' "OK a.example - @$pn: zone '$z' at serial $V, the newest package's" \
	    "OK a.example - @$sn: zone '$z' at serial $V, the newest package's" \
	    >"$1/want"
	zcheck "$1" "check: the secondary caught up, OK" 0 0
}

conf=1
pair() {
	P=$1 S=$2
	W=$tmp/$P-$S
	R=$W/repo
	mkdir -p "$W/pri" "$W/sec" "$W/rpmdb" || bail "mkdir $W"
	ds_port >"$W/pri/port.want"
	ds_port >"$W/sec/port.want"
	dk -C "$R" --now 2026-01-01T00:00:00Z init --no-sign -d a.example \
	    -d b.example >/dev/null 2>&1 || bail "init failed"
	sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
	    -e "s|^  server: .*|  server: $P\\
  publish: zones\\
  zone_nameservers: [ns1.example.net, ns2.example.net]\\
  secondaries: [\"127.0.0.1:$(cat "$W/sec/port.want")\"]|" \
	    -e "s|^  nameservers: .*|  nameservers: [\"127.0.0.1:$(cat "$W/pri/port.want")\"]|" \
	    -e "s|zone_dir: .*|zone_dir: $W/zones|" \
	    -e 's|mta_reload: .*|mta_reload: ""|' "$R/dkimrot.yaml"
	gitq -C "$R" commit -qam "zones" || bail "commit failed"
	dk -C "$R" --now 2026-01-02T00:00:00Z -q rotate >/dev/null ||
	    bail "rotate failed"
	V=$(git -C "$R" rev-list --count --first-parent HEAD)
	rpmu "$W" "$R/rpms/public/dkim-keys-public-$V-1.noarch.rpm" ||
	    bail "rpm -U: $(cat "$W/rpm.out")"
	if [ $conf = 1 ]; then
		conf=0
		Z=$W/zones
		printf 'options { directory "%s"; };\ninclude "%s/named.conf";\n' \
		    "$W" "$Z" >"$W/n.conf"
		check "named-checkconf -z accepts the installed named.conf" \
		    quiet named-checkconf -z "$W/n.conf"
		printf 'server:\n\tzonesdir: "%s"\ninclude: "%s/nsd.conf"\n' \
		    "$W" "$Z" >"$W/s.conf"
		check "nsd-checkconf accepts the installed nsd.conf" \
		    nsd-checkconf "$W/s.conf"
		printf 'server:\n    listen: 127.0.0.1@53\ninclude: %s/knot.conf\n' \
		    "$Z" >"$W/k.conf"
		check "knotc conf-check accepts the installed knot.conf" \
		    quiet knotc -c "$W/k.conf" conf-check
	fi
	: >"$W/pri/zones"
	echo "$W/zones/$P.conf" | sed 's/bind\.conf$/named.conf/' \
	    >"$W/pri/include"
	ds_start "$P" "$W/pri" || bail "$P did not start"
	pp=$(cat "$W/pri/port")
	printf '_domainkey.a.example %s\n_domainkey.b.example %s\n' \
	    "$pp" "$pp" >"$W/sec/secondary"
	: >"$W/sec/zones"
	ds_start "$S" "$W/sec" || bail "$S did not start as a secondary"
	check "$P -> $S: the secondary serves version $V's zones" \
	    until_same "$W" "$W/sec" "$V"

	# A month on: new keys, a new package on the primary only.
	dk -C "$R" --now 2026-02-02T00:00:00Z -q rotate >/dev/null ||
	    bail "rotate failed"
	V=$(git -C "$R" rev-list --count --first-parent HEAD)
	rpmu "$W" "$R/rpms/public/dkim-keys-public-$V-1.noarch.rpm" ||
	    diag "$W/rpm.out"
	check "$P -> $S: a new key reaches the secondary (serial $V)" \
	    until_same "$W" "$W/sec" "$V"
	[ "$S" = bind ] && lagging "$W"

	# b.example leaves the repository: its zone leaves the primary.
	gitq -C "$R" rm -rq keys/b.example
	sed -i '/^  - name: b.example$/d' "$R/dkimrot.yaml"
	ship "$W" "b.example leaves"
	i=0
	while [ -n "$(soa "$W" "$W/pri" _domainkey.b.example)" ] &&
	    [ $i -lt 100 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	check "$P: a domain removed, its zone is no longer served" \
	    [ -z "$(soa "$W" "$W/pri" _domainkey.b.example)" -a \
	    "$(soa "$W" "$W/pri" _domainkey.a.example)" = "$V" ]
	ds_stop "$W/sec"
	ds_stop "$W/pri"
}

pair bind nsd
pair nsd knot
pair knot bind
echo "1..$n"
