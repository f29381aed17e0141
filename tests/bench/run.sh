#!/bin/sh
# make bench: dkimrot against the tools it replaces and against the limit
# (OpenSSL in process), on the workloads of a hosting platform.  Each
# workload and its references run in the same go, RUNS times (default 3,
# BENCH_RUNS=5 for more); the table shows medians and PASS/MISS per
# target.  Targets are printed, never asserted: this is not a test.
#
# The 10,000- and 1,000-domain states (Ed25519: setting up 10,000 RSA
# keys would take longer than the bench) are made once and kept in
# $DKIMROT_BUILD/bench-cache; BENCH_FRESH=1 (or rm -rf) makes them again.
set -eu

. "$DKIMROT_SRC/tests/lib/rpmbuild.sh"
# "run.sh --rpmbuild DIR...": the reference of workload 4, timed as one
# command
if [ "${1:-}" = --rpmbuild ]; then
	shift
	for d; do
		# gzip: what package writes (packaging.compression's default)
		rpmbuild_bb "$d" gzip
	done
	exit 0
fi

: "${DKIMROT:?}" "${DKIMROT_SRC:?}" "${DKIMROT_BUILD:?}"
RUNS=${BENCH_RUNS:-3}
TOOLS=$DKIMROT_BUILD/bench
CACHE=$DKIMROT_BUILD/bench-cache
SETUP_VERSION=1
T0=2026-11-01T00:00:00Z
. "$DKIMROT_SRC/tests/bench/lib.sh"
bench_init work
[ -x $TIME ] || { echo "bench: /usr/bin/time is missing (sh scripts/setup.sh)" >&2; exit 1; }


# discard PATH: out of the way until the end, not deleted between timed
# runs.  ext4 without a journal (this VM's disk) skips inodes freed in
# the last minutes when it allocates new ones, scanning past each of
# them: deleting a run's 8,000 files made the next run's file creations
# 3 times slower, and would have made the bench measure that.
NTRASH=0
discard() {
	[ -e "$1" ] || return 0
	NTRASH=$((NTRASH + 1))
	mkdir -p "$W/trash"
	mv "$1" "$W/trash/$NTRASH"
}

# rate LABEL CMD...: CMD prints keys/s; recorded as such
rate() {
	label=$1
	shift
	"$@" >>"$W/s.$label"
}
# clone SRC DST: a copy to change.  Not hard links: dkimrot refuses a
# key repository file with a second name (docs/bad-input.md, custody).
clone() {
	cp -a "$1" "$2"
	rm -f "$2/.git/dkimrot.lock"
}

# The 10,000-domain state: first keys at T0, then a run every day; on
# day 10 about 400 domains a day come due (staggering), 1% in 6 hours.
BIG=$CACHE/big
SMALL=$CACHE/small
setup() {
	if [ -z "${BENCH_FRESH:-}" ] &&
	    [ "$(cat "$CACHE/stamp" 2>/dev/null)" = $SETUP_VERSION ]; then
		log "using the states in $CACHE (BENCH_FRESH=1 makes them again)"
		return
	fi
	rm -rf "$CACHE"
	mkdir -p "$CACHE"
	log "setting up 10,000 domains (once; kept in $CACHE)"
	benchrepo_make "$BIG" 10000 ed25519 2048
	"$DKIMROT" -C "$BIG" --now $T0 -q rotate >/dev/null
	for d in 02 03 04 05 06 07 08 09 10 11; do
		"$DKIMROT" -C "$BIG" --now 2026-11-${d}T00:00:00Z -q rotate \
		    >/dev/null
	done
	log "setting up 1,000 domains with the post-commit hook"
	"$DKIMROT" -C "$SMALL" --now $T0 init -d d1.example >/dev/null
	benchrepo_config "$SMALL" 1000 ed25519 2048
	"$DKIMROT" -C "$SMALL" --now $T0 -q rotate >/dev/null
	echo $SETUP_VERSION >"$CACHE/stamp"
}

