/*
 * The X-Patch-* headers of SPEC.md section 4: values, and rewriting a raw
 * message byte for byte with the old tags removed and ours added.
 */
#ifndef PATCHDIGEST_TAGS_H
#define PATCHDIGEST_TAGS_H

#include <stddef.h>
#include "patchdigest/ingest.h"

#define PD_NTAGS 4

struct pd_tags {
	/* names: X-Patch-Kind, X-Patch-Series, X-Patch-Subsystem, X-Patch-Project */
	const char *name[PD_NTAGS];
	/*
	 * ASCII, RFC 2047-encoded where needed, folded with "\n ", no CR.
	 * A value may start with the fold (a Message-ID too long for the
	 * first line): write "Name:", pd_tags_blank, then the value.
	 */
	char value[PD_NTAGS][512];
};

/* Tag values for an ingested message; fails only if it was not parsed. */
int pd_tags_build(const struct pd_ingest *in, struct pd_tags *out);
/* What goes between tag i's colon and its value: " ", or "" before a fold. */
const char *pd_tags_blank(const struct pd_tags *t, int i);
/* 1 if a header name is one of ours (case-insensitive "X-Patch-" prefix). */
int pd_tags_is_ours(const char *name);

/*
 * Write raw with every X-Patch-* header removed and tags (if not NULL)
 * inserted at the top of the header, otherwise unchanged (line ends kept).
 * write_fn returns 0 or -1; returns 0 or PD_EIO.
 */
int pd_tags_rewrite(const char *raw, size_t len, const struct pd_tags *tags,
    int (*write_fn)(const void *buf, size_t n, void *arg), void *arg);

#endif
