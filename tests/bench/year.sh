#!/bin/sh
# make bench-year (issue #15): a simulated year at YEAR_DOMAINS (default
# 10,000) Ed25519 domains, one rotate a day with rotate_every 30d (about
# a thirtieth of the domains come due each day), the post-commit hook
# building both RPMs after every commit.  Prints the slowest run, the
# median run of the first and of the last month (the last should be at
# most 1.2 times the first: no run gets slower as history grows) and
# the last against the second and the fourth, the days the hook's git
# gc repacked against the others, the size of .git at the end against
# the key material it holds, the lines of keys.yaml a daily run parses
# per domain at the end, and month by month the median run, its peak
# RSS and the packs in .git.
# YEAR_DAYS (default 365) shortens it; YEAR_PARTS (default 0) sets
# packaging.parts (packaging/parts.h), so that each day's hook builds
# only the parts that changed.  YEAR_KEEP=DIR keeps a copy of the
# repository after day 30 (DIR/day30) and at the end (DIR/end), to
# profile one day's run against each, and the days' figures (DIR/days:
# day, seconds, peak KiB, plan lines, packs).  Printed, never asserted.
set -eu
: "${DKIMROT:?}" "${DKIMROT_SRC:?}" "${DKIMROT_BUILD:?}"
N=${YEAR_DOMAINS:-10000}
DAYS=${YEAR_DAYS:-365}
T0=2026-01-01T00:00:00Z
. "$DKIMROT_SRC/tests/bench/lib.sh"
bench_init year

R=$W/repo
"$DKIMROT" -C "$R" --now $T0 init -d d1.example >/dev/null
benchrepo_config "$R" "$N" ed25519 2048
PARTS=${YEAR_PARTS:-0}
if [ "$PARTS" != 0 ]; then
	sed -i "s/^  keep_builds: .*/&\n  parts: $PARTS/" "$R/dkimrot.yaml"
	git -C "$R" -c user.name=bench -c user.email=bench@localhost \
	    commit -qam "bench: $PARTS parts" >/dev/null
fi
log "$N domains, $DAYS daily runs (the hook builds both RPMs each day)"
t0=$(date -u -d $T0 +%s)
d=0
while [ $d -lt "$DAYS" ]; do
	now=$(date -u -d "@$((t0 + d * 86400))" +%Y-%m-%dT%H:%M:%SZ)
	timed run "$DKIMROT" -C "$R" --now "$now" -q rotate
	# day, seconds, KiB, plan lines, packs in .git after the hook
	printf '%s %s %s %s\n' "$d" "$(cat "$W/.t")" "$(wc -l <"$W/.out")" \
	    "$(ls "$R/.git/objects/pack" | grep -c '\.pack$')" >>"$W/days"
	d=$((d + 1))
	[ $((d % 30)) = 0 ] && log "day $d"
	if [ -n "${YEAR_KEEP:-}" ] && [ $d = 31 ]; then
		rm -rf "$YEAR_KEEP/day30" && mkdir -p "$YEAR_KEEP" &&
		    cp -a "$R" "$YEAR_KEEP/day30"
	fi
done
if [ -n "${YEAR_KEEP:-}" ]; then
	rm -rf "$YEAR_KEEP/end" && mkdir -p "$YEAR_KEEP" &&
	    cp -a "$R" "$YEAR_KEEP/end" && cp "$W/days" "$YEAR_KEEP/days"
fi

# span FROM TO FIELD [work]: the median of FIELD over days FROM..TO-1
# (work: only the days that planned something)
span() {
	awk -v a="$1" -v b="$2" -v c="$3" -v w="${4:-}" '$1 >= a && $1 < b &&
	    (w == "" || $4 > 0) { print $c }' "$W/days" | mid
}
# Day 0 makes every key; the first month is days 1-30.  It is not like
# the others: the first rotations are staggered over it and no key
# retires before day 36 (docs/design.md §15, "A year of history").  The
# second month is the first whose days are the later months' days, and
# the fourth the first after every domain's first key has retired and
# left keys.yaml for the archive 30 days later: the steady state.
first=$(span 1 31 2)
second=$(span 31 61 2)
fourth=
[ "$DAYS" -ge 121 ] && fourth=$(span 91 121 2)
last=$(span $((DAYS - 30)) "$DAYS" 2)
slow=$(awk '$1 > 0 { print $2, $1, $4 }' "$W/days" | sort -n | tail -1)
# The hook's git gc --auto repacks when the packs pass gc.autoPackLimit:
# the days whose pack count fell, against the other days with work.
gc_days=$(awk '$1 > 0 && $5 < p { print $2 } { p = $5 }' "$W/days" | mid)
gc_n=$(awk '$1 > 0 && $5 < p { n++ } { p = $5 } END { print n + 0 }' \
    "$W/days")