# --- workload 1: key generation
# w1 ALG BITS N: rotate of N new domains, dkimrot keygen per key, the
# loops of openssl genpkey and opendkim-genkey, and the in-process rates
w1() {
	alg=$1 bits=$2 n=$3 tag=$1
	benchrepo_make "$W/w1-$tag" "$n" "$alg" "$bits"
	i=1
	while [ $i -le "$RUNS" ]; do
		discard "$W/r"
		cp -a "$W/w1-$tag" "$W/r"
		timed "$tag.rotate" "$DKIMROT" -C "$W/r" --now $T0 -q rotate
		[ "$(wc -l <"$W/.out")" = "$n" ] ||
		    { log "rotate made $(wc -l <"$W/.out") keys, not $n"; exit 1; }
		discard "$W/k" && mkdir "$W/k"
		kopt="-a $alg"
		[ "$alg" = rsa ] && kopt="$kopt -b $bits"
		timed "$tag.keygen" sh -c '
		    i=1; while [ $i -le $2 ]; do
			"$1" keygen -d d$i.example -s s$i $3 -D "$4" \
			    >/dev/null || exit 1
			i=$((i + 1)); done' sh "$DKIMROT" "$n" "$kopt" "$W/k"
		discard "$W/k" && mkdir "$W/k"
		if [ "$alg" = rsa ]; then
			opt="-algorithm RSA -pkeyopt rsa_keygen_bits:$bits"
		else
			opt="-algorithm ED25519"
		fi
		timed "$tag.openssl" sh -c '
		    i=1; while [ $i -le $2 ]; do
			openssl genpkey $3 -out "$1/k$i.pem" 2>/dev/null ||
			    exit 1
			i=$((i + 1)); done' sh "$W/k" "$n" "$opt"
		discard "$W/k" && mkdir "$W/k"
		if [ "$alg" = rsa ] && command -v opendkim-genkey >/dev/null
		then
			timed "$tag.opendkim" sh -c '
			    i=1; while [ $i -le $2 ]; do
				opendkim-genkey -b $3 -d d$i.example -s s$i \
				    -D "$1" || exit 1
				i=$((i + 1)); done' sh "$W/k" "$n" "$bits"
		fi
		# What the layout alone costs: the new domains' files, no
		# keys, no commit (tests/bench/layout.c).
		if [ "$alg" = ed25519 ]; then
			mkdir "$W/layout.$i"
			rate "$tag.layout" "$TOOLS/layout" "$W/layout.$i" "$n"
		fi
		# Rates over more keys than the workload: an RSA key takes
		# from 0.05 to 1 s (the prime search), so 50 keys give a rate
		# that varies by a fifth from run to run; 150 by a tenth.
		rn=150
		[ "$alg" = ed25519 ] && rn=100000
		rate "$tag.ossl1" "$TOOLS/osslrate" "$alg" "$rn" "$bits"
		rate "$tag.osslN" "$TOOLS/osslrate" "$alg" "$rn" "$bits" \
		    "$(nproc)"
		rate "$tag.batch" "$TOOLS/batchrate" "$alg" "$rn" "$bits"
		i=$((i + 1))
	done
}

# --- workloads 2 and 3: rotate 10,000 domains, nothing due and 1% due
w23() {
	clone "$BIG" "$W/idle"
	i=1
	while [ $i -le "$RUNS" ]; do
		timed idle "$DKIMROT" -C "$W/idle" --now 2026-11-11T00:00:00Z \
		    rotate
		[ ! -s "$W/.out" ] || { log "nothing-due run changed something"; exit 1; }
		discard "$W/due"
		clone "$BIG" "$W/due"
		timed due "$DKIMROT" -C "$W/due" --now 2026-11-11T06:00:00Z \
		    -q rotate
		wc -l <"$W/.out" >"$W/due.count"
		i=$((i + 1))
	done
}

