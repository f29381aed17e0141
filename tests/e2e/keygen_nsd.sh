#!/bin/sh
# dkimrot keygen's files served by a real name server: NSD on 127.0.0.1
# at a free high port, its zone $INCLUDEs the generated SEL.txt files
# as they are.  Then dig, opendkim-testkey and dkimpy (sign, then verify
# through our NSD) must all accept the keys; each is also shown a wrong
# key, which it must refuse.
#
# opendkim-testkey takes no port: tests/lib/testkey.sh sends example.test
# to 127.0.0.1@PORT through libunbound's stub-zones.
set -u

: "${DKIMROT:?}" "${DKIMROT_SRC:?}"
. "$DKIMROT_SRC/tests/lib/testkey.sh"
PY=/usr/bin/python3
tmp=$(mktemp -d)
n=0
stop() {
	if [ -s "$tmp/nsd.pid" ] && pid=$(cat "$tmp/nsd.pid"); then
		kill "$pid" 2>/dev/null
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	rm -rf "$tmp"
}
trap stop EXIT
trap 'exit 1' INT TERM

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else nok "$desc"; fi
}
bail() { echo "Bail out! $*"; exit 1; }

for tool in nsd nsd-checkconf nsd-checkzone dig opendkim-testkey; do
	command -v "$tool" >/dev/null 2>&1 || bail "$tool is not installed"
done
"$PY" -c 'import dkim, dns.query, nacl' 2>/dev/null ||
    bail "$PY lacks dkimpy, dnspython or pynacl"

# The keys, as an operator would make them.
cd "$tmp" || bail "cannot enter $tmp"
mkdir keys
for spec in "r2048 -b 2048" "r4096 -b 4096" "ed -a ed25519"; do
	# shellcheck disable=SC2086
	set -- $spec
	sel=$1
	shift
	out=$("$DKIMROT" keygen -d example.test -s "$sel" -D keys "$@") ||
	    bail "keygen $sel failed"
	[ "$out" = "$sel" ] || bail "keygen $sel printed '$out'"
done
chmod 755 "$tmp"	# NSD reads the zone; the keys stay 0600

cat >example.test.zone <<EOF
\$ORIGIN example.test.
\$TTL 300
@	IN	SOA	ns.example.test. hostmaster.example.test. 1 3600 600 86400 300
@	IN	NS	ns.example.test.
ns	IN	A	127.0.0.1
\$INCLUDE $tmp/keys/r2048.txt
\$INCLUDE $tmp/keys/r4096.txt
\$INCLUDE $tmp/keys/ed.txt
EOF

# A free port, then NSD on it; another process may take the port in
# between, so try a few.
free_port() {
	"$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
nsd_conf() {
	cat >nsd.conf <<EOF
server:
	ip-address: 127.0.0.1
	port: $1
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "$tmp"
	database: ""
	pidfile: "$tmp/nsd.pid"
	xfrdfile: "$tmp/xfrd.state"
	zonelistfile: "$tmp/zone.list"
	logfile: "$tmp/nsd.log"
	verbosity: 1
remote-control:
	control-enable: no
zone:
	name: example.test
	zonefile: example.test.zone
EOF
}
nsd-checkzone example.test example.test.zone >checkzone.out 2>&1
check "nsd-checkzone accepts the zone with the \$INCLUDEd records" \
    grep -q '^zone example.test is ok' checkzone.out
tries=0
until PORT=$(free_port) && nsd_conf "$PORT" &&
    nsd-checkconf nsd.conf && nsd -c nsd.conf 2>nsd.err; do
	tries=$((tries + 1))
	[ $tries -lt 3 ] || bail "nsd did not start: $(cat nsd.err nsd.log)"
done
ok "nsd-checkconf accepts the configuration; nsd runs on port $PORT"
i=0
until dig +short +time=1 +tries=1 @127.0.0.1 -p "$PORT" example.test SOA |
    grep -q hostmaster; do
	i=$((i + 1))
	[ $i -lt 50 ] || bail "nsd does not answer on port $PORT"
	sleep 0.2
done

# What the record must be: from openssl, not from dkimrot.
pubkey() {
	case $1 in
	ed) printf 'v=DKIM1; k=ed25519; p=%s' "$(openssl pkey \
	    -in "keys/$1.private" -pubout -outform DER | tail -c 32 |
	    base64 -w0)" ;;
	*) printf 'v=DKIM1; h=sha256; k=rsa; p=%s' "$(openssl pkey \
	    -in "keys/$1.private" -pubout -outform DER | base64 -w0)" ;;
	esac
}
for sel in r2048 r4096 ed; do
	dig +short @127.0.0.1 -p "$PORT" "$sel._domainkey.example.test" TXT |
	    sed -e 's/" "//g' -e 's/^"//' -e 's/"$//' >got
	pubkey "$sel" >want
	echo >>want
	if diff -u want got >diff; then
		ok "dig: $sel._domainkey.example.test TXT is the key's record"
	else
		sed 's/^/# /' diff
		nok "dig: $sel._domainkey.example.test TXT is the key's record"
	fi
