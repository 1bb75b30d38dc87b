/*
 * ydoc.h: a YAML document read into a small tree that remembers where every
 * node stood (line and column), so loaders can report "file:line:col: ...".
 *
 * Contract: yaml_load() accepts one document of plain maps, sequences and
 * scalars. It refuses anchors and aliases, duplicate keys, non-scalar keys,
 * invalid UTF-8 and files over YAML_MAX_BYTES, with a diagnostic that names
 * the place. The tree owns all its strings; free it with ynode_free().
 * Nodes are read-only to callers: they live in the tree's own arena.
 */
#ifndef CRISISCAST_YDOC_H
#define CRISISCAST_YDOC_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define YAML_MAX_BYTES (4u << 20)

enum ytype { Y_SCALAR, Y_MAP, Y_SEQ };

struct yarena;

struct ynode {
	enum ytype type;
	int line, col;		/* 1-based start of the node */
	const char *file;	/* borrowed from the root's copy */
	char *str;		/* Y_SCALAR: the value, NUL-terminated */
	bool quoted;		/* Y_SCALAR: written in quotes */
	size_t n;		/* Y_MAP: pairs; Y_SEQ: items */
	struct ynode **keys;	/* Y_MAP: scalar keys, n of them */
	struct ynode **items;	/* Y_MAP: values; Y_SEQ: items */
	struct yarena *arena;	/* root only: owns the whole tree */
};

/*
 * Loads path. Returns the root node (an empty map for an empty file) or
 * NULL after adding at least one error to d. Positions use the file name
 * as given.
 */
struct ynode *yaml_load(const char *path, struct diags *d);
/* Same, from memory; name is used in diagnostics. */
struct ynode *yaml_load_string(const char *name, const char *text, size_t len,
    struct diags *d);
/* Frees the whole tree; root must be what a load returned, or NULL. */
void ynode_free(struct ynode *root);

/* Value for key in a map, or NULL (also when n is not a map). */
struct ynode *ymap_get(const struct ynode *n, const char *key);
/* The key node for key (for positions), or NULL. */
struct ynode *ymap_key(const struct ynode *n, const char *key);

/* Diagnostics at a node's position. */
void ydiag(struct diags *d, const struct ynode *n, const char *fmt, ...)
    PRINTFLIKE(3, 4);
void ywarn(struct diags *d, const struct ynode *n, const char *fmt, ...)
    PRINTFLIKE(3, 4);

/*
 * Checks that n is a map whose keys are all in allowed (NULL-terminated);
 * each unknown key is an error at the key. Returns false if n is not a map
 * (after adding an error naming what) or any key was unknown.
 */
bool ymap_check(const struct ynode *n, const char *what,
    const char *const allowed[], struct diags *d);

/*
 * Typed getters. Each returns true and fills *out when the key is present
 * and well-typed. When absent: required adds "missing KEY in WHAT" at the
 * map and returns false; optional returns false silently. When present but
 * wrong: adds an error at the value and returns false.
 */
bool yget_str(const struct ynode *map, const char *key, bool required,
    struct diags *d, const char **out);
bool yget_bool(const struct ynode *map, const char *key, bool required,
    struct diags *d, bool *out);
bool yget_long(const struct ynode *map, const char *key, long min, long max,
    bool required, struct diags *d, long *out);
bool yget_duration(const struct ynode *map, const char *key, bool required,
    struct diags *d, long *out);
/* A sequence of scalars (a lone scalar is taken as a one-item list). */
bool yget_strlist(const struct ynode *map, const char *key, bool required,
    struct diags *d, char ***out, size_t *nout);

/* Frees a list from yget_strlist. */
void strlist_free(char **v, size_t n);

#endif
