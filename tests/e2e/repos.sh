#!/bin/sh
# Key custody: two yum repositories (rotator/output.h), read by real
# dnf clients.  A name server given the public repository alone can
# neither list nor install dkim-keys-private; a mail server's private
# repository installs it.  After a history rewrite (git reset) a revoke
# still reaches both clients as an upgrade.  A planted foreign RPM is
# left out of the repodata with a warning; a NAME-VERSION of another
# commit is refused; an old single-directory output is moved apart.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/rpmroot.sh"
. "$DKIMROT_SRC/tests/lib/repodata.sh"
R=$tmp/repo
OUT=$R/rpms
TOOL=$DKIMROT_BUILD/tools/rpmtool
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1

echo "1..36"

# dnfc ROOT REPO-DIR ARGS...: dnf in ROOT with that repository and the
# /bin/sh stub only
dnfc() {
	_root=$1 _repo=$2
	shift 2
	dnf -y --refresh --installroot "$_root" --releasever 1 \
	    --setopt=reposdir=/dev/null --setopt=install_weak_deps=False \
	    --setopt=cachedir="$_root/.dnfcache" --nogpgcheck \
	    --repofrompath "dk,file://$_repo" \
	    --repofrompath "stub,file://$tmp/stub" \
	    --repo dk --repo stub "$@"
}
newest() {
	ls "$OUT/$1" | sed -n "s/^dkim-keys-$1-\([0-9]*\)-1\.noarch\.rpm$/\1/p" |
	    sort -n | tail -1
}

dk -C "$R" --now 2026-11-20T00:00:00Z init -d example.com >/dev/null
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e 's|zone_dir: .*|zone_dir: /var/lib/dkim-zones|' \
    -e 's|mta_reload: .*|mta_reload: ""|' \
    -e 's|^  # dns_reload: .*|  dns_reload: ""|' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "test configuration"
dk -C "$R" --now 2026-11-20T00:00:00Z -q rotate >/dev/null
dk -C "$R" --now 2026-11-21T00:00:00Z -q rotate >/dev/null
v=$(git -C "$R" rev-list --first-parent --count HEAD)

# --- two repositories, each with its own repodata and modes
check "the private repository holds dkim-keys-private alone" \
    [ "$(ls "$OUT/private" | grep '\.rpm$' | tr '\n' ' ')" = \
    "dkim-keys-private-2-1.noarch.rpm dkim-keys-private-3-1.noarch.rpm dkim-keys-private-$v-1.noarch.rpm " ]
check "the public repository holds dkim-keys-public alone" \
    [ "$(ls "$OUT/public" | grep '\.rpm$' | tr '\n' ' ')" = \
    "dkim-keys-public-2-1.noarch.rpm dkim-keys-public-3-1.noarch.rpm dkim-keys-public-$v-1.noarch.rpm " ]
check "no repodata/ directly in the output directory" \
    [ ! -e "$OUT/repodata" ]
check "the private repository is 0750, its package and metadata 0640" \
    [ "$(stat -c %a "$OUT/private" "$OUT/private/repodata" \
    "$OUT/private/dkim-keys-private-$v-1.noarch.rpm" \
    "$OUT/private/repodata/repomd.xml" | tr '\n' ' ')" = "750 750 640 640 " ]
check "the public repository is 0755, its package and metadata 0644" \
    [ "$(stat -c %a "$OUT" "$OUT/public" "$OUT/public/repodata" \
    "$OUT/public/dkim-keys-public-$v-1.noarch.rpm" \
    "$OUT/public/repodata/repomd.xml" | tr '\n' ' ')" = \
    "755 755 755 644 644 " ]
primary "$OUT/public" >"$tmp/pub.primary"
check "the public repodata lists dkim-keys-public only" \
    [ "$(cut -d' ' -f1 "$tmp/pub.primary" | sort -u)" = dkim-keys-public ]

