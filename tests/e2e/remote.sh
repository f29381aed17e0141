#!/bin/sh
# git.remote (docs/design.md §14) against a bare repository served by a
# real git daemon on 127.0.0.1 (git://, pushes enabled) and through a
# file:// URL: push, fetch, fast-forward, a diverged history refused, a
# push rejected because another host pushed first (dropped, planned
# again, pushed), giving up after DK_REMOTE_ATTEMPTS with 75, a run
# killed between its commit and its push, and no hook ever run on a
# commit the remote lacks.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/gitd.sh"
trap 'gitd_stop; rm -rf "$tmp"' EXIT INT TERM
umask 077
t1=2026-11-22T13:15:00Z
t2=2026-11-23T13:15:00Z
t3=2026-12-22T13:15:00Z
t4=2026-12-23T13:15:00Z

mkdir "$tmp/srv"
gitq init -q --bare -b main "$tmp/srv/keys.git"
gitd_start "$tmp/srv" || bail "git daemon did not start"
url=git://127.0.0.1:$GITD_PORT/keys.git
# The server's own refusal too: no host may rewrite the shared history.
git -C "$tmp/srv/keys.git" config receive.denyNonFastForwards true

# A post-commit hook that records the commits it is run on.
hook() {
	cat >"$1/.git/hooks/post-commit" <<EOF
#!/bin/sh
git rev-parse HEAD >>'$tmp/hooked.$2'
EOF
	chmod 755 "$1/.git/hooks/post-commit"
}
# remote_head: the shared branch as the server has it
remote_head() { git -C "$tmp/srv/keys.git" rev-parse main; }

A=$tmp/a B=$tmp/b
dk -C "$A" --now $t1 init --no-sign -d example.com >/dev/null 2>&1 ||
    bail "init failed"
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e "/^  author:/a\\  remote: $url" "$A/dkimrot.yaml"
gitq -C "$A" commit -qam "share the key repository"
hook "$A" a
gitq -C "$A" push -q "$url" main 2>/dev/null
check "the remote has the configuration" \
    [ "$(remote_head)" = "$(git -C "$A" rev-parse HEAD)" ]

# --- push
dk -C "$A" --now $t1 -q rotate >"$tmp/out" 2>"$tmp/err"
check "rotate with a remote succeeds" [ $? = 0 ]
check "it pushes its commit" \
    [ "$(remote_head)" = "$(git -C "$A" rev-parse HEAD)" ]
check "the tracking ref is the pushed commit" \
    [ "$(git -C "$A" rev-parse refs/remotes/dkimrot/main)" = "$(remote_head)" ]
check "the hook ran on the pushed commit" \
    [ "$(cat "$tmp/hooked.a")" = "$(remote_head)" ]

# --- fetch and fast-forward
gitq clone -q "$url" "$B" 2>/dev/null
hook "$B" b
dk -C "$B" --now $t2 rotate >"$tmp/out" 2>"$tmp/err"
check "a second host rotates" [ $? = 0 ]
check "it activates the first host's key" \
    grep -qx 'example.com: 20261122131500 pending -> active' "$tmp/out"
check "and pushes" [ "$(remote_head)" = "$(git -C "$B" rev-parse HEAD)" ]
dk -C "$A" --now $t2 rotate >"$tmp/out" 2>"$tmp/err"
st=$?
check "the first host fast-forwards to it, nothing to do" \
    eval '[ $st = 0 ] && [ ! -s "$tmp/out" ] &&
    [ "$(git -C "$A" rev-parse HEAD)" = "$(remote_head)" ]'
check "and says so" grep -qx \
    "dkimrot: fast-forwarded 'main' by 1 commit from '$url'" "$tmp/err"
check "its work tree is the commit's" \
    [ -z "$(git -C "$A" status --porcelain)" ]

# --- diverged
before=$(git -C "$B" rev-parse HEAD)
echo "local note" >"$B/NOTES"
gitq -C "$B" add NOTES && gitq -C "$B" commit -qm "a local commit"
local=$(git -C "$B" rev-parse HEAD)
dk -C "$A" --now $t3 -q rotate >/dev/null 2>&1
expect "a diverged history is refused" 1 \
    "dkimrot: 'main' and the remote's '$url' have diverged (1 and 1 commits of their own); reconcile them with git (git pull --rebase, git push) and run again" \
    -C "$B" --now $t3 -q rotate
check "nothing changed on the refusing host" \
    eval '[ "$(git -C "$B" rev-parse HEAD)" = "$local" ] &&
    [ -z "$(git -C "$B" status --porcelain)" ]'
