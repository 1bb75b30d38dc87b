#!/bin/bash
# bench/soak.sh: a 24-hour soak simulated in 10 minutes. One crisiscastd
# on the sample site (94 accounts) takes SOAK_ALERTS alerts (default
# 1,000) spread evenly over SOAK_SECS seconds (default 600), with the
# approval chain's and the follow-up rounds' timers shortened (step 4 s,
# link 8 s, ack deadline SOAK_ACK, default 10 s, 3 rounds) so that every
# path of an alert's life runs many times: drafted, approved by the
# console, by the link or by the deputy after an escalation, rejected,
# cancelled before and after it went out (the 取消 notice approved too),
# expired; recipients read and confirm (or not) and are re-notified on
# ntfy (tests/fakes/ntfy.py, 3 % of its answers 503), SMS and e-mail (the
# file transport); the board, its event stream and the metrics are
# polled, `crisisctl reload` runs every 30 s and a member is suspended and
# resumed now and then. bench/soak.py drives the load and samples the
# daemon's VmRSS and open descriptors every 5 s.
#
#   BUILD=$PWD/build bench/soak.sh        (make bench)
#   SOAK_SECS=60 SOAK_ALERTS=100 BUILD=$PWD/build bench/soak.sh
#
# Prints `name value unit` lines: RSS after the first 10 % (start), at the
# end of the load (end), its maximum, growth and slope; idle RSS before the
# load, just after the drain and 130 s later (settled: after the daemon's
# memory trims); descriptors; database
# size; warnings the daemon logged that a soak does not explain
# (soak_errors, listed on stderr). Then checks the database (every alert
# ended as planned, nothing left pending, the audit trail matches the
# rows, the outbox and the fake hold exactly what was sent) and exits 1 if
# anything is inconsistent, or if the daemon did not stop cleanly. A
# program, not a test: the figures are not judged. SOAK_KEEP=DIR keeps the
# site (config, database, logs, outbox, the samples in stats.json) there.
set -eu
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
. "$REPO/tests/integration/fakelib.sh"
SECS=${SOAK_SECS:-600}
N=${SOAK_ALERTS:-1000}
ACK=${SOAK_ACK:-10}
STEP=4
TTL=8
unset JOURNAL_STREAM	# the log's "crisiscastd: warning: " prefixes

fake_start ntfy ntfy.py
# Keep the site on request, before lib.sh's cleanup removes it (after
# fake_start, which sets its own trap).
trap 'rc=$?; set +e; fake_cleanup; [ -z "${SOAK_KEEP:-}" ] ||
    { mkdir -p "$SOAK_KEEP" && cp -a "$SITE"/. "$SOAK_KEEP"/; };
    (exit $rc); cleanup' EXIT
fake_ctl ntfy '{"rules": [{"count": -1, "p": 0.03, "status": 503, "body": "{\"code\": 50301, \"http\": 503, \"error\": \"server busy\"}"}]}'

write_config
# A copy of the rules where every tag's ack deadline is $ACK.
mkdir -p "$SITE/rules"
cp "$REPO"/rules/*.yaml "$SITE/rules/"
sed -i "s/^    ack_deadline: .*/    ack_deadline: ${ACK}s/" "$SITE/rules/tags.yaml"
sed -i -e "s|^rules_dir: .*|rules_dir: \"$SITE/rules\"|" \
    -e "s|^  step_timeout: .*|  step_timeout: ${STEP}s|" \
    -e "s|^  link_ttl: .*|  link_ttl: ${TTL}s|" \
    -e "s|^  ack_deadline: .*|  ack_deadline: ${ACK}s|" \
    -e "s|^  renotify_max: .*|  renotify_max: 3|" "$CFG"
set_transport ntfy "{type: ntfy, url: \"$(fake_url ntfy)\"}"
"$CRISISCASTD" -n -f "$CFG" >/dev/null 2>"$SITE/check.err" ||
    { cat "$SITE/check.err" >&2; fail "the soak's config does not check"; }

# As in production: no -d (lib.sh's start_daemon logs at debug level).
echo "==== start $(date +%T.%N)" >>"$LOG"
"$CRISISCASTD" -f "$CFG" 2>>"$LOG" &
DPID=$!
wait_until 10 "crisiscastd to answer ping" ctl ping

rc=0
/usr/bin/python3 "$here/soak.py" run --url "$BASE_URL" --ctl "$CRISISCTL" \
    --socket "$CRISISCAST_SOCKET" --pid "$DPID" --outbox "$OUTBOX" \
    --ntfy-log "$(fake_log ntfy)" --db "$STATE/state.db" \
    --stats "$SITE/stats.json" --secs "$SECS" --alerts "$N" --ack "$ACK" \
    --step "$STEP" --ttl "$TTL" --renotify-max 3 --seed "${SOAK_SEED:-1}" \
    --peer "ntfy fake=$(fake_port ntfy)" ||
    rc=1
db_kib=$(du -k -c "$STATE"/state.db* | awk 'END { print $1 }')
out_kib=$(du -k "$OUTBOX" | awk '{ print $1 }')
stop_site

# Warnings and worse that the soak does not explain. Expected: a delivery
# whose alert was cancelled while its message was on its way.
grep -E '^crisiscastd: (warning|fatal): ' "$LOG" >"$SITE/warnings" || true
grep -Ev 'delivery [0-9]+ moved on while in flight$' "$SITE/warnings" \
    >"$SITE/errors" || true
echo "soak_db_size $db_kib KiB"
echo "soak_outbox_size $out_kib KiB"
echo "soak_log_lines $(grep -c . "$LOG") lines"
echo "soak_warnings_expected $(($(wc -l <"$SITE/warnings") - $(wc -l <"$SITE/errors"))) lines"
echo "soak_errors $(wc -l <"$SITE/errors") lines"
if [ -s "$SITE/errors" ]; then
	echo "soak: unexpected warnings in the daemon log (first 20):" >&2
	sort "$SITE/errors" | uniq -c | sort -rn | head -n 20 >&2
fi

/usr/bin/python3 "$here/soak.py" verify --db "$STATE/state.db" \
    --outbox "$OUTBOX" --ntfy-log "$(fake_log ntfy)" \
    --stats "$SITE/stats.json" || rc=1
exit $rc
