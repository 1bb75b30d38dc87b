/*
 * hours.c: rules/hours.yaml read into struct hours, and the questions the
 * daemon asks of it: is the office closed now, and which days of a year
 * are closed.
 *
 * Must never: log, exit, read the clock (callers pass the time), or accept
 * a file it only half understood: every field is checked and every
 * problem is reported at its node, not just the first.
 */
#include "hours.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "holidays.h"
#include "ydoc.h"

#define TIMEZONE	"Asia/Tokyo"
#define YEAR_END_NAME	"年末年始"

static const char *const top_keys[] = {
	"timezone", "office_hours", "year_end_closure", "closed_days",
	"during_office_hours", NULL
};
static const char *const office_keys[] = { "days", "open", "close", NULL };
static const char *const closure_keys[] = { "from", "to", NULL };
static const char *const closed_day_keys[] = { "date", "name", NULL };

/* Indexed by tm_wday. */
static const char *const wday_keys[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat"
};
static const char *const wday_ja[] = {
	"日", "月", "火", "水", "木", "金", "土"
};

static const char *const policy_names[] = {
	[HOURS_WARN] = "warn",
	[HOURS_REFUSE] = "refuse",
	[HOURS_ALLOW] = "allow",
};

static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days in month m; year 0 stands for "any year", where 02-29 exists. */
static int
month_days(int y, int m)
{
	if (m == 2 && (y == 0 || leap(y)))
		return 29;
	return mdays[m - 1];
}

/* n decimal digits at s, nothing else checked; -1 if any is not a digit. */
static int
digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Exactly "HH:MM", 00:00-23:59, into minutes after midnight. */
static bool
parse_hhmm(const char *s, int *min)
{
	int h, m;

	if (strlen(s) != 5 || s[2] != ':')
		return false;
	if ((h = digits(s, 2)) < 0 || (m = digits(s + 3, 2)) < 0)
		return false;
	if (h > 23 || m > 59)
		return false;
	*min = h * 60 + m;
	return true;
}

/* Exactly "MM-DD", a day that exists in some year (02-29 included). */
static bool
parse_mmdd(const char *s, int *m, int *d)
{
	if (strlen(s) != 5 || s[2] != '-')
		return false;
	if ((*m = digits(s, 2)) < 1 || *m > 12)
		return false;
	if ((*d = digits(s + 3, 2)) < 1 || *d > month_days(0, *m))
		return false;
	return true;
}

/* Exactly "YYYY-MM-DD", a real date. */
static bool
parse_ymd(const char *s, int *y, int *m, int *d)
{
	if (strlen(s) != 10 || s[4] != '-')
		return false;
	if ((*y = digits(s, 4)) < 0 || !parse_mmdd(s + 5, m, d))
		return false;
	return *d <= month_days(*y, *m);
}

/*
 * The scalar under key after yget_str()'s checks, or NULL (with an error
 * when required and missing, or when present but not a value).
 */
static const struct ynode *
scalar(const struct ynode *map, const char *key, bool required,
    struct diags *d)
{
	const char *s;

	if (!yget_str(map, key, required, d, &s))
		return NULL;
	return ymap_get(map, key);
}

/*
 * Reports unknown keys of n. Returns false (after an error) only when n
 * is not a map, so callers go on to check the known keys of a map that
 * also has unknown ones.
 */
static bool
check_map(const struct ynode *n, const char *what, const char *const keys[],
    struct diags *d)
{
	(void)ymap_check(n, what, keys, d);
	return n != NULL && n->type == Y_MAP;
}

static void
parse_timezone(const struct ynode *root, struct diags *d)
{
	const struct ynode *v = scalar(root, "timezone", true, d);

	if (v != NULL && strcmp(v->str, TIMEZONE) != 0)
		ydiag(d, v, "timezone must be \"%s\", not \"%s\" (crisiscast "
		    "works in Japan time only)", TIMEZONE, v->str);
}

