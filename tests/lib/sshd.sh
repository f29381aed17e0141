# A real ssh server for tests: Debian's OpenSSH sshd on 127.0.0.1 at a
# free high port, with a throwaway host key, its own configuration and
# one authorized throwaway client key, everything in a directory the test
# owns.  Source it from a POSIX sh test:
#
#   . "$DKIMROT_SRC/tests/lib/sshd.sh"
#   sshd_start "$tmp/ssh" || exit 1
#   git clone "ssh://$(id -un)@127.0.0.1:$SSHD_PORT$tmp/srv/keys.git"
#   sshd_stop
#
# sshd_start DIR
#     Makes DIR/host_ed25519 (the server's key), DIR/id_ed25519 (the
#     client's, authorized), DIR/known_hosts (the server's key as
#     ssh-keyscan sees it), DIR/sshd_config; starts sshd in the
#     foreground of a background job, retries on another port if the
#     one it drew is taken, and returns once it answers.  Sets SSHD_PORT
#     and SSHD_PID; its log is DIR/sshd.log.  Only public-key logins.
# sshd_stop
#     SIGTERM, then waits (at most 10 s) until the process is gone.
#
# Needs sshd (openssh-server), ssh-keygen, ssh-keyscan (openssh-client).
# sshd wants its privilege separation directory, /run/sshd: made (0755)
# if missing.

_sshd_conf() {
	cat <<EOF
ListenAddress 127.0.0.1:$2
HostKey $1/host_ed25519
PidFile $1/sshd.pid
AuthorizedKeysFile $1/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PrintMotd no
LogLevel VERBOSE
EOF
}

sshd_start() {
	SSHD_DIR=$(cd "$1" && pwd) || return 1
	ssh-keygen -q -t ed25519 -N '' -C test-host \
	    -f "$SSHD_DIR/host_ed25519" </dev/null || return 1
	ssh-keygen -q -t ed25519 -N '' -C test-client \
	    -f "$SSHD_DIR/id_ed25519" </dev/null || return 1
	cp "$SSHD_DIR/id_ed25519.pub" "$SSHD_DIR/authorized_keys"
	chmod 600 "$SSHD_DIR/authorized_keys"
	[ -d /run/sshd ] || install -d -m 0755 /run/sshd || return 1
	_sshd_try=0
	while [ "$_sshd_try" -lt 20 ]; do
		_sshd_try=$((_sshd_try + 1))
		SSHD_PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		_sshd_conf "$SSHD_DIR" "$SSHD_PORT" >"$SSHD_DIR/sshd_config"
		/usr/sbin/sshd -D -e -f "$SSHD_DIR/sshd_config" \
		    </dev/null >/dev/null 2>"$SSHD_DIR/sshd.log" &
		SSHD_PID=$!
		_sshd_wait=0
		while [ "$_sshd_wait" -lt 50 ]; do
			kill -0 "$SSHD_PID" 2>/dev/null || break
			if ssh-keyscan -t ed25519 -p "$SSHD_PORT" 127.0.0.1 \
			    >"$SSHD_DIR/known_hosts" 2>/dev/null &&
			    [ -s "$SSHD_DIR/known_hosts" ]; then
				return 0
			fi
			_sshd_wait=$((_sshd_wait + 1))
			sleep 0.1
		done
		kill "$SSHD_PID" 2>/dev/null
		wait "$SSHD_PID" 2>/dev/null
	done
	echo "sshd_start: sshd did not start:" >&2
	cat "$SSHD_DIR/sshd.log" >&2
	return 1
}

sshd_stop() {
	[ -n "${SSHD_PID:-}" ] || return 0
	kill "$SSHD_PID" 2>/dev/null
	_sshd_wait=0
	while kill -0 "$SSHD_PID" 2>/dev/null && [ "$_sshd_wait" -lt 100 ]; do
		_sshd_wait=$((_sshd_wait + 1))
		sleep 0.1
	done
	wait "$SSHD_PID" 2>/dev/null
	SSHD_PID=
}
