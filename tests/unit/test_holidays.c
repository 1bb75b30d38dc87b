/*
 * test_holidays.c: lib/holidays.c against lists written out by hand from
 * the Act on National Holidays and the special acts of 2019-2021.
 *
 * Must never: derive an expected list with the code under test. Every
 * list below was worked out from the law and a calendar.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "holidays.h"
#include "util.h"

struct expect {
	int month, day;
	const char *name;
};

/* Compares the whole year, entry by entry, then the per-day lookup. */
static void
check_year(int year, const struct expect *e, size_t n)
{
	struct holiday got[HOLIDAYS_MAX];
	int count = holidays_year(year, got, nitems(got));

	assert_int_equal(count, (int)n);
	for (size_t i = 0; i < n; i++) {
		char want[128], have[128];

		snprintf(want, sizeof(want), "%d-%02d-%02d %s", year,
		    e[i].month, e[i].day, e[i].name);
		snprintf(have, sizeof(have), "%d-%02d-%02d %s", year,
		    got[i].month, got[i].day, got[i].name);
		assert_string_equal(have, want);
		assert_non_null(holiday_name(year, e[i].month, e[i].day));
		assert_string_equal(holiday_name(year, e[i].month, e[i].day),
		    e[i].name);
	}
}

#define CHECK_YEAR(y, list) check_year((y), (list), nitems(list))

static void
test_2025(void **state)
{
	static const struct expect e[] = {
		{ 1, 1, "元日" }, { 1, 13, "成人の日" },
		{ 2, 11, "建国記念の日" }, { 2, 23, "天皇誕生日" },
		{ 2, 24, "振替休日" }, { 3, 20, "春分の日" },
		{ 4, 29, "昭和の日" }, { 5, 3, "憲法記念日" },
		{ 5, 4, "みどりの日" }, { 5, 5, "こどもの日" },
		{ 5, 6, "振替休日" }, { 7, 21, "海の日" },
		{ 8, 11, "山の日" }, { 9, 15, "敬老の日" },
		{ 9, 23, "秋分の日" }, { 10, 13, "スポーツの日" },
		{ 11, 3, "文化の日" }, { 11, 23, "勤労感謝の日" },
		{ 11, 24, "振替休日" },
	};

	(void)state;
	CHECK_YEAR(2025, e);
}

static void
test_2026(void **state)
{
	static const struct expect e[] = {
		{ 1, 1, "元日" }, { 1, 12, "成人の日" },
		{ 2, 11, "建国記念の日" }, { 2, 23, "天皇誕生日" },
		{ 3, 20, "春分の日" }, { 4, 29, "昭和の日" },
		{ 5, 3, "憲法記念日" }, { 5, 4, "みどりの日" },
		{ 5, 5, "こどもの日" }, { 5, 6, "振替休日" },
		{ 7, 20, "海の日" }, { 8, 11, "山の日" },
		{ 9, 21, "敬老の日" }, { 9, 22, "国民の休日" },
		{ 9, 23, "秋分の日" }, { 10, 12, "スポーツの日" },
		{ 11, 3, "文化の日" }, { 11, 23, "勤労感謝の日" },
	};

	(void)state;
	CHECK_YEAR(2026, e);
}

static void
test_2027(void **state)
{
	/* 春分の日 on Sunday 3/21; 9/21-22 lie between 敬老 (Mon) and 秋分 (Thu). */
	static const struct expect e[] = {
		{ 1, 1, "元日" }, { 1, 11, "成人の日" },
		{ 2, 11, "建国記念の日" }, { 2, 23, "天皇誕生日" },
		{ 3, 21, "春分の日" }, { 3, 22, "振替休日" },
		{ 4, 29, "昭和の日" }, { 5, 3, "憲法記念日" },
		{ 5, 4, "みどりの日" }, { 5, 5, "こどもの日" },
		{ 7, 19, "海の日" }, { 8, 11, "山の日" },
		{ 9, 20, "敬老の日" }, { 9, 23, "秋分の日" },
		{ 10, 11, "スポーツの日" }, { 11, 3, "文化の日" },
		{ 11, 23, "勤労感謝の日" },
	};

	(void)state;
	CHECK_YEAR(2027, e);
}

