#!/bin/sh
# import --opendkim with real processes: 50 domains whose keys
# opendkim-genkey made (RSA; every fifth with selector "default", every
# fifth "mail"), listed in a KeyTable and a refile: SigningTable, served
# by NSD from opendkim-genkey's own records.  After the import (with
# dns.verify, so each key was checked in DNS first):
#   - 'dkimrot check' passes against NSD serving the OLD records;
#   - the real OpenDKIM (opendkim -t, its milter code in test mode) with
#     the INSTALLED private package signs each domain's mail with the
#     same key as before (same selector, the old record verifies it);
#   - then NSD serves the INSTALLED public package, and over the next
#     rotation every domain moves to a timestamp selector while no
#     message fails verification (dkimpy, through NSD): neither the ones
#     signed at each step nor those signed at the step before, still in
#     flight (steps of 3 days, 39 days: the first rotation of a domain
#     comes 5 to 30 days after the import, staggered; its old key leaves
#     DNS after drain once keep_published keys are left, i.e. with the
#     second rotation, which the earliest domains reach).
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/nsd.sh"
. "$DKIMROT_SRC/tests/lib/rpmroot.sh"
ROOT=$(mktemp -d /var/lib/dkimrot-import.XXXXXX) || bail "no rpm root"
# Root-owned 0755: OpenDKIM runs as opendkim, the owner the private
# package gives its keys to, and reads the messages below it.
chmod 755 "$ROOT" || bail "cannot chmod the rpm root"
trap 'nsd_stop "$tmp/ns" 2>/dev/null; rm -rf "$tmp" "$ROOT"' EXIT INT TERM
PY=/usr/bin/python3
R=$tmp/repo
O=$tmp/opendkim
ZD=/var/lib/dkim-zones
N=50
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1

for tool in nsd dig opendkim opendkim-genkey rpm openssl; do
	command -v "$tool" >/dev/null 2>&1 || bail "$tool is not installed"
done
id opendkim >/dev/null 2>&1 || bail "no user opendkim"
"$PY" -c 'import dkim, dns.query' 2>/dev/null ||
    bail "$PY lacks dkimpy or dnspython"

# --- the OpenDKIM installation
domains=
i=0
mkdir -p "$O/keys" "$tmp/ns"
while [ $i -lt $N ]; do
	d=d$i.example
	case $((i % 5)) in
	0) s=default ;;
	1) s=mail ;;
	*) s=s2025$i ;;
	esac
	mkdir "$O/keys/$d"
	opendkim-genkey -b 1024 -r -D "$O/keys/$d" -d "$d" -s "$s" ||
	    bail "opendkim-genkey failed for $d"
	echo "$s._domainkey.$d $d:$s:$O/keys/$d/$s.private" >>"$O/KeyTable"
	echo "*@$d $s._domainkey.$d" >>"$O/SigningTable"
	echo "$d $s" >>"$tmp/selectors"
	domains="$domains $d"
	i=$((i + 1))
done

# serve SOURCE: NSD's zones, each with the records of SOURCE: "genkey"
# (opendkim-genkey's .txt files) or "installed" (the installed public
# package's fragments)
serial=1
serve() {
	serial=$((serial + 1))
	_args=
	for d in $domains; do
		{
			printf '$ORIGIN %s.\n$TTL 300\n' "$d"
			printf '@ IN SOA ns.%s. hostmaster.%s. %d 3600 600 86400 300\n' \
			    "$d" "$d" "$serial"
			printf '@ IN NS ns.%s.\nns IN A 127.0.0.1\n' "$d"
			if [ "$1" = genkey ]; then
				cat "$O/keys/$d/"*.txt
			elif [ -f "$ROOT$ZD/$d.zone" ]; then
				printf '$INCLUDE %s\n' "$ROOT$ZD/$d.zone"
			fi
		} >"$tmp/ns/$d.zone"
		_args="$_args $d $d.zone"
	done
	if [ -n "${NSD_PID:-}" ]; then nsd_reload "$tmp/ns"; else
		# shellcheck disable=SC2086
		nsd_start "$tmp/ns" $_args
	fi
}
serve genkey || bail "nsd did not start"
P=$NSD_PORT

# --- the key repository, checking DNS
dk -C "$R" --now 2026-11-20T00:00:00Z init --no-sign >/dev/null 2>&1 ||
    bail "init failed"
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e "s|zone_dir: .*|zone_dir: $ZD|" \
    -e 's|mta_reload: .*|mta_reload: ""|' \
    -e 's|^  # dns_reload: .*|  dns_reload: ""|' \
    -e 's|  verify: false |  verify: true  |' \
    -e "s|  nameservers: \[\] |  nameservers: [\"127.0.0.1:$P\"] |" \
    "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "test configuration" || bail "commit failed"
grep -q "nameservers: \[\"127.0.0.1:$P\"\]" "$R/dkimrot.yaml" ||
    bail "cannot configure the name server"

