#!/bin/sh
# The private package with released OpenDKIM (Debian 12's 2.11.0~beta2),
# as a mail server runs it: both packages installed with rpm (their own
# rpm database) into a root-owned 0755 tree outside /tmp, NSD serving the
# installed zone fragments, the two OpenDKIM instances started from the
# INSTALLED opendkim-rsa.conf and opendkim-ed25519.conf (only socket and
# pid file given on the command line), Postfix on 127.0.0.1 relaying
# through both milters (the installed postfix-milters.cf's line, at the
# test's ports) to an SMTP sink.  For an RSA, an Ed25519 and a dual
# domain every message arrives signed with each active key, and dkimpy
# and OpenDKIM in verify mode (resolving through NSD) pass every
# signature; a tampered message fails.  Then a rotation: rpm -U, reload,
# a message signed before and one signed after both verify; once the old
# key retires the new one still verifies and the old selector is gone.
# `check --milter` passes through both instances, and is CRITICAL against
# a single OpenDKIM given a dual domain (the tempfail of released
# OpenDKIM), a milter signing with a retired key and a stopped milter.
#
# OpenDKIM's Nameservers option takes no port: its libunbound resolver
# is sent to NSD's port by an unbound.conf (tests/lib/testkey.sh).
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/nsd.sh"
. "$DKIMROT_SRC/tests/lib/testkey.sh"
. "$DKIMROT_SRC/tests/lib/mail.sh"
. "$DKIMROT_SRC/tests/lib/verdicts.sh"
trap 'mail_stop; nsd_stop "$tmp/ns" 2>/dev/null; mail_base_rm;
    rm -rf "$tmp"' EXIT INT TERM
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1
R=$tmp/repo
D1=rsa.dkimrot.test D2=ed.dkimrot.test D3=dual.dkimrot.test

for tool in nsd dig opendkim postfix rpm; do
	command -v "$tool" >/dev/null 2>&1 || bail "$tool is not installed"
done
"$PY3" -c 'import dkim, dns.query, nacl, aiosmtpd' 2>/dev/null ||
    bail "$PY3 lacks dkimpy, dnspython, pynacl or aiosmtpd"
id opendkim >/dev/null 2>&1 || bail "no user opendkim"
mail_base || bail "cannot make the base directory"
B=$MAIL_BASE
mkdir "$B/db" "$B/run"

# --- the key repository, installed paths below $B; %post reloads the
# test's instances exactly as the unit's ExecReload does
dk -C "$R" --now 2026-11-20T00:00:00Z init --no-sign -d "$D1" -d "$D2" \
    -d "$D3" >/dev/null 2>&1 || bail "init failed"
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e "s|key_dir: .*|key_dir: $B/etc/keys|" \
    -e "s|table_dir: .*|table_dir: $B/etc|" \
    -e "s|zone_dir: .*|zone_dir: $B/zones|" \
    -e "s|mta_reload: .*|mta_reload: \"for p in $B/run/*.pid; do kill -USR1 \$(cat \$p); done\"|" \
    -e 's|^  # dns_reload: .*|  dns_reload: ""|' \
    -e "s/^  - name: $D1\$/  - name: $D1\n    subdomains: true/" \
    -e "s/^  - name: $D2\$/  - name: $D2\n    algorithms: [ed25519]/" \
    -e "s/^  - name: $D3\$/  - name: $D3\n    algorithms: [rsa, ed25519]/" \
    "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "test configuration" || bail "commit failed"
for t in 2026-11-20 2026-11-21; do
	dk -C "$R" --now "${t}T00:00:00Z" -q rotate >/dev/null 2>&1 ||
	    bail "rotate at $t failed"
done

