/*
 * test_util.c: lib/util.c: buffers, diagnostics, durations, integers,
 * Japan-time parsing and formatting, UTF-8 checks, paths and read_file.
 *
 * Must never: derive an expected value with the code under test. Epoch
 * seconds below were computed with date(1) (`date -u -d ... +%s`), not with
 * parse_time_jst. Must not depend on today's date or the time zone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "util.h"

static void
test_buf(void **state)
{
	struct buf b = {0};
	char *s;

	(void)state;
	/* An untouched buffer still gives a string. */
	s = buf_take(&b);
	assert_string_equal(s, "");
	free(s);

	buf_adds(&b, "abc");
	buf_addc(&b, '-');
	buf_add(&b, "xyz123", 3);
	buf_printf(&b, "%d/%s", 42, "ok");
	assert_int_equal(b.len, 12);
	assert_string_equal(b.data, "abc-xyz42/ok");
	assert_true(b.cap > b.len);
	/* Zero bytes add nothing but keep the NUL. */
	buf_add(&b, NULL, 0);
	assert_int_equal(b.len, 12);
	assert_int_equal(b.data[12], '\0');
	/* Embedded NUL bytes are kept; len counts them. */
	buf_add(&b, "\0z", 2);
	assert_int_equal(b.len, 14);
	assert_int_equal(b.data[12], '\0');
	assert_int_equal(b.data[13], 'z');
	assert_int_equal(b.data[14], '\0');
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	buf_free(&b);	/* twice is harmless */

	/* Growth over many doublings keeps every byte. */
	for (int i = 0; i < 10000; i++)
		buf_addc(&b, (char)('a' + i % 26));
	assert_int_equal(b.len, 10000);
	assert_int_equal(strlen(b.data), 10000);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(b.data[i], 'a' + i % 26);
	s = buf_take(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	free(s);

	/* A long printf. */
	buf_printf(&b, "%5000d|", 7);
	assert_int_equal(b.len, 5001);
	assert_int_equal(b.data[4999], '7');
	assert_int_equal(b.data[5000], '|');
	buf_free(&b);

	s = xasprintf("%s:%d", "x", -3);
	assert_string_equal(s, "x:-3");
	free(s);
	s = xstrndup("abcdef", 3);
	assert_string_equal(s, "abc");
	free(s);
}

static void
test_diag(void **state)
{
	struct diags d = {0};

	(void)state;
	diag_add(&d, "f.yaml", 1, 2, "bad %s", "thing");
	diag_warn(&d, "f.yaml", 3, 4, "odd");
	diag_add(&d, "f.yaml", 5, 0, "no column");
	diag_add(&d, "f.yaml", 0, 7, "no line");
	diag_add(&d, NULL, 1, 1, "no file");
	diag_warn(&d, "", 0, 0, "bare");
	assert_int_equal(d.n, 6);
	assert_int_equal(d.warnings, 2);
	assert_int_equal(diag_errors(&d), 4);
	assert_string_equal(d.msgs[0], "f.yaml:1:2: bad thing");
	assert_string_equal(d.msgs[1], "f.yaml:3:4: warning: odd");
	assert_string_equal(d.msgs[2], "f.yaml:5: no column");
	assert_string_equal(d.msgs[3], "f.yaml: no line");
	assert_string_equal(d.msgs[4], "no file");
	assert_string_equal(d.msgs[5], "warning: bare");
	diag_free(&d);
	assert_int_equal(d.n, 0);
	assert_int_equal(d.warnings, 0);
	assert_null(d.msgs);
	assert_int_equal(diag_errors(&d), 0);
	diag_free(&d);
}

static void
expect_duration(const char *s, long want)
{
	long got = -12345;

	if (parse_duration(s, &got) != 0)
		fail_msg("parse_duration(\"%s\") failed", s);
	assert_int_equal(got, want);
}

