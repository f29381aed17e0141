#!/bin/sh
# docs/design.md §7 end to end: a commit becomes two RPMs through the
# post-commit hook (after 'dkimrot rotate' and after a plain 'git commit'); rpm
# reads them, installs and upgrades them in an rpm root, dnf installs from the
# yum repository, and NSD serves the installed zone fragment.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/nsd.sh"
. "$DKIMROT_SRC/tests/lib/rpmroot.sh"
trap 'nsd_stop "$tmp/ns" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
R=$tmp/repo
OUT=$R/rpms
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1

# Unsigned until "signed packages" below (tests/e2e/sign.sh has init's key).
dk -C "$R" --now 2026-11-20T00:00:00Z init --no-sign -d example.com \
    -d example.org >/dev/null
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' \
    -e 's|zone_dir: .*|zone_dir: /var/lib/dkim-zones|' \
    -e 's|mta_reload: .*|mta_reload: "echo reloaded > /mta-reloaded"|' \
    "$R/dkimrot.yaml"
sed -i 's/^  - name: example.org$/  - name: example.org\n    algorithms: [rsa, ed25519]/' \
    "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "test configuration"
check "a plain git commit builds packages through the hook" \
    [ -f "$OUT/private/dkim-keys-private-2-1.noarch.rpm" ]
check "a plain git commit builds packages through the hook (2)" \
    [ -f "$OUT/public/dkim-keys-public-2-1.noarch.rpm" ]
dk -C "$R" --now 2026-11-20T00:00:00Z -q rotate >/dev/null
dk -C "$R" --now 2026-11-21T00:00:00Z -q rotate >/dev/null
check "dkimrot rotate builds packages through the hook" \
    [ -f "$OUT/private/dkim-keys-private-4-1.noarch.rpm" ]
check "dkimrot rotate builds packages through the hook (2)" \
    [ -f "$OUT/public/dkim-keys-public-4-1.noarch.rpm" ]
check "the hook logged to .git/dkimrot-package.log" \
    grep -q 'dkim-keys-public-4-1.noarch.rpm' "$R/.git/dkimrot-package.log"
check "each output repository is a yum repository" \
    eval '[ -f "$OUT/private/repodata/repomd.xml" ] &&
    [ -f "$OUT/public/repodata/repomd.xml" ]'
head=$(git -C "$R" rev-parse HEAD)
priv=$OUT/private/dkim-keys-private-4-1.noarch.rpm
pub=$OUT/public/dkim-keys-public-4-1.noarch.rpm
check "Version is the first-parent count, VCS the commit" \
    [ "$(rpm -qp --qf '%{VERSION}-%{RELEASE} %{VCS}' "$pub" 2>/dev/null)" = \
    "4-1 $head" ]