static void
parse_days(const struct ynode *office, struct hours *h, struct diags *d)
{
	const struct ynode *v = ymap_get(office, "days");

	if (v == NULL) {
		ydiag(d, office, "missing \"days\"");
		return;
	}
	if (v->type != Y_SEQ) {
		ydiag(d, v, "\"days\" must be a list such as [mon, tue, wed, "
		    "thu, fri]");
		return;
	}
	if (v->n == 0) {
		ydiag(d, v, "\"days\" is empty: the office would never open");
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *it = v->items[i];
		size_t w;

		if (it->type != Y_SCALAR) {
			ydiag(d, it, "items of \"days\" must be day names");
			continue;
		}
		for (w = 0; w < nitems(wday_keys); w++)
			if (strcmp(it->str, wday_keys[w]) == 0)
				break;
		if (w == nitems(wday_keys))
			ydiag(d, it, "unknown day \"%s\" (use mon, tue, wed, "
			    "thu, fri, sat, sun)", it->str);
		else if (h->open_days & (1u << w))
			ydiag(d, it, "day \"%s\" is listed twice", it->str);
		else
			h->open_days |= 1u << w;
	}
}

/* One "HH:MM" value; returns true and sets *min when good. */
static bool
parse_time_key(const struct ynode *map, const char *key, int *min,
    struct diags *d)
{
	const struct ynode *v = scalar(map, key, true, d);

	if (v == NULL)
		return false;
	if (!parse_hhmm(v->str, min)) {
		ydiag(d, v, "\"%s\" must be a time HH:MM from 00:00 to 23:59, "
		    "not \"%s\"", key, v->str);
		return false;
	}
	return true;
}

static void
parse_office(const struct ynode *root, struct hours *h, struct diags *d)
{
	const struct ynode *office = ymap_get(root, "office_hours");
	bool ok_open, ok_close;

	if (office == NULL) {
		ydiag(d, root, "missing \"office_hours\"");
		return;
	}
	if (!check_map(office, "office_hours", office_keys, d))
		return;
	parse_days(office, h, d);
	ok_open = parse_time_key(office, "open", &h->open, d);
	ok_close = parse_time_key(office, "close", &h->close, d);
	if (ok_open && ok_close && h->close <= h->open)
		ydiag(d, ymap_get(office, "close"), "\"close\" (%02d:%02d) "
		    "must be later than \"open\" (%02d:%02d)", h->close / 60,
		    h->close % 60, h->open / 60, h->open % 60);
}

/* One "MM-DD" value as month * 100 + day; returns true when good. */
static bool
parse_mmdd_key(const struct ynode *map, const char *key, int *md,
    struct diags *d)
{
	const struct ynode *v = scalar(map, key, true, d);
	int m, day;

	if (v == NULL)
		return false;
	if (!parse_mmdd(v->str, &m, &day)) {
		ydiag(d, v, "\"%s\" must be a date MM-DD such as \"12-29\", "
		    "not \"%s\"", key, v->str);
		return false;
	}
	*md = m * 100 + day;
	return true;
}

static void
parse_closure(const struct ynode *root, struct hours *h, struct diags *d)
{
	const struct ynode *c = ymap_get(root, "year_end_closure");
	bool ok_from, ok_to;

	if (c == NULL)
		return;
	if (!check_map(c, "year_end_closure", closure_keys, d))
		return;
	ok_from = parse_mmdd_key(c, "from", &h->ye_from, d);
	ok_to = parse_mmdd_key(c, "to", &h->ye_to, d);
	h->year_end = ok_from && ok_to;
}

static bool
in_year_end(const struct hours *h, int md)
{
	if (!h->year_end)
		return false;
	if (h->ye_from <= h->ye_to)
		return md >= h->ye_from && md <= h->ye_to;
	return md >= h->ye_from || md <= h->ye_to;
}

static bool
name_ok(const struct ynode *v, struct diags *d)
{
	size_t len = strlen(v->str);

	if (len == 0) {
		ydiag(d, v, "\"name\" is empty");
		return false;
	}
	if (len >= HOURS_NAME_MAX) {
		ydiag(d, v, "\"name\" is too long (%zu bytes, at most %d)",
		    len, HOURS_NAME_MAX - 1);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v->str[i];

		if (c < 0x20 || c == 0x7f) {
			ydiag(d, v, "\"name\" must be one line without "
			    "control characters");
			return false;
		}
	}
	return true;
}

