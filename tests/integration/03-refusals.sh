#!/bin/bash
# 03-refusals: what crisisctl must refuse (exit 1), reject as usage (exit
# 2), or fail to reach (exit 3), and that a refused request stores nothing.
. "$(dirname "$0")/lib.sh"
start_site

# Personal data blocks a draft, half- and full-width alike; the reason
# names the pattern (電話番号) and the span. The stored body starts with the
# 6-character tag 【情報共有】, so the number starts at character 11.
expect_rc 1 ctl --as soumu_bucho draft --tag 情報共有 \
    --body '連絡先は090-1234-5678です'
assert_contains "$ERR" 電話番号 "PII refusal names the pattern"
assert_contains "$ERR" 「090-1234-5678」 "PII refusal names the matched text"
assert_contains "$ERR" "11文字目から13文字" "PII refusal names the span"
expect_rc 1 ctl --as soumu_bucho draft --tag 情報共有 \
    --body '連絡先は０９０１２３４５６７８です'
assert_contains "$ERR" 電話番号 "full-width PII refusal names the pattern"
assert_contains "$ERR" 「０９０１２３４５６７８」 "full-width matched text"
assert_contains "$ERR" "11文字目から11文字" "full-width span"
# --json carries the refusal too.
expect_rc 1 ctl --json --as soumu_bucho draft --tag 情報共有 \
    --body '連絡先は090-1234-5678です'

# Not a sender: shelter staff may not draft.
expect_rc 1 ctl --as hs01-1 draft --tag 情報共有 --body '本日の訓練は中止です。'
assert_contains "$ERR" "発信の権限がありません" "non-sender refusal"
# root without --as drafts as nobody: refused.
expect_rc 1 ctl draft --tag 情報共有 --body '本日の訓練は中止です。'
# Unknown tag, unknown audience, unknown --as member.
expect_rc 1 ctl --as soumu_bucho draft --tag 存在しないタグ --body '本日の訓練は中止です。'
assert_contains "$ERR" 存在しないタグ "unknown tag named"
expect_rc 1 ctl --as soumu_bucho draft --tag 情報共有 --to shelter:hs99 \
    --body '本日の訓練は中止です。'
expect_rc 1 ctl --as nobody_here draft --tag 情報共有 --body '本日の訓練は中止です。'

# Nothing of the above was stored.
expect_rc 0 ctl --json list
assert_eq 0 "$(jget "$OUT" 'len(d["alerts"])')" "refused drafts are not stored"

# rules check is a dry run: it answers, and stores nothing.
expect_rc 1 ctl rules check --tag 情報共有 --body '連絡先は090-1234-5678です'
assert_contains "$ERR" 電話番号 "rules check names the pattern"
expect_rc 0 ctl --json rules check --tag 情報共有 --body '本日の訓練は中止です。'
assert_eq true "$(jget "$OUT" 'd["ok"]')" "rules check ok"
assert_eq 38 "$(jget "$OUT" 'd["recipients"]')" "rules check recipients"
expect_rc 0 ctl --json list
assert_eq 0 "$(jget "$OUT" 'len(d["alerts"])')" "rules check stores nothing"
assert_eq 0 "$(outbox_count)" "nothing in the outbox"

# A real draft to decide on.
expect_rc 0 ctl --json --as soumu_bucho draft --tag 情報共有 \
    --body '本日の訓練は中止です。'
ID=$(jget "$OUT" 'd["id"]')

# Approve by a non-approver (the sender, an admin, shelter staff): refused.
for who in soumu_bucho kiki_shitsucho hs01-1; do
	expect_rc 1 ctl --as "$who" approve "$ID"
done
expect_rc 1 ctl approve "$ID"	# root as nobody
expect_rc 0 ctl --json status "$ID"
assert_eq pending_approval "$(jget "$OUT" 'd["state"]')" "still pending"
# Reject without --reason is a usage error; by a non-approver refused.
expect_rc 2 ctl --as mayor reject "$ID"
expect_rc 1 ctl --as soumu_bucho reject "$ID" --reason 誤り
# Approve twice: the second is refused.
expect_rc 0 ctl --as mayor approve "$ID"
expect_rc 1 ctl --as mayor approve "$ID"
expect_rc 1 ctl --as deputy_mayor approve "$ID"
expect_rc 1 ctl --as mayor reject "$ID" --reason 遅すぎ
# Unknown alert ids.
expect_rc 1 ctl --as mayor approve 9999
expect_rc 1 ctl status 9999

# Usage errors: exit 2.
expect_rc 2 ctl
expect_rc 2 ctl no-such-command
expect_rc 2 ctl show
expect_rc 2 ctl show abc
expect_rc 2 ctl show 0
expect_rc 2 ctl status -5
expect_rc 2 ctl --as soumu_bucho draft --body 'タグなし'
expect_rc 2 ctl --as soumu_bucho draft --tag 情報共有
expect_rc 2 ctl --as soumu_bucho draft --tag 情報共有 --body a --body b
expect_rc 2 ctl --as soumu_bucho draft --tag 情報共有 --body a --no-such-option
expect_rc 2 ctl --as soumu_bucho cancel "$ID"
expect_rc 2 ctl --as kiki_shitsucho suspend hs01-1
expect_rc 2 ctl list --state nonsense
expect_rc 2 ctl list --since yesterday
expect_rc 2 ctl audit --format xml
expect_rc 2 ctl roster frobnicate
expect_rc 2 ctl rules check --tag 情報共有
expect_rc 2 ctl rules check --tag 情報共有 --body x --at never
expect_rc 2 ctl calendar abc
expect_rc 2 ctl ping extra

# Unreachable: exit 3, whether the socket is missing or dead.
expect_rc 3 ctl -s "$SITE/no-such.sock" ping
expect_rc 3 env CRISISCAST_SOCKET="$SITE/no-such.sock" "$CRISISCTL" list
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' \
    "$SITE/dead.sock"
expect_rc 3 ctl -s "$SITE/dead.sock" ping

# Only the one approved alert exists; the daemon is fine.
expect_rc 0 ctl --json list
assert_eq "[$ID]" "$(jget "$OUT" '[a["id"] for a in d["alerts"]]')" "list at the end"
expect_rc 0 ctl ping
stop_site
echo "03-refusals: ok"
