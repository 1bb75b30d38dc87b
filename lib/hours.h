/*
 * hours.h: when the town office is open (rules/hours.yaml), and the closed
 * days crisiscast knows: national holidays, the year-end closure, local
 * closed days, days of the week the office does not open.
 *
 * Contract: pure; no logging, no exit. Times are Japan time (UTC+9; Japan
 * has no DST). A loaded struct hours owns all its memory and does not
 * refer to the YAML tree it came from; it is read-only after loading, so
 * one may be shared and swapped whole on reload.
 */
#ifndef CRISISCAST_HOURS_H
#define CRISISCAST_HOURS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util.h"

struct ynode;

#define HOURS_NAME_MAX	96	/* bytes of a closed day's name, with the NUL */
#define HOURS_WHY_MAX	128	/* bytes for hours_closed()'s reason */

/* What to do with an alert drafted while the office is open. */
enum hours_policy {
	HOURS_WARN,	/* accept, with a warning (the default) */
	HOURS_REFUSE,	/* refuse the draft */
	HOURS_ALLOW	/* accept silently */
};

/* A local closed day (町の閉庁日). */
struct hours_local {
	int year;			/* 0: every year on month/day */
	int month, day;
	char name[HOURS_NAME_MAX];
};

struct hours {
	unsigned int open_days;		/* bit (1 << tm_wday), Sunday = 0 */
	int open, close;		/* minutes after 00:00, open < close */
	bool year_end;			/* a year-end closure is set */
	int ye_from, ye_to;		/* month * 100 + day, both closed; from >
					   to runs over New Year */
	struct hours_local *local;
	size_t nlocal;
	enum hours_policy policy;
};

/*
 * Loads and checks path. Returns 0 with *h filled (warnings may have been
 * added to d), or -1 with *h empty after adding every error found to d,
 * each as "file:line:col: message". Free a loaded h with hours_free().
 */
int hours_load(const char *path, struct hours *h, struct diags *d);
/* Same, from a tree already loaded (root of the document; may be NULL). */
int hours_from_yaml(const struct ynode *root, struct hours *h,
    struct diags *d);
/* Frees what h holds and empties it; safe on an empty or freed h. */
void hours_free(struct hours *h);

/* "warn", "refuse" or "allow". */
const char *hours_policy_name(enum hours_policy p);

/*
 * Is the office closed at t? Returns true when closed. Writes to why
 * (HOURS_WHY_MAX bytes always suffice; a shorter buffer is cut, possibly
 * inside a character, and NUL-terminated; why may be NULL when whysz is
 * 0) the first reason that applies, in this order:
 * "国民の祝日（文化の日）" (or "振替休日", "国民の休日"), "年末年始の閉庁日",
 * "閉庁日（NAME）" for a local closed day, the day of the week ("土曜日",
 * "日曜日", ...) when the office does not open that day, "閉庁時間帯
 * （08:30より前）" or "閉庁時間帯（17:15以降）"; and "開庁時間中" when open.
 * Outside 2000-2099 national holidays are not known and not counted.
 */
bool hours_closed(const struct hours *h, time_t t, char *why, size_t whysz);

struct closed_day {
	int month, day;
	char name[HOURS_NAME_MAX];
};

/*
 * The closed days of one year other than weekly ones: national holidays
 * with their names, year-end closure days named "年末年始", local closed
 * days with their names; sorted by date, one per date (a national holiday
 * names the date before the closure, the closure before a local day).
 * Returns 0 with a new array in *out (NULL when *n is 0) that the caller
 * frees with free(), or -1 when year is outside 2000-2099.
 */
int hours_calendar(const struct hours *h, int year, struct closed_day **out,
    size_t *n);

#endif
