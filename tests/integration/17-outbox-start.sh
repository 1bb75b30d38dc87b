#!/bin/bash
# 17-outbox-start: what the file transport does with an outbox it finds at
# start. A torn last line (a crash mid-write) is cut off and every byte
# before it kept; lines that are not ours (not JSON, not an object, a key
# that is not a string) are skipped and kept; a delivery whose key is
# already in the file is not written again but recorded sent; the four
# channels that write to the one file read it once. Deliveries whose keys
# the file does not hold (the torn line's among them) are all written.
. "$(dirname "$0")/lib.sh"
write_config

# Delivery ids are global: the first draft's two approval requests (SMS
# and LINE WORKS to the mayor) are 1 and 2, its 94 alert deliveries 3-96.
cat >"$SITE/head" <<'EOF'
not json at all
["an", "array"]
{"x": 1}
{"key": 42}
{"key":"approval:1","note":"written before a crash"}
EOF
cp "$SITE/head" "$OUTBOX"
printf '{"key":"alert:77","text":"torn' >>"$OUTBOX"
start_daemon

assert_eq 1 "$(grep -c 'cutting a torn last line of 30 bytes' "$LOG")" \
    "the torn line is reported once, with its size"
assert_eq "$(wc -c <"$SITE/head")" "$(wc -c <"$OUTBOX")" \
    "the outbox is cut back to its whole lines"
cmp -s "$SITE/head" "$OUTBOX" || fail "the whole lines before the torn one changed"
assert_eq 1 "$(grep -c 'outbox .*: 1 messages already written' "$LOG")" \
    "the shared outbox is read once, and one key is found in it"

expect_rc 0 ctl --json --as soumu_bucho draft --tag 参集指示 --to crisis+shelter \
    --body '全職員は直ちに本庁舎3階の災害対策本部に参集してください。'
ID=$(jget "$OUT" 'd["id"]')
assert_eq 1 "$ID" "the first alert's id"
wait_until 10 "the approval request not in the file yet" \
    outbox_count_is 1 kind=approval alert="$ID"
sleep 0.3	# let a wrong second write land before counting
assert_eq 1 "$(outbox_count kind=approval alert="$ID")" \
    "approval request lines written (approval:1 was in the file)"
assert_eq 1 "$(grep -c 'approval:1 already written, not again' "$LOG")" \
    "the key found at start is not written again"
expect_rc 0 ctl --json status "$ID"
assert_eq "sent sent" "$(jget "$OUT" '" ".join(sorted(a["state"] for a in d["approvals"]))')" \
    "both approval requests are recorded sent"

expect_rc 0 ctl --as mayor approve "$ID"
wait_sent "$ID" 94
sleep 0.3
assert_eq 94 "$(outbox_count kind=alert alert="$ID")" \
    "alert lines (alert:77 of the torn line among them)"
assert_eq 1 "$(outbox_count key=alert:77)" "alert:77 written once, whole"
assert_eq "" "$(outbox dupkeys)" "keys written twice"

# A restart reads the file again and writes nothing: every delivery is
# recorded sent, and the lines that are not ours are still there.
LINES=$(wc -l <"$OUTBOX")
stop_site
start_daemon
assert_eq 1 "$(grep -c 'outbox .*: 96 messages already written' "$LOG")" \
    "the restart finds every key (approval:1 from before, 95 written)"
sleep 0.5
assert_eq "$LINES" "$(wc -l <"$OUTBOX")" "lines after the restart"
sed -n 1,5p "$OUTBOX" | cmp -s - "$SITE/head" ||
    fail "the lines that are not ours were not kept"
stop_site
echo "17-outbox-start: ok"
