/*
 * pd_tiesort: sort the lines of stdin the way the digest orders equal
 * counts (pd_digest_tiecmp), for comparing with sort(1) under a real locale.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchdigest/digest.h"

static int
cmp(const void *a, const void *b)
{
	return pd_digest_tiecmp(*(char *const *)a, *(char *const *)b);
}

int
main(void)
{
	char **v = NULL, *line = NULL;
	size_t n = 0, cap = 0, len = 0;
	ssize_t r;

	while ((r = getline(&line, &len, stdin)) != -1) {
		if (r > 0 && line[r - 1] == '\n')
			line[r - 1] = '\0';
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((v = realloc(v, cap * sizeof(*v))) == NULL)
				return 1;
		}
		if ((v[n++] = strdup(line)) == NULL)
			return 1;
	}
	free(line);
	qsort(v, n, sizeof(*v), cmp);
	for (size_t i = 0; i < n; i++) {
		if (printf("%s\n", v[i]) < 0)
			return 1;
		free(v[i]);
	}
	free(v);
	return fflush(stdout) == 0 ? 0 : 1;
}
