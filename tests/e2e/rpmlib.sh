#!/bin/sh
# docs/design.md §11: the packages install on every supported rpm.  Every
# rpmlib() requirement of both packages built with the default
# compression (gzip) and with xz is provided by rpm 4.11.3 (EL7; the list
# in tests/vectors/rpmlib-4.11.3.txt, with its source); a zstd build
# needs rpmlib(PayloadIsZstd), which 4.11.3 lacks, and says so.  The
# scriptlets are POSIX sh (dash parses them).
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
R=$tmp/repo
OUT=$R/rpms
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1
RPMQ="rpm --nosignature"
grep '^rpmlib(' "$DKIMROT_SRC/tests/vectors/rpmlib-4.11.3.txt" |
    LC_ALL=C sort >"$tmp/el7"

# requires RPM: its rpmlib() requirements as "NAME = VERSION", sorted
requires() {
	$RPMQ -qp --qf '[%{REQUIRENAME} %{REQUIREFLAGS:depflags} %{REQUIREVERSION}\n]' \
	    "$1" 2>/dev/null | grep '^rpmlib(' |
	    sed 's/ <= / = /' | LC_ALL=C sort
}
# el7 DESC RPM: every rpmlib() requirement of RPM is in 4.11.3's list
el7() {
	requires "$2" >"$tmp/req"
	LC_ALL=C comm -23 "$tmp/req" "$tmp/el7" >"$tmp/missing"
	if [ -s "$tmp/req" ] && [ ! -s "$tmp/missing" ]; then
		ok "$1"
	else
		nok "$1"
		diag "$tmp/missing"
	fi
}
# payload RPM: its payload compressor
payload() { $RPMQ -qp --qf '%{PAYLOADCOMPRESSOR}' "$1" 2>/dev/null; }

dk -C "$R" --now 2026-11-20T00:00:00Z init --no-sign -d example.com \
    >/dev/null 2>&1
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "test configuration"
dk -C "$R" --now 2026-11-20T00:00:00Z -q rotate >/dev/null
priv=$OUT/private/dkim-keys-private-3-1.noarch.rpm
pub=$OUT/public/dkim-keys-public-3-1.noarch.rpm
check "the default payload is gzip (private)" [ "$(payload "$priv")" = gzip ]
check "the default payload is gzip (public)" [ "$(payload "$pub")" = gzip ]
el7 "rpm 4.11.3 provides every rpmlib() the private package needs" "$priv"
el7 "rpm 4.11.3 provides every rpmlib() the public package needs" "$pub"
check "the requirements were read (FileDigests among them)" \
    grep -qx 'rpmlib(FileDigests) = 4.6.0-1' "$tmp/req"

# The scriptlets: /bin/sh, and POSIX sh as dash reads it.
for p in "$priv" "$pub"; do
	for s in POSTIN POSTUN; do
		$RPMQ -qp --qf "%{${s}PROG}" "$p" >"$tmp/prog" 2>/dev/null
		$RPMQ -qp --qf "%{$s}" "$p" >"$tmp/script" 2>/dev/null
		b=$(basename "$p" .noarch.rpm)
		check "$b $s runs under /bin/sh" \
		    [ "$(cat "$tmp/prog")" = /bin/sh ]
		check "$b $s is POSIX sh (dash -n)" \
		    sh -c '[ -s "$1" ] && dash -n "$1"' sh "$tmp/script"
	done
done

sed -i 's/^packaging:$/packaging:\n  compression: xz/' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "xz"
priv=$OUT/private/dkim-keys-private-4-1.noarch.rpm
pub=$OUT/public/dkim-keys-public-4-1.noarch.rpm
check "compression: xz gives an xz payload" [ "$(payload "$pub")" = xz ]
el7 "rpm 4.11.3 provides every rpmlib() of an xz build (private)" "$priv"
el7 "rpm 4.11.3 provides every rpmlib() of an xz build (public)" "$pub"
check "an xz build requires rpmlib(PayloadIsXz)" \
    grep -qx 'rpmlib(PayloadIsXz) = 5.2-1' "$tmp/req"

sed -i 's/^  compression: xz$/  compression: zstd/' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "zstd"
pub=$OUT/public/dkim-keys-public-5-1.noarch.rpm
check "compression: zstd gives a zstd payload" [ "$(payload "$pub")" = zstd ]
requires "$pub" >"$tmp/req"
LC_ALL=C comm -23 "$tmp/req" "$tmp/el7" >"$tmp/missing"
echo 'rpmlib(PayloadIsZstd) = 5.4.18-1' >"$tmp/want"
check "a zstd build needs exactly rpmlib(PayloadIsZstd) beyond rpm 4.11.3" \
    same "$tmp/want" "$tmp/missing"
echo "dkimrot: warning: packaging.compression is zstd: the packages need" \
    "rpm 4.14 or later (EL8, EL9, Fedora); EL7's rpm 4.11 cannot install" \
    "them" >"$tmp/want"
grep 'zstd' "$R/.git/dkimrot-package.log" >"$tmp/got"
check "a zstd build says it needs EL8" same "$tmp/want" "$tmp/got"

dk -C "$R" package >/dev/null 2>"$tmp/err"
check "a commit already built says nothing of zstd again" \
    not grep -q zstd "$tmp/err"
sed -i 's/^  compression: zstd$/  compression: bz2/' "$R/dkimrot.yaml"
expect "an unknown compression is refused" 2 \
    "dkimrot: $R/dkimrot.yaml:35:16: compression must be one of gzip, xz, zstd, not 'bz2'" \
    -C "$R" rotate

echo "1..$n"
