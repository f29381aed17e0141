# Scratch roots for installing our .deb packages with the real apt-get
# and dpkg (dpkg --root), as a mail server or a name server would.
# dpkg runs the maintainer scripts chrooted into the root: aptroot_make
# copies in the host's sh, xargs and chown (with their libraries), a
# /dev/null, and the passwd and group lines of root and opendkim, so
# that postinst can give the keys to opendkim as on a real host.
#
# aptroot_make DIR          the root, with an empty dpkg database
# aptroot DIR ARGS...       apt-get in it: DIR/etc/apt/sources.list is
#                           its only source, signatures checked as apt
#                           always does (no [trusted=yes] anywhere)
# The root must not be below /tmp: OpenDKIM refuses keys below a
# directory others can write.  Needs apt-get, dpkg, ldd, mknod.

aptroot_make() {
	for _ar_b in /bin/sh /usr/bin/xargs /bin/chown; do
		_ar_f=$(readlink -f "$_ar_b")
		mkdir -p "$1${_ar_b%/*}" && cp "$_ar_f" "$1$_ar_b" || return 1
		for _ar_l in $(ldd "$_ar_f" | grep -o '/[^ ]*'); do
			mkdir -p "$1${_ar_l%/*}" && cp "$_ar_l" "$1$_ar_l" ||
			    return 1
		done
	done
	mkdir -p "$1/dev" "$1/etc/apt/preferences.d" "$1/etc/apt/apt.conf.d" \
	    "$1/etc/apt/sources.list.d" "$1/var/lib/apt/lists/partial" \
	    "$1/var/cache/apt/archives/partial" "$1/var/lib/dpkg/info" \
	    "$1/var/lib/dpkg/updates" "$1/var/log/apt" || return 1
	mknod -m 666 "$1/dev/null" c 1 3 || return 1
	: >"$1/var/lib/dpkg/status"
	grep -E '^(root|opendkim):' /etc/passwd >"$1/etc/passwd" &&
	    grep -E '^(root|opendkim):' /etc/group >"$1/etc/group"
}

aptroot() {
	_ar_r=$1
	shift
	DEBIAN_FRONTEND=noninteractive apt-get -q -o Dir="$_ar_r" \
	    -o Dir::State::status="$_ar_r/var/lib/dpkg/status" \
	    -o Dir::Etc::SourceParts="$_ar_r/etc/apt/sources.list.d" \
	    -o Dir::Etc::Parts="$_ar_r/etc/apt/apt.conf.d" \
	    -o Dir::Bin::dpkg=/usr/bin/dpkg \
	    -o DPkg::Options::=--root="$_ar_r" \
	    -o DPkg::Options::=--log="$_ar_r/var/log/dpkg.log" \
	    -o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
}
