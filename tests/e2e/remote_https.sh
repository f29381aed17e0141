#!/bin/sh
# git.remote over https (docs/design.md §14): git http-backend behind a
# TLS server of the test's own on 127.0.0.1 (tests/lib/githttps.py) with
# basic authentication and a throwaway CA.  The first push to an empty
# remote, push, fetch and fast-forward with git.credentials and
# git.ca_file; a wrong password, a credential file others can read and
# an untrusted certificate refused; the password in no output, log,
# commit or git configuration.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
srv_pid=
stop() {
	[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null &&
	    { wait "$srv_pid"; } 2>/dev/null
	srv_pid=
}
trap 'stop; rm -rf "$tmp"' EXIT INT TERM
umask 077
t1=2026-11-22T13:15:00Z
t2=2026-11-23T13:15:00Z
t3=2026-12-22T13:15:00Z

mkdir "$tmp/srv"
gitq init -q --bare -b main "$tmp/srv/keys.git"
git -C "$tmp/srv/keys.git" config http.receivepack true
git -C "$tmp/srv/keys.git" config receive.denyNonFastForwards true
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=DNS:127.0.0.1,IP:127.0.0.1 \
    -keyout "$tmp/tls.key" -out "$tmp/ca.pem" 2>/dev/null ||
    bail "no certificate"
/usr/bin/python3 "$DKIMROT_SRC/tests/lib/githttps.py" "$tmp/srv" \
    "$tmp/ca.pem" "$tmp/tls.key" ci:s3cr3t-t0ken "$tmp/port" \
    2>"$tmp/server.log" &
srv_pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$tmp/port" ] || bail "https server did not start"
url=https://127.0.0.1:$(cat "$tmp/port")/keys.git
remote_head() { git -C "$tmp/srv/keys.git" rev-parse main; }
printf 'ci:s3cr3t-t0ken\n' >"$tmp/cred"

A=$tmp/a B=$tmp/b
dk -C "$A" --now $t1 init --no-sign -d example.com >/dev/null 2>&1 ||
    bail "init failed"
rm "$A/.git/hooks/post-commit"
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e "/^  author:/a\\  remote: $url\\n  credentials: $tmp/cred\\n  ca_file: $tmp/ca.pem" \
    "$A/dkimrot.yaml"
gitq -C "$A" commit -qam "share the key repository over https"

# --- the first push, to an empty remote
dk -C "$A" --now $t1 rotate >"$tmp/a1.out" 2>"$tmp/a1.err"
st=$?
check "rotate makes the remote's branch with its first push" eval '[ $st = 0 ] &&
    [ "$(remote_head)" = "$(git -C "$A" rev-parse HEAD)" ]'
check "the configuration commit went with it" \
    [ "$(git -C "$tmp/srv/keys.git" log -1 --skip=1 --format=%s main)" = \
    "share the key repository over https" ]

# --- fetch and fast-forward
gitq clone -q "$tmp/srv/keys.git" "$B"
chmod -R go-rwx "$B"
dk -C "$B" --now $t2 rotate >"$tmp/b1.out" 2>"$tmp/b1.err"
st=$?
check "a second host rotates and pushes over https" eval '[ $st = 0 ] &&
    [ "$(remote_head)" = "$(git -C "$B" rev-parse HEAD)" ]'
dk -C "$A" --now $t2 rotate >"$tmp/a2.out" 2>"$tmp/a2.err"
check "the first host fast-forwards over https" grep -qx \
    "dkimrot: fast-forwarded 'main' by 1 commit from '$url'" "$tmp/a2.err"

# --- refusals
head=$(git -C "$A" rev-parse HEAD)
printf 'ci:wrong\n' >"$tmp/cred"
expect "a wrong password is refused, offered once" 1 \
    "dkimrot: cannot fetch from '$url': the remote refused the configured credentials" \
    -C "$A" --now $t3 rotate
printf 'ci:s3cr3t-t0ken\n' >"$tmp/cred"
chmod 644 "$tmp/cred"
expect "a credential file others can read is refused" 1 \
    "dkimrot: cannot fetch from '$url': git.credentials '$tmp/cred' must be a regular file of this user closed to group and others (chmod 600 '$tmp/cred')" \
    -C "$A" --now $t3 rotate
chmod 600 "$tmp/cred"
sed -i '/^  ca_file:/d' "$A/dkimrot.yaml"
dk -C "$A" --now $t3 rotate >"$tmp/a3.out" 2>"$tmp/a3.err"
st=$?
check "a certificate no trusted CA signed is refused" eval '[ $st = 1 ] &&
    grep -q "^dkimrot: cannot fetch from '\''$url'\'': " "$tmp/a3.err"'
gitq -C "$A" checkout -q dkimrot.yaml
check "nothing was changed" eval '[ "$(git -C "$A" rev-parse HEAD)" = "$head" ] &&
    [ -z "$(git -C "$A" status --porcelain)" ]'
dk -C "$A" --now $t3 -q rotate >"$tmp/a4.out" 2>"$tmp/a4.err"
st=$?
check "with all put right, the run succeeds" eval '[ $st = 0 ] &&
    [ "$(remote_head)" = "$(git -C "$A" rev-parse HEAD)" ]'

# --- no secret anywhere
leak=0
for f in "$tmp"/*.out "$tmp"/*.err "$tmp/.err" "$tmp/.out" \
    "$A/.git/config" "$B/.git/config"; do
	grep -qF "s3cr3t-t0ken" "$f" && leak=1
done
git -C "$tmp/srv/keys.git" log -p --all | grep -qF "s3cr3t-t0ken" && leak=1
check "the password is in no output, commit or git configuration" \
    [ $leak = 0 ]

stop
echo "1..$n"
