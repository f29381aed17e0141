# Process helpers for the shell libraries of tests/lib/.  Sourced by
# them, from DKIMROT_SRC or, as the unit tests that start NSD assume
# without it, the current directory; a test needs not source it itself.

# t_alive PID: PID runs.  Orphans whose reaper does not reap (some
# container inits) linger as zombies: those are dead too.
t_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	case $(ps -o stat= -p "$1" 2>/dev/null) in
	Z*) return 1 ;;
	esac
	return 0
}
