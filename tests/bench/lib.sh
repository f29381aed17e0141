# Helpers of the bench scripts (tests/bench/run.sh, scale.sh, year.sh),
# sourced after DKIMROT, DKIMROT_SRC and DKIMROT_BUILD are checked.

# bench_init NAME: the work directory W (samples go there; removed at
# exit), a HOME and git of its own, TIME
bench_init() {
	W=$(mktemp -d "$DKIMROT_BUILD/bench-$1.XXXXXX")
	trap 'rm -rf "$W"' EXIT INT TERM
	export HOME="$W" GIT_CONFIG_NOSYSTEM=1 LC_ALL=C
	TIME=/usr/bin/time
}

log() { printf '%s\n' "bench: $*" >&2; }

# --- timing: samples in $W/s.LABEL, one "seconds maxrss_kib" a line
# timed LABEL CMD...: runs CMD, records its wall time and peak RSS
timed() {
	label=$1
	shift
	if ! $TIME -f '%e %M' -o "$W/.t" "$@" >"$W/.out" 2>"$W/.err"; then
		log "$label failed:"
		cat "$W/.err" >&2
		exit 1
	fi
	cat "$W/.t" >>"$W/s.$label"
}

# mid: the median of the numbers on stdin, one a line; none: empty
mid() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "";
		else if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# median LABEL [FIELD]: the median of a label's samples
median() {
	[ -s "$W/s.$1" ] || { echo ""; return; }
	cut -d' ' -f"${2:-1}" "$W/s.$1" | mid
}

row() {	# what dkimrot ref refvalue ratio target result
	printf '%-50s %10s  %-26s %10s  %7s  %-10s %s\n' "$@"
}
sec() { [ -n "$1" ] && printf '%.2f s' "$1" || printf 'n/a'; }
ratio() {	# a b: a / b
	[ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" \
	    'BEGIN { printf "%.2fx", a / b }' || printf 'n/a'
}

verdict() {	# value op limit
	[ -n "$1" ] || { printf 'n/a'; return; }
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
	    ok = op == ">=" ? v >= l : v <= l; print ok ? "PASS" : "MISS" }'
}

# --- repositories: benchrepo_make, benchrepo_config
. "$DKIMROT_SRC/tests/lib/benchrepo.sh"
