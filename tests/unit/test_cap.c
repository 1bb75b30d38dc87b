/*
 * test_cap.c: lib/cap.c: hosts, identifiers, escaping and forbidden
 * characters, drills as Exercise, cancels with references, quoted
 * addresses, the +09:00 time form, and every document against the OASIS
 * schema (xmllint --schema tests/data/cap/CAP-v1.2.xsd, a copy of
 * shared/cap/CAP-v1.2.xsd; see tests/data/cap/README).
 *
 * Must run from the repository's top directory (make unit does), or with
 * CAP_XSD naming the schema. Epoch seconds were computed with date(1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cap.h"
#include "util.h"

/* 2026-11-21T03:04:05+09:00 (date -u -d '2026-11-20T18:04:05Z' +%s) */
#define T_SENT		1795197845
/* 2026-11-21T02:00:00+09:00 */
#define T_EARLIER	1795194000

static const char *const addrs[] = { "hs01-1", "hs01-2" };

static struct cap_msg
sample(void)
{
	return (struct cap_msg){
		.identifier = "urn:crisiscast:alert.example.lg.jp:alert:7",
		.sender = "crisiscast@alert.example.lg.jp",
		.sent = T_SENT,
		.addresses = addrs,
		.naddresses = nitems(addrs),
		.category = "Safety", .urgency = "Immediate",
		.severity = "Severe", .certainty = "Likely",
		.event = "避難所開設要請",
		.sender_name = "〇〇町",
		.body = "【避難所開設要請】第一小学校の避難所を開設してください。\n"
		    "担当職員は参集をお願いします。",
	};
}

/* Validates xml against the schema with xmllint; fails the test if not. */
static void
assert_schema_valid(const char *xml)
{
	const char *xsd = getenv("CAP_XSD");
	char path[] = "/tmp/test_cap.XXXXXX", cmd[512];
	int fd, rc;
	size_t len = strlen(xml);

	if (xsd == NULL)
		xsd = "tests/data/cap/CAP-v1.2.xsd";
	if (access(xsd, R_OK) != 0)
		fail_msg("schema %s not found (run from the top directory or "
		    "set CAP_XSD)", xsd);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, xml, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "xmllint --noout --schema '%s' '%s' "
	    ">/dev/null 2>%s.err", xsd, path, path);
	rc = system(cmd);
	if (rc != 0) {
		char errpath[64], *e;
		snprintf(errpath, sizeof(errpath), "%s.err", path);
		e = read_file(errpath, 1 << 16, NULL);
		print_message("%s\n%s\n", xml, e ? e : "(no xmllint output)");
		free(e);
		unlink(errpath);
		unlink(path);
		fail_msg("xmllint --schema failed (status %d)", rc);
	}
	snprintf(cmd, sizeof(cmd), "%s.err", path);
	unlink(cmd);
	unlink(path);
}

static char *
build(const struct cap_msg *m)
{
	char err[200];
	char *x = cap_build(m, err, sizeof(err));

	if (x == NULL)
		fail_msg("cap_build: %s", err);
	return x;
}

static void
test_host_and_ids(void **state)
{
	char *h, *s;

	(void)state;
	h = cap_host("https://Alert.Example.LG.jp:8443/base?x#y");
	assert_string_equal(h, "alert.example.lg.jp");
	s = cap_sender(h);
	assert_string_equal(s, "crisiscast@alert.example.lg.jp");
	free(s);
	s = cap_identifier(h, 42);
	assert_string_equal(s, "urn:crisiscast:alert.example.lg.jp:alert:42");
	free(s);
	free(h);
	h = cap_host("http://user:pw@127.0.0.1:8080");
	assert_string_equal(h, "127.0.0.1");
	free(h);
	h = cap_host("http://[::1]:8080/");
	assert_string_equal(h, "--1");
	free(h);
	h = cap_host("");
	assert_string_equal(h, "localhost");
	free(h);
	h = cap_host(NULL);
	assert_string_equal(h, "localhost");
	free(h);
	/* Nothing that CAP forbids in an identifier survives. */
	h = cap_host("https://a b,c<d&e.example/");
	assert_string_equal(h, "abcde.example");
	free(h);
}