/* Parses one closed_days item; returns true and fills *l when good. */
static bool
parse_closed_day(const struct ynode *it, const struct hours *h,
    struct hours_local *l, struct diags *d)
{
	const struct ynode *date, *name;
	bool ok = true;

	if (!check_map(it, "a closed_days item", closed_day_keys, d))
		return false;
	memset(l, 0, sizeof(*l));
	if ((date = scalar(it, "date", true, d)) == NULL)
		ok = false;
	else if (strlen(date->str) == 5) {
		if (!parse_mmdd(date->str, &l->month, &l->day)) {
			ydiag(d, date, "\"date\" must be YYYY-MM-DD, or MM-DD "
			    "for every year, not \"%s\"", date->str);
			ok = false;
		}
	} else if (!parse_ymd(date->str, &l->year, &l->month, &l->day)) {
		ydiag(d, date, "\"date\" must be YYYY-MM-DD, or MM-DD for "
		    "every year, not \"%s\"", date->str);
		ok = false;
	} else if (l->year < HOLIDAY_YEAR_MIN || l->year > HOLIDAY_YEAR_MAX) {
		ydiag(d, date, "\"date\" %s is outside the years %d-%d",
		    date->str, HOLIDAY_YEAR_MIN, HOLIDAY_YEAR_MAX);
		ok = false;
	}
	if ((name = scalar(it, "name", true, d)) == NULL || !name_ok(name, d))
		ok = false;
	if (!ok)
		return false;
	snprintf(l->name, sizeof(l->name), "%s", name->str);

	if (l->year != 0) {
		const char *hn = holiday_name(l->year, l->month, l->day);

		if (hn != NULL)
			ywarn(d, date, "%s is a national holiday already (%s); "
			    "the calendar shows it as %s", date->str, hn, hn);
		else if (in_year_end(h, l->month * 100 + l->day))
			ywarn(d, date, "%s is in the year-end closure already",
			    date->str);
	}
	return true;
}

static void
parse_closed_days(const struct ynode *root, struct hours *h, struct diags *d)
{
	const struct ynode *v = ymap_get(root, "closed_days");
	const struct ynode **where;

	if (v == NULL)
		return;
	if (v->type != Y_SEQ) {
		ydiag(d, v, "\"closed_days\" must be a list of {date, name} "
		    "(use [] for none)");
		return;
	}
	if (v->n == 0)
		return;
	h->local = xcalloc(v->n, sizeof(*h->local));
	where = xcalloc(v->n, sizeof(*where));
	for (size_t i = 0; i < v->n; i++) {
		struct hours_local *l = &h->local[h->nlocal];

		if (!parse_closed_day(v->items[i], h, l, d))
			continue;
		for (size_t j = 0; j < h->nlocal; j++) {
			if (h->local[j].year == l->year &&
			    h->local[j].month == l->month &&
			    h->local[j].day == l->day) {
				ydiag(d, ymap_get(v->items[i], "date"),
				    "closed day \"%s\" is listed twice (first "
				    "at line %d)",
				    ymap_get(v->items[i], "date")->str,
				    where[j]->line);
				l = NULL;
				break;
			}
		}
		if (l != NULL)
			where[h->nlocal++] = v->items[i];
	}
	free(where);
}

static void
parse_policy(const struct ynode *root, struct hours *h, struct diags *d)
{
	const struct ynode *v = scalar(root, "during_office_hours", false, d);

	h->policy = HOURS_WARN;
	if (v == NULL)
		return;
	for (size_t i = 0; i < nitems(policy_names); i++) {
		if (strcmp(v->str, policy_names[i]) == 0) {
			h->policy = (enum hours_policy)i;
			return;
		}
	}
	ydiag(d, v, "\"during_office_hours\" must be warn, refuse or allow, "
	    "not \"%s\"", v->str);
}

int
hours_from_yaml(const struct ynode *root, struct hours *h, struct diags *d)
{
	size_t before = diag_errors(d);

	memset(h, 0, sizeof(*h));
	h->policy = HOURS_WARN;
	if (!check_map(root, "hours", top_keys, d))
		return -1;
	parse_timezone(root, d);
	parse_office(root, h, d);
	parse_closure(root, h, d);
	parse_closed_days(root, h, d);
	parse_policy(root, h, d);
	if (diag_errors(d) > before) {
		hours_free(h);
		return -1;
	}
	return 0;
}

