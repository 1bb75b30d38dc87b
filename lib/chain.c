/*
 * chain.c: the approval chain's clock and the expired alert's notice.
 * Pure: no clock, no logging, no database (see chain.h).
 */
#include "chain.h"

#include <stdio.h>
#include <stdlib.h>

#include "util.h"

enum chain_due
chain_due(const struct chain_clock *c, time_t now, time_t *when)
{
	bool more = c->step_timeout > 0 && c->step >= 0 &&
	    (size_t)c->step + 1 < c->napprovers;
	time_t escalate = more ? c->created_at +
	    (time_t)(c->step + 1) * c->step_timeout : 0;

	if (now >= c->expires_at) {
		*when = c->expires_at;
		return CHAIN_EXPIRE;
	}
	/* An escalation at or after the deadline never happens. */
	if (more && escalate < c->expires_at) {
		*when = escalate;
		return now >= escalate ? CHAIN_ESCALATE : CHAIN_WAIT;
	}
	*when = c->expires_at;
	return CHAIN_WAIT;
}

void
chain_duration_ja(long secs, char *out, size_t outsz)
{
	static const struct { long n; const char *unit; } units[] = {
		{ 86400, "日" }, { 3600, "時間" }, { 60, "分" }, { 1, "秒" },
	};
	struct buf b = {0};

	if (secs <= 0) {
		snprintf(out, outsz, "0秒");
		return;
	}
	for (size_t i = 0; i < nitems(units); i++)
		if (secs >= units[i].n) {
			buf_printf(&b, "%ld%s", secs / units[i].n, units[i].unit);
			secs %= units[i].n;
		}
	snprintf(out, outsz, "%s", b.data);
	buf_free(&b);
}

char *
chain_expired_notice(int64_t alert, const char *label, bool drill, long ttl)
{
	char dur[64];

	chain_duration_ja(ttl, dur, sizeof(dur));
	return xasprintf("%s【期限切れ】連絡 %lld（%s）は承認されないまま期限（%s）"
	    "を過ぎたため送信されませんでした。", drill ? "【訓練】" : "",
	    (long long)alert, label, dur);
}