# --- a name server and a mail server, each with its own repository
mkdir "$tmp/stub" && rpmroot_stub "$tmp/stub" && createrepo_c -q "$tmp/stub"
NS=$tmp/ns
MX=$tmp/mx
rpmroot_make "$NS" && rpmroot_make "$MX"
dnfc "$NS" "$OUT/public" list --available 'dkim-keys-*' >"$tmp/ns.list" \
    2>&1
check "a name server's dnf lists dkim-keys-public" \
    grep -q '^dkim-keys-public\.noarch' "$tmp/ns.list"
check "a name server's dnf cannot list dkim-keys-private" \
    not grep -q 'dkim-keys-private' "$tmp/ns.list"
dnfc "$NS" "$OUT/public" install dkim-keys-private >"$tmp/ns.priv" 2>&1
rc=$?
check "a name server's dnf cannot install dkim-keys-private" eval \
    '[ $rc != 0 ] && grep -q "No match for argument: dkim-keys-private" \
    "$tmp/ns.priv" && [ ! -d "$NS/etc/dkim-keys/keys" ]'
dnfc "$NS" "$OUT/public" install dkim-keys-public >"$tmp/ns.out" 2>&1
check "a name server's dnf installs dkim-keys-public" \
    [ "$(rpm --root "$NS" -q --qf '%{VERSION}' dkim-keys-public)" = "$v" ]
dnfc "$MX" "$OUT/private" install dkim-keys-private >"$tmp/mx.out" 2>&1
check "a mail server's dnf installs dkim-keys-private" \
    [ "$(rpm --root "$MX" -q --qf '%{VERSION}' dkim-keys-private)" = "$v" ]
sel=$(cd "$R/keys/example.com" && ls *.private | sed 's/\.private$//' |
    head -1)
check "the mail server holds the active key" \
    [ -f "$MX/etc/dkim-keys/keys/example.com/$sel.private" ]

# --- one more version, then the history is rewritten and a key revoked
dk -C "$R" --now 2026-12-21T00:00:00Z -q rotate >/dev/null
v=$(git -C "$R" rev-list --first-parent --count HEAD)
dnfc "$NS" "$OUT/public" upgrade >"$tmp/ns.up" 2>&1
dnfc "$MX" "$OUT/private" upgrade >"$tmp/mx.up" 2>&1
check "both clients upgraded to version $v" \
    [ "$(rpm --root "$NS" -q --qf '%{VERSION}' dkim-keys-public) $(rpm \
    --root "$MX" -q --qf '%{VERSION}' dkim-keys-private)" = "$v $v" ]
gitq -C "$R" reset -q --hard HEAD~2
count=$(git -C "$R" rev-list --first-parent --count HEAD)
dk -C "$R" --now 2026-12-22T00:00:00Z revoke -d example.com -s "$sel" \
    >"$tmp/revoke.out" 2>&1
rc=$?
rv=$(newest public)
check "the revoke after the reset exits 0" [ $rc = 0 ]
check "its packages are above every version there ($rv > $v > $count + 1)" \
    eval '[ "$rv" = $((v + 1)) ] && [ $((count + 1)) -lt "$rv" ]'
check "and the hook said why" grep -q \
    "its count $((count + 1)) is not above version $v already built (history rewritten); it becomes version $rv" \
    "$R/.git/dkimrot-package.log"
dnfc "$NS" "$OUT/public" upgrade >"$tmp/ns.up2" 2>&1
check "the name server's dnf upgrade installs the revocation" \
    [ "$(rpm --root "$NS" -q --qf '%{VERSION}' dkim-keys-public)" = "$rv" ]
zf=$NS/var/lib/dkim-zones/example.com.zone
/usr/bin/python3 -c '
import re, sys
t = open(sys.argv[1]).read()
m = re.search(re.escape(sys.argv[2]) + r"\._domainkey\.example\.com\.[^(]*\((.*?)\)", t, re.S)
print("".join(re.findall(r"\"((?:[^\"\\\\]|\\\\.)*)\"", m.group(1))) if m else "none")
' "$zf" "$sel" >"$tmp/rec"
check "the installed zone fragment serves the revoked key with p= empty" \
    grep -Eq '(^|;) *p= *(;|$)' "$tmp/rec"
