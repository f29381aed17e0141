#!/bin/sh
# make bench, part 2 (issue #15): how the cost grows from 10,000 to
# 100,000 Ed25519 domains, side by side in one go, with the targets:
#
#   first rotate (new keys, commit, hook: both RPMs and repodata)
#   rotate with nothing due (the due index, docs/design.md §15)
#   package alone (against rpmbuild -bb + createrepo_c: run.sh's row 4)
#   rpm -U of dkim-keys-private from one version to the next (about 1%
#     of keys changed; tests/bench/upgrade.sh), one package and with
#     packaging.parts 30
#
# beside the layout's floor (tests/bench/layout.c: the files alone) and
# OpenSSL's in-process rate.  SCALE_BIG (default 100000) and SCALE_SMALL
# (10000) set the sizes; SCALE_RUNS (default 3) the runs of the cheap
# workloads (the first rotate and package run once at the big size);
# SCALE_UPGRADE=0 leaves rpm -U out.
# Targets are printed, never asserted.
set -eu
: "${DKIMROT:?}" "${DKIMROT_SRC:?}" "${DKIMROT_BUILD:?}"
SMALL=${SCALE_SMALL:-10000}
BIG=${SCALE_BIG:-100000}
RUNS=${SCALE_RUNS:-3}
TOOLS=$DKIMROT_BUILD/bench
T0=2026-11-01T00:00:00Z
. "$DKIMROT_SRC/tests/bench/lib.sh"
bench_init scale

# workloads N: one size, its samples under labels *.N
workloads() {
	n=$1 r=$W/r$1
	log "$n domains: first rotate (keys, commit, hook and both RPMs)"
	"$DKIMROT" -C "$r" --now $T0 init -d d1.example >/dev/null
	benchrepo_config "$r" "$n" ed25519 2048
	timed "first.$n" "$DKIMROT" -C "$r" --now $T0 -q rotate
	[ "$(wc -l <"$W/.out")" = "$n" ] &&
	    ls "$r"/rpms/private/dkim-keys-private-*.rpm >/dev/null ||
	    { log "the first rotate did not make $n keys and the RPMs"; exit 1; }
	log "$n domains: rotate with nothing due"
	i=1
	while [ $i -le "$RUNS" ]; do
		timed "idle.$n" "$DKIMROT" -C "$r" \
		    --now "2026-11-01T0$i:00:00Z" -q rotate
		[ ! -s "$W/.out" ] ||
		    { log "a nothing-due run changed something"; exit 1; }
		i=$((i + 1))
	done
	log "$n domains: package"
	i=1
	k=$RUNS
	[ "$n" -gt "$SMALL" ] && k=1
	while [ $i -le "$k" ]; do
		rm -rf "$W/out.$n"
		timed "pkg.$n" "$DKIMROT" -C "$r" -q package --output "$W/out.$n"
		i=$((i + 1))
	done
	mkdir "$W/layout.$n"
	"$TOOLS/layout" "$W/layout.$n" "$n" >>"$W/s.layout.$n"
	rm -rf "$W/layout.$n"
	[ "$n" -gt "$SMALL" ] && rm -rf "$r"
	return 0
}

mib() { awk -v k="$1" 'BEGIN { if (k != "") printf "%.0f MiB", k / 1024 }'; }
# grow LABEL: BIG's median over SMALL's, time and peak RSS
grow() {
	a=$(median "$1.$SMALL") b=$(median "$1.$BIG")
	ra=$(median "$1.$SMALL" 2) rb=$(median "$1.$BIG" 2)
	t=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0 && b != "")
	    printf "%.1f", b / a }')
	m=$(awk -v a="$ra" -v b="$rb" 'BEGIN { if (a > 0 && b != "")
	    printf "%.1f", b / a }')
	printf '%-34s %9s %8s  %9s %8s  %5sx %5sx  %s\n' "$2" "$(sec "$a")" \
	    "$(mib "$ra")" "$(sec "$b")" "$(mib "$rb")" "$t" "$m" \
	    "$(awk -v t="$t" -v m="$m" -v f="$BIG" -v s="$SMALL" 'BEGIN {
		lim = 1.1 * f / s; if (t == "" || m == "") print "n/a"
		else print (t <= lim && m <= lim) ? "PASS" : "MISS" }')"
}
# target LABEL SECONDS MIB: BIG's median against an absolute target
target() {
	t=$(median "$1.$BIG") m=$(median "$1.$BIG" 2)
	printf '   %-31s %-22s %s\n' "at $BIG: <= $2 s, <= $3 MiB" \
	    "$(sec "$t"), $(mib "$m")" "$(awk -v t="$t" -v m="$m" \
	    -v lt="$2" -v lm="$3" 'BEGIN { if (t == "") print "n/a"
		else print (t <= lt && m / 1024 <= lm) ? "PASS" : "MISS" }')"
}

LOAD=$(cut -d' ' -f1 /proc/loadavg)
workloads "$SMALL"
workloads "$BIG"
if [ "${SCALE_UPGRADE:-1}" = 1 ]; then
	log "rpm -U of dkim-keys-private, $SMALL and $BIG domains (minutes)"
	sh "$DKIMROT_SRC/tests/bench/upgrade.sh" "$SMALL" "$BIG" |
	    while read -r label s kib; do
		echo "$s $kib" >>"$W/s.$label"
	done
fi
rate=$("$TOOLS/osslrate" ed25519 100000 2048)

echo
echo "dkimrot scale: $(nproc) cores, load average $LOAD at start, $(cut -d' ' -f1 /proc/loadavg) at the end; Ed25519 domains; medians of $RUNS runs (one at $BIG for the first rotate and package)"
echo
printf '%-34s %18s  %18s  %13s  %s\n' "workload" "$SMALL domains" \
    "$BIG domains" "growth" "<= $(awk -v f="$BIG" -v s="$SMALL" \
    'BEGIN { print 1.1 * f / s }')x"
grow first "first rotate, both RPMs"
target first 30 512
grow idle "rotate, nothing due"
target idle 1 128
grow pkg "package"
target pkg 10 256
if [ -s "$W/s.upgrade.$SMALL" ]; then
	grow upgrade "rpm -U dkim-keys-private (~1%)"
	target upgrade 60 1024
fi
if [ -s "$W/s.upgrade30.$SMALL" ]; then
	grow upgrade30 "the same, packaging.parts 30"
	target upgrade30 60 1024
	grow install30 "(its first install, 31 packages)"
	grow install "(the first install, one package)"
fi
printf '%-34s %9s           %9s\n' "the layout's floor (files alone)" \
    "$(sec "$(median "layout.$SMALL")")" "$(sec "$(median "layout.$BIG")")"
printf '%-34s %s keys/s (%s s for %s keys)\n' "OpenSSL in process, 1 thread" \
    "$rate" "$(awk -v r="$rate" -v n="$BIG" 'BEGIN { printf "%.2f", n / r }')" \
    "$BIG"
