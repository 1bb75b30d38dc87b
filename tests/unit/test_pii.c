/*
 * test_pii.c: unit tests for lib/pii.c and the shipped rules/pii.yaml:
 * every required form hits with the right span, ordinary alert text does
 * not, bad rule files are load errors at the right place, hostile text
 * never crashes or passes as clean. Runs from the repository root.
 *
 * Must never: depend on anything outside the repository and libc.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pii.h"
#include "testutil.h"

#define SHIPPED "rules/pii.yaml"
#define MAXHITS 16

static struct pii_set shipped;

static int
setup(void **state)
{
	struct diags d = {0};

	(void)state;
	if (pii_load(SHIPPED, &shipped, &d) != 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.msgs[i]);
		diag_free(&d);
		return -1;
	}
	diag_free(&d);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pii_free(&shipped);
	return 0;
}


static void
print_diags(const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		print_message("diag: %s\n", d->msgs[i]);
}

/*
 * Asserts that text has a hit of rule id whose span is exactly span, and
 * that the code point offsets agree with the byte offsets.
 */
static void
expect_hit(const char *text, const char *id, const char *span)
{
	struct pii_hit h[MAXHITS];
	size_t n = pii_scan(&shipped, text, strlen(text), h, MAXHITS);
	bool found = false;

	if (n == PII_SCAN_ERROR)
		fail_msg("scan error on \"%s\"", text);
	for (size_t i = 0; i < n && i < MAXHITS; i++) {
		if (strcmp(h[i].rule->id, id) != 0)
			continue;
		found = true;
		if (h[i].end - h[i].start != strlen(span) ||
		    memcmp(text + h[i].start, span, strlen(span)) != 0)
			fail_msg("\"%s\": %s span is \"%.*s\", want \"%s\"",
			    text, id, (int)(h[i].end - h[i].start),
			    text + h[i].start, span);
		assert_int_equal(h[i].cstart, utf8_count(text, h[i].start));
		assert_int_equal(h[i].clen, utf8_count(span, strlen(span)));
	}
	if (!found)
		fail_msg("\"%s\": no %s hit (%zu other hits)", text, id, n);
}

static void
expect_clean(const char *text)
{
	struct pii_hit h[MAXHITS];
	size_t n = pii_scan(&shipped, text, strlen(text), h, MAXHITS);

	if (n == PII_SCAN_ERROR)
		fail_msg("scan error on \"%s\"", text);
	if (n != 0)
		fail_msg("\"%s\": unexpected %s hit \"%.*s\"", text,
		    h[0].rule->id, (int)(h[0].end - h[0].start),
		    text + h[0].start);
}

/* Asserts that text has no hit of rule id. */
static void
expect_clean_of(const char *text, const char *id)
{
	struct pii_hit h[MAXHITS];
	size_t n = pii_scan(&shipped, text, strlen(text), h, MAXHITS);

	assert_true(n != PII_SCAN_ERROR);
	for (size_t i = 0; i < n && i < MAXHITS; i++)
		if (strcmp(h[i].rule->id, id) == 0)
			fail_msg("\"%s\": unexpected %s hit", text, id);
}

/* Loads YAML text as pii rules; returns pii_load_node's result. */
static int
load_str(const char *yaml, struct pii_set *s, struct diags *d)
{
	struct ynode *root = yaml_load_string("t.yaml", yaml, strlen(yaml), d);
	int rc;

	if (root == NULL)
		return -2;
	rc = pii_load_node(root, s, d);
	ynode_free(root);
	return rc;
}

static void
test_shipped_rules(void **state)
{
	static const char *const ids[] = {
		"phone", "mynumber", "email", "address", "birthdate"
	};

	(void)state;
	assert_int_equal(shipped.n, nitems(ids));
	for (size_t i = 0; i < nitems(ids); i++) {
		assert_string_equal(shipped.rules[i].id, ids[i]);
		assert_non_null(shipped.rules[i].label);
		assert_non_null(shipped.rules[i].code);
	}
	assert_string_equal(shipped.rules[0].label, "電話番号");
}

