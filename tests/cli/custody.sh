#!/bin/sh
# Key custody (docs/design.md §9): the key repository is a vault.  Under root's
# usual umask 022, init, rotate and package (from the hook and by hand)
# and a git gc by hand leave nothing another local user can read, the
# retired keys in history included, while the signer's user still reads
# its keys from the installed private package.  A repository others can
# open, or another user owns, is refused by every command that reads
# keys, naming the path and the fix, and nothing is changed.  No core
# dumps: a run holding keys is undumpable with RLIMIT_CORE 0.
#
# Needs root (other users, chown, rpm --root); elsewhere all skipped.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/rpmroot.sh"
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1
R=$tmp/repo
T=2026-11-01T00:00:00Z
PLAN=28

echo "1..$PLAN"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null ||
    ! command -v rpm >/dev/null; then
	i=0
	while [ $i -lt $PLAN ]; do
		i=$((i + 1))
		echo "ok $i # SKIP needs root, setpriv and rpm"
	done
	exit 0
fi

# The signer's user, as Debian's opendkim package makes it; removed at
# the end if this test made it.
made_user=
if ! getent passwd opendkim >/dev/null; then
	useradd --system --user-group --no-create-home \
	    --shell /usr/sbin/nologin opendkim || bail "cannot add opendkim"
	made_user=1
