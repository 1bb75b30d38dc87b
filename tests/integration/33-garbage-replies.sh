#!/bin/bash
# 33-garbage-replies: provider replies that are not what they should be
# give clear errors in status and the daemon runs on: a 200 that is not
# JSON (accepted, no id), a 3 MB body (accepted, kept capped), a dropped
# connection (transient, retried), a slow reply past the timeout
# (transient), an HTML 404 (permanent, the recipient moves on).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fakelib.sh"

write_config
printf 'test-secret-33\n' >"$SITE/hook.secret"
fake_start hook webhook.py --secret-file "$SITE/hook.secret"
set_transport lineworks "{type: webhook, url: \"$(fake_url hook)\", secret_file: \"$SITE/hook.secret\", timeout: 1s}"
start_daemon
fake_ctl hook '{"rules": [
 {"count": -1, "match": {"member": "mayor", "kind": "alert"}, "body": "<<<not json>>>"},
 {"count": -1, "match": {"member": "deputy_mayor", "kind": "alert"}, "huge": 3000000},
 {"count": 1, "match": {"member": "kyoikucho", "kind": "alert"}, "drop": true},
 {"count": 1, "match": {"member": "soumu_bucho", "kind": "alert"}, "delay_ms": 2500},
 {"count": -1, "match": {"member": "kiki_shitsucho", "kind": "alert"}, "status": 404, "body": "<html><body>Not Found</body></html>"}]}'
BODY='全職員は直ちに本庁舎3階の災害対策本部に参集してください。'
out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to member:mayor,deputy_mayor,kyoikucho,soumu_bucho,kiki_shitsucho --body "$BODY") ||
    fail "draft: $out"
id=$(jget "$out" 'd["id"]')
ctl --as mayor approve "$id" >/dev/null || fail "approve"

field() {	# MEMBER CHANNEL KEY
	jget "$(ctl --json status "$id")" "([r.get('$3', '') for r in d['recipients'] if r['member'] == '$1' and r['channel'] == '$2'] + ['none'])[0]"
}
is_field() { [ "$(field "$1" "$2" "$3")" = "$4" ]; }
wait_until 10 "mayor sent" is_field mayor lineworks state sent
wait_until 10 "deputy_mayor sent" is_field deputy_mayor lineworks state sent
wait_until 15 "kyoikucho sent after a dropped connection" is_field kyoikucho lineworks state sent
wait_until 15 "soumu_bucho sent after a timeout" is_field soumu_bucho lineworks state sent
wait_until 10 "kiki_shitsucho failed on the webhook" is_field kiki_shitsucho lineworks state failed
wait_until 10 "kiki_shitsucho moved to ntfy" is_field kiki_shitsucho ntfy state sent
assert_eq "HTTP 404: <html><body>Not Found</body></html>" "$(field kiki_shitsucho lineworks error)" "404 error text"
audit=$(ctl --json audit --alert "$id")
retries=$(jget "$audit" '"\n".join(r.get("member", "") + " " + (r.get("detail") or "") for r in (d if isinstance(d, list) else d["rows"]) if r["action"] == "delivery_retry")')
assert_match "$retries" '^kyoikucho no reply: ' "dropped connection reported"
assert_match "$retries" '^soumu_bucho timeout: ' "timeout reported"
expect_rc 0 ctl ping
stop_site
echo "33-garbage-replies: ok"
