/*
 * The LMDB store (SPEC.md section 3).
 *
 * Schema (version 2).  One environment, named databases:
 *
 *   meta      "version" -> u32 schema version (STORE_VERSION; a writer
 *             makes a version 1 store, one without credits, version 2)
 *             "next_seq" -> u64 next arrival number (first message is 1)
 *             "open_range" -> u64 number of the one open range
 *   messages  Message-ID + NUL -> message record (REC_*)
 *   seq       u64 big-endian arrival number -> Message-ID + NUL
 *   shortids  9-char short id -> Message-ID + NUL (DUPSORT: collisions)
 *   series    series id + NUL -> series record (SER_*)
 *   pending   Message-ID + NUL of an ancestor not seen yet or seen as a
 *             non-part (never a series' member) -> version, N, series
 *             id that its children of that version and N already use, so
 *             the id stays stable whatever arrives first; only ancestors
 *             up to the guessed root are entered (series_by_thread: a
 *             series posted inside another's thread must not capture it)
 *   loose     lower(sender address) NUL version NUL N NUL tags -> i64 date +
 *             series id: series assembly without threading (20 minutes)
 *   versions  "t" author-email NUL title, or "c" change-id -> u64 version +
 *             series id: the latest version seen, for supersedes links
 *   ranges    u64 big-endian range number -> range record
 *   counters  u64 BE range number, u8 enum pd_counter, name -> u64 count
 *   digests   u64 BE range number -> digest record
 *   waiting   'r' reply's Message-ID NUL -> its credit (struct credit)
 *             and the ancestors it waits for; 'a' ancestor NUL reply NUL ->
 *             empty: replies with trailers whose part has not arrived yet
 *   credits   part's Message-ID NUL kind letter person NUL -> u64 BE
 *             number of replies giving that trailer to the part, as the
 *             counters keep counts (credit_person)
 *
 * Keys that are strings carry their NUL so that pointers into the map are C
 * strings.  Records are a format byte followed by fields: integers as LEB128
 * varints (signed ones zig-zag), strings as varint length + bytes + NUL.
 * Message records keep the commit message excerpt only for the messages the
 * digest shows (cover letters, patch 1/N, patches without counter), capped
 * at STORE_EXCERPT_MAX (cut_excerpt); the "from" field is empty when equal
 * to the author.
 * A series record keeps a bitmap of the parts 1..N seen.
 *
 * Trailer counts: a reply's Reviewed-by/Acked-by/Tested-by lines count for
 * the patch it answers and for the patch's series; a reply to a cover letter
 * counts for the series only.  A person counts once per part and kind.  A
 * reply that arrives before the part it answers waits for it (waiting).
 *
 * Pointers into the map: inside a write txn a value from mdb_get or a
 * cursor is valid only until the txn's next put or del (pages are changed
 * in place, split, or spilled and freed), so every record decoded on the
 * write paths is decoded from a private copy (get_copy) or read before the
 * first write.  Read-only calls hand out map pointers for a callback only.
 *
 * Concurrency: LMDB serialises writers across processes and threads (one
 * pd_store may be shared by threads: MDB_NOTLS).  Within a process a rwlock
 * guards map resizing (mdb_env_set_mapsize needs no live txn in the
 * process): every top-level txn holds it shared, resizing holds it
 * exclusive.  The store's mutable state (the batch, the write txn that
 * its thread's reads go through, and which thread that is) is guarded by a
 * mutex and withdrawn before the txn ends, i.e. before LMDB's writer lock
 * passes to another thread.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "patchdigest/error.h"
#include "patchdigest/store.h"

#define STORE_VERSION	2	/* 1: waiting records count, credits missing */
#define STORE_EXCERPT_MAX	(16 * 1024)
#define STORE_MAXPARTS	4096	/* bitmap bound for a bogus x/N */
#define BATCH_OP_EST	(STORE_EXCERPT_MAX + 16 * 1024)	/* map bytes one put may dirty */
#define BATCH_TXN_PAGES	(4 * (DB_MAX + 2))	/* a fresh txn copies each tree's path */
#define LOOSE_WINDOW	(20 * 60)
#define DEFAULT_MAP	((size_t)64 << 20)
#define DEFAULT_MAP_MAX	((size_t)64 << 30)
#define REC_FORMAT	1
#define SER_FORMAT	1
#define RANGE_FORMAT	1
#define DIG_FORMAT	1

enum { DB_META, DB_MSGS, DB_SEQ, DB_SHORT, DB_SERIES, DB_PENDING, DB_LOOSE,
	DB_VERS, DB_RANGES, DB_COUNTS, DB_DIGESTS, DB_WAIT, DB_CREDITS, DB_MAX };

static const char *const db_names[DB_MAX] = {
	"meta", "messages", "seq", "shortids", "series", "pending", "loose",
	"versions", "ranges", "counters", "digests", "waiting", "credits"
};

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

/* ---- errors ---- */

static int
pd_rc(int rc)
{
	if (rc == 0 || (rc < 0 && rc >= PD_EEMPTY))
		return rc;
	switch (rc) {
	case MDB_MAP_FULL:
	case ENOSPC:
	case EDQUOT:
		return PD_EFULL;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_VERSION_MISMATCH:
	case MDB_PAGE_NOTFOUND:
	case MDB_PANIC:
		return PD_ECORRUPT;
	case MDB_NOTFOUND:
		return PD_ENOTFOUND;
	case MDB_KEYEXIST:
		return PD_EEXIST;
	case MDB_READERS_FULL:
	case EAGAIN:
	case EBUSY:
		return PD_EBUSY;
	case ENOENT:
		return PD_ENOSTORE;
	case EACCES:
	case EROFS:
	case EPERM:
		return PD_EROFS;
	case ENOMEM:
		return PD_ENOMEM;
	case EIO:
		return PD_EIO;
	default:
		return PD_ESTORE;
	}
}

/* ---- serialisation ---- */

struct wbuf {
	unsigned char *p;
	size_t len, cap;
	int err;
};

struct rbuf {
	const unsigned char *p, *end;
	int err;
};

static void
w_raw(struct wbuf *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		unsigned char *np;

		while (cap < b->len + n)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->err = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
w_u64(struct wbuf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;

	do {
		tmp[n] = v & 0x7f;
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	w_raw(b, tmp, n);
}

static void
w_i64(struct wbuf *b, int64_t v)
{
	w_u64(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void
w_mem(struct wbuf *b, const void *p, size_t n)
{
	w_u64(b, n);
	w_raw(b, p, n);
	w_raw(b, "", 1);
}

static void
w_str(struct wbuf *b, const char *s)
{
	if (s == NULL)
		s = "";
	w_mem(b, s, strlen(s));
}

static uint64_t
r_u64(struct rbuf *r)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (!r->err) {
		if (r->p >= r->end || shift > 63) {
			r->err = 1;
			break;
		}
		v |= (uint64_t)(*r->p & 0x7f) << shift;
		if ((*r->p++ & 0x80) == 0)
			return v;
		shift += 7;
	}
	return 0;
}

static int64_t
r_i64(struct rbuf *r)
{
	uint64_t v = r_u64(r);

	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static int
r_int(struct rbuf *r)
{
	int64_t v = r_i64(r);

	if (v < INT_MIN || v > INT_MAX)
		r->err = 1;
	return (int)v;
}

static const char *
r_mem(struct rbuf *r, size_t *lenp)
{
	uint64_t n = r_u64(r);
	const char *s;

	if (r->err || n >= (uint64_t)(r->end - r->p) || r->p[n] != '\0') {
		r->err = 1;
		if (lenp)
			*lenp = 0;
		return "";
	}
	s = (const char *)r->p;
	r->p += n + 1;
	if (lenp)
		*lenp = n;
	return s;
}

static const char *
r_str(struct rbuf *r)
{
	return r_mem(r, NULL);
}

/* A reader of what b holds: nothing, when it was never written to. */
static struct rbuf
r_of(const struct wbuf *b)
{
	struct rbuf r = { b->p, b->p, 0 };

	if (b->p != NULL)
		r.end = b->p + b->len;
	return r;
}

static void
be64(unsigned char out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = v & 0xff;
}

static uint64_t
get_be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static MDB_val
sval(const char *s)
{
	MDB_val v = { strlen(s) + 1, (void *)s };

	return v;
}

/* ---- records ---- */

struct srec {			/* a series record, decoded (pointers borrowed) */
	const char *id, *subject, *title, *author, *email, *subsystem, *project;
	const char *supersedes;
	int version, total, has_cover, supersedes_version;
	unsigned reviewed, acked, tested;
	uint64_t first_seq;
	const unsigned char *parts;
	size_t nparts;		/* bytes of the bitmap */
};

static int
rec_encode(const struct pd_rec *r, struct wbuf *b)
{
	unsigned char fmt = REC_FORMAT;
	int same = strcmp(r->from, r->author) == 0;

	w_raw(b, &fmt, 1);
	w_u64(b, r->seq);
	w_i64(b, r->date);
	w_i64(b, r->arrived);
	w_i64(b, r->kind);
	w_i64(b, r->version);
	w_i64(b, r->cx);
	w_i64(b, r->cn);
	w_u64(b, r->flags);
	w_u64(b, r->reviewed);
	w_u64(b, r->acked);
	w_u64(b, r->tested);
	w_str(b, r->short_id);
	w_str(b, r->subject);
	w_str(b, r->title);
	w_str(b, r->author);
	w_str(b, same ? "" : r->from);
	w_str(b, r->domain);
	w_str(b, r->series);
	w_str(b, r->subsystem);
	w_str(b, r->project);
	w_str(b, r->excerpt);
	w_str(b, r->in_reply_to);
	w_str(b, r->tags);
	w_str(b, r->list_ids);
	return b->err ? PD_ENOMEM : 0;
}

static int
rec_decode(const MDB_val *key, const MDB_val *val, struct pd_rec *r)
{
	struct rbuf rb = { val->mv_data, (const unsigned char *)val->mv_data + val->mv_size, 0 };

	memset(r, 0, sizeof(*r));
	if (val->mv_size < 1 || *rb.p++ != REC_FORMAT || key->mv_size < 1 ||
	    ((const char *)key->mv_data)[key->mv_size - 1] != '\0')
		return PD_ECORRUPT;
	r->msgid = key->mv_data;
	r->seq = r_u64(&rb);
	r->date = r_i64(&rb);
	r->arrived = r_i64(&rb);
	r->kind = r_int(&rb);
	r->version = r_int(&rb);
	r->cx = r_int(&rb);
	r->cn = r_int(&rb);
	r->flags = (unsigned)r_u64(&rb);
	r->reviewed = (unsigned)r_u64(&rb);
	r->acked = (unsigned)r_u64(&rb);
	r->tested = (unsigned)r_u64(&rb);
	r->short_id = r_str(&rb);
	r->subject = r_str(&rb);
	r->title = r_str(&rb);
	r->author = r_str(&rb);
	r->from = r_str(&rb);
	if (*r->from == '\0')
		r->from = r->author;
	r->domain = r_str(&rb);
	r->series = r_str(&rb);
	r->subsystem = r_str(&rb);
	r->project = r_str(&rb);
	r->excerpt = r_str(&rb);
	r->in_reply_to = r_str(&rb);
	r->tags = r_str(&rb);
	r->list_ids = r_str(&rb);
	return rb.err ? PD_ECORRUPT : 0;
}

static int
ser_encode(const struct srec *s, struct wbuf *b)
{
	unsigned char fmt = SER_FORMAT;

	w_raw(b, &fmt, 1);
	w_i64(b, s->version);
	w_i64(b, s->total);
	w_i64(b, s->has_cover);
	w_i64(b, s->supersedes_version);
	w_u64(b, s->reviewed);
	w_u64(b, s->acked);
	w_u64(b, s->tested);
	w_u64(b, s->first_seq);
	w_str(b, s->subject);
	w_str(b, s->title);
	w_str(b, s->author);
	w_str(b, s->email);
	w_str(b, s->subsystem);
	w_str(b, s->project);
	w_str(b, s->supersedes);
	w_mem(b, s->parts, s->nparts);
	return b->err ? PD_ENOMEM : 0;
}

static int
ser_decode(const MDB_val *key, const MDB_val *val, struct srec *s)
{
	struct rbuf rb = { val->mv_data, (const unsigned char *)val->mv_data + val->mv_size, 0 };

	memset(s, 0, sizeof(*s));
	if (val->mv_size < 1 || *rb.p++ != SER_FORMAT || key->mv_size < 1 ||
	    ((const char *)key->mv_data)[key->mv_size - 1] != '\0')
		return PD_ECORRUPT;
	s->id = key->mv_data;
	s->version = r_int(&rb);
	s->total = r_int(&rb);
	s->has_cover = r_int(&rb);
	s->supersedes_version = r_int(&rb);
	s->reviewed = (unsigned)r_u64(&rb);
	s->acked = (unsigned)r_u64(&rb);
	s->tested = (unsigned)r_u64(&rb);
	s->first_seq = r_u64(&rb);
	s->subject = r_str(&rb);
	s->title = r_str(&rb);
	s->author = r_str(&rb);
	s->email = r_str(&rb);
	s->subsystem = r_str(&rb);
	s->project = r_str(&rb);
	s->supersedes = r_str(&rb);
	s->parts = (const unsigned char *)r_mem(&rb, &s->nparts);
	return rb.err ? PD_ECORRUPT : 0;
}

static unsigned
ser_received(const struct srec *s)
{
	unsigned n = 0;

	for (size_t i = 0; i < s->nparts; i++)
		n += (unsigned)__builtin_popcount(s->parts[i]);
	return n;
}

static int
range_encode(const struct pd_range *r, struct wbuf *b)
{
	unsigned char fmt = RANGE_FORMAT;

	w_raw(b, &fmt, 1);
	w_str(b, r->from);
	w_str(b, r->to);
	w_u64(b, r->first_seq);
	w_u64(b, r->last_seq);
	w_i64(b, r->opened);
	w_i64(b, r->closed);
	w_u64(b, r->messages);
	w_u64(b, r->patch_messages);
	return b->err ? PD_ENOMEM : 0;
}

static int
range_decode(const MDB_val *key, const MDB_val *val, struct pd_range *r)
{
	struct rbuf rb = { val->mv_data, (const unsigned char *)val->mv_data + val->mv_size, 0 };

	memset(r, 0, sizeof(*r));
	if (key->mv_size != 8 || val->mv_size < 1 || *rb.p++ != RANGE_FORMAT)
		return PD_ECORRUPT;
	r->no = get_be64(key->mv_data);
	snprintf(r->from, sizeof(r->from), "%s", r_str(&rb));
	snprintf(r->to, sizeof(r->to), "%s", r_str(&rb));
	r->first_seq = r_u64(&rb);
	r->last_seq = r_u64(&rb);
	r->opened = r_i64(&rb);
	r->closed = r_i64(&rb);
	r->open = r->closed == 0;
	r->messages = r_u64(&rb);
	r->patch_messages = r_u64(&rb);
	return rb.err ? PD_ECORRUPT : 0;
}

static int
dig_encode(const struct pd_digest_rec *d, struct wbuf *b)
{
	unsigned char fmt = DIG_FORMAT;

	w_raw(b, &fmt, 1);
	w_str(b, d->from);
	w_str(b, d->to);
	w_str(b, d->text);
	w_str(b, d->html);
	w_str(b, d->msgid);
	w_i64(b, d->created);
	w_i64(b, d->sent_at);
	return b->err ? PD_ENOMEM : 0;
}

/* A stored digest's fields where they lie in the store: nothing copied. */
struct dig_view {
	const char *from, *to, *text, *html, *msgid;
	size_t text_len, html_len;
	int64_t created, sent_at;
};

static int
dig_parse(const MDB_val *val, struct dig_view *dv)
{
	struct rbuf rb = { val->mv_data, (const unsigned char *)val->mv_data + val->mv_size, 0 };

	if (val->mv_size < 1 || *rb.p++ != DIG_FORMAT)
		return PD_ECORRUPT;
	dv->from = r_str(&rb);
	dv->to = r_str(&rb);
	dv->text = r_mem(&rb, &dv->text_len);
	dv->html = r_mem(&rb, &dv->html_len);
	dv->msgid = r_str(&rb);
	dv->created = r_i64(&rb);
	dv->sent_at = r_i64(&rb);
	return rb.err ? PD_ECORRUPT : 0;
}

/* Decoded digest: strings are copied (the caller owns them). */
static int
dig_decode(const MDB_val *key, const MDB_val *val, struct pd_digest_rec *d)
{
	struct dig_view dv;

	memset(d, 0, sizeof(*d));
	if (key->mv_size != 8 || dig_parse(val, &dv) != 0)
		return PD_ECORRUPT;
	d->range_no = get_be64(key->mv_data);
	snprintf(d->from, sizeof(d->from), "%s", dv.from);
	snprintf(d->to, sizeof(d->to), "%s", dv.to);
	d->created = dv.created;
	d->sent_at = dv.sent_at;
	d->text = strdup(dv.text);
	d->html = dv.html_len ? strdup(dv.html) : NULL;
	d->msgid = strdup(dv.msgid);
	if (d->text == NULL || (dv.html_len && d->html == NULL) || d->msgid == NULL) {
		pd_digest_rec_clear(d);
		return PD_ENOMEM;
	}
	return 0;
}

void
pd_digest_rec_clear(struct pd_digest_rec *d)
{
	if (d == NULL)
		return;
	free(d->text);
	free(d->html);
	free(d->msgid);
	d->text = d->html = d->msgid = NULL;
}

/* ---- small db helpers ---- */

static int
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
static int
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

static int
meta_get_u64(pd_store *st, MDB_txn *t, const char *name, uint64_t *out)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc;

	if ((rc = mdb_get(t, st->db[DB_META], &k, &v)) != 0)
		return rc;
	if (v.mv_size != 8)
		return PD_ECORRUPT;
	*out = get_be64(v.mv_data);
	return 0;
}

static int
meta_put_u64(pd_store *st, MDB_txn *t, const char *name, uint64_t val)
{
	unsigned char buf[8];
	MDB_val k = { strlen(name), (void *)name }, v = { 8, buf };

	be64(buf, val);
	return mdb_put(t, st->db[DB_META], &k, &v, 0);
}

static int
range_load(pd_store *st, MDB_txn *t, uint64_t no, struct pd_range *r)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	be64(kb, no);
	if ((rc = mdb_get(t, st->db[DB_RANGES], &k, &v)) != 0)
		return rc;
	return range_decode(&k, &v, r);
}

static int
range_save(pd_store *st, MDB_txn *t, const struct pd_range *r)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb };
	struct wbuf b = { 0 };
	int rc;

	be64(kb, r->no);
	if ((rc = range_encode(r, &b)) == 0)
		rc = put_buf(t, st->db[DB_RANGES], &k, &b, 0);
	free(b.p);
	return rc;
}

