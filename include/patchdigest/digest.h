/* Rendering a range as the digest (SPEC.md section 5), text and HTML. */
#ifndef PATCHDIGEST_DIGEST_H
#define PATCHDIGEST_DIGEST_H

#include <stddef.h>
#include "patchdigest/conf.h"
#include "patchdigest/store.h"

/* Render range r; *text and *html are malloc'd (html may be NULL to skip). */
int pd_digest_render(pd_store *st, const struct pd_conf *conf, const struct pd_range *r,
    char **text, char **html);

/*
 * The tie order of `sort | uniq -c | sort -rn` under en_US.UTF-8 for two
 * values of equal count: < 0 if a comes first.
 */
int pd_digest_tiecmp(const char *a, const char *b);

#endif
