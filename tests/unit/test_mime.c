/*
 * test_mime.c: lib/mime.c: RFC 2047 headers and their folding, base64 body
 * lines, the whole message, form and path encoding.
 *
 * Must never: derive an expected value with the code under test. The
 * encoded-word literals below were decoded with Python's
 * email.header.decode_header and the whole message parsed with
 * email.message_from_bytes (policy=default) before they were written here;
 * base64 values are checked against Python's base64 module.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mime.h"

/* Every line ends in CRLF, and none is longer than 76 characters. */
static void
assert_lines(const char *s)
{
	const char *p = s;

	while (*p) {
		const char *crlf = strstr(p, "\r\n");
		assert_non_null(crlf);
		if ((size_t)(crlf - p) > MIME_LINE_MAX)
			fail_msg("line of %zu characters: %.*s",
			    (size_t)(crlf - p), (int)(crlf - p), p);
		assert_null(memchr(p, '\n', (size_t)(crlf - p)));
		p = crlf + 2;
	}
}

static void
test_header_plain(void **state)
{
	struct buf b = {0};

	(void)state;
	mime_header(&b, "Subject", "Plain ascii subject", NULL);
	assert_string_equal(b.data, "Subject: Plain ascii subject\r\n");
	buf_free(&b);
	/* Something that looks like an encoded word is encoded itself. */
	mime_header(&b, "Subject", "=?x?", NULL);
	assert_string_equal(b.data, "Subject: =?UTF-8?B?PT94Pw==?=\r\n");
	buf_free(&b);
	/* ASCII that would not fit is encoded and folded too. */
	char long_ascii[200];
	memset(long_ascii, 'a', sizeof(long_ascii) - 1);
	long_ascii[sizeof(long_ascii) - 1] = '\0';
	mime_header(&b, "Subject", long_ascii, NULL);
	assert_lines(b.data);
	assert_true(strncmp(b.data, "Subject: =?UTF-8?B?", 19) == 0);
	buf_free(&b);
}

static void
test_header_japanese(void **state)
{
	struct buf b = {0};

	(void)state;
	mime_header(&b, "Subject", "【訓練】【避難所開設要請】 〇〇町 "
	    "第1避難所を開設してください。至急参集をお願いします", NULL);
	/* Three words of whole characters, folded with CRLF SP. */
	assert_string_equal(b.data,
	    "Subject: =?UTF-8?B?44CQ6KiT57e044CR44CQ6YG/6Zuj5omA6ZaL6Kit6KaB6KuL44CR?=\r\n"
	    " =?UTF-8?B?IOOAh+OAh+eUuiDnrKwx6YG/6Zuj5omA44KS6ZaL6Kit44GX44Gm44GP44Gg?=\r\n"
	    " =?UTF-8?B?44GV44GE44CC6Iez5oCl5Y+C6ZuG44KS44GK6aGY44GE44GX44G+44GZ?=\r\n");
	assert_lines(b.data);
	buf_free(&b);

	/* A mailbox: the encoded display name, then the address. */
	mime_header(&b, "To", "安平 一郎", "mayor@town.example");
	assert_string_equal(b.data,
	    "To: =?UTF-8?B?5a6J5bmzIOS4gOmDjg==?= <mayor@town.example>\r\n");
	buf_free(&b);

	/* An address that does not fit goes on its own line. */
	mime_header(&b, "To", "安平 一郎",
	    "a-very-long-mailbox-name-for-testing.folding@a-long-domain.example");
	assert_lines(b.data);
	assert_non_null(strstr(b.data, "?=\r\n <a-very-long"));
	buf_free(&b);
}

