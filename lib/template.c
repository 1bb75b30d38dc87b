/*
 * template.c: compiles message templates (a mustache subset, see
 * template.h) into a flat node list, renders them, loads the template
 * directory, and counts SMS lengths in GSM-7 septets or UCS-2 units.
 *
 * Must never: log, exit, read a file after tmpl_set_load returns, or let a
 * template with any error through (an unknown name is a load-time error,
 * never an empty string at send time). Rendering must never fail.
 */
#include "template.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Errors reported per template before the compiler gives up on it. */
#define TMPL_MAX_ERRORS	20

const char *const tmpl_delivery_names[] = {
	"organization", "tag", "body", "link", "drill",
	"sender.name", "sender.title", "recipient.name", "recipient.title",
	"alert.id", "alert.created", "responses", "deadline",
	TMPL_VAR_PREFIX "*",
	NULL
};

const char *const tmpl_approval_names[] = {
	"organization", "tag", "body", "link", "drill",
	"sender.name", "sender.title", "alert.id", "alert.created",
	"audience", "approver.name",
	NULL
};

enum node_type {
	N_TEXT,			/* src[off, off + len) */
	N_VAR,			/* value, escaped in TMPL_HTML */
	N_RAW,			/* value, never escaped */
	N_SECTION,		/* nodes up to end when the value is truthy */
	N_INVERTED,		/* nodes up to end when it is not */
};

struct node {
	enum node_type type;
	size_t off, len;	/* N_TEXT */
	char *name;		/* every other type */
	size_t end;		/* sections: index of the first node after */
};

struct tmpl {
	char *name;
	char *src;
	struct node *nodes;
	size_t nnodes;
	struct tmpl_var *vars;	/* keys point into nodes[].name */
	size_t nvars;
};

struct open_section {
	size_t node;		/* index of its N_SECTION/N_INVERTED node */
	size_t off;		/* offset of its "{{" */
};

struct compiler {
	const char *file;
	const char *text;
	size_t len;
	const char *const *known;
	struct diags *d;
	int errors;
	bool gave_up;
	/* line/col of pos_off, so positions are found without rescanning */
	size_t pos_off;
	int pos_line, pos_col;
	struct tmpl *t;
	size_t cap;
	struct open_section *stack;
	size_t depth, stackcap;
};

/*
 * Decodes one UTF-8 character at p (n > 0 bytes available). Returns its
 * length and stores the code point, or returns 0 when p does not start a
 * valid character (overlong, surrogate, over U+10FFFF, truncated).
 * Must agree with utf8_valid in util.c.
 */
static size_t
utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c = p[0], v;
	size_t need;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		need = 1; v = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		need = 2; v = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		need = 3; v = c & 0x07;
	} else
		return 0;
	if (n <= need)
		return 0;
	for (size_t i = 1; i <= need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if ((need == 1 && v < 0x80) || (need == 2 && v < 0x800) ||
	    (need == 3 && v < 0x10000) || v > 0x10ffff ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return need + 1;
}

/* 1-based line and character column of byte offset off (a char start). */
static void
where(struct compiler *c, size_t off, int *line, int *col)
{
	if (off < c->pos_off) {
		c->pos_off = 0;
		c->pos_line = c->pos_col = 1;
	}
	for (; c->pos_off < off && c->pos_off < c->len; c->pos_off++) {
		unsigned char b = (unsigned char)c->text[c->pos_off];

		if (b == '\n') {
			c->pos_line++;
			c->pos_col = 1;
		} else if ((b & 0xc0) != 0x80)
			c->pos_col++;
	}
	*line = c->pos_line;
	*col = c->pos_col;
}

static void PRINTFLIKE(3, 4)
error_at(struct compiler *c, size_t off, const char *fmt, ...)
{
	struct buf b = {0};
	va_list ap;
	int line, col;

	if (c->gave_up)
		return;
	where(c, off, &line, &col);
	if (++c->errors > TMPL_MAX_ERRORS) {
		diag_add(c->d, c->file, line, col,
		    "too many errors, giving up on this template");
		c->gave_up = true;
		return;
	}
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	diag_add(c->d, c->file, line, col, "%s", b.data);
	buf_free(&b);
}

static struct node *
node_add(struct compiler *c, enum node_type type)
{
	struct tmpl *t = c->t;
	struct node *n;

	if (t->nnodes == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		t->nodes = xreallocarray(t->nodes, c->cap, sizeof(*t->nodes));
	}
	n = &t->nodes[t->nnodes++];
	memset(n, 0, sizeof(*n));
	n->type = type;
	return n;
}

static void
text_add(struct compiler *c, size_t from, size_t to)
{
	struct node *n;

	if (to <= from)
		return;
	n = node_add(c, N_TEXT);
	n->off = from;
	n->len = to - from;
}

static bool
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool
name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '_';
}

