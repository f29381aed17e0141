# Real name servers for tests: BIND (named), NSD or Knot on 127.0.0.1 at
# a port of their own (BIND binds only addresses an interface has, so
# never another 127.0.0.x), everything (configuration, pid, log, state,
# control socket or key) in a directory the test owns.  Source it from a
# POSIX sh test:
#
#   . "$DKIMROT_SRC/tests/lib/dnsserv.sh"
#   echo "example.test $tmp/example.test.zone" >"$tmp/ns/zones"
#   ds_start bind "$tmp/ns" || bail "named did not start"
#   dig -p "$(cat "$tmp/ns/port")" @127.0.0.1 example.test SOA
#   ds_stop "$tmp/ns"
#
# ds_start TYPE DIR
#     TYPE is bind, nsd, knot or pdns (PowerDNS with its SQLite
#     backend: the zones are made empty by pdnsutil, their files unread,
#     and take updates signed with DIR/update's key).  DIR/zones lists the zones to serve as
#     primary, one "ZONE ABSOLUTE-FILE" a line.  Writes the server's
#     configuration, starts it (it forks; pdns runs as a background job
#     of the caller's), retries on another port when the one drawn is
#     taken, and returns once every zone answers its SOA over UDP and
#     over TCP.  The server's log is DIR/log (an earlier try's, with the
#     port in use, in DIR/log.tries).  Optional: DIR/include names a
#     file of the server's own syntax the configuration includes (a zone
#     list of dkim-keys-public);
#     DIR/secondary lists zones to serve as a secondary, one
#     "ZONE PRIMARY-PORT" a line (primary 127.0.0.1, NOTIFY accepted from
#     it), which must answer too; DIR/port.want fixes the port (no
#     retry); DIR/update holds "NAME ALGORITHM SECRET", a TSIG key
#     allowed to update every zone of DIR/zones (RFC 2136).  DIR/port holds the port, DIR/pid the pid.  DIR/bin holds the
#     server's control tools (rndc; nsd-control and nsd-checkconf; knotc)
#     as wrappers that talk to this instance: a scriptlet run with DIR/bin
#     first in PATH reloads this server with the command as shipped,
#     although the tools' built-in paths (/etc/nsd/nsd.conf, named's
#     rndc.key, knot's socket) belong to the system's server.
# ds_stop DIR
#     SIGTERM, then waits (at most 10 s) until the process is gone.  A
#     test calls it from its exit trap, before removing DIR.
# ds_records W PORT [DIG-OPTION...], ds_expected W
#     The DKIM records a server serves for the key repository W/repo,
#     and those its commit holds, as sorted "DOMAIN SELECTOR RECORD".
#
# Needs named, rndc, rndc-confgen (bind9, bind9-utils), nsd, nsd-control,
# nsd-checkconf (nsd), knotd, knotc (knot), dig, od, ps.

. "${DKIMROT_SRC:-.}/tests/lib/proc.sh"

# ds_port: a port to try, and the next one (BIND's control port), both
# below the kernel's ephemeral range (ip_local_port_range, 32768 on by
# default).  A port of that range may be the local port of a client's
# connection, open or in TIME_WAIT for a minute after it closed (dig's
# and dkimrot's to the servers before), and none of the four servers
# binds its TCP socket to such a port.  Where the range starts below
# 22001: 20000 to 59999.
ds_port() {
	_ds_lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ "${_ds_lo:-0}" -gt 22000 ] 2>/dev/null || _ds_lo=60001
	echo $((20000 + $(od -An -N2 -tu2 /dev/urandom) % (_ds_lo - 20001)))
}

