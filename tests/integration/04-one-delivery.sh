#!/bin/bash
# 04-one-delivery: hirano sits in both groups (same id, same details, in
# tests/data/sites/rosters/crisis_both.yaml and shelters_both.yaml). An
# alert to both groups, or naming them several times over, reaches each
# person exactly once.
. "$(dirname "$0")/lib.sh"
R=$REPO/tests/data/sites/rosters
start_site "$R/crisis_both.yaml" "$R/shelters_both.yaml"

expect_rc 0 ctl --json roster check
assert_eq 8 "$(jget "$OUT" 'd["accounts"]')" "accounts (hirano once)"
assert_eq '{"crisis": 5, "shelter": 4}' "$(jget "$OUT" 'd["groups"]')" "group counts"
expect_rc 0 ctl --json roster show hirano
assert_eq '["crisis", "shelter"]' "$(jget "$OUT" 'd["member"]["groups"]')" \
    "hirano is in both groups"

# send TAG AUDIENCE N: drafts, approves, waits for N sent; prints the id.
send() {
	local out id
	out=$(ctl --json --as soumu_bucho draft --tag "$1" --to "$2" \
	    --body '全職員は本庁舎に参集してください。') ||
	    fail "draft $1 to $2 failed: $out"
	id=$(jget "$out" 'd["id"]')
	assert_eq "$3" "$(jget "$out" 'd["recipients"]')" "recipients of $2"
	ctl --as mayor approve "$id" >/dev/null || fail "approve $id failed"
	wait_sent "$id" "$3"
	echo "$id"
}

ID=$(send 参集指示 crisis+shelter 8)
sleep 0.3	# let any extra write land before counting
assert_eq 1 "$(outbox_count kind=alert alert="$ID" member=hirano)" \
    "deliveries to hirano (crisis+shelter)"
assert_eq 8 "$(outbox_count kind=alert alert="$ID")" "alert lines"
assert_eq "" "$(outbox dupmembers kind=alert alert="$ID")" "members reached twice"
expect_rc 0 ctl --json status "$ID"
assert_eq 1 "$(jget "$OUT" 'sum(1 for r in d["recipients"] if r["member"] == "hirano")')" \
    "status rows for hirano"

# The same person named three ways in one audience.
ID2=$(send 情報共有 'shelter:hs01+crisis+member:hirano,mayor' 7)
sleep 0.3
assert_eq 1 "$(outbox_count kind=alert alert="$ID2" member=hirano)" \
    "deliveries to hirano (shelter:hs01+crisis+member:hirano)"
assert_eq 1 "$(outbox_count kind=alert alert="$ID2" member=mayor)" \
    "deliveries to the mayor"
assert_eq "" "$(outbox dupmembers kind=alert alert="$ID2")" "members reached twice"
assert_eq "" "$(outbox dupkeys)" "duplicate keys"

stop_site
echo "04-one-delivery: ok"
