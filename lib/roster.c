/*
 * roster.c: roster files to struct roster, with every problem reported at
 * its file:line:col, and AUDIENCE expressions to member indexes.
 *
 * Must never log, exit, or keep a pointer into a YAML tree past
 * roster_load(): every string in a struct roster is a copy in its pool.
 */
#include "roster.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ydoc.h"

#define ID_MAX		64	/* bytes in a member, shelter or group id */
#define LOGIN_MAX	32	/* bytes in a Unix login */
#define TEXT_MAX	100	/* code points in a name or title */
#define ADDRESS_MAX	256	/* bytes in a contact address */
#define ECHO_MAX	60	/* bytes of user input quoted in an error */
#define POOL_BLOCK	(32u << 10)	/* bytes in a string pool block */

#if defined(__SANITIZE_ADDRESS__)
#define POOL_MALLOC_EACH 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_MALLOC_EACH 1
#endif
#endif

/* Where a member, shelter or group was first seen, for "first at" notes. */
struct place {
	const struct ynode *id;
	const struct ynode *login;	/* member only; NULL if none yet */
};

struct loader {
	struct roster *r;
	struct diags *d;
	const struct channel_ref *ch;
	size_t nch;
	char **chname;			/* ch[i].name in the pool, or NULL */
	struct place *mplace;		/* parallel to r->members */
	const struct ynode **splace;	/* parallel to r->shelters */
	const struct ynode **gplace;	/* parallel to r->groups */
};

/* A member as parsed, before it is added or merged. */
struct parsed {
	struct member m;
	const struct ynode *id, *login;
	bool bad;			/* some field had an error */
};

/*
 * A string-keyed index of array positions: open addressing with linear
 * probing, never more than half full. Keys are borrowed: strings the
 * roster owns, which stay put until roster_free() even when the arrays
 * holding their members move.
 */
struct strmap {
	struct slot {
		const char *key;	/* NULL: empty */
		size_t val;
	} *slots;
	size_t cap;			/* 0 or a power of two */
	size_t n;
};

/*
 * Every string of a roster, and its members' contact lists, are cut from
 * blocks that roster_free() frees together: a 30,000-member roster takes
 * a few hundred mallocs instead of a quarter million, and a 7-byte id 7
 * bytes instead of a 24-byte malloc chunk. Nothing in the pool is freed
 * alone: a member dropped after an error leaves its strings there until
 * roster_free(). Under AddressSanitizer every piece is its own malloc, so
 * overflows are still caught piece by piece.
 */
struct pool_block {
	struct pool_block *next;
	max_align_t data[];
};

struct pool {
	struct pool_block *blocks;	/* newest first */
	char *next;			/* free space in the newest block */
	size_t left;
};

struct roster_private {
	struct strmap id;		/* member id: index in r->members */
	struct strmap login;		/* login: the first member with it */
	struct strmap shelter;		/* shelter id: index in r->shelters */
	struct pool pool;
};

static const char *const file_keys[] = {
	"group", "title", "members", "shelters", NULL
};
static const char *const member_keys[] = {
	"id", "name", "title", "roles", "login", "phone", "contacts", NULL
};
static const char *const shelter_keys[] = {
	"id", "name", "kind", "staff", NULL
};

static const struct {
	const char *name;
	unsigned bit;
} roles[] = {
	{ "sender", ROLE_SENDER },
	{ "approver", ROLE_APPROVER },
	{ "admin", ROLE_ADMIN },
};

/* FNV-1a, 64 bits. */
static uint64_t
str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3u;
	}
	return h;
}

/* The slot holding key, or the empty one where it would go. cap > 0. */
static struct slot *
strmap_slot(const struct strmap *m, const char *key)
{
	size_t mask = m->cap - 1, i = (size_t)str_hash(key) & mask;

	while (m->slots[i].key != NULL && strcmp(m->slots[i].key, key) != 0)
		i = (i + 1) & mask;
	return &m->slots[i];
}

/* The value for key, or SIZE_MAX. */
static size_t
strmap_get(const struct strmap *m, const char *key)
{
	const struct slot *sl;

	if (m->cap == 0)
		return SIZE_MAX;
	sl = strmap_slot(m, key);
	return sl->key != NULL ? sl->val : SIZE_MAX;
}

/* Sets key's value, adding key if it is new. */
static void
strmap_put(struct strmap *m, const char *key, size_t val)
{
	struct slot *sl;

	if (2 * (m->n + 1) > m->cap) {
		struct strmap big = { .cap = m->cap ? 2 * m->cap : 64, .n = m->n };

		big.slots = xcalloc(big.cap, sizeof(*big.slots));
		for (size_t i = 0; i < m->cap; i++)
			if (m->slots[i].key != NULL)
				*strmap_slot(&big, m->slots[i].key) =
				    m->slots[i];
		free(m->slots);
		*m = big;
	}
	sl = strmap_slot(m, key);
	if (sl->key == NULL) {
		sl->key = key;
		m->n++;
	}
	sl->val = val;
}