# --- the DNS gate: a signing key NSD does not serve refuses the import;
# a key that does not sign and is not served is left out, with a warning
{
	echo "x._domainkey.d0.example d0.example:x:$O/keys/d0.example/default.private"
	echo "y._domainkey.d1.example d1.example:y:$O/keys/d1.example/mail.private"
	grep -v '^default._domainkey.d0.example ' "$O/KeyTable"
} >"$O/KT2"
{
	echo "*@d0.example x._domainkey.d0.example"
	grep -v '^\*@d0.example ' "$O/SigningTable"
} >"$O/ST2"
before=$(git -C "$R" rev-parse HEAD)
expect "I9: a signing key the name server does not serve is refused" 2 \
    "dkimrot: warning: d1.example: key 'y' is not in DNS (name server 127.0.0.1:$P has no TXT record 'y._domainkey.d1.example'): left out
dkimrot: $O/KT2:1: key 'x' of d0.example signs, but name server 127.0.0.1:$P has no TXT record 'x._domainkey.d0.example'; mail it signed would fail verification
dkimrot: nothing imported: 1 entry cannot be mapped" \
    -C "$R" --now 2026-11-20T00:00:00Z import --opendkim "$O/KT2" \
    --signing-table "$O/ST2"
check "and nothing was imported" \
    eval '[ "$(git -C "$R" rev-parse HEAD)" = "$before" ] && [ ! -d "$R/keys" ]'

dk -C "$R" --now 2026-11-20T00:00:00Z -q import --opendkim "$O/KeyTable" \
    --signing-table "$O/SigningTable" >"$tmp/import.out" 2>"$tmp/import.err"
rc=$?
check "import --opendkim adopts all $N domains, checked in DNS" \
    eval '[ $rc = 0 ] && [ "$(grep -c '\'' active; added to dkimrot.yaml$'\'' \
    "$tmp/import.out")" = $N ]'
[ $rc = 0 ] || diag "$tmp/import.err"
check "in one commit" [ "$(git -C "$R" rev-list --count HEAD)" = 3 ]
check "dkimrot.yaml lists them all" \
    [ "$(grep -c '^  - name: d[0-9]*\.example$' "$R/dkimrot.yaml")" = $N ]
check "the selectors are kept" \
    eval '[ -f "$R/keys/d0.example/default.private" ] &&
    [ -f "$R/keys/d1.example/mail.private" ]'

# --- check against NSD serving the old records
dk -C "$R" --now 2026-11-20T06:00:00Z check -n "127.0.0.1:$P" --nagios \
    >"$tmp/check.out" 2>&1
rc=$?
check "check passes against NSD serving opendkim-genkey's records" \
    eval '[ $rc = 0 ] && grep -q "^DKIM OK - $N keys on 1 server |" "$tmp/check.out"'
[ $rc = 0 ] || diag "$tmp/check.out"

# --- the installed packages
rpmroot_make "$ROOT" || bail "rpmroot_make failed"
mkdir -p "$tmp/stub" && rpmroot_stub "$tmp/stub" || bail "rpmroot_stub failed"
rpm --root "$ROOT" -i "$tmp/stub/sh-stub-1-1.noarch.rpm" >/dev/null 2>&1 ||
    bail "cannot install the shell stub"
