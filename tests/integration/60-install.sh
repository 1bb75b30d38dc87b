#!/bin/bash
# 60-install: `make install PREFIX=/usr DESTDIR=...` lays out a Debian-style
# tree and the installed programs work from it: crisiscastd -n on the
# installed example config (rules and templates from share/crisiscast),
# crisisctl --help, the daemon started from the installed binary answering
# the installed crisisctl, the man pages render without warnings, the bash
# completion loads and completes commands, member ids and alert ids, and
# the installed unit rates 2.0 or lower in `systemd-analyze security
# --offline=true` and passes `systemd-analyze verify`.
. "$(dirname "$0")/lib.sh"
site_init
export LC_ALL=C.UTF-8

D=$SITE/destdir
note "make install PREFIX=/usr DESTDIR=$D"
# -o all: install the binaries under test (BUILD) as they are, never
# rebuild them from here.
make -s -C "$REPO" -o all install BUILD="$BUILD" PREFIX=/usr DESTDIR="$D" \
    >"$SITE/install.log" 2>&1 || { cat "$SITE/install.log" >&2; fail "make install"; }

for f in usr/sbin/crisiscastd usr/bin/crisisctl \
    usr/lib/systemd/system/crisiscastd.service \
    usr/lib/sysusers.d/crisiscast.conf usr/lib/tmpfiles.d/crisiscast.conf \
    usr/share/crisiscast/rules/tags.yaml usr/share/crisiscast/rules/hours.yaml \
    usr/share/crisiscast/rules/pii.yaml usr/share/crisiscast/rules/style.yaml \
    usr/share/crisiscast/templates/shelter_open.long.txt \
    usr/share/doc/crisiscast/examples/crisiscast.yaml \
    usr/share/doc/crisiscast/examples/rosters/crisis.yaml \
    usr/share/doc/crisiscast/examples/rosters/shelters.yaml \
    usr/share/man/man8/crisiscastd.8 usr/share/man/man1/crisisctl.1 \
    usr/share/man/man5/crisiscast.yaml.5 \
    usr/share/bash-completion/completions/crisisctl; do
	[ -f "$D/$f" ] || fail "not installed: /$f"
done
[ -x "$D/usr/sbin/crisiscastd" ] && [ -x "$D/usr/bin/crisisctl" ] ||
    fail "installed programs are not executable"
unit=$D/usr/lib/systemd/system/crisiscastd.service
assert_contains "$(cat "$unit")" "ExecStart=/usr/sbin/crisiscastd -f" \
    "unit points at the installed daemon"
assert_not_contains "$(cat "$unit")" "@SBINDIR@" "unit fully generated"

# The installed programs from here on.
CRISISCASTD=$D/usr/sbin/crisiscastd
CRISISCTL=$D/usr/bin/crisisctl

note "crisiscastd -n on the installed example"
EX=$SITE/example
mkdir -p "$EX"
cp -r "$D/usr/share/doc/crisiscast/examples/." "$EX/"
HTTP_PORT=$(free_port)
sed -i -e "s|^control_socket:.*|control_socket: \"$SITE/control.sock\"|" \
    -e "s|^state_dir:.*|state_dir: \"$STATE\"|" \
    -e "s|^rules_dir:.*|rules_dir: \"$D/usr/share/crisiscast/rules\"|" \
    -e "s|^templates_dir:.*|templates_dir: \"$D/usr/share/crisiscast/templates\"|" \
    -e "s|127\.0\.0\.1:8080|127.0.0.1:$HTTP_PORT|g" "$EX/crisiscast.yaml"
CFG=$EX/crisiscast.yaml
expect_rc 0 "$CRISISCASTD" -n -f "$CFG"
assert_contains "$OUT" "configuration OK" "crisiscastd -n"
assert_contains "$OUT" "94 accounts" "crisiscastd -n summary"

note "crisisctl --help"
expect_rc 0 "$CRISISCTL" --help
for v in draft approve reject cancel status roster audit; do
	assert_contains "$OUT" "  $v" "crisisctl --help lists $v"
done

note "the installed daemon answers the installed crisisctl"
start_daemon
expect_rc 0 ctl --as soumu_bucho draft --tag 避難所開設要請 --to shelter:hs01 \
    --body "第一小学校体育館を開設してください。"