dnfc "$MX" "$OUT/private" upgrade >"$tmp/mx.up2" 2>&1
check "the mail server's dnf upgrade installs it too" \
    [ "$(rpm --root "$MX" -q --qf '%{VERSION}' dkim-keys-private)" = "$rv" ]
check "and the revoked private key is gone from the mail server" \
    [ ! -e "$MX/etc/dkim-keys/keys/example.com/$sel.private" ]
dk -C "$R" package >"$tmp/again" 2>&1
check "packaging the revoke again reuses its version (no new build)" \
    grep -q "is already built (version $rv)" "$tmp/again"

# --- a planted dkim-keys-private-99 with a %post, and a misplaced one
mkdir "$tmp/plant"
"$TOOL" build -t private -o "$tmp/plant" -n dkim-keys-private -V 99 \
    -c 0123456789abcdef0123456789abcdef01234567 -T 1795353300 \
    -p 'touch /planted' 'f:/etc/planted:0644:root:root=x' >/dev/null
cp "$tmp/plant/dkim-keys-private-99-1.noarch.rpm" "$OUT/private/"
cp "$OUT/private/dkim-keys-private-$rv-1.noarch.rpm" \
    "$OUT/public/misplaced.rpm"
gitq -C "$R" commit -q --allow-empty -m "a commit to package"
nv=$(newest public)
check "the planted version 99 does not decide the next version" \
    [ "$nv" = $((rv + 1)) ]
check "the warning names the planted file" grep -qxF \
    "dkimrot: warning: not indexing '$OUT/private/dkim-keys-private-99-1.noarch.rpm': dkimrot did not build it (it is not in the build ledger)" \
    "$R/.git/dkimrot-package.log"
check "the warning names the misplaced file" grep -qxF \
    "dkimrot: warning: not indexing '$OUT/public/misplaced.rpm': a package named 'dkim-keys-private' has no place in the dkim-keys-public repository" \
    "$R/.git/dkimrot-package.log"
primary "$OUT/private" >"$tmp/priv.primary"
primary "$OUT/public" >"$tmp/pub.primary"
check "neither is in the repodata" eval \
    'not grep -q " 99$" "$tmp/priv.primary" &&
    not grep -q "^dkim-keys-private" "$tmp/pub.primary" &&
    grep -qx "dkim-keys-private $nv" "$tmp/priv.primary"'
check "both are left on disk for the operator" \
    eval '[ -f "$OUT/private/dkim-keys-private-99-1.noarch.rpm" ] &&
    [ -f "$OUT/public/misplaced.rpm" ]'
dnfc "$MX" "$OUT/private" upgrade >"$tmp/mx.up3" 2>&1
check "the mail server upgrades to ours, not to 99, and ran no %post" \
    eval '[ "$(rpm --root "$MX" -q --qf '\''%{VERSION}'\'' dkim-keys-private)" = \
    "$nv" ] && [ ! -e "$MX/planted" ]'

# --- a NAME-VERSION of another commit is never replaced
next=$((nv + 1))
"$TOOL" build -t public -o "$OUT/public" -n dkim-keys-public -V "$next" \
    -c fedcba9876543210fedcba9876543210fedcba98 -T 1795353300 \
    'f:/var/lib/dkim-zones/x.zone:0644:root:root=x' >/dev/null
sum=$(sha256sum <"$OUT/public/dkim-keys-public-$next-1.noarch.rpm")
gitq -C "$R" -c core.hooksPath=/dev/null commit -q --allow-empty -m next
head=$(git -C "$R" rev-parse HEAD)
expect "a package of another commit at the next version is refused" 1 \
    "dkimrot: refusing to replace '$OUT/public/dkim-keys-public-$next-1.noarch.rpm': it is not a build of commit $(echo "$head" | cut -c1-12) (VCS 'fedcba9876543210fedcba9876543210fedcba98'); move it away" \
    -C "$R" -q package
