#!/bin/sh
# Two rotates at once: the one that gets the lock works; the other exits
# 75 naming its pid, or with --wait waits and then finds nothing left to
# do.  The result is the result of one run: the same keys.yaml as a
# repository rotated once, one commit.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
R=$tmp/repo
ONE=$tmp/one
now=2027-01-01T00:00:00Z

# Slow key generation (4096-bit RSA) keeps the first run busy for a
# while; the others are started while it holds the lock.  The setup and
# the first run are not under valgrind (DKIMROT_WRAP): too slow there.
for r in "$R" "$ONE"; do
	"$DKIMROT" -C "$r" --now $now init -d a.example -d b.example -d c.example \
	    >/dev/null 2>&1
	sed -i 's/rsa_bits: 2048/rsa_bits: 4096/' "$r/dkimrot.yaml"
	rm "$r/.git/hooks/post-commit"
	gitq -C "$r" commit -qam "big keys: slow on purpose"
done
"$DKIMROT" -C "$ONE" --now $now rotate >/dev/null 2>&1
before=$(git -C "$R" rev-list --count HEAD)

"$DKIMROT" -C "$R" --now $now rotate >"$tmp/a.out" 2>"$tmp/a.err" &
a=$!
i=0
while [ "$(cat "$R/.git/dkimrot.lock" 2>/dev/null)" != "$a" ] &&
    [ $i -lt 1000 ]; do
	sleep 0.01
	i=$((i + 1))
done
check "the first run holds the lock" \
    [ "$(cat "$R/.git/dkimrot.lock" 2>/dev/null)" = "$a" ]
# Held still while the others start: under valgrind a start takes
# seconds, and the keys could be made before the second run looked.
kill -STOP $a
dk -C "$R" --now $now rotate --wait 600 >"$tmp/c.out" 2>"$tmp/c.err" &
c=$!
expect "a second run without --wait exits 75 naming the holder" 75 \
    "dkimrot: repository '$R' is locked by another dkimrot (pid $a); waited 0 s" \
    -C "$R" --now $now rotate
kill -CONT $a
wait $a
arc=$?
wait $c
crc=$?
check "the first run rotated every domain" eval \
    '[ $arc = 0 ] && [ "$(wc -l <"$tmp/a.out")" = 3 ]'
check "the run that waited exited 0, finding nothing to do" eval \
    '[ $crc = 0 ] && [ ! -s "$tmp/c.out" ] && [ ! -s "$tmp/c.err" ]'
check "one commit" \
    [ "$(git -C "$R" rev-list --count HEAD)" = $((before + 1)) ]
same1() {
	for d in a b c; do
		same "$ONE/keys/$d.example/keys.yaml" \
		    "$R/keys/$d.example/keys.yaml" || return 1
	done
}
check "keys.yaml as after one run" same1
check "nothing uncommitted, no journal" eval \
    '[ -z "$(git -C "$R" status --porcelain)" ] &&
    [ ! -e "$R/.git/dkimrot.dirty" ]'
echo "1..$n"
