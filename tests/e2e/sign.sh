#!/bin/sh
# Signed by default: 'init' makes the repository's own key, 'package'
# signs both packages and repodata/repomd.xml, real dnf with gpgcheck=1
# and repo_gpgcheck=1 installs from it and refuses tampered metadata,
# the same commit builds the same bytes, and kept builds follow a new
# key.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/rpmroot.sh"
. "$DKIMROT_SRC/tests/lib/signkey.sh"
R=$tmp/repo
# The private repository (rotator/output.h); ALL holds both.
ALL=$R/rpms
OUT=$ALL/private
G=$R/.git/dkimrot-gnupg
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1
# The repository's gpg-agent, stopped by its home, not by name.
trap 'gpgconf --homedir "$G" --kill gpg-agent 2>/dev/null
    gpgconf --homedir "$tmp/keyring" --kill gpg-agent 2>/dev/null
    gpgconf --homedir "$tmp/other" --kill gpg-agent 2>/dev/null
    rm -rf "$tmp"' EXIT INT TERM

echo "1..19"

dk -C "$R" --now 2026-11-20T00:00:00Z init -d example.com >"$tmp/init" \
    2>&1
check "init makes a signing key by default" [ $? = 0 ]
fpr=$(sed -n 's/^  sign_key: \([0-9A-F]\{40\}\)$/\1/p' "$R/dkimrot.yaml")
home=$(grep -x '  gnupg_home: ".git/dkimrot-gnupg"' "$R/dkimrot.yaml")
check "dkimrot.yaml names it by fingerprint, in its own GnuPG home" \
    [ -n "$fpr" -a -n "$home" ]
printf '%s%s\n%s\n' "made signing key $fpr in '$R/.git/dkimrot-gnupg';" \
    " back it up: clones do not carry it" \
    "initialized key repository '$R' with 1 domain" >"$tmp/want"
check "init says where the key is" same "$tmp/want" "$tmp/init"
gpg --homedir "$G" --with-colons --list-secret-keys "$fpr" >"$tmp/sec" \
    2>/dev/null
sec=$(grep -c "^sec:u:3072:1:[0-9A-F]*:[0-9]*:::" "$tmp/sec")
check "the GnuPG home is 0700, and the key is RSA 3072 without expiry" \
    [ "$(stat -c %a "$G")" = 700 -a "$sec" = 1 ]
check "nothing of it is committed" \
    [ -z "$(git -C "$R" ls-files | grep -v '^dkimrot.yaml$\|^.gitignore$')" ]

sed -i 's/rsa_bits: 2048/rsa_bits: 1024/' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "small keys for the test"
dk -C "$R" --now 2026-11-20T00:00:00Z -q rotate >/dev/null
dk -C "$R" --now 2026-11-21T00:00:00Z -q rotate >/dev/null
v=$(git -C "$R" rev-list --first-parent --count HEAD)
check "rotate built signed packages through the hook" \
    [ -f "$OUT/dkim-keys-private-$v-1.noarch.rpm" -a \
    -f "$OUT/repodata/repomd.xml.asc" ]
# Another keyring, holding only what the repository publishes.
K=$tmp/keyring
mkdir -m 700 "$K"
gpg --homedir "$K" --batch --quiet --import "$OUT/RPM-GPG-KEY-dkimrot" \
    2>/dev/null
gpg --homedir "$K" --batch --status-fd 1 --verify \
    "$OUT/repodata/repomd.xml.asc" "$OUT/repodata/repomd.xml" \
    >"$tmp/verify" 2>/dev/null
check "repomd.xml.asc verifies with the exported key alone" \
    grep -q "^\[GNUPG:\] VALIDSIG $fpr " "$tmp/verify"

# --- real dnf, gpgcheck=1 and repo_gpgcheck=1, the README's .repo file
mkdir -p "$tmp/stub" && rpmroot_stub "$tmp/stub" && createrepo_c -q "$tmp/stub"
rpmroot_repofile "$OUT" "$tmp/stub" >"$tmp/dkim.repo"
mkdir "$tmp/repos.d" && cp "$tmp/dkim.repo" "$tmp/repos.d/"
# dnf ROOT REPOSDIR ARGS...
dnfroot() {
	_root=$1 _dir=$2
	shift 2
	rpmroot_make "$_root" &&
	dnf -y --installroot "$_root" --releasever 1 --setopt=reposdir="$_dir" \
	    --setopt=install_weak_deps=False --setopt=cachedir="$_root/cache" \
	    "$@"
}
dnfroot "$tmp/d1" "$tmp/repos.d" install dkim-keys-private \
    >"$tmp/dnf1" 2>&1
check "dnf with gpgcheck=1 and repo_gpgcheck=1 installs dkim-keys-private" \
    [ "$(rpm --root "$tmp/d1" -q --qf '%{VERSION}' dkim-keys-private)" = "$v" ]
[ "$(rpm --root "$tmp/d1" -q --qf '%{VERSION}' dkim-keys-private)" = "$v" ] ||
    diag "$tmp/dnf1"