# --- workload 4: package 10,000 domains, and rpmbuild -bb on the same
# spec and files with the same macros
# refpkg RPM DIR TEMPLATE POST: DIR/spec, DIR/root (the payload) and
# DIR/sde (SOURCE_DATE_EPOCH) from what dkimrot package built
refpkg() {
	rpm=$1 d=$2 t=$3	# $4: the %post command
	mkdir -p "$d/root" "$d/top/RPMS" "$d/top/BUILD" "$d/top/SPECS" \
	    "$d/fileattrs"
	: >"$d/fileattrs/none.attr"
	(cd "$d/root" && rpm2cpio "$rpm" | cpio -idm --quiet)
	rpm -qp --qf '[%{FILEMODES:octal} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEFLAGS} %{FILENAMES}\n]' \
	    "$rpm" 2>/dev/null | awk '{
		m = substr($1, length($1) - 3); kind = "f"
		if (substr($1, 1, 2) == "40") kind = "d"
		printf "%s:%s:%s:%s:%s%s\n", kind, $5, m, $2, $3,
		    (kind == "f" && $4 % 2) ? ":config" : "" }' >"$d/files"
	q() { rpm -qp --qf "$1" "$rpm" 2>/dev/null; }
	# What dkimrot package gave the spec: the "Domains (N): ..." part of
	# the description and the reload command of dkimrot.yaml.
	"$DKIMROT_BUILD/tools/rpmtool" render -t "$t" -n "$(q '%{NAME}')" \
	    -V "$(q '%{VERSION}')" -r 1 -c "$(q '%{VCS}')" \
	    -T "$(q '%{BUILDTIME}')" -P "$(q '%{PACKAGER}')" \
	    -d "$(q '%{DESCRIPTION}' | sed -n '/^Domains (/,$p')" -p "$4" \
	    -F "$d/files" >"$d/spec"
	q '%{BUILDTIME}' >"$d/sde"
}
w4() {
	clone "$BIG" "$W/pkg"
	i=1
	while [ $i -le "$RUNS" ]; do
		discard "$W/out"
		timed pkg "$DKIMROT" -C "$W/pkg" -q package --output "$W/out"
		if [ ! -d "$W/ref" ]; then
			refpkg "$W/out"/private/dkim-keys-private-*.rpm "$W/ref/priv" \
			    private \
			    "systemctl try-reload-or-restart opendkim.service 'opendkim@*.service'"
			refpkg "$W/out"/public/dkim-keys-public-*.rpm "$W/ref/pub" \
			    public "rndc reload"
			du -sh "$W/out"/private/dkim-keys-private-*.rpm \
			    "$W/out"/public/dkim-keys-public-*.rpm >"$W/pkg.sizes"
		fi
		rm -rf "$W/ref/priv/top/RPMS" "$W/ref/pub/top/RPMS"
		timed rpmbuild sh "$0" --rpmbuild "$W/ref/priv" "$W/ref/pub"
		# Like for like: rpmbuild with dkimrot's one-rule magic database
		# (packaging/magic.h), as file(1) compiles it.
		if [ ! -f "$W/ref/none.mgc" ]; then
			printf '0\tstring\t\\0dkimrot-none\tdkimrot-none\n' \
			    >"$W/ref/none"
			(cd "$W/ref" && file -C -m none)
		fi
		rm -rf "$W/ref/priv/top/RPMS" "$W/ref/pub/top/RPMS"
		timed rpmbuild1 env MAGIC="$W/ref/none.mgc" sh "$0" --rpmbuild \
		    "$W/ref/priv" "$W/ref/pub"
		# and the repodata of each package's own repository
		rm -rf "$W/ref/repo"
		mkdir -p "$W/ref/repo/private" "$W/ref/repo/public"
		cp "$W/ref/priv/top/RPMS"/*.rpm "$W/ref/repo/private/"
		cp "$W/ref/pub/top/RPMS"/*.rpm "$W/ref/repo/public/"
		# (what package writes: no sqlite, gzip, sha256, one worker)
		timed createrepo sh -c 'for d; do createrepo_c --quiet \
		    --no-database --general-compress-type=gz \
		    --checksum=sha256 --changelog-limit 10 --workers 1 "$d" ||
		    exit 1; done' sh "$W/ref/repo/private" "$W/ref/repo/public"
		i=$((i + 1))
	done
}

# --- workload 5: the whole cycle for 1,000 domains, nothing to generate:
# the day their keys activate (rotate, commit, hook: both RPMs, repodata)
w5() {
	i=1
	while [ $i -le "$RUNS" ]; do
		discard "$W/cycle"
		cp -a "$SMALL" "$W/cycle"
		v0=$(ls "$W/cycle/rpms/public" | grep -c '^dkim-keys-public')
		timed cycle "$DKIMROT" -C "$W/cycle" --now 2026-11-02T00:00:00Z \
		    -q rotate
		[ "$(wc -l <"$W/.out")" = 1000 ] &&
		    [ "$(ls "$W/cycle/rpms/public" | grep -c '^dkim-keys-public')" -gt \
		    "$v0" ] && [ -f "$W/cycle/rpms/public/repodata/repomd.xml" ] ||
		    { log "the cycle did not build the packages"; exit 1; }
		i=$((i + 1))
	done
}

# --- the table
# percore BATCH SINGLE CORES: the batch's rate over the single thread's
# times the cores the batch got; 1.0 is perfect scaling
percore() {
	awk -v b="$1" -v r="$2" -v c="$3" \
	    'BEGIN { if (b != "" && r != "" && c > 0) printf "%.2f", b / (r * c) }'
}
# rates ALG: the batch's rate against one thread's, the target of
# 0.9 x cores, and OpenSSL's own rate on the same cores
rates() {
	r=$(median "$1.ossl1") b=$(median "$1.batch")
	got=$(median "$1.batch" 2) o=$(median "$1.osslN")
	want=$(awk -v c="$cores" -v r="$r" 'BEGIN { print 0.9 * c * r }')
	pc=$(percore "$b" "$r" "$got")
	row "   batch keygen rate, $cores threads ($got cores got)" "$b/s" \
	    "OpenSSL, 1 thread" "$r/s" "$(ratio "$b" "$r")" \
	    ">= $(awk -v c="$cores" 'BEGIN { print 0.9 * c }')x" \
	    "$(verdict "$b" ">=" "$want")"
	row "     per core it got (the machine's other load)" "$pc" "" "" "" \
	    ">= 0.9" "$(verdict "$pc" ">=" 0.9)"
	row "   OpenSSL alone, $cores threads, the same keys" "$o/s" \
	    "OpenSSL, 1 thread" "$r/s" "$(ratio "$o" "$r")" "" ""
	row "   the batch against it" "$(ratio "$b" "$o")" "" "" "" "" ""
}
table() {
	cores=$(nproc)
	m1=$(median rsa.rotate) o1=$(median rsa.opendkim)
	s1=$(median rsa.openssl) k1=$(median rsa.keygen)
	m2=$(median ed25519.rotate) s2=$(median ed25519.openssl)
	k2=$(median ed25519.keygen)
	echo
	echo "dkimrot bench: $cores cores ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM; load average $LOAD at start, $(cut -d' ' -f1 /proc/loadavg) at the end; median of $RUNS runs"
	echo
	row "workload" "dkimrot" "reference" "" "ratio" "target" "result"
	row "1a rotate 50 new domains, RSA-2048" "$(sec "$m1")" \
	    "opendkim-genkey loop" "$(sec "$o1")" "$(ratio "$o1" "$m1")" \
	    ">= 1.5x" "$(verdict "$(awk -v a="$o1" -v b="$m1" 'BEGIN { if (a != "" && b != "") print a / b }')" ">=" 1.5)"
	row "" "" "openssl genpkey loop" "$(sec "$s1")" \
	    "$(ratio "$s1" "$m1")" "" ""
	row "   dkimrot keygen, once per key" "$(sec "$k1")" \
	    "opendkim-genkey loop" "$(sec "$o1")" "$(ratio "$o1" "$k1")" "" ""
	rates rsa
	row "1b rotate 2,000 new domains, Ed25519" "$(sec "$m2")" \
	    "openssl genpkey loop (*)" "$(sec "$s2")" "$(ratio "$s2" "$m2")" \
	    ">= 50x" "$(verdict "$(awk -v a="$s2" -v b="$m2" 'BEGIN { if (a != "" && b != "") print a / b }')" ">=" 50)"
	l2=$(median ed25519.layout)
	row "   its files alone (the layout's floor)" "$(sec "$l2")" \
	    "openssl genpkey loop" "$(sec "$s2")" "$(ratio "$s2" "$l2")" "" ""
	row "   dkimrot keygen, once per key" "$(sec "$k2")" \
	    "openssl genpkey loop" "$(sec "$s2")" "$(ratio "$s2" "$k2")" "" ""
	rates ed25519
	idle=$(median idle) rss=$(median idle 2)
	row "2  rotate 10,000 domains, nothing due" "$(sec "$idle")" "" "" \
	    "" "<= 1 s" "$(verdict "$idle" "<=" 1)"
	row "   peak RSS" "$(awk -v k="$rss" 'BEGIN { printf "%.0f MiB", k / 1024 }')" \
	    "" "" "" "<= 100 MiB" "$(verdict "$rss" "<=" 102400)"
	row "3  rotate 10,000 domains, 1% due ($(cat "$W/due.count") keys)" \
	    "$(sec "$(median due)")" "" "" "" "" ""
	p=$(median pkg) rb=$(median rpmbuild)
	row "4  package 10,000 domains (2 RPMs + repo)" "$(sec "$p")" \
	    "rpmbuild -bb, 2 specs" "$(sec "$rb")" "$(ratio "$rb" "$p")" \
	    "<= rpmbuild" "$(verdict "$p" "<=" "$rb")"
	rb1=$(median rpmbuild1) cr=$(median createrepo)
	row "" "" "the same, one-rule magic" "$(sec "$rb1")" \
	    "$(ratio "$rb1" "$p")" "" ""
	rc1=$(awk -v a="$rb1" -v b="$cr" 'BEGIN { if (a != "" && b != "")
	    print a + b }')
	row "" "" "  + createrepo_c, 2 repos" "$(sec "$rc1")" \
	    "$(ratio "$rc1" "$p")" "<= both" "$(verdict "$p" "<=" "$rc1")"
	c=$(median cycle)
	row "5  whole cycle, 1,000 domains activate" "$(sec "$c")" "" "" "" \
	    "<= 3 s" "$(verdict "$c" "<=" 3)"
	echo
	echo "(*) opendkim-genkey (2.11) makes RSA keys only; for Ed25519 the"
	echo "    reference is one openssl genpkey per key (without the TXT record"
	echo "    opendkim-genkey would write, so cheaper than it would be)."
	echo "Package sizes: $(awk '{ printf "%s %s  ", $2, $1 }' "$W/pkg.sizes" | sed 's|[^ ]*/||g')"
}

LOAD=$(cut -d' ' -f1 /proc/loadavg)
setup
log "1a: 50 RSA-2048 keys"
w1 rsa 2048 50
log "1b: 2,000 Ed25519 keys"
w1 ed25519 2048 2000
log "2, 3: rotate 10,000 domains"
w23
log "4: package 10,000 domains"
w4
log "5: the whole cycle for 1,000 domains"
w5
table
