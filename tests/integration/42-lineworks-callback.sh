#!/bin/bash
# 42-lineworks-callback: POST /callback/lineworks. A bad signature or a
# wrong bot id is refused (403) and confirms nothing; a correctly signed
# body that is not JSON gets 400; a postback sent by another user, or a
# postback whose mac was altered, is answered 200 and confirms nothing;
# the recipient's own postback confirms with 確認しました, as a message
# event or a postback event; the daemon survives all of it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/providers.sh"
site_init
lw_start
write_config
providers_trap
set_transport lineworks "$(lw_conf)"
start_daemon

ID=$(alert_send 情報共有 member:mayor,deputy_mayor,kyoikucho)
wait_sent "$ID" 3
pb() {	# USER: the postback sent to USER
	lw_log "[x['postbacks'][0] for x in L if x['kind'] == 'message' and x['status'] == 201 and x['postbacks'] and x['user'] == '$1'][0]"
}
PB=$(pb mayor@town.example)
assert_match "$PB" '^ack:[0-9]+:0:[A-Za-z0-9_-]{16}$' "postback shape"
confirmed() {	# MEMBER: its response, or null
	ctl --json status "$ID" >"$SITE/st.json"
	jget "$(cat "$SITE/st.json")" "[r['response'] for r in d['recipients'] if r['member'] == '$1'][0]"
}

# confirmed_is MEMBER RESPONSE: polled by wait_until.
confirmed_is() {
	[ "$(confirmed "$1")" = "$2" ]
}

assert_eq 403 "$(lw_callback --user mayor@town.example --postback "$PB" --bad-sig)" \
    "bad signature"
assert_eq 403 "$(LW_BOT=999 lw_callback --user mayor@town.example --postback "$PB")" \
    "wrong bot id"
assert_eq 400 "$(lw_callback --body 'not json {')" "garbage"
assert_eq 400 "$(lw_callback --body '')" "empty body"
assert_eq 200 "$(lw_callback --user deputy_mayor@town.example --postback "$PB")" \
    "another user's tap"
FORGED=$(echo "$PB" | sed 's/:0:/:1:/')
assert_eq 200 "$(lw_callback --user mayor@town.example --postback "$FORGED")" \
    "a made-up postback"
assert_eq 200 "$(lw_callback --user mayor@town.example --postback "ack:1:0:x")" \
    "a short mac"
assert_eq 200 "$(lw_callback --type postback --user mayor@town.example --postback "")" \
    "an empty postback"
assert_eq 200 "$(lw_callback --body '{"type":"join","source":{"channelId":"c1"}}')" \
    "another event"
assert_eq null "$(confirmed mayor)" "the mayor is not confirmed by any of that"

assert_eq 200 "$(lw_callback --user mayor@town.example --postback "$PB")" "good tap"
wait_until 5 "the mayor confirmed" confirmed_is mayor 確認しました
assert_eq 200 "$(lw_callback --user mayor@town.example --postback "$PB")" "second tap"
assert_eq 確認しました "$(confirmed mayor)" "still confirmed once"

# A postback event (quick reply shape) works the same.
assert_eq 200 "$(lw_callback --type postback --user deputy_mayor@town.example \
    --postback "$(pb deputy_mayor@town.example)")" "postback event"
wait_until 5 "the deputy confirmed" confirmed_is deputy_mayor 確認しました
assert_eq null "$(confirmed kyoikucho)" "kyoikucho untouched"
expect_rc 0 ctl --json status "$ID"
assert_eq 2 "$(jget "$OUT" 'd["counts"]["confirmed"]')" "confirmed count"
stop_site
echo "42-lineworks-callback: ok"