# The same repository with one byte of repomd.xml changed.
cp -a "$OUT" "$tmp/bad"
sed -i 's|<revision>|<revision>1|' "$tmp/bad/repodata/repomd.xml"
mkdir "$tmp/bad.d"
sed "s|file://$OUT|file://$tmp/bad|" "$tmp/dkim.repo" >"$tmp/bad.d/dkim.repo"
dnfroot "$tmp/d2" "$tmp/bad.d" install dkim-keys-private >"$tmp/dnf2" 2>&1
rpm --root "$tmp/d2" -q dkim-keys-private >"$tmp/q2" 2>&1
check "a tampered repomd.xml is refused" \
    grep -qx 'package dkim-keys-private is not installed' "$tmp/q2"
check "for its signature" \
    grep -q 'repomd.xml GPG signature verification error: Bad GPG signature' \
    "$tmp/dnf2"
# A package re-signed by another key, in metadata the repository's key
# signed: the package's own signature is what dnf refuses.
O=$tmp/other
mkdir -m 700 "$O"
gpg --homedir "$O" --batch --pinentry-mode loopback --passphrase '' \
    --quick-gen-key 'other <other@example.test>' rsa3072 sign never \
    2>/dev/null
cp -a "$OUT" "$tmp/resigned"
GNUPGHOME=$O "$DKIMROT_BUILD/tools/rpmtool" sign \
    "$tmp/resigned/dkim-keys-private-$v-1.noarch.rpm" other@example.test \
    >/dev/null 2>&1
"$DKIMROT_BUILD/tools/rpmtool" repo "$tmp/resigned" 0 >/dev/null 2>&1
gpg --homedir "$G" --batch --yes --armor --local-user "$fpr" \
    --output "$tmp/resigned/repodata/repomd.xml.asc" \
    --detach-sign "$tmp/resigned/repodata/repomd.xml" 2>/dev/null
mkdir "$tmp/resigned.d"
sed "s|file://$OUT|file://$tmp/resigned|" "$tmp/dkim.repo" \
    >"$tmp/resigned.d/dkim.repo"
dnfroot "$tmp/d3" "$tmp/resigned.d" install dkim-keys-private \
    >"$tmp/dnf3" 2>&1
rpm --root "$tmp/d3" -q dkim-keys-private >"$tmp/q3" 2>&1
check "a package signed by another key is refused" \
    grep -qx 'package dkim-keys-private is not installed' "$tmp/q3"
check "for its signature, not the metadata's" grep -q \
    "^Public key for dkim-keys-private-$v-1.noarch.rpm is not installed" \
    "$tmp/dnf3"

# --- the same commit, the same key: the same bytes
dk -C "$R" package --output "$tmp/again" >/dev/null 2>&1
# Signed, by the repository's key (its long id ends the fingerprint).
id=$(printf '%s' "$fpr" | cut -c25-40 | tr A-F a-f)
rpm -qp --qf '%{RSAHEADER:pgpsig}\n' "$tmp/again"/*/*.rpm >"$tmp/sigs" \
    2>/dev/null
check "the same commit and key build byte-identical packages" \
    [ "$(grep -c "Key ID $id\$" "$tmp/sigs")" = 2 -a \
    "$(cd "$ALL" && sha256sum */dkim-keys-p*-$v-1.noarch.rpm)" = \
    "$(cd "$tmp/again" && sha256sum */dkim-keys-p*-$v-1.noarch.rpm)" ]

# --- a new key: every kept build is signed by it
signkey_new "$G" "$R"
gitq -C "$R" commit -qam "a new signing key"
ls "$ALL"/*/*.rpm >"$tmp/kept"
check "four builds of each package are kept" \
    [ "$(wc -l <"$tmp/kept")" = 8 ]
rpm --root "$tmp/k" --initdb
gpg --homedir "$G" --batch --armor --export "$new" >"$tmp/new.asc" 2>/dev/null
rpm --root "$tmp/k" --import "$tmp/new.asc"
rpm --root "$tmp/k" -K $(cat "$tmp/kept") >"$tmp/k.out" 2>&1
check "rpm -K passes on every kept build with only the new key" \
    [ "$(grep -c ': digests signatures OK$' "$tmp/k.out")" = 8 ]
grep -v ': digests signatures OK$' "$tmp/k.out" | diag
check "the hook said so" \
    grep -q \
    "re-signed '$OUT/dkim-keys-private-2-1.noarch.rpm' with key '$new'" \
    "$R/.git/dkimrot-package.log"
gpg --homedir "$K" --batch --with-colons --show-keys \
    "$OUT/RPM-GPG-KEY-dkimrot" >"$tmp/shown" 2>/dev/null
check "the exported key is the new one" \
    grep -qx "fpr:::::::::$new:" "$tmp/shown"
sha256sum "$ALL"/*/*.rpm >"$tmp/sums"
dk -C "$R" package >"$tmp/pkg" 2>&1
sha256sum "$ALL"/*/*.rpm >"$tmp/sums2"
check "packaging again re-signs nothing" grep -q 'already built' "$tmp/pkg"
check "and changes no byte" cmp -s "$tmp/sums" "$tmp/sums2"
