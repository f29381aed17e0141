#!/bin/sh
# One simulated year of hourly 'dkimrot rotate' over ten domains with
# crashes at every fault point, concurrent runs and a clock going back;
# no message may fail to verify, no invariant break, no key be lost.
# The driver is tests/sim/year.py; DKIMROT_SIM_SEED replays a run.
set -eu
: "${DKIMROT_FAULTS:?}" "${DKIMROT_SRC:?}"
export DKIMROT_FAULTS
exec /usr/bin/python3 "$DKIMROT_SRC/tests/sim/year.py"
