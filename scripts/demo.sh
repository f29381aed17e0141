#!/bin/sh
# make demo: dkimrot's main job on a built-in sample.  A key repository
# for two domains (one signing with RSA and Ed25519) goes through a month
# and a half of rotations; every commit becomes dkim-keys-private and
# dkim-keys-public through the post-commit hook.  Everything lands in
# ./demo/ (made afresh each run) for you to look at; private keys are
# never printed.
set -eu

: "${DKIMROT:?set DKIMROT to the dkimrot binary (make demo does)}"
top=${DKIMROT_SRC:-.}
demo=$top/demo
repo=$demo/keys
rm -rf "$demo"
mkdir -p "$demo"

step() { printf '\n== %s\n' "$*"; }
dk() { "$DKIMROT" -C "$repo" "$@"; }

step "dkimrot init: a key repository for example.com and example.org"
dk --now 2026-11-22T12:00:00Z init -d example.com -d example.org
# example.org signs with both algorithms (dual signing).
sed -i 's/^  - name: example.org$/  - name: example.org\n    algorithms: [rsa, ed25519]/' \
    "$repo/dkimrot.yaml"
git -C "$repo" -c user.name=demo -c user.email=demo@example.com \
    commit -qam "example.org signs with rsa and ed25519"

for now in 2026-11-22T12:00:00Z 2026-11-23T12:00:00Z \
    2026-12-22T12:00:00Z 2026-12-23T12:00:00Z 2026-12-28T12:00:00Z \
    2027-01-21T12:00:00Z; do
	step "dkimrot rotate at $now"
	dk --now "$now" -q rotate
done

step "dkimrot status"
dk --now 2027-01-21T12:00:00Z status

step "the key repository's history (git log)"
git -C "$repo" log --format='%h %ad %s' --date=short

step "the two yum repositories the post-commit hook built"
ls -l "$repo/rpms/private" "$repo/rpms/public"
priv=$(ls "$repo"/rpms/private/dkim-keys-private-*.rpm | sort -t- -k4 -n |
    tail -n 1)
pub=$(ls "$repo"/rpms/public/dkim-keys-public-*.rpm | sort -t- -k4 -n |
    tail -n 1)

step "$(basename "$priv") (for the mail servers)"
rpm -qip "$priv" 2>/dev/null | grep -E '^(Name|Version|Release|VCS|Summary)'
rpm -qlvp "$priv" 2>/dev/null

# Only the tables and the signer's configuration come out of the
# private package here: never its keys.
rpm2cpio "$priv" | (cd "$demo" && cpio -idm --quiet \
    './etc/dkim-keys/KeyTable*' './etc/dkim-keys/SigningTable*' \
    './etc/dkim-keys/opendkim-*.conf' './etc/dkim-keys/postfix-milters.cf' \
    './usr/lib/systemd/system/opendkim@.service')
step "dual signing with released OpenDKIM: one instance per algorithm"
echo "(OpenDKIM 2.11.0~beta2 signs every KeyTable key with its one"
echo "SignatureAlgorithm; example.org's Ed25519 key is in its own tables)"
for f in KeyTable.rsa SigningTable.rsa KeyTable.ed25519 SigningTable.ed25519; do
	printf '\n-- /etc/dkim-keys/%s\n' "$f"
	cat "$demo/etc/dkim-keys/$f"
done
printf '\n-- /etc/dkim-keys/opendkim-ed25519.conf (settings)\n'
grep -v '^#' "$demo/etc/dkim-keys/opendkim-ed25519.conf"
printf '\n-- /etc/dkim-keys/postfix-milters.cf\n'
cat "$demo/etc/dkim-keys/postfix-milters.cf"
printf '\n-- on the mail server\n'
cat <<'EOF'
systemctl enable --now opendkim@rsa.service opendkim@ed25519.service
grep -v '^#' /etc/dkim-keys/postfix-milters.cf >>/etc/postfix/main.cf
postfix reload
dkimrot check --nagios --milter inet:8891@127.0.0.1 --milter inet:8892@127.0.0.1
EOF

step "$(basename "$pub") (for the name servers)"
rpm -qlvp "$pub" 2>/dev/null
step "its zone fragment for example.org"
rpm2cpio "$pub" | (cd "$demo" && cpio -idm --quiet)
cat "$demo/var/named/dkim/example.org.zone"

step "done: the repository is $repo, the packages are in $repo/rpms/private and $repo/rpms/public"
