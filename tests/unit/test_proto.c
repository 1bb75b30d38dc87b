/*
 * test_proto.c: lib/proto.c: length-prefixed JSON frames and the shape of
 * a request.
 *
 * Must never: hand proto_parse a buffer longer than the bytes under test:
 * every frame is copied into a heap block of exactly its size, so ASan
 * catches a read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"

/* Header + payload in an exact-size heap block. */
static uint8_t *
frame_of(uint32_t n, const char *payload, size_t plen, size_t *len)
{
	uint8_t *p = xmalloc(4 + plen);

	p[0] = (uint8_t)(n >> 24);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	memcpy(p + 4, payload, plen);
	*len = 4 + plen;
	return p;
}

/* Expects payload (framed with its own length) to be refused, the error
 * containing want. */
static void
expect_broken(const char *payload, size_t plen, const char *want)
{
	size_t len, flen = 777;
	uint8_t *p = frame_of((uint32_t)plen, payload, plen, &len);
	cJSON *obj = (cJSON *)1;
	char err[128] = "";

	assert_int_equal(proto_parse(p, len, &flen, &obj, err, sizeof(err)),
	    -1);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	assert_int_equal(flen, 777);
	assert_ptr_equal(obj, (cJSON *)1);
	free(p);
}

static void
test_round_trip(void **state)
{
	struct buf b = {0};
	cJSON *args = cJSON_CreateObject(), *req, *got;
	size_t flen;
	char err[128];
	uint8_t *copy;

	(void)state;
	cJSON_AddStringToObject(args, "body", "【避難所開設要請】第一小学校を開設");
	cJSON_AddStringToObject(args, "to", "shelter:hs01,hs03");
	req = proto_request("draft", "soumu_bucho", args);
	assert_int_equal(proto_frame(req, &b), 0);
	assert_true(b.len > 4);
	/* Big-endian length of the payload. */
	uint32_t n = (uint32_t)(uint8_t)b.data[0] << 24 |
	    (uint32_t)(uint8_t)b.data[1] << 16 |
	    (uint32_t)(uint8_t)b.data[2] << 8 | (uint8_t)b.data[3];
	assert_int_equal(n, b.len - 4);
	assert_int_equal(b.data[4], '{');

	copy = xmalloc(b.len);
	memcpy(copy, b.data, b.len);
	assert_int_equal(proto_parse(copy, b.len, &flen, &got, err,
	    sizeof(err)), 1);
	assert_int_equal(flen, b.len);
	assert_true(cJSON_Compare(req, got, true));

	const char *cmd, *as;
	const cJSON *a;
	assert_int_equal(proto_check_request(got, &cmd, &as, &a, err,
	    sizeof(err)), 0);
	assert_string_equal(cmd, "draft");
	assert_string_equal(as, "soumu_bucho");
	assert_non_null(a);
	assert_string_equal(cJSON_GetObjectItem(a, "to")->valuestring,
	    "shelter:hs01,hs03");
	cJSON_Delete(got);
	free(copy);

	/* Two frames back to back, and a third partial one. */
	assert_int_equal(proto_frame(req, &b), 0);
	size_t one = b.len / 2;
	buf_add(&b, b.data, 3);
	copy = xmalloc(b.len);
	memcpy(copy, b.data, b.len);
	assert_int_equal(proto_parse(copy, b.len, &flen, &got, err,
	    sizeof(err)), 1);
	assert_int_equal(flen, one);
	cJSON_Delete(got);
	assert_int_equal(proto_parse(copy + flen, b.len - flen, &flen, &got,
	    err, sizeof(err)), 1);
	assert_int_equal(flen, one);
	cJSON_Delete(got);
	assert_int_equal(proto_parse(copy + 2 * one, 3, &flen, &got, err,
	    sizeof(err)), 0);
	free(copy);
	buf_free(&b);
	cJSON_Delete(req);

	/* A request without as or args. */
	req = proto_request("status", NULL, NULL);
	assert_null(cJSON_GetObjectItem(req, "as"));
	assert_true(cJSON_IsObject(cJSON_GetObjectItem(req, "args")));
	assert_int_equal(cJSON_GetObjectItem(req, "v")->valueint,
	    PROTO_VERSION);
	assert_int_equal(proto_check_request(req, &cmd, &as, &a, err,
	    sizeof(err)), 0);
	assert_string_equal(cmd, "status");
	assert_null(as);
	cJSON_Delete(req);
}