bool
tmpl_var_key_ok(const char *key)
{
	size_t n;

	if (key == NULL)
		return false;
	for (n = 0; key[n] != '\0'; n++)
		if (!name_char(key[n]) || n >= TMPL_VAR_KEY_MAX)
			return false;
	return n > 0;
}

/*
 * Whether name (syntax already checked) is admitted by the known entry k:
 * equal to it, or, for k = "P.*", P.KEY with KEY one segment of at most
 * TMPL_VAR_KEY_MAX bytes. When name starts with such a "P.", *prefix is
 * set to its length (so a near miss can be explained).
 */
static bool
known_match(const char *k, const char *name, size_t *prefix)
{
	size_t kl = strlen(k);

	if (kl < 2 || strcmp(k + kl - 2, ".*") != 0)
		return strcmp(k, name) == 0;
	if (strncmp(k, name, kl - 1) != 0)
		return false;
	*prefix = kl - 1;
	return tmpl_var_key_ok(name + kl - 1);
}

/*
 * Checks the name at text[off, off + len) (already trimmed) for syntax
 * and, when must_know, against the known list. Returns a new string, or
 * NULL after reporting the error.
 */
static char *
name_check(struct compiler *c, size_t tag, size_t off, size_t len,
    bool must_know)
{
	const char *s = c->text + off;
	char *name;

	if (len == 0) {
		error_at(c, tag, "empty name in tag");
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		uint32_t cp;

		if (name_char(s[i]))
			continue;
		if (s[i] == '.' && i > 0 && i + 1 < len && s[i + 1] != '.')
			continue;
		if (s[i] == '.') {
			error_at(c, off + i, "misplaced '.' in name \"%.*s\"",
			    (int)len, s);
			return NULL;
		}
		if ((unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f)
			error_at(c, off + i, "bad character '%c' in name "
			    "\"%.*s\"", s[i], (int)len, s);
		else {
			if (utf8_next((const unsigned char *)s + i, len - i,
			    &cp) == 0)
				cp = (unsigned char)s[i];
			error_at(c, off + i, "bad character U+%04X in name "
			    "(a name is letters, digits, '_' and '.')",
			    (unsigned)cp);
		}
		return NULL;
	}
	name = xstrndup(s, len);
	if (must_know) {
		size_t i, prefix = 0;

		for (i = 0; c->known[i] != NULL; i++)
			if (known_match(c->known[i], name, &prefix))
				break;
		if (c->known[i] == NULL) {
			struct buf b = {0};

			for (i = 0; c->known[i] != NULL; i++)
				buf_printf(&b, "%s%s", i ? ", " : "",
				    c->known[i]);
			if (prefix > 0)
				error_at(c, off, "bad name \"%s\": after \"%.*s\""
				    " comes one segment of letters, digits and "
				    "'_', at most %d bytes", name, (int)prefix,
				    name, TMPL_VAR_KEY_MAX);
			else if (startswith(name, TMPL_VAR_PREFIX))
				error_at(c, off, "unknown name \"%s\": "
				    TMPL_VAR_PREFIX "KEY values are for delivery "
				    "templates only (known: %s)", name,
				    b.data ? b.data : "none");
			else
				error_at(c, off, "unknown name \"%s\" (known: "
				    "%s)", name, b.data ? b.data : "none");
			buf_free(&b);
			free(name);
			return NULL;
		}
	}
	return name;
}

static void
section_open(struct compiler *c, bool inverted, size_t tag, char *name)
{
	struct node *n = node_add(c, inverted ? N_INVERTED : N_SECTION);

	n->name = name;
	if (c->depth == c->stackcap) {
		c->stackcap = c->stackcap ? c->stackcap * 2 : 8;
		c->stack = xreallocarray(c->stack, c->stackcap,
		    sizeof(*c->stack));
	}
	c->stack[c->depth].node = c->t->nnodes - 1;
	c->stack[c->depth].off = tag;
	c->depth++;
}

static void
section_close(struct compiler *c, size_t tag, char *name)
{
	size_t i;

	if (c->depth == 0) {
		error_at(c, tag, "{{/%s}} closes no open section", name);
		goto done;
	}
	for (i = c->depth; i > 0; i--)
		if (strcmp(c->t->nodes[c->stack[i - 1].node].name, name) == 0)
			break;
	if (i != c->depth) {
		struct open_section *top = &c->stack[c->depth - 1];
		const struct node *n = &c->t->nodes[top->node];
		int line, col;

		where(c, top->off, &line, &col);
		error_at(c, tag, "{{/%s}} does not match {{%c%s}} opened at "
		    "%d:%d", name, n->type == N_INVERTED ? '^' : '#', n->name,
		    line, col);
		if (i == 0)
			goto done;	/* stray close: ignore it */
	}
	/* Close everything down to and including the match. */
	while (c->depth >= i && c->depth > 0) {
		c->depth--;
		c->t->nodes[c->stack[c->depth].node].end = c->t->nnodes;
	}
done:
	free(name);
}

/*
 * When the tag text[tag, end) is alone on its line, stores the start of
 * that line and the offset just past its newline (or the end of text) and
 * returns true. lit is where the pending literal text starts.
 */
static bool
standalone(const struct compiler *c, size_t lit, size_t tag, size_t end,
    size_t *line_start, size_t *next)
{
	size_t ls = tag, e = end;

	while (ls > lit && is_blank(c->text[ls - 1]))
		ls--;
	if (ls != 0 && c->text[ls - 1] != '\n')
		return false;
	while (e < c->len && is_blank(c->text[e]))
		e++;
	if (e < c->len && c->text[e] == '\r' && e + 1 < c->len &&
	    c->text[e + 1] == '\n')
		e++;
	if (e < c->len && c->text[e] != '\n')
		return false;
	*line_start = ls;
	*next = e < c->len ? e + 1 : e;
	return true;
}

static void
parse(struct compiler *c)
{
	const char *text = c->text;
	size_t lit = 0, p = 0;

	while (p < c->len && !c->gave_up) {
		const char *o = strstr(text + p, "{{"), *cl, *inner;
		size_t tag, q, close, end, from, to, ls, next;
		char kind = 0;
		bool triple;

		if (o == NULL)
			break;
		tag = (size_t)(o - text);
		q = tag + 2;
		triple = text[q] == '{';
		if (text[q] != '\0' && strchr("#^/!{", text[q]) != NULL)
			kind = text[q++];
		cl = strstr(text + q, "}}");
		if (cl == NULL) {
			error_at(c, tag, "unterminated tag: no \"}}\" after "
			    "\"{{\"");
			break;
		}
		close = (size_t)(cl - text);
		inner = memmem(text + q, close - q, "{{", 2);
		if (inner != NULL) {
			if (kind == '!')
				error_at(c, tag, "a comment cannot contain "
				    "\"{{\" (it would end at the first \"}}\")");
			else
				error_at(c, tag, "unterminated tag: \"{{\" "
				    "before the \"}}\" that would close it");
			p = (size_t)(inner - text);
			lit = p;
			continue;
		}
		end = close + 2;
		if (triple) {
			if (text[end] != '}') {
				error_at(c, tag, "\"{{{\" must be closed by "
				    "\"}}}\"");
				p = lit = end;
				continue;
			}
			end++;
		}
		from = q;
		to = close;
		while (from < to && is_blank(text[from]))
			from++;
		while (to > from && is_blank(text[to - 1]))
			to--;

		if ((kind == '#' || kind == '^' || kind == '/' ||
		    kind == '!') && standalone(c, lit, tag, end, &ls, &next)) {
			text_add(c, lit, ls);
			p = lit = next;
		} else {
			text_add(c, lit, tag);
			p = lit = end;
		}

		if (kind == '!')
			continue;
		if (kind == 0 && from < to && strchr(">=&", text[from])) {
			error_at(c, tag, "%s", text[from] == '>' ?
			    "partials ({{>name}}) are not supported" :
			    text[from] == '=' ?
			    "set-delimiter tags ({{=...=}}) are not supported" :
			    "use {{{name}}} for a value without escaping");
			continue;
		}
		char *name = name_check(c, tag, from, to - from, kind != '/');
		if (name == NULL)
			continue;
		switch (kind) {
		case '#':
		case '^':
			section_open(c, kind == '^', tag, name);
			break;
		case '/':
			section_close(c, tag, name);
			break;
		default:
			node_add(c, triple ? N_RAW : N_VAR)->name = name;
			break;
		}
	}
	if (!c->gave_up)
		text_add(c, lit, c->len);
	while (c->depth > 0) {
		const struct open_section *s = &c->stack[--c->depth];

		error_at(c, s->off, "section \"%s\" is not closed",
		    c->t->nodes[s->node].name);
	}
}

/*
 * Fills t->vars from the compiled nodes: every var.KEY once, in order of
 * first use, required when some value node of it is not inside a section
 * of its own name (see struct tmpl_var).
 */
static void
collect_vars(struct tmpl *t)
{
	const size_t plen = strlen(TMPL_VAR_PREFIX);
	size_t *open = NULL, depth = 0, cap = 0;	/* enclosing sections */

	for (size_t i = 0; i < t->nnodes; i++) {
		const struct node *n = &t->nodes[i];
		bool guarded = false;
		size_t k;

		while (depth > 0 && t->nodes[open[depth - 1]].end <= i)
			depth--;
		if (n->type == N_SECTION || n->type == N_INVERTED) {
			if (depth == cap) {
				cap = cap ? cap * 2 : 8;
				open = xreallocarray(open, cap, sizeof(*open));
			}
			open[depth++] = i;
		}
		if (n->type == N_TEXT || !startswith(n->name, TMPL_VAR_PREFIX))
			continue;
		for (k = 0; k < t->nvars; k++)
			if (strcmp(t->vars[k].key, n->name + plen) == 0)
				break;
		if (k == t->nvars) {
			t->vars = xreallocarray(t->vars, t->nvars + 1,
			    sizeof(*t->vars));
			t->vars[t->nvars].key = n->name + plen;
			t->vars[t->nvars].required = false;
			t->nvars++;
		}
		if (n->type != N_VAR && n->type != N_RAW)
			continue;
		for (size_t j = 0; j < depth && !guarded; j++)
			guarded = t->nodes[open[j]].type == N_SECTION &&
			    strcmp(t->nodes[open[j]].name, n->name) == 0;
		if (!guarded)
			t->vars[k].required = true;
	}
	free(open);
}

size_t
tmpl_vars(const struct tmpl *t, const struct tmpl_var **vars)
{
	*vars = t->vars;
	return t->nvars;
}

void
tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	free(t->vars);
	for (size_t i = 0; i < t->nnodes; i++)
		free(t->nodes[i].name);
	free(t->nodes);
	free(t->src);
	free(t->name);
	free(t);
}

