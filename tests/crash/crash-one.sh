#!/bin/bash
# crash-one.sh: one randomized crash run for tests/crash/crash.sh (SPEC §5:
# a crash at any point loses nothing). One 94-recipient 参集指示 to
# crisis+shelter, every channel a webhook transport on one fake (latency
# and concurrency random), ack_deadline 3s and renotify_max 1, through its
# whole life: approval, fan-out, a burst of confirmations posted to the
# recipients' links, the re-notify round and the call list. The daemon is
# SIGKILLed at a random moment of one phase (sometimes of more), restarted
# on the same state dir, and the run proves:
#   - no lost decision: an approve that exited 0 is still approved;
#   - no lost delivery: every delivery row ends sent, every round-0
#     recipient's key reached the fake (94 distinct members), every sent
#     row's Idempotency-Key is at the fake;
#   - no lost confirmation: each POST answered 200 is confirmed in
#     `crisisctl --json status`;
#   - duplicates only among requests in flight: a key at most twice, and
#     at most (sum of concurrencies) x kills repeated keys in all;
#   - the audit trail intact: ids strictly increasing, and every row seen
#     before a kill is there, unchanged, after the restart.
# CRASH_SEED=N repeats a run (same phases and delays; the scheduler does
# the rest). Exit 0 when every check holds.
. "$(dirname "$0")/../integration/lib.sh"
TESTDIR=$REPO/tests/integration
TESTNAME=crash
. "$TESTDIR/fakelib.sh"

SEED=${CRASH_SEED:-$$}
RANDOM=$SEED
ACK=3
PHASES=(approve fanout confirm renotify)
PRIMARY=${CRASH_PHASE:-${PHASES[$((RANDOM % 4))]}}
LAT=$((5 + RANDOM % 40))		# ms per webhook answer
CONC_LW=$((4 + RANDOM % 13))		# lineworks concurrency 4..16
CONC_OTHER=4				# ntfy, sms, email
CONC_ALL=$((CONC_LW + 3 * CONC_OTHER))
KILLS=0
PLAN=""

# Which phases kill: the primary always, any other one time in four.
for p in "${PHASES[@]}"; do
	if [ "$p" = "$PRIMARY" ] || [ $((RANDOM % 4)) = 0 ]; then
		PLAN="$PLAN $p"
	fi
done
note "seed $SEED: kill during$PLAN; latency ${LAT}ms, concurrency $CONC_LW+3x$CONC_OTHER"
kills_in() { case " $PLAN " in *" $1 "*) return 0 ;; esac; return 1; }

fake_site_init
write_config
mkdir -p "$SITE/rules"
cp "$REPO"/rules/*.yaml "$SITE/rules/"
sed -i "s/^    ack_deadline: .*/    ack_deadline: ${ACK}s/" "$SITE/rules/tags.yaml"
sed -i -e "s|^rules_dir: .*|rules_dir: \"$SITE/rules\"|" \
    -e "s|^  ack_deadline: .*|  ack_deadline: ${ACK}s|" \
    -e "s|^  renotify_max: .*|  renotify_max: 1|" "$CFG"
printf 'crash-secret-%s\n' "$SEED" >"$SITE/hook.secret"
fake_start hook webhook.py --secret-file "$SITE/hook.secret" --latency-ms "$LAT"
for ch in lineworks ntfy sms email; do
	c=$CONC_OTHER
	[ "$ch" != lineworks ] || c=$CONC_LW
	set_transport "$ch" "{type: webhook, url: \"$(fake_url hook "$ch")\", secret_file: \"$SITE/hook.secret\", concurrency: $c, timeout: 5s}"
done
start_daemon

rand_sleep() {	# MAXMS
	local ms=$((RANDOM % ($1 + 1)))
	note "  sleep ${ms}ms"
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
}

audit_snapshot() {	# FILE
	ctl --json audit >"$1" 2>/dev/null || fail "audit failed"
}