check "nothing was replaced or built" \
    eval '[ "$(sha256sum <"$OUT/public/dkim-keys-public-$next-1.noarch.rpm")" = \
    "$sum" ] && [ ! -e "$OUT/private/dkim-keys-private-$next-1.noarch.rpm" ]'
# One that names this very commit but that the ledger does not vouch
# for (an output copied from elsewhere) is refused, and the message says
# what probably happened.
"$TOOL" build -t public -o "$OUT/public" -n dkim-keys-public -V "$next" \
    -c "$head" -T 1795353300 \
    'f:/var/lib/dkim-zones/x.zone:0644:root:root=x' >/dev/null
expect "one naming this commit, unvouched, is refused as copied or moved" \
    1 "dkimrot: refusing to replace '$OUT/public/dkim-keys-public-$next-1.noarch.rpm': it says it is a build of commit $(echo "$head" | cut -c1-12), but the build ledger does not vouch for it here (was the output copied or moved?); move it away" \
    -C "$R" -q package
rm -f "$OUT/public/dkim-keys-public-$next-1.noarch.rpm"
"$TOOL" build -t public -o "$OUT/public" -n dkim-keys-public -V "$next" \
    -c fedcba9876543210fedcba9876543210fedcba98 -T 1795353300 \
    'f:/var/lib/dkim-zones/x.zone:0644:root:root=x' >/dev/null

# --- a private repository others can read is refused, not mended
chmod 0755 "$OUT/private"
expect "a private repository that everyone can read is refused" 1 \
    "dkimrot: refusing the private repository '$OUT/private': mode 0755 lets every user read the private keys (chmod o-rwx '$OUT/private')" \
    -C "$R" -q package
check "and its mode is left as it was" \
    [ "$(stat -c %a "$OUT/private")" = 755 ]
chmod 2750 "$OUT/private"
dk -C "$R" -q package --rev HEAD~1 >/dev/null 2>"$tmp/sgid.err"
rc=$?
check "a set-group-ID 2750 one is used as it is" eval \
    '[ $rc = 0 ] && [ "$(stat -c %a "$OUT/private")" = 2750 ]'

# --- an old single-directory output is moved into the two repositories
M=$tmp/old
dk -C "$M" --now 2026-11-20T00:00:00Z init -d example.net >/dev/null
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' "$M/dkimrot.yaml"
gitq -C "$M" commit -qam "test configuration"
mv "$M"/rpms/private/*.rpm "$M"/rpms/public/*.rpm "$M/rpms/"
rm -rf "$M/rpms/private" "$M/rpms/public"
createrepo_c -q "$M/rpms"
cp "$tmp/plant/dkim-keys-private-99-1.noarch.rpm" "$M/rpms/other-1-1.noarch.rpm"
dk -C "$M" package >"$tmp/mig.out" 2>"$tmp/mig.err"
rc=$?
check "the old output is migrated, with one warning" eval \
    '[ $rc = 0 ] && [ "$(grep -c warning "$tmp/mig.err")" = 1 ] &&
    grep -qxF "dkimrot: warning: moved the single repository '\''$M/rpms'\'' (2 packages) into '\''$M/rpms/private'\'' and '\''$M/rpms/public'\'' and removed its repodata/; point mail servers and name servers at their own repository" "$tmp/mig.err"'
check "the old repodata/ is gone, each repository has its own" \
    eval '[ ! -e "$M/rpms/repodata" ] && [ "$(primary "$M/rpms/private")" = \
    "dkim-keys-private 2" ] && [ "$(primary "$M/rpms/public")" = \
    "dkim-keys-public 2" ]'
check "each package moved with its mode; anything else stays" \
    eval '[ "$(stat -c %a "$M/rpms/private/dkim-keys-private-2-1.noarch.rpm" \
    "$M/rpms/public/dkim-keys-public-2-1.noarch.rpm" | tr '\''\n'\'' '\'' '\'')" = \
    "640 644 " ] && [ -f "$M/rpms/other-1-1.noarch.rpm" ]'
