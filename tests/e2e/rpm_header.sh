#!/bin/sh
# packaging/rpm_write.c writes the package file itself, without a build
# root.  Here the real rpmbuild builds the same spec (rendered with its
# %files) from the same files, extracted into a build root, and the two
# packages must agree entry by entry in both headers: every tag, type,
# count and value, the payload's digests and its size.  What may differ:
# the file classes that rpmbuild takes from libmagic (FILECOLORS,
# FILECLASS, CLASSDICT), and so the digests and sizes that cover the
# header.  Each compression; keys, %config, %config(noreplace), several
# owners, a %pre, a %post, Requires and Obsoletes.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/rpmbuild.sh"
TOOL=$DKIMROT_BUILD/tools/rpmtool
COMMIT=0123456789abcdef0123456789abcdef01234567
T0=1795353300

echo "1..12"

# header DIR: both dumps without what may differ, into DIR/ours, DIR/ref
header() {
	for w in ours ref; do
		python3 "$DKIMROT_SRC/tests/lib/rpmhdr.py" "$1/$w.rpm" |
		    grep -Ev '^main (63|1140|1141|1142) |^sig (269|273|1000|1004) ' \
		    >"$1/$w.hdr" || return 1
	done
}

# one CASE TEMPLATE COMPRESS ARG...: build, rebuild with rpmbuild, compare
one() {
	c=$1 t=$2 z=$3
	shift 3
	d=$tmp/$c
	mkdir -p "$d/out" "$d/root" "$d/top/RPMS" "$d/fileattrs"
	if ! "$TOOL" build -t "$t" -o "$d/out" -n "$c" -V 7 -c "$COMMIT" \
	    -T "$T0" -Z "$z" "$@" >"$d/log" 2>&1; then
		diag "$d/log"
		nok "$c ($z): dkimrot builds it"
		nok "$c: rpmbuild builds the same spec and files"
		nok "$c: the same headers, entry by entry"
		return
	fi
	ok "$c ($z): dkimrot builds it"
	cp "$d/out/$c-7-1.noarch.rpm" "$d/ours.rpm"
	"$TOOL" render -t "$t" -n "$c" -V 7 -c "$COMMIT" -T "$T0" -Z "$z" \
	    "$@" >"$d/spec"
	echo "$T0" >"$d/sde"
	: >"$d/fileattrs/none.attr"
	(cd "$d/root" && rpm2cpio "$d/ours.rpm" | cpio -idm --quiet)
	if rpmbuild_bb "$d" "$z" >"$d/log" 2>&1 &&
	    cp "$d/top/RPMS/$c-7-1.noarch.rpm" "$d/ref.rpm"; then
		ok "$c: rpmbuild builds the same spec and files"
	else
		diag "$d/log"
		nok "$c: rpmbuild builds the same spec and files"
	fi
	check "$c: the same headers, entry by entry" same_headers "$d"
}
same_headers() { header "$1" && same "$1/ref.hdr" "$1/ours.hdr"; }

one pub public gzip -p 'rndc reload' -d 'Domains (2): a.example b.example' \
    'd:/var/named/dkim:0755:root:named' \
    'f:/var/named/dkim/a.example.zone:0644:root:named:config=a IN TXT "x"' \
    'f:/var/named/dkim/b.example.zone:0644:root:named:config=b IN TXT "y"' \
    'd:/srv/d:0755:root:named' 'f:/srv/d/z1:0644:root:named:noreplace=7' \
    'f:/srv/a.x:0644:root:root=8' 'd:/srv/e:0750:named:named'
one priv private xz -p 'systemctl reload opendkim' -U opendkim:opendkim \
    -R priv-part-00=7 -O priv-part-01=7 \
    'd:/etc/dkim-keys:0755:root:root' \
    'd:/etc/dkim-keys/keys:0700:opendkim:opendkim' \
    'd:/etc/dkim-keys/keys/a.example:0700:opendkim:opendkim' \
    'f:/etc/dkim-keys/keys/a.example/s1.private:0600:opendkim:opendkim=-----BEGIN PRIVATE KEY-----' \
    'f:/etc/dkim-keys/KeyTable:0644:root:root:config=s1._domainkey.a.example a.example:s1:/etc/dkim-keys/keys/a.example/s1.private'
one part private-part zstd -U opendkim:opendkim \
    'd:/etc/dkim-keys/keys/b.example:0700:opendkim:opendkim' \
    'f:/etc/dkim-keys/keys/b.example/s2.private:0600:opendkim:opendkim=key'

# And ours is a package rpm reads in full: digests, payload and files.
digests() { rpmkeys -K --nosignature "$@" >/dev/null 2>&1; }
check "rpm verifies every digest of each" digests "$tmp/pub/ours.rpm" \
    "$tmp/priv/ours.rpm" "$tmp/part/ours.rpm"
listed() {
	rpm2cpio "$1" | cpio -it --quiet | sed 's/^\.//' >"$tmp/cpio" &&
	    rpm -qpl --nosignature "$1" >"$tmp/list" &&
	    same "$tmp/list" "$tmp/cpio"
}
check "its payload lists exactly the files of its header" listed \
    "$tmp/priv/ours.rpm"
keymode() {
	rpm2cpio "$tmp/priv/ours.rpm" | cpio -itv --quiet 2>/dev/null |
	    grep -q '^-rw------- .*s1.private$'
}
check "the key is 0600 in the payload" keymode
