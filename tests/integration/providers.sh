# providers.sh: sourced after lib.sh by the tests that talk to provider
# fakes (tests/fakes/*.py, run with Debian's /usr/bin/python3, which has
# python3-cryptography and python3-aiosmtpd).
#
# Contract:
#   site_init; lw_start [FAKE OPTIONS]; tw_start; smtp_start   # fakes first
#   write_config; providers_trap
#   set_transport lineworks "$(lw_conf)"; set_delivery_channels sms email
#   start_daemon
# Each fake listens on 127.0.0.1 port 0 and writes its port to a file; its
# requests go to $SITE/<name>.log as JSON lines. The fakes are stopped by
# the EXIT trap (providers_trap chains lib.sh's cleanup).

PY=/usr/bin/python3
FAKES=$REPO/tests/fakes
FAKE_PIDS=""

"$PY" -c 'import cryptography, aiosmtpd' 2>/dev/null || {
	echo "needs Debian's python3-cryptography and python3-aiosmtpd"
	exit 77
}

providers_cleanup() {
	local rc=$? p
	set +e		# a failing kill must not end the trap before cleanup
	for p in $FAKE_PIDS; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	(exit "$rc")
	cleanup
}

providers_trap() {
	trap providers_cleanup EXIT
}

# start_fake NAME SCRIPT ARGS...: starts a fake, waits for its port file;
# the port is then in $SITE/NAME.port.
start_fake() {
	local name=$1 script=$2 i=0
	shift 2
	"$PY" "$FAKES/$script" "$@" >>"$SITE/$name.out" 2>&1 &
	FAKE_PIDS="$FAKE_PIDS $!"
	providers_trap
	while [ ! -s "$SITE/$name.port" ]; do
		i=$((i + 1))
		[ "$i" -le 100 ] || { cat "$SITE/$name.out" >&2; fail "fake $name did not start"; }
		sleep 0.1
	done
}

fake_port() {	# NAME
	cat "$SITE/$1.port"
}

# ---------------------------------------------------------------------------
# LINE WORKS

LW_BOT=2000001
LW_CLIENT=cid-test
LW_SA=crisis.serviceaccount@town.example

lw_start() {	# [FAKE OPTIONS]
	site_init
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out "$SITE/lw.key" 2>/dev/null || fail "openssl genpkey"
	openssl pkey -in "$SITE/lw.key" -pubout -out "$SITE/lw.pub" 2>/dev/null
	echo "client-secret-$$" >"$SITE/lw.secret"
	echo "bot-secret-$$" >"$SITE/lw.botsecret"
	chmod 600 "$SITE/lw.key" "$SITE/lw.secret" "$SITE/lw.botsecret"
	start_fake lineworks lineworks.py serve --port-file "$SITE/lineworks.port" \
	    --log "$SITE/lineworks.log" --public-key "$SITE/lw.pub" \
	    --client-id "$LW_CLIENT" --client-secret "client-secret-$$" \
	    --service-account "$LW_SA" --bot-id "$LW_BOT" "$@"
}

# The rosters' lineworks contacts are login e-mails, so the scope must
# reach the Directory (user.read) unless a test says otherwise.
lw_conf() {	# [EXTRA "k: v" ...]: the transport's flow map
	local p extra="" scope=', scope: "bot user.read"'
	p=$(fake_port lineworks)
	for e in "$@"; do
		extra="$extra, $e"
		case $e in scope:*) scope="" ;; esac
	done
	extra="$scope$extra"
	echo "{type: lineworks, bot_id: \"$LW_BOT\", client_id: $LW_CLIENT," \
	    "client_secret_file: \"$SITE/lw.secret\", service_account: \"$LW_SA\"," \
	    "private_key_file: \"$SITE/lw.key\", bot_secret_file: \"$SITE/lw.botsecret\"," \
	    "api_base: \"http://127.0.0.1:$p/v1.0\"," \
	    "auth_url: \"http://127.0.0.1:$p/oauth2/v2.0/token\"$extra}"
}