static int
open_range(pd_store *st, MDB_txn *t, struct pd_range *r)
{
	uint64_t no;
	int rc;

	if ((rc = meta_get_u64(st, t, "open_range", &no)) != 0)
		return rc == MDB_NOTFOUND ? PD_ECORRUPT : rc;
	return range_load(st, t, no, r);
}

static int
counter_add(pd_store *st, MDB_txn *t, uint64_t range, enum pd_counter c,
    const char *name)
{
	size_t n = strlen(name);
	unsigned char *kb;
	MDB_val k, v;
	uint64_t count = 0;
	unsigned char cb[8];
	int rc;

	if (n == 0)
		return 0;
	if (n > 400) {	/* LMDB key limit is 511; cut at a character */
		n = 400;
		while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
			n--;
	}
	if ((kb = malloc(9 + n)) == NULL)
		return PD_ENOMEM;
	be64(kb, range);
	kb[8] = (unsigned char)c;
	memcpy(kb + 9, name, n);
	k.mv_size = 9 + n;
	k.mv_data = kb;
	rc = mdb_get(t, st->db[DB_COUNTS], &k, &v);
	if (rc == 0 && v.mv_size == 8)
		count = get_be64(v.mv_data);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		goto out;
	be64(cb, count + 1);
	v.mv_size = 8;
	v.mv_data = cb;
	rc = mdb_put(t, st->db[DB_COUNTS], &k, &v, 0);
out:
	free(kb);
	return rc;
}

/* ---- transactions ---- */

/* The calling thread's write txn (the batch or a child of it), or NULL. */
static MDB_txn *
my_wtxn(pd_store *st)
{
	MDB_txn *t = NULL;

	pthread_mutex_lock(&st->mu);
	if (st->wtxn != NULL && pthread_equal(st->owner, pthread_self()))
		t = st->wtxn;
	pthread_mutex_unlock(&st->mu);
	return t;
}

static MDB_txn *
my_batch(pd_store *st)
{
	MDB_txn *t = NULL;

	pthread_mutex_lock(&st->mu);
	if (st->batch != NULL && pthread_equal(st->owner, pthread_self()))
		t = st->batch;
	pthread_mutex_unlock(&st->mu);
	return t;
}

/*
 * Publish (or, with NULLs, withdraw) the calling thread's write txn.  It is
 * withdrawn before the txn ends: once LMDB's writer lock is released another
 * thread may publish its own.
 */
static void
set_wtxn(pd_store *st, MDB_txn *batch, MDB_txn *t)
{
	pthread_mutex_lock(&st->mu);
	st->batch = batch;
	st->wtxn = t;
	st->owner = pthread_self();
	pthread_mutex_unlock(&st->mu);
}

/* With the lock held: the map size and its room left. */
static void
map_room(pd_store *st, size_t *avail, size_t *size)
{
	MDB_envinfo info;
	MDB_stat ms;
	size_t used;

	*avail = *size = 0;
	if (mdb_env_info(st->env, &info) != 0 || mdb_env_stat(st->env, &ms) != 0)
		return;
	used = (info.me_last_pgno + 1) * ms.ms_psize;
	*avail = info.me_mapsize > used ? info.me_mapsize - used : 0;
	*size = info.me_mapsize;
}

static int
adopt_size(pd_store *st)
{
	int rc;

	pthread_rwlock_wrlock(&st->lock);
	rc = mdb_env_set_mapsize(st->env, 0);
	pthread_rwlock_unlock(&st->lock);
	return rc;
}

/*
 * Double the map that was seen full.  Threads that hit the limit together
 * grow it once: a map already larger than seen is left alone.
 */
static int
grow(pd_store *st, size_t seen)
{
	MDB_envinfo info;
	size_t size;
	int rc;

	pthread_rwlock_wrlock(&st->lock);
	if ((rc = mdb_env_info(st->env, &info)) != 0 || info.me_mapsize > seen)
		goto out;
	if (info.me_mapsize >= st->map_max) {
		rc = PD_EFULL;
		goto out;
	}
	size = info.me_mapsize > st->map_max / 2 ? st->map_max : info.me_mapsize * 2;
	rc = mdb_env_set_mapsize(st->env, size);
out:
	pthread_rwlock_unlock(&st->lock);
	return rc;
}

/* Begin a top-level txn, holding the lock shared; adopts a grown map. */
static int
txn_begin(pd_store *st, unsigned flags, MDB_txn **t)
{
	int rc;

	for (;;) {
		pthread_rwlock_rdlock(&st->lock);
		rc = mdb_txn_begin(st->env, NULL, flags, t);
		if (rc == 0)
			return 0;
		pthread_rwlock_unlock(&st->lock);
		if (rc != MDB_MAP_RESIZED)
			return rc;
		if ((rc = adopt_size(st)) != 0)
			return rc;
	}
}

enum { END_ABORT, END_COMMIT, END_COMMIT_SYNC };

/*
 * LMDB reports a short write as EIO, and a full disk gives one: tell that
 * case apart, so that the error says what to do.
 */
static int
write_rc(pd_store *st, int rc)
{
	struct statvfs vfs;
	mdb_filehandle_t fd;

	if (rc == EIO && mdb_env_get_fd(st->env, &fd) == 0 &&
	    fstatvfs(fd, &vfs) == 0 && vfs.f_bavail == 0)
		return ENOSPC;
	return rc;
}

/*
 * End a top-level txn (END_COMMIT_SYNC: and sync a PD_STORE_NOSYNC store)
 * and release the lock; *seen is the map size it ran with, *avail the room
 * left after it.
 */
static int
txn_end(pd_store *st, MDB_txn *t, int how, size_t *seen, size_t *avail)
{
	size_t a, s;
	int rc = 0;

	if (how == END_ABORT)
		mdb_txn_abort(t);
	else
		rc = write_rc(st, mdb_txn_commit(t));
	if (rc == 0 && how == END_COMMIT_SYNC && (st->flags & PD_STORE_NOSYNC))
		rc = write_rc(st, mdb_env_sync(st->env, 1));
	map_room(st, &a, &s);
	pthread_rwlock_unlock(&st->lock);
	if (seen)
		*seen = s;
	if (avail)
		*avail = a;
	return rc;
}

/* A txn for reading: the caller's write txn when it runs one. */
static int
rd_begin(pd_store *st, MDB_txn **t)
{
	if ((*t = my_wtxn(st)) != NULL)
		return 0;
	return txn_begin(st, MDB_RDONLY, t);
}

static void
rd_end(pd_store *st, MDB_txn *t)
{
	if (t == my_wtxn(st))
		return;
	mdb_txn_abort(t);
	pthread_rwlock_unlock(&st->lock);
}

typedef int (*write_fn)(pd_store *st, MDB_txn *t, void *arg);

/*
 * Begin a batch txn with room in reserve: half of the room it begins with
 * is kept for its commit, and its estimate starts with what a fresh txn
 * may copy (every tree's path).  The commit of a batch must never lack
 * room: that would lose puts that already returned 0.  The room is
 * measured holding LMDB's writer lock, so no other thread can take it; a
 * map too small is grown (with no txn: the empty one is aborted) first.
 * At the map limit the batch begins with what there is.
 */
static int
batch_start(pd_store *st)
{
	MDB_txn *t;
	size_t avail, size;
	int rc, full = 0;

	for (;;) {
		if ((rc = txn_begin(st, 0, &t)) != 0)
			return rc;
		map_room(st, &avail, &size);
		if (full || (avail >= size / 4 &&
		    avail / 2 >= st->fresh_est + 2 * BATCH_OP_EST))
			break;
		(void)txn_end(st, t, END_ABORT, NULL, NULL);
		if ((rc = grow(st, size)) == PD_EFULL)
			full = 1;
		else if (rc != 0)
			return rc;
	}
	st->batch_avail = avail;
	st->batch_est = st->fresh_est;
	set_wtxn(st, t, t);
	return 0;
}

/* Commit the batch so far and start another one (grow_now: map full). */
static int
batch_cycle(pd_store *st, MDB_txn *batch, int grow_now)
{
	size_t seen;
	int rc;

	set_wtxn(st, NULL, NULL);
	if ((rc = txn_end(st, batch, END_COMMIT_SYNC, &seen, NULL)) != 0)
		return rc;
	if (grow_now && (rc = grow(st, seen)) != 0)
		return rc;
	return batch_start(st);
}

