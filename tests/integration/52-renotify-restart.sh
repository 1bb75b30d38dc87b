#!/bin/bash
# 52-renotify-restart: `crisisctl renotify` makes a round now (sender,
# approver or admin only); a SIGKILL right after a round and a restart
# neither lose nor double a round: round 2 comes once, then the call
# list, once.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/fu_lib.sh"
fu_site 3s 2

ID=$(fu_draft 情報共有 shelter:hs03,hs04 '第三・第四避難所の点検をお願いします。')
expect_rc 0 ctl --as "$APPROVER" approve "$ID"
wait_sent "$ID" 8
expect_rc 1 ctl --as hs03-1 renotify "$ID"
expect_rc 0 ctl --json --as "$SENDER" renotify "$ID"
assert_eq '[1, 8]' "$(jget "$OUT" '[d["round"], d["count"]]')" "manual round"
wait_until 10 "round 1 sent" outbox_count_is 8 kind=alert alert="$ID" channel=ntfy
kill_site
start_daemon
assert_eq 8 "$(fu_rows "$ID" 'sum(1 for r in d["recipients"] if r["round"] == 1)')" \
    "round 1 not doubled by the restart"
wait_until 15 "round 2" outbox_count_is 8 kind=alert alert="$ID" channel=sms
kill_site
start_daemon
wait_until 15 "the call list" outbox_count_is 2 kind=notice alert="$ID"
wait_until 5 "complete" fu_state_is "$ID" complete
J=$(ctl --json status "$ID")
assert_eq '[8, 8, 8]' "$(jget "$J" '[sum(1 for r in d["recipients"] if r["round"] == k) for k in (0, 1, 2)]')" \
    "one row per member and round"
assert_eq 24 "$(outbox_count kind=alert alert="$ID")" "3 rounds of 8, no more"
expect_rc 0 ctl --json audit --alert "$ID"
assert_eq 2 "$(jget "$OUT" 'sum(1 for r in (d if isinstance(d, list) else d["rows"]) if r["action"] == "renotify_round")')" "two rounds audited"
assert_eq 1 "$(jget "$OUT" 'sum(1 for r in (d if isinstance(d, list) else d["rows"]) if r["action"] == "escalated")')" "one escalation"
expect_rc 1 ctl --as "$SENDER" renotify "$ID"
assert_eq "" "$(outbox dupkeys)" "duplicate keys"
stop_site
echo "52-renotify-restart: ok"
