#!/bin/sh
# dkimrot keygen: the files it writes (checked against opendkim-genkey
# run on the same key, against openssl's view of the key, and through a
# DNS zone parser), and every way it refuses to run, with the exact
# message, exit code, and an untouched directory.  Private keys are only
# ever read by openssl to print their public half.
set -u

. "$DKIMROT_SRC/tests/lib/tap.sh"
PY=/usr/bin/python3
EXPECTED="$DKIMROT_SRC/tests/vectors/expected.sh"
run() { dk "$@"; }

# The public half of a private key as DKIM's p= carries it.
pubkey() {
	case $2 in
	ed25519) openssl pkey -in "$1" -pubout -outform DER | tail -c 32 |
	    base64 -w0 ;;
	*) openssl pkey -in "$1" -pubout -outform DER | base64 -w0 ;;
	esac
}
pubtext() {
	openssl pkey -in "$1" -pubout | openssl pkey -pubin -noout -text |
	    head -n 1
}
# Every TXT record of a zone that $INCLUDEs FILE, read by dnspython:
# "OWNER LONGEST-STRING JOINED-VALUE".
zone_txt() {
	cat >"$tmp/zone" <<EOF
\$ORIGIN example.com.
\$TTL 3600
@	IN	SOA	ns.example.com. h.example.com. 1 3600 600 86400 300
@	IN	NS	ns.example.com.
\$INCLUDE $1
EOF
	"$PY" - "$tmp/zone" <<'EOF'
import sys
import dns.rdatatype
import dns.zone
z = dns.zone.from_file(sys.argv[1], origin="example.com.", relativize=False,
                       allow_include=True)
for name, node in z.nodes.items():
    for rds in node.rdatasets:
        if rds.rdtype == dns.rdatatype.TXT:
            for rd in rds:
                print(name.to_text(), max(len(s) for s in rd.strings),
                      b"".join(rd.strings).decode())
EOF
}

# good DESC DIR SEL ALG BITS-WANT HEAD-WANT GENKEY-OPTS -- KEYGEN-ARGS...
good() {
	desc=$1 dir=$2 sel=$3 alg=$4 bits=$5 head=$6 gk=$7
	shift 8
	mkdir -p "$dir"
	if ! run "$@" >"$tmp/out" 2>"$tmp/err"; then
		diag "$tmp/err"
		nok "$desc: exit 0"
		return
	fi
	printf '%s\n' "$sel" >"$tmp/want"
	check "$desc: prints the selector" same "$tmp/want" "$tmp/out"
	check "$desc: says nothing on stderr" test ! -s "$tmp/err"
	key="$dir/$sel.private"
	check "$desc: .private is mode 0600" \
	    test "$(stat -c %a "$key")" = 600
	check "$desc: .private is PKCS#8 PEM" \
	    test "$(head -n 1 "$key")" = "-----BEGIN PRIVATE KEY-----"
	if [ "$alg" = ed25519 ]; then want="ED25519 Public-Key:"; else
		want="Public-Key: ($bits bit)"; fi
	check "$desc: openssl reads a $alg key ($want)" \
	    test "$(pubtext "$key")" = "$want"
	# shellcheck disable=SC2086
	sh "$EXPECTED" "$key" "$sel" example.com $gk >"$tmp/want"
	what="expected.sh's (for rsa: what opendkim-genkey writes)"
	check "$desc: .txt is byte for byte $what" \
	    same "$tmp/want" "$dir/$sel.txt"
	printf '%s._domainkey.example.com. %s\n' "$sel" "$head$(pubkey \
	    "$key" "$alg")" >"$tmp/want"
	zone_txt "$dir/$sel.txt" >"$tmp/got"
	longest=$(cut -d ' ' -f 2 "$tmp/got")
	cut -d ' ' -f 1,3- "$tmp/got" >"$tmp/got2"
	check "$desc: the zone parser reads the record" \
	    same "$tmp/want" "$tmp/got2"
	check "$desc: no character-string over 255 bytes ($longest)" \
	    test "${longest:-999}" -le 255
	check "$desc: only the two files" \
	    test "$(ls -A "$dir" | wc -l)" -eq 2
}

NOW=2026-11-22T13:15:00Z
RSA="v=DKIM1; h=sha256; k=rsa; "
good "rsa default" "$tmp/g1" 20261122131500 rsa 2048 "${RSA}p=" "" -- \
    --now "$NOW" keygen -d example.com -D "$tmp/g1"
good "rsa -b 1024 -s" "$tmp/g2" s1024 rsa 1024 "${RSA}p=" "" -- \
    keygen -d example.com -b 1024 -s s1024 -D "$tmp/g2"
good "rsa --bits 4096" "$tmp/g3" s4096 rsa 4096 "${RSA}p=" "" -- \
    keygen --domain=example.com --bits 4096 --selector s4096 \
    --directory "$tmp/g3"
