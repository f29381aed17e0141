#!/bin/sh
# The build ledger (packaging/ledger.h): only packages dkimrot built, with
# the bytes it wrote, are signed and indexed.  A planted
# dkim-keys-private-99 whose VCS tag is HEAD's real commit id is left out,
# never signed by the repository's key, and real dnf with gpgcheck=1
# refuses it even from metadata that names it; a kept build replaced by
# other bytes is left out; an output without a ledger keeps serving its
# old builds; a damaged ledger stops the run.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/rpmroot.sh"
. "$DKIMROT_SRC/tests/lib/repodata.sh"
. "$DKIMROT_SRC/tests/lib/signkey.sh"
R=$tmp/repo
OUT=$R/rpms
G=$R/.git/dkimrot-gnupg
L=$R/.git/dkimrot-builds
LOG=$R/.git/dkimrot-package.log
TOOL=$DKIMROT_BUILD/tools/rpmtool
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1
# The repository's gpg-agent, stopped by its home, not by name.
trap 'gpgconf --homedir "$G" --kill gpg-agent 2>/dev/null
    rm -rf "$tmp"' EXIT INT TERM

echo "1..22"

# sig FILE: the package's OpenPGP header signature, "(none)" if none
sig() {
	rpm -qp --nosignature --qf '%{RSAHEADER:pgpsig}' "$1" 2>/dev/null
}
sum() { sha256sum <"$1" | cut -d' ' -f1; }

dk -C "$R" --now 2026-11-20T00:00:00Z init -d example.com >/dev/null 2>&1
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e 's|mta_reload: .*|mta_reload: ""|' \
    -e 's|^  # dns_reload: .*|  dns_reload: ""|' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "test configuration"
dk -C "$R" --now 2026-11-20T00:00:00Z -q rotate >/dev/null
dk -C "$R" --now 2026-11-21T00:00:00Z -q rotate >/dev/null
v=$(git -C "$R" rev-list --first-parent --count HEAD)
head=$(git -C "$R" rev-parse HEAD)
P=$OUT/private/dkim-keys-private-$v-1.noarch.rpm

# --- the ledger itself
t_vault() {
	[ "$(stat -c %a "$L")" = 600 ] &&
	    [ -z "$(git -C "$R" status --porcelain --ignored | grep builds)" ]
}
check "the ledger is in the vault, 0600, and not in the work tree" t_vault
t_lines() {
	grep -qxF "private $(realpath "$OUT/private") dkim-keys-private-$v-1.noarch.rpm dkim-keys-private $v $head $(sum "$P")" "$L" &&
	    grep -qxF "public $(realpath "$OUT/public") dkim-keys-public-$v-1.noarch.rpm dkim-keys-public $v $head $(sum "$OUT/public/dkim-keys-public-$v-1.noarch.rpm")" "$L"
}
check "it names both packages of HEAD with the checksum of their bytes" \
    t_lines
check "the stage in the vault is gone after the run, the ledger stays" \
    eval '[ ! -e "$R/.git/dkimrot-stage" ] && [ -s "$L" ]'

# --- a planted dkim-keys-private-99 naming HEAD, with a %post
mkdir "$tmp/plant"
"$TOOL" build -t private -o "$tmp/plant" -n dkim-keys-private -V 99 \
    -c "$head" -T 1795353300 -m 0640 \
    -p 'touch /planted' 'f:/etc/planted:0644:root:root=x' >/dev/null
X=$OUT/private/dkim-keys-private-99-1.noarch.rpm
cp "$tmp/plant/dkim-keys-private-99-1.noarch.rpm" "$X"
xsum=$(sum "$X")
# --- and a kept build replaced by other bytes, same name and VCS
prev=$(git -C "$R" rev-parse HEAD~1)
K=$OUT/private/dkim-keys-private-$((v - 1))-1.noarch.rpm
"$TOOL" build -t private -o "$tmp/plant" -n dkim-keys-private \
    -V $((v - 1)) -c "$prev" -T 1795353300 -m 0640 \
    -p 'touch /forged' 'f:/etc/forged:0644:root:root=x' >/dev/null
cp "$tmp/plant/dkim-keys-private-$((v - 1))-1.noarch.rpm" "$K"
ksum=$(sum "$K")
gitq -C "$R" commit -q --allow-empty -m "a commit to package"
nv=$(git -C "$R" rev-list --first-parent --count HEAD)
check "the new commit is packaged as the next version, not above 99" \
    eval '[ -f "$OUT/private/dkim-keys-private-$nv-1.noarch.rpm" ] &&
    [ "$nv" = $((v + 1)) ]'
check "the warning names the planted file and why" grep -qxF \
    "dkimrot: warning: not indexing '$X': dkimrot did not build it (it is not in the build ledger)" \
    "$LOG"
check "the warning names the changed kept build and why" grep -qxF \
    "dkimrot: warning: not indexing '$K': its bytes changed since dkimrot built it (the SHA-256 is not the build ledger's)" \
    "$LOG"
