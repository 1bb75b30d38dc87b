/*
 * test_callback.c: lib/callback.c, the parse-and-verify step of the LINE
 * WORKS and Twilio callbacks, and the LINE WORKS Directory reply.
 *
 * Must never: accept a forged or foreign callback, or build an expected
 * signature with the code under test (they were computed with Python's
 * hmac module).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "callback.h"
#include "util.h"

static const char lw_body[] = "{\"type\":\"postback\",\"source\":"
    "{\"userId\":\"taro@town.example\"},\"data\":\"ack:42:1:XXXX\"}";
static const char lw_sig[] = "YZLOd+6HoQ+XmP2AXgN1ninTgheuP3bSaqk2fWoPFJM=";
static const char lw_text[] = "{\"type\":\"message\",\"source\":"
    "{\"userId\":\"u\"},\"content\":{\"type\":\"text\",\"text\":\"hi\"}}";
static const char lw_text_sig[] =
    "ve4hxOzsYftUWCsvRDuGnLeEh37unhSIEDXQ2QGCKLc=";

static void
test_lw_event(void **state)
{
	struct lw_event ev;

	(void)state;
	assert_int_equal(lw_event_parse("botsecret", "bot1", lw_sig, "bot1",
	    lw_body, strlen(lw_body), &ev), CB_OK);
	assert_string_equal(ev.type, "postback");
	assert_string_equal(ev.user, "taro@town.example");
	assert_string_equal(ev.postback, "ack:42:1:XXXX");
	lw_event_free(&ev);
	assert_null(ev.user);

	/* A text message is verified but carries nothing to act on. */
	assert_int_equal(lw_event_parse("botsecret", "bot1", lw_text_sig,
	    "bot1", lw_text, strlen(lw_text), &ev), CB_OK);
	assert_string_equal(ev.type, "message");
	assert_null(ev.postback);
	assert_null(ev.user);
	lw_event_free(&ev);
}

static void
test_lw_refused(void **state)
{
	struct lw_event ev;
	size_t n = strlen(lw_body);

	(void)state;
	/* wrong bot, missing headers, wrong secret, one byte changed */
	assert_int_equal(lw_event_parse("botsecret", "bot1", lw_sig, "bot2",
	    lw_body, n, &ev), CB_FORBIDDEN);
	assert_int_equal(lw_event_parse("botsecret", "bot1", NULL, "bot1",
	    lw_body, n, &ev), CB_FORBIDDEN);
	assert_int_equal(lw_event_parse("botsecret", "bot1", lw_sig, NULL,
	    lw_body, n, &ev), CB_FORBIDDEN);
	assert_int_equal(lw_event_parse("botsecreT", "bot1", lw_sig, "bot1",
	    lw_body, n, &ev), CB_FORBIDDEN);
	assert_int_equal(lw_event_parse("botsecret", "bot1", lw_sig, "bot1",
	    lw_body, n - 1, &ev), CB_FORBIDDEN);
	assert_null(ev.user);
	assert_null(ev.postback);
}

static void
test_lw_postback(void **state)
{
	uint8_t key[SHA256_BYTES];
	char pb[64];
	int64_t id = 0;
	size_t choice = 99;

	(void)state;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	lw_postback_make(key, 42, 1, pb, sizeof(pb));
	assert_string_equal(pb, "ack:42:1:EpAH3jDFYUoiCEcj");
	assert_int_equal(lw_postback_parse(key, pb, 10, &id, &choice), 0);
	assert_int_equal(id, 42);
	assert_int_equal(choice, 1);

	assert_int_equal(lw_postback_parse(key, "ack:42:1:EpAH3jDFYUoiCEcJ",
	    10, &id, &choice), -1);
	assert_int_equal(lw_postback_parse(key, "ack:42:1:EpAH3jDFYUoiCEcjx",
	    10, &id, &choice), -1);
	assert_int_equal(lw_postback_parse(key, pb, 1, &id, &choice), -1);
	assert_int_equal(lw_postback_parse(key, "ack:0:1:x", 10, &id,
	    &choice), -1);
	assert_int_equal(lw_postback_parse(key, "ack:-1:1:x", 10, &id,
	    &choice), -1);
	assert_int_equal(lw_postback_parse(key, "", 10, &id, &choice), -1);
}

