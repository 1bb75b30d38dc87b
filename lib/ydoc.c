/*
 * ydoc.c: libyaml's event parser turned into a positioned tree.
 * Pure: errors go to the caller's diags, never to a log.
 */
#include "ydoc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_MAX_DEPTH 64

struct loader {
	yaml_parser_t parser;
	const char *file;
	const char *text;	/* the input, for reader-error positions */
	struct diags *d;
	bool failed;
};

static struct ynode *
node_new(struct loader *l, enum ytype type, const yaml_mark_t *mark)
{
	struct ynode *n = xcalloc(1, sizeof(*n));
	n->type = type;
	n->line = (int)mark->line + 1;
	n->col = (int)mark->column + 1;
	n->file = l->file;
	return n;
}

static void
node_append(struct ynode *n, struct ynode *key, struct ynode *item)
{
	n->items = xreallocarray(n->items, n->n + 1, sizeof(*n->items));
	if (n->type == Y_MAP) {
		n->keys = xreallocarray(n->keys, n->n + 1, sizeof(*n->keys));
		n->keys[n->n] = key;
	}
	n->items[n->n++] = item;
}

void
ynode_free(struct ynode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys != NULL)
			ynode_free(n->keys[i]);
		ynode_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->str);
	free(n->file_owned);
	free(n);
}

/*
 * libyaml's reader errors (control characters, bad encoding) leave
 * problem_mark at zero and give a byte offset instead: turn that into a
 * line and a column in characters, as the other marks count.
 */
static yaml_mark_t
reader_mark(const struct loader *l)
{
	yaml_mark_t m = { .line = 0, .column = 0 };
	size_t off = l->parser.problem_offset;

	for (size_t i = 0; l->text != NULL && i < off; i++) {
		unsigned char c = (unsigned char)l->text[i];
		if (c == '\n') {
			m.line++;
			m.column = 0;
		} else if ((c & 0xc0) != 0x80)
			m.column++;
	}
	return m;
}

static bool
next_event(struct loader *l, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&l->parser, ev)) {
		yaml_mark_t rm = reader_mark(l);
		const yaml_mark_t *m = l->parser.error == YAML_READER_ERROR ?
		    &rm : &l->parser.problem_mark;
		diag_add(l->d, l->file, (int)m->line + 1, (int)m->column + 1,
		    "YAML syntax error: %s%s%s",
		    l->parser.problem ? l->parser.problem : "malformed",
		    l->parser.context ? " " : "",
		    l->parser.context ? l->parser.context : "");
		l->failed = true;
		return false;
	}
	return true;
}

static struct ynode *parse_node(struct loader *l, yaml_event_t *ev, int depth);

/* Parses the children of a map or sequence until its end event. */
static bool
parse_children(struct loader *l, struct ynode *n, int depth)
{
	yaml_event_t ev;
	yaml_event_type_t end = n->type == Y_MAP ?
	    YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;

	for (;;) {
		if (!next_event(l, &ev))
			return false;
		if (ev.type == end) {
			yaml_event_delete(&ev);
			return true;
		}
		struct ynode *key = NULL;
		if (n->type == Y_MAP) {
			if (ev.type != YAML_SCALAR_EVENT) {
				diag_add(l->d, l->file, (int)ev.start_mark.line + 1,
				    (int)ev.start_mark.column + 1,
				    "a map key must be a plain value");
				yaml_event_delete(&ev);
				l->failed = true;
				return false;
			}
			key = parse_node(l, &ev, depth + 1);
			if (key == NULL)
				return false;
			for (size_t i = 0; i < n->n; i++) {
				if (strcmp(n->keys[i]->str, key->str) == 0) {
					ydiag(l->d, key,
					    "duplicate key \"%s\" (first at line %d)",
					    key->str, n->keys[i]->line);
					l->failed = true;
				}
			}
			if (!next_event(l, &ev)) {
				ynode_free(key);
				return false;
			}
		}
		struct ynode *item = parse_node(l, &ev, depth + 1);
		if (item == NULL) {
			ynode_free(key);
			return false;
		}
		node_append(n, key, item);
	}
}

