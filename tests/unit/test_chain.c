/*
 * test_chain.c: lib/chain.c: when the approval chain escalates and
 * expires, the Japanese durations, and the sender's expiry notice.
 *
 * Must never: derive an expected time with chain_due itself; every
 * expected value below is written out by hand from the contract in chain.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "chain.h"
#include "util.h"

/* The test config: step_timeout 2s, link_ttl 5s, mayor and deputy. */
static struct chain_clock
clock_at(int step)
{
	return (struct chain_clock){
		.created_at = 1000, .expires_at = 1005, .step = step,
		.napprovers = 2, .step_timeout = 2,
	};
}

static void
test_two_approvers(void **state)
{
	struct chain_clock c = clock_at(0);
	time_t when = 0;

	(void)state;
	/* Before step_timeout: wait for the deputy's turn. */
	assert_int_equal(chain_due(&c, 1000, &when), CHAIN_WAIT);
	assert_int_equal(when, 1002);
	assert_int_equal(chain_due(&c, 1001, &when), CHAIN_WAIT);
	assert_int_equal(when, 1002);
	/* At and after it: escalate (a daemon down for a while too). */
	assert_int_equal(chain_due(&c, 1002, &when), CHAIN_ESCALATE);
	assert_int_equal(when, 1002);
	assert_int_equal(chain_due(&c, 1004, &when), CHAIN_ESCALATE);
	/* Past the deadline, expiry wins even if step 1 was never taken. */
	assert_int_equal(chain_due(&c, 1005, &when), CHAIN_EXPIRE);
	assert_int_equal(when, 1005);
	assert_int_equal(chain_due(&c, 99999, &when), CHAIN_EXPIRE);

	/* The deputy asked: nobody is left, only the deadline. */
	c = clock_at(1);
	assert_int_equal(chain_due(&c, 1002, &when), CHAIN_WAIT);
	assert_int_equal(when, 1005);
	assert_int_equal(chain_due(&c, 1004, &when), CHAIN_WAIT);
	assert_int_equal(when, 1005);
	assert_int_equal(chain_due(&c, 1005, &when), CHAIN_EXPIRE);
	assert_int_equal(when, 1005);
}

static void
test_long_chain(void **state)
{
	/* Four approvers, 10m steps, 30m TTL: asked at 0, 10m, 20m; the
	 * fourth step (30m) coincides with the deadline and never comes. */
	struct chain_clock c = {
		.created_at = 0, .expires_at = 1800, .step = 0,
		.napprovers = 4, .step_timeout = 600,
	};
	time_t when = 0;

	(void)state;
	assert_int_equal(chain_due(&c, 0, &when), CHAIN_WAIT);
	assert_int_equal(when, 600);
	c.step = 1;
	assert_int_equal(chain_due(&c, 600, &when), CHAIN_WAIT);
	assert_int_equal(when, 1200);
	/* A restart that finds step 1 at 25m: step 2 is overdue. */
	assert_int_equal(chain_due(&c, 1500, &when), CHAIN_ESCALATE);
	assert_int_equal(when, 1200);
	c.step = 2;
	assert_int_equal(chain_due(&c, 1500, &when), CHAIN_WAIT);
	assert_int_equal(when, 1800);
	assert_int_equal(chain_due(&c, 1799, &when), CHAIN_WAIT);
	assert_int_equal(chain_due(&c, 1800, &when), CHAIN_EXPIRE);
}

static void
test_no_escalation(void **state)
{
	struct chain_clock c = clock_at(0);
	time_t when = 0;

	(void)state;
	/* One approver only. */
	c.napprovers = 1;
	assert_int_equal(chain_due(&c, 1003, &when), CHAIN_WAIT);
	assert_int_equal(when, 1005);
	/* No approvers configured at all. */
	c.napprovers = 0;
	assert_int_equal(chain_due(&c, 1003, &when), CHAIN_WAIT);
	assert_int_equal(when, 1005);
	/* A step beyond the chain (approvers removed by a reload). */
	c = clock_at(5);
	assert_int_equal(chain_due(&c, 1003, &when), CHAIN_WAIT);
	assert_int_equal(when, 1005);
	/* step_timeout equal to link_ttl: the deadline comes first. */
	c = clock_at(0);
	c.step_timeout = 5;
	assert_int_equal(chain_due(&c, 1004, &when), CHAIN_WAIT);
	assert_int_equal(when, 1005);
	assert_int_equal(chain_due(&c, 1005, &when), CHAIN_EXPIRE);
	/* A non-positive step_timeout never escalates. */
	c.step_timeout = 0;
	assert_int_equal(chain_due(&c, 1004, &when), CHAIN_WAIT);
	assert_int_equal(when, 1005);
}

static void
test_duration_ja(void **state)
{
	char out[64];

	(void)state;
	chain_duration_ja(1800, out, sizeof(out));
	assert_string_equal(out, "30分");
	chain_duration_ja(5, out, sizeof(out));
	assert_string_equal(out, "5秒");
	chain_duration_ja(5400, out, sizeof(out));
	assert_string_equal(out, "1時間30分");
	chain_duration_ja(90061, out, sizeof(out));
	assert_string_equal(out, "1日1時間1分1秒");
	chain_duration_ja(0, out, sizeof(out));
	assert_string_equal(out, "0秒");
	chain_duration_ja(-3, out, sizeof(out));
	assert_string_equal(out, "0秒");
	/* Truncated, never overrun. */
	chain_duration_ja(5400, out, 4);
	assert_int_equal(strlen(out), 3);
}

static void
test_notice(void **state)
{
	char *s;

	(void)state;
	s = chain_expired_notice(12, "【避難所開設要請】", false, 1800);
	assert_string_equal(s, "【期限切れ】連絡 12（【避難所開設要請】）は承認"
	    "されないまま期限（30分）を過ぎたため送信されませんでした。");
	free(s);
	s = chain_expired_notice(3, "【訓練】", true, 5);
	assert_string_equal(s, "【訓練】【期限切れ】連絡 3（【訓練】）は承認"
	    "されないまま期限（5秒）を過ぎたため送信されませんでした。");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_approvers),
		cmocka_unit_test(test_long_chain),
		cmocka_unit_test(test_no_escalation),
		cmocka_unit_test(test_duration_ja),
		cmocka_unit_test(test_notice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