static void
test_phone(void **state)
{
	static const char *const forms[] = {
		"090-1234-5678",
		"09012345678",
		"０９０－１２３４－５６７８",
		"０９０１２３４５６７８",
		"090 1234 5678",
		"090ー1234ー5678",
		"090‐1234‐5678",
		"090−1234−5678",
		"０９０ｰ１２３４ｰ５６７８",
		"080.1234.5678",
		"070-1234-5678",
		"050-1234-5678",
		"+81-90-1234-5678",
		"+81 90 1234 5678",
		"+819012345678",
		"＋８１－９０－１２３４－５６７８",
		"+81-3-1234-5678",
		"+81 (0)3 1234 5678",
		"03-1234-5678",
		"0312345678",
		"(03)1234-5678",
		"03(1234)5678",
		"045-123-4567",
		"0256-34-5511",
		"０２５６（３４）５５１１",
		"01267-2-3456",
	};

	(void)state;
	for (size_t i = 0; i < nitems(forms); i++) {
		char text[128];

		expect_hit(forms[i], "phone", forms[i]);
		snprintf(text, sizeof(text), "連絡は%sまで", forms[i]);
		expect_hit(text, "phone", forms[i]);
	}
}

static void
test_phone_span(void **state)
{
	const char *t = "【参集指示】山田さん（090-1234-5678）は至急連絡";
	struct pii_hit h[MAXHITS];
	size_t n;

	(void)state;
	n = pii_scan(&shipped, t, strlen(t), h, MAXHITS);
	assert_int_equal(n, 1);
	assert_string_equal(h[0].rule->id, "phone");
	/* 【参集指示】山田さん（ = 11 characters of 3 bytes each */
	assert_int_equal(h[0].start, 33);
	assert_int_equal(h[0].end, 33 + 13);
	assert_int_equal(h[0].cstart, 11);
	assert_int_equal(h[0].clen, 13);

	/* Longer digit runs are not phone numbers. */
	expect_clean("090123456789012345");
	expect_clean("受付番号 1090-1234-56789");
}

static void
test_mynumber(void **state)
{
	const char *fw = "番号１２３４５６７８９０１２です";
	struct pii_hit h[MAXHITS];
	size_t n;

	(void)state;
	expect_hit("1234 5678 9012", "mynumber", "1234 5678 9012");
	expect_hit("123456789012", "mynumber", "123456789012");
	expect_hit("個人番号: 1234-5678-9012", "mynumber", "1234-5678-9012");
	expect_hit("１２３４５６７８９０１２", "mynumber",
	    "１２３４５６７８９０１２");
	n = pii_scan(&shipped, fw, strlen(fw), h, MAXHITS);
	assert_int_equal(n, 1);
	assert_int_equal(h[0].start, 6);
	assert_int_equal(h[0].end, 6 + 36);
	assert_int_equal(h[0].cstart, 2);
	assert_int_equal(h[0].clen, 12);
	/* 11 and 13 digits are not My Numbers. */
	expect_clean("12345678901 件");
	expect_clean("法人番号 1234567890123");
	expect_clean("https://support.example.com/articles/360059196573");
	expect_clean("userId: c72af563-0f21-4736-11e4-045237113344");
	expect_clean("items/f672716236708d6692e9");
	/* An E.164 number is a phone number, not a My Number. */
	expect_hit("+819012345678", "phone", "+819012345678");
	expect_clean_of("+819012345678", "mynumber");
}

static void
test_email(void **state)
{
	(void)state;
	expect_hit("taro@example.jp", "email", "taro@example.jp");
	expect_hit("連絡先：taro.sanjo+x@city.example.lg.jp へ", "email",
	    "taro.sanjo+x@city.example.lg.jp");
	expect_hit("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "email",
	    "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ");
	/* A LINE WORKS mention is not an address. */
	expect_clean("@SANJO TARO 確認してください");
	expect_clean("メンション@SANJO");
}

static void
test_address(void **state)
{
	(void)state;
	expect_hit("〒100-0001 東京都千代田区千代田1-1 在住", "address",
	    "〒100-0001 東京都千代田区千代田1-1");
	expect_hit("〒100-0001 東京都千代田区…", "address",
	    "〒100-0001 東京都千代田区");
	expect_hit("住所は955-8686 新潟県三条市旭町2丁目3番1号です",
	    "address", "955-8686 新潟県三条市旭町2丁目3番1号");
	expect_hit("〒９５５－８６８６\n三条市旭町", "address",
	    "〒９５５－８６８６\n三条市旭町");
	expect_hit("〒9558686三条市", "address", "〒9558686三条市");
	/* A postal code alone does not identify anyone. */
	expect_clean("〒100-0001");
	expect_clean("100-0001 は郵便番号です");
}