struct tmpl *
tmpl_compile(const char *name, const char *text, const char *const known[],
    struct diags *d)
{
	struct compiler c = {
		.file = name, .text = text, .known = known, .d = d,
		.pos_line = 1, .pos_col = 1,
	};
	size_t len = strnlen(text, TMPL_MAX_SIZE + 1);

	if (len > TMPL_MAX_SIZE) {
		diag_add(d, name, 0, 0, "template is larger than %d bytes",
		    TMPL_MAX_SIZE);
		return NULL;
	}
	if (!utf8_valid(text, len)) {
		const unsigned char *u = (const unsigned char *)text;
		size_t off = 0, n;
		uint32_t cp;
		int line, col;

		c.len = len;
		while (off < len && (n = utf8_next(u + off, len - off, &cp)))
			off += n;
		where(&c, off, &line, &col);
		diag_add(d, name, line, col, "invalid UTF-8 (byte 0x%02x)",
		    off < len ? u[off] : 0);
		return NULL;
	}
	c.len = len;
	c.t = xcalloc(1, sizeof(*c.t));
	c.t->name = xstrdup(name);
	c.t->src = xstrndup(text, len);
	c.text = c.t->src;
	parse(&c);
	free(c.stack);
	if (c.errors > 0) {
		tmpl_free(c.t);
		return NULL;
	}
	collect_vars(c.t);
	return c.t;
}

