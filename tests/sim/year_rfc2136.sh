#!/bin/sh
# The simulated year of tests/sim/year.sh once more, the records now
# published by TSIG-signed dynamic updates (dns.publish rfc2136) to a
# real BIND on 127.0.0.1 that the DNS gate asks (dns.verify): every key
# is looked up there when it starts to sign and daily while it signs;
# no message may fail to verify.  Runs are killed at every fault point
# as in year.sh; the next run completes what a killed run left unsent.
set -eu
: "${DKIMROT_FAULTS:?}" "${DKIMROT_SRC:?}"
for tool in named rndc-confgen dig; do
	command -v "$tool" >/dev/null 2>&1 ||
	    { echo "Bail out! $tool is not installed"; exit 1; }
done
/usr/bin/python3 -c 'import dns.query' 2>/dev/null ||
    { echo "Bail out! python3 lacks dnspython"; exit 1; }
# A whole year costs about 12 minutes here, on top of year.sh's: make
# check runs two months (every transition happens in them, more than
# once), `make soak` the year (DKIMROT_SIM_HOURS=8760).
: "${DKIMROT_SIM_HOURS:=1500}"
DKIMROT_SIM_RFC2136=1
export DKIMROT_FAULTS DKIMROT_SIM_HOURS DKIMROT_SIM_RFC2136
exec /usr/bin/python3 "$DKIMROT_SRC/tests/sim/year.py"