primary "$OUT/private" >"$tmp/priv.primary"
check "neither is in primary.xml; our builds are" eval \
    'not grep -q " 99$" "$tmp/priv.primary" &&
    not grep -qx "dkim-keys-private $((v - 1))" "$tmp/priv.primary" &&
    grep -qx "dkim-keys-private $v" "$tmp/priv.primary" &&
    grep -qx "dkim-keys-private $nv" "$tmp/priv.primary"'
check "both are left on disk with their bytes, never signed (ours are)" \
    eval '[ "$(sum "$X") $(sum "$K")" = "$xsum $ksum" ] &&
    [ "$(sig "$X")" = "(none)" ] && [ "$(sig "$K")" = "(none)" ] &&
    not [ "$(sig "$P")" = "(none)" ]'
check "the ledger does not know the planted file, nor the forged bytes" \
    eval '[ -s "$L" ] && not grep -q "dkim-keys-private-99-1\|$ksum" "$L"'

# --- dnf with gpgcheck=1 refuses it, even from metadata naming it
mkdir "$tmp/stub" && rpmroot_stub "$tmp/stub" && createrepo_c -q "$tmp/stub"
cp -a "$OUT/private" "$tmp/evil"
createrepo_c -q "$tmp/evil"
# dnfc ROOT REPO-DIR ARGS...: gpgcheck=1 with the repository's key only
dnfc() {
	_root=$1 _repo=$2
	shift 2
	rpmroot_make "$_root" &&
	dnf -y --installroot "$_root" --releasever 1 \
	    --setopt=reposdir=/dev/null --setopt=install_weak_deps=False \
	    --setopt=cachedir="$_root/.dnfcache" \
	    --repofrompath "dk,file://$_repo" \
	    --setopt=dk.gpgcheck=1 \
	    --setopt=dk.gpgkey="file://$OUT/private/RPM-GPG-KEY-dkimrot" \
	    --repofrompath "stub,file://$tmp/stub" --setopt=stub.gpgcheck=0 \
	    --repo dk --repo stub "$@"
}
dnfc "$tmp/mx" "$OUT/private" install dkim-keys-private-99 \
    >"$tmp/dnf1" 2>&1
check "dnf finds no version 99 in the repository" eval \
    '[ ! -e "$tmp/mx/planted" ] &&
    grep -q "No match for argument: dkim-keys-private-99" "$tmp/dnf1"'
dnfc "$tmp/mx2" "$tmp/evil" install dkim-keys-private-99 >"$tmp/dnf2" 2>&1
rpm --root "$tmp/mx2" -q dkim-keys-private >"$tmp/q2" 2>&1
check "nor installs it with gpgcheck=1 from metadata that lists it" eval \
    '[ ! -e "$tmp/mx2/planted" ] &&
    grep -qx "package dkim-keys-private is not installed" "$tmp/q2"'
[ -e "$tmp/mx2/planted" ] && diag "$tmp/dnf2"
dnfc "$tmp/mx3" "$OUT/private" install dkim-keys-private >"$tmp/dnf3" 2>&1
check "while ours installs with gpgcheck=1" \
    [ "$(rpm --root "$tmp/mx3" -q --qf '%{VERSION}' dkim-keys-private)" = \
    "$nv" ]

# --- the ledger names a repository by its real path
ln -s "$OUT" "$tmp/link"
dk -C "$R" package --output "$tmp/link" >"$tmp/link.out" 2>&1
check "the same repository through a link is already built" eval \
    'grep -q "is already built (version $nv)" "$tmp/link.out" &&
    [ -s "$L" ] && not grep -q "$tmp/link" "$L"'

# --- a new signing key, the re-signing of a kept build killed midway
signkey_new "$G" "$R"
gitq -C "$R" -c core.hooksPath=/dev/null commit -qam "a new signing key"
DKIMROT_FAULT=mid-resign "$DKIMROT_FAULTS" -C "$R" package \
    >/dev/null 2>&1
rc=$?
# The one build being re-signed is in the stage, the ledger has its sum.
S=$R/.git/dkimrot-stage
f=$(ls "$S" 2>/dev/null)
Q=$OUT/private/$f
qv=$(echo "$f" | sed -n 's/^dkim-keys-private-\([0-9]*\)-1\.noarch\.rpm$/\1/p')
qsum=$(grep " $f " "$L" | cut -d' ' -f7)
check "killed after the ledger learnt a re-signed build, before its copy" \
    eval '[ $rc = 99 ] && [ -n "$qv" ] && [ -n "$qsum" ] &&
    [ "$(sum "$Q")" != "$qsum" ] && [ "$(sum "$S/$f")" = "$qsum" ]'
dk -C "$R" package >"$tmp/fwd.out" 2>&1
check "the next run finishes the copy from the vault's stage" \
    grep -qxF "dkimrot: finished the interrupted write of '$Q'" \
    "$tmp/fwd.out"
