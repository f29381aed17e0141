#!/bin/sh
# make demo: what dkimrot does, on real keys, in a temporary directory.
# Env DKIMROT: the binary (make demo sets it).  Nothing outside the
# temporary directory is touched, and the private key is never shown.
set -eu

: "${DKIMROT:?set DKIMROT to the dkimrot binary (make demo does)}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/dkimrot-demo.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

echo "== dkimrot keygen -d example.com -D $dir"
sel=$("$DKIMROT" keygen -d example.com -D "$dir")
echo "selector: $sel"
echo
echo "== $dir:"
(cd "$dir" && ls -l)
echo
echo "== the DNS record to publish ($sel.txt, opendkim-genkey's form):"
cat "$dir/$sel.txt"
