#!/bin/bash
# 01-check: crisiscastd -n / -nv on the sample site, and on bad sites that
# must each fail with file:line:column naming the right place.
. "$(dirname "$0")/lib.sh"
site_init
cd "$REPO"	# the golden file holds paths relative to the repo root

# The sample: OK, 94 accounts, per-group and per-channel counts.
expect_rc 0 "$CRISISCASTD" -n -f etc/crisiscast.yaml
assert_contains "$OUT" "configuration OK" "-n on the sample"
assert_contains "$OUT" "94 accounts: crisis 38, shelter 56" "-n summary"
assert_contains "$OUT" \
    "channels: lineworks 94, sms 94, email 94, ntfy 94" "-n channel counts"
assert_eq "" "$ERR" "-n on the sample writes no warnings"
check_sanitizers

# -nv: the normalized config, byte for byte.
expect_rc 0 "$CRISISCASTD" -nv -f etc/crisiscast.yaml
printf '%s\n' "$OUT" >"$SITE/sample.nv"
diff -u tests/golden/sample.nv "$SITE/sample.nv" >&2 ||
    fail "-nv differs from tests/golden/sample.nv (diff above)"

# A small good fixture site, so that the bad ones below differ from it in
# one thing only.
S=tests/data/sites
expect_rc 0 "$CRISISCASTD" -n -f $S/ok.yaml
assert_contains "$OUT" "configuration OK" "-n on $S/ok.yaml"
assert_contains "$OUT" "7 accounts: crisis 4, shelter 3" "$S/ok.yaml summary"

# bad SITE FILE:LINE:COL MESSAGE-PART: -n fails with that diagnostic.
bad() {
	local site=$1 where=$2 msg=$3
	expect_rc 1 "$CRISISCASTD" -n -f "$S/$site"
	assert_not_contains "$OUT" "configuration OK" "$site"
	assert_match "$ERR" "^$where: .*$msg" "$site diagnostic"
	assert_contains "$ERR" "$S/$site: 1 error" "$site error count"
	check_sanitizers
}

# soumu_bucho is in both roster files with different sms numbers: cited
# at the second, naming the first.
bad dup_id.yaml "$S/rosters/shelters_dup.yaml:11:13" \
    'soumu_bucho.*differs from the one at tests/data/sites/rosters/crisis.yaml:17:9'
# A phone number that is not E.164, at the value.
bad bad_phone.yaml "$S/rosters/shelters_badphone.yaml:13:25" \
    'E\.164.*090-1111-0102'
# Broken YAML: the unclosed flow map of line 9 is noticed on line 10.
bad broken_yaml.yaml "$S/rosters/shelters_broken.yaml:(9|10):[0-9]+" \
    'YAML syntax error'
# An unknown top-level key, at the key.
bad unknown_key.yaml "$S/unknown_key.yaml:4:1" 'unknown key "colour"'
# An unknown transport type, at the type's value.
bad bad_transport.yaml "$S/bad_transport.yaml:21:17" \
    'unknown transport type "carrier_pigeon"'
# An approver who is not in the rosters, at the list item.
bad bad_approver.yaml "$S/bad_approver.yaml:12:22" \
    'approver "fukuchou" is not in the rosters'

# A config that does not exist, and garbage as a config file.
expect_rc 1 "$CRISISCASTD" -n -f "$SITE/nonexistent.yaml"
assert_contains "$ERR" "$SITE/nonexistent.yaml" "missing config named"
head -c 4096 /dev/urandom >"$SITE/garbage.yaml"
rc=0
"$CRISISCASTD" -n -f "$SITE/garbage.yaml" >/dev/null 2>"$SITE/garbage.err" || rc=$?
assert_eq 1 "$rc" "-n on random bytes"
check_sanitizers
! grep -Eq "$SAN_PATTERN" "$SITE/garbage.err" || fail "sanitizer on garbage config"

# Usage errors.
expect_rc 2 "$CRISISCASTD" -x
expect_rc 2 "$CRISISCASTD" -n -f etc/crisiscast.yaml extra
echo "01-check: ok"