static void
test_2028(void **state)
{
	/* 秋分の日 on 9/22; 元日 and 昭和の日 on Saturdays: no 振替休日. */
	static const struct expect e[] = {
		{ 1, 1, "元日" }, { 1, 10, "成人の日" },
		{ 2, 11, "建国記念の日" }, { 2, 23, "天皇誕生日" },
		{ 3, 20, "春分の日" }, { 4, 29, "昭和の日" },
		{ 5, 3, "憲法記念日" }, { 5, 4, "みどりの日" },
		{ 5, 5, "こどもの日" }, { 7, 17, "海の日" },
		{ 8, 11, "山の日" }, { 9, 18, "敬老の日" },
		{ 9, 22, "秋分の日" }, { 10, 9, "スポーツの日" },
		{ 11, 3, "文化の日" }, { 11, 23, "勤労感謝の日" },
	};

	(void)state;
	CHECK_YEAR(2028, e);
}

static void
test_2029(void **state)
{
	static const struct expect e[] = {
		{ 1, 1, "元日" }, { 1, 8, "成人の日" },
		{ 2, 11, "建国記念の日" }, { 2, 12, "振替休日" },
		{ 2, 23, "天皇誕生日" }, { 3, 20, "春分の日" },
		{ 4, 29, "昭和の日" }, { 4, 30, "振替休日" },
		{ 5, 3, "憲法記念日" }, { 5, 4, "みどりの日" },
		{ 5, 5, "こどもの日" }, { 7, 16, "海の日" },
		{ 8, 11, "山の日" }, { 9, 17, "敬老の日" },
		{ 9, 23, "秋分の日" }, { 9, 24, "振替休日" },
		{ 10, 8, "スポーツの日" }, { 11, 3, "文化の日" },
		{ 11, 23, "勤労感謝の日" },
	};

	(void)state;
	CHECK_YEAR(2029, e);
}

static void
test_2030(void **state)
{
	static const struct expect e[] = {
		{ 1, 1, "元日" }, { 1, 14, "成人の日" },
		{ 2, 11, "建国記念の日" }, { 2, 23, "天皇誕生日" },
		{ 3, 20, "春分の日" }, { 4, 29, "昭和の日" },
		{ 5, 3, "憲法記念日" }, { 5, 4, "みどりの日" },
		{ 5, 5, "こどもの日" }, { 5, 6, "振替休日" },
		{ 7, 15, "海の日" }, { 8, 11, "山の日" },
		{ 8, 12, "振替休日" }, { 9, 16, "敬老の日" },
		{ 9, 23, "秋分の日" }, { 10, 14, "スポーツの日" },
		{ 11, 3, "文化の日" }, { 11, 4, "振替休日" },
		{ 11, 23, "勤労感謝の日" },
	};

	(void)state;
	CHECK_YEAR(2030, e);
}

static void
test_2019_accession(void **state)
{
	/* No 天皇誕生日 this year; the accession days and the days between. */
	static const struct expect e[] = {
		{ 1, 1, "元日" }, { 1, 14, "成人の日" },
		{ 2, 11, "建国記念の日" }, { 3, 21, "春分の日" },
		{ 4, 29, "昭和の日" }, { 4, 30, "国民の休日" },
		{ 5, 1, "天皇の即位の日" }, { 5, 2, "国民の休日" },
		{ 5, 3, "憲法記念日" }, { 5, 4, "みどりの日" },
		{ 5, 5, "こどもの日" }, { 5, 6, "振替休日" },
		{ 7, 15, "海の日" }, { 8, 11, "山の日" },
		{ 8, 12, "振替休日" }, { 9, 16, "敬老の日" },
		{ 9, 23, "秋分の日" }, { 10, 14, "体育の日" },
		{ 10, 22, "即位礼正殿の儀の行われる日" }, { 11, 3, "文化の日" },
		{ 11, 4, "振替休日" }, { 11, 23, "勤労感謝の日" },
	};

	(void)state;
	CHECK_YEAR(2019, e);
	assert_null(holiday_name(2019, 12, 23));
	assert_null(holiday_name(2019, 2, 23));
	assert_string_equal(holiday_name(2018, 12, 23), "天皇誕生日");
	assert_null(holiday_name(2018, 2, 23));
}