done

testkey_setup "$tmp" "$PORT" example.test ||
    bail "cannot write the configuration of opendkim-testkey"
for sel in r2048 r4096; do
	out=$(testkey example.test "$sel" "keys/$sel.private")
	rc=$?
	check "opendkim-testkey: $sel says 'key OK' ($rc: $out)" \
	    test "$rc" -eq 0 -a "$out" = "opendkim-testkey: key OK"
done
out=$(testkey example.test r2048 keys/r4096.private)
rc=$?
check "opendkim-testkey: r4096's key under r2048 is refused ($rc: $out)" \
    test "$rc" -ne 0 -a "$out" != "opendkim-testkey: key OK"

# dkimpy signs with each key and verifies through NSD; then with a key
# that is not the selector's, which must fail.  Ed25519 keys go to dkimpy
# as the raw 32-byte seed (the end of the PKCS#8 DER), as it wants them.
"$PY" - "$PORT" >dkimpy.out 2>&1 <<'EOF'
import base64
import os
import subprocess
import sys

import dkim

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.environ["DKIMROT_SRC"] + "/tests/lib")
from dnstxt import txt_at  # noqa: E402

txt = txt_at(int(sys.argv[1]))
msg = (b"From: a@example.test\r\nTo: b@example.org\r\nSubject: hi\r\n"
       b"Date: Sun, 22 Nov 2026 13:15:00 +0000\r\n\r\nhello\r\n")


def key(sel):
    if sel != "ed":
        with open("keys/%s.private" % sel, "rb") as f:
            return f.read()
    der = subprocess.run(["openssl", "pkey", "-in", "keys/ed.private",
                          "-outform", "DER"], capture_output=True,
                         check=True).stdout
    return base64.b64encode(der[-32:])


def verified(sel, keysel):
    alg = b"ed25519-sha256" if keysel == "ed" else b"rsa-sha256"
    sig = dkim.sign(msg, sel.encode(), b"example.test", key(keysel),
                    signature_algorithm=alg,
                    include_headers=[b"from", b"to", b"subject", b"date"])
    try:
        return dkim.verify(sig + msg, dnsfunc=txt)
    except Exception as e:
        print("# %s with %s: %s" % (sel, keysel, e))
        return False


for sel, keysel, want in (("r2048", "r2048", True), ("r4096", "r4096", True),
                          ("ed", "ed", True), ("r2048", "r4096", False),
                          ("r4096", "r2048", False)):
    print("%s %s %s" % (sel, keysel, verified(sel, keysel) == want))
EOF
for pair in "r2048 r2048" "r4096 r4096" "ed ed"; do
	check "dkimpy: signed with $pair, verified through NSD" \
	    grep -qx "$pair True" dkimpy.out
done
for pair in "r2048 r4096" "r4096 r2048"; do
	set -- $pair
	check "dkimpy: selector $1 signed with $2's key does not verify" \
	    grep -qx "$pair True" dkimpy.out
done
grep '^#' dkimpy.out
echo "1..$n"
