#!/bin/bash
# 41-lineworks-token: the token is fetched once with a JWT the fake
# verifies (RS256 against the public key, iss/sub/iat/exp, grant_type,
# client secret, scope), even with expires_in as a JSON number; when the
# fake revokes every token at its 10th message (401 UNAUTHORIZED), the
# daemon fetches a new token once and retries: all 38 are delivered, none
# twice. A 500 and a dropped connection are retried too. channel_id set:
# one post to the group channel for the alert.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/providers.sh"
site_init
lw_start --expire-at 10 --expires-number --drop 2 --fail5xx 4
write_config
providers_trap
set_transport lineworks "$(lw_conf 'channel_id: "grp-1"')"
start_daemon

ID=$(alert_send 情報共有 crisis)
wait_sent "$ID" 38 60
A='[x for x in L if x["kind"] == "message" and x["status"] == 201 and x["postbacks"]]'
assert_eq 38 "$(lw_log "len($A)")" "alert messages accepted"
assert_eq 38 "$(lw_log "len(set(x['user'] for x in $A))")" "distinct users"
assert_eq 2 "$(lw_log 'sum(1 for x in L if x["kind"] == "token" and x["status"] == 200)')" \
    "tokens fetched (first, and after the 401)"
assert_eq 0 "$(lw_log 'sum(1 for x in L if x["kind"] == "token" and x["status"] != 200)')" \
    "tokens refused"
assert_ge 1 "$(lw_log 'sum(1 for x in L if x["status"] == 401)')" "401 answers"
assert_ge 1 "$(lw_log 'sum(1 for x in L if x["status"] == 500)')" "500 answers"
assert_ge 1 "$(lw_log 'sum(1 for x in L if x.get("dropped"))')" "dropped connections"
# The group channel gets one post for the alert, without a personal link.
assert_eq 1 "$(lw_log 'sum(1 for x in L if x["kind"] == "channel" and x["status"] == 201 and x["user"] == "grp-1")')" \
    "one group post"
assert_not_contains "$(lw_log '[x["text"] for x in L if x["kind"] == "channel" and x["status"] == 201][0]')" \
    "/r/" "group post text"
assert_contains "$(cat "$LOG")" "token refused (HTTP 401), renewing" "renewal logged"
stop_site
echo "41-lineworks-token: ok"
