#!/bin/sh
# `make rpm`, `make deb`: the packages of dkimrot itself (docs/design.md
# §11): the binary, the manual pages, the systemd service and timer (not
# enabled: the key repository must be initialized first), the cron
# example among the documentation (installed in /etc/cron.d it would run
# beside the timer), and /var/lib/dkimrot, 0700.
#
#   dist/self.sh rpm|deb BINARY OUTDIR VERSION
#
# PACKAGER ("Name <email>") is the packages' Packager and Maintainer.
#
# The package goes into OUTDIR; its dates are SOURCE_DATE_EPOCH, else
# the last commit's.  Built for the host it runs on: its library
# dependencies are this host's (rpmbuild's generator, dpkg-shlibdeps).
set -eu
what=$1 bin=$2 out=$3 version=$4
src=$(cd "$(dirname "$0")/.." && pwd)
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
work=$out/self-$what
S=$work/root
: "${SOURCE_DATE_EPOCH:=$(git -C "$src" log -1 --format=%ct 2>/dev/null ||
    date +%s)}"
export SOURCE_DATE_EPOCH
PACKAGER=${PACKAGER:-dkimrot <dkimrot@example.org>}
case $PACKAGER in *'|'*|*'
'*) echo "PACKAGER: no '|' or newline" >&2; exit 2 ;; esac
case $what in
rpm)	unitdir=/usr/lib/systemd/system ;;
deb)	unitdir=/lib/systemd/system ;;
*)	echo "usage: dist/self.sh rpm|deb BINARY OUTDIR VERSION" >&2; exit 2 ;;
esac

rm -rf "$work"
doc=$S/usr/share/doc/dkimrot
install -d -m 0755 "$S/usr/bin" "$S/usr/share/man/man1" \
    "$S/usr/share/man/man5" "$S$unitdir" "$doc/examples"
install -d -m 0700 "$S/var/lib/dkimrot"
install -m 0755 "$bin" "$S/usr/bin/dkimrot"
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
    "$S/usr/bin/dkimrot"
gzip -9n <"$src/man/dkimrot.1" >"$S/usr/share/man/man1/dkimrot.1.gz"
gzip -9n <"$src/man/dkimrot.yaml.5" \
    >"$S/usr/share/man/man5/dkimrot.yaml.5.gz"
# The examples name /usr/local/bin; the package installs /usr/bin.
for u in dkimrot-rotate.service dkimrot-rotate.timer; do
	sed -e 's|/usr/local/bin/dkimrot|/usr/bin/dkimrot|' \
	    -e 's|^# Install with dkimrot-rotate.timer; adjust DKIMROT_REPO and the binary path.$|# Enable dkimrot-rotate.timer; DKIMROT_REPO can be changed with systemctl edit.|' \
	    "$src/hooks/$u" >"$S$unitdir/$u"
	chmod 0644 "$S$unitdir/$u"
done
sed 's|/usr/local/bin/dkimrot|/usr/bin/dkimrot|' "$src/hooks/dkimrot.cron" \
    >"$doc/examples/dkimrot.cron"
install -m 0644 "$src/README.md" "$doc/README.md"
chmod 0644 "$doc/examples/dkimrot.cron"

if [ "$what" = rpm ]; then
	date=$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%a %b %d %Y')
	sed -e "s|@VERSION@|$version|g" -e "s|@STAGE@|$S|g" \
	    -e "s|@DATE@|$date|g" -e "s|@PACKAGER@|$PACKAGER|g" \
	    "$src/dist/dkimrot.spec.in" \
	    >"$work/dkimrot.spec"
	rpmbuild -bb --quiet --nodeps \
	    --define "_topdir $work/rpmbuild" \
	    --define "_build_id_links none" \
	    --define "use_source_date_epoch_as_buildtime 1" \
	    --define "clamp_mtime_to_source_date_epoch 1" \
	    --define "_buildhost dkimrot" \
	    "$work/dkimrot.spec" >"$work/rpmbuild.log" 2>&1 || {
		cat "$work/rpmbuild.log" >&2
		exit 1
	}
	for f in "$work"/rpmbuild/RPMS/*/dkimrot-"$version"-1.*.rpm; do
		cp "$f" "$out/"
		echo "$out/${f##*/}"
	done
	exit 0
fi

arch=$(dpkg --print-architecture)
date=$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" -R)
mkdir -p "$work/src/debian"
printf 'Source: dkimrot\n\nPackage: dkimrot\nArchitecture: any\n' \
    >"$work/src/debian/control"
depends=$(cd "$work/src" && dpkg-shlibdeps -O -e"$S/usr/bin/dkimrot" \
    2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "dpkg-shlibdeps found no dependencies" >&2;
    exit 1; }
sed -e "s|@VERSION@|$version|g" -e "s|@DATE@|$date|g" \
    -e "s|@PACKAGER@|$PACKAGER|g" "$src/dist/deb/changelog.in" | gzip -9n >"$doc/changelog.Debian.gz"
install -m 0644 "$src/dist/deb/copyright" "$doc/copyright"
chmod 0644 "$doc/changelog.Debian.gz"
size=$(du -sk "$S" | cut -f1)
mkdir -m 0755 "$S/DEBIAN"
sed -e "s|@VERSION@|$version|g" -e "s|@ARCH@|$arch|g" \
    -e "s|@SIZE@|$size|g" -e "s|@DEPENDS@|$depends|g" \
    -e "s|@PACKAGER@|$PACKAGER|g" \
    "$src/dist/deb/control.in" >"$S/DEBIAN/control"
find "$S" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
deb=$out/dkimrot_$version-1_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$S" "$deb" >/dev/null
echo "$deb"
