#!/bin/bash
# 63-faults: every provider fault at once on a 94-recipient 参集指示
# (crisis+shelter). Every channel is a webhook transport (timeout 2s):
#   lineworks, sms, email -> one fake answering 30 % of requests 500 (with
#     Retry-After: 1), 429 with only a RateLimit-Reset header (6 times),
#     slow replies (6 of 0.8 s, within the timeout, 6 of 3 s, past it) and
#     dropped connections (6);
#   ntfy -> http://nonexistent.invalid/ (a name that does not resolve).
# The roster is the sample's, but hs09's four staff can be reached on ntfy
# only, and hs10-1/hs10-2 on lineworks and email only, both of which
# refuse them (400: a permanent failure, rerouted, then failed).
# Everything deliverable is delivered (88 members, each key accepted), the
# six undeliverable show their reason in `crisisctl --json status` (error:
# the resolver's message, HTTP 400), the event loop stays responsive while
# names fail to resolve (curl resolves asynchronously: its AsynchDNS
# feature), and the 429's reset paused the channel.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fakelib.sh"

curl-config --features 2>/dev/null | grep -qx AsynchDNS ||
    note "warning: this libcurl lacks AsynchDNS; name lookups block the loop"

fake_site_init
python3 - "$REPO/etc/rosters/shelters.yaml" "$SITE/shelters.yaml" <<'PY'
import re, sys
out = []
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"^(\s+contacts: )\{lineworks: (hs(09|10)-(\d))@", line)
    if m and m.group(3) == "09":
        line = "%s{ntfy: cc-%s}\n" % (m.group(1), m.group(2))
    elif m and m.group(4) in ("1", "2"):
        line = "%s{lineworks: %s@town.example, email: %s@town.example}\n" % (
            m.group(1), m.group(2), m.group(2))
    out.append(line)
open(sys.argv[2], "w", encoding="utf-8").write("".join(out))
PY
write_config "$REPO/etc/rosters/crisis.yaml" "$SITE/shelters.yaml"
# ntfy last: a member whose lineworks attempts all fail (30 % 500s and the
# timeouts, eight in a row: rare, but seen in CI) moves on to sms, not to
# the name that never resolves, whose backoff outlasts the wait below.
sed -i 's/^  channels: \[lineworks, ntfy, sms, email\]$/  channels: [lineworks, sms, email, ntfy]/' "$CFG"
grep -q '^  channels: \[lineworks, sms, email, ntfy\]$' "$CFG" ||
    fail "cannot reorder the delivery channels"
printf 'test-secret-63\n' >"$SITE/hook.secret"
FAKE_SEED=63 fake_start hook webhook.py --secret-file "$SITE/hook.secret"
hook() {	# CHANNEL URL CONCURRENCY
	set_transport "$1" "{type: webhook, url: \"$2\", secret_file: \"$SITE/hook.secret\", concurrency: $3, timeout: 2s}"
}
hook lineworks "$(fake_url hook lw)" 16
hook sms "$(fake_url hook sms)" 4
hook email "$(fake_url hook email)" 4
hook ntfy "http://nonexistent.invalid/" 4
fake_ctl hook '{"rules": [
 {"count": -1, "match": {"member": "hs10-1"}, "status": 400, "body": "unknown recipient"},
 {"count": -1, "match": {"member": "hs10-2"}, "status": 400, "body": "unknown recipient"},
 {"count": -1, "p": 0.3, "status": 500, "headers": {"Retry-After": "1"}, "body": "busy"},
 {"count": 6, "status": 429, "headers": {"RateLimit-Reset": "1"}},
 {"count": 6, "delay_ms": 800},
 {"count": 6, "delay_ms": 3000},
 {"count": 6, "drop": true}]}'
start_daemon

BODY='全職員は直ちに本庁舎3階の災害対策本部に参集してください。'
out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to crisis+shelter --body "$BODY") ||
    fail "draft: $out"
id=$(jget "$out" 'd["id"]')
assert_eq 94 "$(jget "$out" 'd["recipients"]')" "recipients"
t0=$(date +%s.%N)
expect_rc 0 ctl --as mayor approve "$id"

