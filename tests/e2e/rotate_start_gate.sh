#!/bin/sh
# rotate --start under the DNS gate (policy.h rules 7 and 2), with a real
# name server: a key begun by --start is pending at once, does not sign
# after publish_lead while NSD does not serve it, and signs once the
# public package holding it is installed (rpm --root) and NSD reloaded;
# the key it replaces keeps being served while it drains.
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

state() {
	dk -C "$R" --now "$2" status --json | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print([k["state"] for x in d["domains"] for k in x["keys"]
       if k["selector"] == sys.argv[1]][0])' "$1"
}
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
served() {
	dig +short +time=2 +tries=1 -p "$PORT" @127.0.0.1 \
	    "$1._domainkey.$D" TXT
}

dk -C "$R" --now 2026-11-20T00:00:00Z init --no-sign -d "$D" >/dev/null \
    2>&1 || bail "init failed"
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e "s|zone_dir: .*|zone_dir: $ZD|" \
    -e 's|mta_reload: .*|mta_reload: ""|' \
    -e 's|^  # dns_reload: .*|  dns_reload: ""|' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "test configuration" || bail "commit failed"
dk -C "$R" --now 2026-11-20T00:00:00Z -q rotate >/dev/null ||
    bail "rotate failed"
K1=20261120000000
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
dk -C "$R" --now 2026-11-21T00:00:00Z -q rotate >/dev/null ||
    bail "the first activation failed"
check "the first key signs" [ "$(state $K1 2026-11-21T00:00:00Z)" = active ]

# --- three days later, long before rotate_every: --start
dk -C "$R" --now 2026-11-24T00:00:00Z -q rotate --start >"$tmp/out" 2>&1
K2=20261124000000
check "--start: a new key is pending now" \
    [ "$(cat "$tmp/out")" = "$D: +$K2 pending (rsa 1024)" ]
dk -C "$R" --now 2026-11-25T00:00:00Z rotate >"$tmp/out" 2>&1
rc=$?
check "after publish_lead, not served: it does not sign" \
    eval '[ $rc = 0 ] && [ "$(state $K2 2026-11-25T00:00:00Z)" = pending ] &&
    [ "$(state $K1 2026-11-25T00:00:00Z)" = active ]'
check "and rotate says it waits for DNS" \
    grep -q "$D: $K2 waits for DNS: name server 127.0.0.1:$PORT has no TXT record '$K2._domainkey.$D'" \
    "$tmp/out"
install_public || bail "cannot install the public package"
check "the installed package's record is served" [ -n "$(served $K2)" ]
dk -C "$R" --now 2026-11-25T01:00:00Z -q rotate >"$tmp/out" 2>&1
check "served: it signs, the old key drains" \
    [ "$(cat "$tmp/out")" = "$D: $K1 active -> retiring; $K2 pending -> active" ]
install_public || bail "cannot install the public package (2)"
check "the old key is still served while it drains" [ -n "$(served $K1)" ]
echo "1..$n"