note "man pages render without warnings"
for m in man8/crisiscastd.8 man1/crisisctl.1 man5/crisiscast.yaml.5; do
	page=$D/usr/share/man/$m
	warn=$(groff -k -man -Tutf8 -ww -z "$page" 2>&1) ||
	    fail "groff $m failed: $warn"
	[ -z "$warn" ] || fail "groff warnings in $m:
$warn"
	if command -v mandoc >/dev/null; then
		lint=$(mandoc -Tlint -W warning "$page" 2>&1) ||
		    fail "mandoc -Tlint $m:
$lint"
	fi
	if command -v man >/dev/null; then
		text=$(MANWIDTH=80 man -l "$page" 2>"$SITE/man.err") ||
		    fail "man -l $m failed: $(cat "$SITE/man.err")"
		[ ! -s "$SITE/man.err" ] || fail "man -l $m: $(cat "$SITE/man.err")"
		assert_contains "$text" "NAME" "man -l $m"
	fi
done
assert_contains "$(groff -k -man -Tutf8 -P-cbou "$D/usr/share/man/man1/crisisctl.1")" \
    "approve id" "crisisctl(1) names the approve command"

note "bash completion"
# complete WORDS...: what the installed completion offers for the last word.
complete_words() {
	PATH=$D/usr/bin:$PATH bash --norc --noprofile -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_crisisctl crisisctl "${COMP_WORDS[COMP_CWORD]}" \
		    "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ \
	    "$D/usr/share/bash-completion/completions/crisisctl" "$@"
}
bash --norc --noprofile -c '. "$1" && complete -p crisisctl' _ \
    "$D/usr/share/bash-completion/completions/crisisctl" >/dev/null ||
    fail "the completion script does not load or register"
assert_eq "approve" "$(complete_words crisisctl appr)" "crisisctl appr<TAB>"
assert_eq "$(printf 'reject\nreload\nrenotify\nresume')" \
    "$(complete_words crisisctl re | sort)" "crisisctl re<TAB>"
assert_eq "--reason" "$(complete_words crisisctl reject 1 --rea)" \
    "crisisctl reject 1 --rea<TAB>"
assert_eq "$(printf 'csv\njson')" "$(complete_words crisisctl audit --format '')" \
    "crisisctl audit --format <TAB>"
assert_eq "mayor" "$(complete_words crisisctl --as mayo)" \
    "crisisctl --as mayo<TAB> (member ids from the daemon)"
assert_eq "deputy_mayor" "$(complete_words crisisctl roster show deputy)" \
    "crisisctl roster show deputy<TAB>"
assert_eq "1" "$(complete_words crisisctl approve '')" \
    "crisisctl approve <TAB> (alert ids from the daemon)"
stop_site
# No daemon: nothing to offer, no error, no hang.
assert_eq "" "$(complete_words crisisctl approve '')" \
    "crisisctl approve <TAB> without a daemon"

note "systemd-analyze on the installed unit"
if ! command -v systemd-analyze >/dev/null; then
	echo "systemd-analyze not installed: unit checks skipped" >&2
	exit 0
fi
sec=$(systemd-analyze security --offline=true "$unit" 2>&1) ||
    fail "systemd-analyze security failed:
$sec"
level=$(sed -n 's/.*Overall exposure level for crisiscastd.service: \([0-9.]*\).*/\1/p' <<<"$sec")
[ -n "$level" ] || fail "no overall exposure level in:
$sec"
note "exposure level $level"
awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }' ||
    fail "exposure level $level is above 2.0:
$(grep '✗' <<<"$sec")"
# verify: the unit as installed, with the commands pointing into DESTDIR
# (they do not exist at /usr/sbin on this machine) and man pages looked up
# in DESTDIR.
mkdir -p "$SITE/unit"
sed "s|/usr/sbin/crisiscastd|$D/usr/sbin/crisiscastd|g" "$unit" \
    >"$SITE/unit/crisiscastd.service"
ver=$(MANPATH=$D/usr/share/man systemd-analyze verify \
    "$SITE/unit/crisiscastd.service" 2>&1) ||
    fail "systemd-analyze verify failed:
$ver"
[ -z "$ver" ] || fail "systemd-analyze verify complained:
$ver"
note "ok"
