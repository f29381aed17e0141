#!/bin/sh
# packaging.parts (packaging/parts.h, docs/design.md §7): the keys in
# part packages by rotation slot, dkim-keys-private requiring each at
# its exact version.  Real dnf with gpgcheck=1 and repo_gpgcheck=1
# installs the one name and gets every part; a later build rebuilds only
# the parts whose files changed, reading only their keys, and the
# upgrade leaves the files of the others alone; `rpm -U` wants the changed parts beside it; a lost
# record costs a rebuild, never a wrong package; parts turned off, the
# old ones are obsoleted and the keys stay.
set -u
. "$DKIMROT_SRC/tests/lib/tap.sh"
. "$DKIMROT_SRC/tests/lib/rpmroot.sh"
R=$tmp/repo
OUT=$R/rpms/private
G=$R/.git/dkimrot-gnupg
KD=/etc/dkim-keys/keys
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1
trap 'gpgconf --homedir "$G" --kill gpg-agent 2>/dev/null
    rm -rf "$tmp"' EXIT INT TERM

echo "1..27"

T0=$(date -u -d 2026-11-20T00:00:00Z +%s)
# day N: rotate on day N after T0
day() {
	dk -C "$R" --now "$(date -u -d "@$((T0 + $1 * 86400))" \
	    +%Y-%m-%dT%H:%M:%SZ)" -q rotate >/dev/null
}
ver() { git -C "$R" rev-list --first-parent --count HEAD; }
# parts VERSION: "NN:V ..." the part versions dkim-keys-private requires
parts() {
	rpm -qp --requires "$OUT/dkim-keys-private-$1-1.noarch.rpm" \
	    2>/dev/null | sed -n \
	    's/^dkim-keys-private-part-\([0-9]*\) = \([0-9]*\)-1$/\1:\2/p' |
	    sort | tr '\n' ' '
}
# keys: every published key's file, as it installs, sorted
keys() {
	(cd "$R/keys" && ls */*.private) | sed "s|^|$KD/|" | sort
}

dk -C "$R" --now 2026-11-20T00:00:00Z init -d a.example -d b.example \
    -d c.example -d d.example -d e.example -d f.example >/dev/null 2>&1
sed -i -e 's/rsa_bits: 2048/rsa_bits: 1024/' -e 's/^  keep_builds: .*/&\n  parts: 4/' \
    "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "four parts"
day 0
day 1
v1=$(ver)
check "the build has dkim-keys-private and four parts" \
    [ -f "$OUT/dkim-keys-private-$v1-1.noarch.rpm" -a \
    "$(parts "$v1" | wc -w)" = 4 ]
rpm -qlp "$OUT/dkim-keys-private-$v1-1.noarch.rpm" >"$tmp/main.list" \
    2>/dev/null
check "dkim-keys-private itself holds no key" \
    not grep -q '\.private$' "$tmp/main.list"
check "but the tables naming them" grep -qx /etc/dkim-keys/KeyTable \
    "$tmp/main.list"
for p in $(parts "$v1"); do
	rpm -qlvp "$OUT/dkim-keys-private-part-${p%:*}-${p#*:}-1.noarch.rpm" \
	    2>/dev/null
done >"$tmp/parts.list"
awk '/\.private$/ { print $NF }' "$tmp/parts.list" | sort >"$tmp/got"
keys >"$tmp/want"
check "the parts hold every published key, each once" \
    same "$tmp/want" "$tmp/got"
check "keys 0600 and the key directory 0700, opendkim's" \
    [ "$(awk '/\.private$/ { print $1, $3, $4 }' "$tmp/parts.list" |
    sort -u)" = "-rw------- opendkim opendkim" -a \
    "$(awk -v d="$KD" '$NF == d { print $1, $3, $4 }' "$tmp/parts.list" |
    sort -u)" = "drwx------ opendkim opendkim" ]
# A domain is in one part only: its directory is listed once.
check "a domain's keys are all in one part" \
    [ "$(awk -v d="$KD/" 'index($NF, d) == 1 && $1 ~ /^d/ { print $NF }' \
    "$tmp/parts.list" | sort | uniq -d)" = "" ]
check "each part is signed" [ "$(rpm -qp --nosignature \
    --qf '%{RSAHEADER:pgpsig}\n' \
    "$OUT"/dkim-keys-private-part-*.rpm 2>/dev/null | grep -c RSA/SHA256)" = \
    "$(ls "$OUT"/dkim-keys-private-part-*.rpm | wc -l)" ]
check "what each part installs is recorded in the vault, 0600" \
    [ "$(stat -c %a "$R/.git/dkimrot-parts")" = 600 -a \
    "$(grep -c '^dkim-keys-private-part-0[0-3] [0-9]* [0-9a-f]\{64\}$' \
    "$R/.git/dkimrot-parts")" = 4 ]

# --- dnf, gpgcheck=1 and repo_gpgcheck=1: one name, every part
mkdir -p "$tmp/stub" && rpmroot_stub "$tmp/stub" && createrepo_c -q "$tmp/stub"
mkdir "$tmp/repos.d"
rpmroot_repofile "$OUT" "$tmp/stub" >"$tmp/repos.d/dkim.repo"
D=$tmp/droot
rpmroot_make "$D"
dnfr() {
	dnf -y --refresh --installroot "$D" --releasever 1 \
	    --setopt=reposdir="$tmp/repos.d" --setopt=install_weak_deps=False \
	    --setopt=cachedir="$D/cache" "$@"
}
dnfr install dkim-keys-private >"$tmp/dnf1" 2>&1
check "dnf installs dkim-keys-private and its four parts" \
    [ "$(rpm --root "$D" -qa 'dkim-keys-private*' | wc -l)" = 5 ] ||
    diag "$tmp/dnf1"
(cd "$D" && find ".$KD" -name '*.private') | sed 's|^\.||' | sort \
    >"$tmp/inst"
check "every key is installed" same "$tmp/want" "$tmp/inst"

# --- days go by: a few domains rotate, their parts change, no other
# Until a build changes some parts but not all of them.
v2=$v1 d=1
while [ "$d" -lt 40 ]; do
	d=$((d + 1))
	day $d
	v2=$(ver)
	changed=0
	for p in $(parts "$v2"); do
		[ "${p#*:}" = "$v2" ] && changed=$((changed + 1))
	done
	[ "$changed" -gt 0 -a "$changed" -lt 4 ] && break
done
check "a day's build rebuilds some parts only (day $d: $changed of 4)" \
    [ "$changed" -gt 0 -a "$changed" -lt 4 ]
# An unchanged part with keys, to see that the upgrade leaves them.
same_p= f=
for p in $(parts "$v2"); do
	[ "${p#*:}" = "$v2" ] && continue
	same_p=${p%:*}
	f=$(rpm --root "$D" -ql "dkim-keys-private-part-$same_p" |
	    grep '\.private$' | head -1)
	[ -n "$f" ] && break
done
check "the others are still required at the version built before" \
    eval '[ -n "$same_p" ] && [ ! -f "$OUT/dkim-keys-private-part-$same_p-$v2-1.noarch.rpm" ]'
ino=$(stat -c %i "$D$f" 2>/dev/null)
dnfr upgrade >"$tmp/dnf2" 2>&1
check "dnf upgrades dkim-keys-private and the changed parts" \
    [ "$(rpm --root "$D" -q --qf '%{VERSION}' dkim-keys-private)" = "$v2" ] ||
    diag "$tmp/dnf2"
rpm --root "$D" -qa --qf '%{NAME} %{VERSION}\n' 'dkim-keys-private-part*' |
    sort | sed 's/^dkim-keys-private-part-//; s/ /:/' | tr '\n' ' ' \
    >"$tmp/instp"
printf '%s' "$(parts "$v2")" >"$tmp/wantp"
check "the installed parts are the versions required" \
    same "$tmp/wantp" "$tmp/instp"
check "a key of an unchanged part is not rewritten (same inode)" \
    eval '[ -n "$f" ] && [ "$(stat -c %i "$D$f")" = "$ino" ]'
keys >"$tmp/want"
(cd "$D" && find ".$KD" -name '*.private') | sed 's|^\.||' | sort \
    >"$tmp/inst"
check "the installed keys are the published ones (the retired gone)" \
    same "$tmp/want" "$tmp/inst"
# The parts built now read their keys from the commit late, the others'
# never (packaging/render.h, deferred): what dnf installed is the key.
bad=0
while read -r k; do
	cmp -s "$D$k" "$R/keys/${k#"$KD"/}" || bad=$((bad + 1))
done <"$tmp/inst"
check "each installed key is the commit's, byte for byte ($bad differ)" \
    eval '[ -s "$tmp/inst" ] && [ "$bad" = 0 ]'

# --- rpm -U: the changed parts go with it
U=$tmp/uroot
rpmroot_make "$U"
rpm --root "$U" -i "$tmp/stub/sh-stub-1-1.noarch.rpm" \
    "$OUT/dkim-keys-private-$v1-1.noarch.rpm" \
    $(for p in $(parts "$v1"); do
	echo "$OUT/dkim-keys-private-part-${p%:*}-${p#*:}-1.noarch.rpm"; done) \
    >/dev/null 2>&1
rpm --root "$U" -U "$OUT/dkim-keys-private-$v2-1.noarch.rpm" \
    >"$tmp/u1" 2>&1
check "rpm -U of dkim-keys-private alone names the part it needs" \
    grep -q "dkim-keys-private-part-[0-9]* = $v2-1 is needed by" "$tmp/u1"
rpm --root "$U" -U "$OUT/dkim-keys-private-$v2-1.noarch.rpm" \
    "$OUT"/dkim-keys-private-part-*-"$v2"-1.noarch.rpm >"$tmp/u2" 2>&1
check "rpm -U with the changed parts upgrades" [ $? = 0 ] || diag "$tmp/u2"

# --- the same commit again: built, nothing rebuilt
dk -C "$R" package >"$tmp/again" 2>&1
check "package of a built commit builds nothing" \
    grep -q "is already built (version $v2)" "$tmp/again"

# --- a lost record: every part is built again, at the new version
rm "$R/.git/dkimrot-parts"
gitq -C "$R" commit -q --allow-empty -m "empty"
v3=$(ver)
check "without the record every part is rebuilt, nothing is reused" \
    [ "$(parts "$v3")" = "00:$v3 01:$v3 02:$v3 03:$v3 " ]
check "and the record is written again" \
    [ "$(grep -c " $v3 " "$R/.git/dkimrot-parts")" = 4 ]

# --- a damaged part: not ours any more, rebuilt
p=$(ls "$OUT"/dkim-keys-private-part-00-"$v3"-1.noarch.rpm)
printf 'x' >>"$p"
gitq -C "$R" commit -q --allow-empty -m "empty again"
v4=$(ver)
check "a part whose bytes changed is built again, the others reused" \
    [ "$(parts "$v4")" = "00:$v4 01:$v3 02:$v3 03:$v3 " ]

# --- parts off: dkim-keys-private holds the keys again and obsoletes
# the parts, which leave with the upgrade; the keys stay
sed -i 's/^  parts: 4$/  parts: 0/' "$R/dkimrot.yaml"
gitq -C "$R" commit -qam "no parts"
v5=$(ver)
rpm -qp --obsoletes "$OUT/dkim-keys-private-$v5-1.noarch.rpm" 2>/dev/null \
    >"$tmp/obs"
check "without parts dkim-keys-private obsoletes every part" \
    [ "$(grep -c "^dkim-keys-private-part-[0-9][0-9] < $v5\$" "$tmp/obs")" = 64 ]
dnfr upgrade >"$tmp/dnf3" 2>&1
check "dnf upgrades to it and the parts are gone" \
    [ "$(rpm --root "$D" -qa 'dkim-keys-private*')" = \
    "dkim-keys-private-$v5-1.noarch" ] || diag "$tmp/dnf3"
(cd "$D" && find ".$KD" -name '*.private') | sed 's|^\.||' | sort \
    >"$tmp/inst"
check "every key is still installed, now dkim-keys-private's" \
    eval 'same "$tmp/want" "$tmp/inst" &&
    [ "$(rpm --root "$D" -qf "$(head -1 "$tmp/inst")" --qf '\''%{NAME}'\'')" = \
    dkim-keys-private ]'
check "dnf check finds no problem in the root" \
    eval 'dnfr check >"$tmp/dnfcheck" 2>&1' || diag "$tmp/dnfcheck"