/* Consumes ev (and, for collections, everything up to their end). */
static struct ynode *
parse_node(struct loader *l, yaml_event_t *ev, int depth)
{
	struct ynode *n = NULL;

	if (depth > YAML_MAX_DEPTH) {
		diag_add(l->d, l->file, (int)ev->start_mark.line + 1,
		    (int)ev->start_mark.column + 1, "nesting deeper than %d levels",
		    YAML_MAX_DEPTH);
		yaml_event_delete(ev);
		l->failed = true;
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor != NULL)
			goto anchor;
		n = node_new(l, Y_SCALAR, &ev->start_mark);
		n->str = xstrndup((const char *)ev->data.scalar.value,
		    ev->data.scalar.length);
		if (strlen(n->str) != ev->data.scalar.length) {
			ydiag(l->d, n, "NUL byte in a value");
			l->failed = true;
		}
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		yaml_event_delete(ev);
		return n;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		if ((ev->type == YAML_MAPPING_START_EVENT ?
		    ev->data.mapping_start.anchor :
		    ev->data.sequence_start.anchor) != NULL)
			goto anchor;
		n = node_new(l, ev->type == YAML_MAPPING_START_EVENT ?
		    Y_MAP : Y_SEQ, &ev->start_mark);
		yaml_event_delete(ev);
		if (!parse_children(l, n, depth)) {
			ynode_free(n);
			return NULL;
		}
		return n;
	case YAML_ALIAS_EVENT:
		goto anchor;
	default:
		diag_add(l->d, l->file, (int)ev->start_mark.line + 1,
		    (int)ev->start_mark.column + 1, "unexpected YAML structure");
		yaml_event_delete(ev);
		l->failed = true;
		return NULL;
	}
anchor:
	diag_add(l->d, l->file, (int)ev->start_mark.line + 1,
	    (int)ev->start_mark.column + 1,
	    "anchors and aliases (&, *) are not allowed");
	yaml_event_delete(ev);
	l->failed = true;
	return NULL;
}

struct ynode *
yaml_load_string(const char *name, const char *text, size_t len,
    struct diags *d)
{
	struct loader l = { .d = d };
	yaml_event_t ev;
	struct ynode *root = NULL;
	char *file = xstrdup(name);

	l.file = file;
	l.text = text;
	if (len > YAML_MAX_BYTES) {
		diag_add(d, file, 0, 0, "file is larger than %u bytes",
		    YAML_MAX_BYTES);
		free(file);
		return NULL;
	}
	if (!utf8_valid(text, len)) {
		diag_add(d, file, 0, 0, "file is not valid UTF-8");
		free(file);
		return NULL;
	}
	if (!yaml_parser_initialize(&l.parser))
		abort();
	yaml_parser_set_input_string(&l.parser, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&l.parser, YAML_UTF8_ENCODING);

	/* STREAM-START, then DOCUMENT-START or STREAM-END (empty file). */
	if (!next_event(&l, &ev))
		goto out;
	yaml_event_delete(&ev);
	if (!next_event(&l, &ev))
		goto out;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_mark_t m = { .line = 0, .column = 0 };
		yaml_event_delete(&ev);
		root = node_new(&l, Y_MAP, &m);
		goto out;
	}
	yaml_event_delete(&ev);
	if (!next_event(&l, &ev))
		goto out;
	root = parse_node(&l, &ev, 0);
	if (root == NULL)
		goto out;
	if (!next_event(&l, &ev))	/* DOCUMENT-END */
		goto out;
	yaml_event_delete(&ev);
	if (!next_event(&l, &ev))
		goto out;
	if (ev.type != YAML_STREAM_END_EVENT) {
		diag_add(d, file, (int)ev.start_mark.line + 1,
		    (int)ev.start_mark.column + 1,
		    "only one YAML document is allowed per file");
		l.failed = true;
	}
	yaml_event_delete(&ev);
out:
	yaml_parser_delete(&l.parser);
	if (l.failed || root == NULL) {
		ynode_free(root);
		free(file);
		return NULL;
	}
	root->file_owned = file;
	return root;
}

struct ynode *
yaml_load(const char *path, struct diags *d)
{
	size_t len;
	char *text = read_file(path, YAML_MAX_BYTES, &len);

	if (text == NULL) {
		diag_add(d, path, 0, 0, "cannot read: %s",
		    errno == EFBIG ? "file is too large" : strerror(errno));
		return NULL;
	}
	struct ynode *root = yaml_load_string(path, text, len, d);
	free(text);
	return root;
}

struct ynode *
ymap_key(const struct ynode *n, const char *key)
{
	if (n == NULL || n->type != Y_MAP)
		return NULL;
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->keys[i]->str, key) == 0)
			return n->keys[i];
	return NULL;
}

struct ynode *
ymap_get(const struct ynode *n, const char *key)
{
	if (n == NULL || n->type != Y_MAP)
		return NULL;
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->keys[i]->str, key) == 0)
			return n->items[i];
	return NULL;
}

void
ydiag(struct diags *d, const struct ynode *n, const char *fmt, ...)
{
	struct buf b = {0};
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	diag_add(d, n ? n->file : NULL, n ? n->line : 0, n ? n->col : 0,
	    "%s", b.data);
	buf_free(&b);
}

