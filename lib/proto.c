/*
 * proto.c: framing and shape checks of the control protocol. Pure.
 */
#include "proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
proto_frame(const cJSON *obj, struct buf *out)
{
	char *s = cJSON_PrintUnformatted(obj);
	size_t n;
	uint8_t hdr[4];

	if (s == NULL)
		return -1;
	n = strlen(s);
	if (n == 0 || n > PROTO_MAX_FRAME) {
		free(s);
		return -1;
	}
	hdr[0] = (uint8_t)(n >> 24);
	hdr[1] = (uint8_t)(n >> 16);
	hdr[2] = (uint8_t)(n >> 8);
	hdr[3] = (uint8_t)n;
	buf_add(out, hdr, 4);
	buf_add(out, s, n);
	free(s);
	return 0;
}

/*
 * cJSON keeps raw control characters and turns "\u0000" into a NUL that
 * silently cuts the C string ("mayor\u0000x" would read as "mayor").
 * JSON allows neither raw control characters nor, for us, NUL: refuse both.
 */
static bool
has_control(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' &&
		    p[i] != '\r')
			return true;
		if (p[i] == '\\' && i + 1 < n) {
			if (p[i + 1] == 'u' && i + 5 < n &&
			    memcmp(p + i + 2, "0000", 4) == 0)
				return true;
			i++;	/* the escaped character */
		}
	}
	return false;
}

int
proto_parse(const uint8_t *p, size_t len, size_t *framelen, cJSON **obj,
    char *err, size_t errsz)
{
	uint32_t n;

	if (len < 4)
		return 0;
	n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	if (n == 0) {
		snprintf(err, errsz, "frame of length 0");
		return -1;
	}
	if (n > PROTO_MAX_FRAME) {
		snprintf(err, errsz, "frame of %u bytes is over the limit of %u",
		    n, PROTO_MAX_FRAME);
		return -1;
	}
	if (len - 4 < n)
		return 0;
	if (!utf8_valid((const char *)p + 4, n)) {
		snprintf(err, errsz, "frame is not valid UTF-8");
		return -1;
	}
	if (has_control(p + 4, n)) {
		snprintf(err, errsz, "frame holds a control character or \\u0000");
		return -1;
	}
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithLengthOpts((const char *)p + 4, n, &end, 0);
	if (o == NULL) {
		size_t at = end ? (size_t)(end - (const char *)p - 4) : 0;
		snprintf(err, errsz, "frame is not JSON (near byte %zu)", at);
		return -1;
	}
	/* Whitespace may follow the object; nothing else may. */
	for (const char *q = end; q < (const char *)p + 4 + n; q++) {
		if (*q != ' ' && *q != '\n' && *q != '\r' && *q != '\t') {
			cJSON_Delete(o);
			snprintf(err, errsz, "frame has bytes after the JSON value");
			return -1;
		}
	}
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		snprintf(err, errsz, "frame is not a JSON object");
		return -1;
	}
	*framelen = 4 + (size_t)n;
	*obj = o;
	return 1;
}

cJSON *
proto_request(const char *cmd, const char *as, cJSON *args)
{
	cJSON *req = cJSON_CreateObject();

	cJSON_AddNumberToObject(req, "v", PROTO_VERSION);
	cJSON_AddStringToObject(req, "cmd", cmd);
	if (as != NULL)
		cJSON_AddStringToObject(req, "as", as);
	cJSON_AddItemToObject(req, "args", args ? args : cJSON_CreateObject());
	return req;
}

int
proto_check_request(const cJSON *req, const char **cmd, const char **as,
    const cJSON **args, char *err, size_t errsz)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "v");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(req, "cmd");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(req, "as");
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(req, "args");

	if (!cJSON_IsNumber(v)) {
		snprintf(err, errsz, "request has no protocol version \"v\"");
		return -1;
	}
	if (v->valuedouble != PROTO_VERSION) {
		snprintf(err, errsz, "protocol version %g is not supported "
		    "(this daemon speaks version %d)", v->valuedouble,
		    PROTO_VERSION);
		return -1;
	}
	if (!cJSON_IsString(c) || c->valuestring[0] == '\0') {
		snprintf(err, errsz, "request has no command \"cmd\"");
		return -1;
	}
	if (a != NULL && !cJSON_IsNull(a) && !cJSON_IsString(a)) {
		snprintf(err, errsz, "\"as\" must be a string");
		return -1;
	}
	if (g != NULL && !cJSON_IsNull(g) && !cJSON_IsObject(g)) {
		snprintf(err, errsz, "\"args\" must be an object");
		return -1;
	}
	*cmd = c->valuestring;
	*as = cJSON_IsString(a) ? a->valuestring : NULL;
	*args = cJSON_IsObject(g) ? g : NULL;
	return 0;
}
