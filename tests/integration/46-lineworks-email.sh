#!/bin/bash
# 46-lineworks-email: lineworks contacts that are login e-mails, as in the
# sample rosters. A real callback names the tapper by user id only, so the
# daemon looks the e-mail up in the Directory (GET /v1.0/users/{e-mail},
# URL-encoded, with the sends' token, scope user.read) and confirms only
# when the answer is the tapper's id. Checked: `-n` refuses a scope
# without user.read when contacts are e-mails, and malformed scopes; the
# recipient's own id confirms, another user's id does not; a lookup that
# fails (500, 404, a timeout, a reply that is not a user) confirms
# nothing, is logged with its reason, and a later tap asks again and
# confirms; a 429 is waited out, and a 401 renews the token, and the tap
# confirms without a second one; five taps at once make one lookup; an
# answer is cached, so each address is asked once unless a lookup failed;
# a lookup under way when the daemon stops drops its tap cleanly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/providers.sh"
site_init

MEMBERS="mayor deputy_mayor kyoikucho soumu_bucho minsei_bucho kensetsu_bucho shobocho
    kyoiku_jicho kiki_shitsucho"
uid() {	# MEMBER: its LINE WORKS user id in the fake's directory
	echo "$(printf '%s' "$1" | md5sum | cut -c1-8)-0f21-4736-11e4-045237113344"
}
USERS=()
for m in $MEMBERS; do
	[ "$m" = kyoikucho ] && continue	# not in the directory at first
	USERS+=(--user "$m@town.example=$(uid "$m")")
done
lw_start "${USERS[@]}"
write_config
providers_trap

# -n: e-mail contacts need a scope that reaches the Directory.
set_transport lineworks "$(lw_conf 'scope: bot')"
expect_rc 1 "$CRISISCASTD" -n -f "$CFG"
assert_contains "$ERR" '"scope" lacks user.read, but 94 lineworks contacts are login e-mails' \
    "-n: scope without user.read"
assert_contains "$ERR" 'add user.read to "scope"' "-n: what to do"
set_transport lineworks "$(lw_conf 'scope: "bot,user.read"')"
expect_rc 1 "$CRISISCASTD" -n -f "$CFG"
assert_contains "$ERR" '"scope" must be scope names separated by single spaces' \
    "-n: commas"
set_transport lineworks "$(lw_conf 'scope: user.read')"
expect_rc 1 "$CRISISCASTD" -n -f "$CFG"
assert_contains "$ERR" '"scope" must include bot or bot.message' "-n: no bot"
set_transport lineworks "$(lw_conf 'scope: "bot.message user.read"')"
expect_rc 0 "$CRISISCASTD" -n -f "$CFG"

# The scope has user.read (lw_conf's default); 1 s so a slow lookup times
# out.
set_transport lineworks "$(lw_conf 'timeout: 1s')"
start_daemon

ID=$(alert_send 情報共有 "member:$(echo $MEMBERS | tr ' ' ,)")
wait_sent "$ID" 9
assert_eq '["bot user.read"]' \
    "$(lw_log '[x["scope"] for x in L if x["kind"] == "token"]')" "token scope"

pb() {	# MEMBER: the postback sent to MEMBER
	lw_log "[x['postbacks'][0] for x in L if x['kind'] == 'message' and x['status'] == 201 and x['postbacks'] and x['user'] == '$1@town.example'][0]"
}
tap() {	# MEMBER USERID: USERID taps MEMBER's 確認しました; 200 at once
	assert_eq 200 "$(lw_callback --user "$2" --postback "$(pb "$1")")" \
	    "tap on $1's message by $2"
}
confirmed() {	# MEMBER: its response, or null
	ctl --json status "$ID" >"$SITE/st.json"
	jget "$(cat "$SITE/st.json")" "[r['response'] for r in d['recipients'] if r['member'] == '$1'][0]"
}
confirmed_is() {	# MEMBER RESPONSE: for wait_until
	[ "$(confirmed "$1")" = "$2" ]
}
asked() {	# MEMBER: Directory requests for MEMBER's e-mail
	lw_log "sum(1 for x in L if x['kind'] == 'directory' and x['user'] == '$1@town.example')"
}
logged() {	# TEXT [N]: the daemon log has TEXT at least N times (default 1)
	[ "$(grep -cF -- "$1" "$LOG")" -ge "${2:-1}" ]
}
fake_ctl() {	# JSON: POST /_control to the LINE WORKS fake
	curl -sf -X POST --data-binary "$1" \
	    "http://127.0.0.1:$(fake_port lineworks)/_control" >/dev/null ||
	    fail "cannot script the LINE WORKS fake"
}
lookup_failed() {	# MEMBER REASON [N]: the Nth failure of MEMBER's lookup was logged
	wait_until 10 "$1's lookup failing: $2" \
	    logged "looking up $1@town.example in the LINE WORKS directory failed: $2" "${3:-1}"
}