other_days=$(awk '$1 > 0 && $5 >= p && $4 > 0 { print $2 } { p = $5 }' \
    "$W/days" | mid)
git_kib=$(du -sk "$R/.git" | cut -f1)
# Key material: every distinct .private and .txt blob ever committed.
keys_b=$(git -C "$R" rev-list --objects --all |
    awk '$2 ~ /\.(private|txt)$/ { print $1 }' | sort -u |
    git -C "$R" cat-file --batch-check='%(objectsize)' |
    awk '{ s += $1 } END { print s + 0 }')
nkeys=$(git -C "$R" rev-list --objects --all |
    awk '$2 ~ /\.private$/ { print $1 }' | sort -u | wc -l)
# What a daily run parses: keys.yaml; what it does not: retired.yaml.
yaml_lines() {
	find "$R/keys" -name "$1" -exec cat {} + | wc -l
}
ky=$(yaml_lines keys.yaml)
ry=$(yaml_lines retired.yaml)

echo
echo "dkimrot year: $N Ed25519 domains, $DAYS daily runs, rotate_every 30d, packaging.parts $PARTS, $(nproc) cores"
printf '%-44s %s\n' "day 0 (every key made)" \
    "$(sec "$(awk '$1 == 0 { print $2 }' "$W/days")")"
printf '%-44s %s (day %s, %s lines)\n' "slowest later run" \
    "$(sec "$(echo "$slow" | cut -d' ' -f1)")" \
    "$(echo "$slow" | cut -d' ' -f2)" "$(echo "$slow" | cut -d' ' -f3)"
printf '%-44s %s\n' "median run, first month" "$(sec "$first")"
printf '%-44s %s\n' "median run, second month" "$(sec "$second")"
printf '%-44s %s  %s  (<= 1.2x: %s)\n' "median run, last month" \
    "$(sec "$last")" "$(ratio "$last" "$first")" \
    "$(awk -v a="$first" -v b="$last" 'BEGIN { if (a > 0 && b != "")
	print b / a <= 1.2 ? "PASS" : "MISS"; else print "n/a" }')"
printf '%-44s %s\n' "   the last month against the second" \
    "$(ratio "$last" "$second")"
printf '%-44s %s\n' "   the last month against the fourth" \
    "$(ratio "$last" "$fourth")"
printf '%-44s %s, median %s (other days with work: %s)\n' \
    "days git gc repacked" "$gc_n" "$(sec "$gc_days")" \
    "$(sec "$other_days")"
printf '%-44s %s MiB, %s commits\n' ".git at the end" \
    "$(awk -v k="$git_kib" 'BEGIN { printf "%.1f", k / 1024 }')" \
    "$(git -C "$R" rev-list --count HEAD)"
printf '%-44s %s lines per domain (retired.yaml: %s)\n' \
    "keys.yaml at the end" "$((ky / N))" "$((ry / N))"
printf '%-44s %s MiB in %s private keys (+ records)  %s\n' \
    "key material committed over the year" \
    "$(awk -v b="$keys_b" 'BEGIN { printf "%.1f", b / 1048576 }')" "$nkeys" \
    "$(awk -v k="$git_kib" -v b="$keys_b" 'BEGIN { if (b > 0)
	printf ".git/key material %.1fx", k * 1024 / b }')"

# Month by month, the days with work: whether history costs once every
# domain's keys have been through retirement and the archive (the fourth
# month on), or only the first months' growing work did.
echo
printf '%-8s %8s %10s %7s\n' month median "peak RSS" packs
m=1
while [ $((m * 30)) -lt "$DAYS" ]; do
	a=$((m * 30 - 29)) b=$((m * 30 + 1))
	printf '%-8s %8s %6s MiB %7s\n' "$m" "$(sec "$(span $a $b 2 work)")" \
	    "$(awk -v k="$(span $a $b 3 work)" 'BEGIN {
		printf "%.0f", k / 1024 }')" \
	    "$(awk -v p="$(span $a $b 5 work)" 'BEGIN { printf "%.0f", p }')"
	m=$((m + 1))
done