_ds_conf_bind() {
	# _ds_conf_bind DIR PORT CONTROL-PORT
	cat <<EOF
include "$1/rndc.key";
controls {
	inet 127.0.0.1 port $3 allow { 127.0.0.1; } keys { "rndc-key"; };
};
options {
	directory "$1";
	pid-file "$1/pid";
	session-keyfile "$1/session.key";
	listen-on port $2 { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
};
logging {
	channel f { file "$1/log"; severity info; print-time yes; };
	category default { f; };
};
EOF
	_ds_upd=
	if [ -f "$1/update" ]; then
		read -r _ds_kn _ds_ka _ds_ks <"$1/update"
		printf 'key "%s" { algorithm %s; secret "%s"; };\n' \
		    "$_ds_kn" "$_ds_ka" "$_ds_ks"
		_ds_upd="allow-update { key \"$_ds_kn\"; };"
	fi
	while read -r _ds_z _ds_f; do
		printf 'zone "%s" { type primary; file "%s"; %s };\n' \
		    "$_ds_z" "$_ds_f" "$_ds_upd"
	done <"$1/zones"
	[ -f "$1/include" ] && printf 'include "%s";\n' "$(cat "$1/include")"
	[ -f "$1/secondary" ] && while read -r _ds_z _ds_pp; do
		printf 'zone "%s" { type secondary; primaries { 127.0.0.1 port %s; }; file "%s/%s.sec"; };\n' \
		    "$_ds_z" "$_ds_pp" "$1" "$_ds_z"
	done <"$1/secondary"
	return 0
}

_ds_conf_nsd() {
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
	pidfile: "$1/pid"
	database: ""
	zonelistfile: "$1/zone.list"
	xfrdfile: "$1/xfrd.state"
	xfrdir: "$1"
	logfile: "$1/log"
	verbosity: 1
remote-control:
	control-enable: yes
	control-interface: "$1/control.sock"
EOF
	while read -r _ds_z _ds_f; do
		printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' \
		    "$_ds_z" "$_ds_f"
	done <"$1/zones"
	[ -f "$1/include" ] && printf 'include: "%s"\n' "$(cat "$1/include")"
	[ -f "$1/secondary" ] && while read -r _ds_z _ds_pp; do
		printf 'zone:\n\tname: "%s"\n\tzonefile: "%s/%s.sec"\n\tallow-notify: 127.0.0.1 NOKEY\n\trequest-xfr: 127.0.0.1@%s NOKEY\n' \
		    "$_ds_z" "$1" "$_ds_z" "$_ds_pp"
	done <"$1/secondary"
	return 0
}

_ds_conf_knot() {
	cat <<EOF
server:
    rundir: "$1"
    listen: 127.0.0.1@$2
    pidfile: "$1/pid"
control:
    listen: "$1/control.sock"
database:
    storage: "$1/db"
log:
  - target: "$1/log"
    any: info
EOF
	_ds_acl=
	if [ -f "$1/update" ]; then
		read -r _ds_kn _ds_ka _ds_ks <"$1/update"
		printf 'key:\n  - id: %s\n    algorithm: %s\n    secret: %s\n' \
		    "$_ds_kn" "$_ds_ka" "$_ds_ks"
		printf 'acl:\n  - id: update\n    key: %s\n    action: update\n' \
		    "$_ds_kn"
		_ds_acl="    acl: update"
	fi
	if [ -f "$1/secondary" ]; then
		_ds_pp=$(awk '{ print $2; exit }' "$1/secondary")
		printf 'remote:\n  - id: primary\n    address: 127.0.0.1@%s\n' \
		    "$_ds_pp"
		printf 'acl:\n  - id: notify\n    address: 127.0.0.1\n    action: notify\n'
	fi
	echo "zone:"
	while read -r _ds_z _ds_f; do
		printf '  - domain: "%s"\n    file: "%s"\n' "$_ds_z" "$_ds_f"
		[ -n "$_ds_acl" ] && echo "$_ds_acl"
	done <"$1/zones"
	[ -f "$1/secondary" ] && while read -r _ds_z _ds_pp; do
		printf '  - domain: "%s"\n    file: "%s/%s.sec"\n    master: primary\n    acl: notify\n' \
		    "$_ds_z" "$1" "$_ds_z"
	done <"$1/secondary"
	[ -f "$1/include" ] && printf 'include: "%s"\n' "$(cat "$1/include")"
	return 0
}

_ds_pdns() {
	# _ds_pdns DIR PORT: the database once, then the server.  It runs in
	# the foreground (daemon=no) of a job of ours, its log in DIR/log:
	# a daemon's log goes to syslog, which a test machine may not have.
	# No security poll: a test's server asks nothing of the outside.
	if [ ! -f "$1/pdns.db" ]; then
		sqlite3 "$1/pdns.db" \
		    </usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql ||
		    return 1
	fi
	cat >"$1/pdns.conf" <<EOF
launch=gsqlite3
gsqlite3-database=$1/pdns.db
local-address=127.0.0.1
local-port=$2
socket-dir=$1
dnsupdate=yes
allow-dnsupdate-from=127.0.0.0/8
daemon=no
guardian=no
setuid=
setgid=
disable-syslog=yes
log-timestamp=yes
loglevel=6
log-dns-details=yes
security-poll-suffix=
EOF
	_ds_u="pdnsutil --config-dir=$1"
	while read -r _ds_z _ds_f; do
		$_ds_u list-all-zones 2>/dev/null | grep -qx "$_ds_z" && continue
		$_ds_u create-zone "$_ds_z" "ns.$_ds_z" >/dev/null 2>&1 ||
		    return 1
		if [ -f "$1/update" ]; then
			read -r _ds_kn _ds_ka _ds_ks <"$1/update"
			$_ds_u import-tsig-key "$_ds_kn" "$_ds_ka" "$_ds_ks" \
			    >/dev/null 2>&1 &&
			$_ds_u set-meta "$_ds_z" TSIG-ALLOW-DNSUPDATE "$_ds_kn" \
			    >/dev/null 2>&1 || return 1
		fi
	done <"$1/zones"
	pdns_server --config-dir="$1" </dev/null >>"$1/log" 2>&1 &
	echo $! >"$1/pid"
}

_ds_wrappers() {
	# The control tools of DIR's server, for DIR/bin.
	mkdir -p "$2/bin" || return 1
	case $1 in
	bind)
		printf '#!/bin/sh\nexec /usr/sbin/rndc -s 127.0.0.1 -p %s -k %s "$@"\n' \
		    "$(cat "$2/control.port")" "$2/rndc.key" >"$2/bin/rndc" ;;
	nsd)
		printf '#!/bin/sh\nexec /usr/sbin/nsd-control -c %s "$@"\n' \
		    "$2/nsd.conf" >"$2/bin/nsd-control"
		# nsd-checkconf takes the file as an argument: the system's
		# path stands for this one.
		cat >"$2/bin/nsd-checkconf" <<EOF