pkgs() {	# the packages of HEAD
	V=$(git -C "$R" rev-list --count --first-parent HEAD)
	PRIV=$R/rpms/private/dkim-keys-private-$V-1.noarch.rpm
	PUB=$R/rpms/public/dkim-keys-public-$V-1.noarch.rpm
}
NOW=2026-11-21T00:00:00Z
pkgs
rpm --dbpath "$B/db" --initdb
# The unit goes to systemd's directory on a real host: not here.
rpm --dbpath "$B/db" --nodeps --excludepath /usr/lib/systemd \
    -i "$PRIV" "$PUB" >"$tmp/rpm.out" 2>&1
check "rpm installs both packages below $B" [ $? = 0 ]
check "the keys are 0600 opendkim:opendkim in 0700 directories" \
    [ "$(stat -c '%a %U:%G' "$B"/etc/keys/$D3/*.private | sort -u)" = \
    "600 opendkim:opendkim" -a \
    "$(stat -c %a "$B/etc/keys/$D3")" = 700 ]
rpm -qlp "$PRIV" 2>/dev/null | grep -qx /usr/lib/systemd/system/opendkim@.service
check "the package ships the template unit opendkim@.service" [ $? = 0 ]

# --- NSD: each zone $INCLUDEs the installed fragment
mkdir "$tmp/ns"
serial=1
zones() {
	for d in $D1 $D2 $D3; do
		cat >"$tmp/ns/$d.zone" <<ZEOF
\$ORIGIN $d.
\$TTL 300
@	IN	SOA	ns.$d. hostmaster.$d. $serial 3600 600 86400 300
@	IN	NS	ns.$d.
ns	IN	A	127.0.0.1
\$INCLUDE $B/zones/$d.zone
ZEOF
	done
}
zones
nsd_start "$tmp/ns" $D1 $D1.zone $D2 $D2.zone $D3 $D3.zone ||
    bail "nsd did not start"
testkey_setup "$tmp" "$NSD_PORT" $D1 $D2 $D3

# --- the two OpenDKIM instances, from the installed configuration
P_RSA=$(mail_free_port)
P_ED=$(mail_free_port)
opendkim_start rsa "$B/etc/opendkim-rsa.conf" "$P_RSA" ||
    bail "opendkim@rsa did not start"
opendkim_start ed25519 "$B/etc/opendkim-ed25519.conf" "$P_ED" ||
    bail "opendkim@ed25519 did not start"
for i in rsa ed25519; do ln -s "$B/$i.pid" "$B/run/$i.pid"; done
check "the instances run as opendkim" \
    [ "$(ps -o user= -p "$(cat "$B/rsa.pid")" -p "$(cat "$B/ed25519.pid")" |
    sort -u)" = opendkim ]
sink_start "$tmp/sink" || bail "the sink did not start"
milters=$(sed -n 's/^smtpd_milters = //p' "$B/etc/postfix-milters.cf" |
    sed -e "s/:8891/:$P_RSA/" -e "s/:8892/:$P_ED/")
postfix_start "$B/pf" "$SINK_PORT" "$milters" || bail "postfix did not start"

# --- verifying
cat >"$tmp/verify.conf" <<VEOF
Mode			v
ResolverConfiguration	$tmp/unbound.conf
VEOF
# verify FILE: "d=DOMAIN s=SELECTOR a=ALG pass|fail" per signature, by
# dkimpy
verify() {
	"$PY3" "$DKIMROT_SRC/tests/lib/dkimverify.py" "$NSD_PORT" "$1"
}
# odverify FILE: the same lines from OpenDKIM in verify mode, from the
# Authentication-Results it adds (shown by -t with -vvv)
odverify() {
	opendkim -x "$tmp/verify.conf" -vvv -t "$1" >"$tmp/od.out" 2>&1
	"$PY3" -c 'import re, sys
t = open(sys.argv[1]).read()
m = re.search(r"hname=.Authentication-Results. hvalue=.(.*?)\x27$", t,
              re.S | re.M)
# comments, "(1024-bit key; unprotected)", hold semicolons too
for r in (re.sub(r"\([^)]*\)", "", m.group(1)).split(";")[1:] if m else []):
    f = dict(re.findall(r"([a-z.]+)=(\S+)", r))
    if "dkim" in f:
        print("d=%s s=%s a=%s %s" % (f["header.d"], f["header.s"],
                                      f["header.a"], f["dkim"]))
' "$tmp/od.out"
}

