#!/bin/bash
# 34-crash-10k: SIGKILL during a 10,000-recipient fan-out to the webhook
# fake, then restart: every recipient is reached (10,004 distinct
# Idempotency-Keys of the alert), and a key reaches the fake twice only if
# it was in flight at the kill: duplicates are at most the channel's
# concurrency plus one batch of reports not yet recorded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fakelib.sh"

N=10000
CONC=64
fake_site_init
python3 "$TESTDIR/gen_roster.py" $N "$SITE/big.yaml"
write_config "$SITE/big.yaml" "$REPO/etc/rosters/shelters.yaml"
printf 'test-secret-34\n' >"$SITE/hook.secret"
fake_start hook webhook.py --secret-file "$SITE/hook.secret" --latency-ms 2
set_transport lineworks "{type: webhook, url: \"$(fake_url hook)\", secret_file: \"$SITE/hook.secret\", concurrency: $CONC}"
start_daemon

BODY='全職員は直ちに本庁舎3階の災害対策本部に参集してください。'
out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to crisis --body "$BODY") ||
    fail "draft: $out"
id=$(jget "$out" 'd["id"]')
total=$((N + 4))
assert_eq $total "$(jget "$out" 'd["recipients"]')" "recipients"
ctl --as mayor approve "$id" >/dev/null || fail "approve"
keys='len(set(e["key"] for e in L if e.get("key", "").startswith("alert:") and e["status"] == 200))'
# Progress, cheaply: lines in the fake's log; deliveries sent in the
# database (read-only; the daemon's state is asserted through the fake).
lines_ge() { [ "$(wc -l <"$(fake_log hook)")" -ge "$1" ]; }
db_sent() {
	sqlite3 -readonly "$STATE/state.db" \
	    "SELECT count(*) FROM deliveries WHERE alert_id = $id AND kind = 'alert' AND state = 'sent'" 2>/dev/null
}
db_sent_is() { [ "$(db_sent)" = "$1" ]; }
wait_until 30 "a third of the fan-out" lines_ge $((N / 3))
kill_site
before=$(fq hook "$keys")
note "killed after $before of $total"
start_daemon
wait_until 40 "every delivery sent" db_sent_is $total
sleep 0.3
assert_eq $total "$(fq hook "$keys")" "distinct keys"
dups=$(fq hook 'sum(1 for e in L if e.get("dup"))')
note "keys sent twice: $dups"
[ "$dups" -le $((CONC * 2)) ] || fail "$dups keys sent twice; only the $CONC in flight (plus unrecorded reports) may be"
assert_eq 0 "$(fq hook 'sum(1 for e in L if e["status"] in (400, 401, 415))')" "requests refused"
stop_site
echo "34-crash-10k: ok"
