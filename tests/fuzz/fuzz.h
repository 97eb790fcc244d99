/*
 * The fuzz targets.  Each tests/fuzz/fuzz_<name>.c defines pd_fuzz_<name>();
 * under libFuzzer it also defines LLVMFuzzerTestOneInput, and the replay
 * test (tests/unit/test_fuzz_regressions.c) includes the same files with
 * PD_FUZZ_REPLAY defined, so that regression inputs go through exactly the
 * code the fuzzer ran.  A target returns 0; it aborts on a broken invariant.
 */
#ifndef PD_FUZZ_H
#define PD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int pd_fuzz_msg(const uint8_t *data, size_t size);
int pd_fuzz_subject(const uint8_t *data, size_t size);
int pd_fuzz_maintainers(const uint8_t *data, size_t size);
int pd_fuzz_conf(const uint8_t *data, size_t size);
int pd_fuzz_mbox(const uint8_t *data, size_t size);
int pd_fuzz_store(const uint8_t *data, size_t size);

#ifndef PD_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#define PD_FUZZ_ENTRY(fn) \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) \
	{ return fn(data, size); }
#else
#define PD_FUZZ_ENTRY(fn)
#endif

/* A broken invariant: say which and abort, so libFuzzer keeps the input. */
#define PD_FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* Touch every byte of a string so that the sanitizers check the reads. */
static inline size_t
pd_fuzz_touch(const char *s)
{
	size_t n = 0;

	PD_FUZZ_CHECK(s != NULL);
	while (s[n] != '\0')
		n++;
	return n;
}

#endif
