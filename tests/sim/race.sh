#!/bin/sh
# Two rotation hosts racing over a simulated month of hourly runs against
# one remote, with random kills (tests/sim/race.py): the remote keeps
# every invariant, a track never has two pending or active keys, every
# package comes from a pushed commit, and both hosts build the same bytes
# for the same commit.  DKIMROT_RACE_HOURS (720) sets the period,
# DKIMROT_SIM_SEED replays a run.
set -eu
: "${DKIMROT_FAULTS:?}" "${DKIMROT_SRC:?}"
case "${DKIMROT_BUILD:-}" in
*-san) : "${DKIMROT_RACE_HOURS:=120}" ;;
*) : "${DKIMROT_RACE_HOURS:=720}" ;;
esac
export DKIMROT_FAULTS DKIMROT_RACE_HOURS
exec /usr/bin/python3 "$DKIMROT_SRC/tests/sim/race.py"
