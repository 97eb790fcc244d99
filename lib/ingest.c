/* The common path of every front end: parse, classify, record. */
#include <stdio.h>
#include <string.h>

#include "patchdigest/error.h"
#include "patchdigest/ingest.h"

static void
copy_str(char *dst, size_t dstlen, const char *src)
{
	size_t n = strnlen(src, dstlen - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

int
pd_ingest_parse(const pd_classifier *cl, const char *raw, size_t len,
    const struct pd_parse_opts *opts, struct pd_ingest *res, pd_msg **m)
{
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = pd_msg_parse(raw, len, opts, m)) != 0)
		return rc;
	res->parsed = 1;
	res->kind = pd_msg_kind(*m);
	copy_str(res->msgid, sizeof(res->msgid), pd_msg_id(*m));
	pd_classify(cl, *m, &res->cls);
	return 0;
}

void
pd_ingest_record(pd_store *st, const pd_msg *m, struct pd_ingest *res)
{
	if (st != NULL) {
		res->store_err = pd_store_put(st, m, &res->cls, &res->put);
		if (res->store_err == 0) {
			res->stored = 1;
			res->duplicate = res->put.duplicate;
		}
	}
	if (st == NULL || res->store_err != 0) {
		memset(&res->put, 0, sizeof(res->put));
		pd_short_id(pd_msg_id(m), res->put.short_id);
		pd_series_guess(m, res->put.series, sizeof(res->put.series));
		res->put.version = pd_msg_version(m);
		res->put.cx = pd_msg_counter(m, &res->put.cn);
	}
}

int
pd_ingest(pd_store *st, const pd_classifier *cl, const char *raw, size_t len,
    const struct pd_parse_opts *opts, struct pd_ingest *res)
{
	pd_msg *m = NULL;
	int rc;

	if ((rc = pd_ingest_parse(cl, raw, len, opts, res, &m)) != 0)
		return rc;
	pd_ingest_record(st, m, res);
	pd_msg_free(m);
	return 0;
}