const char *
tmpl_name(const struct tmpl *t)
{
	return t->name;
}

static void
html_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default: buf_addc(b, *s); break;
		}
	}
}

char *
tmpl_render(const struct tmpl *t, tmpl_lookup fn, void *ctx,
    enum tmpl_escape esc)
{
	struct buf b = {0};
	size_t i = 0;

	while (i < t->nnodes) {
		const struct node *n = &t->nodes[i];
		const char *v;
		bool truthy;

		switch (n->type) {
		case N_TEXT:
			buf_add(&b, t->src + n->off, n->len);
			i++;
			break;
		case N_VAR:
		case N_RAW:
			v = fn(ctx, n->name);
			if (v != NULL) {
				if (n->type == N_VAR && esc == TMPL_HTML)
					html_escape(&b, v);
				else
					buf_adds(&b, v);
			}
			i++;
			break;
		case N_SECTION:
		case N_INVERTED:
			v = fn(ctx, n->name);
			truthy = v != NULL && *v != '\0';
			if (truthy == (n->type == N_SECTION))
				i++;
			else
				i = n->end;
			break;
		}
	}
	return buf_take(&b);
}

/* Template sets */

static const char *const form_names[TMPL_NFORMS] = {
	[TMPL_LONG] = "long",
	[TMPL_SMS] = "sms",
};