void
ywarn(struct diags *d, const struct ynode *n, const char *fmt, ...)
{
	struct buf b = {0};
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	diag_warn(d, n ? n->file : NULL, n ? n->line : 0, n ? n->col : 0,
	    "%s", b.data);
	buf_free(&b);
}

static const char *
type_name(enum ytype t)
{
	switch (t) {
	case Y_SCALAR: return "a value";
	case Y_MAP: return "a map";
	case Y_SEQ: return "a list";
	}
	return "?";
}

bool
ymap_check(const struct ynode *n, const char *what,
    const char *const allowed[], struct diags *d)
{
	bool ok = true;

	if (n == NULL || n->type != Y_MAP) {
		ydiag(d, n, "%s must be a map, not %s", what,
		    n ? type_name(n->type) : "nothing");
		return false;
	}
	for (size_t i = 0; i < n->n; i++) {
		bool known = false;
		for (size_t j = 0; allowed[j] != NULL; j++)
			if (strcmp(allowed[j], n->keys[i]->str) == 0)
				known = true;
		if (!known) {
			ydiag(d, n->keys[i], "unknown key \"%s\" in %s",
			    n->keys[i]->str, what);
			ok = false;
		}
	}
	return ok;
}

static const struct ynode *
get_scalar(const struct ynode *map, const char *key, bool required,
    struct diags *d)
{
	const struct ynode *v = ymap_get(map, key);

	if (v == NULL) {
		if (required)
			ydiag(d, map, "missing \"%s\"", key);
		return NULL;
	}
	if (v->type != Y_SCALAR) {
		ydiag(d, v, "\"%s\" must be a value, not %s", key,
		    type_name(v->type));
		return NULL;
	}
	return v;
}

bool
yget_str(const struct ynode *map, const char *key, bool required,
    struct diags *d, const char **out)
{
	const struct ynode *v = get_scalar(map, key, required, d);

	if (v == NULL)
		return false;
	if (v->str[0] == '\0' && !v->quoted) {
		ydiag(d, v, "\"%s\" is empty", key);
		return false;
	}
	*out = v->str;
	return true;
}

bool
yget_bool(const struct ynode *map, const char *key, bool required,
    struct diags *d, bool *out)
{
	const struct ynode *v = get_scalar(map, key, required, d);

	if (v == NULL)
		return false;
	if (strcmp(v->str, "true") == 0 || strcmp(v->str, "yes") == 0)
		*out = true;
	else if (strcmp(v->str, "false") == 0 || strcmp(v->str, "no") == 0)
		*out = false;
	else {
		ydiag(d, v, "\"%s\" must be true or false, not \"%s\"", key,
		    v->str);
		return false;
	}
	return true;
}

bool
yget_long(const struct ynode *map, const char *key, long min, long max,
    bool required, struct diags *d, long *out)
{
	const struct ynode *v = get_scalar(map, key, required, d);

	if (v == NULL)
		return false;
	if (parse_long(v->str, min, max, out) < 0) {
		ydiag(d, v, "\"%s\" must be a whole number from %ld to %ld, "
		    "not \"%s\"", key, min, max, v->str);
		return false;
	}
	return true;
}

bool
yget_duration(const struct ynode *map, const char *key, bool required,
    struct diags *d, long *out)
{
	const struct ynode *v = get_scalar(map, key, required, d);

	if (v == NULL)
		return false;
	if (parse_duration(v->str, out) < 0 || *out <= 0) {
		ydiag(d, v, "\"%s\" must be a duration such as 90s, 10m or 1h, "
		    "not \"%s\"", key, v->str);
		return false;
	}
	return true;
}

bool
yget_strlist(const struct ynode *map, const char *key, bool required,
    struct diags *d, char ***out, size_t *nout)
{
	const struct ynode *v = ymap_get(map, key);

	if (v == NULL) {
		if (required)
			ydiag(d, map, "missing \"%s\"", key);
		return false;
	}
	if (v->type == Y_SCALAR) {
		*out = xcalloc(1, sizeof(char *));
		(*out)[0] = xstrdup(v->str);
		*nout = 1;
		return true;
	}
	if (v->type != Y_SEQ) {
		ydiag(d, v, "\"%s\" must be a list", key);
		return false;
	}
	for (size_t i = 0; i < v->n; i++) {
		if (v->items[i]->type != Y_SCALAR) {
			ydiag(d, v->items[i], "items of \"%s\" must be values",
			    key);
			return false;
		}
	}
	*out = xcalloc(v->n + 1, sizeof(char *));
	for (size_t i = 0; i < v->n; i++)
		(*out)[i] = xstrdup(v->items[i]->str);
	*nout = v->n;
	return true;
}

void
strlist_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