static void
test_partial(void **state)
{
	struct buf b = {0};
	cJSON *req = proto_request("list", "mayor", NULL), *got;
	size_t flen = 777;
	char err[128];

	(void)state;
	assert_int_equal(proto_frame(req, &b), 0);
	for (size_t len = 0; len < b.len; len++) {
		uint8_t *p = xmalloc(len ? len : 1);
		memcpy(p, b.data, len);
		got = NULL;
		if (proto_parse(p, len, &flen, &got, err, sizeof(err)) != 0)
			fail_msg("prefix of %zu bytes was not \"need more\"",
			    len);
		assert_null(got);
		assert_int_equal(flen, 777);
		free(p);
	}
	buf_free(&b);
	cJSON_Delete(req);
}

static void
test_limits(void **state)
{
	uint8_t *p;
	size_t len, flen;
	cJSON *obj = NULL;
	char err[128];

	(void)state;
	/* Length 0: broken at once, with only the header. */
	p = frame_of(0, "", 0, &len);
	assert_int_equal(proto_parse(p, len, &flen, &obj, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "frame of length 0");
	free(p);
	/* Over the limit: broken at once, before the payload arrives. */
	p = frame_of(PROTO_MAX_FRAME + 1, "", 0, &len);
	assert_int_equal(proto_parse(p, len, &flen, &obj, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "over the limit"));
	free(p);
	p = frame_of(0xffffffffu, "{}", 2, &len);
	assert_int_equal(proto_parse(p, len, &flen, &obj, err, sizeof(err)),
	    -1);
	free(p);
	/* Exactly the limit: waits for the bytes. */
	p = frame_of(PROTO_MAX_FRAME, "{", 1, &len);
	assert_int_equal(proto_parse(p, len, &flen, &obj, err, sizeof(err)),
	    0);
	free(p);
	/* A whole frame of exactly PROTO_MAX_FRAME bytes is fine. */
	char *big = xmalloc(PROTO_MAX_FRAME);
	memset(big, ' ', PROTO_MAX_FRAME);
	memcpy(big, "{\"k\": 1}", 8);
	p = frame_of(PROTO_MAX_FRAME, big, PROTO_MAX_FRAME, &len);
	assert_int_equal(proto_parse(p, len, &flen, &obj, err, sizeof(err)),
	    1);
	assert_int_equal(flen, 4 + PROTO_MAX_FRAME);
	cJSON_Delete(obj);
	free(p);
	free(big);

	/* proto_frame refuses an object that would exceed the limit. */
	struct buf b = {0};
	char *s = xmalloc(PROTO_MAX_FRAME + 1);
	memset(s, 'a', PROTO_MAX_FRAME);
	s[PROTO_MAX_FRAME] = '\0';
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "s", s);
	assert_int_equal(proto_frame(o, &b), -1);
	assert_int_equal(b.len, 0);
	cJSON_Delete(o);
	/* ... and accepts one just under it. */
	s[PROTO_MAX_FRAME - 8] = '\0';	/* {"s":"..."} adds 8 bytes */
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "s", s);
	assert_int_equal(proto_frame(o, &b), 0);
	assert_int_equal(b.len, 4 + PROTO_MAX_FRAME);
	cJSON_Delete(o);
	buf_free(&b);
	free(s);
}

static void
test_broken(void **state)
{
	(void)state;
	expect_broken("hello", 5, "not JSON");
	expect_broken("{", 1, "not JSON");
	expect_broken("{\"a\":}", 6, "not JSON");
	expect_broken("[1, 2]", 6, "not a JSON object");
	expect_broken("\"str\"", 5, "not a JSON object");
	expect_broken("42", 2, "not a JSON object");
	expect_broken("null", 4, "not a JSON object");
	expect_broken("{} x", 4, "bytes after the JSON value");
	expect_broken("{}{}", 4, "bytes after the JSON value");
	expect_broken("{}\0", 3, "");
	expect_broken("{\"a\":\"\xff\"}", 9, "not valid UTF-8");
	expect_broken("{\"a\":\"\xc0\xaf\"}", 10, "not valid UTF-8");
	expect_broken("{\"a\":\"\xed\xa0\x80\"}", 11, "not valid UTF-8");
	expect_broken("{\"a\":\"\xe3\x81\"}", 10, "not valid UTF-8");
	/* NUL and control characters would cut or smuggle strings. */
	expect_broken("{\"as\":\"mayor\\u0000x\"}", 21, "control");
	expect_broken("{\"as\":\"mayor\0x\"}", 15, "");
	expect_broken("{\"a\":\"x\x01y\"}", 11, "control");
	/* An escaped backslash before u0000 is the text \u0000: fine. */
	size_t len, flen;
	const char ok[] = "{\"a\":\"\\\\u0000\", \"b\":\"\\u0001\"}\r\n\t ";
	uint8_t *p = frame_of(sizeof(ok) - 1, ok, sizeof(ok) - 1, &len);
	cJSON *obj;
	char err[128];
	assert_int_equal(proto_parse(p, len, &flen, &obj, err, sizeof(err)),
	    1);
	assert_string_equal(cJSON_GetObjectItem(obj, "a")->valuestring,
	    "\\u0000");
	assert_string_equal(cJSON_GetObjectItem(obj, "b")->valuestring, "\x01");
	cJSON_Delete(obj);
	free(p);

	/* Garbage never crashes and is never half-accepted. */
	static const char chars[] = "{}[]\":,0123 a\\u\xff\xe3";
	uint64_t seed = 42;
	char junk[64];
	for (int i = 0; i < 5000; i++) {
		size_t n = 1 + (size_t)(seed % sizeof(junk));
		for (size_t j = 0; j < n; j++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			junk[j] = chars[(seed >> 33) % (sizeof(chars) - 1)];
		}
		p = frame_of((uint32_t)n, junk, n, &len);
		obj = NULL;
		int rc = proto_parse(p, len, &flen, &obj, err, sizeof(err));
		assert_true(rc == 1 || rc == -1);
		if (rc == 1) {
			assert_true(cJSON_IsObject(obj));
			assert_int_equal(flen, len);
			cJSON_Delete(obj);
		} else
			assert_null(obj);
		free(p);
	}
}