# lw_callback ARGS...: POSTs a signed callback to the daemon; prints the
# HTTP status. ARGS as lineworks.py callback (--user, --postback, ...).
lw_callback() {
	"$PY" "$FAKES/lineworks.py" callback --url "$(public_url)/callback/lineworks" \
	    --bot-secret "bot-secret-$$" --bot-id "$LW_BOT" "$@"
}

# lw_log EXPR: a Python expression over L, the list of logged requests.
lw_log() {
	"$PY" - "$SITE/lineworks.log" "$1" <<'EOF'
import json, sys
L = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
EOF
}

# ---------------------------------------------------------------------------
# Twilio

TW_SID=AC0123456789abcdef0123456789abcdef
TW_FROM=+815012345678

tw_start() {	# [FAKE OPTIONS]
	site_init
	echo "auth-token-$$" >"$SITE/tw.token"
	chmod 600 "$SITE/tw.token"
	start_fake twilio twilio.py serve --port-file "$SITE/twilio.port" \
	    --log "$SITE/twilio.log" --account-sid "$TW_SID" \
	    --auth-token "auth-token-$$" "$@"
}

tw_conf() {
	echo "{type: twilio, account_sid: \"$TW_SID\"," \
	    "auth_token_file: \"$SITE/tw.token\", from: \"$TW_FROM\"," \
	    "api_base: \"http://127.0.0.1:$(fake_port twilio)\"}"
}

tw_callback() {	# --sid SID --status STATUS [--error-code N] [--bad-sig]
	"$PY" "$FAKES/twilio.py" callback --url "$(public_url)/callback/twilio" \
	    --auth-token "auth-token-$$" --account-sid "$TW_SID" "$@"
}

tw_log() {	# EXPR over L
	"$PY" - "$SITE/twilio.log" "$1" <<'EOF'
import json, sys
L = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
EOF
}

# ---------------------------------------------------------------------------
# SMTP

smtp_start() {
	site_init
	start_fake smtp smtp.py --port-file "$SITE/smtp.port" --dir "$SITE/mail"
}

smtp_conf() {
	echo "{type: smtp, url: \"smtp://127.0.0.1:$(fake_port smtp)\"," \
	    "from: \"alert@town.example\", starttls: never}"
}

# ---------------------------------------------------------------------------
# The config written by lib.sh's write_config, edited.

public_url() {
	sed -n 's/^public_url: //p' "$CFG"
}

# set_transport CHANNEL MAP: replaces the channel's line under transports:.
set_transport() {
	"$PY" - "$CFG" "$1" "$2" <<'EOF'
import sys
path, ch, m = sys.argv[1:]
lines = open(path).read().split("\n")
out, done = [], False
for l in lines:
    if l.startswith("  %s:" % ch) and not done:
        l = "  %s: %s" % (ch, m)
        done = True
    out.append(l)
if not done:
    out.append("  %s: %s" % (ch, m))
open(path, "w").write("\n".join(out))
EOF
}

# set_delivery_channels CHANNEL...: delivery.channels (preference order).
set_delivery_channels() {
	local list
	list=$(echo "$*" | sed 's/ /, /g')
	"$PY" - "$CFG" "$list" <<'EOF'
import sys
path, lst = sys.argv[1:]
s = open(path).read()
i = s.index("delivery:\n")
j = s.index("  channels:", i)
k = s.index("\n", j)
open(path, "w").write(s[:j] + "  channels: [%s]" % lst + s[k:])
EOF
}

# db SQL: a read-only query of the daemon's database.
db() {
	sqlite3 -readonly "$STATE/state.db" "$1"
}

# alert_send TAG AUDIENCE [BODY]: drafts as soumu_bucho, approves as the
# mayor; prints the id.
alert_send() {
	local out id
	out=$(ctl --json --as soumu_bucho draft --tag "$1" --to "$2" \
	    --body "${3:-全職員は本庁舎に参集してください。}") ||
	    fail "draft $1 to $2 failed: $out"
	id=$(jget "$out" 'd["id"]')
	ctl --as mayor approve "$id" >/dev/null || fail "approve $id failed"
	echo "$id"
}