# The loop answers at once while lookups of nonexistent.invalid fail.
slowest=0
for _ in $(seq 1 20); do
	t=$(date +%s%N)
	ctl ping >/dev/null || fail "ping"
	ms=$((($(date +%s%N) - t) / 1000000))
	[ "$ms" -le "$slowest" ] || slowest=$ms
	sleep 0.1
done
note "slowest of 20 pings during the fan-out: ${slowest}ms"
[ "$slowest" -lt 1000 ] || fail "the loop was blocked: ping took ${slowest}ms"

reached() {	# members with a sent alert row
	jget "$(ctl --json status "$id")" 'len(set(r["member"] for r in d["recipients"] if r["state"] == "sent"))'
}
reached_is() { [ "$(reached)" = "$1" ]; }
wait_until 30 "88 deliverable members reached" reached_is 88
note "88 reached after $(python3 -c "import time; print(round(time.time() - $t0, 1))")s"

# What could not be delivered, with its reason.
undeliverable_ok() {
	python3 - "$(ctl --json status "$id")" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
rows = d["recipients"]
bad = []
for m in ("hs09-1", "hs09-2", "hs09-3", "hs09-4"):
    r = [x for x in rows if x["member"] == m]
    if len(r) != 1 or r[0]["state"] not in ("pending", "sending") or \
       "resolve" not in r[0].get("error", ""):
        bad.append((m, r))
for m in ("hs10-1", "hs10-2"):
    r = [x for x in rows if x["member"] == m]
    if sorted(x["channel"] for x in r) != ["email", "lineworks"] or \
       any(x["state"] != "failed" or "HTTP 400" not in x.get("error", "")
           for x in r):
        bad.append((m, r))
if bad:
    sys.exit(json.dumps(bad, ensure_ascii=False))
PY
}
wait_until 15 "the undeliverable reported with their reasons" undeliverable_ok
undeliverable_ok || fail "undeliverable rows"
j=$(ctl --json status "$id")
note "reasons: $(jget "$j" 'sorted(set(r["error"] for r in d["recipients"] if r.get("error") and r["state"] != "sent"))')"
expect_rc 0 ctl status "$id"
assert_contains "$OUT" "未達の理由" "crisisctl status lists the undelivered"
assert_contains "$OUT" "HTTP 400: unknown recipient" "crisisctl status shows the permanent failure"
assert_contains "$OUT" "Could not resolve host" "crisisctl status shows the DNS failure"

# At the fake: every deliverable member's key accepted, none refused for a
# bad request; repeats only for requests that timed out while the fake
# still answered 200 (the 6 slow ones past the timeout).
sleep 0.5
alerts='[e for e in L if e.get("key", "").startswith("alert:")]'
assert_eq 88 "$(fq hook "len(set(e['member'] for e in $alerts if e['status'] == 200))")" \
    "members accepted at the fake"
assert_eq 0 "$(fq hook 'sum(1 for e in L if e["status"] in (401, 415))')" "requests refused"
dups=$(fq hook "sum(n - 1 for n in __import__('collections').Counter(e['key'] for e in $alerts if e['status'] == 200).values())")
note "500: $(fq hook 'sum(1 for e in L if e["status"] == 500)'), 429: $(fq hook 'sum(1 for e in L if e["status"] == 429)'), dropped: $(fq hook 'sum(1 for e in L if e.get("dropped"))'), repeated: $dups"
[ "$dups" -le 6 ] || fail "$dups keys accepted twice; only the 6 timed-out may be"
assert_ge 20 "$(fq hook 'sum(1 for e in L if e["status"] == 500)')" "500 answers given"
assert_eq 6 "$(fq hook 'sum(1 for e in L if e["status"] == 429)')" "429 answers given"
grep -q "provider asks for a pause of 1s" "$LOG" || fail "RateLimit-Reset did not pause the channel"
expect_rc 0 ctl --json audit --alert "$id"
assert_ge 1 "$(jget "$OUT" 'sum(1 for r in d["rows"] if r["action"] == "delivery_rerouted")')" "reroutes audited"
assert_eq 2 "$(jget "$OUT" 'sum(1 for r in d["rows"] if r["action"] == "delivery_failed" and r["channel"] == "email")')" \
    "final failures audited"
stop_site
echo "63-faults: ok"
