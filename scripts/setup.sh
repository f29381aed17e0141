#!/bin/sh
# Installs every build and test dependency of dkimrot from Debian packages.
# Idempotent, and silent when everything is already there.
set -eu

PKGS="build-essential pkg-config
libssl-dev libgit2-dev libyaml-dev librpm-dev libcreaterepo-c-dev
libcmocka-dev libopendkim-dev libldns-dev libmagic-dev libssh2-1-dev
git rpm dnf createrepo-c rpmlint gnupg
nsd opendkim-tools python3-dkim bind9-dnsutils
perl valgrind clang libclang-rt-14-dev util-linux time
openssh-server openssh-client"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "setup: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "setup: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
