/* The subject grammar of SPEC.md section 2, on its own (no GMime). */
#ifndef PATCHDIGEST_SUBJECT_H
#define PATCHDIGEST_SUBJECT_H

#include <stddef.h>

#define PD_SUBJECT_MAXTAGS 8

struct pd_subject {
	int reply;		/* a reply/forward marker was stripped */
	int patch;		/* PATCH word present (any case, PATCHv3 too) */
	int pull;		/* PULL / GIT PULL / "pull request" */
	int pull_request;	/* "pull request": with PATCH, a patch posting */
	int cx, cn;		/* counter x/N, -1/-1 when none */
	int version;		/* 1 by default */
	unsigned flags;		/* PD_FLAG_RFC | PD_FLAG_RESEND */
	size_t ntags;
	char *tags[PD_SUBJECT_MAXTAGS];	/* other tokens: tree/project tags */
	char *prefix;		/* the bracket groups as sent, "" when none */
	char *title;		/* the rest */
};

/*
 * Parse an unfolded, decoded subject.  Fills *out (free with
 * pd_subject_clear).  Returns 0 or PD_ENOMEM.
 */
int pd_subject_parse(const char *subject, struct pd_subject *out);
void pd_subject_clear(struct pd_subject *s);
/* Kind from a parsed subject (enum pd_kind of msg.h). */
int pd_subject_kind(const struct pd_subject *s);

#endif
