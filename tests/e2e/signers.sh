#!/bin/sh
# packaging.signers: [opendkim, rspamd, exim].  The private package
# carries a copy of every key for each signer, 0600 and owned by that
# signer's user, with what Exim 4.9x's dkim_selector/dkim_private_key
# lookups need.  Installed with rpm into a root-owned 0755 tree; Exim
# from Debian's exim4-daemon-light, unpacked by scripts/setup.sh (exim4
# and postfix conflict as packages), with a configuration of its own
# that includes the installed exim/dkim.conf in its smtp transport,
# delivers to an SMTP sink; rspamd from Debian's package, on loopback
# with directories of its own, includes the installed
# rspamd/dkim_signing.conf and signs what rspamc hands it.  Each message
# carries a signature of every active key, RSA and Ed25519, and dkimpy
# verifies each through NSD.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/nsd.sh"
. "$DKIMROT_SRC/tests/lib/mail.sh"
. "$DKIMROT_SRC/tests/lib/verdicts.sh"
trap 'mail_stop; nsd_stop "$tmp/ns" 2>/dev/null; mail_base_rm;
    rm -rf "$tmp"' EXIT INT TERM
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1
R=$tmp/repo
D1=rsa.dkimrot.test D2=ed.dkimrot.test D3=dual.dkimrot.test
EXIM=${DKIMROT_EXIM:-/opt/dkimrot-tests/exim4/usr/sbin/exim4}
EXIM_USER=Debian-exim

for tool in nsd dig rpm; do
	command -v "$tool" >/dev/null 2>&1 || bail "$tool is not installed"
done
[ -x "$EXIM" ] || bail "no Exim at $EXIM (run scripts/setup.sh)"
id "$EXIM_USER" >/dev/null 2>&1 || bail "no user $EXIM_USER"
"$PY3" -c 'import dkim, dns.query, nacl, aiosmtpd' 2>/dev/null ||
    bail "$PY3 lacks dkimpy, dnspython, pynacl or aiosmtpd"
mail_base || bail "cannot make the base directory"
B=$MAIL_BASE
mkdir "$B/db"

dk -C "$R" --now 2026-11-20T00:00:00Z init --no-sign -d "$D1" -d "$D2" \
    -d "$D3" >/dev/null 2>&1 || bail "init failed"
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e "s|key_dir: .*|key_dir: $B/etc/keys|" \
    -e "s|table_dir: .*|table_dir: $B/etc|" \
    -e "s|zone_dir: .*|zone_dir: $B/zones|" \
    -e 's|mta_reload: .*|mta_reload: ""|' \
    -e 's|^  # dns_reload: .*|  dns_reload: ""|' \
    -e "s/^  - name: $D2\$/  - name: $D2\n    algorithms: [ed25519]/" \
    -e "s/^  - name: $D3\$/  - name: $D3\n    algorithms: [rsa, ed25519]/" \
    "$R/dkimrot.yaml"
cat >>"$R/dkimrot.yaml" <<EOF
  signers: [opendkim, rspamd, exim]
  exim_user: $EXIM_USER
  exim_group: $EXIM_USER
EOF
gitq -C "$R" commit -qam "test configuration" || bail "commit failed"
for t in 2026-11-20 2026-11-21; do
	dk -C "$R" --now "${t}T00:00:00Z" -q rotate >/dev/null 2>&1 ||
	    bail "rotate at $t failed"
done
NOW=2026-11-21T00:00:00Z
V=$(git -C "$R" rev-list --count --first-parent HEAD)
PRIV=$R/rpms/private/dkim-keys-private-$V-1.noarch.rpm
PUB=$R/rpms/public/dkim-keys-public-$V-1.noarch.rpm
rpm --dbpath "$B/db" --initdb
rpm --dbpath "$B/db" --nodeps --excludepath /usr/lib/systemd \
    -i "$PRIV" "$PUB" >"$tmp/rpm.out" 2>&1
rc=$?
check "rpm installs both packages below $B" [ $rc = 0 ]
[ $rc = 0 ] || diag "$tmp/rpm.out"
s3=$(active $D3)
for s in $s3; do
	printf '%s\n' "$B/etc/keys/$D3/$s.private 600 opendkim:opendkim" \
	    "$B/etc/rspamd/keys/$D3/$s.private 600 _rspamd:_rspamd" \
	    "$B/etc/exim/keys/$D3/$s.private 600 $EXIM_USER:$EXIM_USER"
done | sort >"$tmp/want"
for s in $s3; do
	for d in keys rspamd/keys exim/keys; do
		f=$B/etc/$d/$D3/$s.private
		echo "$f $(stat -c '%a %U:%G' "$f")"
	done
done | sort >"$tmp/got"
check "each signer has its own copy of every key, 0600, its own user's" \
    same "$tmp/want" "$tmp/got"
printf '%s: %s\n' $D1 "$(active $D1)" $D2 "$(active $D2)" \
    $D3 "$(active $D3 | tr " " "\n" | sort -r | tr "\n" " " | sed "s/ $//; s/ / : /")" >"$tmp/want"
grep -v '^#' "$B/etc/exim/selectors" >"$tmp/got"
check "exim/selectors lists every active selector (dual: both)" \
    same "$tmp/want" "$tmp/got"

# --- NSD serving the installed fragments
mkdir "$tmp/ns"
for d in $D1 $D2 $D3; do
	cat >"$tmp/ns/$d.zone" <<ZEOF
