/*
 * test_followup.c: lib/followup.c: when re-notify rounds and the
 * escalation fall due, and the call list's text.
 *
 * Must never: derive an expected time with followup_due itself; every
 * expected value is written out by hand from the contract in followup.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "followup.h"

/* The test config: ack_deadline 2s, renotify_max 2, approved at 1000. */
static void
test_rounds_then_escalate(void **state)
{
	struct followup_clock c = { .last_round_at = 1000, .round = 0,
	    .renotify_max = 2, .ack_deadline = 2 };
	time_t when = 0;

	(void)state;
	assert_int_equal(followup_due(&c, 1000, &when), FOLLOWUP_WAIT);
	assert_int_equal(when, 1002);
	assert_int_equal(followup_due(&c, 1001, &when), FOLLOWUP_WAIT);
	assert_int_equal(followup_due(&c, 1002, &when), FOLLOWUP_ROUND);
	assert_int_equal(when, 1002);
	/* A daemon that was down long still makes one round at a time. */
	assert_int_equal(followup_due(&c, 5000, &when), FOLLOWUP_ROUND);
	/* Round 1 made at 1003 (late): the next deadline counts from it. */
	c.round = 1;
	c.last_round_at = 1003;
	assert_int_equal(followup_due(&c, 1004, &when), FOLLOWUP_WAIT);
	assert_int_equal(when, 1005);
	assert_int_equal(followup_due(&c, 1005, &when), FOLLOWUP_ROUND);
	/* Rounds spent: the escalation one deadline after the last. */
	c.round = 2;
	c.last_round_at = 1005;
	assert_int_equal(followup_due(&c, 1006, &when), FOLLOWUP_WAIT);
	assert_int_equal(when, 1007);
	assert_int_equal(followup_due(&c, 1007, &when), FOLLOWUP_ESCALATE);
	assert_int_equal(when, 1007);
}

static void
test_no_rounds(void **state)
{
	struct followup_clock c = { .last_round_at = 1000, .round = 0,
	    .renotify_max = 0, .ack_deadline = 600 };
	time_t when = 0;

	(void)state;
	assert_int_equal(followup_due(&c, 1599, &when), FOLLOWUP_WAIT);
	assert_int_equal(when, 1600);
	assert_int_equal(followup_due(&c, 1600, &when), FOLLOWUP_ESCALATE);
	/* A manual round past the limit does not bring rounds back. */
	c.round = 3;
	assert_int_equal(followup_due(&c, 1600, &when), FOLLOWUP_ESCALATE);
	/* A zero deadline (never configured so) is one second, not now. */
	c.ack_deadline = 0;
	assert_int_equal(followup_due(&c, 1000, &when), FOLLOWUP_WAIT);
	assert_int_equal(when, 1001);
}

static void
test_call_list(void **state)
{
	const struct call_entry v[] = {
		{ "山田 太郎", "避難所担当", "第一小学校体育館", "+819000000100",
		    false },
		{ "佐藤 花子", "保健師", NULL, NULL, true },
	};
	char *s;

	(void)state;
	s = followup_call_list(12, "【避難所開設要請】", false, 2, v, 2);
	assert_string_equal(s,
	    "【未確認者一覧】連絡 12 【避難所開設要請】\n"
	    "再通知 2 回の後も確認がない 2 名です。電話で確認してください。\n"
	    "・山田 太郎（避難所担当） 第一小学校体育館 +819000000100\n"
	    "・佐藤 花子（保健師） 避難所なし 電話番号なし（端末停止中）\n");
	free(s);
	s = followup_call_list(3, "【訓練】", true, 1, NULL, 0);
	assert_string_equal(s, "【訓練】【未確認者一覧】連絡 3 【訓練】\n"
	    "未確認者はいません。\n");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rounds_then_escalate),
		cmocka_unit_test(test_no_rounds),
		cmocka_unit_test(test_call_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