static void
test_2020_olympics(void **state)
{
	static const struct expect e[] = {
		{ 1, 1, "元日" }, { 1, 13, "成人の日" },
		{ 2, 11, "建国記念の日" }, { 2, 23, "天皇誕生日" },
		{ 2, 24, "振替休日" }, { 3, 20, "春分の日" },
		{ 4, 29, "昭和の日" }, { 5, 3, "憲法記念日" },
		{ 5, 4, "みどりの日" }, { 5, 5, "こどもの日" },
		{ 5, 6, "振替休日" }, { 7, 23, "海の日" },
		{ 7, 24, "スポーツの日" }, { 8, 10, "山の日" },
		{ 9, 21, "敬老の日" }, { 9, 22, "秋分の日" },
		{ 11, 3, "文化の日" }, { 11, 23, "勤労感謝の日" },
	};

	(void)state;
	CHECK_YEAR(2020, e);
	/* The days the rules would have given are ordinary days. */
	assert_null(holiday_name(2020, 7, 20));
	assert_null(holiday_name(2020, 8, 11));
	assert_null(holiday_name(2020, 10, 12));
}

static void
test_2021_olympics(void **state)
{
	static const struct expect e[] = {
		{ 1, 1, "元日" }, { 1, 11, "成人の日" },
		{ 2, 11, "建国記念の日" }, { 2, 23, "天皇誕生日" },
		{ 3, 20, "春分の日" }, { 4, 29, "昭和の日" },
		{ 5, 3, "憲法記念日" }, { 5, 4, "みどりの日" },
		{ 5, 5, "こどもの日" }, { 7, 22, "海の日" },
		{ 7, 23, "スポーツの日" }, { 8, 8, "山の日" },
		{ 8, 9, "振替休日" }, { 9, 20, "敬老の日" },
		{ 9, 23, "秋分の日" }, { 11, 3, "文化の日" },
		{ 11, 23, "勤労感謝の日" },
	};

	(void)state;
	CHECK_YEAR(2021, e);
	assert_null(holiday_name(2021, 7, 19));
	assert_null(holiday_name(2021, 8, 11));
	assert_null(holiday_name(2021, 10, 11));
}

static void
test_sandwich_days(void **state)
{
	(void)state;
	assert_string_equal(holiday_name(2009, 9, 22), "国民の休日");
	assert_string_equal(holiday_name(2015, 9, 22), "国民の休日");
	assert_string_equal(holiday_name(2026, 9, 22), "国民の休日");
	assert_string_equal(holiday_name(2032, 9, 21), "国民の休日");
	/* Before 2007, 5/4 between two 祝日 was a 国民の休日 ... */
	assert_string_equal(holiday_name(2005, 5, 4), "国民の休日");
	/* ... but not on a Sunday (2003-05-04) ... */
	assert_null(holiday_name(2003, 5, 4));
	/* From 2007 5/4 is みどりの日; 5/3 on a Sunday moves to 5/6. */
	assert_string_equal(holiday_name(2009, 5, 6), "振替休日");
	assert_string_equal(holiday_name(2000, 4, 29), "みどりの日");
	assert_string_equal(holiday_name(2007, 4, 29), "昭和の日");
	assert_string_equal(holiday_name(2007, 5, 4), "みどりの日");
}

