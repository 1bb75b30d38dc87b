/*
 * chain.h: the approval chain's clock and its notice to the sender (SPEC
 * §5 step 2), pure arithmetic and text shared by the daemon and the tests.
 *
 * The chain's times hang off the draft: approver k + 1 (0-based) is asked
 * at created_at + (k + 1) * step_timeout; the alert expires at expires_at
 * (created_at + link_ttl, fixed at the draft). Nothing here reads a clock,
 * logs or touches the database.
 */
#ifndef CRISISCAST_CHAIN_H
#define CRISISCAST_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct chain_clock {
	time_t created_at;	/* the draft */
	time_t expires_at;	/* no decision by then: expired */
	int step;		/* the last approver asked, 0 the first */
	size_t napprovers;	/* length of approval.approvers */
	long step_timeout;	/* seconds; <= 0: never escalate */
};

enum chain_due {
	CHAIN_WAIT,		/* nothing yet; come back at *when */
	CHAIN_ESCALATE,		/* ask approver step + 1 now */
	CHAIN_EXPIRE,		/* the deadline passed: expire now */
};

/*
 * What is due at `now`. Expiry wins over an escalation due at the same
 * time or later. *when is always set: for CHAIN_WAIT the next moment
 * something falls due (the earlier of the next escalation, if any
 * approver is left, and the expiry); otherwise the deadline that passed.
 * The caller acts, moves step on, and asks again until CHAIN_WAIT.
 */
enum chain_due chain_due(const struct chain_clock *c, time_t now,
    time_t *when);

/* A duration in Japanese for a message: "30分", "1時間30分", "5秒". */
void chain_duration_ja(long secs, char *out, size_t outsz);

/*
 * The sender's notice for an alert that expired undecided: 【期限切れ】,
 * the alert number, its tag label (【…】, as in rules) and the time it
 * waited, with 【訓練】 first for a drill. Caller frees.
 */
char *chain_expired_notice(int64_t alert, const char *label, bool drill,
    long ttl);

#endif
