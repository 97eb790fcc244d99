/*
 * Replays the fuzz findings (tests/fuzz-regressions/HARNESS/) and every
 * file of ../shared/corpus/patchwork/fuzz through the fuzz targets
 * themselves, so that `make check` and `make asan` run the exact code the
 * fuzzer ran.  A target aborts on a broken invariant; the sanitizers catch
 * the rest under `make asan`.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#define PD_FUZZ_REPLAY
#include "../fuzz/fuzz_conf.c"
#include "../fuzz/fuzz_maintainers.c"
#include "../fuzz/fuzz_mbox.c"
#include "../fuzz/fuzz_msg.c"
#include "../fuzz/fuzz_store.c"
#include "../fuzz/fuzz_subject.c"

typedef int (*target_fn)(const uint8_t *, size_t);

static const struct target {
	const char *name;
	target_fn fn;
} targets[] = {
	{ "conf", pd_fuzz_conf },
	{ "maintainers", pd_fuzz_maintainers },
	{ "mbox", pd_fuzz_mbox },
	{ "msg", pd_fuzz_msg },
	{ "store", pd_fuzz_store },
	{ "subject", pd_fuzz_subject },
};
#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	struct stat sb;

	assert_non_null(fp);
	assert_int_equal(fstat(fileno(fp), &sb), 0);
	*len = (size_t)sb.st_size;
	buf = malloc(*len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, *len, fp), *len);
	fclose(fp);
	return buf;
}

/* Every regular file under dir (recursively) through fn; returns the count. */
static size_t
replay_dir(const char *dir, target_fn fn)
{
	struct dirent **ents;
	char path[4096];
	struct stat sb;
	size_t count = 0, len;
	uint8_t *buf;
	int n;

	if ((n = scandir(dir, &ents, NULL, alphasort)) < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] == '.')
			goto next;
		assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    ents[i]->d_name) < sizeof(path));
		if (stat(path, &sb) != 0)
			goto next;
		if (S_ISDIR(sb.st_mode)) {
			count += replay_dir(path, fn);
		} else if (S_ISREG(sb.st_mode)) {
			buf = slurp(path, &len);
			fprintf(stderr, "replay %s\n", path);
			fn(buf, len);
			free(buf);
			count++;
		}
next:
		free(ents[i]);
	}
	free(ents);
	return count;
}

static const char *
env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : def;
}

/* The findings of one harness, then the shared fuzz corpus through it. */
static void
test_target(void **state)
{
	const struct target *t = *state;
	char dir[4096];
	size_t n;

	snprintf(dir, sizeof(dir), "%s/tests/fuzz-regressions/%s",
	    env_or("PD_SRC", "."), t->name);
	n = replay_dir(dir, t->fn);
	snprintf(dir, sizeof(dir), "%s/corpus/patchwork/fuzz", env_or("PD_SHARED", "../shared"));
	n += replay_dir(dir, t->fn);
	fprintf(stderr, "%s: %zu inputs replayed\n", t->name, n);
	/* The shared fuzz corpus must be there: replaying nothing is no test. */
	assert_true(n >= 18);
}

/* The whole corpus through the message target (its tag invariants too). */
static void
test_msg_corpus(void **state)
{
	char dir[4096];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/corpus", env_or("PD_SHARED", "../shared"));
	assert_true(replay_dir(dir, pd_fuzz_msg) > 500);
}

int
main(void)
{
	struct CMUnitTest tests[NTARGETS + 1];
	int rc;

	for (size_t i = 0; i < NTARGETS; i++) {
		struct CMUnitTest t = { targets[i].name, test_target, NULL, NULL,
		    (void *)&targets[i] };

		tests[i] = t;
	}
	tests[NTARGETS] = (struct CMUnitTest)cmocka_unit_test(test_msg_corpus);
	rc = _cmocka_run_group_tests("fuzz_regressions", tests, NTARGETS + 1, NULL, NULL);
	pd_msg_shutdown();
	return rc;
}