static void
test_old_rules(void **state)
{
	(void)state;
	/* Fixed 海の日 and 敬老の日 until 2002, Happy Monday from 2003. */
	assert_string_equal(holiday_name(2002, 7, 20), "海の日");
	assert_string_equal(holiday_name(2002, 9, 15), "敬老の日");
	assert_string_equal(holiday_name(2003, 7, 21), "海の日");
	assert_string_equal(holiday_name(2003, 9, 15), "敬老の日");
	assert_null(holiday_name(2003, 7, 20));
	/* 体育の日 until 2019; 山の日 from 2016. */
	assert_string_equal(holiday_name(2019, 10, 14), "体育の日");
	assert_null(holiday_name(2015, 8, 11));
	assert_string_equal(holiday_name(2016, 8, 11), "山の日");
	/* Before 2007 the 振替休日 was only the Monday: 2006-01-01 (Sun). */
	assert_string_equal(holiday_name(2006, 1, 2), "振替休日");
	/* From 2007 it skips holidays: 2008-05-04 (Sun) -> 5/6. */
	assert_string_equal(holiday_name(2008, 5, 6), "振替休日");
	/* Equinox days near both ends of the range. */
	assert_string_equal(holiday_name(2000, 3, 20), "春分の日");
	assert_string_equal(holiday_name(2012, 9, 22), "秋分の日");
	assert_string_equal(holiday_name(2099, 3, 20), "春分の日");
}

static void
test_range_and_bad_input(void **state)
{
	struct holiday h[HOLIDAYS_MAX];

	(void)state;
	assert_int_equal(holidays_year(1999, h, nitems(h)), -1);
	assert_int_equal(holidays_year(2100, h, nitems(h)), -1);
	assert_int_equal(holidays_year(0, h, nitems(h)), -1);
	assert_int_equal(holidays_year(-2026, h, nitems(h)), -1);
	assert_true(holidays_year(2000, h, nitems(h)) > 0);
	assert_true(holidays_year(2099, h, nitems(h)) > 0);
	assert_null(holiday_name(1999, 1, 1));
	assert_null(holiday_name(2100, 1, 1));
	assert_null(holiday_name(2026, 2, 30));
	assert_null(holiday_name(2026, 13, 1));
	assert_null(holiday_name(2026, 0, 1));
	assert_null(holiday_name(2026, 1, 0));
	assert_null(holiday_name(2026, 6, 2));
	/* A short buffer gets the first entries; the count is the whole year. */
	assert_int_equal(holidays_year(2026, h, 2), 18);
	assert_int_equal(h[1].day, 12);
	assert_int_equal(holidays_year(2026, NULL, 0), 18);
}

static void
test_every_year_sane(void **state)
{
	(void)state;
	for (int y = HOLIDAY_YEAR_MIN; y <= HOLIDAY_YEAR_MAX; y++) {
		struct holiday h[HOLIDAYS_MAX];
		int n = holidays_year(y, h, nitems(h));

		assert_in_range(n, 15, HOLIDAYS_MAX);
		for (int i = 1; i < n; i++)
			assert_true(h[i - 1].month * 100 + h[i - 1].day <
			    h[i].month * 100 + h[i].day);
		assert_true(h[0].month == 1 && h[0].day == 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_2025),
		cmocka_unit_test(test_2026),
		cmocka_unit_test(test_2027),
		cmocka_unit_test(test_2028),
		cmocka_unit_test(test_2029),
		cmocka_unit_test(test_2030),
		cmocka_unit_test(test_2019_accession),
		cmocka_unit_test(test_2020_olympics),
		cmocka_unit_test(test_2021_olympics),
		cmocka_unit_test(test_sandwich_days),
		cmocka_unit_test(test_old_rules),
		cmocka_unit_test(test_range_and_bad_input),
		cmocka_unit_test(test_every_year_sane),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
