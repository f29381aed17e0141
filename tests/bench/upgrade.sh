#!/bin/sh
# upgrade.sh N...: the mail server's side of a rotation (issue 15): the
# time and peak RSS of `rpm -U` from one dkim-keys-private to the next,
# for N Ed25519 domains each, into a scratch root (tests/lib/rpmroot.sh:
# a shell, the key owner, the repository's signing key imported; no
# --nodeps, no --noscripts).  Prints one "LABEL seconds maxrss_kib" line
# per measure, LABEL upgrade.N (and install.N, the first install, for
# scale), like the samples of tests/bench/run.sh.  UPGRADE_PARTS (default
# "0 30") lists the layouts measured: 0 the one package, P > 0 the keys
# in P part packages (packaging.parts, packaging/parts.h), labelled
# upgradeP.N and installP.N; `rpm -U` is then given dkim-keys-private
# and the parts it requires at a version A lacks, as dnf would fetch.
#
# The two versions are a realistic day: keys made at T0, a daily run
# (rotate_every 30d, staggered: by day 11 about a third of the domains
# have rotated, a few percent a day) up to day 11 gives version A; a run
# six hours later, which rotates about 1% of the domains, gives version
# B.  (A daily cron matters to the parts: domains rotated together share
# a part, and days skipped would bunch them into one.)
#
# Needs DKIMROT, DKIMROT_SRC and DKIMROT_BUILD (build/tools/rpmtool for
# the /bin/sh stub).  At 100,000 domains it takes minutes and 4 GB of
# disk under $DKIMROT_BUILD (removed at the end).
set -eu

: "${DKIMROT:?}" "${DKIMROT_SRC:?}" "${DKIMROT_BUILD:?}"
[ $# -gt 0 ] || { echo "usage: upgrade.sh N..." >&2; exit 2; }
TIME=/usr/bin/time
W=$(mktemp -d "$DKIMROT_BUILD/bench-upgrade.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
export HOME="$W" GIT_CONFIG_NOSYSTEM=1 LC_ALL=C
. "$DKIMROT_SRC/tests/lib/rpmroot.sh"
. "$DKIMROT_SRC/tests/lib/benchrepo.sh"

log() { printf '%s\n' "upgrade: $*" >&2; }

# rotate DIR NOW: one run at NOW, quiet; prints how many keys it made
rotate() {
	"$DKIMROT" -C "$1" --now "$2" -q rotate | wc -l
}

# timed LABEL CMD...: one "LABEL seconds maxrss_kib" line
timed() {
	label=$1
	shift
	if ! $TIME -f '%e %M' -o "$W/.t" "$@" >"$W/.out" 2>&1; then
		log "$label failed:"
		cat "$W/.out" >&2
		exit 1
	fi
	echo "$label $(cat "$W/.t")"
}

# files DIR VERSION: dkim-keys-private of VERSION in DIR and the parts
# it requires (none without parts), one path a line
files() {
	echo "$1/dkim-keys-private-$2-1.noarch.rpm"
	rpm -qp --requires "$1/dkim-keys-private-$2-1.noarch.rpm" 2>/dev/null |
	    sed -n "s|^\(dkim-keys-private-part-[0-9]*\) = \([0-9]*\)-1\$|$1/\1-\2-1.noarch.rpm|p"
}

rpmroot_stub "$W" >/dev/null
for n; do
	for p in ${UPGRADE_PARTS:-0 30}; do
		l=$( [ "$p" = 0 ] || echo "$p" )
		r=$W/r$n root=$W/root$n o=$W/o$n
		log "$n domains, parts $p: the repository and its first keys"
		benchrepo_make "$r" "$n"
		if [ "$p" != 0 ]; then
			sed -i "s/^  keep_builds: .*/&\\n  parts: $p/" "$r/dkimrot.yaml"
			git -C "$r" -c user.name=bench -c user.email=bench@localhost \
			    commit -qam "bench: $p parts" >/dev/null
		fi
		# A daily cron: days 1 to 10, then day 11.
		for d in 01 02 03 04 05 06 07 08 09 10; do
			rotate "$r" 2026-11-${d}T00:00:00Z >/dev/null
		done
		log "$n domains: $(rotate "$r" 2026-11-11T00:00:00Z) new keys on day 11"
		"$DKIMROT" -C "$r" -q package --output "$o" >/dev/null
		va=$(git -C "$r" rev-list --first-parent --count HEAD)
		log "$n domains: $(rotate "$r" 2026-11-11T06:00:00Z) new keys six hours later"
		"$DKIMROT" -C "$r" -q package --output "$o" >/dev/null
		vb=$(git -C "$r" rev-list --first-parent --count HEAD)
		[ "$va" != "$vb" ] || { log "no new version"; exit 1; }
		files "$o/private" "$va" >"$W/a"
		files "$o/private" "$vb" | grep -vxF -f "$W/a" >"$W/b"
		log "$n domains, parts $p: A is $(wc -l <"$W/a") packages, B changes $(wc -l <"$W/b")"
		rpmroot_make "$root"
		rpm --root "$root" --import "$o/private/RPM-GPG-KEY-dkimrot"
		rpm --root "$root" -i "$W"/sh-stub-1-1.noarch.rpm
		# shellcheck disable=SC2046
		timed "install$l.$n" rpm --root "$root" -i $(cat "$W/a")
		# shellcheck disable=SC2046
		timed "upgrade$l.$n" rpm --root "$root" -U $(cat "$W/b")
		[ "$(rpm --root "$root" -q --qf '%{VERSION}' dkim-keys-private)" = \
		    "$vb" ] ||
		    { log "the upgrade did not install version B"; exit 1; }
		rm -rf "$r" "$root" "$o"
	done
done