good "ed25519" "$tmp/g4" ed ed25519 0 "v=DKIM1; k=ed25519; p=" "" -- \
    keygen -d Example.COM -a ed25519 -s ed -D "$tmp/g4"
good "--restrict --testmode" "$tmp/g5" rt rsa 1024 \
    "${RSA}t=y; s=email; p=" "-r -t" -- \
    keygen -d example.com -b 1024 -s rt --restrict --testmode -D "$tmp/g5"
good "-r" "$tmp/g6" r rsa 1024 "${RSA}s=email; p=" "-r" -- \
    keygen -d example.com -b 1024 -s R -r -D "$tmp/g6"

# The selector is the time of --now, or of DKIMROT_NOW.
mkdir "$tmp/t1" "$tmp/t2"
out=$(run --now 2026-11-22T13:15:00Z keygen -d example.com -a ed25519 \
    -D "$tmp/t1")
check "selector from --now" test "$out" = 20261122131500
out=$(DKIMROT_NOW=@1795353301 run keygen -d example.com -a ed25519 \
    -D "$tmp/t2")
check "selector from DKIMROT_NOW" test "$out" = 20261122131501
check "files named after the selector" \
    test -f "$tmp/t2/20261122131501.private" -a \
    -f "$tmp/t2/20261122131501.txt"
# Default directory: the current one.
mkdir "$tmp/t3"
out=$(cd "$tmp/t3" && run keygen -d example.com -a ed25519 -s here)
check "default directory is ." test -f "$tmp/t3/here.txt" -a "$out" = here

# Help.
run keygen --help >"$tmp/out" 2>"$tmp/err"
rc=$?
check "--help exits 0" test $rc -eq 0
check "--help prints the usage on stdout" \
    test "$(head -n 1 "$tmp/out")" = \
    "usage: dkimrot keygen -d DOMAIN [-s SELECTOR] [-a rsa|ed25519] [-b BITS]"
check "--help says nothing on stderr" test ! -s "$tmp/err"
run help keygen >"$tmp/out2" 2>&1
check "help keygen is keygen --help" same "$tmp/out" "$tmp/out2"
run --help >"$tmp/out"
check "keygen is in the command list" grep -q '^  keygen ' "$tmp/out"

# The listing and checksums of $tmp/b (checksums: a key written by
# mistake must not end up in the test output).
snapshot() {
	(cd "$tmp/b" && ls -lA --time-style=+%s &&
	    find . -type f -exec sha256sum {} + | sort)
}

# bad RC STDERR DIR-SETUP -- ARGS...: refused with exactly that message,
# nothing on stdout, the directory as it was.
bad() {
	want_rc=$1 want_err=$2 setup=$3
	shift 4
	rm -rf "$tmp/b"
	mkdir "$tmp/b"
	eval "$setup"
	snapshot >"$tmp/before"
	run "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	printf '%s\n' "$want_err" >"$tmp/want"
	check "$*: exit $want_rc ($rc)" test "$rc" -eq "$want_rc"
	check "$*: message" same "$tmp/want" "$tmp/err"
	check "$*: nothing on stdout" test ! -s "$tmp/out"
	snapshot >"$tmp/after"
	check "$*: directory unchanged" same "$tmp/before" "$tmp/after"
}

B="$tmp/b"
LDH="only letters, digits, '-' and '.' are allowed (IDNs as xn-- A-labels)"
bad 2 "dkimrot: invalid domain 'exa mple.com': $LDH" "" -- \
    keygen -d 'exa mple.com' -D "$B"
bad 2 "dkimrot: invalid domain '-x.com': label starts with '-'" "" -- \
    keygen -d -x.com -D "$B"