/* fn in a child of the caller's batch; a full map commits, grows, retries. */
static int
batch_op(pd_store *st, MDB_txn *batch, write_fn fn, void *arg)
{
	MDB_txn *t;
	int rc, cycled = 0;

	for (;;) {
		/* Once per put: at the map limit the reserve cannot be had. */
		if (!cycled && st->batch_est + BATCH_OP_EST > st->batch_avail / 2) {
			if ((rc = batch_cycle(st, batch, 0)) != 0)
				return pd_rc(rc);
			batch = my_batch(st);
			cycled = 1;
		}
		if ((rc = mdb_txn_begin(st->env, batch, 0, &t)) != 0)
			return pd_rc(rc);
		set_wtxn(st, batch, t);
		rc = fn(st, t, arg);
		set_wtxn(st, batch, batch);
		if (rc == 0)
			rc = mdb_txn_commit(t);
		else
			mdb_txn_abort(t);
		st->batch_est += BATCH_OP_EST;
		if (rc != MDB_MAP_FULL)
			return pd_rc(rc);
		if ((rc = batch_cycle(st, batch, 1)) != 0)
			return pd_rc(rc);
		batch = my_batch(st);
		cycled = 1;
	}
}

/*
 * Run fn in a write txn: a child of the caller's batch, else its own
 * durable txn.  A full map is grown and fn run again.  fn and what it calls
 * back must not write (LMDB has one writer: that would wait for itself).
 */
static int
write_op(pd_store *st, write_fn fn, void *arg)
{
	MDB_txn *t;
	size_t seen;
	int rc;

	if (st->flags & PD_STORE_RDONLY)
		return PD_EROFS;
	if ((t = my_batch(st)) != NULL)
		return batch_op(st, t, fn, arg);
	if (my_wtxn(st) != NULL)
		return PD_EINVAL;
	for (;;) {
		if ((rc = txn_begin(st, 0, &t)) != 0)
			return pd_rc(rc);
		set_wtxn(st, NULL, t);
		rc = fn(st, t, arg);
		set_wtxn(st, NULL, NULL);
		if (rc == 0)
			rc = txn_end(st, t, END_COMMIT, &seen, NULL);
		else
			(void)txn_end(st, t, END_ABORT, &seen, NULL);
		if (rc != MDB_MAP_FULL)
			return pd_rc(rc);
		if ((rc = grow(st, seen)) != 0)
			return pd_rc(rc);
	}
}

int
pd_store_begin(pd_store *st)
{
	if (st == NULL || (st->flags & PD_STORE_RDONLY) || my_wtxn(st) != NULL)
		return PD_EINVAL;
	return pd_rc(batch_start(st));
}

int
pd_store_commit(pd_store *st)
{
	MDB_txn *t;

	if (st == NULL || (t = my_batch(st)) == NULL)
		return PD_EINVAL;
	set_wtxn(st, NULL, NULL);
	return pd_rc(txn_end(st, t, END_COMMIT_SYNC, NULL, NULL));
}

void
pd_store_abort(pd_store *st)
{
	MDB_txn *t;

	if (st == NULL || (t = my_batch(st)) == NULL)
		return;
	set_wtxn(st, NULL, NULL);
	(void)txn_end(st, t, END_ABORT, NULL, NULL);
}

/* ---- open / close ---- */

static int
mkdirs(const char *dir)
{
	char *p, *s;
	int rc = 0;

	if ((s = strdup(dir)) == NULL)
		return ENOMEM;
	for (p = s + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(s, 0700) != 0 && errno != EEXIST) {
			rc = errno;
			break;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(s);
	return rc;
}

static int
check_dir(const char *dir, unsigned flags)
{
	struct stat sb;
	char path[PATH_MAX];
	int n;

	if (stat(dir, &sb) != 0) {
		if (errno != ENOENT || !(flags & PD_STORE_CREATE) ||
		    (flags & PD_STORE_RDONLY))
			return errno;
		return mkdirs(dir);
	}
	if (!S_ISDIR(sb.st_mode))
		return ENOTDIR;
	if (flags & PD_STORE_CREATE)
		return 0;
	n = snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ENAMETOOLONG;
	return stat(path, &sb) == 0 ? 0 : errno;
}

int
pd_store_unstarted(const char *dir)
{
	struct stat sb;

	return dir != NULL && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    check_dir(dir, 0) == ENOENT;
}

/*
 * A data.mdb shorter than its last page (a copy cut short, a disk that
 * filled under a restore) would be a SIGBUS at the first read past its
 * end: LMDB maps the file and trusts it.
 */
static int
check_length(pd_store *st, const MDB_envinfo *info, unsigned psize)
{
	struct stat sb;
	mdb_filehandle_t fd;
	int rc;

	if ((rc = mdb_env_get_fd(st->env, &fd)) != 0)
		return rc;
	if (fstat(fd, &sb) != 0)
		return errno;
	if ((uint64_t)sb.st_size < ((uint64_t)info->me_last_pgno + 1) * psize)
		return MDB_CORRUPTED;
	return 0;
}

/* 1 if v is a schema version this program reads: 1 or STORE_VERSION. */
static int
known_version(const MDB_val *v)
{
	const unsigned char *b = v->mv_data;

	return v->mv_size == 4 && b[0] == 0 && b[1] == 0 && b[2] == 0 &&
	    (b[3] == 1 || b[3] == STORE_VERSION);
}

static int
init_fn(pd_store *st, MDB_txn *t, void *arg)
{
	unsigned char vb[4] = { 0, 0, 0, STORE_VERSION };
	MDB_val k = { 7, "version" }, v;
	struct pd_range r;
	int rc, fresh;

	(void)arg;
	for (int i = 0; i < DB_MAX; i++) {
		unsigned f = MDB_CREATE | (i == DB_SHORT ? MDB_DUPSORT : 0);

		if ((rc = mdb_dbi_open(t, db_names[i], f, &st->db[i])) != 0)
			return rc;
	}
	rc = mdb_get(t, st->db[DB_META], &k, &v);
	if (rc == 0 && !known_version(&v))
		return PD_EVERSION;
	if (rc == 0 && memcmp(v.mv_data, vb, 4) == 0)
		return 0;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	fresh = rc == MDB_NOTFOUND;
	v.mv_size = 4;
	v.mv_data = vb;
	/* Marked as this version's: an older program no longer takes it. */
	if ((rc = mdb_put(t, st->db[DB_META], &k, &v, 0)) != 0 || !fresh)
		return rc;
	if ((rc = meta_put_u64(st, t, "next_seq", 1)) != 0 ||
	    (rc = meta_put_u64(st, t, "open_range", 1)) != 0)
		return rc;
	memset(&r, 0, sizeof(r));
	r.no = 1;
	r.open = 1;
	r.first_seq = 1;
	r.last_seq = 0;
	r.opened = time(NULL);
	strcpy(r.from, "000000000");
	strcpy(r.to, "000000000");
	return range_save(st, t, &r);
}

static int
init_rdonly(pd_store *st)
{
	MDB_txn *t;
	MDB_val k = { 7, "version" }, v;
	int rc;

	if ((rc = txn_begin(st, MDB_RDONLY, &t)) != 0)
		return rc;
	for (int i = 0; i < DB_MAX && rc == 0; i++) {
		rc = mdb_dbi_open(t, db_names[i], i == DB_SHORT ? MDB_DUPSORT : 0, &st->db[i]);
		/* Only writers use it, and they add it to a store made before it. */
		if (rc == MDB_NOTFOUND && (i == DB_WAIT || i == DB_CREDITS)) {
			st->db[i] = 0;
			rc = 0;
		}
	}
	if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE)
		rc = PD_EVERSION;
	if (rc == 0 && (rc = mdb_get(t, st->db[DB_META], &k, &v)) == 0 &&
	    !known_version(&v))
		rc = PD_EVERSION;
	if (rc == MDB_NOTFOUND)
		rc = PD_EVERSION;
	if (rc == 0)
		rc = mdb_txn_commit(t);	/* keeps the dbi handles */
	else
		mdb_txn_abort(t);
	pthread_rwlock_unlock(&st->lock);
	return rc;
}

/*
 * On a failed assertion (a damaged page) LMDB calls this, prints the
 * assertion and aborts.  Aborting here, as LMDB would, keeps the library
 * from printing; the front ends' guard reports the abort as a damaged
 * store.
 */
static void
lmdb_assert(MDB_env *env, const char *msg)
{
	(void)env;
	(void)msg;
	abort();
}

int
pd_store_open(const char *dir, unsigned flags, size_t map_size, size_t map_max,
    pd_store **out)
{
	pd_store *st;
	MDB_envinfo info;
	MDB_stat ms;
	size_t want;
	unsigned ef = MDB_NOTLS;
	int rc;

	*out = NULL;
	if (dir == NULL || *dir == '\0')
		return PD_EINVAL;
	if ((rc = check_dir(dir, flags)) != 0)
		return pd_rc(rc);
	if ((flags & PD_STORE_CHECK) && (rc = pd_store_check(dir)) != 0)
		return rc;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return PD_ENOMEM;
	st->flags = flags;
	/* The limit wins over the initial size: MapSizeMax 256K must fill. */
	st->map_max = map_max ? map_max : DEFAULT_MAP_MAX;
	map_size = map_size ? map_size : DEFAULT_MAP;
	if (map_size > st->map_max)
		map_size = st->map_max;
	pthread_rwlock_init(&st->lock, NULL);
	pthread_mutex_init(&st->mu, NULL);
	if ((rc = mdb_env_create(&st->env)) != 0)
		goto fail;
	if ((rc = mdb_env_set_maxdbs(st->env, DB_MAX)) != 0 ||
	    (rc = mdb_env_set_assert(st->env, lmdb_assert)) != 0)
		goto fail;
	if (flags & PD_STORE_RDONLY)
		ef |= MDB_RDONLY;
	if (flags & PD_STORE_NOSYNC)
		ef |= MDB_NOSYNC;
	/*
	 * Opened at the size it last had (LMDB's meta page keeps it, never
	 * below the data), then resized only if that is outside
	 * [map_size, map_max]: each resize is a remap.
	 */
	if ((rc = mdb_env_open(st->env, dir, ef, 0600)) != 0)
		goto fail;
	if ((rc = mdb_env_stat(st->env, &ms)) != 0 ||
	    (rc = mdb_env_info(st->env, &info)) != 0)
		goto fail;
	st->fresh_est = BATCH_TXN_PAGES * (size_t)ms.ms_psize;
	if ((rc = check_length(st, &info, ms.ms_psize)) != 0)
		goto fail;
	want = info.me_mapsize < map_size ? map_size : info.me_mapsize;
	if (want > st->map_max)
		want = st->map_max;
	if (want != info.me_mapsize &&
	    (rc = mdb_env_set_mapsize(st->env, want)) != 0)
		goto fail;
	if (flags & PD_STORE_RDONLY)
		rc = init_rdonly(st);
	else
		rc = write_op(st, init_fn, NULL);
	if (rc != 0)
		goto fail;
	*out = st;
	return 0;
fail:
	pd_store_close(st);
	return pd_rc(rc);
}

void
pd_store_close(pd_store *st)
{
	if (st == NULL)
		return;
	pd_store_abort(st);
	if (st->env != NULL) {
		/* Only NOSYNC commits may be undurable: others synced already. */
		if ((st->flags & PD_STORE_NOSYNC) && !(st->flags & PD_STORE_RDONLY))
			mdb_env_sync(st->env, 1);
		mdb_env_close(st->env);
	}
	pthread_rwlock_destroy(&st->lock);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

/* ---- check: every page read, in a child ---- */

enum { CHECK_OK, CHECK_NOOPEN = 3, CHECK_BAD = 4 };
#define CHECK_SECONDS	120

/* Read a byte of every page v spans, so that each is mapped and looked at. */
static void
touch(const MDB_val *v)
{
	const volatile unsigned char *p = v->mv_data;

	for (size_t i = 0; i < v->mv_size; i += 4096)
		(void)p[i];
	if (v->mv_size > 0)
		(void)p[v->mv_size - 1];
}

/*
 * Read every key and value of one database.  A cursor walk follows the
 * branch pages' child pointers only, while a lookup compares their keys,
 * as every read of ours by key will: so with lookup set each key is also
 * looked up, and must find itself.
 */
static int
walk_db(MDB_txn *t, MDB_dbi dbi, int lookup)
{
	MDB_cursor *c, *look = NULL;
	MDB_val k, v, found;
	unsigned flags = 0;
	int rc;

	if (lookup && ((rc = mdb_dbi_flags(t, dbi, &flags)) != 0 ||
	    (rc = mdb_cursor_open(t, dbi, &look)) != 0))
		return rc;
	if ((rc = mdb_cursor_open(t, dbi, &c)) != 0) {
		if (look != NULL)
			mdb_cursor_close(look);
		return rc;
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		touch(&k);
		touch(&v);
		found = v;
		if (look != NULL && ((rc = mdb_cursor_get(look, &k, &found,
		    (flags & MDB_DUPSORT) ? MDB_GET_BOTH : MDB_SET_KEY)) != 0 ||
		    found.mv_data != v.mv_data)) {
			rc = MDB_CORRUPTED;
			break;
		}
	}
	mdb_cursor_close(c);
	if (look != NULL)
		mdb_cursor_close(look);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The child's work: its exit status is the answer. */
static int
walk_store(const char *dir)
{
	pd_store *st;
	MDB_txn *t;
	int rc;

	if (pd_store_open(dir, PD_STORE_RDONLY, 0, 0, &st) != 0)
		return CHECK_NOOPEN;
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &t)) != 0) {
		pd_store_close(st);
		return CHECK_NOOPEN;
	}
	/* 0 and 1 are LMDB's free list and its table of databases. */
	rc = walk_db(t, 0, 0);
	if (rc == 0)
		rc = walk_db(t, 1, 0);
	for (int i = 0; i < DB_MAX && rc == 0; i++)
		if (st->db[i] != 0)	/* 0: not in this store (init_rdonly) */
			rc = walk_db(t, st->db[i], 1);
	mdb_txn_abort(t);
	pd_store_close(st);
	return rc == 0 ? CHECK_OK : CHECK_BAD;
}

