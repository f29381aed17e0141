# Empty rpm roots for installing our packages in tests.  Our %post makes
# rpm require /bin/sh, which an empty root lacks: rpmroot_make copies the
# host's shell (with its libraries) in for the chrooted scriptlets, and
# rpmroot_stub builds a package that provides /bin/sh, standing in for
# the OS's shell package where dependencies are checked (dnf).
#
# The private package's %pre makes its key owner when missing: the root
# gets an /etc/passwd and /etc/group with root and the host's opendkim
# (the owner of the tests' keys), so that it finds them, as a mail
# server with OpenDKIM installed would.
#
# rpmroot_make DIR        a root with /bin/sh, the users and an empty rpm
#                         database
# rpmroot_nousers DIR     the same without the users (for %pre's refusal)
# rpmroot_stub OUTDIR     builds OUTDIR/sh-stub-1-1.noarch.rpm
# rpmroot_repofile REPO STUB
#                         prints the README's .repo file for the yum
#                         repository REPO (gpgcheck=1, repo_gpgcheck=1)
#                         and one for the stub's repository STUB
# Needs DKIMROT_SRC and DKIMROT_BUILD (the test tools).

rpmroot_make() {
	_rr_sh=$(readlink -f /bin/sh)
	mkdir -p "$1/bin" && cp "$_rr_sh" "$1/bin/sh" || return 1
	for _rr_l in $(ldd "$_rr_sh" | grep -o '/[^ ]*'); do
		mkdir -p "$1${_rr_l%/*}" && cp "$_rr_l" "$1$_rr_l" || return 1
	done
	mkdir -p "$1/etc" &&
	    { echo "root:x:0:0:root:/root:/bin/sh"
	    getent passwd opendkim; } >"$1/etc/passwd" &&
	    { echo "root:x:0:"; getent group opendkim; } >"$1/etc/group" ||
	    return 1
	rpm --root "$1" --initdb
}

rpmroot_nousers() {
	rpmroot_make "$1" && rm "$1/etc/passwd" "$1/etc/group"
}

rpmroot_stub() {
	"$DKIMROT_BUILD/tools/rpmtool" build \
	    -t "$DKIMROT_SRC/tests/lib/sh-stub.spec.in" -o "$1" \
	    -n sh-stub -V 1 -c stub -T 1795353300 >/dev/null
}

rpmroot_repofile() {
	cat <<EOF
[dkim]
name=dkimrot keys
baseurl=file://$1
gpgcheck=1
repo_gpgcheck=1
gpgkey=file://$1/RPM-GPG-KEY-dkimrot

[stub]
name=stub
baseurl=file://$2
gpgcheck=0
repo_gpgcheck=0
EOF
}
