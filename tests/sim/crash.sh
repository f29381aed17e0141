#!/bin/sh
# A crash at every fault point of common/fault.h, in rotate, import,
# revoke and the hook's package: the kill leaves the repository as it
# found it, and the next ordinary run repairs it (docs/design.md §8, keyrepo.h):
# no key lost, no orphan, work tree and index clean, git fsck clean,
# HEAD packaged.  The rolled-back work is planned afresh, so its times
# are the times HEAD shows it.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
: "${DKIMROT_FAULTS:?}"
R=$tmp/repo
T0=1798761600	# 2027-01-01T00:00:00Z
H=3600
D=86400
at() { date -u -d "@$((T0 + $1))" +%Y-%m-%dT%H:%M:%SZ; }
# The hook calls the binary that installed it: the faults binary, so
# that the hook's 'dkimrot package' reaches its fault points too.
F() { "$DKIMROT_FAULTS" "$@"; }
repocheck() { /usr/bin/python3 "$DKIMROT_SRC/tests/lib/repocheck.py" "$@"; }
json() { dk -C "$R" --now "$(at "$1")" status --json; }
# field WHEN DOMAIN SELECTOR FIELD: one field of a key from status --json
field() {
	json "$1" | /usr/bin/python3 -c '
import json, sys
d = {x["domain"]: x for x in json.load(sys.stdin)["domains"]}
k = [k for k in d[sys.argv[1]]["keys"] if k["selector"] == sys.argv[2]]
print(k[0][sys.argv[3]] if k else "none")' "$2" "$3" "$4"
}

# killed DESC FAULT WHEN ARGS...: the faults binary dies at FAULT
killed() {
	desc=$1 fault=$2 when=$3
	shift 3
	repocheck "$R" "$(at "$when")" --save "$tmp/before.json" >/dev/null
	DKIMROT_FAULT=$fault F -C "$R" --now "$(at "$when")" "$@" \
	    >"$tmp/kout" 2>"$tmp/kerr"
	krc=$?
	check "$desc: killed at $fault" [ $krc = 99 ]
}
# repaired DESC WHEN ARGS...: the next run of the shipped binary
# exits 0 and leaves everything as repocheck.py wants it
repaired() {
	desc=$1 when=$2
	shift 2
	dk -C "$R" --now "$(at "$when")" "$@" >"$tmp/rout" 2>"$tmp/rerr"
	rrc=$?
	if [ $rrc = 0 ] && repocheck "$R" "$(at "$when")" --before \
	    "$tmp/before.json" --packaged >"$tmp/chk"; then
		ok "$desc"
	else
		nok "$desc (exit $rrc)"
		diag "$tmp/chk" "$tmp/rerr"
	fi
}
rolled_back() {
	grep -q "was interrupted; its uncommitted changes under keys/ are rolled back to HEAD" "$tmp/rerr"
}
dirty() { [ -f "$R/.git/dkimrot.dirty" ]; }
head() { git -C "$R" rev-parse HEAD; }
version() { git -C "$R" rev-list --first-parent --count HEAD; }
pkg() { [ -f "$R/rpms/$1/dkim-keys-$1-$(version)-1.noarch.rpm" ]; }

F -C "$R" --now "$(at 0)" init -d a.example -d b.example >/dev/null 2>&1
sed -i 's/rsa_bits: 2048/rsa_bits: 1024/
s/^  - name: b.example$/  - name: b.example\n    algorithms: [rsa, ed25519]/' \
    "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "small keys; b.example signs twice"
check "setup: the hook packaged the configuration commit" pkg public

# --- rotate: the first keys, killed after the first key file
h0=$(head)
killed "first keys" after-key-write:1 0 rotate
check "the kill left a journal and a key file no keys.yaml names" eval \
    'dirty && [ -n "$(find "$R/keys" -name "*.private")" ] &&
    [ ! -e "$R/keys/a.example/keys.yaml" ] && [ "$(head)" = "$h0" ]'
repaired "the next run rolls back and makes the keys" $H rotate
check "and says so" rolled_back
check "the keys are the next run's, not the dead one's" \
    [ "$(field $H a.example 20270101010000 created)" = "$(at $H)" ]

# --- activation, killed after keys.yaml was saved
killed "activation" after-keys-yaml $((D + H)) rotate
check "the kill left keys.yaml changed but uncommitted" eval \
    'dirty && [ -n "$(git -C "$R" status --porcelain keys)" ]'
repaired "the next run activates" $((D + 2 * H)) rotate
check "with the time HEAD shows: active_from is the repairing run's" \
    [ "$(field $((D + 2 * H)) a.example 20270101010000 active_from)" = \
    "$(at $((D + 2 * H)))" ]

# --- the second key, killed after the first .txt
killed "second key" after-key-write:2 $((30 * D + 2 * H)) rotate
check "the kill left both files of a key and no entry for it" eval \
    '[ -e "$R/keys/a.example/20270131020000.txt" ] &&
    [ "$(field $((30 * D + 2 * H)) a.example 20270131020000 state)" = none ]'
repaired "the next run makes the second keys" $((30 * D + 3 * H)) rotate

# --- take-over, killed twice in a row, then repaired
killed "take-over" before-commit $((31 * D + 3 * H)) rotate
killed "take-over again" after-keys-yaml:2 $((31 * D + 4 * H)) rotate
check "HEAD still has the old signing key, without a successor" eval \
    '[ "$(git -C "$R" show HEAD:keys/a.example/keys.yaml |
    grep -c "state: active")" = 1 ] && git -C "$R" show \
    HEAD:keys/a.example/keys.yaml | grep -q "state: pending"'