# install: the packages of HEAD, unless they are installed already (a
# step that changed nothing made no commit)
install() {
	_v=$(git -C "$R" rev-list --count --first-parent HEAD)
	rpm --root "$ROOT" -q "dkim-keys-private-$_v-1" >/dev/null 2>&1 &&
	    return 0
	rpm --root "$ROOT" -U "$R/rpms/private/dkim-keys-private-$_v-1.noarch.rpm" \
	    "$R/rpms/public/dkim-keys-public-$_v-1.noarch.rpm" \
	    >"$tmp/rpm.out" 2>&1
}
# sign STEP: the real OpenDKIM signs a message of every domain with the
# installed tables and keys, as opendkim, into $ROOT/mail/STEP/DOMAIN
sign() {
	sed "s|:/etc/dkim-keys/keys/|:$ROOT/etc/dkim-keys/keys/|" \
	    "$ROOT/etc/dkim-keys/KeyTable" >"$ROOT/KeyTable.test"
	printf 'Mode s\nKeyTable file:%s\nSigningTable refile:%s\nSyslog no\n' \
	    "$ROOT/KeyTable.test" "$ROOT/etc/dkim-keys/SigningTable" \
	    >"$ROOT/opendkim.conf"
	mkdir -p "$ROOT/mail/$1"
	for d in $domains; do
		printf 'From: a@%s\r\nTo: b@example.net\r\nSubject: %s\r\nDate: Sat, 21 Nov 2026 06:00:00 +0000\r\n\r\nhello\r\n' \
		    "$d" "$1" >"$ROOT/mail/$1/$d.msg"
		setpriv --reuid=opendkim --regid=opendkim --clear-groups \
		    opendkim -x "$ROOT/opendkim.conf" -t "$ROOT/mail/$1/$d.msg" \
		    >"$ROOT/mail/$1/$d.sig" 2>>"$tmp/opendkim.err" || return 1
	done
}
# verify STEP...: dkimpy through NSD, every message of those steps;
# prints "DOMAIN SELECTOR True|False" per message
verify() {
	"$PY" - "$P" "$ROOT/mail" "$@" <<'EOF'
import os
import re
import sys

import dkim

sys.dont_write_bytecode = True
sys.path.insert(0, os.environ["DKIMROT_SRC"] + "/tests/lib")
from dnstxt import txt_at  # noqa: E402

txt = txt_at(int(sys.argv[1]))
for step in sys.argv[3:]:
    d = os.path.join(sys.argv[2], step)
    for name in sorted(os.listdir(d)):
        if not name.endswith(".msg"):
            continue
        dom = name[:-4]
        out = open(os.path.join(d, dom + ".sig"), "rb").read()
        hdr = []
        for line in out.split(b"\n"):
            if line.startswith(b"DKIM-Signature:") or \
                    (hdr and line[:1] in (b" ", b"\t")):
                hdr.append(line.rstrip(b"\r"))
            elif hdr:
                break
        if not hdr:
            print(dom, "-", "unsigned")
            continue
        sig = b"\r\n".join(hdr) + b"\r\n"
        sel = re.search(rb"s=([^;\s]+)", sig).group(1).decode()
        msg = open(os.path.join(d, name), "rb").read()
        print(dom, sel, dkim.verify(sig + msg, dnsfunc=txt))
EOF
}
install || { diag "$tmp/rpm.out"; bail "cannot install the packages"; }
sign import || bail "opendkim -t failed"
verify import >"$tmp/v.out"
awk '{ print $1, $2 }' "$tmp/v.out" | sort >"$tmp/got"
sort "$tmp/selectors" >"$tmp/want"
check "OpenDKIM with the installed package signs with the same keys" \
    same "$tmp/want" "$tmp/got"
check "and every message verifies against the old records" \
    [ "$(grep -c ' True$' "$tmp/v.out")" = $N ]

# --- name servers move to the installed fragments; the next rotation
serve installed || bail "nsd_reload failed"
verify import >"$tmp/v.out"
check "the messages verify with the installed fragments too" \
    [ "$(grep -c ' True$' "$tmp/v.out")" = $N ]
prev=import
bad=
day=3
while [ $day -le 39 ]; do
	t=$(date -u -d "2026-11-20 + $day days" +%Y-%m-%dT00:00:00Z)
	dk -C "$R" --now "$t" -q rotate >/dev/null 2>>"$tmp/rotate.err" ||
	    bail "rotate at $t failed"
	install || { diag "$tmp/rpm.out"; bail "install at $t failed"; }
	serve installed || bail "nsd_reload at $t failed"
	sign "$day" || bail "opendkim -t at $t failed"
	verify "$prev" "$day" >"$tmp/v.out"
	f=$(grep -v ' True$' "$tmp/v.out" | tr '\n' ' ')
	[ -z "$f" ] || bad="$bad $t: $f;"
	prev=$day
	day=$((day + 3))
done
check "no message failed verification over the rotation${bad:+:$bad}" \
    [ -z "$bad" ]
awk '{ print $2 }' "$tmp/v.out" | sort -u >"$tmp/sels"
check "every domain signs with a timestamp selector now" \
    eval '[ -z "$(grep -v '\''^2026[0-9]\{10\}$'\'' "$tmp/sels")" ] &&
    [ "$(wc -l <"$tmp/v.out")" = $((2 * N)) ]'
# keep_published: an old key leaves DNS with its successor's successor
dk -C "$R" --now "$t" status --json >"$tmp/status.json"
"$PY" -c 'import json, sys
for d in json.load(open(sys.argv[1]))["domains"]:
    for k in d["keys"]:
        if not k["selector"].startswith("2026"):
            print(d["domain"], k["selector"], k["state"])
' "$tmp/status.json" >"$tmp/old"
gone=0 bad=
while read -r d s st; do
	r=$(dig +short -p "$P" @127.0.0.1 "$s._domainkey.$d" TXT)
	case $st in
	retired) gone=$((gone + 1)); [ -z "$r" ] || bad="$bad $d/$s" ;;
	retiring) [ -n "$r" ] || bad="$bad $d/$s" ;;
	*) bad="$bad $d/$s:$st" ;;
	esac
done <"$tmp/old"
check "old selectors: retiring ones served, retired ones ($gone) gone${bad:+:$bad}" \
    eval '[ -z "$bad" ] && [ "$gone" -gt 0 ] && [ "$(wc -l <"$tmp/old")" = $N ]'
echo "1..$n"
