#!/bin/sh
# dkimrot remove with real processes: two domains signed by the real
# OpenDKIM (opendkim -t, its milter code in test mode) with the tables
# and keys of the INSTALLED private package (rpm --root), verified by
# dkimpy through NSD serving the INSTALLED zone fragments.  After
# 'remove -d example.org' and the upgrade to the packages of that commit,
# OpenDKIM no longer signs example.org's mail (example.com's still is),
# and NSD still serves its record; after drain its record, fragment and
# key are gone from the packages, and so from NSD; added back, it is
# signed again with a new key.
#
# OpenDKIM refuses keys below a directory others can write (/tmp), so
# the rpm root is a root-owned 0755 directory under /var/lib, removed at
# exit.  The private package gives its keys to the user opendkim (0600,
# in 0700 directories), so OpenDKIM runs as opendkim, as on a host.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/nsd.sh"
. "$DKIMROT_SRC/tests/lib/rpmroot.sh"
ROOT=$(mktemp -d /var/lib/dkimrot-remove.XXXXXX) || bail "no rpm root"
chmod 755 "$ROOT" || bail "cannot chmod the rpm root"
trap 'nsd_stop "$tmp/ns" 2>/dev/null; rm -rf "$tmp" "$ROOT"' EXIT INT TERM
PY=/usr/bin/python3
R=$tmp/repo
ZD=/var/lib/dkim-zones
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1

for tool in nsd dig opendkim rpm; do
	command -v "$tool" >/dev/null 2>&1 || bail "$tool is not installed"
done
id opendkim >/dev/null 2>&1 || bail "no user opendkim"
"$PY" -c 'import dkim, dns.query' 2>/dev/null ||
    bail "$PY lacks dkimpy or dnspython"

dk -C "$R" --now 2026-11-20T00:00:00Z init --no-sign -d example.com \
    -d example.org >/dev/null 2>&1 || bail "init failed"
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e "s|zone_dir: .*|zone_dir: $ZD|" \
    -e 's|mta_reload: .*|mta_reload: ""|' \
    -e 's|^  # dns_reload: .*|  dns_reload: ""|' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "test configuration" || bail "commit failed"
for t in 2026-11-20 2026-11-21; do
	dk -C "$R" --now "${t}T00:00:00Z" -q rotate >/dev/null ||
	    bail "rotate at $t failed"
done
rpmroot_make "$ROOT" || bail "rpmroot_make failed"
mkdir -p "$tmp/stub" && rpmroot_stub "$tmp/stub" || bail "rpmroot_stub failed"
rpm --root "$ROOT" -i "$tmp/stub/sh-stub-1-1.noarch.rpm" >/dev/null 2>&1 ||
    bail "cannot install the shell stub"

# install: the packages of HEAD, installed or upgraded
install() {
	_v=$(git -C "$R" rev-list --count --first-parent HEAD)
	rpm --root "$ROOT" -U "$R/rpms/private/dkim-keys-private-$_v-1.noarch.rpm" \
	    "$R/rpms/public/dkim-keys-public-$_v-1.noarch.rpm" \
	    >"$tmp/rpm.out" 2>&1
}
# serve: NSD's zones from the installed fragments (a fragment gone: the
# zone without it, as an operator's include list would have it)
serial=1
serve() {
	serial=$((serial + 1))
	for d in example.com example.org; do
		{
			printf '$ORIGIN %s.\n$TTL 300\n' "$d"
			printf '@ IN SOA ns.%s. hostmaster.%s. %d 3600 600 86400 300\n' \
			    "$d" "$d" "$serial"
			printf '@ IN NS ns.%s.\nns IN A 127.0.0.1\n' "$d"
			if [ -f "$ROOT$ZD/$d.zone" ]; then
				printf '$INCLUDE %s\n' "$ROOT$ZD/$d.zone"
			fi
		} >"$tmp/ns/$d.zone"
	done
	if [ -n "${NSD_PID:-}" ]; then nsd_reload "$tmp/ns"; else
		nsd_start "$tmp/ns" example.com example.com.zone \
		    example.org example.org.zone
	fi
}
# sign DOMAIN: the real OpenDKIM signs a message from DOMAIN with the
# installed tables and keys (the KeyTable's paths taken into the root);
# prints the message as signed (no DKIM-Signature: not signed)
sign() {
	rm -f "$tmp/signed"
	sed "s|:/etc/dkim-keys/keys/|:$ROOT/etc/dkim-keys/keys/|" \
	    "$ROOT/etc/dkim-keys/KeyTable" >"$ROOT/KeyTable.test"
	printf 'Mode s\nKeyTable file:%s\nSigningTable refile:%s\nSyslog no\n' \
	    "$ROOT/KeyTable.test" "$ROOT/etc/dkim-keys/SigningTable" \
	    >"$ROOT/opendkim.conf"
	printf 'From: a@%s\r\nTo: b@example.net\r\nSubject: remove\r\nDate: Sat, 21 Nov 2026 06:00:00 +0000\r\n\r\nhello\r\n' \
	    "$1" >"$ROOT/msg"
	setpriv --reuid=opendkim --regid=opendkim --clear-groups opendkim \
	    -x "$ROOT/opendkim.conf" -t "$ROOT/msg" >"$tmp/sig" \
	    2>"$tmp/opendkim.err" || { diag "$tmp/opendkim.err"; return 1; }
	# Its DKIM-Signature header (and continuation lines), on the message
	"$PY" - "$tmp/sig" "$ROOT/msg" "$tmp/signed" <<'EOF'
import sys

out = open(sys.argv[1], "rb").read().split(b"\n")
hdr = []
for line in out:
    if line.startswith(b"DKIM-Signature:") or (hdr and line[:1] in b" \t"
                                               and line):
        hdr.append(line.rstrip(b"\r"))
    elif hdr:
        break
with open(sys.argv[3], "wb") as f:
    if hdr:
        f.write(b"\r\n".join(hdr) + b"\r\n" +
                open(sys.argv[2], "rb").read())
EOF
}
# verify: dkimpy verifies "$tmp/signed" through NSD; prints True/False
verify() {
	"$PY" - "$NSD_PORT" "$tmp/signed" <<'EOF'
import os
import sys

import dkim

sys.dont_write_bytecode = True
sys.path.insert(0, os.environ["DKIMROT_SRC"] + "/tests/lib")
from dnstxt import txt_at  # noqa: E402

print(dkim.verify(open(sys.argv[2], "rb").read(),
                  dnsfunc=txt_at(int(sys.argv[1]))))
EOF
}
# served SEL DOMAIN: the TXT records NSD serves at the key's name
served() {
	dig +short +time=2 +tries=1 -p "$NSD_PORT" @127.0.0.1 \
	    "$1._domainkey.$2" TXT
}

