#!/bin/bash
# 43-twilio-status: SMS through the Twilio fake (Basic auth, E.164 To,
# From, Body, StatusCallback, ValidityPeriod for an urgent tag), then
# signed status callbacks out of order: delivered then sent stays
# delivered; a bad signature is refused (403) and changes nothing; an
# undelivered status fails the delivery and moves the recipient to their
# next channel (email, the file outbox).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/providers.sh"
site_init
tw_start
write_config
providers_trap
set_transport sms "$(tw_conf)"
set_delivery_channels sms email
start_daemon

ID=$(alert_send 参集指示 member:mayor,deputy_mayor)
wait_sent "$ID" 2
S='[x for x in L if x["status"] == 201 and x["to"] == "%s"][-1]'
MAYOR_SID=$(tw_log "$(printf "$S" +819000000001)['sid']")
DEPUTY_SID=$(tw_log "$(printf "$S" +819000000002)['sid']")
assert_match "$MAYOR_SID" '^SM[0-9a-f]{32}$' "sid"
assert_eq "$(public_url)/callback/twilio" "$(tw_log "$(printf "$S" +819000000001)['status_callback']")" \
    "StatusCallback"
assert_eq 600 "$(tw_log "$(printf "$S" +819000000001)['validity']")" \
    "ValidityPeriod = the tag's ack deadline"
assert_eq "$MAYOR_SID" "$(db "SELECT provider_id FROM deliveries WHERE alert_id = $ID AND member = 'mayor' AND kind = 'alert'")" \
    "provider id stored"
pstat() {	# MEMBER CHANNEL
	db "SELECT coalesce(provider_status, '-') FROM deliveries WHERE alert_id = $ID AND kind = 'alert' AND member = '$1' AND channel = '$2'"
}

assert_eq 403 "$(tw_callback --sid "$MAYOR_SID" --status delivered --bad-sig)" "bad signature"
assert_eq - "$(pstat mayor sms)" "nothing recorded from a bad signature"
assert_eq 200 "$(tw_callback --sid "$MAYOR_SID" --status delivered)" "delivered"
assert_eq delivered "$(pstat mayor sms)" "delivered recorded"
assert_eq 200 "$(tw_callback --sid "$MAYOR_SID" --status sent)" "late sent"
assert_eq 200 "$(tw_callback --sid "$MAYOR_SID" --status queued)" "late queued"
assert_eq delivered "$(pstat mayor sms)" "a late sent never overwrites delivered"
assert_eq 200 "$(tw_callback --sid SM00000000000000000000000000000000 --status sent)" \
    "unknown sid: answered, ignored"

assert_eq 200 "$(tw_callback --sid "$DEPUTY_SID" --status sent)" "deputy sent"
assert_eq sent "$(pstat deputy_mayor sms)" "sent recorded"
assert_eq 200 "$(tw_callback --sid "$DEPUTY_SID" --status undelivered --error-code 30003)" \
    "deputy undelivered"
assert_eq undelivered "$(pstat deputy_mayor sms)" "undelivered recorded"
assert_eq 200 "$(tw_callback --sid "$DEPUTY_SID" --status delivered)" "delivered after final"
assert_eq undelivered "$(pstat deputy_mayor sms)" "undelivered is final"
wait_until 10 "the deputy's e-mail" outbox_count_is 1 kind=alert member=deputy_mayor channel=email
expect_rc 0 ctl --json status "$ID"
assert_eq "failed" "$(jget "$OUT" '[r["state"] for r in d["recipients"] if r["member"] == "deputy_mayor" and r["channel"] == "sms"][0]')" \
    "the sms delivery failed"
assert_eq 3 "$(db "SELECT count(*) FROM audit WHERE alert_id = $ID AND action = 'provider_status'")" \
    "audit rows for the accepted statuses"
stop_site
echo "43-twilio-status: ok"
