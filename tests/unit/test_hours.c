/*
 * test_hours.c: lib/hours.c: loading and checking hours.yaml (the shipped
 * file and broken ones), hours_closed() at the edges of office hours and
 * on every kind of closed day, and hours_calendar().
 *
 * Must never: depend on the clock or the machine's time zone; every
 * instant is written out in Japan time or UTC.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hours.h"
#include "util.h"
#include "ydoc.h"

#define SHIPPED "rules/hours.yaml"

static const char good_doc[] =
    "timezone: Asia/Tokyo\n"
    "office_hours:\n"
    "  days: [mon, tue, wed, thu, fri]\n"
    "  open: \"08:30\"\n"
    "  close: \"17:15\"\n"
    "year_end_closure: {from: \"12-29\", to: \"01-03\"}\n"
    "closed_days:\n"
    "  - {date: 2026-06-01, name: 町制施行記念日}\n"
    "  - {date: \"10-01\", name: 町民の日}\n"
    "during_office_hours: refuse\n";

static time_t
at(const char *s)
{
	time_t t;

	assert_int_equal(parse_time_jst(s, &t), 0);
	return t;
}

/* Loads text as test.yaml; returns hours_from_yaml()'s result. */
static int
load_str(const char *text, struct hours *h, struct diags *d)
{
	struct ynode *root;
	int rc;

	memset(h, 0, sizeof(*h));
	root = yaml_load_string("test.yaml", text, strlen(text), d);
	if (root == NULL)
		return -1;
	rc = hours_from_yaml(root, h, d);
	ynode_free(root);
	return rc;
}

static void
dump(const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		print_message("diag: %s\n", d->msgs[i]);
}

/* true when some message starts with prefix and contains text. */
static bool
has_diag(const struct diags *d, const char *prefix, const char *text)
{
	for (size_t i = 0; i < d->n; i++)
		if (startswith(d->msgs[i], prefix) &&
		    strstr(d->msgs[i], text) != NULL)
			return true;
	return false;
}

/* true when every message is "file:LINE:COL: ..." with numbers > 0. */
static bool
all_positioned(const struct diags *d, const char *file)
{
	for (size_t i = 0; i < d->n; i++) {
		const char *p = d->msgs[i];
		int line = 0, col = 0, used = 0;

		if (!startswith(p, file) || p[strlen(file)] != ':')
			return false;
		p += strlen(file);
		if (sscanf(p, ":%d:%d: %n", &line, &col, &used) != 2 ||
		    used == 0 || line <= 0 || col <= 0)
			return false;
	}
	return true;
}

/* Loads text, expects failure with an error at pos containing text. */
static void
expect_error(const char *doc, const char *pos, const char *text)
{
	struct hours h;
	struct diags d = {0};

	assert_int_equal(load_str(doc, &h, &d), -1);
	if (!has_diag(&d, pos, text) || !all_positioned(&d, "test.yaml")) {
		dump(&d);
		fail_msg("no error \"%s...%s\"", pos, text);
	}
	assert_null(h.local);
	diag_free(&d);
}

static void
closed_is(const struct hours *h, const char *when, bool closed,
    const char *reason)
{
	char why[128];

	if (hours_closed(h, at(when), why, sizeof(why)) != closed)
		fail_msg("%s: expected %s (%s), got \"%s\"", when,
		    closed ? "closed" : "open", reason, why);
	assert_string_equal(why, reason);
}

static void
test_load_shipped(void **state)
{
	struct hours h;
	struct diags d = {0};

	(void)state;
	if (hours_load(SHIPPED, &h, &d) != 0) {
		dump(&d);
		fail();
	}
	assert_int_equal(d.n, 0);
	assert_int_equal(h.open_days, 0x3e);	/* mon-fri */
	assert_int_equal(h.open, 8 * 60 + 30);
	assert_int_equal(h.close, 17 * 60 + 15);
	assert_true(h.year_end);
	assert_int_equal(h.ye_from, 1229);
	assert_int_equal(h.ye_to, 103);
	assert_int_equal(h.policy, HOURS_WARN);
	assert_string_equal(hours_policy_name(h.policy), "warn");
	hours_free(&h);
	hours_free(&h);
}