int
pd_store_check(const char *dir)
{
	pid_t pid;
	int status;

	if (dir == NULL || *dir == '\0')
		return PD_EINVAL;
	if ((pid = fork()) == -1)
		return PD_ESTORE;
	if (pid == 0) {
		/* A page that sends LMDB round in circles ends here too. */
		alarm(CHECK_SECONDS);
		_exit(walk_store(dir));
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return PD_ESTORE;
	if (WIFEXITED(status) && (WEXITSTATUS(status) == CHECK_OK ||
	    WEXITSTATUS(status) == CHECK_NOOPEN))
		return 0;
	return PD_ECORRUPT;
}

/* ---- put: series assembly ---- */

struct put_ctx {
	const pd_msg *m;
	const struct pd_class *cls;
	struct pd_put_result *res;
	char sid[512];
};

/* A message record decoded from a copy (get_copy): free *copy. */
static int
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
	return rec_decode(k, &v, r);
}

/* The series id children of version/N already use for a missing part. */
static int
pending_get(pd_store *st, MDB_txn *t, const char *id, int version, int cn,
    char *out, size_t outlen)
{
	MDB_val k = sval(id), v;
	struct rbuf rb;
	const char *sid;
	int rc, pv, pn;

	if (k.mv_size > 511)
		return MDB_NOTFOUND;
	if ((rc = mdb_get(t, st->db[DB_PENDING], &k, &v)) != 0)
		return rc;
	rb.p = v.mv_data;
	rb.end = rb.p + v.mv_size;
	rb.err = 0;
	pv = r_int(&rb);
	pn = r_int(&rb);
	sid = r_str(&rb);
	if (rb.err)
		return PD_ECORRUPT;
	if (pv != version || pn != cn)
		return MDB_NOTFOUND;
	snprintf(out, outlen, "%s", sid);
	return 0;
}

static int
pending_put(pd_store *st, MDB_txn *t, const char *id, int version, int cn,
    const char *sid)
{
	MDB_val k = sval(id);
	struct wbuf b = { 0 };
	int rc;

	if (k.mv_size > 511)
		return 0;
	w_i64(&b, version);
	w_i64(&b, cn);
	w_str(&b, sid);
	rc = b.err ? PD_ENOMEM : put_buf(t, st->db[DB_PENDING], &k, &b, MDB_NOOVERWRITE);
	free(b.p);
	return rc == MDB_KEYEXIST ? 0 : rc;
}

/*
 * Where the part number is in an id named by git send-email: before
 * "-git-send-email-" in its old names ("<time>-<pid>-<n>-git-send-email-
 * <user>@<host>"), else in the last "-<n>-" before the '@'
 * ("<date>.<pid>-<n>-<user>@<host>"; b4's are alike).  All of them start
 * with the time, which tells them from ids such as "patch-1-x@host".
 * 1 and the number's bounds, or 0.
 */
static int
part_number(const char *id, const char **ns, const char **ne)
{
	const char *at = strchr(id, '@'), *old = strstr(id, "-git-send-email-");

	if (at == NULL || *id < '0' || *id > '9')
		return 0;
	if (old != NULL && old < at)
		*ne = old;
	else {
		for (*ne = at; *ne > id && (*ne)[-1] != '-'; (*ne)--)
			;
		if (*ne - id < 3)
			return 0;
		(*ne)--;	/* at the '-' before <user> */
	}
	for (*ns = *ne; *ns > id && (*ns)[-1] >= '0' && (*ns)[-1] <= '9'; (*ns)--)
		;
	return *ns != *ne && *ns - id >= 2 && (*ns)[-1] == '-';
}

/* 1 when two ids named by git send-email differ at most in the part number. */
static int
same_stem(const char *a, const char *b)
{
	const char *as, *ae, *bs, *be;

	if (!part_number(a, &as, &ae) || !part_number(b, &bs, &be))
		return 0;
	return as - a == bs - b && memcmp(a, b, (size_t)(as - a)) == 0 &&
	    strcmp(ae, be) == 0;
}

/*
 * As series_by_thread without the store, where no ancestor is stored: the
 * oldest one named like this message by git send-email (its cover letter,
 * or patch 1 with --chain-reply-to), else the direct parent.  But patch 1
 * named by git send-email and replying to another posting's message (a new
 * version in an old thread) names its own series, as the store says once
 * that posting is stored.
 */
void
pd_series_guess(const pd_msg *m, char *out, size_t outlen)
{
	const char *id = pd_msg_id(m), *irt = pd_msg_in_reply_to(m), *root = NULL;
	int cx = pd_msg_counter(m, NULL);

	if (outlen == 0)
		return;
	*out = '\0';
	if (!pd_msg_is_patch(m))
		return;
	if (pd_msg_kind(m) != PD_KIND_COVER && cx >= 1) {
		for (size_t i = 0; i < pd_msg_nrefs(m) && root == NULL; i++)
			if (same_stem(pd_msg_ref(m, i), id))
				root = pd_msg_ref(m, i);
		if (root == NULL && *irt && same_stem(irt, id))
			root = irt;
		if (root == NULL && (cx > 1 || !same_stem(id, id)))
			root = *irt ? irt : pd_msg_nrefs(m) > 0 ? pd_msg_ref(m, 0) : NULL;
		if (root != NULL)
			id = root;
	}
	snprintf(out, outlen, "%s", id);
}

static int
same_part_series(const struct pd_rec *a, int version, int cn)
{
	return (a->kind == PD_KIND_COVER || a->kind == PD_KIND_PATCH) &&
	    a->version == version && a->cn == cn;
}

/*
 * Past an ancestor not stored yet, the References could be another
 * series' thread (a series posted in reply to one).  What is found there
 * counts only if it fits a --chain-reply-to chain: the part at distance d
 * is part cx - d, sent within the loose window.
 */
static int
chain_fits(const struct pd_rec *a, const pd_msg *m, int cx, size_t d)
{
	int64_t date = (int64_t)pd_msg_date(m);

	return a->cx == cx - (int)d && a->date != 0 && date != 0 &&
	    a->date - date <= LOOSE_WINDOW && date - a->date <= LOOSE_WINDOW;
}

/* m's ancestors, nearest first: In-Reply-To, then References from the last. */
static size_t
thread_ancestors(const pd_msg *m, const char **anc, size_t max)
{
	const char *irt = pd_msg_in_reply_to(m), *own = pd_msg_id(m), *ref;
	size_t n = 0;

	if (*irt && strcmp(irt, own) != 0 && n < max)
		anc[n++] = irt;
	for (size_t i = pd_msg_nrefs(m); i > 0 && n < max; i--)
		if (*(ref = pd_msg_ref(m, i - 1)) && strcmp(ref, irt) != 0 &&
		    strcmp(ref, own) != 0)
			anc[n++] = ref;
	return n;
}

/*
 * Threading: the nearest stored ancestor of the same version and total
 * gives the series.  Ancestors not stored yet are remembered in "pending",
 * so that they adopt the id when they arrive.  A stored ancestor that is
 * not a part (a [GIT PULL], a discussion mail) is treated exactly like one
 * not stored yet, pending entry included: otherwise patches replying to it
 * would assemble one way when it arrives first and another way when it
 * arrives last (non-parts never take part in series assembly, so every
 * arrival order then gives what the order with the non-parts last gives).
 * A git-named patch 1 takes no parent named otherwise (below).  The root
 * guessed among them is the oldest named like this message by git send-email, else the direct
 * parent (the cover letter or patch 1 in git's default threading).  Only
 * the ancestors up to that root are remembered, and past a gap (an
 * ancestor not stored) a stored part must fit a chain (chain_fits) and a
 * pending one must be named like this message: a series posted inside
 * another series' thread neither joins it nor captures its parts.
 * Non-git Message-IDs with --chain-reply-to arriving shuffled can split a
 * series; merging two was judged the worse failure.
 */
static int
series_by_thread(pd_store *st, MDB_txn *t, const pd_msg *m, int version, int cn,
    char *sid, size_t sidlen, const char **missing, size_t *nmissing)
{
	const char *anc[64];
	size_t n = thread_ancestors(m, anc, 64), root = 0;
	MDB_val k;
	struct pd_rec a;
	void *copy;
	int rc, same, part, cx = pd_msg_counter(m, NULL), stem;

	*nmissing = 0;
	/* At distance d = i + 1; past a gap a chain reaches back cx parts. */
	for (size_t i = 0; i < n && (*nmissing == 0 || i + 1 <= (size_t)cx); i++) {
		rc = get_rec(st, t, anc[i], &k, &a, &copy);
		part = rc == 0 && (a.kind == PD_KIND_COVER || a.kind == PD_KIND_PATCH);
		if (part) {
			/*
			 * A cover of the same git send-email posting is this
			 * series' whatever its subject says ("[PATCH 00/15]"
			 * over "[PATCH v2 01/15]"): pending names it too.
			 */
			same = (same_part_series(&a, version, cn) &&
			    (*nmissing == 0 || chain_fits(&a, m, cx, i + 1))) ||
			    (a.kind == PD_KIND_COVER && same_stem(anc[i], pd_msg_id(m)));
			same = same && *a.series;
			if (same)
				snprintf(sid, sidlen, "%s", a.series);
			free(copy);
			if (same)
				return 0;
			break;	/* another series' thread */
		}
		free(copy);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		/*
		 * Patch 1 named by git send-email replying to a message that
		 * is no part, or not stored (a bug report, perhaps sent to
		 * another list): were it its cover, git would have named it
		 * alike.  So the patch names its own series, whatever the
		 * order of arrival, as pd_series_guess says; else every fix
		 * sent in reply to one report would join one series.
		 */
		if (i == 0 && cx == 1 && same_stem(pd_msg_id(m), pd_msg_id(m)) &&
		    !same_stem(anc[0], pd_msg_id(m)))
			return 0;
		/* A stored non-part is a gap like one not stored yet. */
		stem = same_stem(anc[i], pd_msg_id(m));
		if (*nmissing == 0 || stem) {
			rc = pending_get(st, t, anc[i], version, cn, sid, sidlen);
			if (rc == 0)
				return 0;
			if (rc != MDB_NOTFOUND)
				return rc;
		}
		if (stem)
			root = *nmissing;
		missing[(*nmissing)++] = anc[i];
	}
	if (*nmissing == 0)
		return 0;
	snprintf(sid, sidlen, "%s", missing[root]);
	*nmissing = root + 1;	/* what is above the root is another thread */
	return 0;
}

static void
w_lower(struct wbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);

		w_raw(b, &c, 1);
	}
}

/* The address of a header From ("Name <addr>"), its name aside. */
static const char *
sender_addr(const pd_msg *m, size_t *n)
{
	const char *from = pd_msg_from(m), *lt = strrchr(from, '<'), *gt;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL) {
		*n = (size_t)(gt - lt - 1);
		return lt + 1;
	}
	*n = strlen(from);
	return from;
}

/*
 * The key of a posting without threading: its sender (SPEC 3: a series may
 * hold other authors' patches) by address, as the name may be written
 * differently, then version, N and tags.
 */
static int
loose_key(const pd_msg *m, int version, int cn, struct wbuf *b)
{
	char num[32];
	size_t alen;
	const char *addr = sender_addr(m, &alen);
	int n;

	w_lower(b, addr, alen);
	n = snprintf(num, sizeof(num), "%d", version);
	w_raw(b, "", 1);
	w_raw(b, num, (size_t)n);
	n = snprintf(num, sizeof(num), "%d", cn);
	w_raw(b, "", 1);
	w_raw(b, num, (size_t)n);
	for (size_t i = 0; i < pd_msg_ntags(m); i++) {
		w_raw(b, "", 1);
		w_raw(b, pd_msg_tag(m, i), strlen(pd_msg_tag(m, i)));
	}
	if (b->len > 500)
		b->len = 500;
	return b->err ? PD_ENOMEM : 0;
}

static int64_t
msg_time(const pd_msg *m)
{
	time_t d = pd_msg_date(m);

	return d ? (int64_t)d : (int64_t)time(NULL);
}

/*
 * Without threading: same sender, version, N and tags within 20 minutes.
 * An entry holds when its series was last seen, its id, and whether any of
 * its parts came threaded (an entry written before that was kept counts as
 * threaded).
 */
struct loose {
	int found, threaded;
	int64_t when;
	const char *sid;	/* in the map: valid until the next write */
};

