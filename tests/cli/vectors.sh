#!/bin/sh
# The expected records in tests/vectors/ are what opendkim-genkey itself
# writes for those keys (Ed25519: the RFC 8463 form from openssl's raw
# public key).  t_key checks that dkimrot writes exactly these files; this
# checks that they are still what the reference tool writes.
set -u

: "${DKIMROT_SRC:?}"
V="$DKIMROT_SRC/tests/vectors"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0

vector() {	# vector TXT KEY [opendkim-genkey options]
	txt=$1 key=$2
	shift 2
	n=$((n + 1))
	if sh "$V/expected.sh" "$V/$key" 20261122131500 example.com "$@" \
	    >"$tmp/got" 2>"$tmp/err" && diff -u "$V/$txt" "$tmp/got" \
	    >"$tmp/diff"; then
		echo "ok $n - $txt is the reference form of $key${*:+ $*}"
	else
		sed 's/^/# /' "$tmp/err" "$tmp/diff"
		echo "not ok $n - $txt is the reference form of $key${*:+ $*}"
	fi
}

vector rsa1024.txt rsa1024.private
vector rsa2048.txt rsa2048.private
vector rsa4096.txt rsa4096.private
vector rsa2048-rt.txt rsa2048.private -r -t
vector ed25519.txt ed25519.private
# The RSA files are laid out as opendkim-genkey splits them: the tags,
# then "p=" and 250 characters, then 250 per string.
n=$((n + 1))
if awk -F'"' 'NR == 2 { if (length($2) != 252) bad = 1 }
    NR == 3 && !/\)/ { if (length($2) != 250) bad = 1 }
    END { exit bad }' "$V/rsa4096.txt"; then
	echo "ok $n - rsa4096.txt strings of 252 and 250 characters"
else
	echo "not ok $n - rsa4096.txt strings of 252 and 250 characters"
fi
echo "1..$n"