static void
expect_bad_duration(const char *s)
{
	long got = -12345;

	if (parse_duration(s, &got) != -1)
		fail_msg("parse_duration(\"%s\") accepted: %ld", s ? s : "NULL",
		    got);
	assert_int_equal(got, -12345);	/* untouched */
}

static void
test_parse_duration(void **state)
{
	(void)state;
	expect_duration("90s", 90);
	expect_duration("10m", 600);
	expect_duration("1h30m", 5400);
	expect_duration("2d", 172800);
	expect_duration("45", 45);
	expect_duration("0", 0);
	expect_duration("0s", 0);
	expect_duration("1d2h3m4s", 93784);
	expect_duration("1m30s", 90);
	expect_duration("366d", 366L * 86400);		/* a leap year */
	expect_duration("31622400", 31622400);
	expect_duration("0001h", 3600);

	expect_bad_duration(NULL);
	expect_bad_duration("");
	expect_bad_duration("1h30");		/* ambiguous */
	expect_bad_duration("5x");
	expect_bad_duration("-1");
	expect_bad_duration("-1s");
	expect_bad_duration("+1s");
	expect_bad_duration(" 1s");
	expect_bad_duration("1s ");
	expect_bad_duration("1 s");
	expect_bad_duration("h");
	expect_bad_duration("1H");
	expect_bad_duration("1.5h");
	expect_bad_duration("367d");		/* over a year */
	expect_bad_duration("366d1s");
	expect_bad_duration("31622401");
	expect_bad_duration("8785h");
	expect_bad_duration("99999999999999999999999s");	/* no overflow */
	expect_bad_duration("200d200d");
	expect_bad_duration("1ms");
	expect_bad_duration("\xe5\x88\x86");
}

static void
test_format_duration(void **state)
{
	static const struct { long secs; const char *text; } v[] = {
		{ 0, "0s" }, { -5, "0s" }, { 1, "1s" }, { 45, "45s" },
		{ 60, "1m" }, { 90, "1m30s" }, { 600, "10m" }, { 3600, "1h" },
		{ 5400, "1h30m" }, { 86400, "1d" }, { 172800, "2d" },
		{ 93784, "1d2h3m4s" }, { 86401, "1d1s" }, { 3660, "1h1m" },
		{ 366L * 86400, "366d" },
	};
	char out[32];
	long back;

	(void)state;
	for (size_t i = 0; i < nitems(v); i++) {
		format_duration(v[i].secs, out, sizeof(out));
		assert_string_equal(out, v[i].text);
		if (v[i].secs >= 0) {
			assert_int_equal(parse_duration(out, &back), 0);
			assert_int_equal(back, v[i].secs);
		}
	}
	/* Every value up to two days round-trips (sampled). */
	for (long s = 0; s <= 2 * 86400; s += 37) {
		format_duration(s, out, sizeof(out));
		assert_int_equal(parse_duration(out, &back), 0);
		assert_int_equal(back, s);
	}
	/* A small buffer is cut and NUL-terminated. */
	memset(out, 'x', sizeof(out));
	format_duration(93784, out, 4);
	assert_string_equal(out, "1d2");
}

