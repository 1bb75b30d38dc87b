#!/bin/bash
# 05-crash: SIGKILL at different moments of a 94-recipient 【参集指示】 to
# crisis+shelter, and during drafts. After each restart on the same state
# dir: every recipient is reached exactly once (94 alert lines, distinct
# keys, distinct members), the database says 94 sent, and no audit row seen
# before the crash is lost. A draft killed midway exists consistently
# (pending, audited, approval requested) or not at all; a draft that was
# acknowledged always exists.
#
# Timings are random; CRASH_SEED=N repeats a run.
. "$(dirname "$0")/lib.sh"
SEED=${CRASH_SEED:-$$}
RANDOM=$SEED
note "CRASH_SEED=$SEED"
start_site

BODY='全職員は直ちに本庁舎3階の災害対策本部に参集してください。'

# rand_sleep MAXMS: sleeps 0..MAXMS milliseconds; says how long.
rand_sleep() {
	local ms=$((RANDOM % ($1 + 1)))
	note "  sleep ${ms}ms"
	sleep "$(printf '0.%03d' "$ms")"
}

audit_snapshot() {	# FILE
	ctl --json audit >"$1" || fail "audit failed"
}

# audit_kept OLD NEW: every row of OLD is in NEW, unchanged; the row count
# never decreases.
audit_kept() {
	local problems
	problems=$(python3 - "$1" "$2" <<'EOF'
import json, sys
def rows(path):
    d = json.load(open(path))
    return d if isinstance(d, list) else d["rows"]
old = rows(sys.argv[1])
new = {r["id"]: r for r in rows(sys.argv[2])}
if len(new) < len(old):
    print("audit rows went from %d to %d" % (len(old), len(new)))
for r in old:
    if new.get(r["id"]) != r:
        print("audit row lost or changed: %s" % json.dumps(r, ensure_ascii=False))
EOF
	)
	assert_eq "" "$problems" "audit rows kept across the crash"
}

# check_alert ID: the end state of a crashed fan-out.
check_alert() {
	local id=$1 j
	wait_sent "$id" 94 60
	sleep 0.2	# let any duplicate write land before counting
	assert_eq 94 "$(outbox_count kind=alert alert="$id")" "alert $id: outbox lines"
	assert_eq "" "$(outbox dupmembers kind=alert alert="$id")" \
	    "alert $id: members written twice"
	assert_eq 94 "$(outbox field key kind=alert alert="$id" | sort -u | wc -l)" \
	    "alert $id: distinct keys"
	assert_eq "" "$(outbox dupkeys)" "duplicate keys in the outbox"
	assert_eq "" "$(outbox check)" "outbox lines well formed (no torn line)"
	j=$(ctl --json status "$id")
	assert_eq 94 "$(jget "$j" 'd["counts"]["sent"]')" "alert $id: counts.sent"
	assert_eq 94 "$(jget "$j" 'len(d["recipients"])')" "alert $id: recipient rows"
	assert_eq 94 "$(jget "$j" 'len(set(r["member"] for r in d["recipients"]))')" \
	    "alert $id: distinct recipients"
	assert_eq "" "$(jget "$j" '" ".join(a["state"] for a in d["approvals"] if a["state"] not in ("sent", "cancelled"))')" \
	    "alert $id: approval requests settled"
	assert_eq 2 "$(outbox_count kind=approval alert="$id")" \
	    "alert $id: approval requests written once each"
}

draft94() {
	local out
	out=$(ctl --json --as soumu_bucho draft --tag 参集指示 \
	    --to crisis+shelter --body "$BODY") || fail "draft failed: $out"
	assert_eq 94 "$(jget "$out" 'd["recipients"]')" "draft recipients"
	jget "$out" 'd["id"]'
}

approve() {
	ctl --as mayor approve "$1" >/dev/null || fail "approve $1 failed"
}

restart() {
	start_daemon
	audit_snapshot "$SITE/audit.after"
	audit_kept "$SITE/audit.before" "$SITE/audit.after"
}

