#!/bin/sh
# dns.publish include: BIND, NSD and Knot, each on 127.0.0.1 at a port
# of its own, load a zone that $INCLUDEs the fragment installed by
# dkim-keys-public.  A year of rotations (a run every 15 days) is built
# with dns.server set to that server, every new package is installed
# with rpm -U, and after the reload its %post runs (the default
# dns_reload of dns.server, as shipped) the server must serve exactly the
# records of the commit: each new key appears, each retired key is gone.
# Then a downgrade by rpm -U --oldpackage must be served too.
#
# The packages install into the real root below $tmp with a database of
# their own (rpm --dbpath), so the scriptlets run outside any chroot and
# reach the servers; $tmp/SERVER/bin first in the scriptlets' PATH points
# rndc, nsd-control, nsd-checkconf and knotc at the test's server
# (tests/lib/dnsserv.sh) instead of the system's.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/dnsserv.sh"
trap 'for s in bind nsd knot; do ds_stop "$tmp/$s/ns" 2>/dev/null; done;
    rm -rf "$tmp"' EXIT INT TERM
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1
D=example.test

for tool in named rndc nsd nsd-control knotd knotc dig rpm; do
	command -v "$tool" >/dev/null 2>&1 || bail "$tool is not installed"
done
chmod 755 "$tmp"	# the servers read the fragments

# served S: "SELECTOR RECORD" of every selector the domain ever had
# (keys.yaml, and retired.yaml for keys retired long ago) that server S
# answers, sorted.
served() {
	_p=$(cat "$tmp/$1/ns/port")
	cat "$tmp/$1/repo/keys/$D/keys.yaml" \
	    "$tmp/$1/repo/keys/$D/retired.yaml" 2>/dev/null |
	    sed -n 's/^  - selector: "\(.*\)"$/\1/p' | sort | while read -r s; do
		r=$(dig +short +time=1 +tries=1 -p "$_p" @127.0.0.1 \
		    "$s._domainkey.$D" TXT |
		    sed -e 's/" "//g' -e 's/^"//' -e 's/"$//')
		[ -n "$r" ] && printf '%s %s\n' "$s" "$r"
	done
}

# expected S: the same from the commit's SEL.txt files (published and
# revoked keys), read with grep, not with dkimrot.
expected() {
	for f in "$tmp/$1/repo/keys/$D/"*.txt; do
		[ -f "$f" ] || continue
		s=${f##*/}
		printf '%s %s\n' "${s%.txt}" \
		    "$(grep -o '"[^"]*"' "$f" | tr -d '"\n')"
	done | sort
}

# wait_served S WANT-FILE: the reload is asynchronous; 10 s at most.
wait_served() {
	i=0
	while :; do
		served "$1" >"$tmp/$1/got"
		cmp -s "$2" "$tmp/$1/got" && return 0
		i=$((i + 1))
		[ $i -lt 100 ] || break
		sleep 0.1
	done
	same "$2" "$tmp/$1/got"
	diag "$tmp/$1/ns/log"
	return 1
}

# rpmu S RPM [RPM-OPTION]: installs or upgrades S's package.
rpmu() {
	timeout 120 rpm --dbpath "$tmp/$1/rpmdb" --nodeps \
	    --define "_install_script_path $tmp/$1/ns/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
	    -U ${3:-} "$2" >"$tmp/$1/rpm.out" 2>&1
}

year() {
	S=$1
	W=$tmp/$S
	R=$W/repo
	mkdir -p "$W/ns" "$W/rpmdb" || bail "mkdir $W"
	dk -C "$R" --now 2026-01-01T00:00:00Z init --no-sign -d "$D" \
	    >/dev/null 2>&1 || bail "init for $S failed"
	sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
	    -e "s|zone_dir: .*|zone_dir: $W/zones|" \
	    -e 's|^  server: .*|  server: '"$S"'|' \
	    -e 's|mta_reload: .*|mta_reload: ""|' "$R/dkimrot.yaml"
	gitq -C "$R" commit -qam "test configuration" ||
	    bail "commit failed"
	cat >"$W/$D.zone" <<EOF
\$ORIGIN $D.
\$TTL 300
@	IN	SOA	ns.$D. hostmaster.$D. 1 3600 600 86400 300
@	IN	NS	ns.$D.
ns	IN	A	127.0.0.1
\$INCLUDE $W/zones/$D.zone
EOF
	echo "$D $W/$D.zone" >"$W/ns/zones"
	t=$(date -u -d 2026-01-01 +%s)
	end=$((t + 365 * 86400))
	last="" changes=0 bad=0 first=1
	while [ $t -lt $end ]; do
		now=$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ)
		dk -C "$R" --now "$now" -q rotate >/dev/null 2>"$W/rotate.err" ||
		    bail "rotate at $now failed: $(cat "$W/rotate.err")"
		t=$((t + 15 * 86400))
		V=$(git -C "$R" rev-list --count --first-parent HEAD)
		PUB=$R/rpms/public/dkim-keys-public-$V-1.noarch.rpm
		[ "$V" = "$last" ] && continue
		[ -f "$PUB" ] || bail "no package of version $V"
		rpmu "$S" "$PUB" || { bad=$((bad + 1)); diag "$W/rpm.out"; }
		last=$V
		expected "$S" >"$W/exp.$V"
		if [ $first = 1 ]; then
			first=0
			ds_start "$S" "$W/ns" || bail "$S did not start"
		fi
		changes=$((changes + 1))
		wait_served "$S" "$W/exp.$V" || bad=$((bad + 1))
	done
	check "$S: every one of $changes packages of a year served after its %post" \
	    [ $bad = 0 -a $changes -ge 12 ]
	grep -q 'reload command failed' "$W/rpm.out" && diag "$W/rpm.out"
	# Back three versions: older files, older mtimes, same serial.
	old=$((last - 3))
	while [ ! -f "$W/exp.$old" ]; do old=$((old - 1)); done
	if rpmu "$S" "$R/rpms/public/dkim-keys-public-$old-1.noarch.rpm" \
	    --oldpackage; then
		check "$S: rpm -U --oldpackage to version $old is served" \
		    wait_served "$S" "$W/exp.$old"
	else
		nok "$S: rpm -U --oldpackage to version $old"
		diag "$W/rpm.out"
	fi
	check "$S: and the upgrade back to version $last" eval \
	    'rpmu "$S" "$R/rpms/public/dkim-keys-public-$last-1.noarch.rpm" &&
	    wait_served "$S" "$W/exp.$last"'
	ds_stop "$W/ns"
}

for s in bind nsd knot; do
	year "$s"
done
echo "1..$n"
