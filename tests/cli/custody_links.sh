#!/bin/sh
# Key custody: nothing below the repository is used through a link
# (common/tree.h, docs/bad-input.md L1-L13).  A symlink out of the
# repository (keys, keys/DOMAIN, keys.yaml, dkimrot.yaml), a FIFO, a
# socket, a device or a hard link: in the work tree, and (the symlinks)
# committed.  For each: rotate's exact message and exit code, promptly
# (under timeout), the files outside exactly as they were (contents and
# modes), nothing committed or staged, the fake secret never shown; for
# a committed link also package's; then, the input put right, the next
# run works.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
R=$tmp/repo
O=$tmp/outside
S=$tmp/secret
t0=2027-01-01T00:00:00Z
t1=2027-01-02T00:00:00Z
K=keys/a.example
ONLY="the key repository holds only directories and regular files"
# A FIFO must not hang a run: 20 s is ages (longer under valgrind).
T=20
[ -n "${DKIMROT_WRAP:-}" ] && T=300
# dkt ARGS...: dk under timeout
# shellcheck disable=SC2086
dkt() { timeout $T ${DKIMROT_WRAP:-} "$DKIMROT" "$@"; }

dk -C "$R" --now $t0 init -d a.example >/dev/null 2>&1 ||
    bail "init failed"
