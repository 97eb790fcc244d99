/*
 * Reading many messages: mbox/mboxrd (">From " unescaped), Maildir,
 * directories of .eml files, stdin; .gz/.xz through a decompressor pipe.
 */
#ifndef PATCHDIGEST_MBOX_H
#define PATCHDIGEST_MBOX_H

#include <stddef.h>
#include <stdio.h>

typedef struct pd_mbox pd_mbox;

/*
 * Split an mbox read from fp (not closed by pd_mbox_free); a stream that
 * starts with a header field is one message.
 */
int pd_mbox_new(FILE *fp, pd_mbox **out);
/*
 * Next message: 1 and *buf, *len (valid until the next call), 0 at the end,
 * or a negative pd_err.
 */
int pd_mbox_next(pd_mbox *mb, const char **buf, size_t *len);
size_t pd_mbox_bytes(const pd_mbox *mb);	/* bytes consumed so far */
/* 1 once the stream has ended: the message last returned was its last. */
int pd_mbox_eof(const pd_mbox *mb);
void pd_mbox_free(pd_mbox *mb);

/* Split a buffer in memory (tests, fuzzing): calls fn per message. */
int pd_mbox_split(const char *buf, size_t len,
    int (*fn)(const char *msg, size_t len, void *arg), void *arg);

#endif