dk -C "$B" --now $t3 status >"$tmp/out" 2>&1
check "status says it diverged" [ "$(head -1 "$tmp/out")" = \
    "remote '$url' branch 'main': diverged: ahead 1, behind 1" ]
gitq -C "$B" reset -q --hard "$before"
gitq -C "$B" switch -q -c elsewhere
expect "a HEAD on another branch than git.branch is refused" 1 \
    "dkimrot: HEAD of '$B' is on 'elsewhere', not on git.branch 'main' (git switch main)" \
    -C "$B" --now $t3 -q rotate
gitq -C "$B" switch -q main
dk -C "$B" --now $t3 status >"$tmp/out" 2>&1
check "status says it is behind" [ "$(head -1 "$tmp/out")" = \
    "remote '$url' branch 'main': behind 1" ]
dk -C "$B" --now $t3 status --json >"$tmp/out" 2>&1
check "status --json too" grep -qx " \"remote\": {\"url\": \"$url\", \"branch\": \"main\", \"fetched\": true, \"state\": \"behind\", \"ahead\": 0, \"behind\": 1}," "$tmp/out"

# --- rejected: another host pushes while this one plans
# The server moves the branch itself once, just before it takes the
# push, as a host that pushed a moment earlier would.
cat >"$tmp/srv/keys.git/hooks/pre-receive" <<EOF
#!/bin/sh
[ -e '$tmp/race' ] || exit 0
[ -e '$tmp/race.always' ] || rm -f '$tmp/race'
# Outside the push's quarantine, as another receive-pack would write.
unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY \
    GIT_ALTERNATE_OBJECT_DIRECTORIES
# An identity of its own: git daemon's HOME may have none.
c=\$(git -c user.name=other -c user.email=other@host.test commit-tree \
    -p main -m "another host" main^{tree}) &&
    git update-ref refs/heads/main "\$c"
EOF
chmod 755 "$tmp/srv/keys.git/hooks/pre-receive"
: >"$tmp/race"
: >"$tmp/hooked.b"
dk -C "$B" --now $t4 rotate >"$tmp/out" 2>"$tmp/err"
check "a rejected push is planned again and pushed" [ $? = 0 ]
grep 'another host pushed' "$tmp/err" >/dev/null
check "the rejection is reported" [ $? = 0 ]
check "the plan is made again" grep -qx \
    "dkimrot: warning: planning again from the remote's head (attempt 2 of 5)" \
    "$tmp/err"
check "the remote has the other host's commit, then this one's" \
    [ "$(git -C "$tmp/srv/keys.git" log -2 --format=%s main | tr '\n' /)" = \
    "dkimrot rotate at $t4/another host/" ]
check "the hook ran once, on the pushed commit" \
    [ "$(cat "$tmp/hooked.b")" = "$(remote_head)" ]
check "the work tree is clean" [ -z "$(git -C "$B" status --porcelain)" ]
dk -C "$B" --now $t4 status >"$tmp/out" 2>&1
check "status says it is up to date" [ "$(head -1 "$tmp/out")" = \
    "remote '$url' branch 'main': up to date" ]

# --- giving up
: >"$tmp/race" && : >"$tmp/race.always"
: >"$tmp/hooked.b"
gitq -C "$B" fetch -q "$url" main 2>/dev/null
t5=2027-01-22T13:15:00Z
dk -C "$B" --now $t5 rotate >"$tmp/out" 2>"$tmp/err"
check "always losing gives up with 75" [ $? = 75 ]
check "after 5 attempts" grep -qx \
    "dkimrot: other hosts pushed first 5 times; giving up, the next run tries again" \
    "$tmp/err"
check "no commit of its own is left" \
    [ "$(git -C "$B" log -1 --format=%s)" = "another host" ]
check "no new key file is left" \
    [ -z "$(git -C "$B" status --porcelain --ignored keys)" ]
check "no hook ran" [ ! -s "$tmp/hooked.b" ]
rm -f "$tmp/race" "$tmp/race.always"

