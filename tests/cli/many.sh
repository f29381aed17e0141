#!/bin/sh
# Many domains at once (the batch path of 'dkimrot rotate'): two runs at
# the same --now give the same keys.yaml files, output and commit (but
# the key material); first rotations are staggered over the rotate_every
# window, never before min_age + publish_lead; the progress line shows on
# a terminal only.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1
N=40
t0=2026-11-01T00:00:00Z

# repo DIR: a repository with N ed25519 domains and one dual domain
repo() {
	dk -C "$1" --now $t0 init -d dual.example >/dev/null || return 1
	rm "$1/.git/hooks/post-commit"
	awk -v n=$N '
	    /^  algorithms:/ { sub(/\[rsa\]/, "[ed25519]") }
	    /^  rsa_bits:/ { sub(/2048/, "1024") }
	    /^  - name: dual.example$/ {
		    print; print "    algorithms: [rsa, ed25519]"
		    for (i = 1; i <= n; i++) print "  - name: d" i ".example"
		    next }
	    { print }' "$1/dkimrot.yaml" >"$1/y" &&
	    mv "$1/y" "$1/dkimrot.yaml" &&
	    gitq -C "$1" commit -qam "$N domains"
}
# same_run NAME NOW: rotate A and B at NOW; same output, same commit
# message, same keys.yaml files, same list of files
same_run() {
	dk -C "$tmp/a" --now "$2" rotate >"$tmp/a.out" 2>"$tmp/a.err"
	ra=$?
	dk -C "$tmp/b" --now "$2" rotate >"$tmp/b.out" 2>"$tmp/b.err"
	rb=$?
	git -C "$tmp/a" log -1 --format=%B >"$tmp/a.msg"
	git -C "$tmp/b" log -1 --format=%B >"$tmp/b.msg"
	git -C "$tmp/a" ls-tree -r --name-only HEAD >"$tmp/a.ls"
	git -C "$tmp/b" ls-tree -r --name-only HEAD >"$tmp/b.ls"
	check "$1: same output, commit message and files in both runs" \
	    test_same $ra $rb
	check "$1: the same keys.yaml, byte for byte" \
	    diff -r -x '*.private' -x '*.txt' "$tmp/a/keys" "$tmp/b/keys"
}

test_same() {
	[ "$1" = 0 ] && [ "$2" = 0 ] && [ -s "$tmp/a.out" ] &&
	    same "$tmp/a.out" "$tmp/b.out" && same "$tmp/a.msg" "$tmp/b.msg" &&
	    same "$tmp/a.ls" "$tmp/b.ls"
}
differ() { ! cmp -s "$1" "$2"; }

repo "$tmp/a" && repo "$tmp/b"
check "two repositories with $N + 1 domains" [ $? = 0 ]
same_run "first keys" $t0
cp "$tmp/a.err" "$tmp/first.err"
check "the keys themselves differ" \
    differ "$tmp/a/keys/d1.example/20261101000000.txt" \
    "$tmp/b/keys/d1.example/20261101000000.txt"
# Plan order is configuration order, in the output and the message.
sed -n 's/^  - name: //p' "$tmp/a/dkimrot.yaml" >"$tmp/order"
cut -d: -f1 "$tmp/a.out" | uniq >"$tmp/got"
check "domains in configuration order" same "$tmp/order" "$tmp/got"
same_run "activation" 2026-11-02T00:00:00Z

# Daily runs for a month: on which day does each track get its second key?
: >"$tmp/days"
day=3
while [ $day -le 31 ]; do
	now=$(printf '2026-12-%02dT00:00:00Z' $((day - 30)))
	[ $day -le 30 ] && now=$(printf '2026-11-%02dT00:00:00Z' $day)
	dk -C "$tmp/a" --now "$now" -q rotate >"$tmp/out" || break
	grep -o ' +[0-9]*[re]* pending' "$tmp/out" |
	    sed "s/.*/$day/" >>"$tmp/days"
	day=$((day + 1))
done
check "every track (N + 2) got its second key within rotate_every" \
    [ $day.$(wc -l <"$tmp/days") = 32.$((N + 2)) ]
# Without staggering all 42 would come on day 31; with it they spread
# over days 6..30 (5 = min_age + publish_lead).
check "not one before min_age + publish_lead" \
    [ "$(sort -n "$tmp/days" | head -1)" -ge 6 ]
spread() {
	[ "$(sort -u "$tmp/days" | wc -l)" -ge 15 ] &&
	    [ "$(sort "$tmp/days" | uniq -c | sort -rn |
	    awk 'NR == 1 { print $1 }')" -le 5 ]
}
check "spread over many days, a few keys a day" spread

# The progress line: on a terminal (script(1) gives it one), not in a file.
repo "$tmp/c" >/dev/null
script -qec "'$DKIMROT' -C '$tmp/c' --now $t0 rotate >/dev/null" \
    /dev/null >"$tmp/tty" 2>&1
check "a terminal shows keys done/total, rate and time left" \
    grep -q "dkimrot: keys 42/42, [0-9.]*/s, [0-9]* s left" "$tmp/tty"
quiet_file() {
	grep -q '^dkimrot: committed' "$tmp/first.err" &&
	    ! grep -q 'keys [0-9]*/' "$tmp/first.err"
}
check "a file does not" quiet_file
echo "1..$n"
