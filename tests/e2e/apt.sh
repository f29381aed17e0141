#!/bin/sh
# docs/design.md §11: packaging.formats [rpm, deb].  The same commit
# becomes .deb packages in an apt repository per package, beside the
# yum repositories; the real apt-get, with that repository as its only
# source and signatures checked against the exported key (signed-by=),
# installs them into scratch roots through the real dpkg: a mail server
# (private repository) whose keys are opendkim's and 0600, with which
# the real opendkim, run as opendkim, signs (dkimpy verifies through
# NSD) and which opendkim-testkey finds in DNS; a name
# server (public repository alone), which cannot see the private
# package, and whose NSD serves the installed records.  An upgrade to
# the next commit's packages replaces them, runs the reload, leaves no
# .dpkg-old; purge removes them.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/nsd.sh"
. "$DKIMROT_SRC/tests/lib/aptroot.sh"
. "$DKIMROT_SRC/tests/lib/testkey.sh"
# Below /var/lib (root's, 0755), never /tmp: see tests/lib/aptroot.sh.
MX=$(mktemp -d /var/lib/dkimrot-test-mx.XXXXXX) || exit 1
NS=$(mktemp -d /var/lib/dkimrot-test-ns.XXXXXX) || exit 1
trap 'nsd_stop "$tmp/nsd" 2>/dev/null; gpgconf --kill gpg-agent \
    >/dev/null 2>&1; rm -rf "$tmp" "$MX" "$NS"' EXIT INT TERM
chmod 755 "$MX" "$NS"
R=$tmp/repo
OUT=$R/rpms
ZD=/var/lib/dkim-zones
KD=/etc/dkim-keys/keys
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1
for tool in apt-get dpkg nsd dig opendkim-testkey openssl setpriv gpg; do
	command -v "$tool" >/dev/null 2>&1 || bail "$tool is not installed"
done

# --- the key repository, signed by init's key
dk -C "$R" --now 2026-11-20T00:00:00Z init -d example.com >/dev/null \
    2>&1 || bail "init failed"
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e "s|zone_dir: .*|zone_dir: $ZD|" \
    -e 's|mta_reload: .*|mta_reload: "echo mta >>/reloads"|' \
    -e 's|^  # dns_reload: .*|  dns_reload: "echo dns >>/reloads"|' \
    -e 's/^packaging:$/packaging:\n  formats: [rpm, deb]/' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "test configuration" || bail "commit failed"
dk -C "$R" --now 2026-11-20T00:00:00Z -q rotate >/dev/null
dk -C "$R" --now 2026-11-21T00:00:00Z -q rotate >/dev/null
v=4
PA=$OUT/private/apt
UA=$OUT/public/apt
check "the private apt repository holds dkim-keys-private_${v}_all.deb" \
    [ -f "$PA/dkim-keys-private_${v}_all.deb" ]
check "the public apt repository holds dkim-keys-public_${v}_all.deb" \
    [ -f "$UA/dkim-keys-public_${v}_all.deb" ]
check "neither apt repository holds the other's package" \
    eval '[ -z "$(ls "$PA" | grep public)" ] && [ -z "$(ls "$UA" | grep private)" ]'
check "each is signed (InRelease) with the public key beside it" \
    eval '[ -s "$PA/InRelease" ] && [ -s "$UA/InRelease" ] &&
    [ -s "$PA/dkimrot-archive-keyring.asc" ] &&
    [ -s "$UA/dkimrot-archive-keyring.asc" ]'
check "the public Packages names no private package" \
    not grep -q 'dkim-keys-private' "$UA/Packages"
dpkg-deb -c "$PA/dkim-keys-private_${v}_all.deb" |
    awk '{ print $1, $2, $6 }' >"$tmp/list"
rpm -qlvp --nosignature "$OUT/private/dkim-keys-private-$v-1.noarch.rpm" \
    2>/dev/null | awk '{ print $1, $NF }' | sort >"$tmp/rpm.list"
# The .deb also lists the parents dpkg needs (./usr/, ./etc/): compare
# what is below the package's own directory, and every file elsewhere.
awk '$3 ~ /^\.\/etc\/dkim-keys\// || $1 ~ /^-/ { sub(/^\./, "", $3);
    sub(/\/$/, "", $3); print $1, $3 }' "$tmp/list" | sort >"$tmp/deb.list"