# audit_ok OLD NEW: ids strictly increasing in NEW; every row of OLD in
# NEW, unchanged.
audit_ok() {
	local problems
	problems=$(python3 - "$1" "$2" <<'PY'
import json, sys
def rows(path):
    d = json.load(open(path))
    return d if isinstance(d, list) else d["rows"]
old, new = rows(sys.argv[1]), rows(sys.argv[2])
ids = [r["id"] for r in new]
if any(b <= a for a, b in zip(ids, ids[1:])):
    print("audit ids not strictly increasing")
byid = {r["id"]: r for r in new}
for r in old:
    if byid.get(r["id"]) != r:
        print("audit row lost or changed: %s" % json.dumps(r, ensure_ascii=False))
PY
	)
	assert_eq "" "$problems" "audit trail across the kill"
}

# crash_restart: SIGKILL now (the audit snapshot was taken just before),
# restart, compare the audit.
crash_restart() {
	kill_site
	KILLS=$((KILLS + 1))
	start_daemon
	audit_snapshot "$SITE/audit.after"
	audit_ok "$SITE/audit.before" "$SITE/audit.after"
}

state_of() { jget "$(ctl --json status "$1")" 'd["state"]'; }
state_is() { [ "$(state_of "$1")" = "$2" ]; }

BODY='全職員は直ちに本庁舎3階の災害対策本部に参集してください。'
out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to crisis+shelter \
    --body "$BODY") || fail "draft: $out"
ID=$(jget "$out" 'd["id"]')
assert_eq 94 "$(jget "$out" 'd["recipients"]')" "draft recipients"

# --- approval ---------------------------------------------------------------
if kills_in approve; then
	audit_snapshot "$SITE/audit.before"
	rc=0
	ctl --as mayor approve "$ID" >/dev/null 2>&1 &
	cpid=$!
	rand_sleep 25
	crash_restart
	wait "$cpid" || rc=$?
	st=$(state_of "$ID")
	note "  approve exited $rc; state now $st"
	if [ "$rc" = 0 ]; then
		[ "$st" != pending_approval ] || fail "an approve that exited 0 was lost"
	else
		assert_eq 3 "$rc" "crisisctl's exit when the daemon dies"
	fi
	if [ "$st" = pending_approval ]; then
		expect_rc 0 ctl --as mayor approve "$ID"
	fi
else
	expect_rc 0 ctl --as mayor approve "$ID"
fi
T_APPROVED=$(date +%s.%N)
[ "$(state_of "$ID")" != pending_approval ] || fail "alert $ID not approved"

# --- fan-out ----------------------------------------------------------------
if kills_in fanout; then
	# 94 requests at CONC_LW a time, LAT ms each: kill within about that.
	rand_sleep $((94 * LAT / CONC_LW + 50))
	audit_snapshot "$SITE/audit.before"
	crash_restart
fi

# --- a burst of confirmations ----------------------------------------------
# Links of the round-0 alert messages, from what the fake received.
links_ready() {
	[ "$(fq hook "len(set(json.loads(e['body'])['member'] for e in L if e.get('key', '').startswith('alert:') and json.loads(e['body'])['alert'] == $ID))")" -ge 60 ]
}
wait_until 30 "60 recipients reached" links_ready
# 50 of them, picked by the seed.
fq hook "'\n'.join(__import__('random').Random($SEED).sample(sorted(set(json.loads(e['body'])['link'] for e in L if e.get('key', '').startswith('alert:') and json.loads(e['body'])['alert'] == $ID)), 50))" >"$SITE/links"
note "  confirming $(wc -l <"$SITE/links") links"
xargs -P 8 -I{} curl -s -m 10 -o /dev/null -w '%{http_code} {}\n' \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-urlencode "response=参集できる" {} <"$SITE/links" >"$SITE/confirm.out" 2>/dev/null &
bpid=$!
if kills_in confirm; then
	rand_sleep 200
	audit_snapshot "$SITE/audit.before"
	crash_restart