# The recipient's own id confirms; another user's id does not. One lookup.
tap mayor "$(uid deputy_mayor)"
wait_until 10 "the deputy's tap refused" \
    logged "is not $(uid deputy_mayor)'s (its recipient mayor@town.example is LINE WORKS user $(uid mayor)), not confirmed"
assert_eq null "$(confirmed mayor)" "another user's id confirms nothing"
assert_eq 1 "$(asked mayor)" "mayor looked up"
assert_eq '["/v1.0/users/mayor%40town.example"]' \
    "$(lw_log "[x['path'] for x in L if x['kind'] == 'directory']")" \
    "the e-mail URL-encoded in the path"
tap mayor "$(uid mayor)"
wait_until 10 "the mayor confirmed" confirmed_is mayor 確認しました
tap mayor "$(uid mayor)"
wait_until 10 "the second tap decided" \
    logged "$(uid mayor) is mayor@town.example, confirming" 2
assert_eq 1 "$(asked mayor)" "mayor looked up once (cached)"

# A 500 confirms nothing; the next tap asks again and confirms.
fake_ctl '{"dir_rules": [{"user": "deputy_mayor@town.example", "status": 500}]}'
tap deputy_mayor "$(uid deputy_mayor)"
lookup_failed deputy_mayor "HTTP 500 SCRIPTED: scripted 500"
assert_eq null "$(confirmed deputy_mayor)" "a 500 confirms nothing"
tap deputy_mayor "$(uid deputy_mayor)"
wait_until 10 "the deputy confirmed after the 500" confirmed_is deputy_mayor 確認しました
assert_eq 2 "$(asked deputy_mayor)" "deputy looked up twice (a failure is not cached)"

# A user the Directory does not know (404); known later, the tap confirms.
tap kyoikucho "$(uid kyoikucho)"
lookup_failed kyoikucho "HTTP 404 USER_NOT_EXIST: no such user"
assert_eq null "$(confirmed kyoikucho)" "a 404 confirms nothing"
fake_ctl "{\"users\": {\"kyoikucho@town.example\": \"$(uid kyoikucho)\"}}"
tap kyoikucho "$(uid kyoikucho)"
wait_until 10 "kyoikucho confirmed after the 404" confirmed_is kyoikucho 確認しました
assert_eq 2 "$(asked kyoikucho)" "kyoikucho looked up twice"

