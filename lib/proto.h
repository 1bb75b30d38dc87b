/*
 * proto.h: the control protocol between crisisctl and crisiscastd.
 *
 * A frame is a 4-byte big-endian length N (1 <= N <= PROTO_MAX_FRAME)
 * followed by N bytes of UTF-8 JSON holding one object.
 *   request: {"v": 1, "cmd": "draft", "as": "soumu_bucho", "args": {...}}
 *   reply:   {"v": 1, "code": 0, "result": {...}, "errors": ["..."],
 *             "warnings": ["..."]}
 * code is PROTO_OK, PROTO_REFUSED (a rule or policy said no; errors say
 * why) or PROTO_USAGE (the request itself is wrong). A request of another
 * version gets a PROTO_USAGE reply naming both versions.
 */
#ifndef CRISISCAST_PROTO_H
#define CRISISCAST_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util.h"

#define PROTO_VERSION	1
#define PROTO_MAX_FRAME	(1u << 20)

enum proto_code {
	PROTO_OK = 0,
	PROTO_REFUSED = 1,
	PROTO_USAGE = 2,
	PROTO_UNREACHABLE = 3,	/* client side only: no daemon */
};

/* Appends the frame for obj to out. -1 if it would exceed the limit. */
int proto_frame(const cJSON *obj, struct buf *out);

/*
 * Looks at the bytes received so far. Returns 1 and sets *framelen (bytes to
 * consume) and *obj (owned by the caller) when a whole frame is there; 0 when
 * more bytes are needed; -1 with err filled when the stream is broken (a
 * length of zero or over the limit, bytes that are not a JSON object). After
 * -1 the connection must be closed: framing is lost.
 */
int proto_parse(const uint8_t *p, size_t len, size_t *framelen, cJSON **obj,
    char *err, size_t errsz);

/* Builds a request; args may be NULL and is taken over. */
cJSON *proto_request(const char *cmd, const char *as, cJSON *args);

/*
 * Checks a decoded request's shape: v, cmd (a string), optional as (a
 * string), optional args (an object). Returns 0 or -1 with err filled.
 */
int proto_check_request(const cJSON *req, const char **cmd, const char **as,
    const cJSON **args, char *err, size_t errsz);

#endif
