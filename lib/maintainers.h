/*
 * The kernel's MAINTAINERS file: sections, F:/X: patterns, N: regexes, and
 * the best section for a path ranked the way scripts/get_maintainer.pl does.
 * Internal to lib/ (classify.c is its only user).
 */
#ifndef PATCHDIGEST_MAINTAINERS_H
#define PATCHDIGEST_MAINTAINERS_H

#include <stddef.h>
#include <stdio.h>

typedef struct pd_maint pd_maint;

struct pd_maint_match {
	int section;		/* index, -1 when nothing matched */
	const char *name;	/* section title */
	const char *pattern;	/* "F: arch/arm64/kvm/" or "N: riscv" */
	int depth;		/* get_maintainer's pattern depth; -1 catch-all */
	int catchall;		/* matched only by a pattern such as "*" */
};

/*
 * Load MAINTAINERS from path.  files (may be NULL) is a file list, plain or
 * xz-compressed, one path a line, telling which bare patterns are
 * directories; without it, a kernel tree around MAINTAINERS (a Kconfig
 * beside it) tells, else a bare pattern matches as a file and as a
 * directory.  errbuf gets the file:line of a bad entry.
 */
int pd_maint_load(const char *path, const char *files, pd_maint **out,
    char *errbuf, size_t errlen);
void pd_maint_free(pd_maint *m);

/*
 * Open a file the configuration names for reading; anything but a regular
 * file (a device such as /dev/zero, whose endless line would take all
 * memory; a FIFO, which would wait for a writer) is refused, but with
 * devices set a character device is taken (-c /dev/null: no configuration;
 * the caller bounds what it reads).  NULL with errbuf set on failure.
 */
FILE *pd_maint_fopen(const char *path, int devices, char *errbuf, size_t errlen);

size_t pd_maint_nsections(const pd_maint *m);
/* Best section for one repository-relative path. Returns 1 if found. */
int pd_maint_match(const pd_maint *m, const char *path, struct pd_maint_match *out);

#endif
