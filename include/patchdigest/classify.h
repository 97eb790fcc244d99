/*
 * Subsystem and project of a message (SPEC.md section 3): MAINTAINERS
 * sections by touched files when configured, else subject-prefix rules.
 */
#ifndef PATCHDIGEST_CLASSIFY_H
#define PATCHDIGEST_CLASSIFY_H

#include <stddef.h>
#include "patchdigest/msg.h"

typedef struct pd_classifier pd_classifier;

struct pd_class {
	char subsystem[128];	/* "" when none */
	char project[64];	/* "linux" by default */
	char reason[256];	/* which rule/section/pattern decided */
};

/*
 * Build a classifier.  Any path may be NULL: rules NULL = the rules of
 * etc/subsystems.rules, built in (an empty file leaves the generic rule
 * alone: the first "token:"), maintainers NULL = subject rules only.  files
 * is a file list (plain or .xz) telling which bare MAINTAINERS patterns are
 * directories.  errbuf gets file:line of a bad rule.
 */
int pd_classifier_new(const char *rules, const char *maintainers, const char *files,
    pd_classifier **out, char *errbuf, size_t errlen);
void pd_classifier_free(pd_classifier *c);

/*
 * The project of the list's own tree, malloc'd: the rules' "default",
 * "linux" unless they set one.  rules NULL = the built-in rules.
 */
int pd_classify_own_project(const char *rules, char **out);

/* c may be NULL (the generic rule alone: the first token). Always fills *out. */
void pd_classify(const pd_classifier *c, const pd_msg *m, struct pd_class *out);
/*
 * Whether a title names its subsystem with a leading "token:" ("KVM: arm64:
 * Fix x"), rather than leaving it to the touched files.
 */
int pd_classify_title_named(const char *title);
/* Best MAINTAINERS section for one path; NULL when none or not loaded. */
const char *pd_classify_path(const pd_classifier *c, const char *path,
    char *why, size_t whylen);

#endif