static void
test_birthdate(void **state)
{
	(void)state;
	expect_hit("昭和50年1月1日生まれ", "birthdate", "昭和50年1月1日生まれ");
	expect_hit("昭和50年1月1日生、男性", "birthdate", "昭和50年1月1日生");
	expect_hit("平成元年1月8日生", "birthdate", "平成元年1月8日生");
	expect_hit("1975年1月1日生まれの方", "birthdate", "1975年1月1日生まれ");
	expect_hit("1975/1/1生", "birthdate", "1975/1/1生");
	expect_hit("生年月日: 1975年1月1日", "birthdate", "生年月日: 1975年1月1日");
	expect_hit("生年月日 S50.1.1", "birthdate", "生年月日 S50.1.1");
	expect_hit("生年月日：平成2年3月4日", "birthdate", "生年月日：平成2年3月4日");
	expect_hit("S50.1.1", "birthdate", "S50.1.1");
	expect_hit("Ｓ５０．１．１", "birthdate", "Ｓ５０．１．１");
	expect_hit("H2.3.4生", "birthdate", "H2.3.4生");
	/* Dates that are not births. */
	expect_clean("2026年11月21日生活支援物資を配布");
	expect_clean("2026年11月21日生じた被害");
	expect_clean("平成30年7月6日の豪雨");
	expect_clean("R8.11.21現在");
	expect_clean("H30.7.6豪雨の教訓");
	expect_clean("生年月日の記入は不要です");
}

static void
test_clean_alerts(void **state)
{
	static const char *const clean[] = {
		"【避難所開設要請】17:15に第一小学校体育館を開設してください。"
		    "震度5強、11月21日現在 1,234人避難",
		"【参集指示】2026-11-21 17:15 震度5強を観測。第2配備体制とし、"
		    "職員は30分以内に参集してください。",
		"【気象警報】11月21日 08:30-17:15 大雨警報（土砂災害）発表中",
		"【被害報告】床上浸水 12棟、床下浸水 345棟、避難者 1,234人"
		    "（2026/11/21 18:00現在）",
		"【情報共有】避難所 12か所 開設、収容人数 3,500人、残り 0人分",
		"【訓練】R8.11.21 9時から総合防災訓練。集合は本庁舎3階",
		"【取消】第3報（17時15分発表）は誤りのため取り消します",
		"水位 3.45m（はん濫危険水位 4.10m）、雨量 120mm/h",
		"S:¥0010-〇〇部（全庁） ¥010-〇〇〇〇課（全庁） ¥020 最新資料等",
		"運用時間は原則、平日の勤務時間(8:30-17:15)とする",
		"",
	};

	(void)state;
	for (size_t i = 0; i < nitems(clean); i++)
		expect_clean(clean[i]);
}

static void
test_many_hits(void **state)
{
	const char *t = "A 090-1111-2222 B 090-3333-4444 C 03-1234-5678 "
	    "D taro@example.jp";
	struct pii_hit h[2];
	size_t n;

	(void)state;
	n = pii_scan(&shipped, t, strlen(t), h, 2);
	assert_int_equal(n, 4);	/* 3 phones + 1 e-mail; only 2 stored */
	assert_string_equal(h[0].rule->id, "phone");
	assert_string_equal(h[1].rule->id, "phone");
	assert_int_equal(h[0].start, 2);
	assert_int_equal(h[1].start, 18);
	assert_int_equal(pii_scan(&shipped, t, strlen(t), NULL, 0), 4);
}

