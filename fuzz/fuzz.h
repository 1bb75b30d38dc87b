/*
 * fuzz.h: helpers shared by the libFuzzer targets in fuzz/ (one target per
 * file, each built with clang -fsanitize=fuzzer,address,undefined against
 * build/fuzz/libcrisiscast.a; see `make fuzz`).
 *
 * Contract: targets never write outside their own temporary directory,
 * never log, and free everything they allocate, so LeakSanitizer findings
 * are the library's.  FUZZ_SRCDIR (set by the Makefile) is the source tree,
 * for the shipped rules and templates used as fixed context.
 */
#ifndef CRISISCAST_FUZZ_H
#define CRISISCAST_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FUZZ_SRCDIR
#define FUZZ_SRCDIR "."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A NUL-terminated copy of data (caller frees). */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * A private directory made once per process (mkdtemp under $TMPDIR or
 * /tmp); files written there are overwritten by the next input.  Removed
 * at exit.
 */
static char fuzz_dir[256];

static inline void
fuzz_rmdir(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_dir);
	if (system(cmd) != 0)
		return;
}

static inline const char *
fuzz_tmpdir(void)
{
	if (fuzz_dir[0] == '\0') {
		const char *t = getenv("TMPDIR");
		snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/crisiscast-fuzz.XXXXXX",
		    t != NULL && *t ? t : "/tmp");
		if (mkdtemp(fuzz_dir) == NULL)
			abort();
		atexit(fuzz_rmdir);
	}
	return fuzz_dir;
}

/* Writes data to fuzz_tmpdir()/name and returns the path (static). */
static inline const char *
fuzz_write(const char *name, const uint8_t *data, size_t size)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fuzz_tmpdir(), name);
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();
	return path;
}

#endif
