#!/bin/sh
# The whole chain, with real processes: 'dkimrot init' and 'rotate'
# (example.com rsa, example.org rsa + ed25519), the post-commit hook's
# packages, both installed with 'rpm --root', two NSD servers on
# 127.0.0.1 whose zones $INCLUDE the INSTALLED zone fragments; then
# 'dkimrot check' passes (text, Nagios, JSON), opendkim-testkey accepts
# every published key as installed, and dkimpy verifies, through NSD,
# a message signed with each active key of the INSTALLED private package
# (the one its KeyTable.rsa or KeyTable.ed25519 names).  Each verifier is also shown a wrong key
# or a changed message, which it must refuse.
#
# opendkim-testkey takes no port: tests/lib/testkey.sh sends the two
# domains to 127.0.0.1@PORT through libunbound's stub-zones.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/nsd.sh"
. "$DKIMROT_SRC/tests/lib/rpmroot.sh"
. "$DKIMROT_SRC/tests/lib/testkey.sh"
trap 'nsd_stop "$tmp/ns1" 2>/dev/null; nsd_stop "$tmp/ns2" 2>/dev/null;
    rm -rf "$tmp"' EXIT INT TERM
PY=/usr/bin/python3
R=$tmp/repo
OUT=$R/rpms
ROOT=$tmp/root
ZD=/var/lib/dkim-zones
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1

for tool in nsd dig opendkim-testkey rpm openssl; do
	command -v "$tool" >/dev/null 2>&1 || bail "$tool is not installed"
done
"$PY" -c 'import dkim, dns.query, nacl' 2>/dev/null ||
    bail "$PY lacks dkimpy, dnspython or pynacl"

# --- the key repository: four rotations take both domains through a
# whole cycle (pending, active, then a successor: active + retiring)
dk -C "$R" --now 2026-11-20T00:00:00Z init -d example.com -d example.org \
    >/dev/null || bail "init failed"
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e "s|zone_dir: .*|zone_dir: $ZD|" \
    -e 's|mta_reload: .*|mta_reload: ""|' \
    -e 's|dns_reload: .*|dns_reload: ""|' \
    -e 's/^  - name: example.org$/  - name: example.org\n    algorithms: [rsa, ed25519]/' \
    "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "test configuration" || bail "commit failed"
for t in 2026-11-20 2026-11-21 2026-12-20 2026-12-21; do
	dk -C "$R" --now "${t}T00:00:00Z" -q rotate >/dev/null ||
	    bail "rotate at $t failed"
done
V=$(git -C "$R" rev-list --count --first-parent HEAD)
PRIV=$OUT/private/dkim-keys-private-$V-1.noarch.rpm
PUB=$OUT/public/dkim-keys-public-$V-1.noarch.rpm
check "the post-commit hook built both packages of HEAD (version $V)" \
    [ -f "$PRIV" -a -f "$PUB" ]
