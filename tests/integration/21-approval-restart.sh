#!/bin/bash
# 21-approval-restart: the approval chain's timers are rebuilt from the
# database (step_timeout 2s, link_ttl 8s). A SIGTERM before the step and a
# SIGKILL around it still ask the deputy exactly once and expire on time;
# a daemon that was down across the step asks the deputy at once on start;
# one down across the deadline expires the alert at start without asking
# anyone more. Every approver's requests are written once, every sender
# notice once, and the audit holds one approval_escalated and one expired
# per alert.
#
# Timings are random; CRASH_SEED=N repeats a run.
. "$(dirname "$0")/lib.sh"
SEED=${CRASH_SEED:-$$}
RANDOM=$SEED
note "CRASH_SEED=$SEED"
write_config
sed -i -e 's/^  step_timeout: .*/  step_timeout: 2s/' \
    -e 's/^  link_ttl: .*/  link_ttl: 8s/' "$CFG"
start_daemon

BODY='第一小学校と第三小学校の避難所を開設してください。担当職員は参集をお願いします。'

draft() {	# prints the new alert's id
	local out
	out=$(ctl --json --as soumu_bucho draft --tag 避難所開設要請 \
	    --to shelter:hs01,hs03 --body "$BODY") || fail "draft failed: $out"
	jget "$out" 'd["id"]'
}

state_of() {	# ID
	jget "$(ctl --json status "$1")" 'd["state"]'
}

state_is() {	# ID STATE
	test "$(state_of "$1")" = "$2"
}

count_is() {	# N FILTER...
	local n=$1
	shift
	test "$(outbox_count "$@")" = "$n"
}

audit_count() {	# ID ACTION
	jget "$(ctl --json audit --alert "$1")" \
	    'sum(1 for r in (d if isinstance(d, list) else d["rows"]) if r["action"] == "'"$2"'")'
}

since() {	# T0: seconds since T0 (date +%s.%N), one decimal
	python3 -c "import time; print(round(time.time() - $1, 1))"
}

# rand_sleep MAXMS: sleeps 0..MAXMS milliseconds; says how long.
rand_sleep() {
	local ms=$((RANDOM % ($1 + 1)))
	note "  sleep ${ms}ms"
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
}

# settled ID: the end of one undecided alert's chain, whatever happened
# to the daemon on the way: expired, each approver asked once on each
# approval channel (or never, for DEPUTY=0), one notice to the sender.
settled() {
	local id=$1 deputy=${2:-2}
	wait_until 15 "alert $id expired" state_is "$id" expired
	wait_until 5 "the sender's notice for $id" count_is 1 kind=notice alert="$id"
	sleep 0.3	# let any duplicate land before counting
	assert_eq 2 "$(outbox_count kind=approval alert="$id" member=mayor)" \
	    "alert $id: the mayor asked once per channel"
	assert_eq "$deputy" "$(outbox_count kind=approval alert="$id" member=deputy_mayor)" \
	    "alert $id: the deputy's requests"
	assert_eq 1 "$(outbox_count kind=notice alert="$id" member=soumu_bucho)" \
	    "alert $id: one notice to the sender"
	assert_eq $((deputy / 2)) "$(audit_count "$id" approval_escalated)" \
	    "alert $id: escalations in the audit"
	assert_eq 1 "$(audit_count "$id" expired)" "alert $id: expired once"
	expect_rc 0 ctl --json show "$id"
	assert_eq '["revoked"]' "$(jget "$OUT" 'sorted(set(a["link"] for a in d["approvals"]))')" \
	    "alert $id: every approval link dead"
	expect_rc 1 ctl --as mayor approve "$id"
}

# --- SIGTERM before the step: the deputy is still asked on time -----------
t0=$(date +%s.%N)
A=$(draft)
note "alert $A: SIGTERM before the step"
wait_until 5 "the mayor's requests for $A" count_is 2 kind=approval alert="$A" member=mayor
stop_site
start_daemon
wait_until 8 "the deputy's requests for $A" count_is 2 kind=approval alert="$A" member=deputy_mayor
e=$(since "$t0")
note "  deputy asked after ${e}s"
python3 -c "import sys; sys.exit(0 if 1.0 <= $e <= 6.0 else 1)" ||
    fail "alert $A: the deputy was asked after ${e}s, expected about 2s"
assert_eq pending_approval "$(state_of "$A")" "alert $A: still pending after the step"

# --- SIGKILL around the step (random): never doubled, never lost -----------
B=$(draft)
note "alert $B: SIGKILL around the step"
rand_sleep 2600
kill_site
start_daemon
settled "$A"
e=$(since "$t0")
note "  alert $A expired after ${e}s"
python3 -c "import sys; sys.exit(0 if 7.0 <= $e <= 11.0 else 1)" ||
    fail "alert $A: expired after ${e}s, expected about 8s"
settled "$B"

# --- down across the step, and down across the deadline ---------------------
t1=$(date +%s.%N)
C=$(draft)
note "alert $C: SIGKILL, down across the step"
kill_site
sleep 2.5
start_daemon
wait_until 3 "the deputy's requests for $C, at once on start" \
    count_is 2 kind=approval alert="$C" member=deputy_mayor
assert_eq pending_approval "$(state_of "$C")" "alert $C: still pending"
D=$(draft)
note "alert $D: SIGTERM, down across the deadline"
stop_site
sleep 8.5
start_daemon
# Both deadlines passed while the daemon was down: expired at start, and
# the deputy never asked about D.
assert_eq expired "$(state_of "$D")" "alert $D: expired at start"
assert_eq expired "$(state_of "$C")" "alert $C: expired at start"
settled "$C"
settled "$D" 0

assert_eq "" "$(outbox dupkeys)" "duplicate keys in the outbox"
assert_eq "" "$(outbox check)" "outbox lines well formed"
stop_site
echo "21-approval-restart: ok"