/* n bytes at a multiple of align (a power of two) from the pool. */
static void *
pool_alloc(struct pool *p, size_t n, size_t align)
{
#ifdef POOL_MALLOC_EACH
	struct pool_block *b = xmalloc(sizeof(*b) + n);

	(void)align;
	b->next = p->blocks;
	p->blocks = b;
	return b->data;
#else
	size_t pad = (size_t)-(uintptr_t)p->next & (align - 1);
	char *q;

	if (pad + n > p->left) {
		size_t size = n > POOL_BLOCK ? n : POOL_BLOCK;
		struct pool_block *b = xmalloc(sizeof(*b) + size);

		b->next = p->blocks;
		p->blocks = b;
		p->next = (char *)b->data;
		p->left = size;
		pad = 0;
	}
	q = p->next + pad;
	p->next = q + n;
	p->left -= pad + n;
	return q;
#endif
}

static char *
pool_strdup(struct pool *p, const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(pool_alloc(p, n, 1), s, n);
}

static void
pool_free(struct pool *p)
{
	while (p->blocks != NULL) {
		struct pool_block *b = p->blocks;
		p->blocks = b->next;
		free(b);
	}
}

/*
 * Room for one more item in an array holding n: it doubles whenever n is
 * a power of two, so its capacity is never stored and n appends cost O(n).
 */
static void *
grow(void *p, size_t n, size_t size)
{
	if (n == 0 || (n & (n - 1)) == 0)
		p = xreallocarray(p, n == 0 ? 1 : 2 * n, size);
	return p;
}

/* ^[a-z0-9][a-z0-9_-]{0,63}$ */
static bool
valid_id(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (i = 1; s[i] != '\0'; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-'))
			return false;
	}
	return i <= ID_MAX;
}

/* ^[a-z_][a-z0-9_.-]{0,31}$: a portable Unix login. */
static bool
valid_login(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (i = 1; s[i] != '\0'; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-' || c == '.'))
			return false;
	}
	return i <= LOGIN_MAX;
}

/* ^\+[1-9][0-9]{7,14}$ */
static bool
valid_e164(const char *s)
{
	size_t i;

	if (s[0] != '+' || s[1] < '1' || s[1] > '9')
		return false;
	for (i = 2; s[i] != '\0'; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return i - 1 >= 8 && i - 1 <= 15;
}

/* One '@', something on each side, a dot in the domain, no spaces. */
static bool
valid_email(const char *s)
{
	const char *at = strchr(s, '@');

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL ||
	    at[1] == '\0' || strchr(at + 1, '.') == NULL)
		return false;
	for (; *s != '\0'; s++)
		if (*s == ' ')
			return false;
	return true;
}

/* [-_A-Za-z0-9]{1,64}, what ntfy accepts as a topic. */
static bool
valid_topic(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return i >= 1 && i <= 64;
}

static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* true when s is only ASCII spaces and U+3000 (全角空白). */
static bool
blank(const char *s)
{
	while (*s != '\0') {
		if (*s == ' ')
			s++;
		else if (strncmp(s, "\xe3\x80\x80", 3) == 0)
			s += 3;
		else
			return false;
	}
	return true;
}

/*
 * Reads a required one-line text field (name, title): non-blank, no control
 * characters, at most TEXT_MAX code points. Returns a copy or NULL after an
 * error.
 */
static char *
get_text(struct loader *l, const struct ynode *map, const char *key)
{
	const struct ynode *v;
	const char *s;

	if (!yget_str(map, key, true, l->d, &s))
		return NULL;
	v = ymap_get(map, key);
	if (blank(s)) {
		ydiag(l->d, v, "\"%s\" is empty", key);
		return NULL;
	}
	if (has_control(s)) {
		ydiag(l->d, v, "\"%s\" must be one line without control "
		    "characters", key);
		return NULL;
	}
	if (utf8_count(s, strlen(s)) > TEXT_MAX) {
		ydiag(l->d, v, "\"%s\" is longer than %d characters", key,
		    TEXT_MAX);
		return NULL;
	}
	return pool_strdup(&l->r->priv->pool, s);
}