static void
test_header_boundaries(void **state)
{
	struct buf b = {0};
	char text[400] = "";

	(void)state;
	/* Every length of a run of 3-byte characters: always whole
	 * characters per word (each word's base64 decodes to a multiple of
	 * 3 bytes here, i.e. its length without padding is a multiple of 4),
	 * and never a line over 76. */
	for (int n = 1; n < 100; n++) {
		strcat(text, "あ");
		mime_header(&b, "Subject", text, NULL);
		assert_lines(b.data);
		for (const char *w = strstr(b.data, "=?UTF-8?B?"); w != NULL;
		    w = strstr(w + 1, "=?UTF-8?B?")) {
			const char *end = strstr(w + 10, "?=");
			assert_non_null(end);
			assert_int_equal((end - (w + 10)) % 4, 0);
			assert_null(memchr(w + 10, '=', (size_t)(end - (w + 10))));
		}
		buf_free(&b);
	}
	/* A long header name still gives lines within the limit. */
	mime_header(&b, "X-A-Very-Long-Header-Name-That-Takes-Most-Of-The-Line-"
	    "Already", "日本語", NULL);
	assert_lines(b.data);
	buf_free(&b);
}

static void
test_base64_lines(void **state)
{
	struct buf b = {0};
	uint8_t data[200];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	mime_base64_lines(&b, data, sizeof(data));
	assert_lines(b.data);
	/* 200 bytes: 3 full lines of 57 bytes (76 chars) and 29 bytes. */
	assert_int_equal(b.len, 3 * 78 + 40 + 2);
	assert_true(strncmp(b.data, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"
	    "ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\r\n", 78) == 0);
	buf_free(&b);
	mime_base64_lines(&b, "", 0);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void
test_date(void **state)
{
	char d[64];

	(void)state;
	mime_date(1732125845, d, sizeof(d));	/* 2024-11-20T18:04:05Z */
	assert_string_equal(d, "Thu, 21 Nov 2024 03:04:05 +0900");
}

static void
test_message(void **state)
{
	struct mime_msg m = {
		.date = 1732125845,
		.from_name = "〇〇町", .from_addr = "alert@town.example",
		.to_name = "安平 一郎", .to_addr = "mayor@town.example",
		.subject = "【情報共有】 〇〇町",
		.message_id = "crisiscast.alert.12@town.example",
		.body = "本文です。\n確認はこちら: http://x/r/abc\n",
	};
	char *s;

	(void)state;
	s = mime_message(&m);
	assert_lines(s);
	assert_string_equal(s,
	    "Date: Thu, 21 Nov 2024 03:04:05 +0900\r\n"
	    "From: =?UTF-8?B?44CH44CH55S6?= <alert@town.example>\r\n"
	    "To: =?UTF-8?B?5a6J5bmzIOS4gOmDjg==?= <mayor@town.example>\r\n"
	    "Subject: =?UTF-8?B?44CQ5oOF5aCx5YWx5pyJ44CRIOOAh+OAh+eUug==?=\r\n"
	    "Message-ID: <crisiscast.alert.12@town.example>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n"
	    "5pys5paH44Gn44GZ44CCDQrnorroqo3jga/jgZPjgaHjgok6IGh0dHA6Ly94L3IvYWJjDQo=\r\n");
	free(s);
	/* No names: bare mailboxes. */
	m.from_name = NULL;
	m.to_name = "";
	s = mime_message(&m);
	assert_non_null(strstr(s, "\r\nFrom: <alert@town.example>\r\n"));
	assert_non_null(strstr(s, "\r\nTo: <mayor@town.example>\r\n"));
	free(s);
}

static void
test_form(void **state)
{
	struct buf b = {0};

	(void)state;
	form_add(&b, "To", "+819000000001");
	form_add(&b, "Body", "【情報】 a&b=c");
	form_add(&b, "grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");
	/* Python: urllib.parse.urlencode(..., quote_via=quote_plus) with
	 * safe="-._~" gives the same. */
	assert_string_equal(b.data, "To=%2B819000000001"
	    "&Body=%E3%80%90%E6%83%85%E5%A0%B1%E3%80%91+a%26b%3Dc"
	    "&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer");
	buf_free(&b);
	url_path_escape(&b, "mayor@town.example");
	assert_string_equal(b.data, "mayor%40town.example");
	buf_free(&b);
	url_path_escape(&b, "a b/c");
	assert_string_equal(b.data, "a%20b%2Fc");
	buf_free(&b);
	url_path_escape(&b, "");
	assert_string_equal(b.data, "");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_plain),
		cmocka_unit_test(test_header_japanese),
		cmocka_unit_test(test_header_boundaries),
		cmocka_unit_test(test_base64_lines),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_form),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
