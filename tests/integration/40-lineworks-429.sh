#!/bin/bash
# 40-lineworks-429: 94 recipients over the LINE WORKS fake, which answers
# 429 (with rateLimit-* headers) for 2 s after every 30 messages it
# accepts. Every recipient gets exactly one button_template message with a
# link to their page and a 確認しました postback; no request reaches the
# fake inside a 429 window (beyond the requests already on the wire when
# it opened); one token serves every message.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/providers.sh"
site_init
lw_start --burst 30 --window 2
write_config
providers_trap
set_transport lineworks "$(lw_conf)"
start_daemon

ID=$(alert_send 情報共有 crisis+shelter)
wait_sent "$ID" 94 60
expect_rc 0 ctl --json status "$ID"
assert_eq 94 "$(jget "$OUT" 'len(d["recipients"])')" "recipients"
assert_eq '["lineworks"]' "$(jget "$OUT" 'sorted(set(r["channel"] for r in d["recipients"]))')" \
    "every recipient on lineworks"

# The fake's view: 94 accepted alert messages, one per person.
A='[x for x in L if x["kind"] == "message" and x["status"] == 201 and x["postbacks"]]'
assert_eq 94 "$(lw_log "len($A)")" "alert messages accepted"
assert_eq 94 "$(lw_log "len(set(x['user'] for x in $A))")" "distinct users"
assert_ge 2 "$(lw_log 'sum(1 for x in L if x["status"] == 429)')" "429 answers"
# On failure, the 429 answers and the requests around them say why.
lw_log '[(x["t"], x["kind"], x["status"], x.get("reset"), x.get("violation")) for x in L if x["status"] != 201 or x.get("violation")]' >&2
assert_eq 0 "$(lw_log 'sum(1 for x in L if x.get("violation"))')" \
    "requests inside a 429 window"
assert_eq 1 "$(lw_log 'sum(1 for x in L if x["kind"] == "token")')" "token requests"
# Each message: the recipient's page and an ack postback for its delivery.
assert_eq true "$(lw_log "all(x['uri'].startswith('$(public_url)/r/') for x in $A)")" \
    "uri actions to the recipient pages"
assert_eq true "$(lw_log "all(len(x['postbacks']) == 1 and x['postbacks'][0].startswith('ack:') for x in $A)")" \
    "one 確認しました postback each"
stop_site
echo "40-lineworks-429: ok"
