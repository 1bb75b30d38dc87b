#!/bin/bash
# 02-walkthrough: the README flow on the sample rosters. soumu_bucho drafts
# 【避難所開設要請】 for shelters hs01 and hs03; only the mayor's approval
# requests go out; the mayor approves; each of the 8 staff gets exactly one
# message; status, audit and the outbox agree.
. "$(dirname "$0")/lib.sh"
start_site

BODY='第一小学校と第三小学校の避難所を開設してください。担当職員は参集をお願いします。'
expect_rc 0 ctl --json --as soumu_bucho draft --tag 避難所開設要請 \
    --to shelter:hs01,hs03 --body "$BODY"
ID=$(jget "$OUT" 'd["id"]')
assert_eq pending_approval "$(jget "$OUT" 'd["state"]')" "draft state"
assert_eq 8 "$(jget "$OUT" 'd["recipients"]')" "draft recipients"

expect_rc 0 ctl --json status "$ID"
assert_eq pending_approval "$(jget "$OUT" 'd["state"]')" "status before approval"
assert_eq 避難所開設要請 "$(jget "$OUT" 'd["tag"]')" "status tag"
assert_eq false "$(jget "$OUT" 'd["drill"]')" "status drill"
assert_eq 0 "$(jget "$OUT" 'len(d["recipients"])')" "no recipients before approval"

# The approval requests, and nothing else, go out: to the mayor only, one
# per approval channel (sms, lineworks), each with its own /a/ link.
wait_until 10 "approval requests in the outbox" \
    outbox_count_is 2 kind=approval alert="$ID"
sleep 0.3	# nothing else may follow
assert_eq 2 "$(outbox_count)" "outbox lines before approval"
assert_eq "mayor
mayor" "$(outbox members kind=approval)" "approval requests go to the mayor"
assert_eq "lineworks
sms" "$(outbox field channel kind=approval | sort)" "approval channels"
while read -r link; do
	assert_match "$link" '^http://127\.0\.0\.1:[0-9]+/a/[A-Za-z0-9_-]{22}$' \
	    "approval link"
done < <(outbox field link kind=approval)
assert_eq 0 "$(outbox_count kind=alert)" "no alert before approval"
expect_rc 0 ctl --json status "$ID"
assert_eq '["sent", "sent"]' "$(jget "$OUT" '[a["state"] for a in d["approvals"]]')" \
    "approval deliveries sent"

# The mayor approves at the console.
expect_rc 0 ctl --as mayor approve "$ID"
wait_sent "$ID" 8
sleep 0.3	# and no more than 8
assert_eq 8 "$(outbox_count kind=alert alert="$ID")" "alert lines"
assert_eq "hs01-1
hs01-2
hs01-3
hs01-4
hs03-1
hs03-2
hs03-3
hs03-4" "$(outbox members kind=alert)" "one line per recipient"
assert_eq 10 "$(outbox_count)" "outbox lines in all"
assert_eq "" "$(outbox dupkeys)" "duplicate keys"
assert_eq "" "$(outbox check)" "outbox lines well formed"

expect_rc 0 ctl --json status "$ID"
assert_eq 8 "$(jget "$OUT" 'len(d["recipients"])')" "status recipients"
assert_eq '["sent"]' "$(jget "$OUT" 'sorted(set(r["state"] for r in d["recipients"]))')" \
    "every recipient sent"
assert_eq 8 "$(jget "$OUT" 'd["counts"]["sent"]')" "counts.sent"
assert_eq true "$(jget "$OUT" 'all(k in r for r in d["recipients"] for k in ("member", "channel", "state", "read_at", "confirmed_at", "response"))')" \
    "recipient objects carry the documented fields"
assert_eq mayor "$(jget "$OUT" 'd["decided_by"]')" "decided_by"
assert_match "$(jget "$OUT" 'd["state"]')" '^(approved|sending|complete)$' \
    "state after approval"

# Every message carries the tag and its own link.
while read -r text; do
	assert_contains "$text" 【避難所開設要請】 "alert text"
done < <(outbox field text kind=alert)
assert_contains "$(outbox field text kind=alert)" "第一小学校と第三小学校" \
    "the body is in the alert text"
assert_eq "" "$(outbox field link | sort | uniq -d)" "links are unique"
while read -r link; do
	assert_match "$link" '^http://127\.0\.0\.1:[0-9]+/r/[A-Za-z0-9_-]{22}$' \
	    "recipient link"
done < <(outbox field link kind=alert)
assert_eq 10 "$(outbox field link | sort -u | wc -l)" "distinct links"

# The audit trail as CSV.
expect_rc 0 ctl audit --format csv
CSV=$OUT
assert_match "$CSV" '^id,time,actor,action,alert,member,channel,detail' "csv header"
for action in draft approval_requested approval_sent approved delivery_sent; do
	assert_match "$CSV" "^[0-9]+,[^,]+,[^,]*,$action,$ID," "audit row $action"
done
assert_match "$CSV" ",soumu_bucho,draft,$ID," "the draft is soumu_bucho's"
assert_match "$CSV" ",mayor,approved,$ID," "the approval is the mayor's"
assert_eq 8 "$(grep -c ",delivery_sent,$ID," <<<"$CSV")" "delivery_sent rows"
assert_eq 2 "$(grep -c ",approval_sent,$ID," <<<"$CSV")" "approval_sent rows"

# The list shows it, once.
expect_rc 0 ctl --json list
assert_eq "[$ID]" "$(jget "$OUT" '[a["id"] for a in d["alerts"]]')" "list"

stop_site
echo "02-walkthrough: ok"
