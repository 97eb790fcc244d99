/*
 * Header fields of the mail patchdigest writes (the digest), each ending
 * in "\n".  Internal to lib/ (send.c is its user).
 */
#ifndef PATCHDIGEST_MAILHDR_H
#define PATCHDIGEST_MAILHDR_H

#include <stddef.h>

#include <glib.h>

/* "Name: text": unstructured UTF-8 text, such as a Subject. */
void pd_hdr_text(GString *out, const char *name, const char *text);

/*
 * "Name: phrase token": a display name (UTF-8, may be empty or NULL)
 * before an ASCII token written as it is ("<user@host>", "<list.id>").
 */
void pd_hdr_named(GString *out, const char *name, const char *phrase,
    const char *token);

/* "Name: a, b, ...": ASCII addresses. */
void pd_hdr_list(GString *out, const char *name, char *const *addrs, size_t n);

#endif