/* Reads a required id field; returns a copy or NULL after an error. */
static char *
get_id(struct loader *l, const struct ynode *map, const char *key,
    const char *what)
{
	const char *s;

	if (!yget_str(map, key, true, l->d, &s))
		return NULL;
	if (!valid_id(s)) {
		ydiag(l->d, ymap_get(map, key), "%s id \"%s\" must be 1 to %d "
		    "of a-z, 0-9, _ and -, starting with a letter or digit",
		    what, s, ID_MAX);
		return NULL;
	}
	return pool_strdup(&l->r->priv->pool, s);
}

static const struct channel_ref *
channel_lookup(struct loader *l, const char *name)
{
	for (size_t i = 0; i < l->nch; i++)
		if (strcmp(l->ch[i].name, name) == 0)
			return &l->ch[i];
	return NULL;
}

static bool
is_channel(const struct channel_ref *c, const char *name, const char *type)
{
	return strcmp(c->name, name) == 0 ||
	    (c->type != NULL && strcmp(c->type, type) == 0);
}

/* Checks one contact address for its channel; errors at the value. */
static bool
check_address(struct loader *l, const struct channel_ref *c,
    const struct ynode *v)
{
	const char *s = v->str;

	if (blank(s)) {
		ydiag(l->d, v, "contact \"%s\" is empty", c->name);
		return false;
	}
	if (strlen(s) > ADDRESS_MAX || has_control(s)) {
		ydiag(l->d, v, "contact \"%s\" must be one line of at most %d "
		    "bytes", c->name, ADDRESS_MAX);
		return false;
	}
	if (is_channel(c, "sms", "twilio") && !valid_e164(s)) {
		ydiag(l->d, v, "contact \"%s\" must be an E.164 number such as "
		    "+819012345678, not \"%s\"", c->name, s);
		return false;
	}
	if (is_channel(c, "email", "smtp") && !valid_email(s)) {
		ydiag(l->d, v, "contact \"%s\" must be an e-mail address, "
		    "not \"%s\"", c->name, s);
		return false;
	}
	if (is_channel(c, "ntfy", "ntfy") && !valid_topic(s)) {
		ydiag(l->d, v, "contact \"%s\" must be a ntfy topic "
		    "(1 to 64 of A-Z, a-z, 0-9, _ and -), not \"%s\"",
		    c->name, s);
		return false;
	}
	return true;
}

/* Fills m->contacts from the "contacts" map; false after any error. */
static bool
parse_contacts(struct loader *l, const struct ynode *map, struct member *m)
{
	const struct ynode *cm = ymap_get(map, "contacts");
	bool ok = true;

	if (cm == NULL) {
		ydiag(l->d, map, "missing \"contacts\" (at least one channel)");
		return false;
	}
	if (cm->type != Y_MAP) {
		ydiag(l->d, cm, "\"contacts\" must be a map of channel: "
		    "address");
		return false;
	}
	if (cm->n == 0) {
		ydiag(l->d, cm, "\"contacts\" is empty (at least one channel)");
		return false;
	}
	m->contacts = pool_alloc(&l->r->priv->pool,
	    cm->n * sizeof(*m->contacts), _Alignof(struct contact));
	for (size_t i = 0; i < cm->n; i++) {
		const struct ynode *k = cm->keys[i], *v = cm->items[i];
		const struct channel_ref *c = channel_lookup(l, k->str);

		if (c == NULL) {
			ydiag(l->d, k, "unknown channel \"%s\" (not under "
			    "transports:)", k->str);
			ok = false;
			continue;
		}
		if (v->type != Y_SCALAR) {
			ydiag(l->d, v, "contact \"%s\" must be a value",
			    k->str);
			ok = false;
			continue;
		}
		if (!check_address(l, c, v)) {
			ok = false;
			continue;
		}
		/* One copy of each channel name serves every member. */
		if (l->chname[c - l->ch] == NULL)
			l->chname[c - l->ch] = pool_strdup(&l->r->priv->pool,
			    c->name);
		m->contacts[m->ncontacts].channel = l->chname[c - l->ch];
		m->contacts[m->ncontacts].address = pool_strdup(
		    &l->r->priv->pool, v->str);
		m->ncontacts++;
	}
	return ok;
}

/* Fills m->roles from the optional "roles" list; false after any error. */
static bool
parse_roles(struct loader *l, const struct ynode *map, struct member *m)
{
	const struct ynode *v = ymap_get(map, "roles");
	const struct ynode *const *items;
	size_t n;
	bool ok = true;

	if (v == NULL)
		return true;
	if (v->type == Y_SCALAR) {
		items = (const struct ynode *const *)&v;
		n = 1;
	} else if (v->type == Y_SEQ) {
		items = (const struct ynode *const *)v->items;
		n = v->n;
	} else {
		ydiag(l->d, v, "\"roles\" must be a list");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		size_t j;

		if (items[i]->type != Y_SCALAR) {
			ydiag(l->d, items[i], "a role must be a value");
			ok = false;
			continue;
		}
		for (j = 0; j < nitems(roles); j++)
			if (strcmp(items[i]->str, roles[j].name) == 0)
				break;
		if (j == nitems(roles)) {
			ydiag(l->d, items[i], "unknown role \"%s\" (sender, "
			    "approver or admin)", items[i]->str);
			ok = false;
		} else
			m->roles |= roles[j].bit;
	}
	return ok;
}

