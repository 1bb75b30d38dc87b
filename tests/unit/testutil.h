/*
 * testutil.h: helpers every unit test shares. Include after cmocka.h and
 * util.h. Static inline, so a test that uses none of them pays nothing.
 */
#ifndef CRISISCAST_TESTUTIL_H
#define CRISISCAST_TESTUTIL_H

#include <stdbool.h>
#include <string.h>

/* true when some diagnostic in d contains needle. */
static inline bool
diags_have(const struct diags *d, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->msgs[i], needle) != NULL)
			return true;
	return false;
}

/* Fails, printing every diagnostic, unless one equals want. */
static inline void
expect_diag(const struct diags *d, const char *want)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->msgs[i], want) == 0)
			return;
	for (size_t i = 0; i < d->n; i++)
		print_message("have: %s\n", d->msgs[i]);
	fail_msg("missing diagnostic: %s", want);
}

#endif
