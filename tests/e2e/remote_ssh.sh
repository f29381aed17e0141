#!/bin/sh
# git.remote over ssh (docs/design.md §14): a bare repository reached
# through Debian's OpenSSH sshd, started by this test on 127.0.0.1 and a
# port of its own, with a throwaway host key and client key.  Push,
# fetch, fast-forward, a rejected push planned again; the host key
# checked against git.known_hosts (unknown and changed keys refused, no
# prompt), a key file others can read refused, and the key never in any
# output, log or commit.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/sshd.sh"
trap 'sshd_stop; rm -rf "$tmp"' EXIT INT TERM
umask 077
t1=2026-11-22T13:15:00Z
t2=2026-11-23T13:15:00Z
t3=2026-12-22T13:15:00Z
t4=2026-12-23T13:15:00Z

mkdir "$tmp/srv" "$tmp/ssh"
gitq init -q --bare -b main "$tmp/srv/keys.git"
git -C "$tmp/srv/keys.git" config receive.denyNonFastForwards true
sshd_start "$tmp/ssh" || bail "sshd did not start"
url=ssh://$(id -un)@127.0.0.1:$SSHD_PORT$tmp/srv/keys.git
remote_head() { git -C "$tmp/srv/keys.git" rev-parse main; }
K=$tmp/ssh/id_ed25519

A=$tmp/a B=$tmp/b
dk -C "$A" --now $t1 init --no-sign -d example.com >/dev/null 2>&1 ||
    bail "init failed"
rm "$A/.git/hooks/post-commit"
# known_hosts relative to the repository, in .git: never committed.
cp "$tmp/ssh/known_hosts" "$A/.git/dkimrot-known_hosts"
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e "/^  author:/a\\  remote: $url\\n  ssh_key: $K\\n  known_hosts: .git/dkimrot-known_hosts" \
    "$A/dkimrot.yaml"
gitq -C "$A" commit -qam "share the key repository over ssh"
gitq -C "$A" push -q "$tmp/srv/keys.git" main || bail "seed push failed"

# --- push
dk -C "$A" --now $t1 rotate >"$tmp/a1.out" 2>"$tmp/a1.err"
st=$?
check "rotate pushes over ssh" eval '[ $st = 0 ] &&
    [ "$(remote_head)" = "$(git -C "$A" rev-parse HEAD)" ]'
check "and says so" grep -qx "dkimrot: pushed $(git -C "$A" rev-parse HEAD |
    cut -c1-12) to '$url'" "$tmp/a1.err"

# --- fetch and fast-forward
gitq clone -q "$tmp/srv/keys.git" "$B"
chmod -R go-rwx "$B"
cp "$tmp/ssh/known_hosts" "$B/.git/dkimrot-known_hosts"
dk -C "$B" --now $t2 -q rotate >"$tmp/b1.out" 2>"$tmp/b1.err"
st=$?
check "a second host rotates over ssh" eval '[ $st = 0 ] &&
    [ "$(remote_head)" = "$(git -C "$B" rev-parse HEAD)" ]'
dk -C "$A" --now $t2 rotate >"$tmp/a2.out" 2>"$tmp/a2.err"
check "the first host fetches and fast-forwards over ssh" grep -qx \
    "dkimrot: fast-forwarded 'main' by 1 commit from '$url'" "$tmp/a2.err"

# --- rejected, planned again
cat >"$tmp/srv/keys.git/hooks/pre-receive" <<EOF
#!/bin/sh
[ -e '$tmp/race' ] || exit 0
rm -f '$tmp/race'
unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY \\
    GIT_ALTERNATE_OBJECT_DIRECTORIES
c=\$(git commit-tree -p main -m "another host" main^{tree}) &&
    git update-ref refs/heads/main "\$c"
EOF
chmod 755 "$tmp/srv/keys.git/hooks/pre-receive"
: >"$tmp/race"
dk -C "$B" --now $t3 rotate >"$tmp/b2.out" 2>"$tmp/b2.err"
st=$?
check "a push rejected over ssh is planned again and pushed" eval '[ $st = 0 ] &&
    [ "$(git -C "$tmp/srv/keys.git" log -2 --format=%s main | tr '\''\n'\'' /)" = \
    "dkimrot rotate at $t3/another host/" ]'
check "the rejection was reported" \
    grep -q "another host pushed to '$url' first" "$tmp/b2.err"

# --- the host key
head=$(git -C "$A" rev-parse HEAD)
: >"$A/.git/dkimrot-known_hosts"
expect "an unknown host key is refused" 1 \
    "dkimrot: cannot fetch from '$url': '127.0.0.1' port $SSHD_PORT is not in git.known_hosts '$A/.git/dkimrot-known_hosts' (ssh-keyscan -p $SSHD_PORT 127.0.0.1 >>$A/.git/dkimrot-known_hosts, after checking the key)" \
    -C "$A" --now $t4 rotate
ssh-keygen -q -t ed25519 -N '' -f "$tmp/other" </dev/null
printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1-2 \
    "$tmp/other.pub")" >"$A/.git/dkimrot-known_hosts"
expect "a changed host key is refused" 1 \
    "dkimrot: cannot fetch from '$url': the host key of '127.0.0.1' port $SSHD_PORT does not match git.known_hosts '$A/.git/dkimrot-known_hosts': refused" \
    -C "$A" --now $t4 rotate
check "nothing was changed" eval '[ "$(git -C "$A" rev-parse HEAD)" = "$head" ] &&
    [ -z "$(git -C "$A" status --porcelain)" ]'
cp "$tmp/ssh/known_hosts" "$A/.git/dkimrot-known_hosts"

# --- the key file
chmod 644 "$K"
expect "a key file others can read is refused" 1 \
    "dkimrot: cannot fetch from '$url': git.ssh_key '$K' must be a regular file of this user closed to group and others (chmod 600 '$K')" \
    -C "$A" --now $t4 rotate
chmod 600 "$K"
cp "$tmp/other.pub" "$tmp/ssh/authorized_keys"
expect "a key the server does not take is refused, once" 1 \
    "dkimrot: cannot fetch from '$url': the remote refused the configured credentials" \
    -C "$A" --now $t4 rotate
cp "$K.pub" "$tmp/ssh/authorized_keys"
dk -C "$A" --now $t4 -q rotate >/dev/null 2>&1
st=$?
check "with the key authorized again, the run succeeds" eval '[ $st = 0 ] &&
    [ "$(remote_head)" = "$(git -C "$A" rev-parse HEAD)" ]'

# --- no secret anywhere
secret=$(sed -n 2p "$K")
leak=0
for f in "$tmp"/*.out "$tmp"/*.err "$tmp/.err" "$tmp/.out"; do
	grep -qF "$secret" "$f" && leak=1
done
git -C "$tmp/srv/keys.git" log -p --all | grep -qF "$secret" && leak=1
check "the ssh key is in no output and no commit" [ $leak = 0 ]

# --- the server down: try again later
sshd_stop
head=$(git -C "$A" rev-parse HEAD)
dk -C "$A" --now 2027-01-22T13:15:00Z rotate >"$tmp/down.out" \
    2>"$tmp/down.err"
check "a remote that does not answer is temporary (75)" [ $? = 75 ]
check "and says which" grep -q "^dkimrot: cannot fetch from '$url': " \
    "$tmp/down.err"
check "nothing was changed" eval '[ "$(git -C "$A" rev-parse HEAD)" = "$head" ] &&
    [ -z "$(git -C "$A" status --porcelain)" ]'
echo "1..$n"