int
hours_load(const char *path, struct hours *h, struct diags *d)
{
	struct ynode *root;
	int rc;

	memset(h, 0, sizeof(*h));
	if ((root = yaml_load(path, d)) == NULL)
		return -1;
	rc = hours_from_yaml(root, h, d);
	ynode_free(root);
	return rc;
}

void
hours_free(struct hours *h)
{
	free(h->local);
	memset(h, 0, sizeof(*h));
}

const char *
hours_policy_name(enum hours_policy p)
{
	if ((size_t)p < nitems(policy_names))
		return policy_names[p];
	return "?";
}

static void say(char *why, size_t whysz, const char *fmt, ...)
    PRINTFLIKE(3, 4);

static void
say(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whysz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
}

/* The local closed day on a date (a dated entry before a yearly one). */
static const struct hours_local *
local_find(const struct hours *h, int y, int m, int d)
{
	const struct hours_local *yearly = NULL;

	for (size_t i = 0; i < h->nlocal; i++) {
		const struct hours_local *l = &h->local[i];

		if (l->month != m || l->day != d)
			continue;
		if (l->year == y)
			return l;
		if (l->year == 0 && yearly == NULL)
			yearly = l;
	}
	return yearly;
}

bool
hours_closed(const struct hours *h, time_t t, char *why, size_t whysz)
{
	struct tm tm;
	const struct hours_local *l;
	const char *hn;
	int y, m, d, min;

	jst_tm(t, &tm);
	y = tm.tm_year + 1900;
	m = tm.tm_mon + 1;
	d = tm.tm_mday;
	min = tm.tm_hour * 60 + tm.tm_min;

	if ((hn = holiday_name(y, m, d)) != NULL) {
		if (strcmp(hn, HOLIDAY_SUBSTITUTE) == 0 ||
		    strcmp(hn, HOLIDAY_SANDWICH) == 0)
			say(why, whysz, "%s", hn);
		else
			say(why, whysz, "国民の祝日（%s）", hn);
		return true;
	}
	if (in_year_end(h, m * 100 + d)) {
		say(why, whysz, "年末年始の閉庁日");
		return true;
	}
	if ((l = local_find(h, y, m, d)) != NULL) {
		say(why, whysz, "閉庁日（%s）", l->name);
		return true;
	}
	if (!(h->open_days & (1u << tm.tm_wday))) {
		say(why, whysz, "%s曜日", wday_ja[tm.tm_wday]);
		return true;
	}
	if (min < h->open) {
		say(why, whysz, "閉庁時間帯（%02d:%02dより前）", h->open / 60,
		    h->open % 60);
		return true;
	}
	if (min >= h->close) {
		say(why, whysz, "閉庁時間帯（%02d:%02d以降）", h->close / 60,
		    h->close % 60);
		return true;
	}
	say(why, whysz, "開庁時間中");
	return false;
}

int
hours_calendar(const struct hours *h, int year, struct closed_day **out,
    size_t *n)
{
	struct holiday hol[HOLIDAYS_MAX];
	struct closed_day *v = NULL;
	size_t nv = 0, k = 0;
	int nhol;

	*out = NULL;
	*n = 0;
	if ((nhol = holidays_year(year, hol, nitems(hol))) < 0)
		return -1;
	for (int m = 1; m <= 12; m++) {
		for (int d = 1; d <= month_days(year, m); d++) {
			const struct hours_local *l;
			const char *name = NULL;

			if (k < (size_t)nhol && hol[k].month == m &&
			    hol[k].day == d)
				name = hol[k++].name;
			else if (in_year_end(h, m * 100 + d))
				name = YEAR_END_NAME;
			else if ((l = local_find(h, year, m, d)) != NULL)
				name = l->name;
			if (name == NULL)
				continue;
			v = xreallocarray(v, nv + 1, sizeof(*v));
			v[nv].month = m;
			v[nv].day = d;
			snprintf(v[nv].name, sizeof(v[nv].name), "%s", name);
			nv++;
		}
	}
	*out = v;
	*n = nv;
	return 0;
}