/* Drops a parsed member; its strings stay in the pool. */
static void
member_clear(struct member *m)
{
	memset(m, 0, sizeof(*m));
}

/*
 * Parses one member map into p, reporting every problem. Returns false
 * when the member has no usable id (p is then cleared); otherwise p->bad
 * says whether another field was wrong.
 */
static bool
parse_member(struct loader *l, const struct ynode *n, struct parsed *p)
{
	struct member *m = &p->m;
	size_t before = diag_errors(l->d);
	const char *s;

	memset(p, 0, sizeof(*p));
	if (!ymap_check(n, "member", member_keys, l->d)) {
		if (n == NULL || n->type != Y_MAP)
			return false;
	}
	m->id = get_id(l, n, "id", "member");
	p->id = ymap_get(n, "id");
	m->name = get_text(l, n, "name");
	m->title = get_text(l, n, "title");
	parse_roles(l, n, m);
	if (yget_str(n, "login", false, l->d, &s)) {
		p->login = ymap_get(n, "login");
		if (valid_login(s))
			m->login = pool_strdup(&l->r->priv->pool, s);
		else
			ydiag(l->d, p->login, "login \"%s\" is not a Unix login "
			    "name (a-z, 0-9, _, . and -, at most %d)", s,
			    LOGIN_MAX);
	}
	if (yget_str(n, "phone", false, l->d, &s)) {
		if (valid_e164(s))
			m->phone = pool_strdup(&l->r->priv->pool, s);
		else
			ydiag(l->d, ymap_get(n, "phone"), "\"phone\" must be "
			    "an E.164 number such as +819012345678, not \"%s\"",
			    s);
	}
	parse_contacts(l, n, m);
	p->bad = diag_errors(l->d) > before;
	if (m->id == NULL) {
		member_clear(m);
		return false;
	}
	return true;
}

static const char *
pos(const struct ynode *n, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s:%d:%d", n->file, n->line, n->col);
	return out;
}

static bool
same_str(const char *a, const char *b)
{
	return a == NULL || b == NULL || strcmp(a, b) == 0;
}

/* Same channels with the same addresses, in any order. */
static bool
same_contacts(const struct member *a, const struct member *b)
{
	if (a->ncontacts != b->ncontacts)
		return false;
	for (size_t i = 0; i < a->ncontacts; i++) {
		size_t j;
		for (j = 0; j < b->ncontacts; j++)
			if (strcmp(a->contacts[i].channel,
			    b->contacts[j].channel) == 0)
				break;
		if (j == b->ncontacts || strcmp(a->contacts[i].address,
		    b->contacts[j].address) != 0)
			return false;
	}
	return true;
}

/* Index of the member with this id, or SIZE_MAX. */
static size_t
member_index(const struct roster *r, const char *id)
{
	return r->priv != NULL ? strmap_get(&r->priv->id, id) : SIZE_MAX;
}

/*
 * Gives member i its login (at node at): reports the login if another
 * member has it already, and indexes it. Of several members with one
 * login, the index keeps the first in roster order, the one named in the
 * next duplicate's error.
 */
static void
set_login(struct loader *l, size_t i, char *login, const struct ynode *at)
{
	struct strmap *logins = &l->r->priv->login;
	size_t o = strmap_get(logins, login);
	char where[512];

	if (o != SIZE_MAX)
		ydiag(l->d, at, "login \"%s\" is already used by member \"%s\" "
		    "at %s", login, l->r->members[o].id,
		    pos(l->mplace[o].login, where, sizeof(where)));
	l->r->members[i].login = login;
	l->mplace[i].login = at;
	if (o == SIZE_MAX || i < o)
		strmap_put(logins, login, i);
}

/*
 * Adds p (parsed in group g) to the roster, or merges it into the member
 * with the same id from another group. Takes p's strings either way.
 * Returns the member's index, or SIZE_MAX after an error.
 */
