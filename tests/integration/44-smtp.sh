#!/bin/bash
# 44-smtp: e-mail through libcurl's SMTP to a real SMTP server on loopback
# (aiosmtpd). The saved message parses with Python's email module: decoded
# Subject with the tag and the town, UTF-8 text/plain in base64, From and
# To with their names, a Message-ID, and the recipient's link in the body;
# no header line is longer than 76 characters.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/providers.sh"
site_init
smtp_start
write_config
providers_trap
set_transport email "$(smtp_conf)"
set_delivery_channels email
start_daemon

ID=$(alert_send 情報共有 member:mayor,kyoikucho \
    '庁舎の停電は復旧しました。各課で端末の再起動を確認してください。')
wait_sent "$ID" 2
wait_until 5 "two messages saved" test -e "$SITE/mail/2.eml"
"$PY" - "$SITE/mail" "$(public_url)" <<'PYEOF' || fail "message checks"
import email, email.policy, glob, json, re, sys
d, base = sys.argv[1:]
seen = {}
for path in sorted(glob.glob(d + "/*.eml")):
    raw = open(path, "rb").read()
    env = json.load(open(path[:-4] + ".json"))
    for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        assert len(line) <= 76, "long header line %r" % line
    m = email.message_from_bytes(raw, policy=email.policy.default)
    subj = str(m["Subject"])
    assert "【情報共有】" in subj and "〇〇町" in subj, subj
    assert m.get_content_type() == "text/plain", m.get_content_type()
    assert m.get_content_charset() == "utf-8", m.get_content_charset()
    assert m["Content-Transfer-Encoding"] == "base64"
    assert m["MIME-Version"] == "1.0"
    assert str(m["From"]) == "〇〇町 <alert@town.example>", str(m["From"])
    assert env["mail_from"] == "alert@town.example", env
    body = m.get_content()
    assert "庁舎の停電は復旧しました" in body, body
    links = re.findall(re.escape(base) + r"/r/[A-Za-z0-9_-]{22}", body)
    assert len(links) >= 1, body
    assert re.match(r"^<crisiscast\.alert\.[0-9]+@town\.example>$", m["Message-ID"]), m["Message-ID"]
    assert m["Date"] is not None
    seen[env["rcpt_tos"][0]] = (str(m["To"]), links[0])
assert set(seen) == {"mayor@town.example", "kyoikucho@town.example"}, seen
assert seen["mayor@town.example"][0] == "安平 一郎 <mayor@town.example>", seen
assert seen["mayor@town.example"][1] != seen["kyoikucho@town.example"][1]
PYEOF
expect_rc 0 ctl --json status "$ID"
assert_eq '["sent", "sent"]' "$(jget "$OUT" '[r["state"] for r in d["recipients"]]')" "sent"
stop_site
echo "44-smtp: ok"
