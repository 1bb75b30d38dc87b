/*
 * followup.h: the clock of re-notify rounds and escalation (SPEC §5 step
 * 5), and the call list's text, pure arithmetic and text shared by the
 * daemon (daemon/followup.c) and the tests.
 *
 * Round k + 1 falls due ack_deadline after round k was made (round 0 is the
 * approval); after renotify_max rounds, the escalation falls due one more
 * ack_deadline later. Nothing here reads a clock, logs or touches the
 * database.
 */
#ifndef CRISISCAST_FOLLOWUP_H
#define CRISISCAST_FOLLOWUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct followup_clock {
	time_t last_round_at;	/* the approval, or when the latest round
				   was made */
	int round;		/* rounds made so far; 0 none */
	long renotify_max;	/* rounds allowed; 0: escalate at once */
	long ack_deadline;	/* seconds; <= 0 is treated as 1 */
};

enum followup_due {
	FOLLOWUP_WAIT,		/* nothing yet; come back at *when */
	FOLLOWUP_ROUND,		/* make round `round + 1` now */
	FOLLOWUP_ESCALATE,	/* rounds spent: send the call list now */
};

/*
 * What is due at `now`. *when is always set: the moment the next thing
 * falls (or fell) due, last_round_at + ack_deadline. The caller acts,
 * records the round (or completes the alert), and asks again.
 */
enum followup_due followup_due(const struct followup_clock *c, time_t now,
    time_t *when);

/* One unconfirmed person on the call list. Strings may be NULL. */
struct call_entry {
	const char *name, *title;
	const char *shelter;	/* shelter name, or NULL */
	const char *phone;	/* E.164, or NULL when none is known */
	bool suspended;		/* device reported lost or stolen */
};

/*
 * The call list, in Japanese: a heading line (【訓練】 first for a drill,
 * the alert number, its tag label and the rounds sent), a line saying how
 * many, then one person per line:
 *   ・氏名（役職） 避難所名 電話番号
 * ("避難所なし" / "電話番号なし" when unknown; "（端末停止中）" after a
 * suspended member). n == 0 gives the heading and "未確認者はいません".
 * Caller frees.
 */
char *followup_call_list(int64_t alert, const char *label, bool drill,
    int rounds, const struct call_entry *v, size_t n);

#endif