check "the .deb holds the RPM's files with the RPM's modes" \
    same "$tmp/rpm.list" "$tmp/deb.list"
dpkg-deb -f "$PA/dkim-keys-private_${v}_all.deb" Package Version \
    Architecture >"$tmp/got"
printf 'Package: dkim-keys-private\nVersion: %s\nArchitecture: all\n' "$v" \
    >"$tmp/want"
check "the control file names the package, version and architecture" \
    same "$tmp/want" "$tmp/got"
dpkg-deb --ctrl-tarfile "$PA/dkim-keys-private_${v}_all.deb" |
    tar -xOf - ./conffiles >"$tmp/got"
rpm -qcp --nosignature "$OUT/private/dkim-keys-private-$v-1.noarch.rpm" \
    2>/dev/null | sort >"$tmp/want"
sort -o "$tmp/got" "$tmp/got"
check "conffiles are the RPM's %config files, no key" \
    same "$tmp/want" "$tmp/got"
for s in postinst postrm; do
	dpkg-deb --ctrl-tarfile "$PA/dkim-keys-private_${v}_all.deb" |
	    tar -xOf - "./$s" >"$tmp/$s"
	check "$s is POSIX sh (dash -n)" dash -n "$tmp/$s"
done

# installed ROOT PACKAGE VERSION: dpkg in ROOT has it, configured
installed() {
	[ "$(dpkg-query --admindir="$1/var/lib/dpkg" -W \
	    -f '${Status} ${Version}' "$2" 2>/dev/null)" = \
	    "install ok installed $3" ]
}

# --- a mail server: the private apt repository only
aptroot_make "$MX" || bail "cannot make the mail server's root"
echo "deb [signed-by=$PA/dkimrot-archive-keyring.asc] file:$PA ./" \
    >"$MX/etc/apt/sources.list"
aptroot "$MX" update >"$tmp/out" 2>&1
check "apt-get update reads the signed private repository" \
    not grep -qi 'not signed\|NO_PUBKEY\|^W:\|^E:' "$tmp/out"
aptroot "$MX" install -y dkim-keys-private >"$tmp/out" 2>&1
check "apt-get installs dkim-keys-private" \
    installed "$MX" dkim-keys-private "$v"
(cd "$R/keys" && ls */*.private | sort) >"$tmp/want"
(cd "$MX$KD" && ls */*.private | sort) >"$tmp/got"
check "the installed keys are the published ones" same "$tmp/want" "$tmp/got"
find "$MX$KD" -name '*.private' -exec stat -c '%a %U %G' {} + | sort -u \
    >"$tmp/got"
echo "600 opendkim opendkim" >"$tmp/want"
check "the installed keys are opendkim's, 0600 (postinst)" \
    same "$tmp/want" "$tmp/got"
check "the key directory is opendkim's, 0700" \
    [ "$(stat -c '%a %U' "$MX$KD")" = "700 opendkim" ]
check "postinst ran the reload once" [ "$(cat "$MX/reloads")" = mta ]
for k in "$R"/keys/*/*.private; do
	cmp -s "$k" "$MX$KD/${k#"$R/keys/"}" || nok "key ${k##*/} differs"
done
sel=$(awk '!/^#/ { split($2, a, ":"); print a[2] }' \
    "$MX/etc/dkim-keys/KeyTable")
check "the installed KeyTable names the installed active key" \
    [ -f "$MX$KD/example.com/$sel.private" ]

# --- a name server: the public apt repository only
aptroot_make "$NS" || bail "cannot make the name server's root"
echo "deb [signed-by=$UA/dkimrot-archive-keyring.asc] file:$UA ./" \
    >"$NS/etc/apt/sources.list"
aptroot "$NS" update >"$tmp/out" 2>&1
aptroot "$NS" install -y dkim-keys-private >"$tmp/out" 2>&1
check "the name server cannot install dkim-keys-private" \
    grep -q 'Unable to locate package dkim-keys-private' "$tmp/out"
aptroot "$NS" install -y dkim-keys-public >"$tmp/out" 2>&1
check "apt-get installs dkim-keys-public on the name server" \
    installed "$NS" dkim-keys-public "$v"
check "which installed the zone fragment" [ -f "$NS$ZD/example.com.zone" ]
check "its postinst ran the reload" [ "$(cat "$NS/reloads")" = dns ]
check "the name server holds no private key" \
    [ -z "$(find "$NS" -name '*.private')" ]