# Replies that are not a UserResponse, each logged with what is wrong.
S=soumu_bucho@town.example
fake_ctl "{\"dir_rules\": [
    {\"user\": \"$S\", \"status\": 200, \"body\": \"<html>maintenance</html>\"},
    {\"user\": \"$S\", \"status\": 200, \"body\": \"{\\\"email\\\": \\\"$S\\\"}\"},
    {\"user\": \"$S\", \"status\": 200, \"body\": \"{\\\"userId\\\": 42, \\\"email\\\": \\\"$S\\\"}\"},
    {\"user\": \"$S\", \"status\": 200, \"body\": \"{\\\"userId\\\": \\\"$(uid soumu_bucho)\\\", \\\"email\\\": [1]}\"}]}"
tap soumu_bucho "$(uid soumu_bucho)"
lookup_failed soumu_bucho "a reply that is not a user: not JSON"
tap soumu_bucho "$(uid soumu_bucho)"
lookup_failed soumu_bucho "a reply that is not a user: no userId"
tap soumu_bucho "$(uid soumu_bucho)"
lookup_failed soumu_bucho "a reply that is not a user: userId is not a string"
tap soumu_bucho "$(uid soumu_bucho)"
lookup_failed soumu_bucho "a reply that is not a user: email is not a string"
assert_eq null "$(confirmed soumu_bucho)" "garbage confirms nothing"
tap soumu_bucho "$(uid soumu_bucho)"
wait_until 10 "soumu_bucho confirmed after the garbage" confirmed_is soumu_bucho 確認しました
assert_eq 5 "$(asked soumu_bucho)" "soumu_bucho looked up five times"

# No answer within the transport's timeout (1 s).
fake_ctl '{"dir_rules": [{"user": "minsei_bucho@town.example", "delay_ms": 2500}]}'
tap minsei_bucho "$(uid minsei_bucho)"
lookup_failed minsei_bucho "no reply: "
assert_eq null "$(confirmed minsei_bucho)" "a timeout confirms nothing"
tap minsei_bucho "$(uid minsei_bucho)"
wait_until 10 "minsei_bucho confirmed after the timeout" confirmed_is minsei_bucho 確認しました

# A 429 is waited out (rateLimit-reset) and the one tap confirms.
fake_ctl '{"dir_rules": [{"user": "kensetsu_bucho@town.example", "status": 429,
    "headers": {"rateLimit-remaining": "0", "rateLimit-reset": "1"},
    "body": "{\"code\":\"TOO_MANY_REQUESTS\",\"description\":\"API rate limit exceeded\"}"}]}'
tap kensetsu_bucho "$(uid kensetsu_bucho)"
wait_until 10 "kensetsu_bucho confirmed after a 429" confirmed_is kensetsu_bucho 確認しました
assert_eq 2 "$(asked kensetsu_bucho)" "kensetsu_bucho: the 429, then the answer"
logged "directory rate limit, lookup of kensetsu_bucho@town.example waits 1s" ||
    fail "the 429 pause was not logged"

# Five taps while the lookup is slow: one request, one confirmation.
fake_ctl '{"dir_rules": [{"user": "shobocho@town.example", "delay_ms": 500}]}'
P=$(pb shobocho)
TAPS=""
for i in 1 2 3 4 5; do
	lw_callback --user "$(uid shobocho)" --postback "$P" >"$SITE/tap$i" &
	TAPS="$TAPS $!"
done
for p in $TAPS; do
	wait "$p"
done
for i in 1 2 3 4 5; do
	assert_eq 200 "$(cat "$SITE/tap$i")" "burst tap $i"
done
wait_until 10 "shobocho confirmed" confirmed_is shobocho 確認しました
wait_until 10 "all five taps decided" \
    logged "$(uid shobocho) is shobocho@town.example, confirming" 5
assert_eq 1 "$(asked shobocho)" "shobocho looked up once for five taps"

# Every lookup so far carried a good token with the scope.
assert_eq 0 "$(lw_log "sum(1 for x in L if x['kind'] == 'directory' and x['status'] in (400, 401, 403))")" \
    "lookups refused by the fake"

# A revoked token: the lookup gets 401, the token is renewed, the lookup
# retried, and the one tap confirms.
fake_ctl '{"revoke_tokens": true}'
tap kyoiku_jicho "$(uid kyoiku_jicho)"
wait_until 10 "kyoiku_jicho confirmed after a 401" confirmed_is kyoiku_jicho 確認しました
assert_eq '[401, 200]' \
    "$(lw_log "[x['status'] for x in L if x['kind'] == 'directory' and x['user'] == 'kyoiku_jicho@town.example']")" \
    "kyoiku_jicho: 401, then the answer"
assert_eq 2 "$(lw_log "sum(1 for x in L if x['kind'] == 'token' and x['status'] == 200)")" \
    "tokens fetched (first, and after the revocation)"
expect_rc 0 ctl --json status "$ID"
assert_eq 8 "$(jget "$OUT" 'd["counts"]["confirmed"]')" "confirmed count"

# Stopping with a lookup under way: its tap is dropped, logged, no leak.
fake_ctl '{"dir_rules": [{"user": "kiki_shitsucho@town.example", "delay_ms": 5000}]}'
tap kiki_shitsucho "$(uid kiki_shitsucho)"
sleep 0.5
stop_site
logged "looking up kiki_shitsucho@town.example in the LINE WORKS directory failed: the daemon is stopping" ||
    fail "the tap dropped at stop was not logged"
assert_eq 8 "$(db "SELECT count(*) FROM deliveries WHERE alert_id = $ID AND response IS NOT NULL")" \
    "kiki_shitsucho not confirmed"
echo "46-lineworks-email: ok"
