/*
 * ydoc.c: libyaml's event parser turned into a positioned tree.
 * Pure: errors go to the caller's diags, never to a log.
 *
 * A tree lives in its own arena: nodes, strings and child arrays are cut
 * from blocks mapped for that tree alone and unmapped together by
 * ynode_free(). A 30,000-member roster's tree (tens of MB, freed as soon
 * as the roster is built) thus leaves no free-but-resident holes under the
 * long-lived data in the heap, and costs no malloc or free per node. Under
 * AddressSanitizer every piece is its own malloc instead, so overflows and
 * leaks are still caught piece by piece.
 */
#include "ydoc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <yaml.h>

#define YAML_MAX_DEPTH 64

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_MALLOC_EACH 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_MALLOC_EACH 1
#endif
#endif

#define BLOCK_FIRST	(16u << 10)	/* bytes in a tree's first block */
#define BLOCK_MAX	(1u << 20)	/* blocks double up to this size */

/* The start of a mapped block; its pieces follow. */
struct yblock {
	struct yblock *next;
	size_t size;		/* bytes mapped, this header included */
};

/* One malloc'd piece, under AddressSanitizer. */
struct ypiece {
	struct ypiece *next;
	max_align_t data[];
};

struct yarena {
	struct yblock *blocks;	/* newest first */
	struct ypiece *pieces;
	char *next;		/* free space in the newest block */
	size_t left;
};

struct loader {
	yaml_parser_t parser;
	const char *file;
	const char *text;	/* the input, for reader-error positions */
	struct diags *d;
	struct yarena *arena;
	/* The children (key, value for a map) of every collection still
	 * open, innermost last: a collection takes its own off the top. */
	struct ynode **stack;
	size_t nstack, capstack;
	bool failed;
};

/* n bytes at a multiple of align (a power of two, at most a pointer's);
 * aborts when out of memory, as xmalloc does. */
static void *
arena_alloc(struct yarena *a, size_t n, size_t align)
{
#ifdef ARENA_MALLOC_EACH
	struct ypiece *pc = xmalloc(sizeof(*pc) + n);

	(void)align;
	pc->next = a->pieces;
	a->pieces = pc;
	return pc->data;
#else
	size_t pad = (size_t)-(uintptr_t)a->next & (align - 1);
	char *p;

	if (pad + n > a->left) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		size_t size = a->blocks == NULL ? BLOCK_FIRST :
		    a->blocks->size < BLOCK_MAX ? 2 * a->blocks->size :
		    BLOCK_MAX;
		struct yblock *b;

		if (size < sizeof(*b) + n)
			size = (sizeof(*b) + n + page - 1) / page * page;
		b = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (b == MAP_FAILED)
			abort();
		b->next = a->blocks;
		b->size = size;
		a->blocks = b;
		a->next = (char *)(b + 1);
		a->left = size - sizeof(*b);
		pad = 0;
	}
	p = a->next + pad;
	a->next = p + n;
	a->left -= pad + n;
	return p;
#endif
}

static char *
arena_strndup(struct yarena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1, 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void
arena_free(struct yarena *a)
{
	if (a == NULL)
		return;
	while (a->blocks != NULL) {
		struct yblock *b = a->blocks;
		a->blocks = b->next;
		munmap(b, b->size);
	}
	while (a->pieces != NULL) {
		struct ypiece *pc = a->pieces;
		a->pieces = pc->next;
		free(pc);
	}
	free(a);
}

static struct ynode *
node_new(struct loader *l, enum ytype type, const yaml_mark_t *mark)
{
	struct ynode *n = arena_alloc(l->arena, sizeof(*n),
	    _Alignof(struct ynode));

	memset(n, 0, sizeof(*n));
	n->type = type;
	n->line = (int)mark->line + 1;
	n->col = (int)mark->column + 1;
	n->file = l->file;
	return n;
}

static void
push(struct loader *l, struct ynode *n)
{
	if (l->nstack == l->capstack) {
		l->capstack = l->capstack ? 2 * l->capstack : 64;
		l->stack = xreallocarray(l->stack, l->capstack,
		    sizeof(*l->stack));
	}
	l->stack[l->nstack++] = n;
}

/* Gives collection n the children pushed since base, and pops them. */
static void
take_children(struct loader *l, struct ynode *n, size_t base)
{
	size_t step = n->type == Y_MAP ? 2 : 1;

	n->n = (l->nstack - base) / step;
	if (n->n > 0) {
		n->items = arena_alloc(l->arena, n->n * sizeof(*n->items),
		    _Alignof(struct ynode *));
		if (n->type == Y_MAP)
			n->keys = arena_alloc(l->arena,
			    n->n * sizeof(*n->keys), _Alignof(struct ynode *));
	}
	for (size_t i = 0; i < n->n; i++) {
		if (n->type == Y_MAP)
			n->keys[i] = l->stack[base + 2 * i];
		n->items[i] = l->stack[base + step * i + step - 1];
	}
	l->nstack = base;
}

void
ynode_free(struct ynode *root)
{
	if (root != NULL)
		arena_free(root->arena);
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

/*
 * Parses the children of a map or sequence until its end event. On
 * failure the arena and the stack are left for the caller to drop whole.
 */
static bool
parse_children(struct loader *l, struct ynode *n, int depth)
{
	yaml_event_t ev;
	yaml_event_type_t end = n->type == Y_MAP ?
	    YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
	size_t base = l->nstack;

	for (;;) {
		if (!next_event(l, &ev))
			return false;
		if (ev.type == end) {
			yaml_event_delete(&ev);
			take_children(l, n, base);
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
			for (size_t i = base; i < l->nstack; i += 2) {
				const struct ynode *k = l->stack[i];
				if (strcmp(k->str, key->str) == 0) {
					ydiag(l->d, key,
					    "duplicate key \"%s\" (first at line %d)",
					    key->str, k->line);
					l->failed = true;
				}
			}
			push(l, key);
			if (!next_event(l, &ev))
				return false;
		}
		struct ynode *item = parse_node(l, &ev, depth + 1);
		if (item == NULL)
			return false;
		push(l, item);
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
		n->str = arena_strndup(l->arena,
		    (const char *)ev->data.scalar.value,
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
		return parse_children(l, n, depth) ? n : NULL;
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

	if (len > YAML_MAX_BYTES) {
		diag_add(d, name, 0, 0, "file is larger than %u bytes",
		    YAML_MAX_BYTES);
		return NULL;
	}
	if (!utf8_valid(text, len)) {
		diag_add(d, name, 0, 0, "file is not valid UTF-8");
		return NULL;
	}
	l.arena = xcalloc(1, sizeof(*l.arena));
	l.file = arena_strndup(l.arena, name, strlen(name));
	l.text = text;
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
		diag_add(d, l.file, (int)ev.start_mark.line + 1,
		    (int)ev.start_mark.column + 1,
		    "only one YAML document is allowed per file");
		l.failed = true;
	}
	yaml_event_delete(&ev);
out:
	yaml_parser_delete(&l.parser);
	free(l.stack);
	if (l.failed || root == NULL) {
		arena_free(l.arena);
		return NULL;
	}
	root->arena = l.arena;
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
