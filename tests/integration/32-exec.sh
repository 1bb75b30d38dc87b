#!/bin/bash
# 32-exec: the exec transport runs the site command with the message as
# JSON on stdin, watched by the loop: exit 0 is accepted (the first line of
# stdout is the provider id), 75 is retried, 1 is permanent (the recipient
# moves to the next channel), and a command that sleeps past `timeout` is
# killed (its whole process group) and retried; the daemon runs on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fakelib.sh"

write_config
fake_site_init
cat >"$SITE/page.sh" <<SH
#!/bin/sh
in=\$(cat)
printf '%s\n' "\$in" >>"$SITE/exec.in"
case \$in in
*'"kind":"approval"'*) exit 0 ;;
*'"member":"kyoikucho"'*)
	[ -e "$SITE/tempfail.done" ] && { echo "page-kyoikucho"; exit 0; }
	touch "$SITE/tempfail.done"; echo "pager busy" >&2; exit 75 ;;
*'"member":"mayor"'*) echo "page-mayor-1"; exit 0 ;;
*'"member":"deputy_mayor"'*) echo "no such pager" >&2; exit 1 ;;
*'"member":"soumu_bucho"'*) echo \$\$ >"$SITE/sleeper.pid"; sleep 30; exit 0 ;;
esac
exit 0
SH
chmod +x "$SITE/page.sh"
set_transport sms "{type: exec, command: [\"$SITE/page.sh\", --flag], timeout: 2s}"
set_delivery_channels 'sms, email'
start_daemon

BODY='全職員は直ちに本庁舎3階の災害対策本部に参集してください。'
out=$(ctl --json --as soumu_bucho draft --tag 参集指示 --to member:kyoikucho,mayor,deputy_mayor,soumu_bucho --body "$BODY") ||
    fail "draft: $out"
id=$(jget "$out" 'd["id"]')
ctl --as mayor approve "$id" >/dev/null || fail "approve"

state() {	# MEMBER CHANNEL
	jget "$(ctl --json status "$id")" "[r['state'] for r in d['recipients'] if r['member'] == '$1' and r['channel'] == '$2'][0] if [r for r in d['recipients'] if r['member'] == '$1' and r['channel'] == '$2'] else 'none'"
}
is_state() {	# MEMBER CHANNEL STATE
	[ "$(state "$1" "$2")" = "$3" ]
}
wait_until 10 "mayor sent" is_state mayor sms sent
wait_until 10 "deputy_mayor failed on sms" is_state deputy_mayor sms failed
wait_until 10 "deputy_mayor rerouted to email" is_state deputy_mayor email sent
wait_until 15 "kyoikucho sent after a 75" is_state kyoikucho sms sent
j=$(ctl --json status "$id")
assert_contains "$(jget "$j" "[r.get('error', '') for r in d['recipients'] if r['member'] == 'deputy_mayor' and r['channel'] == 'sms'][0]")" \
    "exited 1: no such pager" "permanent error text"
assert_eq 2 "$(jget "$j" "[r['attempts'] for r in d['recipients'] if r['member'] == 'kyoikucho'][0]")" "kyoikucho attempts (75 then 0)"
assert_eq 1 "$(python3 -c "import json,sys; print(sum(1 for l in open('$SITE/exec.in') if json.loads(l)['member'] == 'mayor' and json.loads(l)['kind'] == 'alert'))")" \
    "mayor's command runs"
python3 -c "import json; d = json.loads(open('$SITE/exec.in').readline()); assert d['link'] and d['text'] and d['key']" ||
    fail "the JSON on stdin lacks fields"

# The sleeper: killed at the timeout, retried, not left behind.
wait_until 10 "the sleeping command" test -s "$SITE/sleeper.pid"
pid=$(cat "$SITE/sleeper.pid")
wait_until 6 "the sleeper killed after its timeout" sh -c "! kill -0 $pid 2>/dev/null"
sleeper_error() {
	jget "$(ctl --json status "$id")" "[r.get('error', '') for r in d['recipients'] if r['member'] == 'soumu_bucho'][0]"
}
has_sleeper_error() { [ -n "$(sleeper_error)" ]; }
wait_until 6 "a retry of the sleeper recorded" has_sleeper_error
assert_contains "$(jget "$(ctl --json status "$id")" "[r.get('error', '') for r in d['recipients'] if r['member'] == 'soumu_bucho'][0]")" \
    "timed out after 2s" "timeout error text"
expect_rc 0 ctl ping
stop_site
echo "32-exec: ok"
