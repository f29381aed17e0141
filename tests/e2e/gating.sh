#!/bin/sh
# DNS-gated activation (docs/design.md §4 rule 2) with a real name server: with
# dns.verify on and NSD in dns.nameservers, a pending key past
# publish_lead signs only once NSD serves it, i.e. once the public
# package that holds it is installed (rpm --root) and NSD has reloaded
# the zone that $INCLUDEs the installed fragment.  A stopped name server
# makes rotate exit 75 and activate nothing.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/nsd.sh"
. "$DKIMROT_SRC/tests/lib/rpmroot.sh"
trap 'nsd_stop "$tmp/ns" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
R=$tmp/repo
OUT=$R/rpms
ROOT=$tmp/root
ZD=/var/lib/dkim-zones
D=example.com
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1

# state SEL: the key's state in keys.yaml, per 'dkimrot status --json'
state() {
	dk -C "$R" status --json | /usr/bin/python3 -c 'import json, sys
d = json.load(sys.stdin)
print([k["state"] for x in d["domains"] for k in x["keys"]
       if k["selector"] == sys.argv[1]][0])' "$1"
}
# install: the newest public package into the root, then NSD reloads
# (the fragment is $INCLUDEd: the parent zone's serial is what changes)
serial=1
install_public() {
	v=$(git -C "$R" rev-list --count --first-parent HEAD)
	rpm --root "$ROOT" -U "$OUT/public/dkim-keys-public-$v-1.noarch.rpm" \
	    >"$tmp/rpm.out" 2>&1 || { diag "$tmp/rpm.out"; return 1; }
	old=$serial
	serial=$((serial + 1))
	sed -i "s/ $old 3600 / $serial 3600 /" "$tmp/ns/$D.zone"
	nsd_reload "$tmp/ns"
}
# rotate TIME: dkimrot rotate, stdout+stderr in $tmp/rot, exit in $rc
rotate() {
	dk -C "$R" --now "$1" rotate >"$tmp/rot" 2>&1
	rc=$?
}

dk -C "$R" --now 2026-11-20T00:00:00Z init -d "$D" >/dev/null ||
    bail "init failed"
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e "s|zone_dir: .*|zone_dir: $ZD|" \
    -e 's|mta_reload: .*|mta_reload: ""|' \
    -e 's|^  # dns_reload: .*|  dns_reload: ""|' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "test configuration" || bail "commit failed"
rotate 2026-11-20T00:00:00Z
K1=20261120000000

# The first key's package installed and served, then the gate is on.
rpmroot_make "$ROOT" || bail "rpmroot_make failed"
mkdir -p "$tmp/stub" && rpmroot_stub "$tmp/stub" || bail "rpmroot_stub failed"
rpm --root "$ROOT" -i "$tmp/stub/sh-stub-1-1.noarch.rpm" >/dev/null 2>&1 ||
    bail "cannot install the sh stub"
mkdir -p "$tmp/ns"
cat >"$tmp/ns/$D.zone" <<EOF
\$ORIGIN $D.
\$TTL 300
@	IN	SOA	ns.$D. hostmaster.$D. $serial 3600 600 86400 300
@	IN	NS	ns.$D.
ns	IN	A	127.0.0.1
\$INCLUDE $ROOT$ZD/$D.zone
EOF
v=$(git -C "$R" rev-list --count --first-parent HEAD)
rpm --root "$ROOT" -i "$OUT/public/dkim-keys-public-$v-1.noarch.rpm" \
    >"$tmp/rpm.out" 2>&1 || bail "cannot install the public package"
nsd_start "$tmp/ns" "$D" "$D.zone" || bail "nsd did not start"
PORT=$NSD_PORT
sed -i -e 's/^  verify: false/  verify: true/' \
    -e "s/^  nameservers: \[\]/  nameservers: [\"127.0.0.1:$PORT\"]/" \
    "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "dns.verify with the test's name server" ||
    bail "commit failed"

rotate 2026-11-21T00:00:00Z
check "the first key, served, activates past publish_lead (exit $rc)" \
    [ "$rc $(state $K1)" = "0 active" ]

# The next key: generated, packaged, but not yet installed.
rotate 2026-12-20T00:00:00Z
K2=20261220000000
check "30 days on, the next key is pending" [ "$(state $K2)" = pending ]
head=$(git -C "$R" rev-parse HEAD)
rotate 2026-12-21T00:00:00Z
if [ "$rc $(state $K2) $(state $K1)" = "0 pending active" ]; then
	ok "past publish_lead but not in DNS: still pending, exit 0"
else
	nok "past publish_lead but not in DNS: still pending (exit $rc)"
	diag "$tmp/rot"
fi
check "rotate says it waits for DNS, naming the server" \
    grep -qF "dkimrot: $D: $K2 waits for DNS: name server 127.0.0.1:$PORT has no TXT record '$K2._domainkey.$D'" \
    "$tmp/rot"
check "nothing was committed" [ "$(git -C "$R" rev-parse HEAD)" = "$head" ]
dk -C "$R" --now 2026-12-21T00:00:00Z check --nagios >"$tmp/nagios" 2>&1
check "check (dns.nameservers) says CRITICAL: the pending key is not served" \
    grep -q "^DKIM CRITICAL - $D $K2 @127.0.0.1:$PORT: not served: no such name (NXDOMAIN) |" \
    "$tmp/nagios"

# Installed and reloaded: the next run activates it.
install_public || bail "cannot install the new public package"
rotate 2026-12-21T01:00:00Z
if [ "$rc $(state $K2) $(state $K1)" = "0 active retiring" ]; then
	ok "installed and served: the next rotate activates it"
else
	nok "installed and served: the next rotate activates it (exit $rc)"
	diag "$tmp/rot"
fi
dk -C "$R" --now 2026-12-21T01:00:00Z check >"$tmp/check" 2>&1
check "check agrees: every key OK" \
    grep -qx "DKIM OK: 2 keys on 1 server, 2 checks: 2 OK, 0 WARNING, 0 CRITICAL, 0 UNKNOWN" \
    "$tmp/check"

# A name server that does not answer: exit 75, nothing activated.
rotate 2027-01-19T00:00:00Z
K3=20270119000000
install_public || bail "cannot install the third public package"
nsd_stop "$tmp/ns" || bail "nsd did not stop"
head=$(git -C "$R" rev-parse HEAD)
rotate 2027-01-20T00:00:00Z
if [ "$rc $(state $K3) $(state $K2)" = "75 pending active" ]; then
	ok "name server stopped: rotate exits 75, the key stays pending"
else
	nok "name server stopped: rotate exits 75 (exit $rc)"
	diag "$tmp/rot"
fi
check "the message says the server did not answer" \
    grep -q "127.0.0.1:$PORT did not answer for '$K3._domainkey.$D' TXT" \
    "$tmp/rot"
check "and nothing was committed" \
    [ "$(git -C "$R" rev-parse HEAD)" = "$head" ]
echo "1..$n"