#!/bin/sh
for a; do
	shift
	[ "\$a" = /etc/nsd/nsd.conf ] && a=$2/nsd.conf
	set -- "\$@" "\$a"
done
exec /usr/sbin/nsd-checkconf "\$@"
EOF
		;;
	knot)
		printf '#!/bin/sh\nexec /usr/sbin/knotc -c %s "$@"\n' \
		    "$2/knot.conf" >"$2/bin/knotc" ;;
	esac
	for _ds_w in "$2/bin/"*; do
		[ -f "$_ds_w" ] && chmod 755 "$_ds_w"
	done
	return 0
}

_ds_serving() {
	# Every zone of DIR answers its SOA at PORT, over UDP and over TCP.
	# Only the SOA record counts: dig prints its own failures
	# (";; communications error ...: connection refused") on stdout.
	cat "$1/zones" "$1/secondary" 2>/dev/null |
	    while read -r _ds_z _ds_f; do
		for _ds_v in +notcp +tcp; do
			dig +noall +answer +time=1 +tries=1 "$_ds_v" -p "$2" \
			    @127.0.0.1 "$_ds_z" SOA </dev/null 2>/dev/null |
			    awk -v z="$_ds_z." 'tolower($1) == tolower(z) &&
			    $3 == "IN" && $4 == "SOA" { f = 1 }
			    END { exit !f }' || return 1
		done
	done
}

_ds_inuse() {
	grep -qiE 'address (already )?in use' "$1/log" "$1/err" 2>/dev/null
}

