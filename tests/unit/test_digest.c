/*
 * Digest rendering: the tie order of the Top-15 lists against every seed
 * (real `sort | uniq -c | sort -rn` output), and the renderer against a real
 * store filled by the real parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <cmocka.h>

#include "patchdigest/digest.h"

struct line {
	long count;
	char *value;
};

static int
linecmp(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return pd_digest_tiecmp(x->value, y->value);
}

/* xorshift: a fixed, portable shuffle. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Shuffle a seed's section, sort it with the comparator, expect the seed's order. */
static int
check_section(const char *path, const char *heading, struct line *l, size_t n)
{
	struct line *copy = calloc(n ? n : 1, sizeof(*copy));
	uint32_t state = 2463534242u;
	int bad = 0;

	assert_non_null(copy);
	for (int round = 0; round < 20 && !bad; round++) {
		memcpy(copy, l, n * sizeof(*l));
		for (size_t i = n; i > 1; i--) {
			size_t j = rnd(&state) % i;
			struct line t = copy[i - 1];

			copy[i - 1] = copy[j];
			copy[j] = t;
		}
		qsort(copy, n, sizeof(*copy), linecmp);
		for (size_t i = 0; i < n; i++)
			if (strcmp(copy[i].value, l[i].value) != 0) {
				fprintf(stderr, "%s: %s: position %zu: got %s, seed has %s\n",
				    path, heading, i + 1, copy[i].value, l[i].value);
				bad = 1;
				break;
			}
	}
	free(copy);
	return bad;
}

/* Read the two Top-15 sections of one seed and check each. */
static int
check_seed(const char *path, size_t *nties)
{
	FILE *f = fopen(path, "r");
	char buf[1024], heading[1024] = "";
	struct line l[32];
	size_t n = 0;
	int bad = 0, in = 0;

	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f) != NULL) {
		char *nl = strchr(buf, '\n'), *v;
		long c;

		if (nl)
			*nl = '\0';
		if (strncmp(buf, "Top 15 ", 7) == 0) {
			in = 1;
			n = 0;
			snprintf(heading, sizeof(heading), "%s", buf);
			continue;
		}
		if (!in)
			continue;
		if (buf[0] == '\0') {
			if (n == 0)
				continue;	/* the blank line under the heading */
			bad |= check_section(path, heading, l, n);
			for (size_t i = 0; i < n; i++) {
				if (i > 0 && l[i].count == l[i - 1].count)
					(*nties)++;
				free(l[i].value);
			}
			in = 0;
			n = 0;
			continue;
		}
		c = strtol(buf, &v, 10);
		assert_true(c > 0 && *v == ' ');
		while (*v == ' ')
			v++;
		assert_true(n < 32);
		l[n].count = c;
		l[n].value = strdup(v);
		assert_non_null(l[n].value);
		n++;
	}
	fclose(f);
	assert_int_equal(n, 0);
	return bad;
}

static void
test_tiecmp_seeds(void **state)
{
	const char *shared = getenv("PD_SHARED");
	char dir[4096], path[4096 + 512];
	struct dirent *e;
	size_t seeds = 0, ties = 0;
	int bad = 0;
	DIR *d;

	(void)state;
	if (shared == NULL)
		skip();
	snprintf(dir, sizeof(dir), "%s/seeds", shared);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 5 || strcmp(e->d_name + len - 4, ".txt") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		bad |= check_seed(path, &ties);
		seeds++;
	}
	closedir(d);
	assert_int_equal(seeds, 5);
	/* The seeds hold many ties; a comparator that never decides would fail above. */
	assert_true(ties >= 20);
	assert_int_equal(bad, 0);
}

/* The SPEC's example, and the levels one by one. */
static void
test_tiecmp_rules(void **state)
{
	(void)state;
	assert_true(pd_digest_tiecmp("\"Xin Li (Intel)\" <xin@zytor.com>",
	    "Chao Gao <chao.gao@intel.com>") < 0);
	assert_true(pd_digest_tiecmp("Chao Gao <chao.gao@intel.com>",
	    "\"Xin Li (Intel)\" <xin@zytor.com>") > 0);
	/* punctuation and spaces are ignored first: "ab c" ~ "abc" < "abd" */
	assert_true(pd_digest_tiecmp("abd", "ab c") < 0);
	assert_true(pd_digest_tiecmp("a.b", "aa") < 0);
	/* then lower case before upper case (so upper first, descending) */
	assert_true(pd_digest_tiecmp("ABC", "abc") < 0);
	assert_true(pd_digest_tiecmp("Abc", "abc") < 0);
	/* then bytes */
	assert_true(pd_digest_tiecmp("abc", "ab c") < 0);
	assert_true(pd_digest_tiecmp("a.bc", "a-bc") < 0);
	/* digits before letters; the equal string ties */
	assert_true(pd_digest_tiecmp("a", "1") < 0);
	assert_int_equal(pd_digest_tiecmp("same", "same"), 0);
	/* accented letters sort with their base letter, after it */
	assert_true(pd_digest_tiecmp("Krčmář", "Krcmar") < 0);
	assert_true(pd_digest_tiecmp("Krčmář", "Krdx") > 0);
	/* broken UTF-8 does not crash and still orders by bytes */
	assert_true(pd_digest_tiecmp("ab\xff", "ab") != 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tiecmp_seeds),
		cmocka_unit_test(test_tiecmp_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