fi
wait "$bpid" || true
note "  confirmations: $(cut -d' ' -f1 "$SITE/confirm.out" | sort | uniq -c | tr '\n' ' ')"
# Those that got 200 must be confirmed now (whatever happened since).
fq hook "json.dumps({json.loads(e['body'])['link']: json.loads(e['body'])['member'] for e in L if e.get('key', '').startswith('alert:')})" >"$SITE/link2member"
confirmed_lost() {
	python3 - "$SITE/confirm.out" "$SITE/link2member" "$(ctl --json status "$ID")" <<'PY'
import json, sys
ok = [l.split(" ", 1)[1].strip() for l in open(sys.argv[1]) if l.startswith("200 ")]
l2m = json.load(open(sys.argv[2]))
d = json.loads(sys.argv[3])
conf = {r["member"] for r in d["recipients"] if r.get("confirmed_at")}
lost = sorted(l2m[u] for u in ok if l2m[u] not in conf)
print(" ".join(lost))
PY
}
assert_eq "" "$(confirmed_lost)" "confirmations answered 200 but not confirmed"
NCONF=$(grep -c '^200 ' "$SITE/confirm.out" || true)

# --- the re-notify round ------------------------------------------------------
if kills_in renotify; then
	# Round 1 falls due ACK seconds after the approval: kill around it.
	python3 -c "import time; t = $T_APPROVED + $ACK - 0.3 - time.time(); time.sleep(max(t, 0))"
	rand_sleep 1500
	audit_snapshot "$SITE/audit.before"
	crash_restart
fi

# --- the end: complete, and every check ---------------------------------------
wait_until 40 "alert $ID complete" state_is "$ID" complete
sleep 0.3	# let any late duplicate land
assert_eq "" "$(confirmed_lost)" "confirmations answered 200 but not confirmed, at the end"
problems=$(python3 - "$(fake_log hook)" "$STATE/state.db" "$ID" "$CONC_ALL" "$KILLS" <<'PY'
import collections, json, sqlite3, sys
log, dbpath, alert, conc, kills = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
L = [json.loads(l) for l in open(log) if l.strip()]
db = sqlite3.connect("file:%s?mode=ro" % dbpath, uri=True)
rows = db.execute("SELECT id, kind, member, state, round FROM deliveries WHERE alert_id = ?", (alert,)).fetchall()
out = []
bad = [r for r in rows if r[3] not in ("sent", "cancelled")]
if bad:
    out.append("rows not sent: %s" % bad[:5])
accepted = [e for e in L if e["status"] == 200 and e.get("key")]
keys = collections.Counter(e["key"] for e in accepted)
for rid, kind, member, state, rnd in rows:
    if state == "sent" and ("%s:%d" % (kind, rid)) not in keys:
        out.append("row %d (%s, %s) sent but its key never reached the fake" % (rid, kind, member))
r0 = {m for rid, kind, m, st, rnd in rows if kind == "alert" and rnd == 0 and "alert:%d" % rid in keys}
if len(r0) != 94:
    out.append("round 0 reached %d distinct members, not 94" % len(r0))
ids = {"%s:%d" % (k, i) for i, k, m, s, r in rows}
unknown = [k for k in keys if k not in ids and json.loads(next(e["body"] for e in accepted if e["key"] == k))["alert"] == alert]
if unknown:
    out.append("keys at the fake with no delivery row: %s" % unknown[:5])
over = {k: n for k, n in keys.items() if n > 2}
if over:
    out.append("keys sent more than twice: %s" % over)
dups = sum(n - 1 for n in keys.values())
if dups > conc * kills:
    out.append("%d repeated keys, more than %d in flight x %d kills" % (dups, conc, kills))
if sum(1 for e in L if e["status"] in (400, 401, 415)):
    out.append("requests refused by the fake")
print("\n".join(out))
print("STATS dups=%d rows=%d" % (dups, len(rows)), file=sys.stderr)
PY
)
assert_eq "" "$problems" "deliveries at the fake"
audit_snapshot "$SITE/audit.end"
audit_ok "$SITE/audit.before" "$SITE/audit.end"
grep -q "requeued" "$LOG" && note "  requeued after a kill: $(grep -o 'requeued [0-9]* deliveries' "$LOG" | tr '\n' ' ')"
stop_site
echo "crash-one: ok seed=$SEED kills=$KILLS plan=$(echo $PLAN | tr ' ' ,) confirmed=$NCONF"
