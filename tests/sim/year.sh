#!/bin/sh
# One simulated year of hourly 'dkimrot rotate' over ten domains with
# crashes at every fault point, concurrent runs and a clock going back;
# no message may fail to verify, no invariant break, no key be lost.
# The driver is tests/sim/year.py; DKIMROT_SIM_SEED replays a run.
#
# Under the sanitizers (make SANITIZE=1 check: build-san) every run
# costs five times as much, so the default there is 1,500 hours (about
# two months, a dozen rotations); tests/sim/crash.sh still reaches every
# fault point there.  DKIMROT_SIM_HOURS overrides either.
set -eu
: "${DKIMROT_FAULTS:?}" "${DKIMROT_SRC:?}"
case "${DKIMROT_BUILD:-}" in
*-san) : "${DKIMROT_SIM_HOURS:=1500}" ;;
*) : "${DKIMROT_SIM_HOURS:=8760}" ;;
esac
export DKIMROT_FAULTS DKIMROT_SIM_HOURS
exec /usr/bin/python3 "$DKIMROT_SRC/tests/sim/year.py"