fi
cleanup() {
	[ -n "$made_user" ] && userdel opendkim >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# as USER CMD...: CMD as USER (no groups), with a HOME of its own and
# git trusting any repository: only the file modes may stop it.
mkdir "$tmp/home"
chmod 1777 "$tmp/home"
as() {
	u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups \
	    env HOME="$tmp/home" GIT_CONFIG_NOSYSTEM=1 \
	    GIT_CONFIG_PARAMETERS="'safe.directory=*'" "$@"
}

umask 022
# Reachable by everyone (mktemp made it 0700), as /srv or /var/lib are.
chmod 755 "$tmp"

# --- the vault ------------------------------------------------------------
dk -C "$R" --now $T init -d a.example -d b.example >/dev/null 2>&1
check "init makes REPO and .git 0700 under umask 022" eval \
    '[ "$(stat -c %a "$R" "$R/.git" | paste -sd" ")" = "700 700" ]'
sed -i -e 's|^  mta_reload: .*|  mta_reload: "true"|' \
    -e 's|^  # dns_reload: .*|  dns_reload: "true"|' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "reloads for the test's rpm root"
# Keys come, sign and retire: the first ones leave the work tree, not
# the history.  Every commit runs the hook's package.
for t in 2026-11-01T00:00:00Z 2026-11-03T00:00:00Z 2026-12-15T00:00:00Z \
    2026-12-17T00:00:00Z 2027-02-01T00:00:00Z 2027-02-03T00:00:00Z \
    2027-03-20T00:00:00Z; do
	dk -C "$R" --now $t rotate >/dev/null 2>"$tmp/err" ||
	    { diag "$tmp/err"; bail "rotate at $t failed"; }
done
dk -C "$R" --now 2027-03-20T00:00:00Z package >/dev/null 2>&1
# git by hand, under umask 022: its packs are 0444, below the 0700 top.
git -C "$R" gc -q
git -C "$R" rev-list --objects --all | awk '/\.private$/ { print $1 }' |
    sort -u >"$tmp/blobs"
git -C "$R" ls-tree -r HEAD | awk '/\.private$/ { print $3 }' |
    sort -u >"$tmp/head"
check "history holds private keys no longer in the work tree" eval \
    '[ -n "$(comm -23 "$tmp/blobs" "$tmp/head")" ] &&
    ls "$R"/.git/objects/pack/*.pack >/dev/null 2>&1'
: >"$tmp/got"
while read -r b; do
	as nobody git -C "$R" cat-file -p "$b" >>"$tmp/got" 2>/dev/null
done <"$tmp/blobs"
check "nobody: git cat-file reads no key, retired keys included" \
    test ! -s "$tmp/got"
as nobody find "$R" -readable >"$tmp/got" 2>/dev/null
check "nobody: find -readable finds nothing in the repository" \
    test ! -s "$tmp/got"
: >"$tmp/got"
for f in "$R"/keys/*/*.private "$R"/.git/objects/pack/*.pack; do
	as nobody cat "$f" >>"$tmp/got" 2>/dev/null
done
check "nobody: cat reads neither a key file nor a pack" test ! -s "$tmp/got"

# The signer still gets its keys: the private package into an rpm root
# whose passwd knows opendkim, as the mail server's does.
W=$tmp/root
rpmroot_make "$W" >/dev/null 2>&1 || bail "cannot make the rpm root"
mkdir -p "$W/etc"
getent passwd root opendkim >"$W/etc/passwd"
getent group root opendkim >"$W/etc/group"
pkg=$(find "$R" -name 'dkim-keys-private-*.rpm' | sort -V | tail -n 1)
check "rpm --root -i of the private package" eval \
    'rpm --root "$W" -i --nodeps "$pkg" >"$tmp/out" 2>&1'
KD=$W/etc/dkim-keys/keys
(cd "$KD" && find . -name '*.private' | sed 's|^\./||' | sort) \
    >"$tmp/installed"
check "it installs keys" test -s "$tmp/installed"
: >"$tmp/modes"
: >"$tmp/want"
: >"$tmp/got"
while read -r f; do
	stat -c "%a %U:%G $f" "$KD/$f" >>"$tmp/modes"
	echo "600 opendkim:opendkim $f" >>"$tmp/want"
done <"$tmp/installed"
check "installed keys are 0600 opendkim:opendkim" same "$tmp/want" \
    "$tmp/modes"
: >"$tmp/want"
while read -r f; do
	echo "$(git -C "$R" show "HEAD:keys/$f" | sha256sum | cut -c1-64) $f"
done <"$tmp/installed" >"$tmp/want"
# Read as opendkim (not through root's redirection), checksums only.
while read -r f; do
	as opendkim sh -c 'sha256sum <"$1" | cut -c1-64' sh "$KD/$f" |
	    tr '\n' ' '
	echo "$f"
done <"$tmp/installed" >"$tmp/got"
check "opendkim reads its installed keys: the committed bytes" \
    same "$tmp/want" "$tmp/got"
: >"$tmp/got"
while read -r f; do
	as nobody cat "$KD/$f" >>"$tmp/got" 2>/dev/null
done <"$tmp/installed"
check "nobody reads no installed key" test ! -s "$tmp/got"

# --- a loose repository is refused ---------------------------------------
modes() { stat -c '%a %u %n' "$R" "$R/.git" "$R/.git/objects"; }
# refused DESC CMD...: exit 1, the exact message, nothing changed
refused() {
	d=$1
	shift
	tree "$R" >"$tmp/tree0"
	modes >"$tmp/m0"
	expect "$d" 1 "$msg" -C "$R" --now 2027-06-01T00:00:00Z "$@"
	tree "$R" >"$tmp/tree1"
	modes >"$tmp/m1"
	check "and nothing changed, the mode neither" eval \
	    'same "$tmp/tree0" "$tmp/tree1" && same "$tmp/m0" "$tmp/m1"'
}
dk keygen -d a.example -s imp -D "$tmp" >/dev/null 2>&1
sel=$(git -C "$R" ls-tree --name-only HEAD keys/a.example/ |
    sed -n 's|.*/\([0-9]*\)\.private$|\1|p' | tail -n 1)

chmod 755 "$R/.git"
msg="dkimrot: key repository '$R/.git' is readable by group or others (mode 0755): run chmod -R go-rwx '$R'"
refused "rotate: .git 0755 refused" rotate
expect "status: refused the same" 1 "$msg" -C "$R" status
expect "package: refused the same" 1 "$msg" -C "$R" package
expect "check: refused the same" 1 "$msg" -C "$R" check
expect "import: refused the same" 1 "$msg" -C "$R" import -d a.example \
    -s imp --private "$tmp/imp.private"
expect "revoke: refused the same" 1 "$msg" -C "$R" revoke -d a.example \
    -s "$sel"
chmod 700 "$R/.git"

chmod 750 "$R"
msg="dkimrot: key repository '$R' is readable by group or others (mode 0750): run chmod -R go-rwx '$R'"
refused "status: REPO 0750 refused" status
chmod 700 "$R"

chmod 711 "$R/.git/objects"
msg="dkimrot: key repository '$R/.git/objects' is searchable by group or others (mode 0711): run chmod -R go-rwx '$R'"
refused "package: .git/objects 0711 refused" package
chmod 700 "$R/.git/objects"

chown nobody "$R/.git/objects"
msg="dkimrot: key repository '$R/.git/objects' is owned by another user (uid $(id -u nobody)): run chown -R 0 '$R'"
refused "rotate: .git/objects owned by nobody refused" rotate
chown root "$R/.git/objects"

mv "$R/.git" "$tmp/git"
ln -s "$tmp/git" "$R/.git"
msg="dkimrot: key repository '$R/.git' is not a directory (a symlink or a file); the key repository keeps its history inside itself"
refused "status: .git a symlink to elsewhere refused" status
rm "$R/.git"
mv "$tmp/git" "$R/.git"

chmod 755 "$R/.git"
chmod -R go-rwx "$R"
check "after the chmod it names, status works" eval \
    'dk -C "$R" --now 2027-03-20T00:00:00Z status >/dev/null 2>&1'

# --- no core dumps ---------------------------------------------------------
# A run held still while it makes a 4096-bit key as nobody (root's runs
# own /proc/PID either way): an undumpable process's /proc/PID files are
# root's (proc(5)), and its core limit is 0, hard and soft, though it was
# started with an unlimited soft limit.
mkdir "$tmp/kg"
chown nobody "$tmp/kg"
(ulimit -S -c unlimited 2>/dev/null || ulimit -S -c "$(ulimit -H -c)"
    exec setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
    "$DKIMROT" keygen -d a.example -b 4096 -D "$tmp/kg") >/dev/null 2>&1 &
p=$!
i=0
while [ $i -lt 500 ]; do
	if [ "$(readlink "/proc/$p/exe")" = "$(readlink -f "$DKIMROT")" ] &&
	    grep -q '^Max core file size  *0  *0 ' "/proc/$p/limits"; then
		kill -STOP $p
		break
	fi
	sleep 0.01
	i=$((i + 1))
done
grep '^Max core file size' "/proc/$p/limits" 2>/dev/null |
    awk '{ print $5, $6 }' >"$tmp/got"
echo "0 0" >"$tmp/want"
check "a run's core file size limit is 0 (soft and hard)" \
    same "$tmp/want" "$tmp/got"
uid_of() { awk '/^Uid:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
check "a run is not dumpable: /proc/PID is root's though it runs as nobody" \
    eval '[ "$(uid_of $p)" = "$(id -u nobody)" ] &&
    [ "$(stat -c %u "/proc/$p/status")" = 0 ]'
kill -CONT $p 2>/dev/null
kill $p 2>/dev/null
wait $p 2>/dev/null
true
