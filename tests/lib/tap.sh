# TAP helpers for the shell tests: source it after setting DKIMROT.
# Every test works in its own temporary directory $tmp, removed at exit.
: "${DKIMROT:?}" "${DKIMROT_SRC:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
# bail WHY...: TAP's "Bail out!", for a test that cannot go on
bail() { echo "Bail out! $*"; exit 1; }
diag() { sed 's/^/# /' "$@"; }
# check DESC CMD...: ok when CMD succeeds
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else nok "$desc"; fi
}
# not CMD...: succeeds when CMD fails (for check)
not() { ! "$@"; }
# dk ARGS...: the binary under test (under valgrind with DKIMROT_WRAP)
dk() {
	# shellcheck disable=SC2086
	${DKIMROT_WRAP:-} "$DKIMROT" "$@"
}
# same WANT-FILE GOT-FILE: diff -u, shown as TAP comments when different
same() {
	if diff -u "$1" "$2" >"$tmp/.diff"; then return 0; fi
	diag "$tmp/.diff"
	return 1
}
# expect DESC CODE WANT-STDERR ARGS...: dkimrot exits CODE and prints
# exactly WANT-STDERR (a string, newline added) on stderr.
expect() {
	desc=$1 code=$2 want=$3
	shift 3
	dk "$@" >"$tmp/.out" 2>"$tmp/.err"
	got=$?
	printf '%s\n' "$want" >"$tmp/.want"
	if [ "$got" = "$code" ] && same "$tmp/.want" "$tmp/.err"; then
		ok "$desc"
	else
		nok "$desc (exit $got, want $code)"
	fi
}
# tree DIR: a listing of names, modes and contents' digests, to show
# that a failed command changed nothing
tree() {
	(cd "$1" && find . -path ./.git -prune -o -print | LC_ALL=C sort |
	    while read -r f; do
		if [ -f "$f" ]; then
			printf '%s %s %s\n' "$f" "$(stat -c %a "$f")" \
			    "$(sha256sum <"$f" | cut -c1-16)"
		else
			printf '%s %s\n' "$f" "$(stat -c %a "$f")"
		fi
	done)
	git -C "$1" rev-parse HEAD 2>/dev/null || true
}
# gitq ARGS: git in the test repository, quiet, no user config
gitq() {
	HOME=$tmp GIT_CONFIG_NOSYSTEM=1 git -c user.name=t -c user.email=t@t \
	    "$@"
}