nmsg=0
# send DOMAIN TAG: a message from DOMAIN through Postfix; sets MSG
send() {
	nmsg=$((nmsg + 1))
	printf 'From: Sender <sender@%s>\r\nTo: rcpt@example.net\r\nSubject: %s\r\nDate: Mon, 21 Dec 2026 06:00:00 +0000\r\nMessage-ID: <%s.%s@%s>\r\n\r\nmessage %s from %s\r\n' \
	    "$1" "$2" "$2" "$nmsg" "$1" "$nmsg" "$1" >"$tmp/in.$nmsg"
	smtp_send "$PF_PORT" "sender@$1" "$tmp/in.$nmsg" &&
	    sink_wait "$tmp/sink" "$nmsg" ||
	    { cat "$B/pf/maillog" >&2; return 1; }
	MSG=$(printf '%s/%03d.eml' "$tmp/sink" "$nmsg")
}
# signed DESC WANT FILE: FILE carries exactly the signatures of WANT
# (want's lines) and each passes dkimpy and OpenDKIM
signed() {
	verify "$3" | sort >"$tmp/got"
	odverify "$3" | sort >"$tmp/got.od"
	if same "$2" "$tmp/got" && same "$2" "$tmp/got.od"; then
		ok "$1"
	else
		nok "$1"
	fi
}

for d in $D1 $D2 $D3; do
	send "$d" first || bail "no message from $d reached the sink"
	cp "$MSG" "$tmp/before.$d"
	want "$d" | sort >"$tmp/want.before.$d"
	signed "$d: signed with each active key ($(active "$d")), dkimpy and OpenDKIM pass" "$tmp/want.before.$d" "$MSG"
done
# subdomains: true (D1 only): mail from a subdomain is signed with the
# parent's key, d= the parent; a subdomain of D3 is not signed at all
send "news.$D1" sub || bail "no message from news.$D1 reached the sink"
signed "news.$D1 (subdomains: true): signed with $D1's key" \
    "$tmp/want.before.$D1" "$MSG"
send "news.$D3" sub || bail "no message from news.$D3 reached the sink"
: >"$tmp/want"
signed "news.$D3 (no subdomains): not signed" "$tmp/want" "$MSG"
# a tampered message: the body changed after signing
sed 's/^message /massage /' "$tmp/before.$D3" >"$tmp/tampered"
verify "$tmp/tampered" | sed 's/.* //' | sort -u >"$tmp/got"
echo fail >"$tmp/want"
check "dkimpy fails every signature of a tampered message" same "$tmp/want" "$tmp/got"
odverify "$tmp/tampered" | sed 's/.* //' | sort -u >"$tmp/got"
check "OpenDKIM fails every signature of a tampered message" same "$tmp/want" "$tmp/got"

# --- check --milter: the real signers sign a message of every domain,
# each signature verified through NSD
M_RSA=inet:$P_RSA@127.0.0.1 M_ED=inet:$P_ED@127.0.0.1
mcheck() {	# ARGS: check --milter ..., output in $tmp/check.out
	dk -C "$R" --now "$NOW" check --nameserver "127.0.0.1:$NSD_PORT" \
	    "$@" >"$tmp/check.out" 2>&1
}
mcheck --milter "$M_RSA" --milter "$M_ED"
rc=$?
grep milter "$tmp/check.out" >"$tmp/got"
s1=$(active $D1) s2=$(active $D2)
s3r=$(active $D3 | tr ' ' '\n' | grep 'r$')
s3e=$(active $D3 | tr ' ' '\n' | grep 'e$')
NS=127.0.0.1:$NSD_PORT
cat >"$tmp/want" <<EOF
OK $D1 $s1 @$NS: milter '$M_RSA' signs with it; the signature verifies
OK $D2 $s2 @$NS: milter '$M_ED' signs with it; the signature verifies
OK $D3 $s3r @$NS: milter '$M_RSA' signs with it; the signature verifies
OK $D3 $s3e @$NS: milter '$M_ED' signs with it; the signature verifies
EOF
check "check --milter passes through both instances (exit $rc)" \
    [ $rc = 0 ]
