/*
 * holidays.c: the Act on National Holidays as tables and three rules
 * (振替休日, 国民の休日, the equinox formula).
 *
 * Must never: consult the clock, the locale or a file, or answer for a
 * year it cannot compute (outside HOLIDAY_YEAR_MIN..MAX). Changes in the
 * law go into the tables below, with the year they take effect.
 */
#include "holidays.h"

#include <stdbool.h>
#include <string.h>

#include "util.h"

enum rule_kind {
	R_FIXED,	/* month/arg: a fixed date */
	R_MONDAY,	/* month/arg: the arg-th Monday (ハッピーマンデー) */
	R_VERNAL,	/* 春分日, by the formula below */
	R_AUTUMNAL	/* 秋分日, by the formula below */
};

/* 国民の祝日 (Act art. 2) with the years each rule was in force. */
static const struct rule {
	int from, to;
	enum rule_kind kind;
	int month, arg;
	const char *name;
} rules[] = {
	{ 2000, 2099, R_FIXED,    1,  1, "元日" },
	{ 2000, 2099, R_MONDAY,   1,  2, "成人の日" },
	{ 2000, 2099, R_FIXED,    2, 11, "建国記念の日" },
	{ 2020, 2099, R_FIXED,    2, 23, "天皇誕生日" },
	{ 2000, 2099, R_VERNAL,   3,  0, "春分の日" },
	{ 2000, 2006, R_FIXED,    4, 29, "みどりの日" },
	{ 2007, 2099, R_FIXED,    4, 29, "昭和の日" },
	{ 2000, 2099, R_FIXED,    5,  3, "憲法記念日" },
	{ 2007, 2099, R_FIXED,    5,  4, "みどりの日" },
	{ 2000, 2099, R_FIXED,    5,  5, "こどもの日" },
	{ 2000, 2002, R_FIXED,    7, 20, "海の日" },
	{ 2003, 2099, R_MONDAY,   7,  3, "海の日" },
	{ 2016, 2099, R_FIXED,    8, 11, "山の日" },
	{ 2000, 2002, R_FIXED,    9, 15, "敬老の日" },
	{ 2003, 2099, R_MONDAY,   9,  3, "敬老の日" },
	{ 2000, 2099, R_AUTUMNAL, 9,  0, "秋分の日" },
	{ 2000, 2019, R_MONDAY,  10,  2, "体育の日" },
	{ 2020, 2099, R_MONDAY,  10,  2, "スポーツの日" },
	{ 2000, 2099, R_FIXED,   11,  3, "文化の日" },
	{ 2000, 2099, R_FIXED,   11, 23, "勤労感謝の日" },
	{ 2000, 2018, R_FIXED,   12, 23, "天皇誕生日" },
};

/*
 * Holidays moved for one year by the Tokyo Olympics special measures act
 * (東京オリンピック競技大会・東京パラリンピック競技大会特別措置法, as amended
 * for 2021): the rule's own date that year is not a holiday, this one is.
 */
static const struct moved {
	int year;
	const char *name;
	int month, day;
} moves[] = {
	{ 2020, "海の日",       7, 23 },
	{ 2020, "スポーツの日", 7, 24 },
	{ 2020, "山の日",       8, 10 },
	{ 2021, "海の日",       7, 22 },
	{ 2021, "スポーツの日", 7, 23 },
	{ 2021, "山の日",       8,  8 },
};

/*
 * One-off days of the 2019 accession (天皇の即位の日及び即位礼正殿の儀の行われる日
 * を休日とする法律). shuku: counted as a 国民の祝日 for 振替休日 and 国民の休日.
 */
static const struct oneoff {
	int year, month, day;
	bool shuku;
	const char *name;
} oneoffs[] = {
	{ 2019,  4, 30, false, HOLIDAY_SANDWICH },
	{ 2019,  5,  1, true,  "天皇の即位の日" },
	{ 2019,  5,  2, false, HOLIDAY_SANDWICH },
	{ 2019, 10, 22, true,  "即位礼正殿の儀の行われる日" },
};

/* One year's holidays by day of the year (0-based). */
struct yeartab {
	int year, ndays;
	const char *name[366];
	bool shuku[366];	/* a 国民の祝日, not a 休日 */
};

static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int y, int m)
{
	return m == 2 && leap(y) ? 29 : mdays[m - 1];
}

/* Day of the year, 0-based, for a valid date. */
static int
yday(int y, int m, int d)
{
	int n = d - 1;

	for (int i = 1; i < m; i++)
		n += month_days(y, i);
	return n;
}

static void
from_yday(int y, int n, int *m, int *d)
{
	int i;

	for (i = 1; n >= month_days(y, i); i++)
		n -= month_days(y, i);
	*m = i;
	*d = n + 1;
}