static void
test_hostile_text(void **state)
{
	static const char *const bad[] = {
		"\xff",
		"090-1234-5678 \xe3\x81",	/* truncated character */
		"\xc0\xaf",			/* overlong "/" */
		"\xed\xa0\x80",			/* surrogate */
		"【避難所】\x80",
	};
	struct pii_hit h[MAXHITS];
	char *big;
	size_t n, len = 200000;
	unsigned seed = 12345;

	(void)state;
	for (size_t i = 0; i < nitems(bad); i++)
		assert_true(pii_scan(&shipped, bad[i], strlen(bad[i]), h,
		    MAXHITS) == PII_SCAN_ERROR);
	assert_true(pii_scan(&shipped, NULL, 3, h, MAXHITS) ==
	    PII_SCAN_ERROR);
	assert_int_equal(pii_scan(&shipped, NULL, 0, h, MAXHITS), 0);

	/* NUL bytes inside the text are scanned past. */
	n = pii_scan(&shipped, "abc\0 090-1234-5678", 18, h, MAXHITS);
	assert_int_equal(n, 1);
	assert_int_equal(h[0].start, 5);

	/* Long runs of digits and separators: no error, finishes. */
	big = malloc(len + 1);
	assert_non_null(big);
	for (size_t i = 0; i < len; i++)
		big[i] = "0-( 9."[i % 6];
	big[len] = '\0';
	assert_true(pii_scan(&shipped, big, len, h, MAXHITS) !=
	    PII_SCAN_ERROR);
	memset(big, '0', len);
	assert_int_equal(pii_scan(&shipped, big, len, h, MAXHITS), 0);

	/* Random bytes: either an error or a count, never a crash. */
	for (int round = 0; round < 2000; round++) {
		size_t l = (size_t)(round % 97);

		for (size_t i = 0; i < l; i++) {
			seed = seed * 1103515245u + 12345u;
			big[i] = "0９-－ー〒@a生年月日\xe3\x80\x80"[(seed >> 16) %
			    30];
		}
		n = pii_scan(&shipped, big, l, h, MAXHITS);
		if (n != PII_SCAN_ERROR)
			for (size_t i = 0; i < n && i < MAXHITS; i++)
				assert_true(h[i].start < h[i].end &&
				    h[i].end <= l);
	}
	free(big);
}

static void
test_describe(void **state)
{
	const char *t = "【参集指示】連絡は090-1234-5678まで";
	struct pii_hit h[MAXHITS];
	char out[512], small[20];
	size_t n;

	(void)state;
	n = pii_scan(&shipped, t, strlen(t), h, MAXHITS);
	assert_int_equal(n, 1);
	pii_describe(&h[0], t, out, sizeof(out));
	assert_string_equal(out, "個人を特定できる情報（電話番号 [phone]）: "
	    "「090-1234-5678」（10文字目から13文字）");

	/* Truncation keeps whole characters. */
	pii_describe(&h[0], t, small, sizeof(small));
	assert_true(utf8_valid(small, strlen(small)));
	assert_true(strlen(small) < sizeof(small));
	pii_describe(&h[0], t, small, 1);
	assert_string_equal(small, "");
	pii_describe(NULL, t, out, sizeof(out));
	assert_string_equal(out, "個人を特定できる情報");

	/* Line breaks in the span are shown as spaces. */
	t = "〒100-0001\n東京都千代田区";
	n = pii_scan(&shipped, t, strlen(t), h, MAXHITS);
	assert_int_equal(n, 1);
	pii_describe(&h[0], t, out, sizeof(out));
	assert_non_null(strstr(out, "「〒100-0001 東京都千代田区」"));
	assert_non_null(strstr(out, "郵便番号と住所 [address]"));
	assert_non_null(strstr(out, "（1文字目から"));
}

static void
test_describe_long_span(void **state)
{
	struct pii_set s = {0};
	struct diags d = {0};
	struct pii_hit h[1];
	char text[256], out[512];

	(void)state;
	assert_int_equal(load_str("patterns:\n"
	    "  - {id: run, label: 長い, pattern: 'あ+'}\n", &s, &d), 0);
	text[0] = '\0';
	for (int i = 0; i < 40; i++)
		strcat(text, "あ");
	assert_int_equal(pii_scan(&s, text, strlen(text), h, 1), 1);
	assert_int_equal(h[0].clen, 40);
	pii_describe(&h[0], text, out, sizeof(out));
	/* 64 bytes = 21 whole characters, then an ellipsis. */
	assert_non_null(strstr(out, "「あああああああああああああああああああああ…」"));
	assert_non_null(strstr(out, "（1文字目から40文字）"));
	pii_free(&s);
	diag_free(&d);
}

