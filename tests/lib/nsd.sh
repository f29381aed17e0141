# A real name server for tests: NSD on 127.0.0.1 at a free high port,
# everything (config, pid, log, state) in a directory the test owns.
# Source it from a POSIX sh test:
#
#   . "$DKIMROT_SRC/tests/lib/nsd.sh"
#   nsd_start "$tmp/ns" example.com example.com.zone || exit 1
#   dig -p "$NSD_PORT" @127.0.0.1 sel._domainkey.example.com TXT
#   ... edit the zone file, bump its SOA serial ...
#   nsd_reload
#   nsd_stop
#
# nsd_start DIR ZONE ZONEFILE [ZONE ZONEFILE]...
#     DIR must exist; ZONEFILE is relative to DIR or absolute.  Writes
#     DIR/nsd.conf, checks it with nsd-checkconf, starts nsd (it forks
#     into the background), retries on another port if the one it drew is
#     taken, and returns once every zone answers its SOA.  Sets NSD_PORT,
#     NSD_DIR and NSD_PID; DIR/nsd.port holds the port for other
#     processes.  Diagnostics on stderr, nothing on stdout.
# nsd_reload [DIR]
#     SIGHUP: NSD rereads the zone files whose modification time changed.
#     Returns once a zone's SOA serial as served has changed, so bump the
#     serial of the zone you edited (as in production); fails after 5 s.
# nsd_stop [DIR]
#     SIGTERM, then waits (at most 10 s) until the process is gone.  A
#     test calls it from its exit trap before removing DIR.
#
# Needs nsd, nsd-checkconf, dig (bind9-dnsutils), od, ps.  Fractional
# sleep is GNU/BSD sleep's, not POSIX's.

. "${DKIMROT_SRC:-.}/tests/lib/proc.sh"

_nsd_serials() {
	# The SOA serial of every zone, as served, on one line.
	while read -r _nsd_z _nsd_f; do
		dig +short +time=1 +tries=1 -p "$2" @127.0.0.1 "$_nsd_z" SOA \
		    </dev/null 2>/dev/null |
		    awk '$3 ~ /^[0-9]+$/ { printf "%s ", $3 }'
	done <"$1/nsd.zones"
}

_nsd_conf() {
	# _nsd_conf DIR PORT
	cat <<EOF
server:
	ip-address: 127.0.0.1
	port: $2
	do-ip4: yes
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "$1"
	pidfile: "$1/nsd.pid"
	database: ""
	zonelistfile: "$1/zone.list"
	xfrdfile: "$1/xfrd.state"
	xfrdir: "$1"
	logfile: "$1/nsd.log"
	verbosity: 1
remote-control:
	control-enable: no
EOF
	while read -r _nsd_z _nsd_f; do
		printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' \
		    "$_nsd_z" "$_nsd_f"
	done <"$1/nsd.zones"
}

nsd_start() {
	if [ $# -lt 3 ] || [ $(( ($# - 1) % 2 )) -ne 0 ] || [ ! -d "$1" ]; then
		echo "usage: nsd_start DIR ZONE ZONEFILE [ZONE ZONEFILE]..." >&2
		return 2
	fi
	NSD_DIR=$(cd "$1" && pwd) || return 1
	shift
	: >"$NSD_DIR/nsd.zones"
	while [ $# -gt 0 ]; do
		printf '%s %s\n' "$1" "$2" >>"$NSD_DIR/nsd.zones"
		shift 2
	done
	_nsd_try=0
	while :; do
		_nsd_try=$((_nsd_try + 1))
		NSD_PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		_nsd_conf "$NSD_DIR" "$NSD_PORT" >"$NSD_DIR/nsd.conf"
		if ! nsd-checkconf "$NSD_DIR/nsd.conf" >&2; then
			echo "nsd_start: bad $NSD_DIR/nsd.conf" >&2
			return 1
		fi
		rm -f "$NSD_DIR/nsd.log"
		# nsd forks; the parent exits 1 if it cannot bind.
		if nsd -c "$NSD_DIR/nsd.conf" </dev/null >/dev/null \
		    2>>"$NSD_DIR/nsd.err"; then
			break
		fi
		if [ "$_nsd_try" -lt 20 ] &&
		    grep -q 'Address already in use' "$NSD_DIR/nsd.log"; then
			continue
		fi
		echo "nsd_start: nsd did not start:" >&2
		cat "$NSD_DIR/nsd.log" "$NSD_DIR/nsd.err" >&2 2>/dev/null
		return 1
	done
	echo "$NSD_PORT" >"$NSD_DIR/nsd.port"
	# The sockets are bound when nsd returns; the zones load after.
	_nsd_want=$(($(wc -l <"$NSD_DIR/nsd.zones")))
	_nsd_try=0
	while :; do
		_nsd_n=$(($(_nsd_serials "$NSD_DIR" "$NSD_PORT" | wc -w)))
		[ "$_nsd_n" -eq "$_nsd_want" ] && break
		_nsd_try=$((_nsd_try + 1))
		if [ "$_nsd_try" -ge 50 ]; then
			echo "nsd_start: zones not served after 5 s:" >&2
			cat "$NSD_DIR/nsd.log" >&2
			nsd_stop "$NSD_DIR"
			return 1
		fi
		sleep 0.1
	done
	# shellcheck disable=SC2034 # for the caller
	NSD_PID=$(cat "$NSD_DIR/nsd.pid")
	return 0
}

nsd_reload() {
	_nsd_d=${1:-$NSD_DIR}
	_nsd_p=$(cat "$_nsd_d/nsd.port") || return 1
	_nsd_old=$(_nsd_serials "$_nsd_d" "$_nsd_p")
	kill -HUP "$(cat "$_nsd_d/nsd.pid")" || return 1
	_nsd_try=0
	while [ "$_nsd_try" -lt 50 ]; do
		[ "$(_nsd_serials "$_nsd_d" "$_nsd_p")" != "$_nsd_old" ] &&
			return 0
		_nsd_try=$((_nsd_try + 1))
		sleep 0.1
	done
	echo "nsd_reload: no SOA serial changed in 5 s (serials: $_nsd_old)" >&2
	cat "$_nsd_d/nsd.log" >&2
	return 1
}

nsd_stop() {
	_nsd_d=${1:-$NSD_DIR}
	[ -n "$_nsd_d" ] && [ -f "$_nsd_d/nsd.pid" ] || return 0
	_nsd_pid=$(cat "$_nsd_d/nsd.pid")
	[ -n "$_nsd_pid" ] || return 0
	kill -TERM "$_nsd_pid" 2>/dev/null
	_nsd_try=0
	while t_alive "$_nsd_pid"; do
		_nsd_try=$((_nsd_try + 1))
		if [ "$_nsd_try" -ge 100 ]; then
			echo "nsd_stop: nsd $_nsd_pid ignored SIGTERM" >&2
			kill -KILL "$_nsd_pid" 2>/dev/null
			return 1
		fi
		sleep 0.1
	done
	rm -f "$_nsd_d/nsd.pid"
	return 0
}