ds_start() {
	_ds_t=$1
	_ds_d=$(cd "$2" && pwd) || return 1
	rm -f "$_ds_d/pid" "$_ds_d/log" "$_ds_d/log.tries"
	_ds_try=0
	while :; do
		_ds_try=$((_ds_try + 1))
		# Each try a log of its own, the earlier ones in DIR/log.tries.
		if [ -f "$_ds_d/log" ]; then
			cat "$_ds_d/log" >>"$_ds_d/log.tries"
			rm -f "$_ds_d/log"
		fi
		if [ -f "$_ds_d/port.want" ]; then
			_ds_p=$(cat "$_ds_d/port.want")
		else
			_ds_p=$(ds_port)
		fi
		echo "$_ds_p" >"$_ds_d/port"
		case $_ds_t in
		bind)
			echo $((_ds_p + 1)) >"$_ds_d/control.port"
			[ -f "$_ds_d/rndc.key" ] || rndc-confgen -a -k rndc-key \
			    -c "$_ds_d/rndc.key" >/dev/null 2>&1 || return 1
			_ds_conf_bind "$_ds_d" "$_ds_p" $((_ds_p + 1)) \
			    >"$_ds_d/named.conf"
			named-checkconf "$_ds_d/named.conf" >&2 || return 1
			# -L: what named says before it reads its logging
			# statement (a port in use) goes to the log too
			named -c "$_ds_d/named.conf" -L "$_ds_d/log" \
			    </dev/null >"$_ds_d/err" 2>&1
			;;
		nsd)
			_ds_conf_nsd "$_ds_d" "$_ds_p" >"$_ds_d/nsd.conf"
			nsd-checkconf "$_ds_d/nsd.conf" >&2 || return 1
			nsd -c "$_ds_d/nsd.conf" </dev/null >"$_ds_d/err" 2>&1
			;;
		knot)
			mkdir -p "$_ds_d/db"
			_ds_conf_knot "$_ds_d" "$_ds_p" >"$_ds_d/knot.conf"
			knotc -c "$_ds_d/knot.conf" conf-check >/dev/null || return 1
			knotd -d -c "$_ds_d/knot.conf" </dev/null \
			    >"$_ds_d/err" 2>&1
			;;
		pdns)
			_ds_pdns "$_ds_d" "$_ds_p" || return 1
			;;
		*)
			echo "ds_start: unknown server type '$_ds_t'" >&2
			return 2
			;;
		esac
		_ds_wrappers "$_ds_t" "$_ds_d" || return 1
		# At most 10 s, less when the server is gone.  A port is taken
		# by a socket bound to it or by a connection from it that is
		# still in TIME_WAIT (dig's and dkimrot's own, to the servers
		# before): NSD, Knot and PowerDNS exit, saying "Address already
		# in use", BIND serves UDP only and says "address in use".
		_ds_end=$(($(date +%s) + 10))
		while [ "$(date +%s)" -lt "$_ds_end" ]; do
			_ds_serving "$_ds_d" "$_ds_p" && return 0
			_ds_inuse "$_ds_d" && break
			[ -s "$_ds_d/pid" ] && ! t_alive "$(cat "$_ds_d/pid")" &&
			    break
			sleep 0.1
		done
		ds_stop "$_ds_d"
		if [ $_ds_try -ge 10 ] || [ -f "$_ds_d/port.want" ] ||
		    ! _ds_inuse "$_ds_d"; then
			echo "ds_start: $_ds_t does not serve on port $_ds_p:" >&2
			cat "$_ds_d/err" "$_ds_d/log" >&2 2>/dev/null
			return 1
		fi
	done
}

ds_stop() {
	[ -n "$1" ] && [ -s "$1/pid" ] || return 0
	_ds_pid=$(cat "$1/pid")
	[ -n "$_ds_pid" ] || return 0
	kill -TERM "$_ds_pid" 2>/dev/null
	_ds_i=0
	while t_alive "$_ds_pid"; do
		_ds_i=$((_ds_i + 1))
		if [ $_ds_i -ge 100 ]; then
			echo "ds_stop: $_ds_pid ignored SIGTERM" >&2
			kill -KILL "$_ds_pid" 2>/dev/null
			return 1
		fi
		sleep 0.1
	done
	rm -f "$1/pid"
	return 0
}

# ds_records W PORT [DIG-OPTION...]: "DOMAIN SELECTOR RECORD" of every
# selector of W/repo's keys.yaml files that 127.0.0.1 PORT answers,
# sorted.
ds_records() {
	_ds_w=$1 _ds_p=$2
	shift 2
	for _ds_y in "$_ds_w/repo/keys/"*/keys.yaml; do
		_ds_d=${_ds_y%/keys.yaml}
		_ds_d=${_ds_d##*/}
		sed -n 's/^  - selector: "\(.*\)"$/\1/p' "$_ds_y" |
		    while read -r _ds_s; do
			# dig's own failures (";; ...") are no record
			_ds_r=$(dig +short "$@" -p "$_ds_p" @127.0.0.1 \
			    "$_ds_s._domainkey.$_ds_d" TXT | grep -v '^;' |
			    sed -e 's/" "//g' -e 's/^"//' -e 's/"$//')
			[ -n "$_ds_r" ] &&
			    printf '%s %s %s\n' "$_ds_d" "$_ds_s" "$_ds_r"
		done
	done | sort
}

# ds_expected W: the same from the SEL.txt files of W/repo's commit.
ds_expected() {
	for _ds_f in "$1/repo/keys/"*/*.txt; do
		[ -f "$_ds_f" ] || continue
		_ds_d=${_ds_f%/*}
		_ds_d=${_ds_d##*/}
		_ds_s=${_ds_f##*/}
		printf '%s %s %s\n' "$_ds_d" "${_ds_s%.txt}" \
		    "$(grep -o '"[^"]*"' "$_ds_f" | tr -d '"\n')"
	done | sort
}