/* 0 = Sunday (Sakamoto's method), for y > 1752. */
static int
weekday(int y, int m, int d)
{
	static const int t[] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };

	if (m < 3)
		y--;
	return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

/*
 * The equinox day in March or September by the standard approximation,
 * valid for 1980-2099, in exact integer arithmetic (units of 1e-6 day) so
 * no floating-point rounding can move a day. The legal date is the one
 * announced in the 官報 each February for the next year; if one ever
 * differs, it belongs in a table like moves[].
 */
static int
equinox(int y, bool autumnal)
{
	long n = y - 1980;
	long base = autumnal ? 23248800 : 20843100;

	return (int)((base + 242194 * n) / 1000000 - n / 4);
}

static int
rule_day(const struct rule *r, int y)
{
	switch (r->kind) {
	case R_FIXED:
		return r->arg;
	case R_MONDAY:
		/* The first Monday is day 1..7; add the weeks. */
		return 1 + (8 - weekday(y, r->month, 1)) % 7 + 7 * (r->arg - 1);
	case R_VERNAL:
		return equinox(y, false);
	case R_AUTUMNAL:
		return equinox(y, true);
	}
	return 1;
}

static void
put(struct yeartab *t, int m, int d, const char *name, bool shuku)
{
	int n = yday(t->year, m, d);

	t->name[n] = name;
	t->shuku[n] = shuku;
}

/* Fills t for a supported year. */
static void
compute(int y, struct yeartab *t)
{
	memset(t, 0, sizeof(*t));
	t->year = y;
	t->ndays = leap(y) ? 366 : 365;

	for (size_t i = 0; i < nitems(rules); i++) {
		const struct rule *r = &rules[i];
		int m = r->month, d;

		if (y < r->from || y > r->to)
			continue;
		d = rule_day(r, y);
		for (size_t j = 0; j < nitems(moves); j++) {
			if (moves[j].year == y &&
			    strcmp(moves[j].name, r->name) == 0) {
				m = moves[j].month;
				d = moves[j].day;
			}
		}
		put(t, m, d, r->name, true);
	}
	for (size_t i = 0; i < nitems(oneoffs); i++)
		if (oneoffs[i].year == y)
			put(t, oneoffs[i].month, oneoffs[i].day,
			    oneoffs[i].name, oneoffs[i].shuku);

	/*
	 * 振替休日 (art. 3(2)): a 国民の祝日 on a Sunday makes the nearest
	 * following day that is not a 国民の祝日 a holiday; before 2007 only
	 * the Monday, and only if it was not a holiday already.
	 */
	for (int n = 0; n < t->ndays; n++) {
		int m, d, k = n + 1;

		if (!t->shuku[n])
			continue;
		from_yday(y, n, &m, &d);
		if (weekday(y, m, d) != 0)
			continue;
		if (y >= 2007)
			while (k < t->ndays && t->name[k] != NULL)
				k++;
		if (k < t->ndays && t->name[k] == NULL)
			t->name[k] = HOLIDAY_SUBSTITUTE;
	}

	/*
	 * 国民の休日 (art. 3(3)): a day that is not a holiday, between two
	 * 国民の祝日. Before 2007 the Act also excluded Sundays; since then no
	 * Sunday can fall between two 国民の祝日 before 2100.
	 */
	for (int n = 1; n + 1 < t->ndays; n++) {
		int m, d;

		if (t->name[n] != NULL || !t->shuku[n - 1] || !t->shuku[n + 1])
			continue;
		from_yday(y, n, &m, &d);
		if (y < 2007 && weekday(y, m, d) == 0)
			continue;
		t->name[n] = HOLIDAY_SANDWICH;
	}
}

int
holidays_year(int year, struct holiday *out, size_t max)
{
	struct yeartab t;
	size_t count = 0;

	if (year < HOLIDAY_YEAR_MIN || year > HOLIDAY_YEAR_MAX)
		return -1;
	compute(year, &t);
	for (int n = 0; n < t.ndays; n++) {
		if (t.name[n] == NULL)
			continue;
		if (count < max) {
			from_yday(year, n, &out[count].month, &out[count].day);
			out[count].name = t.name[n];
		}
		count++;
	}
	return (int)count;
}

const char *
holiday_name(int year, int month, int day)
{
	struct yeartab t;

	if (year < HOLIDAY_YEAR_MIN || year > HOLIDAY_YEAR_MAX ||
	    month < 1 || month > 12 || day < 1 ||
	    day > month_days(year, month))
		return NULL;
	compute(year, &t);
	return t.name[yday(year, month, day)];
}
