#!/bin/bash
# run-integration.sh: runs every tests/integration/NN-name.sh in order, each
# in its own process with a time limit, and ends with exactly one line
# "integration: N passed, N failed". Exits non-zero if any test failed.
#
#   BUILD=$PWD/build tests/run-integration.sh [NN...]
#
# BUILD is the absolute directory holding crisiscastd and crisisctl (default
# $PWD/build; the Makefile passes build/ or build/asan). Arguments, if any,
# pick tests by number prefix (e.g. 02 05). A test that exits 77 is skipped:
# it prints why and counts as neither passed nor failed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
: "${BUILD:=$PWD/build}"
case $BUILD in
/*) ;;
*) BUILD=$PWD/$BUILD ;;
esac
export BUILD
TEST_TIMEOUT=${TEST_TIMEOUT:-120}

pass=0 fail=0 failed=""
out=$(mktemp "${TMPDIR:-/tmp}/cc-it-out.XXXXXX")
trap 'rm -f "$out"' EXIT

for t in "$here"/integration/[0-9][0-9]-*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	if [ $# -gt 0 ]; then
		want=no
		for a in "$@"; do
			case $name in "$a"*) want=yes ;; esac
		done
		[ "$want" = yes ] || continue
	fi
	start=$(date +%s)
	rc=0
	# Own process group through timeout(1): on expiry the test and the
	# daemon it started get SIGTERM, then SIGKILL 10 s later.
	(cd "$here/.." && timeout -k 10 "$TEST_TIMEOUT" bash "$t") \
	    >"$out" 2>&1 </dev/null || rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0)
		echo "PASS $name (${secs}s)"
		pass=$((pass + 1))
		;;
	77)
		echo "SKIP $name: $(tail -n 1 "$out")"
		;;
	*)
		why="exit $rc"
		[ "$rc" -ne 124 ] || why="timed out after ${TEST_TIMEOUT}s"
		echo "FAIL $name ($why, ${secs}s)"
		sed 's/^/    /' "$out"
		fail=$((fail + 1))
		failed="$failed $name"
		;;
	esac
done

[ -z "$failed" ] || echo "failed:$failed"
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
