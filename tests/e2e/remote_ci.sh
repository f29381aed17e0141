#!/bin/sh
# CI mode (docs/design.md §14): from a fresh clone of the shared key
# repository, without the hook, 'rotate --package' rotates, pushes and
# builds the packages of the pushed commit in one command; two CI runs at
# the same time: one wins, the other loses the race cleanly (its commit
# dropped, nothing pushed twice) and both build byte-identical packages
# of the one commit the remote has.  The remote is a bare repository
# served by git daemon on 127.0.0.1.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/gitd.sh"
trap 'gitd_stop; rm -rf "$tmp"' EXIT INT TERM
umask 077
t1=2026-11-22T13:15:00Z
t2=2026-11-23T13:15:00Z

mkdir "$tmp/srv"
gitq init -q --bare -b main "$tmp/srv/keys.git"
git -C "$tmp/srv/keys.git" config receive.denyNonFastForwards true
gitd_start "$tmp/srv" || bail "git daemon did not start"
url=git://127.0.0.1:$GITD_PORT/keys.git
remote_head() { git -C "$tmp/srv/keys.git" rev-parse main; }
# vcs RPM: the commit a package was built from
vcs() { rpm -qp --qf '%{VCS}' "$1" 2>/dev/null; }

# The key repository, made once by an admin and pushed.
S=$tmp/seed
dk -C "$S" --now $t1 init --no-sign -d example.com -d example.org \
    >/dev/null 2>&1 || bail "init failed"
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e "/^  author:/a\\  remote: $url" "$S/dkimrot.yaml"
gitq -C "$S" commit -qam "share the key repository"
gitq -C "$S" push -q "$url" main 2>/dev/null || bail "seed push failed"

# ci DIR: what a CI job does (hooks/gitlab-ci.yml)
ci() {
	gitq clone -q "$url" "$1" 2>/dev/null && chmod -R go-rwx "$1" &&
	    dk -C "$1" --now "$2" rotate --package >"$1.out" 2>"$1.err"
}

# --- one CI run
ci "$tmp/c1" $t1
check "a CI run from a fresh clone succeeds" [ $? = 0 ]
check "it has no hook" [ ! -e "$tmp/c1/.git/hooks/post-commit" ]
check "it made new keys" \
    grep -qx 'example.com: +20261122131500 pending (rsa 1024)' "$tmp/c1.out"
check "and pushed them" \
    [ "$(remote_head)" = "$(git -C "$tmp/c1" rev-parse HEAD)" ]
v=$(git -C "$tmp/c1" rev-list --first-parent --count HEAD)
p1=$tmp/c1/rpms/private/dkim-keys-private-$v-1.noarch.rpm
check "it built the private package of the pushed commit" \
    [ "$(vcs "$p1")" = "$(remote_head)" ]
check "and the public one" [ "$(vcs \
    "$tmp/c1/rpms/public/dkim-keys-public-$v-1.noarch.rpm")" = "$(remote_head)" ]

# --- two CI runs at the same time
# The server holds every push a moment before taking it, so that both
# runs have fetched and committed before either push lands.
cat >"$tmp/srv/keys.git/hooks/pre-receive" <<'EOF'
#!/bin/sh
sleep 2
EOF
chmod 755 "$tmp/srv/keys.git/hooks/pre-receive"
before=$(remote_head)
gitq clone -q "$url" "$tmp/x" 2>/dev/null
gitq clone -q "$url" "$tmp/y" 2>/dev/null
chmod -R go-rwx "$tmp/x" "$tmp/y"
dk -C "$tmp/x" --now $t2 rotate --package >"$tmp/x.out" 2>"$tmp/x.err" &
px=$!
dk -C "$tmp/y" --now $t2 rotate --package >"$tmp/y.out" 2>"$tmp/y.err" &
py=$!
wait $px
rx=$?
wait $py
ry=$?
check "both CI runs succeed" eval '[ $rx = 0 ] && [ $ry = 0 ]'
check "the remote took exactly one commit" \
    [ "$(git -C "$tmp/srv/keys.git" rev-list --count "$before..main")" = 1 ]
lost=0
for h in x y; do
	grep -q "another host pushed to '$url' first" "$tmp/$h.err" &&
	    lost=$((lost + 1))
done
check "one run lost the race and said so" [ $lost = 1 ]
check "the loser planned again" \
    grep -qx "dkimrot: warning: planning again from the remote's head (attempt 2 of 5)" \
    "$tmp/x.err" "$tmp/y.err"
check "both hosts are at the remote's head" \
    eval '[ "$(git -C "$tmp/x" rev-parse HEAD)" = "$(remote_head)" ] &&
    [ "$(git -C "$tmp/y" rev-parse HEAD)" = "$(remote_head)" ]'
check "neither has changes left" \
    eval '[ -z "$(git -C "$tmp/x" status --porcelain)" ] &&
    [ -z "$(git -C "$tmp/y" status --porcelain)" ]'
v=$(git -C "$tmp/x" rev-list --first-parent --count HEAD)
same_pkgs=1
for kind in private public; do
	fx=$tmp/x/rpms/$kind/dkim-keys-$kind-$v-1.noarch.rpm
	fy=$tmp/y/rpms/$kind/dkim-keys-$kind-$v-1.noarch.rpm
	[ "$(vcs "$fx")" = "$(remote_head)" ] || same_pkgs=0
	cmp -s "$fx" "$fy" || same_pkgs=0
done
check "both built byte-identical packages of the pushed commit" \
    [ $same_pkgs = 1 ]
bad=0
for f in $(find "$tmp/x/rpms" "$tmp/y/rpms" -name '*.rpm'); do
	git -C "$tmp/srv/keys.git" merge-base --is-ancestor "$(vcs "$f")" \
	    main 2>/dev/null || bad=1
done
check "every package either run built is of a pushed commit" [ $bad = 0 ]

gitd_stop
echo "1..$n"
