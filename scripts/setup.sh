#!/bin/sh
# Installs every build and test dependency of dkimrot from Debian packages.
# Idempotent, and silent when everything is already there.
set -eu

PKGS="build-essential pkg-config
libssl-dev libgit2-dev libyaml-dev librpm-dev libcreaterepo-c-dev
libcmocka-dev libopendkim-dev libldns-dev libarchive-dev
libssh2-1-dev zlib1g-dev
git rpm dnf createrepo-c rpmlint gnupg
nsd opendkim-tools python3-dkim bind9-dnsutils bind9 bind9-utils knot
pdns-server pdns-backend-sqlite3 sqlite3
perl valgrind clang libclang-rt-14-dev util-linux time
apt dpkg-dev lintian postfix opendkim python3-aiosmtpd rspamd
openssh-server openssh-client"
# The libraries of exim4-daemon-light (its Depends but exim4-base and
# debconf): fetch_exim below unpacks it without installing it, so apt
# brings none of them in, and a fresh machine lacks libgnutls-dane0.
PKGS="$PKGS libcrypt1 libdb5.3 libgnutls-dane0 libgnutls30 libidn12
libidn2-0 libnsl2 libpcre2-8-0"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
# Exim for tests/e2e/signers.sh: exim4-daemon-light conflicts with
# postfix (both are the mail-transport-agent), so it is unpacked, not
# installed, into EXIM_DIR, and run with a configuration of the test's.
# Its binary runs as the compiled-in user Debian-exim.
EXIM_DIR=/opt/dkimrot-tests/exim4
exim_missing() {
	[ ! -x "$EXIM_DIR/usr/sbin/exim4" ] ||
	    ! getent passwd Debian-exim >/dev/null
}
fetch_exim() {
	exim_missing || return 0
	_d=$(mktemp -d) || return 1
	(cd "$_d" && apt-get download exim4-daemon-light >/dev/null 2>&1) &&
	    mkdir -p "$EXIM_DIR" &&
	    dpkg-deb -x "$_d"/exim4-daemon-light_*.deb "$EXIM_DIR" || {
		rm -rf "$_d"
		echo "setup: cannot fetch exim4-daemon-light" >&2
		return 1
	}
	rm -rf "$_d"
	getent passwd Debian-exim >/dev/null ||
	    adduser --system --group --no-create-home --quiet \
	    --allow-bad-names --home /var/spool/exim4 Debian-exim
}

if [ -z "$missing" ]; then
	exim_missing || exit 0
	[ "$(id -u)" = 0 ] || {
		echo "setup: Exim is not unpacked in $EXIM_DIR (run as root)" >&2
		exit 1
	}
	fetch_exim
	exit $?
fi

if [ "$(id -u)" != 0 ]; then
	echo "setup: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "setup: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# The mail tests run Postfix as an instance of their own (its own
# config_directory and port): the package's own service stays
# unconfigured, so it never listens on port 25.
echo "postfix postfix/main_mailer_type select No configuration" |
    debconf-set-selections
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Nor does the package's OpenDKIM service run: the tests start their
# own instances on ports of their own.
if [ -d /run/systemd/system ]; then
	systemctl disable --now opendkim.service postfix.service \
	    rspamd.service >/dev/null 2>&1 || true
fi
fetch_exim