static void
test_bad_regex(void **state)
{
	struct pii_set s = {0};
	struct diags d = {0};

	(void)state;
	assert_int_equal(load_str("patterns:\n"
	    "  - id: ok\n"
	    "    label: よい\n"
	    "    pattern: 'abc'\n"
	    "  - id: bad\n"
	    "    label: 悪い\n"
	    "    pattern: '(abc'\n"
	    "  - id: bad2\n"
	    "    label: 悪い\n"
	    "    pattern: 'a{2,1}'\n", &s, &d), -1);
	print_diags(&d);
	assert_int_equal(diag_errors(&d), 2);
	assert_true(diags_have(&d, "t.yaml:7:14: invalid pattern for \"bad\": "
	    "missing closing parenthesis at offset 4"));
	assert_true(diags_have(&d, "t.yaml:10:14: invalid pattern for \"bad2\""));
	assert_null(s.rules);
	assert_int_equal(s.n, 0);
	pii_free(&s);
	diag_free(&d);
}

static void
test_empty_match(void **state)
{
	struct pii_set s = {0};
	struct diags d = {0};
	struct pii_hit h[4];

	(void)state;
	assert_int_equal(load_str("patterns:\n"
	    "  - {id: any, label: 何でも, pattern: 'x*'}\n", &s, &d), -1);
	assert_true(diags_have(&d, "t.yaml:2:36: pattern for \"any\" matches "
	    "empty text"));
	diag_free(&d);

	/* Empty matches that only happen inside text are stepped over. */
	assert_int_equal(load_str("patterns:\n"
	    "  - {id: look, label: 先読み, pattern: '(?=x)'}\n"
	    "  - {id: x, label: エックス, pattern: 'x|(?=あ)'}\n", &s, &d), 0);
	assert_int_equal(pii_scan(&s, "axbxあx", 8, h, 4), 3);
	assert_int_equal(h[0].start, 1);
	assert_int_equal(h[1].start, 3);
	assert_int_equal(h[2].start, 7);
	assert_int_equal(h[2].cstart, 5);
	pii_free(&s);
	diag_free(&d);
}

static void
test_missing_and_unknown(void **state)
{
	struct pii_set s = {0};
	struct diags d = {0};

	(void)state;
	assert_int_equal(load_str("patterns:\n"
	    "  - id: phone\n"
	    "    regex: '\\d+'\n"
	    "colour: red\n", &s, &d), -1);
	print_diags(&d);
	assert_true(diags_have(&d, "t.yaml:3:5: unknown key \"regex\" in "
	    "pattern 1"));
	assert_true(diags_have(&d, "t.yaml:4:1: unknown key \"colour\""));
	assert_true(diags_have(&d, "t.yaml:2:5: missing \"label\""));
	assert_true(diags_have(&d, "t.yaml:2:5: missing \"pattern\""));
	assert_int_equal(diag_errors(&d), 4);
	diag_free(&d);

	assert_int_equal(load_str("allow: []\n", &s, &d), -1);
	assert_true(diags_have(&d, "missing \"patterns\""));
	diag_free(&d);

	assert_int_equal(load_str("patterns:\n"
	    "  - {id: a, label: '', pattern: x}\n"
	    "  - {id: b, label: , pattern: x}\n", &s, &d), -1);
	assert_true(diags_have(&d, "t.yaml:2:20: \"label\" is empty"));
	assert_true(diags_have(&d, "t.yaml:3:"));
	assert_int_equal(diag_errors(&d), 2);
	diag_free(&d);
}

