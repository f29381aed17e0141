# opendkim-testkey against a test's own name server (tests/lib/nsd.sh).
# opendkim-testkey resolves with libunbound and cannot take a port on its
# command line, but its ResolverConfiguration names an unbound.conf whose
# stub-zones send the test's domains to 127.0.0.1@PORT.  Unbound refuses
# to query loopback and answers NXDOMAIN for the RFC 6761 "test." TLD
# unless told otherwise, hence do-not-query-localhost and local-zone.  So
# no port 53 is needed.  Source it from a POSIX sh test:
#
#   . "$DKIMROT_SRC/tests/lib/testkey.sh"
#   testkey_setup "$tmp" "$NSD_PORT" example.com example.org
#   out=$(testkey example.com SEL keys/SEL.private)
#   [ $? = 0 ] && [ "$out" = "opendkim-testkey: key OK" ]
#
# testkey_setup DIR PORT DOMAIN...
#     Writes DIR/unbound.conf (a stub-zone per DOMAIN) and DIR/testkey.conf
#     (opendkim's configuration naming it).  DIR must be absolute.
# testkey DOMAIN SEL KEYFILE
#     opendkim-testkey -vvv: its verdict on stdout and its exit status;
#     the rest of what it says in DIR/testkey.err.

testkey_setup() {
	if [ $# -lt 3 ]; then
		echo "usage: testkey_setup DIR PORT DOMAIN..." >&2
		return 2
	fi
	TESTKEY_DIR=$1
	_tk_port=$2
	shift 2
	{
		printf 'server:\n\tdo-not-query-localhost: no\n'
		printf '\tlocal-zone: "test." nodefault\n'
		for _tk_d in "$@"; do
			printf 'stub-zone:\n\tname: "%s"\n' "$_tk_d"
			printf '\tstub-addr: 127.0.0.1@%s\n' "$_tk_port"
		done
	} >"$TESTKEY_DIR/unbound.conf" || return 1
	printf 'ResolverConfiguration %s/unbound.conf\n' "$TESTKEY_DIR" \
	    >"$TESTKEY_DIR/testkey.conf"
}

testkey() {
	opendkim-testkey -x "$TESTKEY_DIR/testkey.conf" -d "$1" -s "$2" \
	    -k "$3" -vvv 2>"$TESTKEY_DIR/testkey.err"
}