install || { diag "$tmp/rpm.out"; bail "cannot install the packages"; }
mkdir "$tmp/ns"
serve || bail "nsd did not start"
for d in example.com example.org; do
	sign $d
	check "before: OpenDKIM signs $d's mail with the installed key" \
	    grep -q "^DKIM-Signature: .*d=$d;" "$tmp/signed"
	check "before: it verifies through NSD" [ "$(verify)" = True ]
done

# --- remove: the same commit takes example.org out of the tables
dk -C "$R" --now 2026-11-22T00:00:00Z -q remove -d example.org \
    >"$tmp/out" 2>&1
check "remove -d example.org" grep -qx \
    'example.org: 20261120000000 active -> retiring; leaving; out of dkimrot.yaml' \
    "$tmp/out"
install
check "the packages of that commit upgrade the installed ones" [ $? = 0 ]
check "the installed SigningTable no longer names example.org" \
    not grep -q 'example\.org' "$ROOT/etc/dkim-keys/SigningTable"
check "nor does the KeyTable" \
    not grep -q 'example\.org' "$ROOT/etc/dkim-keys/KeyTable"
check "the hook built them without the 'not in dkimrot.yaml' warning" \
    not grep -q 'example\.org: not in dkimrot\.yaml' \
    "$R/.git/dkimrot-package.log"
sign example.org
check "OpenDKIM no longer signs example.org's mail" [ ! -s "$tmp/signed" ]
sign example.com
check "example.com's mail is still signed, and verifies" \
    eval '[ -s "$tmp/signed" ] && [ "$(verify)" = True ]'
serve || bail "nsd_reload failed"
check "NSD still serves example.org's record (drain)" \
    [ -n "$(served 20261120000000 example.org)" ]
check "its private key is still installed" \
    [ -f "$ROOT/etc/dkim-keys/keys/example.org/20261120000000.private" ]

# --- drain: min_age (from 11-20) and drain (from 11-22)
dk -C "$R" --now 2026-11-25T23:59:59Z rotate >"$tmp/out" 2>&1
check "nothing retires before drain is over" [ ! -s "$tmp/out" ]
dk -C "$R" --now 2026-11-26T00:00:00Z -q rotate -d example.org \
    >"$tmp/out" 2>&1
check "after drain its key retires" grep -qx \
    'example.org: 20261120000000 retiring -> retired' "$tmp/out"
install
check "the packages of that commit upgrade the installed ones (2)" [ $? = 0 ]
check "its zone fragment is gone" [ ! -e "$ROOT$ZD/example.org.zone" ]
check "its key is gone" [ ! -e "$ROOT/etc/dkim-keys/keys/example.org" ]
check "the other domain's fragment is there" [ -f "$ROOT$ZD/example.com.zone" ]
serve || bail "nsd_reload failed (2)"
check "NSD serves example.org's record no more" \
    [ -z "$(served 20261120000000 example.org)" ]
check "its history stays in git" \
    git -C "$R" cat-file -e HEAD~1:keys/example.org/20261120000000.private

# --- added back: signed again, with a new key, once it is published
printf '  - name: example.org\n' >>"$R/dkimrot.yaml.add"
sed -i '/^  - name: example.com$/r '"$R/dkimrot.yaml.add" "$R/dkimrot.yaml"
rm "$R/dkimrot.yaml.add"
gitq -C "$R" commit -qam "example.org is back"
for t in 2026-11-27 2026-11-28; do
	dk -C "$R" --now "${t}T00:00:00Z" -q rotate >/dev/null ||
	    bail "rotate at $t failed"
done
install
check "the packages of the re-added domain install" [ $? = 0 ]
serve || bail "nsd_reload failed (3)"
sign example.org
check "OpenDKIM signs example.org's mail again, with the new key" \
    grep -q "^	s=20261127000000;" "$tmp/signed"
check "and it verifies through NSD" [ "$(verify)" = True ]
echo "1..$n"