check "check --milter: each active key signed through its instance and verified" \
    same "$tmp/want" "$tmp/got"

# The failure of the issue: one OpenDKIM given both keys of the dual
# domain (the single KeyTable as it was, MultipleSignatures as the README
# said) tempfails every message of that domain.
mkdir "$B/single"
cat "$B/etc/KeyTable.rsa" "$B/etc/KeyTable.ed25519" >"$B/single/KeyTable"
cat "$B/etc/SigningTable.rsa" "$B/etc/SigningTable.ed25519" \
    >"$B/single/SigningTable"
cat >"$B/single/opendkim.conf" <<EOF
Mode			s
KeyTable		$B/single/KeyTable
SigningTable		refile:$B/single/SigningTable
MultipleSignatures	yes
UserID			opendkim:opendkim
EOF
P_ONE=$(mail_free_port)
M_ONE=inet:$P_ONE@127.0.0.1
opendkim_start single "$B/single/opendkim.conf" "$P_ONE" ||
    bail "the single OpenDKIM did not start"
mcheck --nagios --domain $D3 --milter "$M_ONE"
rc=$?
sed -n 1p "$tmp/check.out" | sed 's/ |.*//' >"$tmp/got"
sed 1d "$tmp/check.out" >>"$tmp/got"
cat >"$tmp/want" <<EOF
DKIM CRITICAL - $D3 - -: milter '$M_ONE' did not take the message: 451 4.7.0 resource unavailable (3 problems)
CRITICAL $D3 - -: milter '$M_ONE' did not take the message: 451 4.7.0 resource unavailable
CRITICAL $D3 $s3e -: active key, but no milter signs with it ('$M_ONE': 451 4.7.0 resource unavailable, 0 signatures)
CRITICAL $D3 $s3r -: active key, but no milter signs with it ('$M_ONE': 451 4.7.0 resource unavailable, 0 signatures)
EOF
check "check --milter: a single OpenDKIM given a dual domain is CRITICAL (exit $rc)" \
    [ $rc = 2 ]
check "check --milter: ... with the milter's own reply" same "$tmp/want" "$tmp/got"
opendkim_stop single
# A key to sign with once it has retired: kept aside, as a stale
# instance would still have it.
mkdir -m 755 "$B/stale"
cp -p "$B/etc/keys/$D1/$s1.private" "$B/stale/"
echo "$s1._domainkey.$D1 $D1:$s1:$B/stale/$s1.private" >"$B/stale/KeyTable"
echo "*@$D1 $s1._domainkey.$D1" >"$B/stale/SigningTable"
cat >"$B/stale/opendkim.conf" <<EOF
Mode			s
KeyTable		$B/stale/KeyTable
SigningTable		refile:$B/stale/SigningTable
UserID			opendkim:opendkim
EOF

# upgrade NOW...: rotate at each NOW, rpm -U both packages (%post
# reloads the instances), NSD reloads the new fragments
upgrade() {
	for NOW in "$@"; do
		dk -C "$R" --now "$NOW" -q rotate >/dev/null 2>&1 || return 1
	done
	pkgs
	rpm --dbpath "$B/db" --nodeps --excludepath /usr/lib/systemd \
	    -U "$PRIV" "$PUB" >"$tmp/rpm.out" 2>&1 || return 1
	serial=$((serial + 1))
	zones
	nsd_reload || return 1
	# OpenDKIM rereads its tables on SIGUSR1 in its own time
	sleep 1
}

