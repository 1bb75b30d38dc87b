/*
 * form.h: a strict parser for application/x-www-form-urlencoded bodies
 * (the HTML forms of the approval and recipient pages, ntfy's one-tap
 * action). Strict means: anything a browser would not send is an error,
 * never a guess.
 *
 * Contract: form_parse() either fills *f with every field or returns -1
 * with an English reason in err and leaves *f empty. Pure: never logs.
 */
#ifndef CRISISCAST_FORM_H
#define CRISISCAST_FORM_H

#include <stddef.h>

#define FORM_MAX_BYTES		(16 * 1024)	/* whole body */
#define FORM_MAX_FIELDS		16
#define FORM_MAX_NAME		64		/* bytes, decoded */

struct form_field {
	char *name;		/* [A-Za-z0-9_.-]+ */
	char *value;		/* valid UTF-8, NUL-terminated, no NUL inside */
};

struct form {
	struct form_field *v;
	size_t n;
};

/*
 * Parses len bytes of body (need not be NUL-terminated). Fields are
 * name=value joined by '&'; '+' is a space and %XX a byte. Errors: a body
 * over FORM_MAX_BYTES; more than FORM_MAX_FIELDS fields; an empty field
 * ("a=1&&b=2", a trailing '&'); a field without '='; an empty name or one
 * outside [A-Za-z0-9_.-] or longer than FORM_MAX_NAME; a '%' not followed
 * by two hex digits; a decoded NUL or other control character except tab,
 * CR and LF; invalid UTF-8 (raw or percent-encoded: ntfy and curl send
 * raw UTF-8, browsers encode it); a raw control byte or space; and a name
 * given twice. The empty body is zero fields.
 */
int form_parse(const char *body, size_t len, struct form *f, char *err,
    size_t errsz);

/* The value of name, or NULL when the form has no such field. */
const char *form_get(const struct form *f, const char *name);

/* Frees the fields; the form may be parsed into again. */
void form_free(struct form *f);

#endif
