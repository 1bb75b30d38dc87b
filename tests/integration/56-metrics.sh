#!/bin/bash
# 56-metrics: GET /metrics after some traffic. LINE WORKS goes through the
# webhook transport to a fake that answers 429 (Retry-After: 1) twice;
# an alert to 8 staff is approved by the mayor and 3 confirm. Then:
# promtool check metrics accepts the exposition with no warning, and the
# numbers match the alert's status and the database: alerts by state,
# sends by transport and result (sent = every sent row, retry = the two
# 429s), the latency histogram counts every sent recipient, confirmations,
# queue depth 0 and nothing in flight, two provider pauses on lineworks,
# one approval wait. A scrape from a non-loopback setting without the
# token is covered by 55-board.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fakelib.sh"

command -v promtool >/dev/null || { echo "no promtool"; exit 77; }
write_config
printf 'test-secret-56\n' >"$SITE/hook.secret"
fake_start hook webhook.py --secret-file "$SITE/hook.secret"
set_transport lineworks "{type: webhook, url: \"$(fake_url hook hook)\", secret_file: \"$SITE/hook.secret\", concurrency: 4, timeout: 5s}"
start_daemon

# Before any traffic the exposition is valid too.
curl -sf "$BASE_URL/metrics" >"$SITE/m0" || fail "GET /metrics"
promtool check metrics <"$SITE/m0" >"$SITE/lint" 2>&1 ||
    fail "promtool on an idle daemon: $(cat "$SITE/lint")"

out=$(ctl --json --as soumu_bucho draft --tag 避難所開設要請 \
    --to shelter:hs01,hs02 --body '指定避難所を開設してください。') ||
    fail "draft: $out"
ID=$(jget "$out" 'd["id"]')
wait_until 10 "approval request on the webhook" \
    fq_ge hook 1 'sum(1 for e in L if e["status"] == 200)'
fake_ctl hook '{"rules": [{"count": 2, "status": 429, "headers": {"Retry-After": "1"}, "match": {"kind": "alert"}}]}'
sleep 1.1	# a measurable approval wait
expect_rc 0 ctl --as mayor approve "$ID"
wait_sent "$ID" 8 30
for m in hs01-1 hs01-2 hs02-1; do
	# LINE WORKS went to the fake: the link is in what it accepted.
	l=$(fq hook "[json.loads(e['body'])['link'] for e in L if e['status'] == 200 and e.get('member') == '$m' and e.get('key', '').startswith('alert:')][0]")
	assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' \
	    --data-urlencode response=参集できる "$l")" "confirm $m"
done

curl -s -D "$SITE/h" -o "$SITE/m" "$BASE_URL/metrics" || fail "GET /metrics"
M=$(cat "$SITE/m")
assert_contains "$(tr -d '\r' <"$SITE/h")" \
    "Content-Type: text/plain; version=0.0.4; charset=utf-8" "content type"
promtool check metrics <"$SITE/m" >"$SITE/lint" 2>&1 ||
    fail "promtool check metrics: $(cat "$SITE/lint")
$M"
[ ! -s "$SITE/lint" ] || fail "promtool warnings: $(cat "$SITE/lint")"

# metric NAME{LABELS}: the value of that exact series (empty if absent).
metric() {
	awk -v k="$1" '$1 == k { print $2 }' "$SITE/m"
}

S=$(ctl --json status "$ID")
STATE_NOW=$(jget "$S" 'd["state"]')
assert_eq 1 "$(metric "crisiscast_alerts{state=\"$STATE_NOW\"}")" "alerts in state $STATE_NOW"
assert_eq 0 "$(metric 'crisiscast_alerts{state="rejected"}')" "alerts rejected"
RSENT=$(jget "$S" 'sum(1 for r in d["recipients"] if r["state"] == "sent")')
ASENT=$(jget "$S" 'sum(1 for r in d["approvals"] if r["state"] == "sent")')
assert_eq 8 "$RSENT" "recipients sent (status)"
SUMSENT=$(awk '/^crisiscast_deliveries_total\{.*result="sent"/ { s += $2 } END { print s + 0 }' "$SITE/m")
assert_eq $((RSENT + ASENT)) "$SUMSENT" "sent over all transports = recipients + approvers sent"
DBSENT=$(sqlite3 "$STATE/state.db" "SELECT count(*) FROM deliveries WHERE channel = 'lineworks' AND state = 'sent'")
assert_eq "$DBSENT" "$(metric 'crisiscast_deliveries_total{transport="lineworks",result="sent"}')" \
    "sent via lineworks"
assert_eq 2 "$(metric 'crisiscast_deliveries_total{transport="lineworks",result="retry"}')" \
    "retries via lineworks (the two 429s)"
assert_eq 2 "$(metric 'crisiscast_rate_limit_waits_total{transport="lineworks"}')" \
    "provider pauses on lineworks"
assert_eq 0 "$(metric 'crisiscast_rate_limit_waits_total{transport="sms"}')" "pauses on sms"
assert_eq "$RSENT" "$(metric 'crisiscast_delivery_latency_seconds_count')" \
    "latency observations = recipients sent"
assert_eq "$RSENT" "$(metric 'crisiscast_delivery_latency_seconds_bucket{le="+Inf"}')" \
    "latency +Inf bucket"
assert_eq "$(jget "$S" 'd["counts"]["confirmed"]')" \
    "$(metric crisiscast_confirmations_total)" "confirmations = status"
assert_eq 3 "$(metric crisiscast_confirmations_total)" "confirmations"
assert_eq 3 "$(metric crisiscast_reads_total)" "reads (a confirmation reads)"
RN=$(sqlite3 "$STATE/state.db" "SELECT count(*) FROM audit WHERE action = 'renotify_round'")
assert_eq "$RN" "$(metric crisiscast_renotify_rounds_total)" "renotify rounds = audit"
for ch in lineworks sms email ntfy; do
	assert_eq 0 "$(metric "crisiscast_transport_queue_depth{transport=\"$ch\"}")" \
	    "queue depth $ch"
	assert_eq 0 "$(metric "crisiscast_transport_inflight{transport=\"$ch\"}")" \
	    "in flight $ch"
done
assert_eq 1 "$(metric crisiscast_approval_wait_seconds_count)" "approval waits"
W=$(metric crisiscast_approval_wait_seconds_sum)
assert_ge 1 "${W%.*}" "approval wait seconds"
assert_eq 1 "$(metric 'crisiscast_approval_wait_seconds_bucket{le="30"}')" \
    "the approval came within 30 s"

assert_eq 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data a=b \
    "$BASE_URL/metrics")" "POST /metrics"
[ -z "${METRICS_OUT:-}" ] || cp "$SITE/m" "$METRICS_OUT"
stop_site
echo "56-metrics: ok"