# --- NSD serves the installed records; opendkim-testkey, as opendkim,
# reads the installed key and finds its record there
zone() {	# SERIAL
	cat >"$tmp/nsd/example.com.zone" <<ZONE
\$ORIGIN example.com.
\$TTL 300
@	IN	SOA	ns.example.com. hostmaster.example.com. $1 3600 600 86400 300
@	IN	NS	ns.example.com.
ns	IN	A	127.0.0.1
\$INCLUDE $NS$ZD/example.com.zone
ZONE
}
# served SEL: the p= NSD serves; keyp FILE: the p= of a private key
served() {
	dig +short -p "$NSD_PORT" @127.0.0.1 "$1._domainkey.example.com" TXT |
	    sed 's/" "//g; s/"//g; s/.*p=//; s/;.*//'
}
keyp() { openssl pkey -in "$1" -pubout -outform DER | base64 -w0; }
mkdir "$tmp/nsd" && zone 1 && nsd_start "$tmp/nsd" example.com \
    example.com.zone || bail "nsd did not start"
check "NSD serves the installed record of the installed active key" \
    [ "$(served "$sel")" = "$(keyp "$MX$KD/example.com/$sel.private")" ]
mkdir "$MX/tk" && chown opendkim "$MX/tk"
testkey_setup "$MX/tk" "$NSD_PORT" example.com ||
    bail "cannot configure opendkim-testkey"
out=$(setpriv --reuid=opendkim --regid=opendkim --clear-groups \
    opendkim-testkey -x "$MX/tk/testkey.conf" -d example.com -s "$sel" \
    -k "$MX$KD/example.com/$sel.private" -vvv 2>"$tmp/testkey.err")
check "opendkim-testkey as opendkim reads the installed key: key OK" \
    [ "$out" = "opendkim-testkey: key OK" ]
# The real opendkim in its test mode (-t), as opendkim: it signs with
# the key the installed KeyTable and SigningTable name.  The KeyTable
# names the host's /etc/dkim-keys; in the scratch root that is
# $MX/etc/dkim-keys, so a copy points there, and only there.
mkdir "$MX/od"
sed "s|:/etc/dkim-keys/|:$MX/etc/dkim-keys/|" "$MX/etc/dkim-keys/KeyTable" \
    >"$MX/od/KeyTable"
cat >"$MX/od/opendkim.conf" <<CONF
Mode s
KeyTable $MX/od/KeyTable
SigningTable refile:$MX/etc/dkim-keys/SigningTable
Syslog no
CONF
printf 'From: a@example.com\r\nTo: b@example.org\r\nSubject: t\r\nDate: Fri, 20 Nov 2026 00:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nhello\r\n' \
    >"$MX/od/msg"
chmod -R a+rX "$MX/od"
setpriv --reuid=opendkim --regid=opendkim --clear-groups opendkim \
    -x "$MX/od/opendkim.conf" -t "$MX/od/msg" >"$tmp/od.out" 2>&1
# The header as opendkim prints it, CRLF, made LF here.
awk '{ sub(/\r$/, "") } /^DKIM-Signature:/ { on = 1; print; next }
    on && /^[ \t]/ { print; next } { on = 0 }' "$tmp/od.out" >"$tmp/sig"
check "opendkim, as opendkim, signs with the installed key" \
    eval 'grep -q "d=example.com; *\$" "$tmp/sig" &&
    grep -q "s=$sel;" "$tmp/sig"'
/usr/bin/python3 - "$NSD_PORT" "$tmp/sig" "$MX/od/msg" >"$tmp/py" 2>&1 <<'PY'
import os
import sys

import dkim

sys.dont_write_bytecode = True
sys.path.insert(0, os.environ["DKIMROT_SRC"] + "/tests/lib")
from dnstxt import txt_at  # noqa: E402

sig = open(sys.argv[2], "rb").read().replace(b"\n", b"\r\n")
msg = open(sys.argv[3], "rb").read()
txt = txt_at(int(sys.argv[1]))
good = dkim.verify(sig + msg, dnsfunc=txt)
bad = dkim.verify(sig + msg.replace(b"hello", b"hullo"), dnsfunc=txt)
print("ok" if good and not bad else "bad %s %s" % (good, bad))
PY
check "dkimpy verifies opendkim's signature through NSD (and not a changed message)" \
    [ "$(cat "$tmp/py")" = ok ]