primary "$OUT/private" >"$tmp/priv.primary"
check "and the kept build is indexed, signed by the new key" eval \
    '[ "$(sum "$Q")" = "$qsum" ] &&
    grep -qx "dkim-keys-private $qv" "$tmp/priv.primary" &&
    rpm -qp --qf "%{RSAHEADER:pgpsig}" "$Q" 2>/dev/null |
    grep -qi "key id $(printf %s "$new" | cut -c25-40)$" &&
    not grep -q "not indexing .$Q" "$tmp/fwd.out"'

# --- pruning takes the ledger's lines along
sed -i 's/keep_builds: .*/keep_builds: 1/' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "keep one build"
nv=$(git -C "$R" rev-list --first-parent --count HEAD)
# Left: HEAD's two lines, and the changed build's (never indexed, so
# never pruned: dkimrot built that version, and it still counts).
check "keep_builds 1 prunes the lines of the builds it removes" eval \
    '[ "$(grep -c " $nv $(git -C "$R" rev-parse HEAD) " "$L")" = 2 ] &&
    [ "$(wc -l <"$L")" = 4 ] &&
    grep -q " dkim-keys-private-$((v - 1))-1.noarch.rpm " "$L" &&
    [ ! -e "$P" ] && not grep -q " dkim-keys-private-$v-1.noarch.rpm " "$L"'
check "and the strangers are still on disk" eval '[ -f "$X" ] && [ -f "$K" ]'

# --- an output made before the ledger: adopted once, still served
M=$tmp/old
dk -C "$M" --now 2026-11-20T00:00:00Z init --no-sign -d example.net \
    >/dev/null 2>&1
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' "$M/dkimrot.yaml"
gitq -C "$M" commit -qam "test configuration"
dk -C "$M" --now 2026-11-20T00:00:00Z -q rotate >/dev/null 2>&1
rm "$M/.git/dkimrot-builds"
old=$(cd "$M/rpms" && ls private public | grep -c '\.rpm$')
"$TOOL" build -t public -o "$M/rpms/public" -n dkim-keys-public -V 50 \
    -c fedcba9876543210fedcba9876543210fedcba98 -T 1795353300 \
    'f:/var/lib/dkim-zones/x.zone:0644:root:root=x' >/dev/null
gitq -C "$M" -c core.hooksPath=/dev/null commit -q --allow-empty -m next
mv=$(git -C "$M" rev-list --first-parent --count HEAD)
dk -C "$M" package >/dev/null 2>"$tmp/mig.err"
rc=$?
printf '%s\n' "dkimrot: warning: packages and repository metadata are not signed (packaging.sign_key is empty): clients cannot use gpgcheck" \
    "dkimrot: warning: no build ledger yet: adopted $old packages already in the output; from now on only packages dkimrot builds are indexed" \
    "dkimrot: warning: not indexing '$M/rpms/public/dkim-keys-public-50-1.noarch.rpm': dkimrot did not build it (it is not in the build ledger)" \
    >"$tmp/mig.want"
# versions OLD... and the new one, in each repository
want=$(cd "$M/rpms/private" && ls | sed -n \
    's/^dkim-keys-private-\([0-9]*\)-1\.noarch\.rpm$/\1/p' | sort -n |
    tr '\n' ' ')
check "the first run adopts the old builds with one warning" eval \
    '[ $rc = 0 ] && same "$tmp/mig.want" "$tmp/mig.err"'
# versions in primary.xml, sorted
vers() { primary "$1" | cut -d' ' -f2 | sort -n | tr '\n' ' '; }
t_served() {
	[ "$(grep -c " $((mv - 1)) " "$M/.git/dkimrot-builds")" = 2 ] &&
	    [ "$(vers "$M/rpms/private")" = "$want" ] &&
	    [ "$(vers "$M/rpms/public")" = "$want" ] &&
	    [ "$(echo $want | wc -w)" = $((old / 2 + 1)) ] &&
	    echo " $want" | grep -q " $mv $"
}
check "and keeps serving them beside the new build, from the ledger" \
    t_served
dk -C "$M" package >/dev/null 2>"$tmp/mig2.err"
check "the next run adopts nothing" eval \
    '[ -s "$M/.git/dkimrot-builds" ] && not grep -q adopted "$tmp/mig2.err"'

# --- a damaged ledger is an error naming the line, never half trusted
printf 'private /x dkim-keys-private-1-1.noarch.rpm\n' >>"$M/.git/dkimrot-builds"
lines=$(wc -l <"$M/.git/dkimrot-builds")
expect "a damaged ledger stops the run, naming file and line" 1 \
    "dkimrot: warning: packages and repository metadata are not signed (packaging.sign_key is empty): clients cannot use gpgcheck
dkimrot: invalid build ledger '$M/.git/dkimrot-builds:$lines': fewer than 7 fields" \
    -C "$M" package
