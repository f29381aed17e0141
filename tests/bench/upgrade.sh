#!/bin/sh
# upgrade.sh N...: the mail server's side of a rotation (issue 15): the
# time and peak RSS of `rpm -U` from one dkim-keys-private to the next,
# for N Ed25519 domains each, into a scratch root (tests/lib/rpmroot.sh:
# a shell, the key owner, the repository's signing key imported; no
# --nodeps, no --noscripts).  Prints one "LABEL seconds maxrss_kib" line
# per measure, LABEL upgrade.N (and install.N, the first install, for
# scale), like the samples of tests/bench/run.sh.
#
# The two versions are a realistic day: keys made at T0, activated the
# next day, then a run on day 11 (rotate_every 30d, staggered: about a
# third of the domains have a new key waiting) gives version A; a run six
# hours later, which rotates about 1% of the domains, gives version B.
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

rpmroot_stub "$W" >/dev/null
for n; do
	r=$W/r$n root=$W/root$n
	log "$n domains: the repository and its first keys"
	benchrepo_make "$r" "$n"
	rotate "$r" 2026-11-01T00:00:00Z >/dev/null
	rotate "$r" 2026-11-02T00:00:00Z >/dev/null
	log "$n domains: $(rotate "$r" 2026-11-11T00:00:00Z) new keys on day 11"
	"$DKIMROT" -C "$r" -q package --output "$W/a$n" >/dev/null
	log "$n domains: $(rotate "$r" 2026-11-11T06:00:00Z) new keys six hours later"
	"$DKIMROT" -C "$r" -q package --output "$W/b$n" >/dev/null
	a=$(ls "$W/a$n"/private/dkim-keys-private-*.rpm)
	b=$(ls "$W/b$n"/private/dkim-keys-private-*.rpm)
	[ "${a##*/}" != "${b##*/}" ] || { log "no new version"; exit 1; }
	rpmroot_make "$root"
	rpm --root "$root" --import "$W/a$n/private/RPM-GPG-KEY-dkimrot"
	rpm --root "$root" -i "$W"/sh-stub-1-1.noarch.rpm
	timed "install.$n" rpm --root "$root" -i "$a"
	timed "upgrade.$n" rpm --root "$root" -U "$b"
	[ "$(rpm --root "$root" -q --qf '%{VERSION}' dkim-keys-private)" = \
	    "$(rpm -qp --qf '%{VERSION}' "$b" 2>/dev/null)" ] ||
	    { log "the upgrade did not install version B"; exit 1; }
	rm -rf "$r" "$root" "$W/a$n" "$W/b$n"
done