rpm -qlvp "$priv" 2>/dev/null >"$tmp/priv.list"
keys=$(cd "$R/keys" && ls */*.private | sort | tr '\n' ' ')
got=$(awk '/\.private$/ { print $NF }' "$tmp/priv.list" |
    sed 's|^/etc/dkim-keys/keys/||' | sort | tr '\n' ' ')
check "the private package holds exactly the published keys" \
    eval '[ "$keys" = "$got" ] && [ -n "$got" ]'
check "keys are 0600 opendkim:opendkim" \
    [ "$(awk '/\.private$/ { print $1, $3, $4 }' "$tmp/priv.list" |
    sort -u)" = "-rw------- opendkim opendkim" ]
rpmlint -r "$DKIMROT_SRC/specs/dkim-keys.rpmlintrc" "$priv" "$pub" \
    >"$tmp/lint" 2>&1
grep ' E: ' "$tmp/lint" | grep -v ' E: no-signature$' >"$tmp/lint.err"
check "rpmlint finds no errors but the missing signature" \
    [ ! -s "$tmp/lint.err" ]
check "rpmlint did check both packages (no-signature twice)" \
    [ "$(grep -c ' E: no-signature$' "$tmp/lint")" = 2 ]
if [ -s "$tmp/lint.err" ]; then diag "$tmp/lint.err"; fi
mkdir "$tmp/x" && (cd "$tmp/x" && rpm2cpio "$priv" | cpio -idm 2>/dev/null)
sel=$(cd "$R/keys/example.com" && ls *.private | sed 's/.private//')
check "KeyTable names the active key" \
    grep -qx "$sel._domainkey.example.com example.com:$sel:/etc/dkim-keys/keys/example.com/$sel.private" \
    "$tmp/x/etc/dkim-keys/KeyTable"
# Released OpenDKIM signs with one algorithm: the single table is RSA
# only, each algorithm's instance has its own.
sg() { grep -c "^\*@$1 [0-9]*$2\._domainkey\.$1\$" "$tmp/x/etc/dkim-keys/$3"; }
check "SigningTable has the RSA key of each domain only" \
    [ "$(sg example.org r SigningTable) $(sg example.org e SigningTable)" = "1 0" ]
check "SigningTable names the active key" \
    grep -qx "\*@example.com $sel._domainkey.example.com" \
    "$tmp/x/etc/dkim-keys/SigningTable"
check "SigningTable.rsa and .ed25519 each have the dual domain's key of theirs" \
    [ "$(sg example.org r SigningTable.rsa) $(sg example.org e SigningTable.rsa) $(sg example.org e SigningTable.ed25519) $(sg example.org r SigningTable.ed25519)" = "1 0 1 0" ]
mkdir "$tmp/y" && (cd "$tmp/y" && rpm2cpio "$pub" | cpio -idm 2>/dev/null)
leak=0
grep -rq 'PRIVATE KEY' "$tmp/y" && leak=1
for k in "$R"/keys/*/*.private; do
	# Every line of every key's base64 body, searched in every file.
	grep -v '^-----' "$k" >"$tmp/body"
	grep -rqF -f "$tmp/body" "$tmp/y" && leak=1
done
check "the public package holds no private key material (by content)" \
    [ $leak = 0 ]
check "the public package holds one zone fragment per domain" \
    [ "$(ls "$tmp/y/var/lib/dkim-zones" | tr '\n' ' ')" = \
    "example.com.zone example.org.zone " ]

# --- rpm --root: install, upgrade
ROOT=$tmp/root
rpmroot_make "$ROOT"
mkdir -p "$tmp/stub" && rpmroot_stub "$tmp/stub"
rpm --root "$ROOT" -i "$tmp/stub/sh-stub-1-1.noarch.rpm" "$priv" "$pub" \
    >"$tmp/rpm.out" 2>&1
check "rpm --root installs both packages" [ $? = 0 ]
check "the installed key is 0600 opendkim:opendkim, not root's" \
    [ "$(stat -c '%a %U:%G' \
    "$ROOT/etc/dkim-keys/keys/example.com/$sel.private")" = "600 opendkim:opendkim" ]
grep -q 'does not exist' "$tmp/rpm.out"
check "rpm did not warn of a missing user" [ $? != 0 ]
# No key owner and no useradd (an empty root): %pre refuses the install
# rather than leave root-owned keys the signer cannot read.
NROOT=$tmp/nousers
rpmroot_nousers "$NROOT" || bail "rpmroot_nousers failed"
rpm --root "$NROOT" -i "$tmp/stub/sh-stub-1-1.noarch.rpm" "$priv" \
    >"$tmp/rpm.out" 2>&1
rc=$?
check "without the key owner and useradd, %pre fails the install (exit $rc)" \
    eval '[ $rc != 0 ] && [ ! -e "$NROOT/etc/dkim-keys/keys" ] &&
    grep -qx "dkim-keys-private: no group '"'opendkim'"' (packaging.key_group) and groupadd failed" "$tmp/rpm.out"'
check "%post ran the configured reload" grep -qx reloaded "$ROOT/mta-reloaded"
dk -C "$R" --now 2026-12-21T00:00:00Z -q rotate >/dev/null
check "the next rotation built version 5" \
    [ -f "$OUT/public/dkim-keys-public-5-1.noarch.rpm" ]
rpm --root "$ROOT" -U "$OUT/private/dkim-keys-private-5-1.noarch.rpm" \
    "$OUT/public/dkim-keys-public-5-1.noarch.rpm" >"$tmp/rpm.out" 2>&1
check "rpm -U upgrades them" [ "$(rpm --root "$ROOT" -q --qf '%{VERSION} ' \
    dkim-keys-private dkim-keys-public)" = "5 5 " ]
new=$(git -C "$R" show --format= --name-only HEAD |
    sed -n 's|^keys/example.com/\(.*\)\.private$|\1|p')
check "the upgrade brought the new key" \
    [ -f "$ROOT/etc/dkim-keys/keys/example.com/$new.private" ]
dk -C "$R" package >"$tmp/again" 2>&1
check "packaging the same commit again is a no-op" \
    grep -q 'already built' "$tmp/again"

# --- dnf from the repository
DROOT=$tmp/droot
rpmroot_make "$DROOT"
createrepo_c -q "$tmp/stub"
dnf -q -y --installroot "$DROOT" --releasever 1 --setopt=reposdir=/dev/null \
    --setopt=install_weak_deps=False --nogpgcheck \
    --repofrompath "dk,file://$OUT/public" \
    --repofrompath "stub,file://$tmp/stub" \
    --repo dk --repo stub install dkim-keys-public >"$tmp/dnf.out" 2>&1
check "dnf installs dkim-keys-public from the yum repository" \
    [ -f "$DROOT/var/lib/dkim-zones/example.com.zone" ]
[ -f "$DROOT/var/lib/dkim-zones/example.com.zone" ] || diag "$tmp/dnf.out"

# --- NSD serves the installed fragment
mkdir "$tmp/ns"
cat >"$tmp/ns/example.com.zone" <<EOF
\$ORIGIN example.com.
\$TTL 3600
@	IN	SOA	ns.example.com. hostmaster.example.com. 1 3600 600 86400 300
@	IN	NS	ns.example.com.
ns	IN	A	127.0.0.1
\$INCLUDE $ROOT/var/lib/dkim-zones/example.com.zone
EOF
nsd_start "$tmp/ns" example.com example.com.zone
sels=$(awk '/\._domainkey\.example\.com\./ { sub(/\._domainkey.*/, "", $1);
    print $1 }' "$ROOT/var/lib/dkim-zones/example.com.zone")
all=1
for s in $sels; do
	got=$(dig +short -p "$NSD_PORT" @127.0.0.1 "$s._domainkey.example.com" TXT |
	    sed 's/" "//g; s/"//g')
	want=$(/usr/bin/python3 -c '
import sys, re
t = open(sys.argv[1]).read()
m = re.search(re.escape(sys.argv[2]) + r"\._domainkey\.example\.com\.[^(]*\((.*?)\)", t, re.S)
print("".join(re.findall(r"\"((?:[^\"\\\\]|\\\\.)*)\"", m.group(1))))
' "$ROOT/var/lib/dkim-zones/example.com.zone" "$s")
	[ -n "$got" ] && [ "$got" = "$want" ] || { all=0; echo "# $s: got '$got' want '$want'"; }
done
check "NSD serves every published selector's full record ($(echo $sels | wc -w))" \
    eval '[ $all = 1 ] && [ -n "$sels" ]'

# --- signed packages, through the configuration
export GNUPGHOME=$tmp/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key \
    'dkimrot test <sign@example.test>' rsa2048 sign never 2>/dev/null
# A key of $GNUPGHOME: gnupg_home stays empty.
sed -i 's|^  sign_key: .*|  sign_key: "sign@example.test"|' "$R/dkimrot.yaml"
grep -q '^  sign_key: "sign@example.test"' "$R/dkimrot.yaml" ||
    echo "# dkimrot.yaml has no sign_key line to set"
gitq -C "$R" commit -qam "sign the packages"
v=$(git -C "$R" rev-list --first-parent --count HEAD)
check "the public key is exported into both repositories" \
    eval 'grep -q '\''BEGIN PGP PUBLIC KEY BLOCK'\'' "$OUT/private/RPM-GPG-KEY-dkimrot" &&
    cmp -s "$OUT/private/RPM-GPG-KEY-dkimrot" "$OUT/public/RPM-GPG-KEY-dkimrot"'
KROOT=$tmp/kroot
rpm --root "$KROOT" --initdb &&
    rpm --root "$KROOT" --import "$OUT/public/RPM-GPG-KEY-dkimrot"
rpm --root "$KROOT" -K "$OUT/private/dkim-keys-private-$v-1.noarch.rpm" \
    "$OUT/public/dkim-keys-public-$v-1.noarch.rpm" >"$tmp/k.out" 2>&1
check "both signed packages pass rpm -K" \
    [ "$(grep -c 'digests signatures OK' "$tmp/k.out")" = 2 ]
SROOT=$tmp/sroot
rpmroot_make "$SROOT"
rpm --root "$SROOT" --import "$OUT/private/RPM-GPG-KEY-dkimrot"
dnf -q -y --installroot "$SROOT" --releasever 1 --setopt=reposdir=/dev/null \
    --setopt=install_weak_deps=False \
    --repofrompath "dk,file://$OUT/private" \
    --repofrompath "stub,file://$tmp/stub" --setopt=dk.gpgcheck=1 --setopt=stub.gpgcheck=0 \
    --repo dk --repo stub install dkim-keys-private >"$tmp/dnf2.out" 2>&1
check "dnf with gpgcheck=1 installs the signed private package" \
    [ "$(rpm --root "$SROOT" -q --qf '%{VERSION}' dkim-keys-private)" = "$v" ]

# --- a domain dropped from the configuration keeps its records
sed -i '/^  - name: example.com$/d' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "stop managing example.com"
v=$(git -C "$R" rev-list --first-parent --count HEAD)
rpm -qlp "$OUT/public/dkim-keys-public-$v-1.noarch.rpm" >"$tmp/dropped" 2>/dev/null
check "a domain dropped from dkimrot.yaml keeps its zone fragment" \
    grep -qx /var/lib/dkim-zones/example.com.zone "$tmp/dropped"
check "and the hook said why" \
    grep -q 'example.com: not in dkimrot.yaml; its keys stay' \
    "$R/.git/dkimrot-package.log"

# --- a build tree left by a killed package run (keys in it) is removed
# by the next run; a live run's is not
KT=$tmp/ktmp
mkdir -p "$KT"
sh -c 'exit 0' &
dead=$!
wait $dead
mkdir -p "$KT/dkimrot-rpm.$dead.AbC123/BUILDROOT/root" "$KT/dkimrot-rpm.$$.XyZ789"
: >"$KT/dkimrot-rpm.$dead.AbC123/BUILDROOT/root/k.private"
TMPDIR=$KT dk -C "$R" package --output "$tmp/out2" >"$tmp/sweep" 2>&1
check "a killed build's tree is removed by the next package run" \
    [ ! -e "$KT/dkimrot-rpm.$dead.AbC123" ]
check "and the run says so" grep -q \
    "removing '$KT/dkimrot-rpm.$dead.AbC123', left by process $dead" \
    "$tmp/sweep"
check "a live process's tree is left alone, the run's own is gone" \
    [ "$(ls "$KT")" = "dkimrot-rpm.$$.XyZ789" ]
check "the run built both packages" \
    [ "$(ls "$tmp/out2/private" "$tmp/out2/public" | grep -c '\.rpm$')" = 2 ]
echo "1..$n"