static size_t
add_member(struct loader *l, size_t g, struct parsed *p)
{
	struct roster *r = l->r;
	struct member *m = &p->m, *e;
	size_t i = member_index(r, m->id);
	char where[512];

	if (i == SIZE_MAX) {
		char *login = m->login;

		i = r->nmembers++;
		r->members = grow(r->members, i, sizeof(*r->members));
		l->mplace = grow(l->mplace, i, sizeof(*l->mplace));
		m->groups = (uint32_t)1 << g;
		m->order = i;
		m->login = NULL;
		r->members[i] = *m;
		l->mplace[i].id = p->id;
		l->mplace[i].login = NULL;
		strmap_put(&r->priv->id, r->members[i].id, i);
		if (login != NULL)
			set_login(l, i, login, p->login);
		memset(m, 0, sizeof(*m));
		return i;
	}

	e = &r->members[i];
	pos(l->mplace[i].id, where, sizeof(where));
	if (e->groups & ((uint32_t)1 << g)) {
		ydiag(l->d, p->id, "duplicate member id \"%s\" (first at %s)",
		    m->id, where);
		member_clear(m);
		return SIZE_MAX;
	}
	if (p->bad) {
		/* Its own errors are reported; comparing would only echo. */
		member_clear(m);
		return SIZE_MAX;
	}
	{
		struct buf diff = {0};
		/* e may come from a file with errors: its name or title may be
		 * NULL (already reported), so compare NULL-safely. */
		if (!same_str(e->name, m->name))
			buf_adds(&diff, ", name");
		if (!same_str(e->title, m->title))
			buf_adds(&diff, ", title");
		if (!same_contacts(e, m))
			buf_adds(&diff, ", contacts");
		if (!same_str(e->phone, m->phone))
			buf_adds(&diff, ", phone");
		if (!same_str(e->login, m->login))
			buf_adds(&diff, ", login");
		if (diff.len > 0) {
			ydiag(l->d, p->id, "member \"%s\" differs from the "
			    "one at %s in: %s (one person must have the same "
			    "details in every roster file)", m->id, where,
			    diff.data + 2);
			buf_free(&diff);
			member_clear(m);
			return SIZE_MAX;
		}
		buf_free(&diff);
	}
	e->groups |= (uint32_t)1 << g;
	e->roles |= m->roles;
	if (e->phone == NULL && m->phone != NULL) {
		e->phone = m->phone;
		m->phone = NULL;
	}
	if (e->shelter == NULL && m->shelter != NULL) {
		e->shelter = m->shelter;
		m->shelter = NULL;
	}
	if (e->login == NULL && m->login != NULL) {
		set_login(l, i, m->login, p->login);
		m->login = NULL;
	}
	member_clear(m);
	return i;
}

/* Parses a "members" list into group g. */
static void
load_members(struct loader *l, size_t g, const struct ynode *list)
{
	struct parsed p;

	if (list->type != Y_SEQ) {
		ydiag(l->d, list, "\"members\" must be a list");
		return;
	}
	if (list->n == 0)
		ywarn(l->d, list, "group \"%s\" has no members",
		    l->r->groups[g].id);
	for (size_t i = 0; i < list->n; i++)
		if (parse_member(l, list->items[i], &p))
			add_member(l, g, &p);
}

/* Parses one shelter map of group g. */
static void
load_shelter(struct loader *l, size_t g, const struct ynode *n)
{
	struct roster *r = l->r;
	struct shelter *sh;
	const struct ynode *staff;
	const char *kind;
	char *id;
	char where[512];
	size_t si;

	if (!ymap_check(n, "shelter", shelter_keys, l->d) &&
	    (n == NULL || n->type != Y_MAP))
		return;
	id = get_id(l, n, "id", "shelter");
	if (id != NULL &&
	    (si = strmap_get(&r->priv->shelter, id)) != SIZE_MAX) {
		ydiag(l->d, ymap_get(n, "id"), "duplicate shelter id \"%s\" "
		    "(first at %s)", id, pos(l->splace[si], where,
		    sizeof(where)));
		id = NULL;
	}
	si = r->nshelters++;
	r->shelters = grow(r->shelters, si, sizeof(*r->shelters));
	l->splace = grow(l->splace, si, sizeof(*l->splace));
	sh = &r->shelters[si];
	memset(sh, 0, sizeof(*sh));
	/* A bad or duplicate id stays "" and unindexed; load fails. */
	sh->id = id != NULL ? id : pool_strdup(&r->priv->pool, "");
	if (id != NULL)
		strmap_put(&r->priv->shelter, sh->id, si);
	l->splace[si] = ymap_get(n, "id");
	sh->group = g;
	sh->name = get_text(l, n, "name");
	if (yget_str(n, "kind", true, l->d, &kind)) {
		if (strcmp(kind, "designated") == 0)
			sh->kind = SHELTER_DESIGNATED;
		else if (strcmp(kind, "fever") == 0)
			sh->kind = SHELTER_FEVER;
		else
			ydiag(l->d, ymap_get(n, "kind"), "unknown shelter "
			    "kind \"%s\" (designated or fever)", kind);
	}
	staff = ymap_get(n, "staff");
	if (staff == NULL) {
		ydiag(l->d, n, "missing \"staff\" (at least one member)");
		return;
	}
	if (staff->type != Y_SEQ) {
		ydiag(l->d, staff, "\"staff\" must be a list");
		return;
	}
	if (staff->n == 0) {
		ydiag(l->d, staff, "shelter \"%s\" has no staff", sh->id);
		return;
	}
	for (size_t i = 0; i < staff->n; i++) {
		struct parsed p;
		size_t mi;

		if (!parse_member(l, staff->items[i], &p))
			continue;
		p.m.shelter = r->shelters[si].id;
		if ((mi = add_member(l, g, &p)) == SIZE_MAX)
			continue;
		sh = &r->shelters[si];
		sh->staff = grow(sh->staff, sh->nstaff, sizeof(*sh->staff));
		sh->staff[sh->nstaff++] = mi;
	}
}

