#!/bin/bash
# crash.sh: SIGKILLs crisiscastd at random moments, CRASH_RUNS times
# (default 50), each run a fresh site against the webhook fake (see
# crash-one.sh for what one run does and proves). Prints one line per run
# and ends with "crash: N passed, N failed"; exits non-zero if any failed.
#
#   BUILD=$PWD/build CRASH_RUNS=50 CRASH_SEED=1000 tests/crash/crash.sh
#
# Run i uses seed CRASH_SEED+i (CRASH_SEED defaults to the time), so a
# failed run is repeated with CRASH_SEED=<its seed> CRASH_RUNS=1 ... or
# directly: CRASH_SEED=<its seed> tests/crash/crash-one.sh. A failed run's
# output is printed; CRASH_LOGS=DIR keeps every run's output there.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${BUILD:=$PWD/build}"
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
export BUILD
RUNS=${CRASH_RUNS:-50}
BASE=${CRASH_SEED:-$(date +%s)}
RUN_TIMEOUT=${CRASH_RUN_TIMEOUT:-120}
logs=${CRASH_LOGS:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cc-crash.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
[ -z "$logs" ] || mkdir -p "$logs"

pass=0 fail=0 failed="" kills=0
echo "crash: $RUNS runs, seeds $BASE+1..$BASE+$RUNS"
for i in $(seq 1 "$RUNS"); do
	seed=$((BASE + i))
	out=$tmp/run.$i
	start=$(date +%s)
	rc=0
	CRASH_SEED=$seed timeout -k 10 "$RUN_TIMEOUT" bash "$here/crash-one.sh" \
	    >"$out" 2>&1 </dev/null || rc=$?
	secs=$(($(date +%s) - start))
	[ -z "$logs" ] || cp "$out" "$logs/run-$seed.log"
	if [ "$rc" = 0 ]; then
		pass=$((pass + 1))
		line=$(grep '^crash-one: ok' "$out" | tail -n 1)
		k=$(sed -n 's/.*kills=\([0-9]*\).*/\1/p' <<<"$line")
		kills=$((kills + ${k:-0}))
		echo "PASS run $i (${secs}s): ${line#crash-one: ok }"
	else
		fail=$((fail + 1))
		failed="$failed $seed"
		why="exit $rc"
		[ "$rc" != 124 ] || why="timed out after ${RUN_TIMEOUT}s"
		echo "FAIL run $i seed $seed ($why, ${secs}s)"
		sed 's/^/    /' "$out"
	fi
done
[ -z "$failed" ] || echo "failed seeds:$failed"
echo "crash: $pass passed, $fail failed ($kills kills in the passed runs)"
[ "$fail" -eq 0 ]
