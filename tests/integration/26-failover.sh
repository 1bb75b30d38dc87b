#!/bin/bash
# 26-failover: a channel that keeps failing a member moves them to their
# next channel once it would fail them for longer than
# delivery.failover_after (5 s here), counted from their first failure,
# however long the backoff or the provider's Retry-After would have held
# them; a member with no other channel is tried on. lineworks is a
# webhook to the fake; the member's next channel, ntfy, writes a file.
#   1. 503 for ever (backoff): moved after 2+ attempts, within seconds;
#      500 with Retry-After: 600: moved after its one attempt; a healthy
#      member stays on lineworks.
#   2. 500 with Retry-After: 3, a restart after the first: the time of the
#      first failure is kept, so the second failure moves the member (with
#      it kept in memory only, all eight attempts would be made).
#   3. 503 with Retry-After: 600 pauses the channel for 10 minutes: the
#      next alert's lineworks rows move at once without a request.
#   4. a notice (here the sender's word that their draft expired) moves
#      too, with its text.
#   5. delivery.channels [lineworks] only: a member failing for longer than
#      failover_after is tried on, and reached once the provider recovers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fakelib.sh"

fake_site_init
write_config
printf 'test-secret-26\n' >"$SITE/hook.secret"
fake_start hook webhook.py --secret-file "$SITE/hook.secret"
set_transport lineworks "{type: webhook, url: \"$(fake_url hook lw)\", secret_file: \"$SITE/hook.secret\", timeout: 2s}"
sed -i 's/^  renotify_max: 3$/  renotify_max: 3\n  failover_after: 5s/' "$CFG"
grep -q '^  failover_after: 5s$' "$CFG" || fail "cannot set failover_after"
start_daemon

BODY='全職員は直ちに本庁舎3階の災害対策本部に参集してください。'
# send AUDIENCE: drafts and approves a 参集指示; prints its id.
send() {
	local out id
	out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to "$1" \
	    --body "$BODY") || fail "draft: $out"
	id=$(jget "$out" 'd["id"]')
	ctl --as mayor approve "$id" >/dev/null || fail "approve $id"
	echo "$id"
}
# row ID MEMBER CHANNEL FIELD: a field of that delivery ("" when none).
row() {
	jget "$(ctl --json status "$1")" "next((str(r.get('$4', '')) for r in d['recipients'] if r['member'] == '$2' and r['channel'] == '$3'), '')"
}
row_is() { [ "$(row "$1" "$2" "$3" "$4")" = "$5" ]; }
# requests MEMBER: alert requests for MEMBER that reached the fake.
requests() {
	fq hook "sum(1 for e in L if e.get('member') == '$1' and e.get('key', '').startswith('alert:'))"
}
requests_ge() { [ "$(requests "$1")" -ge "$2" ]; }
# moved ID MEMBER: the audit's reason for moving MEMBER off lineworks.
moved() {
	jget "$(ctl --json audit --alert "$1")" "[r['detail'] for r in d['rows'] if r['action'] == 'delivery_failed' and r['member'] == '$2' and r['channel'] == 'lineworks']"
}

note "1. a failing provider, with and without Retry-After"
fake_ctl hook '{"rules": [
 {"count": -1, "match": {"member": "kyoikucho", "kind": "alert"}, "status": 503, "body": "down"},
 {"count": -1, "match": {"member": "minsei_bucho", "kind": "alert"}, "status": 500, "headers": {"Retry-After": "600"}, "body": "later"}]}'
t0=$(date +%s)
id=$(send member:kyoikucho,minsei_bucho,kensetsu_bucho)
wait_until 15 "kyoikucho reached on ntfy" row_is "$id" kyoikucho ntfy state sent
wait_until 5 "minsei_bucho reached on ntfy" row_is "$id" minsei_bucho ntfy state sent
secs=$(($(date +%s) - t0))
note "both moved and reached within ${secs}s"
[ "$secs" -le $((12 * SLOW)) ] || fail "moving on took ${secs}s (failover_after is 5s)"
assert_eq failed "$(row "$id" kyoikucho lineworks state)" "kyoikucho's lineworks row"
n=$(row "$id" kyoikucho lineworks attempts)
[ "$n" -ge 2 ] && [ "$n" -le 5 ] || fail "kyoikucho: $n attempts on lineworks, want 2 to 5"
assert_eq "$n" "$(requests kyoikucho)" "kyoikucho's requests at the fake"
assert_contains "$(row "$id" kyoikucho lineworks error)" "HTTP 503" "kyoikucho's reason"
assert_contains "$(moved "$id" kyoikucho)" "待つため次の方法へ" "kyoikucho's audit"
grep -Eq "delivery [0-9]+ \(alert\) to kyoikucho via lineworks failed after $n attempts: HTTP 503: down; moved to ntfy" "$LOG" ||
    fail "the log does not say kyoikucho was moved to ntfy"