repaired "the third run takes over" $((31 * D + 5 * H)) rotate
check "the old key signed until the commit that retired it from signing" \
    [ "$(field $((31 * D + 5 * H)) a.example 20270101010000 active_until)" \
    = "$(at $((31 * D + 5 * H)))" ]

# --- a third key retires the first: killed after keys.yaml, before the
# files of the retired key went
killed "third key" after-keys-yaml $((60 * D + 3 * H)) rotate
check "the kill left the retired key's files in place" \
    [ -e "$R/keys/a.example/20270101010000.private" ]
repaired "the next run retires" $((60 * D + 4 * H)) rotate
check "and removes the retired key's files" eval \
    '[ ! -e "$R/keys/a.example/20270101010000.private" ] &&
    [ "$(field $((60 * D + 4 * H)) a.example 20270101010000 state)" = \
    retired ]'

# --- killed after the commit, before the hook: HEAD is not packaged
killed "take-over" after-commit $((61 * D + 4 * H)) rotate
h1=$(head)
check "the commit stands, unpackaged" eval \
    '[ "$h1" != "$h0" ] && dirty && ! pkg private &&
    [ "$(git -C "$R" log -1 --format=%s)" = \
    "dkimrot rotate at $(at $((61 * D + 4 * H)))" ]'
repaired "the next run, with nothing to do, builds HEAD's packages" \
    $((61 * D + 5 * H)) rotate
check "without a commit of its own" eval \
    '[ "$(head)" = "$h1" ] && [ ! -s "$tmp/rout" ]'

# --- the hook's package killed between the two packages
opendkim-genkey -b 1024 -D "$tmp" -d a.example -s legacy 2>/dev/null
opendkim-genkey -b 1024 -D "$tmp" -d a.example -s other 2>/dev/null
repocheck "$R" "$(at $((62 * D)))" --save "$tmp/before.json" >/dev/null
DKIMROT_FAULT=mid-package F -C "$R" --now "$(at $((62 * D)))" \
    import -d a.example -s other --private "$tmp/other.private" \
    >/dev/null 2>"$tmp/kerr"
krc=$?
check "a package killed mid-way: import still exits 0 and warns" eval \
    '[ $krc = 0 ] && grep -q "post-commit hook failed (exit 99)" "$tmp/kerr"'
# Both packages build at once (packaging/cmd_package.c build_both); the
# kill comes after them, before the repository metadata.
check "both packages of the commit were built" eval \
    'pkg private && pkg public'
repaired "the next run builds both" $((62 * D + H)) rotate

# --- killed while the repository metadata was written
repocheck "$R" "$(at $((62 * D + 2 * H)))" --save "$tmp/before.json" \
    >/dev/null
DKIMROT_FAULT=mid-repodata F -C "$R" --now "$(at $((62 * D + 2 * H)))" \
    revoke -d a.example -s other >/dev/null 2>"$tmp/kerr"
krc=$?
check "the metadata killed mid-way: revoke exits 0 and warns" eval \
    '[ $krc = 0 ] && grep -q "post-commit hook failed (exit 99)" "$tmp/kerr"'
check "the new metadata is aside, unused; the old one in place" eval \
    '[ -d "$R/rpms/private/.repodata.tmp" ] && [ -f "$R/rpms/private/repodata/repomd.xml" ] &&
    ! zgrep -q "ver=\"$(version)\"" "$R"/rpms/private/repodata/*primary.xml.gz'
repaired "the next run writes the metadata again" $((62 * D + 3 * H)) rotate

# --- import, killed after the key's files
killed "import" after-key-write:2 $((66 * D)) import -d a.example \
    -s legacy --private "$tmp/legacy.private"
check "the kill left the imported key's files and no entry" eval \
    '[ -e "$R/keys/a.example/legacy.txt" ] && dirty &&
    [ "$(field $((66 * D)) a.example legacy state)" = none ]'
repaired "import again works" $((66 * D + H)) import -d a.example \
    -s legacy --private "$tmp/legacy.private"
check "and says the earlier import was rolled back" rolled_back

# --- revoke, killed after keys.yaml
killed "revoke" after-keys-yaml $((66 * D + 2 * H)) revoke -d a.example \
    -s legacy
check "the kill left a p= empty record uncommitted" eval \
    '! grep -q "p=MI" "$R/keys/a.example/legacy.txt" &&
    git -C "$R" show HEAD:keys/a.example/legacy.txt | grep -q "p=MI"'
repaired "the next run restores the record" $((66 * D + 3 * H)) rotate
check "the key is published again as HEAD has it" eval \
    'grep -q "p=MI" "$R/keys/a.example/legacy.txt" &&
    [ "$(field $((66 * D + 3 * H)) a.example legacy state)" = pending ]'
repaired "revoke again works" $((66 * D + 4 * H)) revoke -d a.example \
    -s legacy
check "and the key is revoked" \
    [ "$(field $((66 * D + 4 * H)) a.example legacy state)" = revoked ]

# --- killed between the commit's pack and its index: a pack is not read
# without one, so HEAD has not moved and names nothing missing
# lone_pack: a pack in the repository without its index
lone_pack() {
	for p in "$R"/.git/objects/pack/*.pack; do
		[ -e "${p%.pack}.idx" ] || return 0
	done
	return 1
}
h2=$(head)
killed "new keys" pack-before-idx $((67 * D)) rotate --start -d b.example
check "HEAD did not move; the new pack lies there without its index" eval \
    '[ "$(head)" = "$h2" ] && dirty && lone_pack'
repaired "the next run rolls back" $((67 * D + H)) rotate
check "and git fsck finds the repository whole" \
    git -C "$R" fsck --strict --no-progress
echo "1..$n"