# crash ROUND PLAN: one alert, killed as PLAN says. The audit snapshot
# compared after the restart is the last one taken before the kill.
crash() {
	local round=$1 plan=$2 id j
	note "round $round: $plan"
	audit_snapshot "$SITE/audit.before"
	id=$(draft94)
	if [ "$plan" = after-draft ]; then
		kill_site
		restart
	fi
	if [ "$plan" = during-approve ]; then
		# Kill while the approval is being decided and fanned out.
		local rc=0 cpid
		ctl --as mayor approve "$id" >/dev/null 2>&1 &
		cpid=$!
		rand_sleep 12
		kill_site
		wait "$cpid" || rc=$?
		restart
		j=$(ctl --json status "$id")
		note "  approve exited $rc; state now $(jget "$j" 'd["state"]')"
		if [ "$(jget "$j" 'd["state"]')" = pending_approval ]; then
			[ "$rc" -ne 0 ] || fail "an acknowledged approval was lost"
			approve "$id"
		fi
		check_alert "$id"
		return
	fi
	approve "$id"
	case $plan in
	at-once) ;;	# no snapshot either: kill as soon as approve returns
	short) sleep 0.02; audit_snapshot "$SITE/audit.before" ;;
	*) rand_sleep 150; audit_snapshot "$SITE/audit.before" ;;
	esac
	kill_site
	restart
	if [ "$plan" = twice ]; then
		rand_sleep 100
		audit_snapshot "$SITE/audit.before"
		kill_site
		restart
	fi
	check_alert "$id"
	note "  alert $id: 94 sent once each"
}

crash 1 at-once
crash 2 short
crash 3 random
crash 4 twice
crash 5 after-draft
crash 6 during-approve
crash 7 during-approve
crash 8 during-approve

# Kill during drafts: the alert exists consistently or not at all.
for round in 1 2 3; do
	note "draft kill $round"
	before=$(ctl --json list)
	nbefore=$(jget "$before" 'len(d["alerts"])')
	audit_snapshot "$SITE/audit.before"
	rc=0
	ctl --json --as soumu_bucho draft --tag 情報共有 --body "$BODY" \
	    >"$SITE/draft.out" 2>"$SITE/draft.err" &
	cpid=$!
	rand_sleep 40
	kill_site
	wait "$cpid" || rc=$?
	restart
	after=$(ctl --json list)
	nafter=$(jget "$after" 'len(d["alerts"])')
	if [ "$rc" -eq 0 ]; then
		id=$(jget "$(cat "$SITE/draft.out")" 'd["id"]')
		note "  draft $id acknowledged before the kill"
		assert_eq $((nbefore + 1)) "$nafter" "an acknowledged draft is kept"
	else
		assert_eq 3 "$rc" "crisisctl's exit when the daemon dies"
		note "  draft not acknowledged; $((nafter - nbefore)) stored"
		[ "$nafter" -eq "$nbefore" ] || [ "$nafter" -eq $((nbefore + 1)) ] ||
		    fail "alerts went from $nbefore to $nafter"
	fi
	if [ "$nafter" -gt "$nbefore" ]; then
		id=$(jget "$after" 'max(a["id"] for a in d["alerts"])')
		j=$(ctl --json status "$id")
		assert_eq pending_approval "$(jget "$j" 'd["state"]')" "killed draft's state"
		assert_eq 0 "$(jget "$j" 'len(d["recipients"])')" "killed draft's recipients"
		expect_rc 0 ctl --json audit --alert "$id"
		assert_eq '["approval_requested", "draft"]' \
		    "$(jget "$OUT" 'sorted(set(r["action"] for r in (d if isinstance(d, list) else d["rows"]) if r["action"] in ("draft", "approval_requested")))')" \
		    "killed draft's audit rows"
		wait_until 20 "approval requests of alert $id" \
		    outbox_count_is 2 kind=approval alert="$id"
		expect_rc 0 ctl --as mayor reject "$id" --reason 試験
	fi
done

sleep 0.3
assert_eq "" "$(outbox dupkeys)" "duplicate keys in the outbox at the end"
assert_eq $((8 * 94)) "$(outbox_count kind=alert)" "alert lines in all"
note "crashes that hit a fan-out: $(grep -c 'requeued [0-9]* deliveries' "$LOG" || true)," \
    "lines found already written: $(grep -c 'already written, not again' "$LOG" || true)"
stop_site
echo "05-crash: ok"