static void
test_load_inline(void **state)
{
	struct hours h;
	struct diags d = {0};

	(void)state;
	assert_int_equal(load_str(good_doc, &h, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(h.nlocal, 2);
	assert_int_equal(h.local[0].year, 2026);
	assert_int_equal(h.local[1].year, 0);
	assert_string_equal(h.local[1].name, "町民の日");
	assert_int_equal(h.policy, HOURS_REFUSE);
	hours_free(&h);
	diag_free(&d);
}

static void
test_closed_office_hours(void **state)
{
	struct hours h;
	struct diags d = {0};

	(void)state;
	assert_int_equal(hours_load(SHIPPED, &h, &d), 0);
	/* Wednesday 2026-11-25. */
	closed_is(&h, "2026-11-25T10:00", false, "開庁時間中");
	closed_is(&h, "2026-11-25T01:00:00Z", false, "開庁時間中");
	closed_is(&h, "2026-11-25T08:29:59", true,
	    "閉庁時間帯（08:30より前）");
	closed_is(&h, "2026-11-25T08:30", false, "開庁時間中");
	closed_is(&h, "2026-11-25T17:14:59", false, "開庁時間中");
	closed_is(&h, "2026-11-25T17:15", true, "閉庁時間帯（17:15以降）");
	closed_is(&h, "2026-11-25T23:59", true, "閉庁時間帯（17:15以降）");
	closed_is(&h, "2026-11-25T00:00", true, "閉庁時間帯（08:30より前）");
	/* 2026-11-24T23:30Z is 08:30 on the 25th in Japan. */
	closed_is(&h, "2026-11-24T23:30:00Z", false, "開庁時間中");
	closed_is(&h, "2026-11-24T23:29:00Z", true,
	    "閉庁時間帯（08:30より前）");
	hours_free(&h);
}

static void
test_closed_days(void **state)
{
	struct hours h;
	struct diags d = {0};

	(void)state;
	assert_int_equal(hours_load(SHIPPED, &h, &d), 0);
	closed_is(&h, "2026-11-28T10:00", true, "土曜日");
	closed_is(&h, "2026-11-29T10:00", true, "日曜日");
	closed_is(&h, "2026-11-03T10:00", true, "国民の祝日（文化の日）");
	closed_is(&h, "2026-11-23T10:00", true, "国民の祝日（勤労感謝の日）");
	closed_is(&h, "2026-05-06T10:00", true, "振替休日");
	closed_is(&h, "2026-09-22T10:00", true, "国民の休日");
	closed_is(&h, "2026-12-28T10:00", false, "開庁時間中");
	closed_is(&h, "2026-12-29T10:00", true, "年末年始の閉庁日");
	closed_is(&h, "2026-12-30T10:00", true, "年末年始の閉庁日");
	closed_is(&h, "2027-01-01T10:00", true, "国民の祝日（元日）");
	closed_is(&h, "2027-01-02T10:00", true, "年末年始の閉庁日");
	closed_is(&h, "2027-01-03T10:00", true, "年末年始の閉庁日");
	closed_is(&h, "2027-01-04T10:00", false, "開庁時間中");
	/* Unknown years: no holidays, the rest still applies. */
	closed_is(&h, "2100-11-03T10:00", false, "開庁時間中");
	closed_is(&h, "2100-12-30T10:00", true, "年末年始の閉庁日");
	hours_free(&h);
}

static void
test_closed_local_day(void **state)
{
	struct hours h;
	struct diags d = {0};

	(void)state;
	assert_int_equal(load_str(good_doc, &h, &d), 0);
	closed_is(&h, "2026-06-01T10:00", true, "閉庁日（町制施行記念日）");
	closed_is(&h, "2027-06-01T10:00", false, "開庁時間中");
	closed_is(&h, "2026-10-01T10:00", true, "閉庁日（町民の日）");
	closed_is(&h, "2027-10-01T10:00", true, "閉庁日（町民の日）");
	hours_free(&h);
	diag_free(&d);
}

static void
test_closed_why_buffer(void **state)
{
	struct hours h;
	struct diags d = {0};
	char small[8];

	(void)state;
	assert_int_equal(hours_load(SHIPPED, &h, &d), 0);
	assert_true(hours_closed(&h, at("2026-11-03T10:00"), NULL, 0));
	assert_false(hours_closed(&h, at("2026-11-25T10:00"), NULL, 0));
	memset(small, 'x', sizeof(small));
	assert_true(hours_closed(&h, at("2026-11-03T10:00"), small,
	    sizeof(small)));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	hours_free(&h);
}

static void
test_weekend_office(void **state)
{
	static const char doc[] =
	    "timezone: Asia/Tokyo\n"
	    "office_hours: {days: [sat, sun], open: \"00:00\", "
	    "close: \"23:59\"}\n";
	struct hours h;
	struct diags d = {0};

	(void)state;
	assert_int_equal(load_str(doc, &h, &d), 0);
	assert_false(h.year_end);
	assert_int_equal(h.policy, HOURS_WARN);
	closed_is(&h, "2026-11-28T00:00", false, "開庁時間中");
	closed_is(&h, "2026-11-25T12:00", true, "水曜日");
	closed_is(&h, "2026-12-30T12:00", true, "水曜日");
	hours_free(&h);
}

static void
test_calendar(void **state)
{
	struct hours h;
	struct diags d = {0};
	struct closed_day *cd;
	size_t n;

	(void)state;
	assert_int_equal(load_str(good_doc, &h, &d), 0);
	assert_int_equal(hours_calendar(&h, 2026, &cd, &n), 0);
	/* 18 holidays, 01-02, 01-03, 12-29..31, and the two local days. */
	assert_int_equal(n, 18 + 5 + 2);
	for (size_t i = 1; i < n; i++)
		assert_true(cd[i - 1].month * 100 + cd[i - 1].day <
		    cd[i].month * 100 + cd[i].day);
	assert_int_equal(cd[0].month, 1);
	assert_int_equal(cd[0].day, 1);
	assert_string_equal(cd[0].name, "元日");
	assert_int_equal(cd[1].day, 2);
	assert_string_equal(cd[1].name, "年末年始");
	assert_int_equal(cd[2].day, 3);
	assert_string_equal(cd[2].name, "年末年始");
	assert_int_equal(cd[3].day, 12);
	assert_string_equal(cd[3].name, "成人の日");
	for (size_t i = 0; i < n; i++) {
		if (cd[i].month == 6)
			assert_string_equal(cd[i].name, "町制施行記念日");
		if (cd[i].month == 9 && cd[i].day == 22)
			assert_string_equal(cd[i].name, "国民の休日");
		if (cd[i].month == 10 && cd[i].day == 1)
			assert_string_equal(cd[i].name, "町民の日");
	}
	assert_int_equal(cd[n - 1].month, 12);
	assert_int_equal(cd[n - 1].day, 31);
	assert_string_equal(cd[n - 1].name, "年末年始");
	free(cd);

	/* The dated local day belongs to 2026 only; the yearly one stays. */
	assert_int_equal(hours_calendar(&h, 2027, &cd, &n), 0);
	assert_int_equal(n, 17 + 5 + 1);
	free(cd);

	assert_int_equal(hours_calendar(&h, 1999, &cd, &n), -1);
	assert_null(cd);
	assert_int_equal(n, 0);
	assert_int_equal(hours_calendar(&h, 2100, &cd, &n), -1);
	hours_free(&h);
	diag_free(&d);
}

static void
test_bad_yaml(void **state)
{
	struct hours h;
	struct diags d = {0};

	(void)state;
	assert_int_equal(load_str("timezone: [Asia/Tokyo\n", &h, &d), -1);
	assert_true(d.n >= 1);
	if (!all_positioned(&d, "test.yaml")) {
		dump(&d);
		fail();
	}
	diag_free(&d);

	expect_error("timezone: Asia/Tokyo\n"
	    "office_hours: {days: [mon], open: \"08:30\", close: \"17:15\"}\n"
	    "timezone: Asia/Tokyo\n", "test.yaml:3:1: ", "");
	/* A list, not a map, at the top. */
	expect_error("- timezone\n", "test.yaml:1:1: ", "must be a map");
}

static void
test_bad_missing_file(void **state)
{
	struct hours h;
	struct diags d = {0};

	(void)state;
	assert_int_equal(hours_load("/nonexistent/hours.yaml", &h, &d), -1);
	assert_true(diag_errors(&d) >= 1);
	assert_null(h.local);
	diag_free(&d);
}

static void
test_bad_unknown_keys(void **state)
{
	(void)state;
	expect_error("timezone: Asia/Tokyo\n"
	    "office_hours: {days: [mon], open: \"08:30\", close: \"17:15\"}\n"
	    "colour: red\n", "test.yaml:3:1: ", "unknown key \"colour\"");
	expect_error("timezone: Asia/Tokyo\n"
	    "office_hours:\n"
	    "  days: [mon]\n"
	    "  open: \"08:30\"\n"
	    "  close: \"17:15\"\n"
	    "  lunch: \"12:00\"\n", "test.yaml:6:3: ", "unknown key \"lunch\"");
	expect_error("timezone: Asia/Tokyo\n"
	    "office_hours: {days: [mon], open: \"08:30\", close: \"17:15\"}\n"
	    "year_end_closure: {from: \"12-29\", until: \"01-03\"}\n",
	    "test.yaml:3:35: ", "unknown key \"until\"");
	expect_error("timezone: Asia/Tokyo\n"
	    "office_hours: {days: [mon], open: \"08:30\", close: \"17:15\"}\n"
	    "closed_days:\n"
	    "  - {date: 2026-06-01, name: x, note: y}\n",
	    "test.yaml:4:33: ", "unknown key \"note\"");
}

static void
test_bad_times(void **state)
{
	(void)state;
	expect_error("timezone: Asia/Tokyo\n"
	    "office_hours:\n"
	    "  days: [mon]\n"
	    "  open: \"25:00\"\n"
	    "  close: \"17:15\"\n", "test.yaml:4:9: ", "\"25:00\"");
	expect_error("timezone: Asia/Tokyo\n"
	    "office_hours:\n"
	    "  days: [mon]\n"
	    "  open: \"08:30\"\n"
	    "  close: 8:3\n", "test.yaml:5:10: ", "\"8:3\"");
	expect_error("timezone: Asia/Tokyo\n"
	    "office_hours:\n"
	    "  days: [mon]\n"
	    "  open: \"08:60\"\n"
	    "  close: \"17:15\"\n", "test.yaml:4:9: ", "HH:MM");
	expect_error("timezone: Asia/Tokyo\n"
	    "office_hours:\n"
	    "  days: [mon]\n"
	    "  open: \"17:15\"\n"
	    "  close: \"08:30\"\n", "test.yaml:5:10: ",
	    "must be later than \"open\"");
	expect_error("timezone: Asia/Tokyo\n"
	    "office_hours:\n"
	    "  days: [mon]\n"
	    "  open: [\"08:30\"]\n"
	    "  close: \"17:15\"\n", "test.yaml:4:9: ", "must be a value");
}

static void
test_bad_days(void **state)
{
	(void)state;
	expect_error("timezone: Asia/Tokyo\n"
	    "office_hours: {days: [mon, funday], open: \"08:30\", "
	    "close: \"17:15\"}\n", "test.yaml:2:28: ", "unknown day \"funday\"");
	expect_error("timezone: Asia/Tokyo\n"
	    "office_hours: {days: [mon, mon], open: \"08:30\", "
	    "close: \"17:15\"}\n", "test.yaml:2:28: ", "listed twice");
	expect_error("timezone: Asia/Tokyo\n"
	    "office_hours: {days: [], open: \"08:30\", close: \"17:15\"}\n",
	    "test.yaml:2:22: ", "never open");
	expect_error("timezone: Asia/Tokyo\n"
	    "office_hours: {days: weekdays, open: \"08:30\", "
	    "close: \"17:15\"}\n", "test.yaml:2:22: ", "must be a list");
}

static void
test_bad_dates(void **state)
{
	static const char head[] =
	    "timezone: Asia/Tokyo\n"
	    "office_hours: {days: [mon], open: \"08:30\", close: \"17:15\"}\n";
	char doc[512];

	(void)state;
	snprintf(doc, sizeof(doc), "%s%s", head,
	    "year_end_closure: {from: \"13-01\", to: \"01-03\"}\n");
	expect_error(doc, "test.yaml:3:26: ", "\"13-01\"");
	snprintf(doc, sizeof(doc), "%s%s", head,
	    "year_end_closure: {from: \"12-29\", to: \"02-30\"}\n");
	expect_error(doc, "test.yaml:3:39: ", "\"02-30\"");
	snprintf(doc, sizeof(doc), "%s%s", head,
	    "year_end_closure: {from: 12/29, to: \"01-03\"}\n");
	expect_error(doc, "test.yaml:3:26: ", "MM-DD");
	snprintf(doc, sizeof(doc), "%s%s", head,
	    "year_end_closure: {from: \"12-29\"}\n");
	expect_error(doc, "test.yaml:3:19: ", "missing \"to\"");
	snprintf(doc, sizeof(doc), "%s%s", head,
	    "closed_days:\n  - {date: 2026-02-30, name: x}\n");
	expect_error(doc, "test.yaml:4:12: ", "\"2026-02-30\"");
	snprintf(doc, sizeof(doc), "%s%s", head,
	    "closed_days:\n  - {date: 2026/06/01, name: x}\n");
	expect_error(doc, "test.yaml:4:12: ", "YYYY-MM-DD");
	snprintf(doc, sizeof(doc), "%s%s", head,
	    "closed_days:\n  - {date: 2025-02-29, name: x}\n");
	expect_error(doc, "test.yaml:4:12: ", "\"2025-02-29\"");
	snprintf(doc, sizeof(doc), "%s%s", head,
	    "closed_days:\n  - {date: 1999-06-01, name: x}\n");
	expect_error(doc, "test.yaml:4:12: ", "outside the years");
	snprintf(doc, sizeof(doc), "%s%s", head,
	    "closed_days:\n  - {date: 2026-06-01}\n");
	expect_error(doc, "test.yaml:4:5: ", "missing \"name\"");
	snprintf(doc, sizeof(doc), "%s%s", head,
	    "closed_days:\n  - {date: 2026-06-01, name: a}\n"
	    "  - {date: 2026-06-01, name: b}\n");
	expect_error(doc, "test.yaml:5:12: ", "listed twice (first at line 4)");
	snprintf(doc, sizeof(doc), "%s%s", head,
	    "closed_days: {date: 2026-06-01, name: a}\n");
	expect_error(doc, "test.yaml:3:14: ", "must be a list");
	snprintf(doc, sizeof(doc), "%s%s", head,
	    "closed_days:\n  - 2026-06-01\n");
	expect_error(doc, "test.yaml:4:5: ", "must be a map");
}

static void
test_bad_name(void **state)
{
	char doc[1024], name[200];

	(void)state;
	memset(name, 'a', 120);
	name[120] = '\0';
	snprintf(doc, sizeof(doc), "timezone: Asia/Tokyo\n"
	    "office_hours: {days: [mon], open: \"08:30\", close: \"17:15\"}\n"
	    "closed_days:\n  - {date: 2026-06-01, name: %s}\n", name);
	expect_error(doc, "test.yaml:4:30: ", "too long");
	expect_error("timezone: Asia/Tokyo\n"
	    "office_hours: {days: [mon], open: \"08:30\", close: \"17:15\"}\n"
	    "closed_days:\n  - {date: 2026-06-01, name: \"a\\nb\"}\n",
	    "test.yaml:4:30: ", "one line");
}

static void
test_bad_timezone(void **state)
{
	(void)state;
	expect_error("timezone: UTC\n"
	    "office_hours: {days: [mon], open: \"08:30\", close: \"17:15\"}\n",
	    "test.yaml:1:11: ", "\"UTC\"");
	expect_error("timezone: Asia/Seoul\n"
	    "office_hours: {days: [mon], open: \"08:30\", close: \"17:15\"}\n",
	    "test.yaml:1:11: ", "Asia/Tokyo");
}

static void
test_bad_policy(void **state)
{
	(void)state;
	expect_error("timezone: Asia/Tokyo\n"
	    "office_hours: {days: [mon], open: \"08:30\", close: \"17:15\"}\n"
	    "during_office_hours: maybe\n", "test.yaml:3:22: ",
	    "warn, refuse or allow");
}

static void
test_bad_all_reported(void **state)
{
	static const char doc[] =
	    "timezone: UTC\n"
	    "office_hours:\n"
	    "  days: [mon, xyz]\n"
	    "  open: \"25:00\"\n"
	    "  close: \"8:3\"\n"
	    "year_end_closure: {from: \"12-32\", to: \"01-03\"}\n"
	    "closed_days:\n"
	    "  - {date: 2026-13-01, name: x}\n"
	    "during_office_hours: never\n"
	    "extra: 1\n";
	struct hours h;
	struct diags d = {0};

	(void)state;
	assert_int_equal(load_str(doc, &h, &d), -1);
	assert_true(all_positioned(&d, "test.yaml"));
	assert_true(has_diag(&d, "test.yaml:1:11: ", "UTC"));
	assert_true(has_diag(&d, "test.yaml:3:15: ", "xyz"));
	assert_true(has_diag(&d, "test.yaml:4:9: ", "25:00"));
	assert_true(has_diag(&d, "test.yaml:5:10: ", "8:3"));
	assert_true(has_diag(&d, "test.yaml:6:26: ", "12-32"));
	assert_true(has_diag(&d, "test.yaml:8:12: ", "2026-13-01"));
	assert_true(has_diag(&d, "test.yaml:9:22: ", "never"));
	assert_true(has_diag(&d, "test.yaml:10:1: ", "extra"));
	assert_int_equal(diag_errors(&d), 8);
	diag_free(&d);

	/* An empty document misses both required keys. */
	assert_int_equal(load_str("", &h, &d), -1);
	assert_true(has_diag(&d, "test.yaml:", "missing \"timezone\""));
	assert_true(has_diag(&d, "test.yaml:", "missing \"office_hours\""));
	diag_free(&d);
}

static void
test_warn_local_on_holiday(void **state)
{
	struct hours h;
	struct diags d = {0};

	(void)state;
	assert_int_equal(load_str("timezone: Asia/Tokyo\n"
	    "office_hours: {days: [mon], open: \"08:30\", close: \"17:15\"}\n"
	    "year_end_closure: {from: \"12-29\", to: \"01-03\"}\n"
	    "closed_days:\n"
	    "  - {date: 2026-11-03, name: x}\n"
	    "  - {date: 2026-12-30, name: y}\n", &h, &d), 0);
	assert_int_equal(diag_errors(&d), 0);
	assert_int_equal(d.warnings, 2);
	assert_true(has_diag(&d, "test.yaml:5:12: warning: ", "文化の日"));
	assert_true(has_diag(&d, "test.yaml:6:12: warning: ", "year-end"));
	hours_free(&h);
	diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_shipped),
		cmocka_unit_test(test_load_inline),
		cmocka_unit_test(test_closed_office_hours),
		cmocka_unit_test(test_closed_days),
		cmocka_unit_test(test_closed_local_day),
		cmocka_unit_test(test_closed_why_buffer),
		cmocka_unit_test(test_weekend_office),
		cmocka_unit_test(test_calendar),
		cmocka_unit_test(test_bad_yaml),
		cmocka_unit_test(test_bad_missing_file),
		cmocka_unit_test(test_bad_unknown_keys),
		cmocka_unit_test(test_bad_times),
		cmocka_unit_test(test_bad_days),
		cmocka_unit_test(test_bad_dates),
		cmocka_unit_test(test_bad_name),
		cmocka_unit_test(test_bad_timezone),
		cmocka_unit_test(test_bad_policy),
		cmocka_unit_test(test_bad_all_reported),
		cmocka_unit_test(test_warn_local_on_holiday),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
