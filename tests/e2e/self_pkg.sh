#!/bin/sh
# `make rpm` and `make deb` (dist/self.sh, docs/design.md §11): packages
# of dkimrot itself, with the binary under test.  rpmlint and lintian
# find no errors (but the RPM's missing signature: it is not signed
# here), and the real rpm --root and dpkg --root install them into
# scratch roots with the timer unit, the manual pages and a
# /var/lib/dkimrot of mode 0700.  The roots are empty, so the library
# dependencies are not there: --nodeps and --force-depends, and nothing
# else is forced.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
V=0.1.0
for tool in rpm rpmbuild rpmlint dpkg dpkg-deb dpkg-shlibdeps lintian; do
	command -v "$tool" >/dev/null 2>&1 || bail "$tool is not installed"
done
export SOURCE_DATE_EPOCH=1795353300
# quiet CMD...: CMD, its output dropped (for check)
quiet() { "$@" >/dev/null 2>&1; }

# --- make rpm
sh "$DKIMROT_SRC/dist/self.sh" rpm "$DKIMROT" "$tmp" "$V" \
    >"$tmp/rpm.out" 2>&1
rpmf=$(tail -1 "$tmp/rpm.out")
check "dist/self.sh rpm builds dkimrot-$V-1.ARCH.rpm" \
    eval '[ -f "$rpmf" ] && [ "${rpmf##*/}" = "dkimrot-$V-1.$(uname -m).rpm" ]'
rpmlint -r "$DKIMROT_SRC/dist/dkimrot.rpmlintrc" "$rpmf" >"$tmp/lint" 2>&1
grep ' E: ' "$tmp/lint" | grep -v ' E: no-signature$' >"$tmp/lint.err"
check "rpmlint finds no error but the missing signature" \
    eval '[ ! -s "$tmp/lint.err" ] && grep -q '\'' E: no-signature$'\'' "$tmp/lint"'
[ -s "$tmp/lint.err" ] && diag "$tmp/lint.err"
RR=$tmp/rpmroot
mkdir "$RR" && rpm --root "$RR" --initdb
rpm --root "$RR" -i --nodeps --nosignature "$rpmf" >"$tmp/out" 2>&1
check "rpm --root installs it" quiet rpm --root "$RR" -q "dkimrot-$V-1"
check "the binary is in place and runs" quiet "$RR/usr/bin/dkimrot" --help
check "the timer unit is in place" \
    grep -qx 'OnCalendar=\*-\*-\* 00/6:00:00' \
    "$RR/usr/lib/systemd/system/dkimrot-rotate.timer"
check "the service runs the installed binary" \
    grep -qx 'ExecStart=/usr/bin/dkimrot rotate --wait 300' \
    "$RR/usr/lib/systemd/system/dkimrot-rotate.service"
check "the manual pages are in place" \
    eval '[ -f "$RR/usr/share/man/man1/dkimrot.1.gz" ] &&
    [ -f "$RR/usr/share/man/man5/dkimrot.yaml.5.gz" ]'
check "the cron example is documentation, not in /etc/cron.d" \
    eval '[ -f "$RR/usr/share/doc/dkimrot/examples/dkimrot.cron" ] &&
    [ ! -e "$RR/etc/cron.d" ]'
check "/var/lib/dkimrot is 0700 root" \
    [ "$(stat -c '%a %U' "$RR/var/lib/dkimrot")" = "700 root" ]

# --- make deb
sh "$DKIMROT_SRC/dist/self.sh" deb "$DKIMROT" "$tmp" "$V" \
    >"$tmp/deb.out" 2>&1
debf=$(tail -1 "$tmp/deb.out")
check "dist/self.sh deb builds dkimrot_$V-1_ARCH.deb" \
    eval '[ -f "$debf" ] &&
    [ "${debf##*/}" = "dkimrot_$V-1_$(dpkg --print-architecture).deb" ]'
check "its Depends come from dpkg-shlibdeps (libc6, libgit2)" \
    sh -c 'dpkg-deb -f "$1" Depends | grep -q "libc6 (>=.*libgit2"' sh \
    "$debf"
lintian "$debf" >"$tmp/lintian" 2>&1
grep '^E: ' "$tmp/lintian" >"$tmp/lintian.err"
check "lintian finds no error" [ ! -s "$tmp/lintian.err" ]
[ -s "$tmp/lintian.err" ] && diag "$tmp/lintian.err"
DR=$tmp/debroot
mkdir -p "$DR/var/lib/dpkg/info" "$DR/var/lib/dpkg/updates"
: >"$DR/var/lib/dpkg/status"
dpkg --root="$DR" --force-depends -i "$debf" >"$tmp/out" 2>&1
check "dpkg --root installs it" \
    [ "$(dpkg-query --admindir="$DR/var/lib/dpkg" -W \
    -f '${Status} ${Version}' dkimrot)" = "install ok installed $V-1" ]
check "the binary is in place and runs" quiet "$DR/usr/bin/dkimrot" --help
check "the timer unit is in place" \
    grep -qx 'OnCalendar=\*-\*-\* 00/6:00:00' \
    "$DR/lib/systemd/system/dkimrot-rotate.timer"
check "the service runs the installed binary" \
    grep -qx 'ExecStart=/usr/bin/dkimrot rotate --wait 300' \
    "$DR/lib/systemd/system/dkimrot-rotate.service"
check "the manual pages, copyright and changelog are in place" \
    eval '[ -f "$DR/usr/share/man/man1/dkimrot.1.gz" ] &&
    [ -f "$DR/usr/share/man/man5/dkimrot.yaml.5.gz" ] &&
    [ -f "$DR/usr/share/doc/dkimrot/copyright" ] &&
    [ -f "$DR/usr/share/doc/dkimrot/changelog.Debian.gz" ]'
check "/var/lib/dkimrot is 0700 root" \
    [ "$(stat -c '%a %U' "$DR/var/lib/dkimrot")" = "700 root" ]
dpkg --root="$DR" --purge dkimrot >/dev/null 2>&1
check "dpkg --purge removes it" [ ! -e "$DR/usr/bin/dkimrot" ]

echo "1..$n"
