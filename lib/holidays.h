/*
 * holidays.h: Japan's national holidays (国民の祝日に関する法律) for the
 * years 2000-2099, computed from the Act's rules, with the one-off and
 * moved days of 2019-2021 held as data.
 *
 * Contract: pure and stateless; no I/O, no allocation, no locale. Dates
 * are Japan's civil calendar. Names are the Act's own words ("元日",
 * "振替休日", "国民の休日", ...) as static UTF-8 strings that stay valid
 * for the life of the program. Years outside HOLIDAY_YEAR_MIN..MAX are
 * refused, never guessed: the equinox formula is only valid to 2099.
 */
#ifndef CRISISCAST_HOLIDAYS_H
#define CRISISCAST_HOLIDAYS_H

#include <stddef.h>

#define HOLIDAY_YEAR_MIN	2000
#define HOLIDAY_YEAR_MAX	2099
/* No supported year has more holidays than this (the most is 22, in 2019). */
#define HOLIDAYS_MAX		32

/* Names of the two kinds of 休日 that are not 国民の祝日 themselves. */
#define HOLIDAY_SUBSTITUTE	"振替休日"	/* Act art. 3(2) */
#define HOLIDAY_SANDWICH	"国民の休日"	/* Act art. 3(3) */

struct holiday {
	int month, day;		/* 1-based */
	const char *name;	/* static, never NULL */
};

/*
 * Stores the year's holidays in out, sorted by date, one per date, at most
 * max of them (out may be NULL when max is 0). Returns how many the year
 * has (like snprintf: a result over max means the list was cut short;
 * HOLIDAYS_MAX always suffices), or -1 if year is not supported.
 */
int holidays_year(int year, struct holiday *out, size_t max);

/*
 * The holiday's name for a date, or NULL when the date is an ordinary day,
 * not a real date, or in an unsupported year.
 */
const char *holiday_name(int year, int month, int day);

#endif