struct tmpl_entry {
	char *name;
	struct tmpl *t[TMPL_NFORMS];
};

struct tmpl_set {
	struct tmpl_entry *e;
	size_t n;
};

void
tmpl_set_free(struct tmpl_set *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		for (int f = 0; f < TMPL_NFORMS; f++)
			tmpl_free(s->e[i].t[f]);
		free(s->e[i].name);
	}
	free(s->e);
	free(s);
}

const struct tmpl *
tmpl_set_get(const struct tmpl_set *s, const char *name, enum tmpl_form form)
{
	if (s == NULL || name == NULL || (int)form < 0 || form >= TMPL_NFORMS)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->e[i].name, name) == 0)
			return s->e[i].t[form];
	return NULL;
}

static bool
template_name_ok(const char *name)
{
	if (*name == '\0' || strlen(name) > 64)
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!name_char(*p) && *p != '-')
			return false;
	return true;
}

/* Reads and compiles dir/<name>.<form>.txt; NULL after reporting to d. */
static struct tmpl *
load_file(const char *dir, const char *name, enum tmpl_form form,
    const char *const known[], struct diags *d)
{
	char *file = xasprintf("%s.%s.txt", name, form_names[form]);
	char *path = path_join(dir, file);
	struct tmpl *t = NULL;
	size_t len;
	char *text;

	free(file);
	text = read_file(path, TMPL_MAX_SIZE, &len);
	if (text == NULL) {
		if (errno == ENOENT)
			diag_add(d, path, 0, 0, "missing template file");
		else if (errno == EFBIG)
			diag_add(d, path, 0, 0, "template file is larger "
			    "than %d bytes", TMPL_MAX_SIZE);
		else
			diag_add(d, path, 0, 0, "cannot read template: %s",
			    strerror(errno));
	} else if (strlen(text) != len) {
		diag_add(d, path, 0, 0, "template file contains a NUL byte "
		    "at offset %zu", strlen(text));
	} else {
		/* The file's final newline is not part of the template. */
		if (len > 0 && text[len - 1] == '\n')
			text[--len] = '\0';
		if (len > 0 && text[len - 1] == '\r')
			text[--len] = '\0';
		t = tmpl_compile(path, text, known, d);
	}
	free(text);
	free(path);
	return t;
}

static void
load_entry(struct tmpl_set *s, const char *dir, const char *name,
    const char *const known[], struct diags *d)
{
	struct tmpl_entry *e;

	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->e[i].name, name) == 0)
			return;
	s->e = xreallocarray(s->e, s->n + 1, sizeof(*s->e));
	e = &s->e[s->n++];
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(name);
	for (int f = 0; f < TMPL_NFORMS; f++)
		e->t[f] = load_file(dir, name, (enum tmpl_form)f, known, d);
}

struct tmpl_set *
tmpl_set_load(const char *dir, const char *const names[], size_t nnames,
    struct diags *d)
{
	struct tmpl_set *s = xcalloc(1, sizeof(*s));
	size_t before = diag_errors(d);

	load_entry(s, dir, TMPL_APPROVAL, tmpl_approval_names, d);
	for (size_t i = 0; i < nnames; i++) {
		if (names[i] == NULL || !template_name_ok(names[i])) {
			diag_add(d, dir, 0, 0, "bad template name \"%s\" "
			    "(letters, digits, '_' and '-')",
			    names[i] ? names[i] : "(null)");
			continue;
		}
		if (strcmp(names[i], TMPL_APPROVAL) == 0) {
			diag_add(d, dir, 0, 0, "template name \"%s\" is "
			    "reserved for approval requests", TMPL_APPROVAL);
			continue;
		}
		load_entry(s, dir, names[i], tmpl_delivery_names, d);
	}
	if (diag_errors(d) != before) {
		tmpl_set_free(s);
		return NULL;
	}
	return s;
}