static void
test_wrong_types(void **state)
{
	struct pii_set s = {0};
	struct diags d = {0};

	(void)state;
	assert_int_equal(load_str("patterns: phone\n", &s, &d), -1);
	assert_true(diags_have(&d, "t.yaml:1:11: \"patterns\" must be a list"));
	diag_free(&d);

	assert_int_equal(load_str("patterns:\n  phone: x\n", &s, &d), -1);
	assert_true(diags_have(&d, "t.yaml:2:3: \"patterns\" must be a list"));
	diag_free(&d);

	assert_int_equal(load_str("patterns:\n  - just a string\n"
	    "  - [a, list]\n", &s, &d), -1);
	assert_true(diags_have(&d, "t.yaml:2:5: pattern 1 must be a map"));
	assert_true(diags_have(&d, "t.yaml:3:5: pattern 2 must be a map"));
	diag_free(&d);

	assert_int_equal(load_str("- a\n- b\n", &s, &d), -1);
	assert_true(diags_have(&d, "pii rules must be a map"));
	diag_free(&d);

	assert_int_equal(load_str("patterns:\n"
	    "  - {id: x, label: [a], pattern: {p: 1}}\n", &s, &d), -1);
	assert_true(diags_have(&d, "\"label\" must be a value"));
	assert_true(diags_have(&d, "\"pattern\" must be a value"));
	diag_free(&d);

	/* An empty list loads, with a warning. */
	assert_int_equal(load_str("patterns: []\n", &s, &d), 0);
	assert_int_equal(d.warnings, 1);
	assert_int_equal(pii_scan(&s, "090-1234-5678", 13, NULL, 0), 0);
	pii_free(&s);
	diag_free(&d);
}

static void
test_ids(void **state)
{
	struct pii_set s = {0};
	struct diags d = {0};

	(void)state;
	assert_int_equal(load_str("patterns:\n"
	    "  - {id: tel, label: a, pattern: x}\n"
	    "  - {id: tel, label: b, pattern: y}\n"
	    "  - {id: Tel No, label: c, pattern: z}\n", &s, &d), -1);
	print_diags(&d);
	assert_true(diags_have(&d, "t.yaml:3:10: duplicate id \"tel\""));
	assert_true(diags_have(&d, "t.yaml:4:10: id \"Tel No\" must be"));
	assert_int_equal(diag_errors(&d), 2);
	pii_free(&s);
	diag_free(&d);
}

static void
test_allow(void **state)
{
	struct pii_set s = {0};
	struct diags d = {0};
	struct pii_hit h[4];
	const char *t;

	(void)state;
	assert_int_equal(load_str("patterns:\n"
	    "  - {id: phone, label: 電話番号, pattern: '0\\d{1,4}-?\\d{1,4}-?\\d{4}'}\n"
	    "  - {id: email, label: メール, pattern: '[A-Za-z.]+@[A-Za-z.]+'}\n"
	    "allow:\n"
	    "  - 0256-34-5511\n"
	    "  - Bousai@City.Example.jp\n", &s, &d), 0);
	t = "防災課 0256-34-5511、bousai@city.example.jp";
	assert_int_equal(pii_scan(&s, t, strlen(t), h, 4), 0);
	t = "防災課 ０２５６ー３４ー５５１１";
	pii_free(&s);
	assert_int_equal(load_str("patterns:\n"
	    "  - {id: phone, label: 電話番号, pattern: '0\\d{1,4}\\D?\\d{1,4}\\D?\\d{4}'}\n"
	    "allow: '0256-34-5511'\n", &s, &d), 0);
	assert_int_equal(pii_scan(&s, t, strlen(t), h, 4), 0);
	t = "自宅 0256-34-5512";
	assert_int_equal(pii_scan(&s, t, strlen(t), h, 4), 1);
	pii_free(&s);

	assert_int_equal(load_str("patterns: []\nallow: ['--']\n", &s, &d), -1);
	assert_true(diags_have(&d, "\"allow\" item 1 is empty"));
	diag_free(&d);
}

static void
test_load_file(void **state)
{
	struct pii_set s = {0};
	struct diags d = {0};

	(void)state;
	assert_int_equal(pii_load("/nonexistent/pii.yaml", &s, &d), -1);
	assert_true(diags_have(&d, "/nonexistent/pii.yaml: cannot read"));
	assert_null(s.rules);
	pii_free(&s);
	pii_free(&s);
	pii_free(NULL);
	diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_rules),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_phone_span),
		cmocka_unit_test(test_mynumber),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_birthdate),
		cmocka_unit_test(test_clean_alerts),
		cmocka_unit_test(test_many_hits),
		cmocka_unit_test(test_hostile_text),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_describe_long_span),
		cmocka_unit_test(test_bad_regex),
		cmocka_unit_test(test_empty_match),
		cmocka_unit_test(test_missing_and_unknown),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_allow),
		cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
