#!/bin/sh
# The zone-file record that a fixed key must give, made without dkimrot:
# RSA keys through opendkim-genkey itself (a stand-in openssl first in
# PATH hands it the fixed key instead of a new one; every other openssl
# call goes to the real one), Ed25519 keys (which opendkim-genkey cannot
# make) from the raw public key that openssl prints, in the RFC 8463 form.
#
# usage: sh expected.sh KEY SELECTOR DOMAIN [opendkim-genkey options]
# The .txt files here were made with:
#   sh expected.sh rsa1024.private 20261122131500 example.com > rsa1024.txt
#   (likewise rsa2048, rsa4096, ed25519; rsa2048-rt.txt with -r -t)
# tests/cli/vectors.sh runs it again and compares.
set -eu

case $1 in
/*)	key=$1 ;;
*)	key=$(pwd)/$1 ;;
esac
sel=$2
dom=$3
shift 3

if openssl pkey -in "$key" -noout -text 2>/dev/null | grep -q '^ED25519'; then
	[ $# -eq 0 ] || { echo "expected.sh: no options for ed25519" >&2; exit 2; }
	p=$(openssl pkey -in "$key" -pubout -outform DER | tail -c 32 |
	    base64 -w0)
	printf '%s._domainkey\tIN\tTXT\t( "v=DKIM1; k=ed25519; "\n\t  "p=%s" )  ; ----- DKIM key %s for %s\n' \
	    "$sel" "$p" "$sel" "$dom"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
real=$(command -v openssl)
mkdir "$tmp/bin" "$tmp/out"
cat > "$tmp/bin/openssl" <<SHIM
#!/bin/sh
# opendkim-genkey runs: openssl genrsa -out SEL.private BITS
if [ "\$1" = genrsa ] && [ "\$2" = -out ]; then
	exec cp "$key" "\$3"
fi
exec "$real" "\$@"
SHIM
chmod 755 "$tmp/bin/openssl"
PATH="$tmp/bin:$PATH" opendkim-genkey -D "$tmp/out" -d "$dom" -s "$sel" "$@"
cat "$tmp/out/$sel.txt"