static void
test_parse_long(void **state)
{
	long v = 99;

	(void)state;
	assert_int_equal(parse_long("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_long("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(parse_long("-5", -5, 5, &v), 0);
	assert_int_equal(v, -5);
	v = 99;
	assert_int_equal(parse_long("11", 0, 10, &v), -1);
	assert_int_equal(parse_long("-6", -5, 5, &v), -1);
	assert_int_equal(parse_long("", 0, 10, &v), -1);
	assert_int_equal(parse_long(NULL, 0, 10, &v), -1);
	assert_int_equal(parse_long(" 1", 0, 10, &v), -1);
	assert_int_equal(parse_long("1 ", 0, 10, &v), -1);
	assert_int_equal(parse_long("1x", 0, 10, &v), -1);
	assert_int_equal(parse_long("0x1", 0, 10, &v), -1);
	assert_int_equal(parse_long("1.0", 0, 10, &v), -1);
	assert_int_equal(parse_long("99999999999999999999999", 0, LONG_MAX,
	    &v), -1);
	assert_int_equal(parse_long("-99999999999999999999999", LONG_MIN, 0,
	    &v), -1);
	assert_int_equal(v, 99);	/* untouched by failures */
	assert_int_equal(parse_long("9223372036854775807", 0, LONG_MAX, &v), 0);
	assert_int_equal(v, LONG_MAX);
}

static void
expect_time(const char *s, long long want)
{
	time_t t = 0;

	if (parse_time_jst(s, &t) != 0)
		fail_msg("parse_time_jst(\"%s\") failed", s);
	if ((long long)t != want)
		fail_msg("parse_time_jst(\"%s\") = %lld, want %lld", s,
		    (long long)t, want);
}

static void
expect_bad_time(const char *s)
{
	time_t t = 4242;

	if (parse_time_jst(s, &t) != -1)
		fail_msg("parse_time_jst(\"%s\") accepted", s ? s : "NULL");
	assert_int_equal(t, 4242);
}

static void
test_parse_time(void **state)
{
	(void)state;
	/* date -u -d 2026-11-21T00:00:00+09:00 +%s */
	expect_time("2026-11-21", 1795186800);
	expect_time("2026-11-21T00:00", 1795186800);
	expect_time("2026-11-21T03:04:05", 1795197845);
	expect_time("2026-11-21 03:04:05", 1795197845);
	expect_time("2026-11-21T03:04:05+09:00", 1795197845);
	expect_time("2026-11-21T03:04Z", 1795230240);
	expect_time("2026-11-21T03:04:00+05:30", 1795210440);
	expect_time("2026-11-21T03:04:00-03:00", 1795241040);
	expect_time("2000-01-01T00:00:00Z", 946684800);
	expect_time("2000-01-01T09:00:00", 946684800);
	expect_time("1970-01-01T09:00", 0);
	expect_time("2024-02-29T12:00", 1709175600);
	expect_time("2000-02-29", 951750000);		/* 400-year leap */
	expect_time("2038-01-19T03:14:08Z", 2147483648LL);
	expect_time("2100-03-01", 4107510000LL);

	expect_bad_time(NULL);
	expect_bad_time("");
	expect_bad_time("2026");
	expect_bad_time("2026-11");
	expect_bad_time("2026-11-2");
	expect_bad_time("2026-1-21");
	expect_bad_time("26-11-21");
	expect_bad_time("2026/11/21");
	expect_bad_time("2026-11-21T");
	expect_bad_time("2026-11-21T3:04");
	expect_bad_time("2026-11-21T03");
	expect_bad_time("2026-11-21T03:4");
	expect_bad_time("2026-11-21T03:04:5");
	expect_bad_time("2026-11-21T24:00");
	expect_bad_time("2026-11-21T23:60");
	expect_bad_time("2026-11-21T23:59:61");
	expect_bad_time("2026-11-21T03:04+09");
	expect_bad_time("2026-11-21T03:04+0900");
	expect_bad_time("2026-11-21T03:04+15:00");
	expect_bad_time("2026-11-21T03:04+09:60");
	expect_bad_time("2026-11-21T03:04z");
	expect_bad_time("2026-11-21T03:04:05Zjunk");
	expect_bad_time("2026-11-21x");
	expect_bad_time("2026-11-21 ");
	expect_bad_time("2026-00-10");
	expect_bad_time("2026-13-10");
	expect_bad_time("2026-11-00");
	expect_bad_time("2026-11-31");
	expect_bad_time("2026-04-31");
	expect_bad_time("2026-01-32");
	expect_bad_time("2025-02-29");		/* not a leap year */
	expect_bad_time("2100-02-29");		/* century, not leap */
	expect_bad_time("2026-02-30");
	expect_bad_time("２０２６-11-21");
	expect_bad_time("garbage");
	expect_bad_time("\xff\xfe\xfd\xfc-11-21");
}

static void
test_format_time(void **state)
{
	char out[64];
	time_t back;

	(void)state;
	format_time_jst(0, out, sizeof(out));
	assert_string_equal(out, "1970-01-01T09:00:00+09:00");
	format_time_jst(1795197845, out, sizeof(out));
	assert_string_equal(out, "2026-11-21T03:04:05+09:00");
	format_time_jst(1795186799, out, sizeof(out));
	assert_string_equal(out, "2026-11-20T23:59:59+09:00");
	format_time_jst(1709175600, out, sizeof(out));
	assert_string_equal(out, "2024-02-29T12:00:00+09:00");
	/* Round trip. */
	for (long long t = 946684800; t < 4107510000LL; t += 7777777) {
		format_time_jst((time_t)t, out, sizeof(out));
		assert_int_equal(strlen(out), 25);
		assert_true(strcmp(out + 19, "+09:00") == 0);
		assert_int_equal(parse_time_jst(out, &back), 0);
		assert_int_equal((long long)back, t);
	}
	/* jst_tm: Saturday 2026-11-21 03:04:05 JST. */
	struct tm tm;
	jst_tm(1795197845, &tm);
	assert_int_equal(tm.tm_year, 126);
	assert_int_equal(tm.tm_mon, 10);
	assert_int_equal(tm.tm_mday, 21);
	assert_int_equal(tm.tm_hour, 3);
	assert_int_equal(tm.tm_min, 4);
	assert_int_equal(tm.tm_sec, 5);
	assert_int_equal(tm.tm_wday, 6);
}

static void
test_utf8(void **state)
{
	static const struct { const char *s; size_t len; bool ok; } v[] = {
		{ "", 0, true },
		{ "plain ascii", 11, true },
		{ "避難所", 9, true },
		{ "\xc2\x80", 2, true },		/* U+0080 */
		{ "\xdf\xbf", 2, true },		/* U+07FF */
		{ "\xe0\xa0\x80", 3, true },		/* U+0800 */
		{ "\xef\xbf\xbf", 3, true },		/* U+FFFF */
		{ "\xed\x9f\xbf", 3, true },		/* U+D7FF */
		{ "\xee\x80\x80", 3, true },		/* U+E000 */
		{ "\xf0\x90\x80\x80", 4, true },	/* U+10000 */
		{ "\xf4\x8f\xbf\xbf", 4, true },	/* U+10FFFF */
		{ "\xf0\xa0\xae\xb7", 4, true },	/* 𠮷 */
		{ "a\0b", 3, true },			/* NUL is a character */
		/* Overlongs. */
		{ "\xc0\x80", 2, false },
		{ "\xc1\xbf", 2, false },
		{ "\xe0\x80\x80", 3, false },
		{ "\xe0\x9f\xbf", 3, false },
		{ "\xf0\x80\x80\x80", 4, false },
		{ "\xf0\x8f\xbf\xbf", 4, false },
		/* Surrogates. */
		{ "\xed\xa0\x80", 3, false },		/* U+D800 */
		{ "\xed\xbf\xbf", 3, false },		/* U+DFFF */
		{ "\xed\xa0\xbd\xed\xb8\x80", 6, false }, /* CESU pair */
		/* Above U+10FFFF and 5/6-byte forms. */
		{ "\xf4\x90\x80\x80", 4, false },
		{ "\xf7\xbf\xbf\xbf", 4, false },
		{ "\xf8\x88\x80\x80\x80", 5, false },
		{ "\xfc\x84\x80\x80\x80\x80", 6, false },
		/* Truncated. */
		{ "\xc2", 1, false },
		{ "\xe3\x81", 2, false },
		{ "\xf0\x9f\x98", 3, false },
		{ "ok\xe3", 3, false },
		/* Lone continuation bytes and bad follow bytes. */
		{ "\x80", 1, false },
		{ "\xbf", 1, false },
		{ "a\x80z", 3, false },
		{ "\xe3\x41\x81", 3, false },
		{ "\xc2\xc2\x80", 3, false },
		{ "\xfe", 1, false },
		{ "\xff", 1, false },
	};

	(void)state;
	for (size_t i = 0; i < nitems(v); i++)
		if (utf8_valid(v[i].s, v[i].len) != v[i].ok)
			fail_msg("utf8_valid case %zu: want %d", i, v[i].ok);
	/* Length is respected: a valid prefix of an invalid string. */
	assert_true(utf8_valid("ab\xff", 2));
	assert_false(utf8_valid("\xe9\x81\xbf", 2));
	assert_true(utf8_valid("\xe9\x81\xbf", 3));

	assert_int_equal(utf8_count("", 0), 0);
	assert_int_equal(utf8_count("abc", 3), 3);
	assert_int_equal(utf8_count("避難所", 9), 3);
	assert_int_equal(utf8_count("a避\xf0\xa0\xae\xb7z", 9), 4);
	assert_int_equal(utf8_count("【避難所開設要請】", 27), 9);
}

static void
test_startswith_path(void **state)
{
	char *p;

	(void)state;
	assert_true(startswith("abc", ""));
	assert_true(startswith("abc", "ab"));
	assert_true(startswith("abc", "abc"));
	assert_false(startswith("abc", "abcd"));
	assert_false(startswith("abc", "b"));

	p = path_join("/etc/crisiscast", "rules");
	assert_string_equal(p, "/etc/crisiscast/rules");
	free(p);
	p = path_join("/etc/crisiscast", "/var/lib/x");
	assert_string_equal(p, "/var/lib/x");
	free(p);
	p = path_join("", "rules");
	assert_string_equal(p, "rules");
	free(p);
	p = path_join(NULL, "rules");
	assert_string_equal(p, "rules");
	free(p);
	p = path_join(".", "a/b");
	assert_string_equal(p, "./a/b");
	free(p);
}

static void
test_read_file(void **state)
{
	char dir[] = "/tmp/test_util-XXXXXX";
	char *path, *s, *big;
	size_t len = 99;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/f.txt", dir);
	big = xmalloc(20000);
	for (size_t i = 0; i < 20000; i++)
		big[i] = (char)('A' + i % 23);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(big, 1, 20000, f), 20000);
	assert_int_equal(fclose(f), 0);

	/* Exactly at the limit is fine. */
	assert_non_null(s = read_file(path, 20000, &len));
	assert_int_equal(len, 20000);
	assert_memory_equal(s, big, 20000);
	assert_int_equal(s[20000], '\0');
	free(s);
	assert_non_null(s = read_file(path, 1 << 20, NULL));
	free(s);
	/* One byte over is EFBIG, at any read size. */
	errno = 0;
	assert_null(read_file(path, 19999, &len));
	assert_int_equal(errno, EFBIG);
	errno = 0;
	assert_null(read_file(path, 100, &len));
	assert_int_equal(errno, EFBIG);

	/* Missing file and a directory. */
	errno = 0;
	char *missing = xasprintf("%s/nope", dir);
	assert_null(read_file(missing, 100, &len));
	assert_int_equal(errno, ENOENT);
	free(missing);
	errno = 0;
	assert_null(read_file(dir, 100, &len));
	assert_int_equal(errno, EISDIR);

	/* Empty file. */
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fclose(f), 0);
	assert_non_null(s = read_file(path, 0, &len));
	assert_int_equal(len, 0);
	assert_string_equal(s, "");
	free(s);

	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	free(path);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_diag),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_startswith_path),
		cmocka_unit_test(test_read_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
