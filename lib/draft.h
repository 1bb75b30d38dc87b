/*
 * draft.h: what a draft must pass before it is stored (SPEC §5 step 1),
 * the drafter's --set values, and the text of every message that leaves,
 * rendered from the templates.
 *
 * Contract: draft_check() decides and stores nothing; it reports every
 * refusal (Japanese, for the person drafting) and every warning. The daemon
 * stores a draft only when out->nrefusals == 0. Among the refusals, each
 * naming its key: a --set value that is malformed (draft_in may be filled
 * by hand), holds personal data by the pii rules, or is used by neither
 * of the tag's templates; a value the tag's templates require and the
 * draft lacks; and an SMS form that the values push over one segment.
 * Pure: never logs.
 */
#ifndef CRISISCAST_DRAFT_H
#define CRISISCAST_DRAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "site.h"

#define DRAFT_BODY_MAX	(16 * 1024)	/* bytes */
#define DRAFT_VARS_MAX	16
#define DRAFT_VAR_VALUE_MAX	256	/* bytes */

/*
 * The values a drafter gives with --set KEY=VALUE; templates show them as
 * var.KEY (template.h). A key is tmpl_var_key_ok(); a value is 1 to
 * DRAFT_VAR_VALUE_MAX bytes of valid UTF-8, not only blanks, with no
 * control character (C0, DEL, C1, U+2028/U+2029, bidirectional
 * embeddings, overrides and isolates): it is one line of a message.
 * Keys are unique; at most DRAFT_VARS_MAX. Stored with the alert as a
 * JSON object of strings (alerts.vars), "{}" when there are none.
 */
struct draft_var {
	char *key;
	char *value;
};

struct draft_vars {
	struct draft_var v[DRAFT_VARS_MAX];
	size_t n;
};

/*
 * Adds key=value to vs after checking both (see above), the count and
 * that key is new. 0, or -1 with a Japanese reason naming the key in err
 * (vs unchanged). Copies key and value.
 */
int draft_vars_add(struct draft_vars *vs, const char *key, const char *value,
    char *err, size_t errsz);

/*
 * Fills vs (zeroed or freed) from obj, which must be a JSON object whose
 * members are all strings (a control frame's "vars"; NULL: none), each
 * passing draft_vars_add. 0, or -1 with a Japanese reason in err and vs
 * left empty. A duplicate member name is an error, not "the last wins".
 */
struct cJSON;
int draft_vars_from_json(struct draft_vars *vs, const struct cJSON *obj,
    char *err, size_t errsz);

/* The same from JSON text (alerts.vars; NULL: none). */
int draft_vars_parse(struct draft_vars *vs, const char *json, char *err,
    size_t errsz);

/* vs (NULL: none) as compact JSON text, "{}" when empty. Caller frees. */
char *draft_vars_json(const struct draft_vars *vs);

/* The value of key, or NULL. vs may be NULL. */
const char *draft_vars_get(const struct draft_vars *vs, const char *key);

/* Frees every key and value and empties vs. NULL is allowed. */
void draft_vars_free(struct draft_vars *vs);

struct draft_in {
	const char *sender;	/* member id of who drafts */
	const char *tag;	/* with or without 【】 */
	const char *body;
	const char *audience;	/* NULL: the tag's default */
	bool drill;
	time_t at;		/* when it is drafted (rules check --at) */
	const struct draft_vars *vars;	/* --set values; NULL: none */
};

struct draft_out {
	const struct tag *tag;	/* NULL when unknown */
	char *body;		/* normalized: starts with the tag label */
	char *audience;		/* the audience used */
	size_t *recipients;	/* member indexes, in send order */
	size_t nrecipients;
	char **refusals;
	size_t nrefusals;
	char **warnings;
	size_t nwarnings;
};

void draft_check(const struct site *s, const struct draft_in *in,
    struct draft_out *out);
void draft_out_free(struct draft_out *out);

/* The members an audience reaches, in send order (the tag's `first` group,
 * then roster order). 0, or -1 with a Japanese reason in err. */
int draft_recipients(const struct site *s, const struct tag *t,
    const char *audience, size_t **idx, size_t *n, char *err, size_t errsz);

/* The values a template sees; NULL fields are absent (false in sections). */
struct msg_vars {
	const char *tag;	/* label, 【…】 */
	const char *body;
	const char *link;
	bool drill;
	const char *sender_name, *sender_title;
	const char *recipient_name, *recipient_title;
	const char *approver_name;
	const char *alert_id;
	const char *alert_created;
	const char *responses;
	const char *deadline;
	const char *audience;
	const char *organization;
	const char *vars;	/* the alert's --set values as stored: a JSON
				   object of strings; NULL or unreadable: none */
};

/*
 * Renders template `name` in `form` with v (text, no escaping). Returns a
 * new string, or NULL when the site has no such template.
 */
char *msg_render(const struct site *s, const char *name, enum tmpl_form form,
    const struct msg_vars *v);

/* The longest link this site can send: public_url + "/r/" + a token. */
char *msg_longest_link(const struct site *s, const char *route);

#endif
