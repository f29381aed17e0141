# A real git server for tests: git daemon with receive-pack enabled, on
# 127.0.0.1 at a free high port, serving the bare repositories of one
# directory the test owns.  Source it from a POSIX sh test:
#
#   . "$DKIMROT_SRC/tests/lib/gitd.sh"
#   gitd_start "$tmp/srv" || exit 1	# serves $tmp/srv/*.git
#   git clone "git://127.0.0.1:$GITD_PORT/keys.git"
#   gitd_stop
#
# gitd_start DIR
#     Starts git daemon in the background (--base-path DIR, every
#     repository exported, pushes allowed), retries on another port if
#     the one it drew is taken, and returns once it answers.  Sets
#     GITD_PORT and GITD_PID; its log is DIR.log.
# gitd_stop
#     SIGTERM, then waits (at most 10 s) until the process is gone.  A
#     test calls it from its exit trap.

gitd_start() {
	GITD_DIR=$(cd "$1" && pwd) || return 1
	_gitd_try=0
	while [ "$_gitd_try" -lt 20 ]; do
		_gitd_try=$((_gitd_try + 1))
		GITD_PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		git daemon --reuseaddr --export-all --enable=receive-pack \
		    --base-path="$GITD_DIR" --listen=127.0.0.1 \
		    --port="$GITD_PORT" --informative-errors --verbose \
		    "$GITD_DIR" </dev/null >/dev/null 2>"$GITD_DIR.log" &
		GITD_PID=$!
		_gitd_wait=0
		while [ "$_gitd_wait" -lt 50 ]; do
			if ! kill -0 "$GITD_PID" 2>/dev/null; then
				break
			fi
			if grep -q 'Ready to rumble' "$GITD_DIR.log" \
			    2>/dev/null; then
				return 0
			fi
			_gitd_wait=$((_gitd_wait + 1))
			sleep 0.1
		done
		kill "$GITD_PID" 2>/dev/null
		wait "$GITD_PID" 2>/dev/null
	done
	echo "gitd_start: git daemon did not start:" >&2
	cat "$GITD_DIR.log" >&2
	return 1
}

gitd_stop() {
	[ -n "${GITD_PID:-}" ] || return 0
	kill "$GITD_PID" 2>/dev/null
	_gitd_wait=0
	while kill -0 "$GITD_PID" 2>/dev/null && [ "$_gitd_wait" -lt 100 ]; do
		_gitd_wait=$((_gitd_wait + 1))
		sleep 0.1
	done
	wait "$GITD_PID" 2>/dev/null
	GITD_PID=
}
