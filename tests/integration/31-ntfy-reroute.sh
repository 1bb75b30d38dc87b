#!/bin/bash
# 31-ntfy-reroute: a recipient whose webhook send fails permanently (the
# provider answers 400 for that member) is sent on their next channel, ntfy,
# within a second; the ntfy publish is checked by the strict ntfy fake
# (JSON publish to the root, topic, title, message, priority 1-5 from the
# tag, tags, click, an http action that POSTs response=... to the page with
# clear, a view action) and carries the bearer token.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fakelib.sh"

write_config
printf 'test-secret-31\n' >"$SITE/hook.secret"
printf 'tk_testtoken31\n' >"$SITE/ntfy.token"
fake_start hook webhook.py --secret-file "$SITE/hook.secret"
fake_start ntfy ntfy.py --token-file "$SITE/ntfy.token"
set_transport lineworks "{type: webhook, url: \"$(fake_url hook)\", secret_file: \"$SITE/hook.secret\"}"
set_transport ntfy "{type: ntfy, url: \"$(fake_url ntfy)\", token_file: ntfy.token}"
cp "$SITE/ntfy.token" "$(dirname "$CFG")/ntfy.token" 2>/dev/null || true
start_daemon

fake_ctl hook '{"rules": [{"count": -1, "match": {"member": "kyoikucho", "kind": "alert"}, "status": 400, "body": "{\"error\": \"unknown user\"}"}]}'
BODY='全職員は直ちに本庁舎3階の災害対策本部に参集してください。'
out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to member:kyoikucho,mayor --body "$BODY") ||
    fail "draft: $out"
id=$(jget "$out" 'd["id"]')
ctl --as mayor approve "$id" >/dev/null || fail "approve"
wait_until 10 "the ntfy publish" fq_ge ntfy 1 'sum(1 for e in L if e["status"] == 200)'
wait_sent "$id" 2 10

gap=$(python3 - "$(fake_log hook)" "$(fake_log ntfy)" <<'PY'
import json, sys
h = [json.loads(l) for l in open(sys.argv[1])]
n = [json.loads(l) for l in open(sys.argv[2])]
bad = [e for e in h if e["status"] == 400]
print("%.3f" % (n[0]["t"] - bad[0]["t_done"]))
PY
)
note "webhook 400 -> ntfy publish: ${gap}s"
python3 -c "import sys; sys.exit(0 if float('$gap') < 1.0 else 1)" ||
    fail "next channel after ${gap}s, not within a second"

j=$(ctl --json status "$id")
assert_eq "failed" "$(jget "$j" '[r["state"] for r in d["recipients"] if r["member"] == "kyoikucho" and r["channel"] == "lineworks"][0]')" \
    "webhook delivery of kyoikucho"
assert_contains "$(jget "$j" '[r.get("error", "") for r in d["recipients"] if r["member"] == "kyoikucho" and r["channel"] == "lineworks"][0]')" \
    "HTTP 400" "error text"
assert_eq "sent" "$(jget "$j" '[r["state"] for r in d["recipients"] if r["member"] == "kyoikucho" and r["channel"] == "ntfy"][0]')" \
    "ntfy delivery of kyoikucho"

# The publish itself, as the fake accepted it.
pub=$(fq ntfy '[json.loads(e["body"]) for e in L if e["status"] == 200][0]')
assert_eq "cc-kyoikucho" "$(jget "$pub" 'd["topic"]')" "topic"
assert_eq "Bearer tk_testtoken31" "$(fq ntfy '[e["headers"]["authorization"] for e in L][0]')" "bearer token"
assert_match "$(jget "$pub" 'd["title"]')" '参集指示' "title"
assert_match "$(jget "$pub" 'd["message"]')" '本庁舎3階' "message"
assert_match "$(jget "$pub" 'str(d["priority"])')" '^[45]$' "priority of 参集指示"
assert_match "$(jget "$pub" 'd["click"]')" '^http://127\.0\.0\.1:[0-9]+/r/[A-Za-z0-9_-]{22}$' "click link"
assert_eq "http" "$(jget "$pub" 'd["actions"][0]["action"]')" "first action"
assert_eq "POST" "$(jget "$pub" 'd["actions"][0]["method"]')" "http action method"
assert_eq "true" "$(jget "$pub" 'd["actions"][0]["clear"]')" "http action clear"
assert_match "$(jget "$pub" 'd["actions"][0]["body"]')" '^response=' "http action body"
assert_eq "$(jget "$pub" 'd["click"]')" "$(jget "$pub" 'd["actions"][0]["url"]')" "http action url"
assert_eq "view" "$(jget "$pub" 'd["actions"][-1]["action"]')" "last action"
assert_eq "開く" "$(jget "$pub" 'd["actions"][-1]["label"]')" "view label"
# 情報共有 has no response choices: one 確認しました button.
fake_ctl hook '{"rules": [{"count": -1, "match": {"kind": "alert"}, "status": 404}]}'
out=$(ctl --json --as soumu_bucho draft --tag 情報共有 --to member:mayor --body "$BODY") || fail "draft: $out"
id2=$(jget "$out" 'd["id"]')
ctl --as mayor approve "$id2" >/dev/null || fail "approve"
wait_until 10 "second ntfy publish" fq_ge ntfy 2 'sum(1 for e in L if e["status"] == 200)'
pub=$(fq ntfy '[json.loads(e["body"]) for e in L if e["status"] == 200][-1]')
assert_eq "確認しました" "$(jget "$pub" 'd["actions"][0]["label"]')" "confirm label"
assert_eq 0 "$(fq ntfy 'sum(1 for e in L if e["status"] != 200)')" "publishes refused by the ntfy fake"
stop_site
echo "31-ntfy-reroute: ok"