# --- killed between the commit and the push
if [ -n "${DKIMROT_FAULTS:-}" ]; then
	DKIMROT_FAULT=after-commit "$DKIMROT_FAULTS" -C "$B" --now $t5 -q \
	    rotate >/dev/null 2>&1
	check "a run killed after its commit" [ $? = 99 ]
	dead=$(git -C "$B" rev-parse HEAD)
	check "left a commit the remote lacks" \
	    not git -C "$tmp/srv/keys.git" cat-file -e "$dead" 2>/dev/null
	dk -C "$B" --now $t5 rotate >"$tmp/out" 2>"$tmp/err"
	check "the next run succeeds" [ $? = 0 ]
	check "it dropped the dead run's commit" grep -qx \
	    "dkimrot: warning: a dkimrot run died before its commit reached the remote; its commit is dropped" \
	    "$tmp/err"
	check "and pushed a new one on the remote's head" \
	    eval '[ "$(remote_head)" = "$(git -C "$B" rev-parse HEAD)" ] &&
	    [ "$(git -C "$B" rev-parse HEAD)" != "$dead" ]'
	check "the dead commit was never hooked" not grep -qx "$dead" \
	    "$tmp/hooked.b"
fi

# --- import and revoke lose the race the same way, and plan again
: >"$tmp/race"
sel=$(dk -C "$B" --now $t5 status 2>/dev/null | awk '$4 == "active" { print $1 }')
dk -C "$B" --now 2027-01-22T14:15:00Z revoke -d example.com -s "$sel" \
    >"$tmp/out" 2>"$tmp/err"
st=$?
check "a revoke that lost the race is done again and pushed" eval '[ $st = 0 ] &&
    [ "$(git -C "$tmp/srv/keys.git" log -2 --format=%s main | tr '\''\n'\'' /)" = \
    "dkimrot revoke/another host/" ]'
check "and said so" grep -qx \
    "dkimrot: warning: planning again from the remote's head (attempt 2 of 5)" \
    "$tmp/err"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 \
    -out "$tmp/import.pem" 2>/dev/null
: >"$tmp/race"
dk -C "$B" --now 2027-01-22T15:15:00Z import -d example.com -s imported \
    --private "$tmp/import.pem" >"$tmp/out" 2>"$tmp/err"
st=$?
check "an import that lost the race is done again and pushed" eval '[ $st = 0 ] &&
    [ "$(git -C "$tmp/srv/keys.git" log -2 --format=%s main | tr '\''\n'\'' /)" = \
    "dkimrot import/another host/" ] &&
    git -C "$tmp/srv/keys.git" cat-file -e main:keys/example.com/imported.txt'
check "its work tree is clean" [ -z "$(git -C "$B" status --porcelain)" ]

# --- every hooked commit is on the remote
bad=0
for c in $(cat "$tmp/hooked.a" "$tmp/hooked.b"); do
	git -C "$tmp/srv/keys.git" merge-base --is-ancestor "$c" main || bad=1
done
check "every commit a hook ran on is on the remote" [ $bad = 0 ]

# --- file://
F=$tmp/f
gitq clone -q "$tmp/srv/keys.git" "$F" 2>/dev/null
sed -i "s|^  remote: .*|  remote: file://$tmp/srv/keys.git|" "$F/dkimrot.yaml"
gitq -C "$F" commit -qam "the remote by path" &&
    gitq -C "$F" push -q origin main 2>/dev/null
t6=2027-02-22T13:15:00Z
dk -C "$A" --now $t6 -q rotate >/dev/null 2>&1
check "through git://, the first host takes the file:// change" \
    grep -q "remote: file://" "$A/dkimrot.yaml"
dk -C "$F" --now 2027-02-23T13:15:00Z -q rotate >"$tmp/out" 2>&1
st=$?
check "a host on file:// fast-forwards, rotates and pushes" eval '[ $st = 0 ] &&
    [ "$(remote_head)" = "$(git -C "$F" rev-parse HEAD)" ]'

# --- package: only what the remote has
rm -f "$A/.git/hooks/post-commit"
dk -C "$A" --now 2027-02-24T13:15:00Z -q rotate >/dev/null 2>&1
echo "# notes" >"$A/NOTES"
gitq -C "$A" add NOTES && gitq -C "$A" commit -qm "a local commit"
c=$(git -C "$A" rev-parse HEAD | cut -c1-12)
expect "package refuses a commit the remote lacks" 1 \
    "dkimrot: commit $c is not on the remote 'file://$tmp/srv/keys.git'; not packaged (a commit is packaged once it is pushed)" \
    -C "$A" -q package
check "and builds nothing" [ -z "$(find "$A/rpms" -name '*.rpm' 2>/dev/null)" ]
gitq -C "$A" push -q "$url" main 2>/dev/null
dk -C "$A" -q package >/dev/null 2>"$tmp/err"
st=$?
check "once pushed by hand, package fetches and builds it" \
    eval '[ $st = 0 ] && [ -n "$(find "$A/rpms" -name "*-$(git -C "$A" rev-list \
    --first-parent --count HEAD)-1.noarch.rpm")" ]'

gitd_stop
echo "1..$n"