/* Directory replies: the documented UserResponse shape, then garbage. */
#define S(lit)	lit, sizeof(lit) - 1
static void
test_lw_user(void **state)
{
	static const char ok[] = "{\"domainId\":40029600,\"userId\":"
	    "\"c72af563-0f21-4736-11e4-045237113344\",\"userExternalKey\":null,"
	    "\"email\":\"mayor@town.example\",\"userName\":{\"lastName\":"
	    "\"安平\",\"firstName\":\"一郎\"},\"isAdministrator\":false,"
	    "\"isSuspended\":false,\"isDeleted\":false}";
	static const struct { const char *body; size_t len; const char *why; }
	    bad[] = {
		{ S(""), "not JSON" },
		{ S("<html>502</html>"), "not JSON" },
		{ S("{\"userId\":\"u1\""), "not JSON" },
		{ S("{\"userId\":\"u1\"} x"), "not JSON" },
		{ S("{\"userId\":\"u1\"}\0x"), "a NUL byte in the reply" },
		{ S("[\"u1\"]"), "not a JSON object" },
		{ S("\"u1\""), "not a JSON object" },
		{ S("{}"), "no userId" },
		{ S("{\"email\":\"a@b\"}"), "no userId" },
		{ S("{\"UserId\":\"u1\"}"), "no userId" },
		{ S("{\"userId\":42}"), "userId is not a string" },
		{ S("{\"userId\":null}"), "userId is not a string" },
		{ S("{\"userId\":[\"u1\"]}"), "userId is not a string" },
		{ S("{\"userId\":\"\"}"), "userId is empty or too long" },
		{ S("{\"userId\":\"u1\",\"email\":7}"),
		    "email is not a string" },
		{ S("{\"userId\":\"u\\n1\"}"),
		    "a control character in userId" },
	};
	struct buf big = {0};
	char *user = (char *)"x", err[64];

	(void)state;
	assert_int_equal(lw_user_parse(ok, strlen(ok), &user, err,
	    sizeof(err)), 0);
	assert_string_equal(user, "c72af563-0f21-4736-11e4-045237113344");
	free(user);
	/* Not NUL-terminated: only len bytes count. */
	assert_int_equal(lw_user_parse("{\"userId\":\"u1\"}garbage", 15,
	    &user, err, sizeof(err)), 0);
	assert_string_equal(user, "u1");
	free(user);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		user = (char *)"x";
		err[0] = '\0';
		assert_int_equal(lw_user_parse(bad[i].body, bad[i].len, &user,
		    err, sizeof(err)), -1);
		assert_null(user);
		assert_string_equal(err, bad[i].why);
	}

	/* userId of LW_USER_MAX bytes passes, one more does not. */
	buf_adds(&big, "{\"userId\":\"");
	for (int i = 0; i < LW_USER_MAX; i++)
		buf_addc(&big, 'a');
	buf_adds(&big, "\"}");
	assert_int_equal(lw_user_parse(big.data, big.len, &user, err,
	    sizeof(err)), 0);
	assert_int_equal(strlen(user), LW_USER_MAX);
	free(user);
	buf_free(&big);
	buf_adds(&big, "{\"userId\":\"");
	for (int i = 0; i <= LW_USER_MAX; i++)
		buf_addc(&big, 'a');
	buf_adds(&big, "\"}");
	assert_int_equal(lw_user_parse(big.data, big.len, &user, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "userId is empty or too long");
	buf_free(&big);

	/* An oversized reply is refused before it is parsed. */
	buf_adds(&big, "{\"userId\":\"u1\",\"pad\":\"");
	while (big.len <= LW_USER_REPLY_MAX)
		buf_addc(&big, ' ');
	buf_adds(&big, "\"}");
	assert_int_equal(lw_user_parse(big.data, big.len, &user, err,
	    sizeof(err)), -1);
	assert_null(user);
	assert_string_equal(err, "reply over 65536 bytes");
	buf_free(&big);
}

#define TW_URL	"https://alert.example.lg.jp/callback/twilio"
static const char tw_body[] = "MessageSid=SM0123&MessageStatus=delivered"
    "&AccountSid=AC1&ErrorCode=";
static const char tw_sig[] = "3hisHqH1IkrlTJnZR3y0a4CZEg8=";

static void
test_tw_status(void **state)
{
	struct tw_status st;

	(void)state;
	assert_int_equal(tw_status_parse("tok", TW_URL, "AC1", tw_sig,
	    tw_body, strlen(tw_body), &st), CB_OK);
	assert_string_equal(st.sid, "SM0123");
	assert_string_equal(st.status, "delivered");
	assert_null(st.errcode);	/* empty ErrorCode: none */
	tw_status_free(&st);

	/* Signed right, but another account's. */
	assert_int_equal(tw_status_parse("tok", TW_URL, "AC2", tw_sig,
	    tw_body, strlen(tw_body), &st), CB_BAD);
	assert_null(st.sid);
}

static void
test_tw_refused(void **state)
{
	struct tw_status st;
	struct buf many = {0};
	/* Twilio's documented example: signed right, but no MessageSid. */
	static const char doc[] = "To=%2B18005551212&CallSid=CA1234567890ABCDE"
	    "&From=%2B12349013030&Digits=1234&Caller=%2B12349013030";

	(void)state;
	assert_int_equal(tw_status_parse("12345",
	    "https://mycompany.com/myapp.php?foo=1&bar=2", "AC1",
	    "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", doc, strlen(doc), &st), CB_BAD);
	assert_int_equal(tw_status_parse("12345",
	    "https://mycompany.com/myapp.php?foo=1&bar=2", "AC1",
	    "0/KCTR6DLpKmkAf8muzZqo1nDgQ", doc, strlen(doc), &st),
	    CB_FORBIDDEN);
	assert_int_equal(tw_status_parse("tok", TW_URL, "AC1", NULL,
	    tw_body, strlen(tw_body), &st), CB_FORBIDDEN);
	assert_int_equal(tw_status_parse("tok", TW_URL "x", "AC1", tw_sig,
	    tw_body, strlen(tw_body), &st), CB_FORBIDDEN);
	/* a NUL inside the body */
	assert_int_equal(tw_status_parse("tok", TW_URL, "AC1", tw_sig,
	    "a=b\0c=d", 7, &st), CB_BAD);
	/* more fields than TW_CALLBACK_FIELDS */
	for (int i = 0; i <= TW_CALLBACK_FIELDS; i++)
		buf_printf(&many, "%sf%d=1", i ? "&" : "", i);
	assert_int_equal(tw_status_parse("tok", TW_URL, "AC1", tw_sig,
	    many.data, many.len, &st), CB_FORBIDDEN);
	buf_free(&many);
	assert_null(st.sid);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lw_event),
		cmocka_unit_test(test_lw_refused),
		cmocka_unit_test(test_lw_postback),
		cmocka_unit_test(test_lw_user),
		cmocka_unit_test(test_tw_status),
		cmocka_unit_test(test_tw_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
