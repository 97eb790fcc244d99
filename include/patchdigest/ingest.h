/*
 * The common path of every front end: parse, classify, record one message.
 * Used by the milter, the LDA and `patchdigest import`.
 */
#ifndef PATCHDIGEST_INGEST_H
#define PATCHDIGEST_INGEST_H

#include <stddef.h>
#include "patchdigest/msg.h"
#include "patchdigest/classify.h"
#include "patchdigest/store.h"

struct pd_ingest {
	int parsed;		/* 0: unparseable, nothing else is set */
	int kind;		/* enum pd_kind */
	int stored;		/* 1: recorded (or a known duplicate) */
	int duplicate;
	int store_err;		/* pd_err of the store step, 0 if fine or skipped */
	struct pd_class cls;
	struct pd_put_result put;	/* series etc.; series guessed if not stored */
	char msgid[256];
};

/*
 * st may be NULL (dry run): everything but the store step.  Returns 0 when
 * the message was parsed (even if the store failed: see res->store_err), or
 * the parse error.
 */
int pd_ingest(pd_store *st, const pd_classifier *cl, const char *raw, size_t len,
    const struct pd_parse_opts *opts, struct pd_ingest *res);
/*
 * Its two steps, for a caller that takes the store in between (the milter
 * holds its store lock for the second only).  parse: 0 and *m (free it),
 * or the parse error.  record: st NULL or failing, the series is guessed
 * from the threading headers.
 */
int pd_ingest_parse(const pd_classifier *cl, const char *raw, size_t len,
    const struct pd_parse_opts *opts, struct pd_ingest *res, pd_msg **m);
void pd_ingest_record(pd_store *st, const pd_msg *m, struct pd_ingest *res);

#endif
