/*
 * fields.h: splits a fuzz input into NUL-separated C strings, so one input
 * can fill several text fields of a struct.
 *
 * Contract: fuzz_fields() returns a malloc'd copy (caller frees) and sets
 * f[0..n) to its parts; parts past the last separator are "" so every
 * f[i] is a valid string.
 */
#ifndef CRISISCAST_FUZZ_FIELDS_H
#define CRISISCAST_FUZZ_FIELDS_H

#include "fuzz.h"

static inline char *
fuzz_fields(const uint8_t *data, size_t size, const char **f, size_t n)
{
	char *s = fuzz_cstr(data, size), *p = s, *end = s + size;

	for (size_t i = 0; i < n; i++) {
		f[i] = p < end ? p : "";
		if (p < end)
			p += strlen(p) + 1;
	}
	return s;
}

#endif