[ "$(cat "$tmp/py")" = ok ] || diag "$tmp/py" "$tmp/od.out"
setpriv --reuid=nobody --regid=nogroup --clear-groups \
    cat "$MX$KD/example.com/$sel.private" >/dev/null 2>&1
check "another user cannot read it" [ $? != 0 ]

# --- the next commit: a new key (30 days on), packages of version 5
dk -C "$R" --now 2026-12-20T00:00:00Z -q rotate >/dev/null
v=5
check "the next commit's .deb packages are built" \
    eval '[ -f "$PA/dkim-keys-private_${v}_all.deb" ] &&
    [ -f "$UA/dkim-keys-public_${v}_all.deb" ]'
aptroot "$MX" update >/dev/null 2>&1
aptroot "$MX" upgrade -y >"$tmp/out" 2>&1
check "apt-get upgrade installs version $v on the mail server" \
    installed "$MX" dkim-keys-private "$v"
(cd "$R/keys" && ls */*.private | sort) >"$tmp/want"
(cd "$MX$KD" && ls */*.private | sort) >"$tmp/got"
check "the upgrade replaced the keys with the next commit's" \
    same "$tmp/want" "$tmp/got"
check "the new key is opendkim's, 0600, too" \
    [ "$(find "$MX$KD" -name '*.private' -exec stat -c '%a %U' {} + |
    sort -u)" = "600 opendkim" ]
check "the upgrade ran the reload (twice in all)" \
    [ "$(cat "$MX/reloads" | tr '\n' ' ')" = "mta mta " ]
check "no .dpkg-old, .dpkg-new or .dpkg-dist copy is left" \
    [ -z "$(find "$MX" "$NS" -name '*.dpkg-*')" ]
aptroot "$NS" update >/dev/null 2>&1
aptroot "$NS" upgrade -y >/dev/null 2>&1
new=$(cd "$R/keys/example.com" && ls *.private | sort | tail -1)
new=${new%.private}
zone 2 && nsd_reload "$tmp/nsd"
check "NSD serves the upgraded package's new record" \
    [ "$(served "$new")" = "$(keyp "$MX$KD/example.com/$new.private")" ]

# --- the output: refusals and repairs
cp "$DKIMROT_SRC/tests/fuzz/corpus/deb/public" "$UA/dkim-keys-public_98_all.deb"
echo "not a package" >"$UA/dkim-keys-public_97_all.deb"
cp "$UA/dkim-keys-public_${v}_all.deb" "$UA/dkim-keys-public_96_all.deb"
# A real .deb of version 99 whose control names HEAD, a real commit:
# only the build ledger (docs/design.md §9) tells it from ours.
full=$(git -C "$R" rev-parse HEAD)
dpkg-deb -R "$PA/dkim-keys-private_${v}_all.deb" "$tmp/plant"
sed -i "s/^Version: .*/Version: 99/" "$tmp/plant/DEBIAN/control"
dpkg-deb --root-owner-group -b "$tmp/plant" \
    "$PA/dkim-keys-private_99_all.deb" >/dev/null 2>&1
rm -rf "$tmp/plant"
check "the planted .deb is version 99 of commit HEAD" \
    [ "$(dpkg-deb -f "$PA/dkim-keys-private_99_all.deb" Version \
    Dkimrot-Commit | tr '\n' ' ')" = "Version: 99 Dkimrot-Commit: $full " ]
rm "$UA/Release"
dk -C "$R" package >/dev/null 2>"$tmp/err"
rc=$?
head=$(git -C "$R" rev-parse --short=12 HEAD)
not="dkimrot did not build it (it is not in the build ledger)"
cat >"$tmp/want" <<WANT
dkimrot: commit $head is built (version $v); writing the repository metadata again
dkimrot: warning: not indexing '$PA/dkim-keys-private_99_all.deb': $not
dkimrot: warning: not indexing '$UA/dkim-keys-public_96_all.deb': $not
dkimrot: warning: not indexing '$UA/dkim-keys-public_97_all.deb': $not
dkimrot: warning: not indexing '$UA/dkim-keys-public_98_all.deb': $not
WANT
LC_ALL=C sort "$tmp/err" >"$tmp/got"
check "a run killed before the apt index: package writes it again, and warns of foreign files" \
    eval '[ $rc = 0 ] && same "$tmp/want" "$tmp/got"'