/* Loads one file's tree as the next group. */
static void
load_file(struct loader *l, const struct ynode *root)
{
	struct roster *r = l->r;
	const struct ynode *members, *shelters;
	char *id;
	char where[512];
	size_t g;

	if (!ymap_check(root, "a roster file", file_keys, l->d) &&
	    root->type != Y_MAP)
		return;
	if (r->ngroups >= ROSTER_MAX_GROUPS) {
		ydiag(l->d, root, "more than %d roster files",
		    ROSTER_MAX_GROUPS);
		return;
	}
	id = get_id(l, root, "group", "group");
	if (id != NULL) {
		for (size_t i = 0; i < r->ngroups; i++) {
			if (strcmp(r->groups[i].id, id) != 0)
				continue;
			ydiag(l->d, ymap_get(root, "group"), "duplicate group "
			    "id \"%s\" (first at %s)", id, pos(l->gplace[i],
			    where, sizeof(where)));
			id = NULL;
			break;
		}
	}
	r->groups = xreallocarray(r->groups, r->ngroups + 1,
	    sizeof(*r->groups));
	l->gplace = xreallocarray(l->gplace, r->ngroups + 1,
	    sizeof(*l->gplace));
	g = r->ngroups++;
	r->groups[g].id = id != NULL ? id : pool_strdup(&r->priv->pool, "");
	r->groups[g].title = get_text(l, root, "title");
	l->gplace[g] = ymap_get(root, "group");

	members = ymap_get(root, "members");
	shelters = ymap_get(root, "shelters");
	if (members != NULL && shelters != NULL) {
		ydiag(l->d, ymap_key(root, "shelters"), "a roster file has "
		    "either \"members\" or \"shelters\", not both");
		return;
	}
	if (members != NULL)
		load_members(l, g, members);
	else if (shelters == NULL)
		ydiag(l->d, root, "missing \"members\" or \"shelters\"");
	else if (shelters->type != Y_SEQ)
		ydiag(l->d, shelters, "\"shelters\" must be a list");
	else {
		if (shelters->n == 0)
			ywarn(l->d, shelters, "group \"%s\" has no shelters",
			    r->groups[g].id);
		for (size_t i = 0; i < shelters->n; i++)
			load_shelter(l, g, shelters->items[i]);
	}
}

int
roster_load(struct roster *r, char *const paths[], size_t npaths,
    const struct channel_ref *channels, size_t nchannels, struct diags *d)
{
	struct loader l = { .r = r, .d = d, .ch = channels, .nch = nchannels };
	struct ynode **roots;
	size_t before = diag_errors(d);

	memset(r, 0, sizeof(*r));
	r->priv = xcalloc(1, sizeof(*r->priv));
	l.chname = xcalloc(nchannels + 1, sizeof(*l.chname));
	if (npaths == 0)
		diag_add(d, NULL, 0, 0, "no roster files given");
	/* The trees live until the end: places point into them. */
	roots = xcalloc(npaths + 1, sizeof(*roots));
	for (size_t i = 0; i < npaths; i++) {
		if ((roots[i] = yaml_load(paths[i], d)) != NULL)
			load_file(&l, roots[i]);
	}
	for (size_t i = 0; i < npaths; i++)
		ynode_free(roots[i]);
	free(roots);
	free(l.chname);
	free(l.mplace);
	free(l.splace);
	free(l.gplace);
	if (diag_errors(d) > before) {
		roster_free(r);
		return -1;
	}
	return 0;
}