rm "$R/.git/hooks/post-commit"
sed -i 's/rsa_bits: 2048/rsa_bits: 1024/' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "small keys"
dk -C "$R" --now $t0 rotate >/dev/null 2>&1 || bail "first rotate failed"
SEL=$(cd "$R/$K" && ls ./*.private | sed 's,^\./,,; s,\.private$,,')
mkdir "$O"
echo "a file of its own" >"$O/mine"
chmod 0640 "$O/mine"
chmod 0755 "$O"
echo "root:FAKESECRET-7f3a:19000:0:99999:7:::" >"$S"
chmod 0600 "$S"

# outside: every file and directory outside the repository the cases
# point at, with mode and digest
outside() {
	for f in "$O" "$O"/* "$S"; do
		if [ -f "$f" ]; then
			printf '%s %s %s\n' "$f" "$(stat -c %a "$f")" \
			    "$(sha256sum <"$f" | cut -c1-16)"
		else
			printf '%s %s\n' "$f" "$(stat -c %a "$f")"
		fi
	done
}
# repo: HEAD and what git sees changed below keys/ and in dkimrot.yaml
repo() {
	gitq -C "$R" rev-parse HEAD
	gitq -C "$R" status --porcelain -- keys dkimrot.yaml
}

# one DESC WANT BREAK FIX [PACKAGE-WANT]: after the shell code BREAK
# (and, with PACKAGE-WANT, git add and commit), rotate exits 1 at once
# printing exactly WANT, changes nothing outside or in git and shows no
# secret; package, given the commit, exits 1 printing PACKAGE-WANT.
# After FIX (committed the same way) rotate works.
one() {
	d=$1 want=$2 fix=$4 pwant=${5:-} how=
	[ -n "$pwant" ] && how=committed
	eval "$3"
	if [ "$how" = committed ]; then
		gitq -C "$R" add -A
		gitq -C "$R" commit -qm "break: $d"
		d="$d (committed)"
	fi
	out0=$(outside)
	repo0=$(repo)
	if [ -n "${NOTDUE:-}" ]; then
		# keys/ and keys/DOMAIN unchanged, the domain not due: a run
		# whose due index holds (rotator/due.h) does not open it, so
		# nothing is done through the link; the run that next visits
		# the domain (here: the index gone) refuses it.
		dkt -C "$R" --now $t1 rotate >"$tmp/out" 2>"$tmp/err"
		rc=$?
		check "$d: a run with nothing due leaves the domain alone" \
		    eval '[ $rc = 0 ] && [ "$out0" = "$(outside)" ] &&
		    [ "$repo0" = "$(repo)" ]'
		rm -f "$R/.git/dkimrot-due"
	fi
	printf '%s\n' "$want" >"$tmp/want"
	dkt -C "$R" --now $t1 rotate >"$tmp/out" 2>"$tmp/err"
	rc=$?
	check "$d: rotate ends at once (no timeout)" [ $rc != 124 ]
	if [ $rc = 1 ] && same "$tmp/want" "$tmp/err"; then
		ok "$d: rotate exits 1 naming it"
	else
		nok "$d: rotate exits 1 naming it (exit $rc)"
	fi
	check "$d: what is outside is unchanged" [ "$out0" = "$(outside)" ]
	check "$d: nothing committed or changed in git" \
	    [ "$repo0" = "$(repo)" ]
	cat "$tmp/out" "$tmp/err" >"$tmp/shown"
	if [ "$how" = committed ]; then
		pk=$tmp/pkg.$n
		dkt -C "$R" package --output "$pk" \
		    >"$tmp/out" 2>"$tmp/err"
		rc=$?
		printf '%s\n' "$pwant" >"$tmp/want"
		if [ $rc = 1 ] && same "$tmp/want" "$tmp/err"; then
			ok "$d: package exits 1 naming it"
		else
			nok "$d: package exits 1 naming it (exit $rc)"
		fi
		check "$d: package wrote no package" \
		    not eval 'ls "$pk" 2>/dev/null | grep -q rpm'
		cat "$tmp/out" "$tmp/err" >>"$tmp/shown"
	fi
	check "$d: the secret is never shown" \
	    not grep -q FAKESECRET "$tmp/shown"
	eval "$fix"
	if [ "$how" = committed ]; then
		gitq -C "$R" add -A
		gitq -C "$R" commit -qm "fix: $d"
	fi
	dk -C "$R" --now $t1 rotate >"$tmp/out" 2>&1
	rc=$?
	if [ $rc = 0 ] && [ -z "$(gitq -C "$R" status --porcelain)" ]; then
		ok "$d: put right, the next run works"
	else
		nok "$d: put right, the next run works (exit $rc)"
		diag "$tmp/out"
	fi
}

refuse() { echo "refusing '$1': $2 ($ONLY)"; }

# --- symbolic links out of the repository: work tree, then committed
# (package reads the commit: the same refusal)
for how in "" committed; do
	p() { [ "$how" = committed ] && echo "dkimrot: $*"; }
	one "keys -> a directory outside" \
	    "dkimrot: warning: $(refuse keys 'a symbolic link')
dkimrot: a.example: $(refuse keys 'a symbolic link')" \
	    'mv "$R/keys" "$tmp/keys.save"; ln -s "$O" "$R/keys"' \
	    'rm "$R/keys"; mv "$tmp/keys.save" "$R/keys"' \
	    "$(p "$(refuse keys 'a symbolic link')")"
	one "keys/DOMAIN -> a directory outside" \
	    "dkimrot: warning: $(refuse $K 'a symbolic link')
dkimrot: a.example: $(refuse $K 'a symbolic link')" \
	    'mv "$R/$K" "$tmp/dom.save"; ln -s "$O" "$R/$K"' \
	    'rm "$R/$K"; mv "$tmp/dom.save" "$R/$K"' \
	    "$(p "$(refuse $K 'a symbolic link')")"
	one "keys.yaml -> a secret outside" \
	    "dkimrot: a.example: $(refuse $K/keys.yaml 'a symbolic link')" \
	    'mv "$R/$K/keys.yaml" "$tmp/y.save"
	     ln -s "$S" "$R/$K/keys.yaml"' \
	    'rm "$R/$K/keys.yaml"; mv "$tmp/y.save" "$R/$K/keys.yaml"' \
	    "$(p "a.example: $(refuse $K/keys.yaml 'a symbolic link')")"
	one "dkimrot.yaml -> a secret outside" \
	    "dkimrot: $(refuse dkimrot.yaml 'a symbolic link')" \
	    'mv "$R/dkimrot.yaml" "$tmp/c.save"
	     ln -s "$S" "$R/dkimrot.yaml"' \
	    'rm "$R/dkimrot.yaml"; mv "$tmp/c.save" "$R/dkimrot.yaml"' \
	    "$(p "$(refuse dkimrot.yaml 'a symbolic link')")"
done

# --- what git cannot hold: the work tree only
one "keys.yaml a FIFO" \
    "dkimrot: a.example: $(refuse $K/keys.yaml 'a FIFO')" \
    'mv "$R/$K/keys.yaml" "$tmp/y.save"; mkfifo "$R/$K/keys.yaml"' \
    'rm "$R/$K/keys.yaml"; mv "$tmp/y.save" "$R/$K/keys.yaml"'
one "dkimrot.yaml a FIFO" \
    "dkimrot: $(refuse dkimrot.yaml 'a FIFO')" \
    'mv "$R/dkimrot.yaml" "$tmp/c.save"; mkfifo "$R/dkimrot.yaml"' \
    'rm "$R/dkimrot.yaml"; mv "$tmp/c.save" "$R/dkimrot.yaml"'
one "a socket in keys/DOMAIN" \
    "dkimrot: a.example: $(refuse $K/sock 'a socket')" \
    'python3 -c "import socket, sys
socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$R/$K/sock"' \
    'rm "$R/$K/sock"'
one "a device in keys/DOMAIN" \
    "dkimrot: a.example: $(refuse $K/null 'a device')" \
    'mknod "$R/$K/null" c 1 3' \
    'rm "$R/$K/null"'
NOTDUE=1 one "a key file hard-linked to a name outside" \
    "dkimrot: a.example: refusing '$K/$SEL.private': a hard link (its file has 2 names; a file of the key repository has only one)" \
    'chmod 0640 "$R/$K/$SEL.private"; ln "$R/$K/$SEL.private" "$O/hl"' \
    'rm "$O/hl"'
one "a file outside hard-linked in as debris" \
    "dkimrot: a.example: refusing '$K/mine': a hard link (its file has 2 names; a file of the key repository has only one)" \
    'ln "$O/mine" "$R/$K/mine"' \
    'rm "$R/$K/mine"'

# --- the rollback of an interrupted run (a libgit2 checkout) must not
# write through a link either
one "keys/DOMAIN -> a directory outside, after an interrupted run" \
    "dkimrot: warning: a dkimrot run (pid 12345) was interrupted; its uncommitted changes under keys/ are rolled back to HEAD
dkimrot: $(refuse $K 'a symbolic link')" \
    'printf "12345\n" >"$R/.git/dkimrot.dirty"
     mv "$R/$K" "$tmp/dom.save"; ln -s "$O" "$R/$K"' \
    'rm "$R/$K"; mv "$tmp/dom.save" "$R/$K"'

# --- a submodule (gitlink) committed in keys/: package reads the commit
gitq -C "$R" update-index --add --cacheinfo \
    "160000,$(gitq -C "$R" rev-parse HEAD),keys/c.example"
gitq -C "$R" commit -qm "a submodule in keys"
dk -C "$R" package --output "$tmp/pkg.sub" >"$tmp/out" 2>"$tmp/err"
rc=$?
echo "dkimrot: $(refuse keys/c.example 'a submodule')" >"$tmp/want"
if [ $rc = 1 ] && same "$tmp/want" "$tmp/err"; then
	ok "a committed submodule in keys/: package exits 1 naming it"
else
	nok "a committed submodule in keys/: package exits 1 naming it (exit $rc)"
fi
gitq -C "$R" rm -q --cached keys/c.example
gitq -C "$R" commit -qm "no submodule"
check "put right, package works" \
    eval 'dk -C "$R" package --output "$tmp/pkg.sub" >/dev/null 2>&1'

# --- keygen -D outside a repository keeps following its directory, but
# not a link where it writes
mkdir "$tmp/kg"
ln -s "$O/mine" "$tmp/kg/s1.private"
out0=$(outside)
dk keygen -D "$tmp/kg" -d a.example -s s1 -b 1024 >"$tmp/out" 2>"$tmp/err"
rc=$?
check "keygen -D does not write through a link at its key's name" \
    [ $rc != 0 ]
check "and what the link names is unchanged" \
    [ "$out0" = "$(outside)" ]
ln -s "$tmp/kg" "$tmp/kglink"
rm "$tmp/kg/s1.private"
check "keygen -D DIR may be reached through a link" \
    eval 'dk keygen -D "$tmp/kglink" -d a.example -s s1 -b 1024 >/dev/null'
check "and writes its key there" [ -f "$tmp/kg/s1.private" ]

echo "1..$n"