check "the foreign files are neither indexed nor removed" \
    eval 'not grep -q '\''_9[678]_all'\'' "$UA/Packages" &&
    [ -f "$UA/dkim-keys-public_98_all.deb" ] &&
    [ -f "$UA/dkim-keys-public_97_all.deb" ]'
check "a planted .deb naming a real commit is not indexed, nor signed for" \
    eval 'not grep -q -e '\''_99_all'\'' -e '\''^Version: 99$'\'' "$PA/Packages" &&
    not grep -q '\''_99_all'\'' "$PA/InRelease" &&
    [ -f "$PA/dkim-keys-private_99_all.deb" ]'
check "and the index is whole again" grep -q "^Filename: ./dkim-keys-public_${v}_all.deb$" "$UA/Packages"
rm "$UA"/dkim-keys-public_9[678]_all.deb "$PA/dkim-keys-private_99_all.deb"
chmod 0755 "$PA"
dk -C "$R" package >/dev/null 2>"$tmp/err"
rc=$?
echo "dkimrot: refusing the private repository '$PA': mode 0755 lets every user read the private keys (chmod o-rwx '$PA')" >"$tmp/want"
check "a private apt repository that everyone can read is refused" \
    eval '[ $rc = 1 ] && same "$tmp/want" "$tmp/err"'
check "and its mode is left as it was" [ "$(stat -c %a "$PA")" = 755 ]
chmod 0750 "$PA"

# --- a .deb at the next version that the ledger does not know
next=$((v + 1))
cp "$DKIMROT_SRC/tests/fuzz/corpus/deb/public" \
    "$UA/dkim-keys-public_${next}_all.deb"
sum=$(sha256sum <"$UA/dkim-keys-public_${next}_all.deb")
gitq -C "$R" -c core.hooksPath=/dev/null commit -q --allow-empty -m next
head=$(git -C "$R" rev-parse --short=12 HEAD)
expect "a planted .deb at the next version is refused" 1 \
    "dkimrot: refusing to replace '$UA/dkim-keys-public_${next}_all.deb': it is not a build of commit $head (not in the build ledger); move it away" \
    -C "$R" -q package
check "nothing was replaced or built" \
    eval '[ "$(sha256sum <"$UA/dkim-keys-public_${next}_all.deb")" = "$sum" ] &&
    [ ! -e "$PA/dkim-keys-private_${next}_all.deb" ] &&
    [ ! -e "$OUT/private/dkim-keys-private-${next}-1.noarch.rpm" ]'
rm "$UA/dkim-keys-public_${next}_all.deb"
dk -C "$R" -q package >/dev/null 2>&1
check "moved away, the commit is built" \
    eval '[ -f "$UA/dkim-keys-public_${next}_all.deb" ] &&
    grep -q "^Filename: ./dkim-keys-public_${next}_all.deb$" "$UA/Packages"'

# --- a wrong key: apt refuses the repository
mkdir -m 700 "$tmp/other"
GNUPGHOME=$tmp/other gpg -q --batch --passphrase '' --quick-gen-key \
    other@test ed25519 sign never 2>/dev/null
GNUPGHOME=$tmp/other gpg -q --armor --export >"$tmp/other.asc"
mkdir "$tmp/x" && chmod 755 "$tmp/x" && aptroot_make "$tmp/x"
echo "deb [signed-by=$tmp/other.asc] file:$UA ./" >"$tmp/x/etc/apt/sources.list"
aptroot "$tmp/x" update >"$tmp/out" 2>&1
aptroot "$tmp/x" install -y dkim-keys-public >>"$tmp/out" 2>&1
check "signed by another key: apt-get installs nothing" \
    [ ! -e "$tmp/x$ZD" ]
check "and says the signature is not by a key it trusts" \
    grep -q 'NO_PUBKEY\|not signed\|could not be verified\|couldn'"'"'t be verified' \
    "$tmp/out"

# --- purge
aptroot "$MX" purge -y dkim-keys-private >"$tmp/out" 2>&1
check "purge removes the keys and tables" [ ! -e "$MX/etc/dkim-keys" ]
check "and the package" not installed "$MX" dkim-keys-private "$v"
check "removal ran the reload" \
    [ "$(cat "$MX/reloads" | tr '\n' ' ')" = "mta mta mta " ]
aptroot "$NS" purge -y dkim-keys-public >/dev/null 2>&1
check "purge removes the zone fragments" [ ! -e "$NS$ZD" ]

echo "1..$n"
