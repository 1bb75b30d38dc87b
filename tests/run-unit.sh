#!/bin/sh
# Runs every cmocka unit test binary given as an argument and prints one
# closing line "unit: N passed, N failed" (counted per test case).
pass=0 fail=0 failed_bins=""
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -E '^\[  (FAILED|PASSED|ERROR) \]|^\[ +(FAILED|ERROR) +\]' >/dev/null
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' | tail -n1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' | tail -n1)
	pass=$((pass + ${p:-0}))
	if [ "$rc" -ne 0 ]; then
		fail=$((fail + ${f:-1}))
		failed_bins="$failed_bins $t"
		printf '%s\n' "$out"
	fi
done
[ -n "$failed_bins" ] && echo "failing:$failed_bins"
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