/* SMS arithmetic */

/*
 * Septets for cp in GSM 03.38: 1 in the default alphabet, 2 in the
 * extension table (escape + char), 0 when it cannot be sent as GSM-7.
 */
static int
gsm_septets(uint32_t cp)
{
	static const uint16_t basic[] = {
		0x00a1, 0x00a3, 0x00a4, 0x00a5, 0x00a7, 0x00bf, 0x00c4,
		0x00c5, 0x00c6, 0x00c7, 0x00c9, 0x00d1, 0x00d6, 0x00d8,
		0x00dc, 0x00df, 0x00e0, 0x00e4, 0x00e5, 0x00e6, 0x00e8,
		0x00e9, 0x00ec, 0x00f1, 0x00f2, 0x00f6, 0x00f8, 0x00f9,
		0x00fc, 0x0393, 0x0394, 0x0398, 0x039b, 0x039e, 0x03a0,
		0x03a3, 0x03a6, 0x03a8, 0x03a9,
	};

	if (cp == '\n' || cp == '\r')
		return 1;
	if (cp == '\f' || cp == 0x20ac)
		return 2;
	if (cp >= 0x20 && cp < 0x7f) {
		if (cp == '`')
			return 0;
		if (strchr("[\\]^{|}~", (int)cp) != NULL)
			return 2;
		return 1;
	}
	for (size_t i = 0; i < nitems(basic); i++)
		if (basic[i] == cp)
			return 1;
	return 0;
}

/*
 * Walks a text character by character; sms_next returns the weight of the
 * next one in the chosen encoding (septets when gsm, else UTF-16 units),
 * or 0 at the end. An invalid byte weighs 1 (and makes the text UCS-2).
 */
struct sms_iter {
	const unsigned char *p, *end;
	bool gsm;
};

static int
sms_next(struct sms_iter *it)
{
	uint32_t cp;
	size_t n;

	if (it->p >= it->end)
		return 0;
	n = utf8_next(it->p, (size_t)(it->end - it->p), &cp);
	if (n == 0) {
		it->p++;
		return 1;
	}
	it->p += n;
	if (it->gsm)
		return gsm_septets(cp);
	return cp >= 0x10000 ? 2 : 1;
}

size_t
utf16_units(const char *utf8, size_t len)
{
	struct sms_iter it = { (const unsigned char *)utf8,
	    (const unsigned char *)utf8 + len, false };
	size_t units = 0;
	int w;

	while ((w = sms_next(&it)) > 0)
		units += (size_t)w;
	return units;
}

bool
sms_gsm7(const char *utf8, size_t len)
{
	const unsigned char *p = (const unsigned char *)utf8, *end = p + len;

	while (p < end) {
		uint32_t cp;
		size_t n = utf8_next(p, (size_t)(end - p), &cp);

		if (n == 0 || gsm_septets(cp) == 0)
			return false;
		p += n;
	}
	return true;
}

int
sms_segments(const char *utf8, size_t len, size_t *units, size_t *limit)
{
	struct sms_iter it = { (const unsigned char *)utf8,
	    (const unsigned char *)utf8 + len, sms_gsm7(utf8, len) };
	size_t single = it.gsm ? SMS_GSM7_SINGLE : SMS_UCS2_SINGLE;
	size_t multi = it.gsm ? SMS_GSM7_MULTI : SMS_UCS2_MULTI;
	size_t total = 0, cur = 0, segs = 1;
	int w;

	while ((w = sms_next(&it)) > 0)
		total += (size_t)w;
	if (units != NULL)
		*units = total;
	if (limit != NULL)
		*limit = single;
	if (total == 0)
		return 0;
	if (total <= single)
		return 1;
	it.p = (const unsigned char *)utf8;
	while ((w = sms_next(&it)) > 0) {
		if (cur + (size_t)w > multi) {
			segs++;
			cur = 0;
		}
		cur += (size_t)w;
	}
	return segs > INT_MAX ? INT_MAX : (int)segs;
}
