/*
 * Internal to the store's modules: lib/store.c (the environment,
 * transactions, put, reads, ranges and digests), record.c (records as
 * bytes), series.c (series assembly and version links) and credit.c
 * (trailer counts of replies).  The schema is described in store.c.
 */
#ifndef PATCHDIGEST_STORE_INT_H
#define PATCHDIGEST_STORE_INT_H

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "patchdigest/error.h"
#include "patchdigest/store.h"
#include "wire.h"

enum { DB_META, DB_MSGS, DB_SEQ, DB_SHORT, DB_SERIES, DB_PENDING, DB_LOOSE,
	DB_VERS, DB_RANGES, DB_COUNTS, DB_DIGESTS, DB_WAIT, DB_CREDITS, DB_MAX };

struct pd_store {
	MDB_env *env;
	MDB_dbi db[DB_MAX];
	unsigned flags;
	size_t map_max;
	pthread_rwlock_t lock;	/* shared by every txn, exclusive to resize */
	pthread_mutex_t mu;	/* guards batch, wtxn and owner */
	MDB_txn *batch;		/* parent txn between begin and commit */
	MDB_txn *wtxn;		/* write txn the owner's reads go through */
	pthread_t owner;	/* the thread that runs batch and wtxn */
	/* Batch accounting: only the owner, holding LMDB's writer lock. */
	size_t batch_avail;	/* free map bytes when the batch began */
	size_t batch_est;	/* generous guess of the map bytes the batch dirtied */
	size_t fresh_est;	/* that guess for a fresh txn (immutable) */
};

struct srec {			/* a series record, decoded (pointers borrowed) */
	const char *id, *subject, *title, *author, *email, *subsystem, *project;
	const char *supersedes;
	int version, total, has_cover, supersedes_version;
	unsigned reviewed, acked, tested;
	uint64_t first_seq;
	const unsigned char *parts;
	size_t nparts;		/* bytes of the bitmap */
	const unsigned char *subs;	/* its parts' subsystems (pd_record_subs_*) */
	size_t subs_len;	/* 0 in records written before they were kept */
};

/* A stored digest's fields where they lie in the store: nothing copied. */
struct dig_view {
	const char *from, *to, *text, *html, *msgid;
	size_t text_len, html_len;
	int64_t created, sent_at;
};

/* record.c: records to bytes and back (the decoders check every field) */
int pd_record_msg_encode(const struct pd_rec *r, struct wbuf *b);
int pd_record_msg_decode(const MDB_val *key, const MDB_val *val,
    struct pd_rec *r);
int pd_record_series_encode(const struct srec *s, struct wbuf *b);
int pd_record_series_decode(const MDB_val *key, const MDB_val *val,
    struct srec *s);
unsigned pd_record_series_received(const struct srec *s);
/*
 * The subsystems of a series' patch messages as they were classified when
 * posted: name, messages, those not cover letters, lowest part number.
 * subs_add writes s's list with one more message into out; subs_get
 * calls fn for each entry.
 */
int pd_record_subs_add(const struct srec *s, const char *name, int cover,
    int part, struct wbuf *out);
int pd_record_subs_get(const struct srec *s,
    int (*fn)(const struct pd_series_sub *, void *), void *arg);
int pd_record_range_encode(const struct pd_range *r, struct wbuf *b);
int pd_record_range_decode(const MDB_val *key, const MDB_val *val,
    struct pd_range *r);
int pd_record_digest_encode(const struct pd_digest_rec *d, struct wbuf *b);
int pd_record_digest_parse(const MDB_val *val, struct dig_view *dv);
int pd_record_digest_decode(const MDB_val *key, const MDB_val *val,
    struct pd_digest_rec *d);

/*
 * series.c: the series of patch m, its record brought up to date; m's
 * thread ancestors, nearest first
 */
int pd_series_assign(pd_store *st, MDB_txn *t, const pd_msg *m, char *sid,
    size_t sidlen);
int pd_series_record(pd_store *st, MDB_txn *t, const pd_msg *m,
    const struct pd_class *cls, const char *sid, uint64_t seq);
size_t pd_series_ancestors(const pd_msg *m, const char **anc, size_t max);

/* credit.c: a reply's trailers; the replies that waited for m */
int pd_credit_trailers(pd_store *st, MDB_txn *t, const pd_msg *m);
int pd_credit_settle(pd_store *st, MDB_txn *t, const pd_msg *m);

static inline MDB_val
sval(const char *s)
{
	MDB_val v = { strlen(s) + 1, (void *)s };

	return v;
}

/* A reader of a value from the store. */
static inline struct rbuf
r_val(const MDB_val *v)
{
	struct rbuf r = { v->mv_data, (const unsigned char *)v->mv_data + v->mv_size, 0 };

	return r;
}

static inline int
put_buf(MDB_txn *t, MDB_dbi db, MDB_val *k, struct wbuf *b, unsigned flags)
{
	MDB_val v = { b->len, b->p };

	return mdb_put(t, db, k, &v, flags);
}

/*
 * A value from mdb_get is valid only until the next put or del of the txn
 * (its page may be changed in place, split, or spilled and freed), so the
 * write paths decode records from a private copy, freed by the caller.
 */
static inline int
get_copy(MDB_txn *t, MDB_dbi db, MDB_val *k, MDB_val *v, void **copy)
{
	int rc;

	*copy = NULL;
	if ((rc = mdb_get(t, db, k, v)) != 0)
		return rc;
	if ((*copy = malloc(v->mv_size ? v->mv_size : 1)) == NULL)
		return PD_ENOMEM;
	memcpy(*copy, v->mv_data, v->mv_size);
	v->mv_data = *copy;
	return 0;
}

/* A message record decoded from a copy (get_copy): free *copy. */
static inline int
get_rec(pd_store *st, MDB_txn *t, const char *msgid, MDB_val *k, struct pd_rec *r,
    void **copy)
{
	MDB_val v;
	int rc;

	*copy = NULL;
	*k = sval(msgid);
	if (k->mv_size > 511)
		return MDB_NOTFOUND;
	if ((rc = get_copy(t, st->db[DB_MSGS], k, &v, copy)) != 0)
		return rc;
	return pd_record_msg_decode(k, &v, r);
}

#endif