l63=$(printf '%063d' 0 | tr 0 a)
long="$l63.$l63.$l63.$(printf '%062d' 0 | tr 0 a)"
check "the long domain has 254 characters" test ${#long} -eq 254
bad 2 "dkimrot: invalid domain '$long': too long" "" -- \
    keygen -d "$long" -D "$B"
bad 2 "dkimrot: invalid domain 'ex%ample.com': $LDH" "" -- \
    keygen -d 'ex%ample.com' -D "$B"
bad 2 "dkimrot: invalid selector 'a_b': $LDH" "" -- \
    keygen -d example.com -s a_b -D "$B"
bad 2 "dkimrot: invalid selector '../x': empty label" "" -- \
    keygen -d example.com -s ../x -D "$B"
bad 2 "dkimrot: rsa key size must be from 1024 to 4096 bits, not 512" "" -- \
    keygen -d example.com -b 512 -D "$B"
bad 2 "dkimrot: rsa key size must be from 1024 to 4096 bits, not 8192" "" \
    -- keygen -d example.com -b 8192 -D "$B"
bad 2 "dkimrot: invalid key size '2k': expected a number of bits" "" -- \
    keygen -d example.com -b 2k -D "$B"
bad 2 "dkimrot: unknown algorithm 'dsa': expected rsa or ed25519" "" -- \
    keygen -d example.com -a dsa -D "$B"
bad 2 "dkimrot: -b BITS is for rsa keys only; ed25519 keys have one size" \
    "" -- keygen -d example.com -a ed25519 -b 2048 -D "$B"
bad 2 "dkimrot: missing domain (-d DOMAIN); see 'dkimrot keygen --help'" \
    "" -- keygen -D "$B"
bad 2 "dkimrot: unknown option '--bogus'; see 'dkimrot keygen --help'" \
    "" -- keygen -d example.com --bogus -D "$B"
bad 2 "dkimrot: unknown option '-x'; see 'dkimrot keygen --help'" \
    "" -- keygen -d example.com -x -D "$B"
bad 2 "dkimrot: missing value for option '-s'; see 'dkimrot keygen --help'" \
    "" -- keygen -D "$B" -d example.com -s
bad 2 "dkimrot: unexpected argument 'extra'; see 'dkimrot keygen --help'" \
    "" -- keygen -d example.com -D "$B" extra
# Never overwrite: either file present stops everything.
bad 2 "dkimrot: '$B/s1.private' already exists; not overwriting it" \
    'echo keep >"$tmp/b/s1.private"' -- \
    keygen -d example.com -s s1 -a ed25519 -D "$B"
bad 2 "dkimrot: '$B/s1.txt' already exists; not overwriting it" \
    'echo keep >"$tmp/b/s1.txt"' -- \
    keygen -d example.com -s s1 -a ed25519 -D "$B"
bad 2 "dkimrot: '$B/s1.txt' already exists; not overwriting it" \
    'ln -s "$tmp/b/elsewhere" "$tmp/b/s1.txt"' -- \
    keygen -d example.com -s s1 -a ed25519 -D "$B"
bad 1 "dkimrot: cannot use directory '$B/none': No such file or directory" \
    "" -- keygen -d example.com -a ed25519 -D "$B/none"
bad 1 "dkimrot: cannot use directory '$B/f': Not a directory" \
    'echo x >"$tmp/b/f"' -- keygen -d example.com -a ed25519 -D "$B/f"

# A directory we may not write to.  root writes anywhere, so as root the
# run drops to nobody (the files stay root's, mode 0755).
mkdir "$tmp/ro"
chmod 555 "$tmp/ro"
chmod 755 "$tmp"
if [ "$(id -u)" = 0 ]; then
	as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
else
	as_user=
fi
# shellcheck disable=SC2086
$as_user ${DKIMROT_WRAP:-} "$DKIMROT" keygen -d example.com -a ed25519 \
    -s s1 -D "$tmp/ro" >"$tmp/out" 2>"$tmp/err"
rc=$?
printf "dkimrot: cannot create '%s': Permission denied\n" \
    "$tmp/ro/s1.private" >"$tmp/want"
check "unwritable directory: exit 1 ($rc)" test $rc -eq 1
check "unwritable directory: message" same "$tmp/want" "$tmp/err"
check "unwritable directory: nothing written" test -z "$(ls -A "$tmp/ro")"
chmod 700 "$tmp"

# The record cannot be written after the key was: the key goes too.  An
# LD_PRELOAD shim makes creating any *.txt fail with ENOSPC.
if command -v cc >/dev/null 2>&1; then
	cat >"$tmp/shim.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>

static int
deny(const char *path, int flags)
{
	size_t n = strlen(path);

	return (flags & O_CREAT) && n > 4 && strcmp(path + n - 4, ".txt") == 0;
}

#define SHIM(name)							\
int name(const char *path, int flags, ...)				\
{									\
	int (*real)(const char *, int, ...);				\
	va_list ap;							\
	mode_t mode;							\
									\
	va_start(ap, flags);						\
	mode = va_arg(ap, mode_t);					\
	va_end(ap);							\
	if (deny(path, flags)) {					\
		errno = ENOSPC;						\
		return -1;						\
	}								\
	real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, #name); \
	return real(path, flags, mode);					\
}
SHIM(open)
SHIM(open64)
EOF
	cc -shared -fPIC -o "$tmp/shim.so" "$tmp/shim.c" -ldl
	bad 1 "dkimrot: cannot create '$B/s1.txt': No space left on device" \
	    'export LD_PRELOAD="$tmp/shim.so" ASAN_OPTIONS=verify_asan_link_order=0' \
	    -- keygen -d example.com -a ed25519 -s s1 -D "$B"
	unset LD_PRELOAD ASAN_OPTIONS
else
	for i in 1 2 3 4; do ok "# SKIP no C compiler for the open() shim"; done
fi

echo "1..$n"
