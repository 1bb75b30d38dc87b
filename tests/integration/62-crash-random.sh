#!/bin/bash
# 62-crash-random: the short version of tests/crash/crash.sh (make crash
# runs 50): three runs, each a 94-recipient alert whose daemon is SIGKILLed
# at a random moment of approval, fan-out to the webhook fake, a burst of
# confirmations or the re-notify round; after each restart nothing
# acknowledged is lost and duplicates stay within what was in flight.
# CRASH_SEED=N repeats the runs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
CRASH_RUNS=${CRASH_RUNS_SHORT:-3} CRASH_SEED=${CRASH_SEED:-$$} \
    bash "$here/../crash/crash.sh"
echo "62-crash-random: ok"
