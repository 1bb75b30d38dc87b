/*
 * followup.c: the re-notify clock and the call list's text (followup.h).
 * Pure: no clock, no logging, no database.
 */
#include "followup.h"

#include "util.h"

enum followup_due
followup_due(const struct followup_clock *c, time_t now, time_t *when)
{
	long ack = c->ack_deadline > 0 ? c->ack_deadline : 1;

	*when = c->last_round_at + ack;
	if (now < *when)
		return FOLLOWUP_WAIT;
	if (c->round < c->renotify_max)
		return FOLLOWUP_ROUND;
	return FOLLOWUP_ESCALATE;
}

char *
followup_call_list(int64_t alert, const char *label, bool drill, int rounds,
    const struct call_entry *v, size_t n)
{
	struct buf b = {0};

	buf_printf(&b, "%s【未確認者一覧】連絡 %lld %s\n", drill ? "【訓練】" : "",
	    (long long)alert, label);
	if (n == 0) {
		buf_adds(&b, "未確認者はいません。\n");
		return buf_take(&b);
	}
	buf_printf(&b, "再通知 %d 回の後も確認がない %zu 名です。"
	    "電話で確認してください。\n", rounds, n);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "・%s（%s） %s %s%s\n",
		    v[i].name ? v[i].name : "", v[i].title ? v[i].title : "",
		    v[i].shelter ? v[i].shelter : "避難所なし",
		    v[i].phone ? v[i].phone : "電話番号なし",
		    v[i].suspended ? "（端末停止中）" : "");
	return buf_take(&b);
}