static void
test_alert(void **state)
{
	struct cap_msg m = sample();
	char *x;

	(void)state;
	x = build(&m);
	assert_true(startswith(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n"));
	assert_non_null(strstr(x, "<sent>2026-11-21T03:04:05+09:00</sent>"));
	assert_non_null(strstr(x, "<status>Actual</status>"));
	assert_non_null(strstr(x, "<msgType>Alert</msgType>"));
	assert_non_null(strstr(x, "<scope>Private</scope>"));
	assert_non_null(strstr(x, "<addresses>hs01-1 hs01-2</addresses>"));
	assert_null(strstr(x, "<references>"));
	assert_non_null(strstr(x, "<language>ja-JP</language>"));
	assert_non_null(strstr(x, "<event>避難所開設要請</event>"));
	assert_non_null(strstr(x, "<senderName>〇〇町</senderName>"));
	assert_non_null(strstr(x, "<headline>【避難所開設要請】第一小学校の"
	    "避難所を開設してください。</headline>"));
	assert_non_null(strstr(x, "<description>【避難所開設要請】第一小学校の"
	    "避難所を開設してください。\n担当職員は参集をお願いします。"
	    "</description>"));
	assert_schema_valid(x);
	free(x);
}

static void
test_drill(void **state)
{
	struct cap_msg m = sample();
	char *x;

	(void)state;
	m.exercise = true;
	m.event = "訓練";
	m.category = "Safety";
	m.urgency = "Future";
	m.severity = "Minor";
	m.certainty = "Unlikely";
	m.response_type = "Prepare";
	x = build(&m);
	assert_non_null(strstr(x, "<status>Exercise</status>"));
	assert_non_null(strstr(x, "<responseType>Prepare</responseType>"));
	assert_schema_valid(x);
	free(x);
}

static void
test_cancel(void **state)
{
	struct cap_msg m = sample();
	struct cap_ref r = {
		.sender = "crisiscast@alert.example.lg.jp",
		.identifier = "urn:crisiscast:alert.example.lg.jp:alert:6",
		.sent = T_EARLIER,
	};
	char *x;

	(void)state;
	m.cancels = &r;
	m.note = "開設場所の誤り";
	m.event = "取消";
	x = build(&m);
	assert_non_null(strstr(x, "<msgType>Cancel</msgType>"));
	assert_non_null(strstr(x, "<references>crisiscast@alert.example.lg.jp,"
	    "urn:crisiscast:alert.example.lg.jp:alert:6,"
	    "2026-11-21T02:00:00+09:00</references>"));
	assert_non_null(strstr(x, "<note>開設場所の誤り</note>"));
	assert_schema_valid(x);
	free(x);
	/* A reference that is not a CAP token is refused. */
	r.identifier = "a b";
	char err[200];
	assert_null(cap_build(&m, err, sizeof(err)));
	assert_non_null(strstr(err, "cancelled"));
}

static void
test_escaping(void **state)
{
	struct cap_msg m = sample();
	char *x;

	(void)state;
	m.sender_name = "A&B <町> \"役場\" 'x'";
	m.body = "【情報共有】a<b & c>d \"q\" 'a'\r\nline2\x01\x1b[31m\x7f"
	    "end\xc2\x85!\xef\xbf\xbe?\xff\xc0\xaf.";
	m.event = "情報共有";
	x = build(&m);
	assert_non_null(strstr(x, "<senderName>A&amp;B &lt;町&gt; &quot;役場"
	    "&quot; &apos;x&apos;</senderName>"));
	assert_non_null(strstr(x, "<description>【情報共有】a&lt;b &amp; "
	    "c&gt;d &quot;q&quot; &apos;a&apos;&#13;\nline2[31mend!?."
	    "</description>"));
	/* The headline stops at the first line break. */
	assert_non_null(strstr(x, "<headline>【情報共有】a&lt;b &amp; c&gt;d "
	    "&quot;q&quot; &apos;a&apos;</headline>"));
	for (const char *p = x; *p; p++)
		assert_true((unsigned char)*p >= 0x20 || *p == '\n');
	assert_schema_valid(x);
	free(x);
}

/* The drafter's --set values become <parameter>s after <web>, escaped. */
static void
test_parameters(void **state)
{
	struct cap_msg m = sample();
	const char *names[] = { "place", "time" };
	const char *values[] = { "本庁舎3階 <会議室> & 廊下", "21:30" };
	char *x, *web, *p1, *p2, *end;

	(void)state;
	x = build(&m);
	assert_null(strstr(x, "<parameter>"));
	free(x);
	m.web = "https://alert.example.lg.jp/";
	m.param_names = names;
	m.param_values = values;
	m.nparams = 2;
	x = build(&m);
	web = strstr(x, "<web>");
	p1 = strstr(x, "    <parameter>\n      <valueName>place</valueName>\n"
	    "      <value>本庁舎3階 &lt;会議室&gt; &amp; 廊下</value>\n"
	    "    </parameter>\n");
	p2 = strstr(x, "<valueName>time</valueName>\n      <value>21:30"
	    "</value>");
	end = strstr(x, "</info>");
	assert_non_null(web);
	assert_non_null(p1);
	assert_non_null(p2);
	assert_true(web < p1 && p1 < p2 && p2 < end);
	assert_schema_valid(x);
	free(x);
}

static void
test_headline_length(void **state)
{
	struct cap_msg m = sample();
	struct buf body = {0}, want = {0};
	char *x;

	(void)state;
	buf_adds(&body, "【情報共有】");
	for (int i = 0; i < 100; i++)
		buf_adds(&body, "あ");
	m.body = body.data;
	x = build(&m);
	/* 59 characters and an ellipsis: 6 of the label, 53 of あ. */
	buf_adds(&want, "<headline>【情報共有】");
	for (int i = 0; i < 53; i++)
		buf_adds(&want, "あ");
	buf_adds(&want, "…</headline>");
	assert_non_null(strstr(x, want.data));
	assert_schema_valid(x);
	free(x);
	buf_free(&want);
	buf_free(&body);
}

static void
test_addresses(void **state)
{
	static const char *const a[] = { "hs01-1", "山田 太郎", "x\ty",
	    "a\"b", "", "\"\"", "last" };
	struct cap_msg m = sample();
	char *x;

	(void)state;
	m.addresses = a;
	m.naddresses = nitems(a);
	x = build(&m);
	assert_non_null(strstr(x, "<addresses>hs01-1 &quot;山田 太郎&quot; "
	    "&quot;x y&quot; ab last</addresses>"));
	assert_schema_valid(x);
	free(x);
	/* Nobody to address: no <addresses> element at all. */
	m.naddresses = 0;
	x = build(&m);
	assert_null(strstr(x, "<addresses>"));
	assert_schema_valid(x);
	free(x);
}

static void
test_refusals(void **state)
{
	struct cap_msg m;
	char err[200];

	(void)state;
	m = sample();
	m.identifier = "urn:x y";
	assert_null(cap_build(&m, err, sizeof(err)));
	assert_non_null(strstr(err, "identifier"));
	m = sample();
	m.identifier = "a,b";
	assert_null(cap_build(&m, err, sizeof(err)));
	m = sample();
	m.sender = "a&b";
	assert_null(cap_build(&m, err, sizeof(err)));
	assert_non_null(strstr(err, "sender"));
	m = sample();
	m.category = "Weather";
	assert_null(cap_build(&m, err, sizeof(err)));
	assert_non_null(strstr(err, "category"));
	m = sample();
	m.urgency = NULL;
	assert_null(cap_build(&m, err, sizeof(err)));
	m = sample();
	m.response_type = "Run";
	assert_null(cap_build(&m, err, sizeof(err)));
	m = sample();
	m.event = "";
	assert_null(cap_build(&m, err, sizeof(err)));
	m = sample();
	m.sent = 0;
	assert_null(cap_build(&m, err, sizeof(err)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_and_ids),
		cmocka_unit_test(test_alert),
		cmocka_unit_test(test_drill),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_parameters),
		cmocka_unit_test(test_headline_length),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
