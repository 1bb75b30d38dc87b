#!/bin/bash
# 30-webhook-rate: 94 recipients over the webhook transport while the
# provider answers 429 with Retry-After for a while, then 5xx: every
# recipient is delivered once (distinct Idempotency-Keys, valid signatures,
# the fake refuses anything else), no request reaches the fake after a 429
# before its Retry-After elapsed (only those already in flight may), and
# 5xx answers are retried until accepted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fakelib.sh"

write_config
printf 'test-secret-30\n' >"$SITE/hook.secret"
fake_start hook webhook.py --secret-file "$SITE/hook.secret"
set_transport lineworks "{type: webhook, url: \"$(fake_url hook hook)\", secret_file: \"$SITE/hook.secret\", concurrency: 16, timeout: 5s}"
start_daemon

BODY='全職員は直ちに本庁舎3階の災害対策本部に参集してください。'
out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to crisis+shelter --body "$BODY") ||
    fail "draft: $out"
id=$(jget "$out" 'd["id"]')
# The approval request goes out over the webhook first; then the script.
wait_until 10 "approval request on the webhook" \
    fq_ge hook 1 'sum(1 for e in L if e["status"] == 200)'
fake_ctl hook '{"rules": [{"count": 40, "status": 429, "headers": {"Retry-After": "1"}}]}'
ctl --as mayor approve "$id" >/dev/null || fail "approve"
wait_sent "$id" 94 40

n429=$(fq hook 'sum(1 for e in L if e["status"] == 429)')
assert_eq 40 "$n429" "429 answers given"
assert_eq 94 "$(fq hook 'len(set(e["key"] for e in L if e["status"] == 200 and e.get("key", "").startswith("alert:")))')" \
    "distinct alert keys accepted"
assert_eq 0 "$(fq hook 'sum(1 for e in L if e["status"] in (400, 401, 415))')" \
    "requests refused by the fake (signature, key, JSON)"
# No request after a 429 answer before its Retry-After, except those
# already on their way (arrived within 0.2 s of the answer).
early=$(fq hook '[round(e["t"] - a["t_done"], 3) for a in L if a["status"] == 429 for e in L if a["t_done"] + 0.2 < e["t"] < a["t_done"] + 1.0]')
assert_eq "[]" "$early" "requests inside a Retry-After window (seconds after the 429)"
j=$(ctl --json audit --alert "$id")
assert_ge 1 "$(jget "$j" 'sum(1 for r in (d if isinstance(d, list) else d["rows"]) if r["action"] == "delivery_retry")')" \
    "delivery_retry audit rows"
grep -q "provider asks for a pause" "$LOG" || fail "no pause logged"

note "5xx, then success"
fake_ctl hook '{"rules": [{"count": 1, "status": 503, "match": {"kind": "alert"}}, {"count": 1, "status": 500, "body": "<html>oops</html>", "match": {"kind": "alert"}}]}'
out=$(ctl --json --as soumu_bucho draft --tag 情報共有 --to member:kyoikucho --body "$BODY") ||
    fail "draft: $out"
id2=$(jget "$out" 'd["id"]')
ctl --as mayor approve "$id2" >/dev/null || fail "approve"
wait_sent "$id2" 1 30
assert_eq 3 "$(fq hook "sum(1 for e in L if e.get('member') == 'kyoikucho' and e.get('key', '').startswith('alert:') and json.loads(e['body'])['alert'] == $id2)")" \
    "requests for the 5xx recipient (2 failures + 1 accepted)"
j=$(ctl --json status "$id2")
assert_eq 3 "$(jget "$j" 'd["recipients"][0]["attempts"]')" "attempts"
stop_site
echo "30-webhook-rate: ok"
