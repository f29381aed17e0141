# Real mail daemons for tests, on 127.0.0.1 at ports of their own, with
# everything (configuration, queue, pid files, logs) in a directory the
# test owns, stopped by pid.  Source it from a POSIX sh test after
# tests/lib/tap.sh.
#
# MAIL_BASE: a root-owned 0755 directory outside /tmp, made by
#     mail_base (OpenDKIM refuses keys below a directory others can
#     write, and Postfix's daemons, running as postfix, must reach their
#     queue); mail_base_rm removes it.
# sink_start DIR      tests/lib/smtpsink.py in DIR; sets SINK_PORT.
# opendkim_start NAME CONF PORT
#     opendkim -x CONF on inet:PORT@127.0.0.1, pid in $MAIL_BASE/NAME.pid.
# postfix_start DIR RELAYPORT MILTERS
#     Postfix with config_directory and queue_directory in DIR, smtpd on
#     127.0.0.1:$PF_PORT (set here), relaying everything to the sink at
#     127.0.0.1:RELAYPORT through the milters (Postfix's list).
# smtp_send PORT FROM FILE   one message, by SMTP.
# sink_wait DIR N     waits (10 s at most) until DIR/NNN.eml exists.
# mail_stop           stops everything started here, by pid.
#
# Needs postfix, opendkim, /usr/bin/python3 with aiosmtpd.

. "${DKIMROT_SRC:-.}/tests/lib/proc.sh"

MAIL_PIDS=""
PY3=/usr/bin/python3

mail_base() {
	mkdir -p /var/lib/dkimrot-tests && chmod 755 /var/lib/dkimrot-tests ||
	    return 1
	MAIL_BASE=$(mktemp -d /var/lib/dkimrot-tests/mail.XXXXXX) || return 1
	chmod 755 "$MAIL_BASE"
}

mail_base_rm() {
	case ${MAIL_BASE:-} in
	/var/lib/dkimrot-tests/mail.*) rm -rf "$MAIL_BASE" ;;
	esac
	rmdir /var/lib/dkimrot-tests 2>/dev/null
	return 0
}

_mail_port() {
	echo $((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
}

# mail_free_port: a port nothing listens on now, on 127.0.0.1
mail_free_port() {
	while :; do
		_mp=$(_mail_port)
		"$PY3" -c 'import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)' "$_mp" && break
	done
	echo "$_mp"
}

# _mail_wait_file FILE: until FILE is not empty (a daemon's pid file; 5 s)
_mail_wait_file() {
	_mw_try=0
	while [ ! -s "$1" ]; do
		_mw_try=$((_mw_try + 1))
		[ "$_mw_try" -lt 100 ] || return 1
		sleep 0.05
	done
}

# _mail_wait_port PORT: until something accepts on 127.0.0.1:PORT (5 s)
_mail_wait_port() {
	"$PY3" -c 'import socket, sys, time
for i in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)' "$1"
}

sink_start() {
	mkdir -p "$1" && rm -f "$1/port" "$1/pid"
	"$PY3" "$DKIMROT_SRC/tests/lib/smtpsink.py" "$1" </dev/null \
	    >"$1/sink.log" 2>&1 &
	_ms_try=0
	while [ ! -f "$1/port" ]; do
		_ms_try=$((_ms_try + 1))
		[ "$_ms_try" -lt 100 ] || { cat "$1/sink.log" >&2; return 1; }
		sleep 0.05
	done
	SINK_PORT=$(cat "$1/port")
	MAIL_PIDS="$MAIL_PIDS $(cat "$1/pid")"
}

opendkim_start() {
	_od_pid=$MAIL_BASE/$1.pid
	rm -f "$_od_pid"
	opendkim -x "$2" -p "inet:$3@127.0.0.1" -P "$_od_pid" \
	    </dev/null >"$MAIL_BASE/$1.log" 2>&1 || {
		cat "$MAIL_BASE/$1.log" >&2
		return 1
	}
	_mail_wait_file "$_od_pid" || return 1
	MAIL_PIDS="$MAIL_PIDS $(cat "$_od_pid")"
	_mail_wait_port "$3"
}

# opendkim_reload NAME: SIGUSR1, as the unit's ExecReload; OpenDKIM
# rereads its configuration and tables.
opendkim_reload() {
	kill -USR1 "$(cat "$MAIL_BASE/$1.pid")"
}

opendkim_stop() {
	_od_p=$(cat "$MAIL_BASE/$1.pid" 2>/dev/null) || return 0
	kill -TERM "$_od_p" 2>/dev/null
	_od_try=0
	while t_alive "$_od_p"; do
		_od_try=$((_od_try + 1))
		[ "$_od_try" -lt 100 ] || { kill -KILL "$_od_p"; break; }
		sleep 0.05
	done
	rm -f "$MAIL_BASE/$1.pid"
}

postfix_start() {
	_pf=$1
	mkdir -p "$_pf/etc" "$_pf/queue" "$_pf/data" || return 1
	chown postfix "$_pf/data"
	PF_PORT=$(mail_free_port)
	cat >"$_pf/etc/main.cf" <<PFEOF
compatibility_level = 3.6
queue_directory = $_pf/queue
data_directory = $_pf/data
maillog_file = $_pf/maillog
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.dkimrot.test
mydomain = dkimrot.test
myorigin = dkimrot.test
mydestination =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$2
smtp_dns_support_level = disabled
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = no
smtpd_milters = $3
non_smtpd_milters = \$smtpd_milters
milter_default_action = tempfail
PFEOF
	cat >"$_pf/etc/master.cf" <<PFEOF
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
PFEOF
	postfix -c "$_pf/etc" check >"$_pf/start.log" 2>&1 &&
	    postfix -c "$_pf/etc" start >>"$_pf/start.log" 2>&1 || {
		cat "$_pf/start.log" >&2
		return 1
	}
	_mail_wait_file "$_pf/queue/pid/master.pid" || return 1
	MAIL_PIDS="$MAIL_PIDS $(tr -d ' ' <"$_pf/queue/pid/master.pid")"
	_mail_wait_port "$PF_PORT"
}

smtp_send() {
	"$PY3" -c 'import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.sendmail(sys.argv[2], ["rcpt@example.net"], open(sys.argv[3], "rb").read())
s.quit()' "$1" "$2" "$3"
}

sink_wait() {
	_sw=$(printf '%s/%03d.eml' "$1" "$2")
	_sw_try=0
	while [ ! -f "$_sw" ]; do
		_sw_try=$((_sw_try + 1))
		[ "$_sw_try" -lt 200 ] || return 1
		sleep 0.05
	done
}

mail_stop() {
	for _m_p in $MAIL_PIDS; do
		kill -TERM "$_m_p" 2>/dev/null
	done
	for _m_p in $MAIL_PIDS; do
		_m_try=0
		while t_alive "$_m_p"; do
			_m_try=$((_m_try + 1))
			if [ "$_m_try" -ge 100 ]; then
				kill -KILL "$_m_p" 2>/dev/null
				break
			fi
			sleep 0.05
		done
	done
	MAIL_PIDS=""
}
