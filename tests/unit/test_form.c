/*
 * test_form.c: lib/form.c, the strict application/x-www-form-urlencoded
 * parser behind every POST the daemon takes.
 *
 * Must never: accept a body a browser would not send, or build an
 * expected value with the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "form.h"
#include "util.h"

/* Parses s, expecting success. */
static void
parse_ok(const char *s, struct form *f)
{
	char err[128] = "";

	if (form_parse(s, strlen(s), f, err, sizeof(err)) != 0)
		fail_msg("\"%s\": unexpected error: %s", s, err);
}

/* Parses s, expecting an error whose text holds want. */
static void
parse_bad(const char *s, size_t len, const char *want)
{
	struct form f;
	char err[128] = "";

	if (form_parse(s, len, &f, err, sizeof(err)) == 0)
		fail_msg("\"%.*s\": accepted", (int)len, s);
	assert_int_equal(f.n, 0);
	assert_null(f.v);
	if (strstr(err, want) == NULL)
		fail_msg("\"%.*s\": error \"%s\" lacks \"%s\"", (int)len, s,
		    err, want);
}

static void
test_basic(void **state)
{
	struct form f;

	(void)state;
	parse_ok("action=approve&nonce=abc-_123&reason=", &f);
	assert_int_equal(f.n, 3);
	assert_string_equal(form_get(&f, "action"), "approve");
	assert_string_equal(form_get(&f, "nonce"), "abc-_123");
	assert_string_equal(form_get(&f, "reason"), "");
	assert_null(form_get(&f, "missing"));
	form_free(&f);
	assert_int_equal(f.n, 0);

	parse_ok("", &f);
	assert_int_equal(f.n, 0);
	form_free(&f);
}

static void
test_decoding(void **state)
{
	struct form f;

	(void)state;
	/* '+' is a space, %2B a plus, %XX in either case. */
	parse_ok("reason=a+b%2Bc%2bd%20e", &f);
	assert_string_equal(form_get(&f, "reason"), "a b+c+d e");
	form_free(&f);
	/* 参集できる, percent-encoded UTF-8 as a browser sends it. */
	parse_ok("response=%E5%8F%82%E9%9B%86%E3%81%A7%E3%81%8D%E3%82%8B", &f);
	assert_string_equal(form_get(&f, "response"),
	    "\xe5\x8f\x82\xe9\x9b\x86\xe3\x81\xa7\xe3\x81\x8d\xe3\x82\x8b");
	form_free(&f);
	/* Raw UTF-8 as ntfy's action and curl -d send it. */
	parse_ok("response=\xe7\xa2\xba\xe8\xaa\x8d", &f);
	assert_string_equal(form_get(&f, "response"), "\xe7\xa2\xba\xe8\xaa\x8d");
	form_free(&f);
	/* A textarea's CRLF and a tab survive. */
	parse_ok("reason=a%0D%0Ab%09c", &f);
	assert_string_equal(form_get(&f, "reason"), "a\r\nb\tc");
	form_free(&f);
	/* Encoded '&' and '=' are data. */
	parse_ok("a=x%26y%3Dz", &f);
	assert_string_equal(form_get(&f, "a"), "x&y=z");
	form_free(&f);
}

static void
test_structure_errors(void **state)
{
	(void)state;
	parse_bad("a=1&&b=2", 8, "empty field");
	parse_bad("a=1&", 4, "empty field");
	parse_bad("&a=1", 4, "empty field");
	parse_bad("a", 1, "without '='");
	parse_bad("a=1&b", 5, "without '='");
	parse_bad("=1", 2, "field name");
	parse_bad("a b=1", 5, "space");
	parse_bad("a%21=1", 6, "field name");
	parse_bad("a=1&a=2", 7, "duplicate");
	parse_bad("a=1&b=2&a=", 10, "duplicate");
}

static void
test_escape_errors(void **state)
{
	(void)state;
	parse_bad("a=%", 3, "percent");
	parse_bad("a=%4", 4, "percent");
	parse_bad("a=%G0", 5, "percent");
	parse_bad("a=%0g", 5, "percent");
	parse_bad("a=%%41", 6, "percent");
	parse_bad("a=%00", 5, "NUL");
	parse_bad("a=x\0y", 5, "control");
	parse_bad("a=%01", 5, "control");
	parse_bad("a=%7F", 5, "control");
	parse_bad("a=x\ny", 5, "control");
	parse_bad("a=x y", 5, "space");
}

static void
test_utf8_errors(void **state)
{
	(void)state;
	parse_bad("a=%FF", 5, "UTF-8");
	parse_bad("a=%C3", 5, "UTF-8");			/* truncated */
	parse_bad("a=%C0%AF", 8, "UTF-8");		/* overlong '/' */
	parse_bad("a=%ED%A0%80", 11, "UTF-8");		/* surrogate */
	parse_bad("a=\xe3\x81", 4, "UTF-8");		/* raw, truncated */
	parse_bad("a%C3=1", 6, "UTF-8");
}

static void
test_limits(void **state)
{
	struct form f;
	struct buf b = {0};
	char err[128];

	(void)state;
	/* Exactly FORM_MAX_BYTES passes; one more byte fails. */
	buf_adds(&b, "reason=");
	while (b.len < FORM_MAX_BYTES)
		buf_addc(&b, 'x');
	assert_int_equal(form_parse(b.data, b.len, &f, err, sizeof(err)), 0);
	assert_int_equal(strlen(form_get(&f, "reason")), FORM_MAX_BYTES - 7);
	form_free(&f);
	buf_addc(&b, 'x');
	parse_bad(b.data, b.len, "over");
	buf_free(&b);

	/* FORM_MAX_FIELDS fields pass, one more fails. */
	for (int i = 0; i < FORM_MAX_FIELDS; i++)
		buf_printf(&b, "%sf%d=%d", i ? "&" : "", i, i);
	parse_ok(b.data, &f);
	assert_int_equal(f.n, FORM_MAX_FIELDS);
	form_free(&f);
	buf_adds(&b, "&extra=1");
	parse_bad(b.data, b.len, "too many");
	buf_free(&b);

	/* A name of FORM_MAX_NAME bytes passes, one more fails. */
	for (int i = 0; i < FORM_MAX_NAME; i++)
		buf_addc(&b, 'n');
	buf_adds(&b, "=1");
	parse_ok(b.data, &f);
	form_free(&f);
	buf_free(&b);
	for (int i = 0; i <= FORM_MAX_NAME; i++)
		buf_addc(&b, 'n');
	buf_adds(&b, "=1");
	parse_bad(b.data, b.len, "field name");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_decoding),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_escape_errors),
		cmocka_unit_test(test_utf8_errors),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
