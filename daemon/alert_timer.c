/*
 * alert_timer.c: one wall-clock timer per alert, for the roles that wake
 * at an alert's deadlines (the approval chain, the follow-up rounds). Each
 * role owns a struct alert_timers naming what to run; timers are memory
 * only, rebuilt by each role from the database at start.
 *
 * A timer fires just after its deadline, never before, and never while
 * the daemon is stopping.
 */
#include <stdlib.h>
#include <sys/time.h>

#include "daemon.h"

#define LATE_USECS	20000	/* fire just after a deadline, never before */

struct alert_timer {
	struct alert_timers *set;
	int64_t alert;
	struct event *ev;
	struct alert_timer *next;
};

static struct alert_timer **
find(struct alert_timers *set, int64_t alert)
{
	struct alert_timer **tp;

	for (tp = &set->list; *tp != NULL; tp = &(*tp)->next)
		if ((*tp)->alert == alert)
			break;
	return tp;
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct alert_timer *t = arg;

	(void)fd;
	(void)what;
	if (!cd->stopping)
		t->set->fire(t->alert);
}

void
alert_timer_arm(struct alert_timers *set, int64_t alert, time_t when)
{
	struct alert_timer *t = *find(set, alert);
	struct timeval now, tv = { 0, 0 };
	long long us;

	if (t == NULL) {
		t = xcalloc(1, sizeof(*t));
		t->set = set;
		t->alert = alert;
		if ((t->ev = evtimer_new(cd->base, on_timer, t)) == NULL)
			fatalx("evtimer_new failed");
		t->next = set->list;
		set->list = t;
	}
	gettimeofday(&now, NULL);
	us = ((long long)when - now.tv_sec) * 1000000LL - now.tv_usec +
	    LATE_USECS;
	if (us > 0) {
		tv.tv_sec = (time_t)(us / 1000000);
		tv.tv_usec = (suseconds_t)(us % 1000000);
	}
	evtimer_add(t->ev, &tv);
}

void
alert_timer_disarm(struct alert_timers *set, int64_t alert)
{
	struct alert_timer **tp = find(set, alert), *t = *tp;

	if (t == NULL)
		return;
	*tp = t->next;
	event_free(t->ev);
	free(t);
}

void
alert_timers_clear(struct alert_timers *set)
{
	while (set->list != NULL)
		alert_timer_disarm(set, set->list->alert);
}
