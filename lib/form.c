/*
 * form.c: application/x-www-form-urlencoded, strictly (see form.h). Must
 * never accept a body it cannot decode exactly, nor log.
 */
#include "form.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes p[0..len) into a new string in *out. Returns NULL, or a static
 * English reason.
 */
static const char *
decode(const char *p, size_t len, char **out)
{
	char *s = xmalloc(len + 1);
	size_t n = 0;

	*out = NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			int hi, lo;
			if (i + 2 >= len) {
				free(s);
				return "truncated percent escape";
			}
			hi = hexval((unsigned char)p[i + 1]);
			lo = hexval((unsigned char)p[i + 2]);
			if (hi < 0 || lo < 0) {
				free(s);
				return "invalid percent escape";
			}
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c <= 0x20 || c == 0x7f) {
			free(s);
			return "raw control character or space";
		}
		if (c == '\0') {
			free(s);
			return "NUL byte";
		}
		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') ||
		    c == 0x7f) {
			free(s);
			return "control character";
		}
		s[n++] = (char)c;
	}
	s[n] = '\0';
	if (!utf8_valid(s, n)) {
		free(s);
		return "invalid UTF-8";
	}
	*out = s;
	return NULL;
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > FORM_MAX_NAME)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
		    *s == '-'))
			return false;
	return true;
}

int
form_parse(const char *body, size_t len, struct form *f, char *err,
    size_t errsz)
{
	const char *p = body, *end = body + len;
	const char *why = NULL;

	memset(f, 0, sizeof(*f));
	if (len > FORM_MAX_BYTES) {
		snprintf(err, errsz, "body over %d bytes", FORM_MAX_BYTES);
		return -1;
	}
	if (len == 0)
		return 0;
	for (;;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *fe = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(fe - p));
		char *name = NULL, *value = NULL;

		if (fe == p) {
			why = "empty field";
			break;
		}
		if (eq == NULL) {
			why = "field without '='";
			break;
		}
		if (f->n == FORM_MAX_FIELDS) {
			why = "too many fields";
			break;
		}
		if ((why = decode(p, (size_t)(eq - p), &name)) != NULL)
			break;
		if (!name_ok(name)) {
			free(name);
			why = "invalid field name";
			break;
		}
		if (form_get(f, name) != NULL) {
			free(name);
			why = "duplicate field";
			break;
		}
		if ((why = decode(eq + 1, (size_t)(fe - eq - 1), &value)) !=
		    NULL) {
			free(name);
			break;
		}
		f->v = xreallocarray(f->v, f->n + 1, sizeof(*f->v));
		f->v[f->n].name = name;
		f->v[f->n++].value = value;
		if (amp == NULL)
			return 0;
		p = amp + 1;
	}
	snprintf(err, errsz, "%s", why);
	form_free(f);
	return -1;
}

const char *
form_get(const struct form *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].name, name) == 0)
			return f->v[i].value;
	return NULL;
}

void
form_free(struct form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].name);
		free(f->v[i].value);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}