void
roster_free(struct roster *r)
{
	free(r->members);
	for (size_t i = 0; i < r->nshelters; i++)
		free(r->shelters[i].staff);
	free(r->shelters);
	free(r->groups);
	if (r->priv != NULL) {
		free(r->priv->id.slots);
		free(r->priv->login.slots);
		free(r->priv->shelter.slots);
		pool_free(&r->priv->pool);
		free(r->priv);
	}
	memset(r, 0, sizeof(*r));
}

const struct member *
roster_find(const struct roster *r, const char *id)
{
	size_t i = member_index(r, id);

	return i == SIZE_MAX ? NULL : &r->members[i];
}

const struct member *
roster_find_login(const struct roster *r, const char *login)
{
	size_t i = r->priv != NULL ? strmap_get(&r->priv->login, login) :
	    SIZE_MAX;

	return i == SIZE_MAX ? NULL : &r->members[i];
}

const struct shelter *
roster_shelter(const struct roster *r, const char *id)
{
	size_t i = r->priv != NULL ? strmap_get(&r->priv->shelter, id) :
	    SIZE_MAX;

	return i == SIZE_MAX ? NULL : &r->shelters[i];
}

int
roster_group(const struct roster *r, const char *id)
{
	for (size_t i = 0; i < r->ngroups; i++)
		if (strcmp(r->groups[i].id, id) == 0)
			return (int)i;
	return -1;
}

const char *
shelter_kind_name(enum shelter_kind kind)
{
	return kind == SHELTER_FEVER ? "fever" : "designated";
}

size_t
roster_group_count(const struct roster *r, size_t g)
{
	size_t n = 0;

	if (g >= r->ngroups)
		return 0;
	for (size_t i = 0; i < r->nmembers; i++)
		if (r->members[i].groups & ((uint32_t)1 << g))
			n++;
	return n;
}

size_t
roster_channel_count(const struct roster *r, const char *channel)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nmembers; i++)
		for (size_t j = 0; j < r->members[i].ncontacts; j++)
			if (strcmp(r->members[i].contacts[j].channel,
			    channel) == 0) {
				n++;
				break;
			}
	return n;
}

/*
 * AUDIENCE resolution. Errors quote what the user typed, cut to ECHO_MAX
 * bytes on a UTF-8 boundary, with control characters shown as '?'.
 */

