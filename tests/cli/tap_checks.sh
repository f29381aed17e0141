#!/bin/sh
# The test scripts themselves: `check DESC A && B` checks A only (the
# shell runs B after check, outside it), so B could never fail a test,
# and `check DESC A | grep` or `check DESC A >FILE` hides check's own
# line; such a check must say eval '...' (tests/lib/tap.sh).
# tests/tools/tapcheck.py finds them; it is shown to find a planted one.
set -u
: "${DKIMROT_SRC:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
L=$DKIMROT_SRC/tests/tools/tapcheck.py

echo "1..2"
printf '%s\n' 'check "one" [ -f a ] &&' '    [ -f b ]' \
    "check \"two\" eval '[ -f a ] && [ -f b ]'" \
    "check \"three's\" [ \"\$(x '&&')\" = y ] || diag f" \
    'check "four" git log | grep -q x' \
    'check "five" dnf check >/dev/null 2>&1' \
    'check "six" not git cat-file -e x 2>/dev/null' >"$tmp/planted.sh"
printf '%s\n' "$tmp/planted.sh:1: check with && outside it" \
    "$tmp/planted.sh:5: check with | outside it" \
    "$tmp/planted.sh:6: check with > outside it" >"$tmp/want"
if python3 "$L" "$tmp/planted.sh" >"$tmp/got"; [ $? = 1 ] &&
    diff -u "$tmp/want" "$tmp/got" >"$tmp/diff"; then
	echo "ok 1 - the lint finds the planted checks with &&, | or > outside them, only them"
else
	sed 's/^/# /' "$tmp/diff"
	echo "not ok 1 - the lint finds the planted checks with &&, | or > outside them, only them"
fi
find "$DKIMROT_SRC/tests" -name '*.sh' | sort >"$tmp/files"
# shellcheck disable=SC2046
if python3 "$L" $(cat "$tmp/files") >"$tmp/out" 2>&1 &&
    [ -s "$tmp/files" ]; then
	echo "ok 2 - no test script has a check with &&, | or > outside it"
else
	sed 's/^/# /' "$tmp/out"
	echo "not ok 2 - no test script has a check with &&, | or > outside it"
fi