/* Parses json and expects proto_check_request to refuse it with want. */
static void
expect_bad_request(const char *json, const char *want)
{
	cJSON *req = cJSON_Parse(json);
	const char *cmd = NULL, *as = NULL;
	const cJSON *args = NULL;
	char err[256] = "";

	assert_non_null(req);
	assert_int_equal(proto_check_request(req, &cmd, &as, &args, err,
	    sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_null(cmd);
	cJSON_Delete(req);
}

static void
test_check_request(void **state)
{
	cJSON *req;
	const char *cmd, *as;
	const cJSON *args;
	char err[256];

	(void)state;
	expect_bad_request("{\"cmd\": \"x\"}",
	    "request has no protocol version \"v\"");
	expect_bad_request("{\"v\": \"1\", \"cmd\": \"x\"}",
	    "request has no protocol version \"v\"");
	expect_bad_request("{\"v\": 2, \"cmd\": \"x\"}",
	    "protocol version 2 is not supported (this daemon speaks "
	    "version 1)");
	expect_bad_request("{\"v\": 0, \"cmd\": \"x\"}",
	    "protocol version 0 is not supported (this daemon speaks "
	    "version 1)");
	expect_bad_request("{\"v\": 1.5, \"cmd\": \"x\"}",
	    "protocol version 1.5 is not supported (this daemon speaks "
	    "version 1)");
	expect_bad_request("{\"v\": 1}", "request has no command \"cmd\"");
	expect_bad_request("{\"v\": 1, \"cmd\": 7}",
	    "request has no command \"cmd\"");
	expect_bad_request("{\"v\": 1, \"cmd\": [\"draft\"]}",
	    "request has no command \"cmd\"");
	expect_bad_request("{\"v\": 1, \"cmd\": \"\"}",
	    "request has no command \"cmd\"");
	expect_bad_request("{\"v\": 1, \"cmd\": null}",
	    "request has no command \"cmd\"");
	expect_bad_request("{\"v\": 1, \"cmd\": \"x\", \"as\": 5}",
	    "\"as\" must be a string");
	expect_bad_request("{\"v\": 1, \"cmd\": \"x\", \"as\": {}}",
	    "\"as\" must be a string");
	expect_bad_request("{\"v\": 1, \"cmd\": \"x\", \"args\": []}",
	    "\"args\" must be an object");
	expect_bad_request("{\"v\": 1, \"cmd\": \"x\", \"args\": \"a=b\"}",
	    "\"args\" must be an object");
	expect_bad_request("{\"v\": 1, \"cmd\": \"x\", \"args\": true}",
	    "\"args\" must be an object");

	/* null as and args mean absent. */
	req = cJSON_Parse("{\"v\": 1, \"cmd\": \"x\", \"as\": null, "
	    "\"args\": null, \"extra\": 1}");
	as = "untouched";
	args = (const cJSON *)1;
	assert_int_equal(proto_check_request(req, &cmd, &as, &args, err,
	    sizeof(err)), 0);
	assert_string_equal(cmd, "x");
	assert_null(as);
	assert_null(args);
	cJSON_Delete(req);

	/* A small error buffer is cut, not overrun. */
	char small[8];
	req = cJSON_Parse("{\"v\": 3, \"cmd\": \"x\"}");
	assert_int_equal(proto_check_request(req, &cmd, &as, &args, small,
	    sizeof(small)), -1);
	assert_string_equal(small, "protoco");
	cJSON_Delete(req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_check_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