static void
echo(char *out, size_t outsz, const char *s)
{
	size_t n = strlen(s), cut = n;

	if (cut > ECHO_MAX) {
		cut = ECHO_MAX;
		while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;
	}
	if (cut + 4 > outsz)
		cut = 0;
	memcpy(out, s, cut);
	for (size_t i = 0; i < cut; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
	if (cut < n)
		memcpy(out + cut, "\xe2\x80\xa6", 3), cut += 3;	/* … */
	out[cut] = '\0';
}

/* Formats the error (never cutting a UTF-8 sequence) and returns -1. */
static int
aud_error(char *err, size_t errsz, const char *fmt, ...)
    PRINTFLIKE(3, 4);

static int
aud_error(char *err, size_t errsz, const char *fmt, ...)
{
	struct buf b = {0};
	va_list ap;
	size_t cut;

	if (err == NULL || errsz == 0)
		return -1;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	cut = b.len < errsz - 1 ? b.len : errsz - 1;
	while (cut > 0 && cut < b.len &&
	    ((unsigned char)b.data[cut] & 0xc0) == 0x80)
		cut--;
	memcpy(err, b.data, cut);
	err[cut] = '\0';
	buf_free(&b);
	return -1;
}

/* Strips ASCII spaces and tabs at both ends, in place. */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static void
pick_shelter(const struct shelter *sh, bool *pick)
{
	for (size_t i = 0; i < sh->nstaff; i++)
		pick[sh->staff[i]] = true;
}

/* One `prefix:a,b` term. Returns 0, or -1 with err filled. */
static int
aud_list(const struct roster *r, const char *prefix, char *list, bool *pick,
    char *err, size_t errsz)
{
	char q[ECHO_MAX + 8], *item;
	int kind = -1;

	if (strcmp(prefix, "shelter") != 0 && strcmp(prefix, "kind") != 0 &&
	    strcmp(prefix, "member") != 0) {
		echo(q, sizeof(q), prefix);
		return aud_error(err, errsz, "宛先の指定「%s:」は使えません"
		    "（shelter:、kind:、member: のいずれかです）", q);
	}
	if (*trim(list) == '\0')
		return aud_error(err, errsz, "宛先「%s:」の後に名前がありません",
		    prefix);
	while ((item = strsep(&list, ",")) != NULL) {
		item = trim(item);
		echo(q, sizeof(q), item);
		if (*item == '\0')
			return aud_error(err, errsz, "宛先「%s:」に空の名前が"
			    "あります", prefix);
		if (strcmp(prefix, "shelter") == 0) {
			const struct shelter *sh = roster_shelter(r, item);
			if (sh == NULL)
				return aud_error(err, errsz, "宛先の避難所「%s」"
				    "は名簿にありません", q);
			pick_shelter(sh, pick);
		} else if (strcmp(prefix, "member") == 0) {
			size_t i = member_index(r, item);
			if (i == SIZE_MAX)
				return aud_error(err, errsz, "宛先の職員「%s」は"
				    "名簿にありません", q);
			pick[i] = true;
		} else {
			if (strcmp(item, "designated") == 0)
				kind = SHELTER_DESIGNATED;
			else if (strcmp(item, "fever") == 0)
				kind = SHELTER_FEVER;
			else
				return aud_error(err, errsz, "宛先の避難所の種別"
				    "「%s」は不明です（designated または "
				    "fever）", q);
			for (size_t i = 0; i < r->nshelters; i++)
				if ((int)r->shelters[i].kind == kind)
					pick_shelter(&r->shelters[i], pick);
		}
	}
	return 0;
}

/* One term: a group id or a `prefix:list`. Returns 0, or -1 with err. */
static int
aud_term(const struct roster *r, char *term, bool *pick, char *err,
    size_t errsz)
{
	char q[ECHO_MAX + 8], *colon = strchr(term, ':');
	int g;

	if (colon != NULL) {
		*colon = '\0';
		return aud_list(r, trim(term), colon + 1, pick, err, errsz);
	}
	if ((g = roster_group(r, term)) >= 0 && *term != '\0') {
		for (size_t i = 0; i < r->nmembers; i++)
			if (r->members[i].groups & ((uint32_t)1 << g))
				pick[i] = true;
		return 0;
	}
	if (strcmp(term, "shelter") == 0) {
		for (size_t i = 0; i < r->nshelters; i++)
			pick_shelter(&r->shelters[i], pick);
		return 0;
	}
	echo(q, sizeof(q), term);
	return aud_error(err, errsz, "宛先のグループ「%s」は名簿にありません",
	    q);
}

int
roster_audience(const struct roster *r, const char *audience, size_t **idx,
    size_t *n, char *err, size_t errsz)
{
	char q[ECHO_MAX + 8], *copy, *rest, *term;
	bool *pick;
	size_t len, count = 0;
	int rc = 0;

	*idx = NULL;
	*n = 0;
	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (audience == NULL)
		return aud_error(err, errsz, "宛先が空です");
	len = strlen(audience);
	if (len > ROSTER_AUDIENCE_MAX)
		return aud_error(err, errsz, "宛先が長すぎます（%d バイトまで）",
		    ROSTER_AUDIENCE_MAX);
	if (!utf8_valid(audience, len))
		return aud_error(err, errsz, "宛先の文字コードが正しくありません"
		    "（UTF-8 ではありません）");
	rest = copy = xstrdup(audience);
	if (*trim(copy) == '\0') {
		free(copy);
		return aud_error(err, errsz, "宛先が空です");
	}
	pick = xcalloc(r->nmembers + 1, sizeof(*pick));
	while (rc == 0 && (term = strsep(&rest, "+")) != NULL) {
		term = trim(term);
		if (*term == '\0') {
			echo(q, sizeof(q), audience);
			rc = aud_error(err, errsz, "宛先「%s」に空の項目があります"
			    "（+ の前後に指定が必要です）", q);
		} else
			rc = aud_term(r, term, pick, err, errsz);
	}
	free(copy);
	if (rc == 0) {
		for (size_t i = 0; i < r->nmembers; i++)
			count += pick[i];
		if (count == 0) {
			echo(q, sizeof(q), audience);
			rc = aud_error(err, errsz, "宛先「%s」に該当する職員が"
			    "いません", q);
		}
	}
	if (rc == 0) {
		*idx = xcalloc(count, sizeof(**idx));
		for (size_t i = 0; i < r->nmembers; i++)
			if (pick[i])
				(*idx)[(*n)++] = i;
	}
	free(pick);
	return rc;
}

const struct contact *
member_contact(const struct member *m, const char *channel)
{
	for (size_t k = 0; k < m->ncontacts; k++)
		if (strcmp(m->contacts[k].channel, channel) == 0)
			return &m->contacts[k];
	return NULL;
}

const struct contact *
member_next_contact(const struct member *m, char *const order[],
    size_t norder, const char *from)
{
	const struct contact *c;
	size_t i = 0;

	while (i < norder && strcmp(order[i], from) != 0)
		i++;
	for (i++; i < norder; i++)
		if ((c = member_contact(m, order[i])) != NULL)
			return c;
	return NULL;
}