dk -C "$R" --now 2026-12-21T00:00:00Z status --json >"$tmp/status.json"
states=$("$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(sorted(k["state"] for x in d["domains"] for k in x["keys"])))
' "$tmp/status.json")
check "the repository holds active and retiring keys ($states)" \
    [ "$states" = "active active active retiring retiring retiring" ]

# --- installed with rpm into an empty root
rpmroot_make "$ROOT" || bail "rpmroot_make failed"
mkdir -p "$tmp/stub" && rpmroot_stub "$tmp/stub" || bail "rpmroot_stub failed"
rpm --root "$ROOT" -i "$tmp/stub/sh-stub-1-1.noarch.rpm" "$PRIV" "$PUB" \
    >"$tmp/rpm.out" 2>&1
rc=$?
check "rpm --root installs both packages" [ $rc = 0 ]
[ $rc = 0 ] || diag "$tmp/rpm.out"

# --- two name servers serving the installed fragments
for ns in ns1 ns2; do
	mkdir "$tmp/$ns"
	for d in example.com example.org; do
		cat >"$tmp/$ns/$d.zone" <<EOF
\$ORIGIN $d.
\$TTL 300
@	IN	SOA	ns.$d. hostmaster.$d. 1 3600 600 86400 300
@	IN	NS	ns.$d.
ns	IN	A	127.0.0.1
\$INCLUDE $ROOT$ZD/$d.zone
EOF
	done
	nsd_start "$tmp/$ns" example.com example.com.zone \
	    example.org example.org.zone || bail "nsd did not start"
done
P1=$(cat "$tmp/ns1/nsd.port")
P2=$(cat "$tmp/ns2/nsd.port")

# --- dkimrot check: every key on both servers, exact output
NOW=2026-12-21T06:00:00Z
dk -C "$R" --now "$NOW" check -n "127.0.0.1:$P1" -n "127.0.0.1:$P2" \
    >"$tmp/check.out" 2>"$tmp/check.err"
rc=$?
: >"$tmp/want"
for k in example.com:20261120000000:retiring \
    example.com:20261220000000:active \
    example.org:20261120000000e:retiring \
    example.org:20261120000000r:retiring \
    example.org:20261220000000e:active \
    example.org:20261220000000r:active; do
	IFS=: read -r d s st <<EOF
$k
EOF
	for p in $P1 $P2; do
		if [ "$st" = active ]; then
			m="active; libopendkim verified a signature made with the private key"
		else
			m="retiring; p= matches the private key"
		fi
		echo "OK $d $s @127.0.0.1:$p: $m" >>"$tmp/want"
	done
done
echo "DKIM OK: 6 keys on 2 servers, 12 checks: 12 OK, 0 WARNING, 0 CRITICAL, 0 UNKNOWN" >>"$tmp/want"
if [ $rc = 0 ] && same "$tmp/want" "$tmp/check.out" &&
    [ ! -s "$tmp/check.err" ]; then
	ok "check passes: every key on both servers"
else
	nok "check passes: every key on both servers (exit $rc)"
	diag "$tmp/check.err"
fi

dk -C "$R" --now "$NOW" check -n "127.0.0.1:$P1" -n "127.0.0.1:$P2" \
    --nagios >"$tmp/nagios.out" 2>&1
rc=$?
# the active keys are 30h old; warning after 30d + 1d + 2d
echo "DKIM OK - 6 keys on 2 servers | keys=6;;;0 servers=2;;;0 warning=0;;;0 critical=0;;;0 unknown=0;;;0 age_max=108000s;2851200;15552000;0" \
    >"$tmp/want"
if [ $rc = 0 ] && same "$tmp/want" "$tmp/nagios.out"; then
	ok "check --nagios: one OK line with performance data, exit 0"
else
	nok "check --nagios: one OK line with performance data (exit $rc)"
fi

dk -C "$R" --now "$NOW" check -n "127.0.0.1:$P1" -n "127.0.0.1:$P2" \
    --json >"$tmp/check.json" 2>&1
rc=$?
got=$("$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
c = d["checks"]
print(d["now"], d["status"], d["keys"], len(c), d["counts"]["OK"],
      len({(x["domain"], x["selector"]) for x in c}),
      sorted({x["server"] for x in c}) == sorted(d["servers"]),
      all(x["status"] == "OK" and x["age"] >= 0 for x in c))
' "$tmp/check.json" 2>&1)
check "check --json: valid, 12 checks of 6 keys, all OK ($rc: $got)" \
    [ "$rc $got" = "0 $NOW OK 6 12 12 6 True True" ]

dk -C "$R" --now "$NOW" check -n "127.0.0.1:$P1" -d example.org \
    --nagios >"$tmp/nagios.out" 2>&1
check "check --domain limits the check to that domain" \
    grep -q '^DKIM OK - 4 keys on 1 server |' "$tmp/nagios.out"

# --- opendkim-testkey, through unbound, with the installed keys
testkey_setup "$tmp" "$P1" example.com example.org ||
    bail "cannot write the configuration of opendkim-testkey"
KD=$ROOT/etc/dkim-keys/keys
bad=
for k in example.com/20261120000000 example.com/20261220000000 \
    example.org/20261120000000r example.org/20261220000000r; do
	out=$(testkey "${k%/*}" "${k#*/}" "$KD/$k.private")
	[ $? = 0 ] && [ "$out" = "opendkim-testkey: key OK" ] ||
	    bad="$bad $k($out)"
done
check "opendkim-testkey: every installed rsa key is OK in DNS${bad:+:$bad}" \
    [ -z "$bad" ]
out=$(testkey example.com 20261220000000 "$KD/example.com/20261120000000.private")
rc=$?
check "opendkim-testkey: the old key under the new selector is refused" \
    [ $rc != 0 -a "$out" != "opendkim-testkey: key OK" ]

# --- dkimpy: sign with what the installed KeyTables (one per algorithm,
# for released OpenDKIM's one instance per algorithm) name, verify via NSD
cat "$ROOT/etc/dkim-keys/KeyTable.rsa" "$ROOT/etc/dkim-keys/KeyTable.ed25519" \
    >"$tmp/keytables"
check "the installed KeyTable.rsa and KeyTable.ed25519 name the three active keys" \
    [ "$(awk '!/^#/ { print $1 }' "$tmp/keytables" | sort |
    tr '\n' ' ')" = "20261220000000._domainkey.example.com 20261220000000e._domainkey.example.org 20261220000000r._domainkey.example.org " ]
"$PY" - "$P2" "$ROOT" "$tmp/keytables" >"$tmp/dkimpy.out" \
    2>&1 <<'EOF'
import base64
import os
import subprocess
import sys

import dkim

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.environ["DKIMROT_SRC"] + "/tests/lib")
from dnstxt import txt_at  # noqa: E402

port, root, keytable = int(sys.argv[1]), sys.argv[2], sys.argv[3]
txt = txt_at(port)


def key(path):
    # PEM for rsa; dkimpy wants an Ed25519 key as its base64 32-byte seed
    der = subprocess.run(["openssl", "pkey", "-in", path, "-outform",
                          "DER"], capture_output=True, check=True).stdout
    if len(der) == 48:
        return b"ed25519", base64.b64encode(der[-32:])
    with open(path, "rb") as f:
        return b"rsa", f.read()


for line in open(keytable):
    if line.startswith("#"):
        continue
    name, spec = line.split()
    domain, sel, path = spec.split(":", 2)
    alg, k = key(root + path)
    msg = ("From: a@%s\r\nTo: b@example.net\r\nSubject: chain\r\n"
           "Date: Mon, 21 Dec 2026 06:00:00 +0000\r\n\r\nhello\r\n"
           % domain).encode()
    sig = dkim.sign(msg, sel.encode(), domain.encode(), k,
                    signature_algorithm=alg + b"-sha256",
                    include_headers=[b"from", b"to", b"subject", b"date"])
    good = dkim.verify(sig + msg, dnsfunc=txt)
    changed = dkim.verify(sig + msg.replace(b"hello", b"hullo"),
                          dnsfunc=txt)
    print(domain, sel, alg.decode(), good, changed)
EOF
for k in "example.com 20261220000000 rsa" "example.org 20261220000000e ed25519" \
    "example.org 20261220000000r rsa"; do
	check "dkimpy: $k signs with the installed key, verifies through NSD" \
	    grep -qx "$k True False" "$tmp/dkimpy.out"
done
grep -v ' True False$' "$tmp/dkimpy.out" | diag

# --- the other way round: the check notices what the verifiers notice
sed -i 's/^\(\$INCLUDE .*\)/; \1/; s/^@\(.*SOA.*\) 1 3600/@\1 2 3600/' \
    "$tmp/ns2/example.org.zone"
nsd_reload "$tmp/ns2" || bail "nsd_reload failed"
dk -C "$R" --now "$NOW" check -n "127.0.0.1:$P1" -n "127.0.0.1:$P2" \
    --nagios >"$tmp/nagios.out" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q "^DKIM CRITICAL - example.org 20261120000000e @127.0.0.1:$P2: not served: no such name (NXDOMAIN) (4 problems) |" \
    "$tmp/nagios.out"; then
	ok "a server that lost a zone's records: CRITICAL, exit 2"
else
	nok "a server that lost a zone's records: CRITICAL (exit $rc)"
	diag "$tmp/nagios.out"
fi
echo "1..$n"
