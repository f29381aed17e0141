#!/bin/sh
# Packages built in process by packaging/rpm.c and indexed by
# packaging/repo.c (through tests/tools/rpmtool), checked with the real
# rpm, rpmlint, gpg and dnf: contents, modes, %post, %postun, upgrades, no
# injection, signatures, pruning and installs from the repository.
set -u

TOOL=$DKIMROT_BUILD/tools/rpmtool
W=$(mktemp -d) || exit 1
export GNUPGHOME="$W/gnupg"
cleanup() {
	gpgconf --kill gpg-agent >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; [ -s "$W/out" ] &&
	sed 's/^/# /' "$W/out"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
# check DESC CMD...: CMD succeeds (its output goes to $W/out)
check() {
	d=$1
	shift
	if "$@" >"$W/out" 2>&1; then ok "$d"; else nok "$d"; fi
}
# same DESC EXPECTED-FILE ACTUAL-FILE
same() { if diff -u "$2" "$3" >"$W/out" 2>&1; then ok "$1"; else nok "$1"; fi; }

COMMIT=0123456789abcdef0123456789abcdef01234567
T0=1795353300
RPMQ="rpm --nosignature"
NL='
'
ZONE='20261122131500._domainkey.example.com. IN TXT "v=DKIM1; k=rsa; p=MIIB"'
# The configured reload command: quotes, $(), ';', macro-like text, '\'.
RELOAD=$(cat <<'EOF'
printf '[%s]' 'a b' "$(echo sub)" '%{name}' '%(id)' "it's" \\ '\%{x}'; echo; echo ran >/reload-marker
EOF
)

public() {	# OUTDIR VERSION RELOAD [EXTRA...]
	o=$1 v=$2 r=$3
	shift 3
	"$TOOL" build -t public -o "$o" -n dkim-keys-public -V "$v" \
	    -c "$COMMIT" -T "$T0" -p "$r" -d "Domains: example.com" "$@" \
	    'd:/var/named/dkim:0755:root:named' \
	    "f:/var/named/dkim/example.com.zone:0644:root:named:config=$ZONE"
}

private() {	# OUTDIR VERSION SELECTOR
	o=$1 v=$2 s=$3
	k=/etc/dkim-keys/keys/example.com.$s.private
	kt="$s._domainkey.example.com example.com:$s:$k$NL"
	st="*@example.com $s._domainkey.example.com$NL"
	"$TOOL" build -t private -o "$o" -n dkim-keys-private -V "$v" \
	    -c "$COMMIT" -T $((T0 + v)) -m 0640 -p "$RELOAD" \
	    'd:/etc/dkim-keys:0755:root:root' \
	    'd:/etc/dkim-keys/keys:0700:opendkim:opendkim' \
	    "f:$k:0600:opendkim:opendkim=not a key $s" \
	    "f:/etc/dkim-keys/KeyTable:0644:root:root:config=$kt" \
	    "f:/etc/dkim-keys/SigningTable:0644:root:root:config=$st"
}

. "$DKIMROT_SRC/tests/lib/rpmroot.sh"
mkroot() {
	case $1 in "$W"/*) ;; *) echo "bad root $1" >&2; exit 1 ;; esac
	rpmroot_make "$1"
}

mkdir -p "$W/a" "$W/b" "$W/repo" "$W/signed" "$W/gnupg"
chmod 700 "$W/gnupg"

# --- building and what is in the packages --------------------------------
check "build public package" public "$W/a" 1 'exit 3'
check "build private package" private "$W/a" 1 20261122131500
check "build stub package" rpmroot_stub "$W/a"
PUB=$W/a/dkim-keys-public-1-1.noarch.rpm
PRIV=$W/a/dkim-keys-private-1-1.noarch.rpm

cat >"$W/exp" <<'EOF'
drwxr-xr-x root root /etc/dkim-keys
-rw-r--r-- root root /etc/dkim-keys/KeyTable
-rw-r--r-- root root /etc/dkim-keys/SigningTable
drwx------ opendkim opendkim /etc/dkim-keys/keys
-rw------- opendkim opendkim /etc/dkim-keys/keys/example.com.20261122131500.private
EOF
$RPMQ -qlvp "$PRIV" | awk '{ print $1, $3, $4, $NF }' >"$W/act"
same "private: paths, modes (keys 0600), owners" "$W/exp" "$W/act"

cat >"$W/exp" <<'EOF'
drwxr-xr-x root named /var/named/dkim
-rw-r--r-- root named /var/named/dkim/example.com.zone
EOF
$RPMQ -qlvp "$PUB" | awk '{ print $1, $3, $4, $NF }' >"$W/act"
same "public: paths, modes, owners" "$W/exp" "$W/act"

echo "1 1 $COMMIT gzip dkimrot $T0 (none) noarch" >"$W/exp"
$RPMQ -qp --qf '%{VERSION} %{RELEASE} %{VCS} %{PAYLOADCOMPRESSOR} '\
'%{BUILDHOST} %{BUILDTIME} %{SIGPGP} %{ARCH}\n' "$PUB" >"$W/act"
same "version, release, VCS tag, gzip payload, fixed host and time" \
    "$W/exp" "$W/act"

printf '%s\n' '%config /etc/dkim-keys/KeyTable' \
    '%config /etc/dkim-keys/SigningTable' >"$W/exp"
$RPMQ -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$PRIV" |
    grep '^c' | sed 's/^c /%config /' >"$W/act"
same "tables are %config (no noreplace), keys are not" "$W/exp" "$W/act"

cat >"$W/exp" <<'EOF'
/bin/sh -c 'printf '\''[%s]'\'' '\''a b'\'' "$(echo sub)" '\''%{name}'\'' '\''%(id)'\'' "it'\''s" \''\'' '\''\''%{x}'\''; echo; echo ran >/reload-marker' ||
    echo "dkim-keys-private: reload command failed (exit status $?); run it by hand" >&2
exit 0
EOF
$RPMQ -qp --qf '%{POSTIN}\n' "$PRIV" >"$W/act"
same "%post runs the configured command, quoted, never failing" \
    "$W/exp" "$W/act"
{
	echo 'if [ "$1" -eq 0 ]; then'
	sed -e '$d' -e 's/^/	/' "$W/exp"
	echo fi
	echo 'exit 0'
} >"$W/exp.un"
$RPMQ -qp --qf '%{POSTUN}\n' "$PRIV" >"$W/act"
same "%postun runs the same command on erase only, never failing" \
    "$W/exp.un" "$W/act"

# A directory all alike below is one %files line and rpm walks it
# (packaging/spec_files.c); the rest one line each.  Either way every
# entry must come out exactly as described, and nothing else: a tree
# of each case.  FLAGS: 1 %config, 17 %config(noreplace).
set -- 'd:/srv/a:0700:opendkim:opendkim' 'd:/srv/a/x:0700:opendkim:opendkim' \
    'f:/srv/a/x/k1:0600:opendkim:opendkim=1' \
    'f:/srv/a/k2:0600:opendkim:opendkim=2' 'f:/srv/a.x:0644:root:root=3' \
    'd:/srv/b:0755:root:root' 'f:/srv/b/f1:0644:root:root:config=4' \
    'f:/srv/b/f2:0600:root:root:config=5' 'd:/srv/c:0755:root:root' \
    'f:/srv/c/u/f3:0644:root:root=6' 'd:/srv/d:0755:root:named' \
    'f:/srv/d/z1:0644:root:named:noreplace=7' \
    'f:/srv/d/z2:0644:root:named:noreplace=8' 'd:/srv/e:0755:root:root' \
    'd:/srv/e/s:0755:named:named' 'f:/srv/e/s/f4:0644:named:named=9' \
    'd:/srv/f:0750:root:root' 'd:/srv/g:0755:root:root' \
    'f:/srv/g/f5:0644:root:root:config=10' 'f:/srv/g/f6:0644:root:root=11'
printf '%s\n' "$@" | awk -F'[:=]' '{
	m = ($1 == "d" ? "40" : "100") substr($3, 2)
	f = $6 == "config" ? 1 : $6 == "noreplace" ? 17 : 0
	print m, $4, $5, f, $2 }' | sort -k5 >"$W/exp"
mkdir -p "$W/tree"
check "build a package of trees listed whole and by line" "$TOOL" build \
    -t public -o "$W/tree" -n tree -V 1 -c "$COMMIT" -T "$T0" "$@"
$RPMQ -qp --qf '[%{FILEMODES:octal} %{FILEUSERNAME} %{FILEGROUPNAME} '\
'%{FILEFLAGS} %{FILENAMES}\n]' "$W/tree/tree-1-1.noarch.rpm" | sort -k5 \
    >"$W/act"
same "each entry's mode, owner, group and flags as described" \
    "$W/exp" "$W/act"
"$TOOL" render -t public -n tree -V 1 -c "$COMMIT" -T "$T0" "$@" |
    sed -n '/^%files$/,/^%changelog$/{/^$/d;p;}' >"$W/act"
cat >"$W/exp" <<'EOF'
%files
%defattr(0600,opendkim,opendkim,0700)
/srv/a
%defattr(-,root,root,-)
%attr(0644,root,root) /srv/a.x
%dir %attr(0755,root,root) /srv/b
%config %attr(0644,root,root) /srv/b/f1
%config %attr(0600,root,root) /srv/b/f2
%dir %attr(0755,root,root) /srv/c
%attr(0644,root,root) /srv/c/u/f3
%dir %attr(0755,root,named) /srv/d
%config(noreplace) %attr(0644,root,named) /srv/d/z1
%config(noreplace) %attr(0644,root,named) /srv/d/z2
%dir %attr(0755,root,root) /srv/e
%defattr(0644,named,named,0755)
/srv/e/s
%defattr(-,root,root,-)
%dir %attr(0750,root,root) /srv/f
%dir %attr(0755,root,root) /srv/g
%config %attr(0644,root,root) /srv/g/f5
%attr(0644,root,root) /srv/g/f6
%changelog
EOF
same "the spec lists the trees alike below in one line each" \
    "$W/exp" "$W/act"

check "same input, same bytes" sh -c "sleep 1 &&
    '$TOOL' build -t public -o '$W/b' -n dkim-keys-public -V 1 -c $COMMIT \
	-T $T0 -p 'exit 3' -d 'Domains: example.com' \
	'd:/var/named/dkim:0755:root:named' \
	'f:/var/named/dkim/example.com.zone:0644:root:named:config=$ZONE' \
	>/dev/null && cmp '$PUB' '$W/b/dkim-keys-public-1-1.noarch.rpm'"

# --- installing, %post, upgrading -----------------------------------------
if [ "$(id -u)" = 0 ]; then
	R=$W/root
	mkroot "$R" >"$W/out" 2>&1 && rpm --root "$R" -i \
	    "$W/a/sh-stub-1-1.noarch.rpm" >>"$W/out" 2>&1
	check "rpm -i of both packages into an empty root" sh -c \
	    "rpm --root '$R' -i '$PRIV' '$PUB' >'$W/post' 2>'$W/err'"
	printf '%s\n' '600 /etc/dkim-keys/keys/example.com.20261122131500.private' \
	    '644 /etc/dkim-keys/KeyTable' '644 /etc/dkim-keys/SigningTable' \
	    '700 /etc/dkim-keys/keys' '644 /var/named/dkim/example.com.zone' \
	    >"$W/exp"
	(cd "$R" && stat -c '%a /%n' etc/dkim-keys/keys/*.private \
	    etc/dkim-keys/KeyTable etc/dkim-keys/SigningTable \
	    etc/dkim-keys/keys var/named/dkim/example.com.zone) >"$W/act"
	same "installed files have the packaged modes" "$W/exp" "$W/act"
	echo "[a b][sub][%{name}][%(id)][it's][\\][\\%{x}]" >"$W/exp"
	grep '^\[' "$W/post" >"$W/act"
	same "%post ran exactly the configured command" "$W/exp" "$W/act"
	check "the configured command's own effects happened (in the root)" \
	    test -f "$R/reload-marker"
	check "a failing reload warns and does not fail the install" grep -q \
	    'dkim-keys-public: reload command failed (exit status 3)' "$W/err"
	check "build private version 2 (new key)" \
	    private "$W/a" 2 20261122131501
	check "build private version 3" private "$W/a" 3 20261122131502
	check "rpm -U to version 2" rpm --root "$R" -U \
	    "$W/a/dkim-keys-private-2-1.noarch.rpm"
	check "upgrade replaced the key and the tables" sh -c "
	    test ! -e '$R/etc/dkim-keys/keys/example.com.20261122131500.private' &&
	    test -f '$R/etc/dkim-keys/keys/example.com.20261122131501.private' &&
	    grep -q 20261122131501 '$R/etc/dkim-keys/KeyTable' &&
	    ! ls '$R/etc/dkim-keys' | grep -q rpm &&
	    test \"\$(rpm --root '$R' -q dkim-keys-private)\" = \
		dkim-keys-private-2-1.noarch"
	# The upgrade ran version 2's %post once; version 1's %postun ($1
	# = 1) must not have run the command again.
	echo "[a b][sub][%{name}][%(id)][it's][\\][\\%{x}]" >"$W/exp"
	rm -f "$R/reload-marker"
	rpm --root "$R" -U "$W/a/dkim-keys-private-3-1.noarch.rpm" \
	    >"$W/post" 2>&1
	grep '^\[' "$W/post" >"$W/act"
	same "an upgrade runs the reload once (%post), not from %postun" \
	    "$W/exp" "$W/act"
	rm -f "$R/reload-marker"
	rpm --root "$R" -e dkim-keys-private >"$W/postun" 2>&1
	rc=$?
	grep '^\[' "$W/postun" >"$W/act"
	same "rpm -e runs exactly the configured command (exit $rc)" \
	    "$W/exp" "$W/act"
	check "and its own effects happened (in the root)" \
	    test -f "$R/reload-marker"
	rpm --root "$R" -e dkim-keys-public >"$W/postun" 2>&1
	rc=$?
	check "a failing reload on erase warns and does not fail it ($rc)" \
	    sh -c "[ $rc = 0 ] && grep -qx 'dkim-keys-public: reload command \
failed (exit status 3); run it by hand' '$W/postun' &&
	    ! rpm --root '$R' -q dkim-keys-public >/dev/null"
else
	for t in 1 2 3 4 5 6 7 8 9 10 11 12 13; do
		skip "installing needs root (chroot)"
	done
	private "$W/a" 2 20261122131501 >/dev/null
fi

# --- nothing from the configuration runs at build time --------------------
M=$W/MARKER
public "$W/b" 5 'x' "f:/etc/%(touch $M):0644:root:root=x" >"$W/out" 2>&1
rc=$?
if [ $rc = 2 ] && [ ! -e "$M" ] && grep -q 'invalid file path' "$W/out"; then
	ok "a macro in a path is refused before rpm sees it"
else
	nok "a macro in a path is refused before rpm sees it (exit $rc)"
fi
check "macros in description and packager stay text at build time" \
    "$TOOL" build -t public -o "$W/b" -n inj -V 1 -c "$COMMIT" -T "$T0" \
    -d "notes: %(touch $M) %{lua: io.open('$M', 'w')}" \
    -P "Eve %(touch $M) <e@example.test>" -p "touch $M"
echo "Eve %(touch $M) <e@example.test>|notes: %(touch $M)" \
    "%{lua: io.open('$M', 'w')}" >"$W/exp"
$RPMQ -qp --qf '%{PACKAGER}|%{DESCRIPTION}\n' "$W/b/inj-1-1.noarch.rpm" |
    sed -n '1s/|.*//p; $p' | paste -sd'|' >"$W/act"
if [ ! -e "$M" ]; then same "... and are kept literally" "$W/exp" "$W/act"
else nok "... and are kept literally (marker created at build time)"; fi
"$TOOL" build -t public -o "$W/b" -n nl -V 1 -c "$COMMIT" -T "$T0" \
    -p "rndc reload
touch $M" >"$W/out" 2>&1
rc=$?
if [ $rc = 2 ] && [ ! -e "$M" ]; then
	ok "a line break in the reload command is refused"
else nok "a line break in the reload command is refused (exit $rc)"; fi

# --- rpmlint --------------------------------------------------------------
# Errors we accept, on purpose: unsigned (or signed with a key rpmlint does
# not know), a private key readable only by its owner, a key directory
# closed to others.
lint() {
	rpmlint "$@" 2>&1 | grep ': E: ' | grep -v \
	    -e ': E: no-signature$' -e ': E: unknown-key ' \
	    -e ': E: non-readable /etc/dkim-keys/keys/[^ ]*\.private 600$' \
	    -e ': E: non-standard-dir-perm /etc/dkim-keys/keys 700$'
}
lint "$PUB" "$PRIV" >"$W/out"
if [ ! -s "$W/out" ] &&
    rpmlint "$PUB" "$PRIV" 2>&1 | grep -q 'E: no-signature'; then
	ok "rpmlint: no errors but the deliberate ones"
else nok "rpmlint: no errors but the deliberate ones"; fi

# --- signing --------------------------------------------------------------
KEY='dkimrot test <t@example.test>'
check "throwaway gpg key" gpg --batch --passphrase '' --quick-gen-key \
    "$KEY" rsa2048 sign never
cp "$PUB" "$PRIV" "$W/a/sh-stub-1-1.noarch.rpm" "$W/signed/"
rc=0
for f in "$W"/signed/*.rpm; do
	"$TOOL" sign "$f" "$KEY" >"$W/sout" 2>"$W/out" || rc=$?
	[ -s "$W/sout" ] && rc=stdout
done
if [ $rc = 0 ]; then ok "sign with librpmsign, stdout stays clean"
else nok "sign with librpmsign, stdout stays clean ($rc)"; fi
check "export the public key" \
    "$TOOL" export-key "$KEY" "$W/signed/RPM-GPG-KEY-dkimrot"
mkdir -p "$W/kr"
rpm --root "$W/kr" -K "$W/signed/dkim-keys-public-1-1.noarch.rpm" \
    >"$W/act" 2>&1
check "rpm -K fails before the key is imported" grep -q 'SIGNATURES NOT OK' \
    "$W/act"
rpm --root "$W/kr" --import "$W/signed/RPM-GPG-KEY-dkimrot"
rpm --root "$W/kr" -K "$W/signed/dkim-keys-public-1-1.noarch.rpm" \
    "$W/signed/dkim-keys-private-1-1.noarch.rpm" >"$W/act" 2>&1
printf '%s: digests signatures OK\n' \
    "$W/signed/dkim-keys-public-1-1.noarch.rpm" \
    "$W/signed/dkim-keys-private-1-1.noarch.rpm" >"$W/exp"
same "rpm -K: digests signatures OK after --import" "$W/exp" "$W/act"
check "signed: still 0640 for the private package" test \
    "$(stat -c %a "$W/signed/dkim-keys-private-1-1.noarch.rpm")" = 640
lint "$W"/signed/dkim-*.rpm >"$W/out"
if [ ! -s "$W/out" ] &&
    ! rpmlint "$W"/signed/dkim-*.rpm 2>&1 | grep -q no-signature; then
	ok "rpmlint of the signed packages: no-signature gone"
else nok "rpmlint of the signed packages: no-signature gone"; fi
cp "$PUB" "$W/b/u.rpm"
"$TOOL" sign "$W/b/u.rpm" 'nobody <none@example.test>' >"$W/out" 2>&1
rc=$?
# A key gpg lacks is a configuration error (docs/bad-input.md G1): 2.
if [ $rc = 2 ] && cmp -s "$PUB" "$W/b/u.rpm"; then
	ok "signing with an unknown key fails, package unchanged"
else nok "signing with an unknown key fails, package unchanged (exit $rc)"; fi
"$TOOL" export-key 'nobody <none@example.test>' "$W/b/k" >"$W/out" 2>&1
rc=$?
if [ $rc = 1 ] && [ ! -e "$W/b/k" ]; then ok "exporting an unknown key fails"
else nok "exporting an unknown key fails (exit $rc)"; fi

# --- the repository -------------------------------------------------------
for v in 1 2 3; do public "$W/repo" $v 'exit 0' >/dev/null; done
cp "$PRIV" "$W/a/dkim-keys-private-2-1.noarch.rpm" \
    "$W/a/sh-stub-1-1.noarch.rpm" "$W/repo/"
check "repository with keep_builds 2" "$TOOL" repo "$W/repo" 2
(cd "$W/repo" && ls) >"$W/act"
printf '%s\n' dkim-keys-private-1-1.noarch.rpm \
    dkim-keys-private-2-1.noarch.rpm dkim-keys-public-2-1.noarch.rpm \
    dkim-keys-public-3-1.noarch.rpm repodata sh-stub-1-1.noarch.rpm \
    >"$W/exp"
same "the oldest public build is gone, the rest stays" "$W/exp" "$W/act"
check "repository of the signed packages" "$TOOL" repo "$W/signed" 5

DNF="dnf -y --releasever=1 --setopt=reposdir=/dev/null
    --setopt=install_weak_deps=False --setopt=cachedir=$W/cache"
if [ "$(id -u)" = 0 ]; then
	mkroot "$W/d1" >/dev/null 2>&1
	check "dnf --installroot installs dkim-keys-public from it" $DNF \
	    --installroot "$W/d1" --nogpgcheck \
	    --repofrompath="dk,file://$W/repo" --repo=dk \
	    install dkim-keys-public
	check "... the newest build, with the stub for /bin/sh" test \
	    "$(rpm --root "$W/d1" -q dkim-keys-public sh-stub | paste -sd' ')" \
	    = "dkim-keys-public-3-1.noarch sh-stub-1-1.noarch"
	mkroot "$W/d2" >/dev/null 2>&1
	$DNF --installroot "$W/d2" --repofrompath="dk,file://$W/repo" \
	    --repo=dk --setopt=dk.gpgcheck=1 \
	    --setopt="dk.gpgkey=file://$W/signed/RPM-GPG-KEY-dkimrot" \
	    install dkim-keys-private >"$W/out" 2>&1
	rc=$?
	if [ $rc != 0 ] && grep -q 'is not signed' "$W/out" &&
	    ! rpm --root "$W/d2" -q dkim-keys-private >/dev/null 2>&1; then
		ok "gpgcheck=1 refuses the unsigned packages"
	else nok "gpgcheck=1 refuses the unsigned packages"; fi
	mkroot "$W/d3" >/dev/null 2>&1
	check "gpgcheck=1 installs the signed dkim-keys-private" $DNF \
	    --installroot "$W/d3" --repofrompath="dk,file://$W/signed" \
	    --repo=dk --setopt=dk.gpgcheck=1 \
	    --setopt="dk.gpgkey=file://$W/signed/RPM-GPG-KEY-dkimrot" \
	    install dkim-keys-private
	check "... with the key imported into the root's rpm" \
	    rpm --root "$W/d3" -q gpg-pubkey
else
	for t in 1 2 3 4 5; do skip "dnf --installroot needs root"; done
fi

echo "1..$n"