# --- a rotation: new keys active, the old ones retiring (in DNS)
old1=$(active $D1) old3=$(active $D3)
upgrade 2026-12-20T00:00:00Z 2026-12-21T00:00:00Z
check "rpm -U upgrades both packages to version $V" [ $? = 0 ]
for d in $D1 $D2 $D3; do
	send "$d" after || bail "no message from $d reached the sink"
	want "$d" | sort >"$tmp/want.after.$d"
	signed "$d: after the upgrade and reload, signed with the new keys ($(active "$d"))" "$tmp/want.after.$d" "$MSG"
	signed "$d: the message signed before the rotation still verifies" "$tmp/want.before.$d" "$tmp/before.$d"
done
check "the rotation changed the selectors" \
    [ "$old1" != "$(active $D1)" -a "$old3" != "$(active $D3)" ]

# --- the old keys retire (a month on, with the next pending keys)
upgrade 2027-01-20T00:00:00Z
check "rpm -U upgrades both packages to version $V" [ $? = 0 ]
for d in $D1 $D2 $D3; do
	send "$d" retired || bail "no message from $d reached the sink"
	signed "$d: after the old key retired, the new one signs and verifies" "$tmp/want.after.$d" "$MSG"
done
gone=""
for s in $old1; do gone="$gone $s._domainkey.$D1"; done
for s in $old3; do gone="$gone $s._domainkey.$D3"; done
left=""
for name in $gone; do
	[ -n "$(dig +short -p "$NSD_PORT" @127.0.0.1 "$name" TXT)" ] &&
	    left="$left $name"
done
check "the old selectors are gone from DNS${left:+:$left}" [ -z "$left" ]
check "the old keys are gone from the installed tree" \
    [ ! -e "$B/etc/keys/$D1/$old1.private" ]
# --- check --milter against a milter signing with the retired key, and
# against a stopped milter
P_OLD=$(mail_free_port)
M_OLD=inet:$P_OLD@127.0.0.1
opendkim_start stale "$B/stale/opendkim.conf" "$P_OLD" ||
    bail "the stale OpenDKIM did not start"
mcheck --domain $D1 --milter "$M_OLD"
rc=$?
grep -v '^OK\|^DKIM' "$tmp/check.out" >"$tmp/got"
n1=$(active $D1)
cat >"$tmp/want" <<EOF
CRITICAL $D1 $s1 -: milter '$M_OLD' signs with d=$D1 s=$s1, a key that is retired
CRITICAL $D1 $n1 -: active key, but no milter signs with it ('$M_OLD': accept, 1 signature)
EOF
check "check --milter: a milter signing with a retired key is CRITICAL (exit $rc)" \
    [ $rc = 1 ]
check "check --milter: ... naming the key and its state" same "$tmp/want" "$tmp/got"
opendkim_stop stale
mcheck --milter "$M_RSA" --milter "$M_ED"
check "check --milter still passes after the retirement" [ $? = 0 ]
opendkim_stop ed25519
mcheck --json --domain $D2 --milter "$M_RSA" --milter "$M_ED"
rc=$?
"$PY3" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(d["status"])
for c in d["checks"]:
    if c["status"] != "OK":
        print(c["status"], c["selector"], c["message"])' "$tmp/check.out" >"$tmp/got"
n2=$(active $D2)
cat >"$tmp/want" <<EOF
CRITICAL
CRITICAL None cannot connect to milter '$M_ED': Connection refused
CRITICAL $n2 active key, but no milter signs with it ('$M_RSA': accept at end of headers, 0 signatures, '$M_ED': no answer)
EOF
check "check --milter: a stopped milter is CRITICAL (exit $rc)" [ $rc = 1 ]
check "check --milter: ... saying it cannot connect (JSON)" same "$tmp/want" "$tmp/got"

verify "$tmp/before.$D1" >"$tmp/got"

echo "d=$D1 s=$old1 a=rsa-sha256 fail" >"$tmp/want"
check "a message signed by a retired key no longer verifies" \
    same "$tmp/want" "$tmp/got"
echo "1..$n"
