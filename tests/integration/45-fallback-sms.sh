#!/bin/bash
# 45-fallback-sms: the LINE WORKS fake refuses one recipient for good
# (404 USER_NOT_EXIST): that person gets an SMS through the Twilio fake
# within a second of the refusal; the others stay on LINE WORKS only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/providers.sh"
site_init
lw_start --fail-user kyoikucho@town.example
tw_start
write_config
providers_trap
set_transport lineworks "$(lw_conf)"
set_transport sms "$(tw_conf)"
set_delivery_channels lineworks sms
start_daemon

ID=$(alert_send 情報共有 member:mayor,deputy_mayor,kyoikucho)
wait_sent "$ID" 3
T404=$(lw_log '[x["t"] for x in L if x["status"] == 404 and x["user"] == "kyoikucho@town.example"][0]')
TSMS=$(tw_log '[x["t"] for x in L if x["status"] == 201 and x["to"] == "+819000000003"][0]')
assert_eq yes "$(awk -v a="$T404" -v b="$TSMS" 'BEGIN { print (b - a < 1.0 && b >= a) ? "yes" : "no" }')" \
    "SMS within a second of the refusal (refused $T404, SMS $TSMS)"
assert_eq 1 "$(tw_log 'sum(1 for x in L if x["status"] == 201 and x["to"] == "+819000000003")')" \
    "one SMS to kyoikucho"
assert_eq 0 "$(tw_log 'sum(1 for x in L if x["to"] == "+819000000002")')" \
    "none to the deputy, reached on LINE WORKS"
expect_rc 0 ctl --json status "$ID"
assert_eq '[["deputy_mayor", "lineworks", "sent"], ["kyoikucho", "lineworks", "failed"], ["kyoikucho", "sms", "sent"], ["mayor", "lineworks", "sent"]]' \
    "$(jget "$OUT" 'sorted([r["member"], r["channel"], r["state"]] for r in d["recipients"])')" \
    "deliveries"
stop_site
echo "45-fallback-sms: ok"
