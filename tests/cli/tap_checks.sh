#!/bin/sh
# The test scripts themselves: `check DESC A && B` checks A only (the
# shell runs B after check, outside it), so B could never fail a test;
# such a check must say eval '...' (tests/lib/tap.sh).
# tests/tools/tapcheck.py finds them; it is shown to find a planted one.
set -u
: "${DKIMROT_SRC:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
L=$DKIMROT_SRC/tests/tools/tapcheck.py

echo "1..2"
printf '%s\n' 'check "one" [ -f a ] &&' '    [ -f b ]' \
    "check \"two\" eval '[ -f a ] && [ -f b ]'" \
    "check \"three's\" [ \"\$(x '&&')\" = y ] || diag f" >"$tmp/planted.sh"
if [ "$(python3 "$L" "$tmp/planted.sh")" = \
    "$tmp/planted.sh:1: check with && outside it" ]; then
	echo "ok 1 - the lint finds a planted check with && outside it, only it"
else
	echo "not ok 1 - the lint finds a planted check with && outside it, only it"
fi
find "$DKIMROT_SRC/tests" -name '*.sh' | sort >"$tmp/files"
# shellcheck disable=SC2046
if python3 "$L" $(cat "$tmp/files") >"$tmp/out" 2>&1 &&
    [ -s "$tmp/files" ]; then
	echo "ok 2 - no test script has a check with && outside it"
else
	sed 's/^/# /' "$tmp/out"
	echo "not ok 2 - no test script has a check with && outside it"
fi