\$ORIGIN $d.
\$TTL 300
@	IN	SOA	ns.$d. hostmaster.$d. 1 3600 600 86400 300
@	IN	NS	ns.$d.
ns	IN	A	127.0.0.1
\$INCLUDE $B/zones/$d.zone
ZEOF
done
nsd_start "$tmp/ns" $D1 $D1.zone $D2 $D2.zone $D3 $D3.zone ||
    bail "nsd did not start"
sink_start "$tmp/sink" || bail "the sink did not start"

verify() {
	"$PY3" "$DKIMROT_SRC/tests/lib/dkimverify.py" "$NSD_PORT" "$1" | sort
}

# --- Exim: its own spool and log, the installed dkim.conf in the
# transport; Exim reads the keys as its user
mkdir -p "$B/exim/spool" "$B/exim/log"
chown "$EXIM_USER" "$B/exim/spool" "$B/exim/log"
cat >"$B/exim/exim.conf" <<EOF
exim_path = $EXIM
primary_hostname = mx.dkimrot.test
spool_directory = $B/exim/spool
log_file_path = $B/exim/log/%slog
keep_environment =
acl_not_smtp = acl_local
begin acl
acl_local:
  accept
begin routers
sink:
  driver = manualroute
  route_list = * 127.0.0.1
  transport = remote_smtp
  self = send
begin transports
remote_smtp:
  driver = smtp
  port = $SINK_PORT
  allow_localhost = true
  hosts_try_chunking =
.include $B/etc/exim/dkim.conf
EOF
nmsg=0
for d in $D1 $D2 $D3; do
	nmsg=$((nmsg + 1))
	printf 'From: sender@%s\nTo: rcpt@example.net\nSubject: exim %s\n\nfrom %s through exim\n' \
	    "$d" "$d" "$d" |
	    "$EXIM" -C "$B/exim/exim.conf" -odf -oi -f "sender@$d" \
	    rcpt@example.net 2>"$tmp/exim.err"
	if ! sink_wait "$tmp/sink" $nmsg; then
		cat "$tmp/exim.err" "$B/exim/log/mainlog" >&2
		bail "no message from $d through Exim"
	fi
	want "$d" >"$tmp/want"
	verify "$(printf '%s/%03d.eml' "$tmp/sink" $nmsg)" >"$tmp/got"
	check "Exim: $d signed with each active key ($(active "$d")), dkimpy passes" \
	    same "$tmp/want" "$tmp/got"
done
# --- rspamd from Debian's package, on loopback with its own directories:
# dkim_signing includes the installed rspamd/dkim_signing.conf; rspamc
# hands it each message as from 127.0.0.1 (sign_local) and returns it
# with the signatures (--mime)
RS=$B/rspamd
mkdir -p "$RS/local/local.d" "$RS/local/override.d" "$RS/run" "$RS/db" \
    "$RS/log"
chown _rspamd "$RS/run" "$RS/db" "$RS/log"
P_RS=$(mail_free_port)
for w in normal:$P_RS controller:$(mail_free_port) proxy:$(mail_free_port); do
	echo "bind_socket = \"127.0.0.1:${w#*:}\"; count = 1;" \
	    >"$RS/local/override.d/worker-${w%%:*}.inc"
done
echo 'type = "file"; level = "notice";' >"$RS/local/override.d/logging.inc"
echo "dns { nameserver = [\"127.0.0.1:$NSD_PORT\"]; }" \
    >"$RS/local/local.d/options.inc"
cat >"$RS/local/local.d/dkim_signing.conf" <<EOF
sign_local = true;
allow_username_mismatch = true;
use_esld = false;
.include "$B/etc/rspamd/dkim_signing.conf"
EOF
rspamd -u _rspamd -g _rspamd --var="LOCAL_CONFDIR=$RS/local" \
    --var="RUNDIR=$RS/run" --var="DBDIR=$RS/db" --var="LOGDIR=$RS/log" \
    >"$RS/start.log" 2>&1 || bail "rspamd did not start"
try=0
while [ ! -s "$RS/run/rspamd.pid" ] && [ $try -lt 600 ]; do
	try=$((try + 1))
	sleep 0.1
done
MAIL_PIDS="$MAIL_PIDS $(cat "$RS/run/rspamd.pid")"
try=0
# the normal worker answers a scan once it has loaded its configuration
until printf 'Subject: ping\r\n\r\n.\r\n' |
    rspamc -h "127.0.0.1:$P_RS" -t 2 >/dev/null 2>&1; do
	try=$((try + 1))
	[ $try -lt 300 ] || bail "rspamd does not answer"
	sleep 0.2
done
for d in $D1 $D2 $D3; do
	printf 'From: sender@%s\r\nTo: rcpt@example.net\r\nSubject: rspamd %s\r\nDate: Mon, 21 Dec 2026 06:00:00 +0000\r\nMessage-ID: <rs.%s@%s>\r\n\r\nfrom %s through rspamd\r\n' \
	    "$d" "$d" "$d" "$d" "$d" >"$tmp/rs.in"
	rspamc -h "127.0.0.1:$P_RS" --mime -i 127.0.0.1 -F "sender@$d" \
	    -r rcpt@example.net <"$tmp/rs.in" >"$tmp/rs.out" 2>&1
	want "$d" >"$tmp/want"
	verify "$tmp/rs.out" >"$tmp/got"
	check "rspamd: $d signed with each active key ($(active "$d")), dkimpy passes" \
	    same "$tmp/want" "$tmp/got"
done

echo "1..$n"
