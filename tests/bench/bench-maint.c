/*
 * bench-maint: MAINTAINERS load time and classification speed for
 * `make bench`.
 *
 *   bench-maint MAINTAINERS FILES-LIST MBOX
 *
 * Times pd_maint_load (with and without the file list), pd_classifier_new,
 * then parses every message of MBOX (not timed), and times pd_maint_match
 * over every file touched by every patch message, and pd_classify over every
 * patch message.  Prints "key value" lines for run.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patchdigest/classify.h"
#include "patchdigest/error.h"
#include "patchdigest/mbox.h"
#include "patchdigest/msg.h"
#include "maintainers.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
load_time(const char *maint, const char *files, double *secs, size_t *nsect)
{
	char err[512];
	pd_maint *m;
	double t0 = now();
	int rc;

	if ((rc = pd_maint_load(maint, files, &m, err, sizeof(err))) != 0) {
		fprintf(stderr, "bench-maint: %s: %s\n", maint,
		    err[0] ? err : pd_strerror(rc));
		return -1;
	}
	*secs = now() - t0;
	*nsect = pd_maint_nsections(m);
	pd_maint_free(m);
	return 0;
}

struct paths {
	char **v;
	size_t n, cap;
};

static int
paths_add(struct paths *p, const char *s)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4096;
		char **nv = realloc(p->v, cap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		p->v = nv;
		p->cap = cap;
	}
	if ((p->v[p->n] = strdup(s)) == NULL)
		return -1;
	p->n++;
	return 0;
}

int
main(int argc, char **argv)
{
	struct paths paths = { 0 };
	struct pd_maint_match mm;
	struct pd_class cls;
	pd_classifier *cl = NULL;
	pd_maint *m = NULL;
	pd_mbox *mb = NULL;
	FILE *fp = NULL;
	const char *buf;
	char err[512];
	double t, t_bare, t_files, t_cl, t_classify = 0;
	size_t len, nsect, matched = 0, msgs = 0, patches = 0, classified = 0;
	int rc, status = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: bench-maint MAINTAINERS FILES-LIST MBOX\n");
		return 64;
	}
	pd_msg_init();
	if (load_time(argv[1], NULL, &t_bare, &nsect) != 0 ||
	    load_time(argv[1], argv[2], &t_files, &nsect) != 0)
		goto out;
	t = now();
	rc = pd_classifier_new(NULL, argv[1], argv[2], &cl, err, sizeof(err));
	t_cl = now() - t;
	if (rc != 0) {
		fprintf(stderr, "bench-maint: classifier: %s\n", err[0] ? err : pd_strerror(rc));
		goto out;
	}
	if (pd_maint_load(argv[1], argv[2], &m, err, sizeof(err)) != 0)
		goto out;
	if ((fp = fopen(argv[3], "r")) == NULL || pd_mbox_new(fp, &mb) != 0) {
		perror(argv[3]);
		goto out;
	}
	while ((rc = pd_mbox_next(mb, &buf, &len)) == 1) {
		pd_msg *msg;

		msgs++;
		if (pd_msg_parse(buf, len, NULL, &msg) != 0)
			continue;
		if (pd_msg_is_patch(msg)) {
			patches++;
			for (size_t i = 0; i < pd_msg_nfiles(msg); i++)
				if (paths_add(&paths, pd_msg_file(msg, i)) != 0)
					goto out;
			t = now();
			pd_classify(cl, msg, &cls);
			t_classify += now() - t;
			classified++;
		}
		pd_msg_free(msg);
	}
	if (rc < 0) {
		fprintf(stderr, "bench-maint: %s: %s\n", argv[3], pd_strerror(rc));
		goto out;
	}
	t = now();
	for (size_t i = 0; i < paths.n; i++)
		matched += pd_maint_match(m, paths.v[i], &mm) == 1;
	t = now() - t;
	printf("sections %zu\n", nsect);
	printf("load_ms %.2f\n", t_bare * 1e3);
	printf("load_files_ms %.2f\n", t_files * 1e3);
	printf("classifier_new_ms %.2f\n", t_cl * 1e3);
	printf("messages %zu\npatches %zu\npaths %zu\nmatched %zu\n", msgs, patches,
	    paths.n, matched);
	printf("match_s %.6f\nmatch_per_s %.0f\n", t, t > 0 ? paths.n / t : 0);
	printf("classify_s %.6f\nclassify_per_s %.0f\n", t_classify,
	    t_classify > 0 ? classified / t_classify : 0);
	status = 0;
out:
	for (size_t i = 0; i < paths.n; i++)
		free(paths.v[i]);
	free(paths.v);
	pd_mbox_free(mb);
	if (fp != NULL)
		fclose(fp);
	pd_maint_free(m);
	pd_classifier_free(cl);
	pd_msg_shutdown();
	return status;
}