static int
loose_lookup(pd_store *st, MDB_txn *t, const struct wbuf *kb, struct loose *l)
{
	MDB_val k = { kb->len, (void *)kb->p }, v;
	struct rbuf rb;
	int rc;

	memset(l, 0, sizeof(*l));
	if ((rc = mdb_get(t, st->db[DB_LOOSE], &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	rb = (struct rbuf){ v.mv_data, (unsigned char *)v.mv_data + v.mv_size, 0 };
	l->when = r_i64(&rb);
	l->sid = r_str(&rb);
	if (rb.err)
		return 0;	/* unreadable: as if there were none */
	l->threaded = r_u64(&rb) != 0 || rb.err;
	l->found = 1;
	return 0;
}

static int
loose_get(pd_store *st, MDB_txn *t, const pd_msg *m, int version, int cn,
    char *sid, size_t sidlen, int *threaded)
{
	struct wbuf kb = { 0 };
	struct loose l;
	int64_t d;
	int rc;

	*threaded = 1;
	if ((rc = loose_key(m, version, cn, &kb)) != 0 ||
	    (rc = loose_lookup(st, t, &kb, &l)) != 0 || !l.found)
		goto out;
	d = msg_time(m) - l.when;
	if (d <= LOOSE_WINDOW && d >= -LOOSE_WINDOW) {
		snprintf(sid, sidlen, "%s", l.sid);
		*threaded = l.threaded;
	}
out:
	free(kb.p);
	return rc;
}

static int
loose_put(pd_store *st, MDB_txn *t, const pd_msg *m, int version, int cn,
    const char *sid, int threaded)
{
	struct wbuf kb = { 0 }, vb = { 0 };
	struct loose l;
	MDB_val k;
	int rc;

	if ((rc = loose_key(m, version, cn, &kb)) != 0 ||
	    (rc = loose_lookup(st, t, &kb, &l)) != 0)
		goto out;
	if (l.found && strcmp(l.sid, sid) == 0)
		threaded = threaded || l.threaded;
	w_i64(&vb, msg_time(m));
	w_str(&vb, sid);
	w_u64(&vb, (uint64_t)threaded);
	k.mv_size = kb.len;
	k.mv_data = kb.p;
	rc = vb.err ? PD_ENOMEM : put_buf(t, st->db[DB_LOOSE], &k, &vb, 0);
out:
	free(kb.p);
	free(vb.p);
	return rc;
}

/*
 * A cover letter without threading that comes after its patches: they
 * went out tagged with the loose series' id, so the cover joins it.  Only
 * a series of unthreaded parts without a cover: one with a cover, or whose
 * parts reply to each other, is an earlier posting.
 */
static int
cover_joins_loose(pd_store *st, MDB_txn *t, const pd_msg *m, int version, int cn,
    char *sid, size_t sidlen)
{
	char found[512] = "";
	struct srec s;
	MDB_val k, v;
	int rc, threaded;

	if ((rc = loose_get(st, t, m, version, cn, found, sizeof(found), &threaded)) != 0 ||
	    *found == '\0' || threaded)
		return rc;
	k = sval(found);
	if ((rc = mdb_get(t, st->db[DB_SERIES], &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if ((rc = ser_decode(&k, &v, &s)) != 0)
		return rc;
	if (!s.has_cover)
		snprintf(sid, sidlen, "%s", found);
	return 0;
}

static int
series_id(pd_store *st, MDB_txn *t, const pd_msg *m, char *sid, size_t sidlen)
{
	const char *missing[64];
	size_t nmissing = 0;
	int cn, cx = pd_msg_counter(m, &cn), version = pd_msg_version(m);
	int threaded = *pd_msg_in_reply_to(m) || pd_msg_nrefs(m) > 0;
	int rc, loose_threaded;

	*sid = '\0';
	if (pd_msg_kind(m) == PD_KIND_COVER || cx < 0) {
		snprintf(sid, sidlen, "%s", pd_msg_id(m));
		if (pd_msg_kind(m) == PD_KIND_COVER && !threaded &&
		    (rc = cover_joins_loose(st, t, m, version, cn, sid, sidlen)) != 0)
			return rc;
		goto loose;
	}
	rc = pending_get(st, t, pd_msg_id(m), version, cn, sid, sidlen);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (*sid == '\0' && threaded &&
	    (rc = series_by_thread(st, t, m, version, cn, sid, sidlen, missing,
	    &nmissing)) != 0)
		return rc;
	if (*sid == '\0' && !threaded &&
	    (rc = loose_get(st, t, m, version, cn, sid, sidlen, &loose_threaded)) != 0)
		return rc;
	if (*sid == '\0')
		snprintf(sid, sidlen, "%s", pd_msg_id(m));
	for (size_t i = 0; i < nmissing; i++)
		if ((rc = pending_put(st, t, missing[i], version, cn, sid)) != 0)
			return rc;
loose:
	if (cx < 0)
		return 0;
	return loose_put(st, t, m, version, cn, sid, threaded);
}

/* The latest version under one title or change-id; links supersedes. */
static int
version_link(pd_store *st, MDB_txn *t, const char *key, size_t klen,
    const char *sid, int version, struct srec *s, char *prev, size_t prevlen)
{
	MDB_val k = { klen, (void *)key }, v;
	struct wbuf vb = { 0 };
	int rc;

	if (klen < 2 || klen > 500)
		return 0;
	rc = mdb_get(t, st->db[DB_VERS], &k, &v);
	if (rc == 0) {
		struct rbuf rb = { v.mv_data, (unsigned char *)v.mv_data + v.mv_size, 0 };
		int oldv = (int)r_u64(&rb);
		const char *olds = r_str(&rb);

		if (rb.err)
			return PD_ECORRUPT;
		if (strcmp(olds, sid) == 0 || oldv >= version)
			return 0;
		if (*s->supersedes == '\0') {
			snprintf(prev, prevlen, "%s", olds);
			s->supersedes = prev;
			s->supersedes_version = oldv;
		}
	} else if (rc != MDB_NOTFOUND)
		return rc;
	w_u64(&vb, (uint64_t)version);
	w_str(&vb, sid);
	rc = vb.err ? PD_ENOMEM : put_buf(t, st->db[DB_VERS], &k, &vb, 0);
	free(vb.p);
	return rc;
}

static int
series_versions(pd_store *st, MDB_txn *t, const pd_msg *m, const char *sid,
    struct srec *s, char *prev, size_t prevlen)
{
	struct wbuf kb = { 0 };
	const char *e = pd_msg_author_email(m), *cid = pd_msg_change_id(m);
	int rc;

	/* an empty title ("[PATCH v2]" alone) names no posting in particular */
	w_raw(&kb, "t", 1);
	w_lower(&kb, e, strlen(e));
	w_raw(&kb, "", 1);
	w_raw(&kb, pd_msg_title(m), strlen(pd_msg_title(m)));
	if (kb.err)
		rc = PD_ENOMEM;
	else if (*pd_msg_title(m) == '\0')
		rc = 0;
	else
		rc = version_link(st, t, (char *)kb.p, kb.len, sid, pd_msg_version(m),
		    s, prev, prevlen);
	if (rc == 0 && *cid) {
		kb.len = 0;
		w_raw(&kb, "c", 1);
		w_raw(&kb, cid, strlen(cid));
		rc = kb.err ? PD_ENOMEM : version_link(st, t, (char *)kb.p, kb.len,
		    sid, pd_msg_version(m), s, prev, prevlen);
	}
	free(kb.p);
	return rc;
}

static int
series_update(pd_store *st, MDB_txn *t, const pd_msg *m, const struct pd_class *cls,
    const char *sid, uint64_t seq)
{
	MDB_val k = sval(sid), v;
	struct srec s;
	struct wbuf b = { 0 };
	unsigned char *parts = NULL;
	void *copy = NULL;
	char prev[512];
	int cn, cx = pd_msg_counter(m, &cn), kind = pd_msg_kind(m), fresh, rc;
	size_t need;

	if (k.mv_size > 511)
		return 0;
	/* s lives across the puts of series_versions: decoded from a copy. */
	rc = get_copy(t, st->db[DB_SERIES], &k, &v, &copy);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto out;
	fresh = rc == MDB_NOTFOUND;
	rc = 0;
	if (fresh) {
		memset(&s, 0, sizeof(s));
		s.id = sid;
		s.first_seq = seq;
		s.supersedes = "";
	} else if ((rc = ser_decode(&k, &v, &s)) != 0)
		goto out;
	if (fresh || (kind == PD_KIND_COVER && !s.has_cover)) {
		s.subject = pd_msg_subject(m);
		s.title = pd_msg_title(m);
		s.author = pd_msg_author(m);
		s.email = pd_msg_author_email(m);
		s.subsystem = cls ? cls->subsystem : "";
		s.project = cls ? cls->project : "";
		s.version = pd_msg_version(m);
	}
	if (kind == PD_KIND_COVER)
		s.has_cover = 1;
	if (cn > s.total)
		s.total = cn > STORE_MAXPARTS ? STORE_MAXPARTS : cn;
	need = cx >= 1 && cx <= STORE_MAXPARTS ? (size_t)cx / 8 + 1 : 0;
	if (need < s.nparts)
		need = s.nparts;
	if (need) {
		if ((parts = calloc(1, need)) == NULL) {
			rc = PD_ENOMEM;
			goto out;
		}
		if (s.nparts)
			memcpy(parts, s.parts, s.nparts);
		if (cx >= 1 && cx <= STORE_MAXPARTS)
			parts[cx / 8] |= (unsigned char)(1u << (cx % 8));
		s.parts = parts;
		s.nparts = need;
	}
	/* Titles of cover letters, first patches and lone patches name versions. */
	if (kind == PD_KIND_COVER || cx <= 1)
		rc = series_versions(st, t, m, sid, &s, prev, sizeof(prev));
	if (rc == 0 && (rc = ser_encode(&s, &b)) == 0)
		rc = put_buf(t, st->db[DB_SERIES], &k, &b, 0);
out:
	free(b.p);
	free(parts);
	free(copy);
	return rc;
}

#define ANSWER_DEPTH	32	/* ancestors looked at for the part a reply answers */
#define IDSIZE		(PD_ID_MAX + 1)
#define CREDIT_MAX	256	/* people one reply's trailers credit */
#define WHO_MAX		240	/* bytes of a person's name in a credits key */
_Static_assert(1 + 2 * IDSIZE <= 511, "a waiting key holds two ids");
_Static_assert(IDSIZE + WHO_MAX + 2 <= 511, "a credits key holds an id and a person");

static const char credit_kinds[] = "rat";	/* Reviewed-, Acked-, Tested-by */

/*
 * A reply's credit: a string per kind and person its trailers give, the
 * kind's letter (credit_kinds) then the person, n of them; and by kind the
 * trailers of no known person, which a waiting record of a version 1 store
 * counted: they count every time.
 */
struct credit {
	struct wbuf who;
	size_t n;
	int anon[3];
};

/* Add id to seen[*n]; 0 if it is there already, or too long to be an id. */
static int
seen_add(char seen[][IDSIZE], size_t *n, const char *id)
{
	for (size_t j = 0; j < *n; j++)
		if (strcmp(seen[j], id) == 0)
			return 0;
	if (snprintf(seen[*n], IDSIZE, "%s", id) >= IDSIZE)
		return 0;
	(*n)++;
	return 1;
}

/*
 * The part (patch or cover) that trailers in reply to the messages ids
 * (nearest first) count for: the nearest stored one, as patchwork and b4
 * credit a trailer given deeper in a patch's thread (a reply to a review)
 * to the patch.  From a stored reply the walk goes on up that reply's own
 * parents, which ids need not name (a client may keep only In-Reply-To);
 * each message is looked at once.  The part's id in part[IDSIZE]; the
 * messages met before it that are not stored (all of them when there is
 * no part) are added to missing.
 */
static int
answered_part(pd_store *st, MDB_txn *t, const char *const *ids, size_t n,
    char *part, struct wbuf *missing)
{
	char seen[ANSWER_DEPTH][IDSIZE], up[IDSIZE] = "";
	const char *id;
	struct pd_rec r;
	MDB_val k;
	void *copy;
	size_t i = 0, nseen = 0;
	int rc, fresh, found;

	while (nseen < ANSWER_DEPTH && (*up != '\0' || i < n)) {
		fresh = seen_add(seen, &nseen, *up != '\0' ? up : ids[i++]);
		*up = '\0';
		if (!fresh)
			continue;	/* a chain walked up before, or a loop */
		id = seen[nseen - 1];
		if ((rc = get_rec(st, t, id, &k, &r, &copy)) == MDB_NOTFOUND) {
			w_str(missing, id);
			continue;
		}
		if (rc != 0)
			return rc;
		found = (r.kind == PD_KIND_COVER || r.kind == PD_KIND_PATCH) &&
		    *r.series != '\0';
		snprintf(found ? part : up, IDSIZE, "%s", found ? id : r.in_reply_to);
		free(copy);
		if (found)
			return missing->err ? PD_ENOMEM : 0;
	}
	return missing->err ? PD_ENOMEM : MDB_NOTFOUND;
}

/* The credits key of person who (kind letter and person) for part id. */
static MDB_val
credit_key(struct wbuf *b, const char *id, const char *who)
{
	MDB_val k;

	b->len = 0;
	w_raw(b, id, strlen(id) + 1);
	w_raw(b, who, strlen(who) + 1);
	k.mv_size = b->len;
	k.mv_data = b->p;
	return k;
}

/*
 * One more reply (sign 1) or one fewer (-1) gives part id the trailer of
 * who; *counted is 1 if that adds or takes back a count: a person counts
 * once per part and kind however many replies say it, as b4 counts.  The
 * key and the count are written in one txn, so a take-back finds its key;
 * without one (a damaged store) it takes the count back all the same.
 */
static int
credit_person(pd_store *st, MDB_txn *t, const char *id, const char *who,
    int sign, int *counted)
{
	struct wbuf kb = { 0 };
	unsigned char cb[8];
	MDB_val k = credit_key(&kb, id, who), v;
	uint64_t n = 0;
	int rc;

	*counted = 1;
	if (kb.err) {
		rc = PD_ENOMEM;
		goto out;
	}
	if ((rc = mdb_get(t, st->db[DB_CREDITS], &k, &v)) == 0) {
		if (v.mv_size != 8 || (n = get_be64(v.mv_data)) == 0) {
			rc = PD_ECORRUPT;
			goto out;
		}
	} else if (rc != MDB_NOTFOUND)
		goto out;
	*counted = sign > 0 ? n == 0 : n <= 1;
	n = sign > 0 ? n + 1 : n > 0 ? n - 1 : 0;
	if (n == 0) {
		if ((rc = mdb_del(t, st->db[DB_CREDITS], &k, NULL)) == MDB_NOTFOUND)
			rc = 0;
	} else {
		be64(cb, n);
		v = (MDB_val){ sizeof(cb), cb };
		rc = mdb_put(t, st->db[DB_CREDITS], &k, &v, 0);
	}
out:
	free(kb.p);
	return rc;
}

/* The counts by kind (d: Reviewed-by, Acked-by, Tested-by) cr adds to id. */
static int
credit_people(pd_store *st, MDB_txn *t, const char *id, const struct credit *cr,
    int sign, int d[3])
{
	struct rbuf rb = r_of(&cr->who);
	const char *who, *kind;
	int counted, rc = 0;

	for (int k = 0; k < 3; k++)
		d[k] += sign * cr->anon[k];
	for (size_t i = 0; i < cr->n && rc == 0; i++) {
		who = r_str(&rb);
		if (rb.err || *who == '\0' || who[1] == '\0' ||
		    (kind = strchr(credit_kinds, *who)) == NULL)
			return PD_ECORRUPT;
		rc = credit_person(st, t, id, who, sign, &counted);
		d[kind - credit_kinds] += sign * counted;
	}
	return rc;
}

/*
 * Add trailers (sign 1) to the part id, a patch and its series or a
 * cover's series, or take them back (sign -1).
 */
static int
credit_part(pd_store *st, MDB_txn *t, const char *id, const struct credit *cr,
    int sign)
{
	MDB_val k, sk, sv;
	struct pd_rec r;
	struct srec s;
	struct wbuf b = { 0 };
	void *copy = NULL, *scopy = NULL;
	int d[3] = { 0, 0, 0 }, rc;

	if ((rc = get_rec(st, t, id, &k, &r, &copy)) != 0 ||
	    (rc = credit_people(st, t, id, cr, sign, d)) != 0 ||
	    (d[0] == 0 && d[1] == 0 && d[2] == 0))
		goto out;
	if (r.kind == PD_KIND_PATCH) {
		r.reviewed += d[0];
		r.acked += d[1];
		r.tested += d[2];
		if ((rc = rec_encode(&r, &b)) != 0 ||
		    (rc = put_buf(t, st->db[DB_MSGS], &k, &b, 0)) != 0)
			goto out;
	}
	sk = sval(r.series);
	if ((rc = get_copy(t, st->db[DB_SERIES], &sk, &sv, &scopy)) != 0 ||
	    (rc = ser_decode(&sk, &sv, &s)) != 0)
		goto out;
	s.reviewed += d[0];
	s.acked += d[1];
	s.tested += d[2];
	b.len = 0;
	if ((rc = ser_encode(&s, &b)) == 0)
		rc = put_buf(t, st->db[DB_SERIES], &sk, &b, 0);
out:
	free(copy);
	free(scopy);
	free(b.p);
	return rc == MDB_NOTFOUND ? 0 : rc;	/* as the count was: nothing */
}

/*
 * Keys of the waiting database: 'r' reply NUL for a waiting reply's
 * record, 'a' ancestor NUL reply NUL for each ancestor it waits for, and
 * 'a' ancestor NUL (reply NULL) for the prefix of an ancestor's waiters.
 */
static MDB_val
wait_key(struct wbuf *b, char kind, const char *id, const char *reply)
{
	MDB_val k;

	b->len = 0;
	w_raw(b, &kind, 1);
	w_raw(b, id, strlen(id) + 1);
	if (reply != NULL)
		w_raw(b, reply, strlen(reply) + 1);
	k.mv_size = b->len;
	k.mv_data = b->p;
	return k;
}

/*
 * A reply waits for the messages in missing, nearer to it than the part
 * its trailers count for so far (credited, "" for none): mail arrives out
 * of order, and the patch it answers may still be on its way.
 */
static int
wait_put(pd_store *st, MDB_txn *t, const char *reply, const struct credit *cr,
    const char *credited, const struct wbuf *missing)
{
	struct wbuf rec = { 0 }, kb = { 0 };
	struct rbuf rb = r_of(missing);
	MDB_val k, v = { 0, "" };
	int rc = 0;

	if (missing->len == 0)
		return 0;
	w_i64(&rec, -1);	/* a record that names people (wait_credit) */
	for (int i = 0; i < 3; i++)
		w_i64(&rec, cr->anon[i]);
	w_u64(&rec, cr->n);
	w_raw(&rec, cr->who.p, cr->who.len);
	w_str(&rec, credited);
	w_raw(&rec, missing->p, missing->len);
	while (rc == 0 && rb.p < rb.end) {
		k = wait_key(&kb, 'a', r_str(&rb), reply);
		rc = kb.err ? PD_ENOMEM : mdb_put(t, st->db[DB_WAIT], &k, &v, 0);
	}
	k = wait_key(&kb, 'r', reply, NULL);
	if (rc == 0)
		rc = rec.err || kb.err ? PD_ENOMEM : put_buf(t, st->db[DB_WAIT], &k, &rec, 0);
	free(rec.p);
	free(kb.p);
	return rc;
}

/* The replies waiting for the message whose key prefix is kb. */
static int
wait_list(pd_store *st, MDB_txn *t, const struct wbuf *kb, char ***out,
    size_t *n)
{
	MDB_cursor *c;
	MDB_val k = { kb->len, kb->p }, v;
	char **list = NULL, **nl;
	int rc;

	*n = 0;
	if ((rc = mdb_cursor_open(t, st->db[DB_WAIT], &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size <= kb->len || memcmp(k.mv_data, kb->p, kb->len) != 0 ||
		    ((char *)k.mv_data)[k.mv_size - 1] != '\0')
			break;
		if ((nl = reallocarray(list, *n + 1, sizeof(*list))) == NULL ||
		    (nl[*n] = strdup((char *)k.mv_data + kb->len)) == NULL) {
			list = nl ? nl : list;
			rc = PD_ENOMEM;
			break;
		}
		list = nl;
		(*n)++;
	}
	mdb_cursor_close(c);
	*out = list;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

struct waiter {
	struct credit cr;
	const char *credited;
	const char *ids[ANSWER_DEPTH];	/* what it waited for, nearest first */
	size_t n;
	void *copy;			/* of its record: the strings above */
};

/*
 * The credit of a waiting record: -1, the counts of no known person, the
 * number of people and their strings; or, in a version 1 store, the
 * counts alone.
 */
static void
wait_credit(struct rbuf *rb, struct credit *cr)
{
	int64_t v = r_i64(rb);
	uint64_t n = 0;

	cr->n = 0;
	if (v == -1) {
		for (int k = 0; k < 3; k++)
			cr->anon[k] = r_int(rb);
		n = r_u64(rb);
	} else {
		cr->anon[0] = v < 0 || v > INT_MAX ? -1 : (int)v;
		cr->anon[1] = r_int(rb);
		cr->anon[2] = r_int(rb);
	}
	for (int k = 0; k < 3; k++)
		rb->err |= cr->anon[k] < 0;
	rb->err |= n > CREDIT_MAX;
	for (; n > 0 && !rb->err; n--, cr->n++)
		w_str(&cr->who, r_str(rb));
}

/* A waiting reply's record (wait_put's), taken out: it waits no more. */
static int
wait_take(pd_store *st, MDB_txn *t, const char *reply, struct waiter *w)
{
	struct wbuf kb = { 0 };
	struct rbuf rb;
	MDB_val k, v;
	int rc;

	w->n = 0;
	k = wait_key(&kb, 'r', reply, NULL);
	if (kb.err || (rc = get_copy(t, st->db[DB_WAIT], &k, &v, &w->copy)) != 0) {
		rc = kb.err ? PD_ENOMEM : rc;
		goto out;
	}
	rb = (struct rbuf){ v.mv_data, (const unsigned char *)v.mv_data + v.mv_size, 0 };
	wait_credit(&rb, &w->cr);
	w->credited = r_str(&rb);
	while (!rb.err && rb.p < rb.end && w->n < ANSWER_DEPTH)
		w->ids[w->n++] = r_str(&rb);
	if (rb.err || rb.p < rb.end || w->cr.who.err) {
		rc = rb.err || rb.p < rb.end ? PD_ECORRUPT : PD_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < w->n && rc == 0; i++) {
		MDB_val ak = wait_key(&kb, 'a', w->ids[i], reply);

		if (kb.err)
			rc = PD_ENOMEM;
		else if ((rc = mdb_del(t, st->db[DB_WAIT], &ak, NULL)) == MDB_NOTFOUND)
			rc = 0;
	}
	k = wait_key(&kb, 'r', reply, NULL);
	if (rc == 0)
		rc = kb.err ? PD_ENOMEM : mdb_del(t, st->db[DB_WAIT], &k, NULL);
out:
	free(kb.p);
	return rc;
}

/*
 * Credit the trailers cr of reply to the part answered from ids, moving
 * them from the part credited so far when a nearer one is stored now;
 * while nearer messages are missing, the reply waits for them.
 */
static int
credit(pd_store *st, MDB_txn *t, const char *reply, const struct credit *cr,
    const char *credited, const char *const *ids, size_t n)
{
	char part[IDSIZE];
	struct wbuf missing = { 0 };
	int rc;

	rc = answered_part(st, t, ids, n, part, &missing);
	if (rc == 0 && strcmp(part, credited) != 0) {
		if (*credited != '\0')
			rc = credit_part(st, t, credited, cr, -1);
		if (rc == 0)
			rc = credit_part(st, t, part, cr, 1);
		credited = part;
	}
	if (rc == 0 || rc == MDB_NOTFOUND)
		rc = wait_put(st, t, reply, cr, credited, &missing);
	free(missing.p);
	return rc;
}

/*
 * Who gave trailer i of m, as a credit string (struct credit) in who: 0 if
 * it is no Reviewed-by, Acked-by or Tested-by.  The person is the address
 * in the value (the first <...>, else a word with an '@'), else the value
 * up to a " #" comment, in lower case.
 */
static int
trailer_who(const pd_msg *m, size_t i, struct wbuf *who)
{
	static const char *const names[] = { "Reviewed-by", "Acked-by", "Tested-by" };
	const char *v = pd_msg_trailer_value(m, i), *p, *e;
	size_t k, n;

	for (k = 0; k < 3; k++)
		if (strcasecmp(pd_msg_trailer_name(m, i), names[k]) == 0)
			break;
	if (k == 3)
		return 0;
	if ((p = strchr(v, '<')) != NULL && (e = strchr(p, '>')) != NULL && e > p + 1) {
		p++;
	} else if ((p = strchr(v, '@')) != NULL) {
		while (p > v && p[-1] != ' ' && p[-1] != '\t')
			p--;
		e = p + strcspn(p, " \t");
	} else {
		p = v;
		e = (e = strstr(v, " #")) != NULL ? e : v + strlen(v);
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
	}
	n = (size_t)(e - p) > WHO_MAX ? WHO_MAX : (size_t)(e - p);
	who->len = 0;
	w_raw(who, &credit_kinds[k], 1);
	w_lower(who, p, n);
	w_raw(who, "", 1);
	return n > 0 && !who->err;
}

/* 1 if cr holds who. */
static int
credit_has(const struct credit *cr, const char *who)
{
	struct rbuf rb = r_of(&cr->who);

	for (size_t i = 0; i < cr->n; i++)
		if (strcmp(r_str(&rb), who) == 0)
			return 1;
	return 0;
}

/* The Reviewed-by/Acked-by/Tested-by lines of a reply. */
static int
credit_trailers(pd_store *st, MDB_txn *t, const pd_msg *m)
{
	struct credit cr = { 0 };
	struct wbuf who = { 0 };
	const char *anc[ANSWER_DEPTH];
	int rc = 0;

	for (size_t i = 0; i < pd_msg_ntrailers(m) && cr.n < CREDIT_MAX; i++) {
		if (pd_msg_trailer_carried(m, i) || !trailer_who(m, i, &who) ||
		    credit_has(&cr, (char *)who.p))
			continue;
		w_str(&cr.who, (char *)who.p);
		cr.n++;
	}
	if (cr.who.err || who.err)
		rc = PD_ENOMEM;
	else if (cr.n > 0)
		rc = credit(st, t, pd_msg_id(m), &cr, "", anc,
		    thread_ancestors(m, anc, ANSWER_DEPTH));
	free(cr.who.p);
	free(who.p);
	return rc;
}

/*
 * m has just been stored: the replies that waited for it look again for
 * the part they answer, m or one that m leads to.
 */
static int
wait_settle(pd_store *st, MDB_txn *t, const pd_msg *m)
{
	struct wbuf kb = { 0 };
	struct waiter w;
	char **replies = NULL;
	size_t n = 0, i;
	int rc;

	wait_key(&kb, 'a', pd_msg_id(m), NULL);
	rc = kb.err ? PD_ENOMEM : wait_list(st, t, &kb, &replies, &n);
	for (i = 0; i < n && rc == 0; i++) {
		w.copy = NULL;
		w.cr = (struct credit){ 0 };
		if ((rc = wait_take(st, t, replies[i], &w)) == 0)
			rc = credit(st, t, replies[i], &w.cr, w.credited, w.ids, w.n);
		else if (rc == MDB_NOTFOUND)
			rc = 0;		/* settled already, by another of its ids */
		free(w.copy);
		free(w.cr.who.p);
	}
	for (i = 0; i < n; i++)
		free(replies[i]);
	free(replies);
	free(kb.p);
	return rc;
}

/* ---- put ---- */

static void
copy_id(char *dst, size_t dstlen, const char *src)
{
	size_t n = strnlen(src, dstlen - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int
list_has(const char *list, const char *id)
{
	size_t n = strlen(id);

	for (const char *p = list; (p = strstr(p, id)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

static int
put_duplicate(pd_store *st, MDB_txn *t, MDB_val *k, struct put_ctx *c)
{
	struct pd_rec r;
	struct wbuf b = { 0 };
	char *ids = NULL;
	const char *lid = pd_msg_list_id(c->m);
	void *copy = NULL;
	MDB_val v;
	int rc;

	if ((rc = get_copy(t, st->db[DB_MSGS], k, &v, &copy)) != 0 ||
	    (rc = rec_decode(k, &v, &r)) != 0)
		goto out;
	c->res->duplicate = 1;
	c->res->seq = r.seq;
	snprintf(c->res->short_id, sizeof(c->res->short_id), "%s", r.short_id);
	copy_id(c->res->series, sizeof(c->res->series), r.series);
	c->res->version = r.version;
	c->res->cx = r.cx;
	c->res->cn = r.cn;
	if (*lid == '\0' || list_has(r.list_ids, lid))
		goto out;
	if (asprintf(&ids, "%s%s%s", r.list_ids, *r.list_ids ? " " : "", lid) < 0) {
		ids = NULL;
		rc = PD_ENOMEM;
		goto out;
	}
	r.list_ids = ids;
	if ((rc = rec_encode(&r, &b)) == 0)
		rc = put_buf(t, st->db[DB_MSGS], k, &b, 0);
out:
	free(b.p);
	free(ids);
	free(copy);
	return rc;
}

static char *
join_tags(const pd_msg *m)
{
	struct wbuf b = { 0 };

	for (size_t i = 0; i < pd_msg_ntags(m); i++) {
		if (i)
			w_raw(&b, " ", 1);
		w_raw(&b, pd_msg_tag(m, i), strlen(pd_msg_tag(m, i)));
	}
	w_raw(&b, "", 1);
	return b.err ? NULL : (char *)b.p;
}

/*
 * The excerpt a shown message keeps: one over STORE_EXCERPT_MAX is cut
 * after a whole line (within 1 KiB of the limit) and ends in a line
 * "[...]", so that a subscriber sees the text goes on.
 */
static char *
cut_excerpt(const pd_msg *m, int shown)
{
	static const char more[] = "\n[...]";
	const char *e = pd_msg_excerpt(m), *nl;
	size_t n = shown ? strlen(e) : 0;
	char *out;

	if (n <= STORE_EXCERPT_MAX)
		return strndup(e, n);
	n = STORE_EXCERPT_MAX - (sizeof(more) - 1);
	/* a line's end near the limit, else a character's (one long line) */
	if ((nl = memrchr(e, '\n', n)) != NULL && n - (size_t)(nl - e) < 1024)
		n = (size_t)(nl - e);
	else
		while (n > 0 && (e[n] & 0xc0) == 0x80)	/* UTF-8 boundary */
			n--;
	while (n > 0 && (e[n - 1] == '\n' || e[n - 1] == ' ' || e[n - 1] == '\t'))
		n--;
	if ((out = malloc(n + sizeof(more))) == NULL)
		return NULL;
	memcpy(out, e, n);
	memcpy(out + n, more, sizeof(more));
	return out;
}

static int
put_counters(pd_store *st, MDB_txn *t, uint64_t range, const pd_msg *m,
    const struct pd_class *cls, const char *sid)
{
	int rc;

	if ((rc = counter_add(st, t, range, PD_COUNT_AUTHOR, pd_msg_author(m))) ||
	    (rc = counter_add(st, t, range, PD_COUNT_DOMAIN, pd_msg_domain(m))) ||
	    (rc = counter_add(st, t, range, PD_COUNT_SERIES, sid)))
		return rc;
	if (cls == NULL)
		return 0;
	if ((rc = counter_add(st, t, range, PD_COUNT_SUBSYSTEM, cls->subsystem)))
		return rc;
	return counter_add(st, t, range, PD_COUNT_PROJECT, cls->project);
}

/* A new message's record, its strings borrowed from m. */
static void
rec_fill(struct pd_rec *r, const pd_msg *m, const struct pd_class *cls,
    uint64_t seq, const char *short_id)
{
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	r->date = (int64_t)pd_msg_date(m);
	r->arrived = (int64_t)time(NULL);
	r->kind = pd_msg_kind(m);
	r->version = pd_msg_version(m);
	r->cx = pd_msg_counter(m, &r->cn);
	r->flags = pd_msg_flags(m);
	r->short_id = short_id;
	r->msgid = pd_msg_id(m);
	r->subject = pd_msg_subject(m);
	r->title = pd_msg_title(m);
	r->author = pd_msg_author(m);
	r->from = pd_msg_from(m);
	r->domain = pd_msg_domain(m);
	r->subsystem = cls ? cls->subsystem : "";
	r->project = cls ? cls->project : "";
	r->in_reply_to = pd_msg_in_reply_to(m);
	r->list_ids = pd_msg_list_id(m);
}

/* The arrival of the record r stored at key k: sequence, short id, range. */
static int
put_arrival(pd_store *st, MDB_txn *t, MDB_val *k, const struct pd_rec *r,
    struct pd_range *rg)
{
	unsigned char sb[8];
	MDB_val sk = { 8, sb };
	int rc;

	be64(sb, r->seq);
	if ((rc = mdb_put(t, st->db[DB_SEQ], &sk, k, 0)) != 0)
		return rc;
	sk.mv_size = 9;
	sk.mv_data = (void *)r->short_id;
	if ((rc = mdb_put(t, st->db[DB_SHORT], &sk, k, 0)) != 0)
		return rc;
	rg->messages++;
	rg->patch_messages += r->kind == PD_KIND_COVER || r->kind == PD_KIND_PATCH;
	rg->last_seq = r->seq;
	memcpy(rg->to, r->short_id, sizeof(rg->to));
	if ((rc = range_save(st, t, rg)) != 0)
		return rc;
	return meta_put_u64(st, t, "next_seq", r->seq + 1);
}

static int
put_fn(pd_store *st, MDB_txn *t, void *arg)
{
	struct put_ctx *c = arg;
	const pd_msg *m = c->m;
	struct pd_rec r;
	struct pd_range rg;
	struct wbuf b = { 0 };
	MDB_val k = sval(pd_msg_id(m)), v;
	char *tags = NULL, *excerpt = NULL;
	uint64_t seq;
	int patch = pd_msg_is_patch(m), rc;

	memset(c->res, 0, sizeof(*c->res));
	if (k.mv_size > 511)
		return PD_ETOOBIG;
	rc = mdb_get(t, st->db[DB_MSGS], &k, &v);
	if (rc == 0)
		return put_duplicate(st, t, &k, c);
	if (rc != MDB_NOTFOUND)
		return rc;
	if ((rc = meta_get_u64(st, t, "next_seq", &seq)) != 0 ||
	    (rc = open_range(st, t, &rg)) != 0)
		return rc;
	pd_short_id(pd_msg_id(m), c->res->short_id);
	rec_fill(&r, m, c->cls, seq, c->res->short_id);
	c->sid[0] = '\0';
	if (patch) {
		if ((rc = series_id(st, t, m, c->sid, sizeof(c->sid))) != 0 ||
		    (rc = series_update(st, t, m, c->cls, c->sid, seq)) != 0)
			return rc;
	} else if ((rc = credit_trailers(st, t, m)) != 0)
		return rc;
	r.series = c->sid;
	tags = join_tags(m);
	excerpt = cut_excerpt(m, patch && (r.kind == PD_KIND_COVER || r.cx <= 1));
	if (tags == NULL || excerpt == NULL) {
		rc = PD_ENOMEM;
		goto out;
	}
	r.tags = tags;
	r.excerpt = excerpt;
	if ((rc = rec_encode(&r, &b)) != 0 ||
	    (rc = put_buf(t, st->db[DB_MSGS], &k, &b, MDB_NOOVERWRITE)) != 0 ||
	    (rc = put_arrival(st, t, &k, &r, &rg)) != 0 ||
	    (rc = wait_settle(st, t, m)) != 0)
		goto out;
	if (patch && (rc = put_counters(st, t, rg.no, m, c->cls, c->sid)) != 0)
		goto out;
	c->res->seq = seq;
	copy_id(c->res->series, sizeof(c->res->series), c->sid);
	c->res->version = r.version;
	c->res->cx = r.cx;
	c->res->cn = r.cn;
out:
	free(tags);
	free(excerpt);
	free(b.p);
	return rc;
}

int
pd_store_put(pd_store *st, const pd_msg *m, const struct pd_class *cls,
    struct pd_put_result *res)
{
	struct put_ctx c = { m, cls, res, "" };
	struct pd_put_result dummy;

	if (st == NULL || m == NULL)
		return PD_EINVAL;
	c.res = res ? res : &dummy;
	return write_op(st, put_fn, &c);
}

/* ---- reading ---- */

static int
strip_id(const char *id, char *out, size_t outlen)
{
	size_t n;

	while (*id == ' ' || *id == '\t')
		id++;
	if (*id == '<')
		id++;
	n = strcspn(id, ">");
	if (n == 0)
		return PD_ENOTFOUND;
	/* stored under the id the parser derives from it */
	if (n > PD_ID_MAX)
		return pd_msg_fit_id(id, n, out, outlen);
	if (n >= outlen)
		return PD_ENOTFOUND;
	memcpy(out, id, n);
	out[n] = '\0';
	return 0;
}

static int
is_shortid(const char *s)
{
	return strlen(s) == 9 && strspn(s, "0123456789abcdef") == 9;
}

int
pd_store_get_msg(pd_store *st, const char *id,
    int (*fn)(const struct pd_rec *r, void *arg), void *arg)
{
	char key[512];
	MDB_txn *t;
	MDB_val k, v;
	struct pd_rec r;
	int rc;

	if (st == NULL || id == NULL || fn == NULL)
		return PD_EINVAL;
	if ((rc = strip_id(id, key, sizeof(key))) != 0)
		return rc;
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	/* Read only: the record is handed out straight from the map. */
	k = sval(key);
	if ((rc = mdb_get(t, st->db[DB_MSGS], &k, &v)) == 0)
		rc = rec_decode(&k, &v, &r);
	if (rc == MDB_NOTFOUND && is_shortid(key)) {
		MDB_val sk = { 9, key }, mid;

		if ((rc = mdb_get(t, st->db[DB_SHORT], &sk, &mid)) == 0) {
			k = mid;
			if ((rc = mdb_get(t, st->db[DB_MSGS], &k, &v)) == 0)
				rc = rec_decode(&k, &v, &r);
		}
	}
	if (rc == 0)
		rc = fn(&r, arg);
	rd_end(st, t);
	return pd_rc(rc);
}

static int
range_by_id(pd_store *st, MDB_txn *t, const char *id, struct pd_range *out)
{
	MDB_cursor *cur;
	MDB_val k, v;
	char *end;
	unsigned long long no;
	int rc;

	if (id == NULL || *id == '\0')
		return open_range(st, t, out);
	if (is_shortid(id)) {
		if ((rc = mdb_cursor_open(t, st->db[DB_RANGES], &cur)) != 0)
			return rc;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			if ((rc = range_decode(&k, &v, out)) != 0)
				break;
			if (strcmp(out->to, id) == 0 && out->last_seq >= out->first_seq)
				break;
		}
		mdb_cursor_close(cur);
		if (rc != MDB_NOTFOUND)
			return rc;
	}
	errno = 0;
	no = strtoull(id, &end, 10);
	if (*end != '\0' || errno != 0 || no == 0)
		return MDB_NOTFOUND;
	return range_load(st, t, no, out);
}

int
pd_store_range(pd_store *st, const char *id, struct pd_range *out)
{
	MDB_txn *t;
	int rc;

	if (st == NULL || out == NULL)
		return PD_EINVAL;
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	rc = range_by_id(st, t, id, out);
	rd_end(st, t);
	return pd_rc(rc);
}

int
pd_store_foreach_range(pd_store *st,
    int (*fn)(const struct pd_range *r, void *arg), void *arg)
{
	MDB_txn *t;
	MDB_cursor *cur;
	MDB_val k, v;
	struct pd_range r;
	int rc;

	if (st == NULL || fn == NULL)
		return PD_EINVAL;
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	if ((rc = mdb_cursor_open(t, st->db[DB_RANGES], &cur)) == 0) {
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
			if ((rc = range_decode(&k, &v, &r)) != 0 || (rc = fn(&r, arg)) != 0)
				break;
		mdb_cursor_close(cur);
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	rd_end(st, t);
	return pd_rc(rc);
}

int
pd_store_foreach_msg(pd_store *st, const struct pd_range *r,
    int (*fn)(const struct pd_rec *rec, void *arg), void *arg)
{
	MDB_txn *t;
	MDB_cursor *cur;
	MDB_val k, v, mk, mv;
	unsigned char kb[8];
	struct pd_rec rec;
	uint64_t want;
	int rc;

	if (st == NULL || r == NULL || fn == NULL)
		return PD_EINVAL;
	if (r->last_seq < r->first_seq)
		return 0;
	/* a damaged range record must not cut the digest short either */
	if (r->messages != r->last_seq - r->first_seq + 1)
		return PD_ECORRUPT;
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	if ((rc = mdb_cursor_open(t, st->db[DB_SEQ], &cur)) == 0) {
		be64(kb, r->first_seq);
		k.mv_size = 8;
		k.mv_data = kb;
		/*
		 * Sequence numbers run without a gap, and each names a message
		 * stored in the same transaction: anything else is damage, and
		 * taking it for the end would cut the digest short.
		 */
		for (want = r->first_seq; want <= r->last_seq; want++) {
			rc = mdb_cursor_get(cur, &k, &v,
			    want == r->first_seq ? MDB_SET_RANGE : MDB_NEXT);
			if (rc == MDB_NOTFOUND || (rc == 0 && (k.mv_size != 8 ||
			    get_be64(k.mv_data) != want)))
				rc = MDB_CORRUPTED;
			if (rc != 0)
				break;
			mk = v;
			if ((rc = mdb_get(t, st->db[DB_MSGS], &mk, &mv)) == MDB_NOTFOUND)
				rc = MDB_CORRUPTED;
			if (rc != 0 || (rc = rec_decode(&mk, &mv, &rec)) != 0 ||
			    (rc = fn(&rec, arg)) != 0)
				break;
		}
		mdb_cursor_close(cur);
	}
	rd_end(st, t);
	return pd_rc(rc);
}

const char *
pd_counter_name(enum pd_counter c)
{
	static const char *const names[PD_COUNT_MAX] = {
		"authors", "domains", "subsystems", "projects", "series"
	};

	return (unsigned)c < PD_COUNT_MAX ? names[c] : "unknown";
}

int
pd_store_foreach_count(pd_store *st, const struct pd_range *r, enum pd_counter c,
    int (*fn)(const char *name, uint64_t count, void *arg), void *arg)
{
	MDB_txn *t;
	MDB_cursor *cur;
	MDB_val k, v;
	unsigned char prefix[9];
	char name[512];
	int rc;

	if (st == NULL || r == NULL || fn == NULL || (unsigned)c >= PD_COUNT_MAX)
		return PD_EINVAL;
	be64(prefix, r->no);
	prefix[8] = (unsigned char)c;
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	if ((rc = mdb_cursor_open(t, st->db[DB_COUNTS], &cur)) == 0) {
		k.mv_size = 9;
		k.mv_data = prefix;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			if (k.mv_size <= 9 || memcmp(k.mv_data, prefix, 9) != 0)
				break;
			if (v.mv_size != 8) {
				rc = PD_ECORRUPT;
				break;
			}
			snprintf(name, sizeof(name), "%.*s", (int)(k.mv_size - 9),
			    (const char *)k.mv_data + 9);
			if ((rc = fn(name, get_be64(v.mv_data), arg)) != 0)
				break;
		}
		mdb_cursor_close(cur);
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	rd_end(st, t);
	return pd_rc(rc);
}

static int
dup_str(char **dst, const char *s)
{
	return (*dst = strdup(s ? s : "")) == NULL ? PD_ENOMEM : 0;
}

int
pd_store_series_get(pd_store *st, const char *id, struct pd_series *out)
{
	char key[512];
	MDB_txn *t;
	MDB_val k, v;
	struct srec s;
	int rc;

	if (st == NULL || id == NULL || out == NULL)
		return PD_EINVAL;
	memset(out, 0, sizeof(*out));
	if ((rc = strip_id(id, key, sizeof(key))) != 0)
		return rc;
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	k = sval(key);
	if ((rc = mdb_get(t, st->db[DB_SERIES], &k, &v)) == 0 &&
	    (rc = ser_decode(&k, &v, &s)) == 0) {
		out->version = s.version;
		out->total = s.total;
		out->received = ser_received(&s);
		out->has_cover = s.has_cover;
		out->reviewed = s.reviewed;
		out->acked = s.acked;
		out->tested = s.tested;
		out->first_seq = s.first_seq;
		if ((rc = dup_str(&out->id, s.id)) || (rc = dup_str(&out->subject, s.subject)) ||
		    (rc = dup_str(&out->title, s.title)) ||
		    (rc = dup_str(&out->author, s.author)) ||
		    (rc = dup_str(&out->subsystem, s.subsystem)) ||
		    (rc = dup_str(&out->project, s.project)))
			;
		else if (*s.supersedes && s.supersedes_version < (s.version > 0 ?
		    s.version : 1)) {
			/*
			 * The version is the cover's or the first part's; a
			 * part of a higher one that joined (a v2 patch under
			 * a v1 cover of one git run) may have linked a version
			 * no earlier than it.
			 */
			out->supersedes_version = s.supersedes_version;
			rc = dup_str(&out->supersedes, s.supersedes);
		}
	}
	rd_end(st, t);
	if (rc != 0)
		pd_series_clear(out);
	return pd_rc(rc);
}

void
pd_series_clear(struct pd_series *s)
{
	if (s == NULL)
		return;
	free(s->id);
	free(s->subject);
	free(s->title);
	free(s->author);
	free(s->subsystem);
	free(s->project);
	free(s->supersedes);
	memset(s, 0, sizeof(*s));
}

/* ---- ranges and digests ---- */

struct close_ctx {
	int force;
	const char *domain;
	pd_render_fn render;
	void *arg;
	struct pd_range closed;
};

static int
digest_msgid(uint64_t no, const char *domain, char **out)
{
	char host[256];
	uint32_t rnd[2] = { 0, 0 };

	if (domain != NULL && *domain != '\0')
		snprintf(host, sizeof(host), "%s", domain);
	else if (gethostname(host, sizeof(host)) != 0 || *host == '\0' ||
	    strchr(host, '.') == NULL)
		snprintf(host, sizeof(host), "%s", "patchdigest.invalid");
	host[sizeof(host) - 1] = '\0';
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd[0] = (uint32_t)getpid() ^ (uint32_t)time(NULL);
	if (asprintf(out, "patchdigest-%llu-%lld.%08x%08x@%s", (unsigned long long)no,
	    (long long)time(NULL), rnd[0], rnd[1], host) < 0)
		return PD_ENOMEM;
	return 0;
}

static int
close_fn(pd_store *st, MDB_txn *t, void *arg)
{
	struct close_ctx *c = arg;
	struct pd_range r, next;
	struct pd_digest_rec d;
	struct wbuf b = { 0 };
	unsigned char kb[8];
	MDB_val k = { 8, kb };
	char *text = NULL, *html = NULL, *msgid = NULL;
	int rc;

	if ((rc = open_range(st, t, &r)) != 0)
		return rc;
	/* replies alone wait in the open range for the next patch */
	if (r.patch_messages == 0 && !c->force)
		return PD_EEMPTY;
	if (c->render != NULL &&
	    (rc = c->render(st, &r, &text, &html, c->arg)) != 0)
		goto out;
	if ((rc = digest_msgid(r.no, c->domain, &msgid)) != 0)
		goto out;
	r.closed = (int64_t)time(NULL);
	r.open = 0;
	memset(&d, 0, sizeof(d));
	d.range_no = r.no;
	memcpy(d.from, r.from, sizeof(d.from));
	memcpy(d.to, r.to, sizeof(d.to));
	d.text = text ? text : "";
	d.html = html;
	d.msgid = msgid;
	d.created = r.closed;
	be64(kb, r.no);
	if ((rc = dig_encode(&d, &b)) != 0 ||
	    (rc = put_buf(t, st->db[DB_DIGESTS], &k, &b, 0)) != 0 ||
	    (rc = range_save(st, t, &r)) != 0)
		goto out;
	memset(&next, 0, sizeof(next));
	next.no = r.no + 1;
	next.open = 1;
	next.first_seq = r.last_seq + 1;
	next.last_seq = r.last_seq;
	next.opened = r.closed;
	memcpy(next.from, r.to, sizeof(next.from));
	memcpy(next.to, r.to, sizeof(next.to));
	if ((rc = range_save(st, t, &next)) != 0 ||
	    (rc = meta_put_u64(st, t, "open_range", next.no)) != 0)
		goto out;
	c->closed = r;
out:
	free(text);
	free(html);
	free(msgid);
	free(b.p);
	return rc;
}

int
pd_store_close_range(pd_store *st, int force, const char *domain,
    pd_render_fn render, void *arg, struct pd_range *closed)
{
	struct close_ctx c = { force, domain, render, arg, { 0 } };
	int rc;

	if (st == NULL)
		return PD_EINVAL;
	if ((rc = write_op(st, close_fn, &c)) == 0 && closed != NULL)
		*closed = c.closed;
	return rc;
}

static int
digest_lookup(pd_store *st, MDB_txn *t, uint64_t no, MDB_val *v)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb };

	be64(kb, no);
	return mdb_get(t, st->db[DB_DIGESTS], &k, v);
}

static int
digest_get(pd_store *st, MDB_txn *t, uint64_t no, struct pd_digest_rec *out)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	if ((rc = digest_lookup(st, t, no, &v)) != 0)
		return rc;
	be64(kb, no);
	return dig_decode(&k, &v, out);
}

int
pd_store_digest_get(pd_store *st, uint64_t range_no, struct pd_digest_rec *out)
{
	MDB_txn *t;
	int rc;

	if (st == NULL || out == NULL)
		return PD_EINVAL;
	memset(out, 0, sizeof(*out));
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	rc = digest_get(st, t, range_no, out);
	rd_end(st, t);
	return pd_rc(rc);
}

int
pd_store_digest_view(pd_store *st, uint64_t range_no, int html,
    pd_digest_view_fn fn, void *arg)
{
	struct dig_view dv;
	MDB_txn *t;
	MDB_val v;
	int rc;

	if (st == NULL || fn == NULL)
		return PD_EINVAL;
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	if ((rc = digest_lookup(st, t, range_no, &v)) == 0 &&
	    (rc = dig_parse(&v, &dv)) == 0) {
		if (!html)
			rc = fn(dv.text, dv.text_len, arg);
		else if (dv.html_len == 0)
			rc = PD_ENOTFOUND;
		else
			rc = fn(dv.html, dv.html_len, arg);
	}
	rd_end(st, t);
	return pd_rc(rc);
}

int
pd_store_unsent_digest(pd_store *st, struct pd_digest_rec *out)
{
	MDB_txn *t;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if (st == NULL || out == NULL)
		return PD_EINVAL;
	memset(out, 0, sizeof(*out));
	if ((rc = rd_begin(st, &t)) != 0)
		return pd_rc(rc);
	if ((rc = mdb_cursor_open(t, st->db[DB_DIGESTS], &cur)) == 0) {
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			if ((rc = dig_decode(&k, &v, out)) != 0)
				break;
			if (out->sent_at == 0)
				break;
			pd_digest_rec_clear(out);
		}
		mdb_cursor_close(cur);
	}
	rd_end(st, t);
	return pd_rc(rc);
}

struct sent_ctx {
	uint64_t no;
	const char *msgid;
	int skip;
};

static int
sent_fn(pd_store *st, MDB_txn *t, void *arg)
{
	struct sent_ctx *c = arg;
	struct pd_digest_rec d;
	struct wbuf b = { 0 };
	unsigned char kb[8];
	MDB_val k = { 8, kb };
	char *msgid = NULL;
	int rc;

	if ((rc = digest_get(st, t, c->no, &d)) != 0)
		return rc;
	if (c->skip && d.sent_at != 0) {
		rc = PD_ENOTFOUND;
		goto out;
	}
	d.sent_at = c->skip ? -(int64_t)time(NULL) : (int64_t)time(NULL);
	if (c->msgid != NULL && *c->msgid) {
		if ((msgid = strdup(c->msgid)) == NULL) {
			rc = PD_ENOMEM;
			goto out;
		}
		free(d.msgid);
		d.msgid = msgid;
	}
	be64(kb, c->no);
	if ((rc = dig_encode(&d, &b)) == 0)
		rc = put_buf(t, st->db[DB_DIGESTS], &k, &b, 0);
out:
	pd_digest_rec_clear(&d);
	free(b.p);
	return rc;
}

int
pd_store_mark_sent(pd_store *st, uint64_t range_no, const char *msgid)
{
	struct sent_ctx c = { range_no, msgid, 0 };

	if (st == NULL)
		return PD_EINVAL;
	return write_op(st, sent_fn, &c);
}

int
pd_store_skip_digest(pd_store *st, uint64_t range_no)
{
	struct sent_ctx c = { range_no, NULL, 1 };

	if (st == NULL)
		return PD_EINVAL;
	return write_op(st, sent_fn, &c);
}

int
pd_store_open_count(pd_store *st, uint64_t *patch_messages)
{
	struct pd_range r;
	int rc;

	if (st == NULL || patch_messages == NULL)
		return PD_EINVAL;
	if ((rc = pd_store_range(st, NULL, &r)) != 0)
		return rc;
	*patch_messages = r.patch_messages;
	return 0;
}