assert_eq 1 "$(row "$id" minsei_bucho lineworks attempts)" "minsei_bucho's attempts"
assert_contains "$(moved "$id" minsei_bucho)" "HTTP 500: later（最初の失敗から 0 秒、再送まで 600 秒待つため次の方法へ）" "minsei_bucho's audit"
wait_until 5 "kensetsu_bucho reached on lineworks" row_is "$id" kensetsu_bucho lineworks state sent
assert_eq "" "$(row "$id" kensetsu_bucho ntfy state)" "kensetsu_bucho's ntfy row"

note "2. the failing's start survives a restart"
fake_ctl hook '{"rules": [
 {"count": -1, "match": {"member": "kankyo_keizai_bucho", "kind": "alert"}, "status": 500, "headers": {"Retry-After": "3"}, "body": "busy"}]}'
id=$(send member:kankyo_keizai_bucho)
wait_until 10 "the first request" requests_ge kankyo_keizai_bucho 1
stop_site
start_daemon
wait_until 15 "kankyo_keizai_bucho reached on ntfy" row_is "$id" kankyo_keizai_bucho ntfy state sent
assert_eq 2 "$(row "$id" kankyo_keizai_bucho lineworks attempts)" \
    "attempts on lineworks (the first before the restart)"
assert_contains "$(moved "$id" kankyo_keizai_bucho)" "待つため次の方法へ" "the audit"

note "3. a provider that asks for a 10-minute pause"
fake_ctl hook '{"rules": [
 {"count": 1, "match": {"kind": "alert"}, "status": 503, "headers": {"Retry-After": "600"}, "body": "maintenance"}]}'
id=$(send member:kaikei_kanrisha)
wait_until 10 "kaikei_kanrisha reached on ntfy" row_is "$id" kaikei_kanrisha ntfy state sent
grep -q "provider asks for a pause of 600s" "$LOG" || fail "no pause logged"
before=$(fq hook 'len(L)')
id=$(send member:kyoikucho,kensetsu_bucho)
wait_until 10 "kyoikucho reached on ntfy" row_is "$id" kyoikucho ntfy state sent
wait_until 10 "kensetsu_bucho reached on ntfy" row_is "$id" kensetsu_bucho ntfy state sent
assert_contains "$(row "$id" kensetsu_bucho lineworks error)" \
    "the provider takes no request for" "the paused channel's reason"
assert_eq "$before" "$(fq hook 'len(L)')" "requests to the paused provider"

note "4. a notice moves too: the sender's word that a draft expired"
stop_site
sed -i 's/^  step_timeout: 10m$/  step_timeout: 3s/; s/^  link_ttl: 30m$/  link_ttl: 3s/' "$CFG"
grep -q '^  link_ttl: 3s$' "$CFG" || fail "cannot set link_ttl"
fake_ctl hook '{"rules": [
 {"count": -1, "match": {"member": "soumu_bucho", "kind": "notice"}, "status": 503, "body": "down"}]}'
start_daemon
out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to member:kyoikucho \
    --body "$BODY") || fail "draft: $out"
id=$(jget "$out" 'd["id"]')
# notice ID CHANNEL FIELD: a field of the notice on CHANNEL ("" when none).
notice() {
	jget "$(ctl --json status "$1")" "next((str(r.get('$3', '')) for r in d['notices'] if r['channel'] == '$2'), '')"
}
notice_is() { [ "$(notice "$1" "$2" "$3")" = "$4" ]; }
wait_until 20 "the notice reached soumu_bucho on ntfy" notice_is "$id" ntfy state sent
assert_eq failed "$(notice "$id" lineworks state)" "the notice on lineworks"
assert_contains "$(notice "$id" ntfy text)" "期限切れ" "the notice's text on ntfy"
assert_eq "$(notice "$id" lineworks text)" "$(notice "$id" ntfy text)" "the text, moved"
assert_contains "$(moved "$id" soumu_bucho)" "待つため次の方法へ" "the notice's audit"
stop_site
sed -i 's/^  step_timeout: 3s$/  step_timeout: 10m/; s/^  link_ttl: 3s$/  link_ttl: 30m/' "$CFG"

note "5. no other channel: tried on"
set_delivery_channels lineworks
fake_ctl hook '{"rules": [
 {"count": -1, "match": {"member": "kyoikucho", "kind": "alert"}, "status": 500, "headers": {"Retry-After": "1"}, "body": "busy"}]}'
start_daemon
base=$(requests kyoikucho)
id=$(send member:kyoikucho)
wait_until 20 "six failed requests" requests_ge kyoikucho $((base + 6))
assert_contains "pending sending" "$(row "$id" kyoikucho lineworks state)" "the row, failing past failover_after"
fake_ctl hook '{"rules": []}'
wait_until 10 "kyoikucho reached on lineworks" row_is "$id" kyoikucho lineworks state sent
assert_eq 1 "$(jget "$(ctl --json status "$id")" 'len(d["recipients"])')" "rows of the alert"
stop_site
echo "26-failover: ok"
