#!/bin/sh
# Signing's refusals and its opt-out: init --no-sign and --sign-key,
# the warning of every unsigned package run, and the bad input of
# docs/bad-input.md G1 to G5 and N11, each with its exact message and exit code
# and nothing built.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
R=$tmp/repo
U=$tmp/unsigned
G=$R/.git/dkimrot-gnupg
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1 GNUPGHOME="$tmp/gnupg"
trap 'gpgconf --homedir "$G" --kill gpg-agent 2>/dev/null
    gpgconf --homedir "$GNUPGHOME" --kill gpg-agent 2>/dev/null
    rm -rf "$tmp"' EXIT INT TERM
now=2026-11-22T13:15:00Z
warn="dkimrot: warning: packages and repository metadata are not signed (packaging.sign_key is empty): clients cannot use gpgcheck"

echo "1..21"

# --- init --no-sign: no key, no GnuPG home, and package says so
dk -C "$U" --now $now init --no-sign -d a.example >"$tmp/out" 2>&1
echo "initialized key repository '$U' with 1 domain" >"$tmp/want"
check "init --no-sign makes no key" same "$tmp/want" "$tmp/out"
check "and no GnuPG home" [ ! -e "$U/.git/dkimrot-gnupg" ]
check "dkimrot.yaml signs nothing" \
    grep -qx '  sign_key: ""' "$U/dkimrot.yaml"
rm "$U/.git/hooks/post-commit"
sed -i 's/rsa_bits: 2048/rsa_bits: 1024/' "$U/dkimrot.yaml"
gitq -C "$U" commit -qam "small keys for the test"
dk -C "$U" --now $now rotate >/dev/null 2>&1
dk -C "$U" package >/dev/null 2>"$tmp/err"
echo "$warn" >"$tmp/want"
check "an unsigned package run warns, in one line" same "$tmp/want" "$tmp/err"
dk -C "$U" package >/dev/null 2>"$tmp/err"
printf '%s\n' "$warn" "dkimrot: commit $(git -C "$U" rev-parse --short=12 \
    HEAD) is already built (version 3)" >"$tmp/want"
check "on every run" same "$tmp/want" "$tmp/err"
check "and its metadata has no signature" \
    [ -f "$U/rpms/private/repodata/repomd.xml" -a \
    ! -e "$U/rpms/private/repodata/repomd.xml.asc" -a \
    -f "$U/rpms/public/repodata/repomd.xml" -a \
    ! -e "$U/rpms/public/repodata/repomd.xml.asc" ]
expect "N11: init --no-sign with --sign-key" 2 \
    "dkimrot: --no-sign and --sign-key 'k' exclude each other" \
    -C "$tmp/x" init --no-sign --sign-key k
check "N11: and makes nothing" [ ! -e "$tmp/x" ]

env PATH=/nonexistent "$DKIMROT" -C "$tmp/nogpg" init >/dev/null \
    2>"$tmp/err"
rc=$?
echo "dkimrot: cannot make a signing key: no gpg program in PATH (install GnuPG, or use --no-sign)" \
    >"$tmp/want"
check "G5: init without gpg in PATH exits 2" [ $rc = 2 ]
check "G5: and says why" same "$tmp/want" "$tmp/err"
check "G5: making nothing" [ ! -e "$tmp/nogpg" ]

# --- init --sign-key: a key the operator has, in $GNUPGHOME
mkdir -m 700 "$GNUPGHOME"
gpg --batch --pinentry-mode loopback --passphrase '' --quick-gen-key \
    'Ops <ops@example.test>' rsa3072 sign never 2>/dev/null
dk -C "$tmp/ops" --now $now init --sign-key ops@example.test >"$tmp/out" 2>&1
check "init --sign-key takes an existing key" \
    grep -qx '  sign_key: ops@example.test' "$tmp/ops/dkimrot.yaml"
check "and leaves gnupg_home to \$GNUPGHOME" \
    grep -qx '  gnupg_home: ""' "$tmp/ops/dkimrot.yaml"
expect "G4: init --sign-key of a key gpg does not have" 2 \
    "dkimrot: cannot sign with key 'nobody@example.test': gpg has no secret key of that name in '\$GNUPGHOME or ~/.gnupg'" \
    -C "$tmp/nobody" init --sign-key nobody@example.test

# --- package refuses keys and homes gpg would not trust
dk -C "$R" --now $now init -d a.example >/dev/null 2>&1
rm "$R/.git/hooks/post-commit"
sed -i 's/rsa_bits: 2048/rsa_bits: 1024/' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "small keys for the test"
dk -C "$R" --now $now rotate >/dev/null 2>&1
fpr=$(sed -n 's/^  sign_key: //p' "$R/dkimrot.yaml")
# pkgexpect DESC CODE WANT: package exits CODE saying WANT, builds nothing
pkgexpect() {
	expect "$1" "$2" "$3" -C "$R" package
	check "$1: nothing built" [ ! -e "$R/rpms" ]
}
sed -i 's/^  sign_key: .*/  sign_key: nobody@example.test/' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "G1"
pkgexpect "G1: a sign_key gpg does not have" 2 \
    "dkimrot: cannot sign with key 'nobody@example.test': gpg has no secret key of that name in '$G'"
sed -i "s/^  sign_key: .*/  sign_key: $fpr/" "$R/dkimrot.yaml"
sed -i 's/^  gnupg_home: .*/  gnupg_home: .git\/no-such-gnupg/' \
    "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "G2"
pkgexpect "G2: a gnupg_home that is missing" 2 \
    "dkimrot: cannot use gnupg home '$R/.git/no-such-gnupg': No such file or directory"
sed -i 's/^  gnupg_home: .*/  gnupg_home: .git\/dkimrot-gnupg/' \
    "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "G3"
chmod 750 "$G"
pkgexpect "G3: a gnupg_home group can read" 2 \
    "dkimrot: unsafe gnupg home '$G': mode 0750 lets group or others in; run 'chmod 700' on it"
chmod 700 "$G"
dk -C "$R" package >"$tmp/out" 2>"$tmp/err"
check "put right, package signs" \
    [ $? = 0 -a -s "$R/rpms/private/repodata/repomd.xml.asc" -a \
    -s "$R/rpms/public/repodata/repomd.xml.asc" ]
