/*
 * The store's records as bytes (store.c describes the schema): a format
 * byte, then the fields in order.  Decoders check the format byte and
 * every field.  Those of messages and series point into the key and value
 * decoded; those of ranges and digests copy (pd_digest_rec_clear frees a
 * digest's strings).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define REC_FORMAT	1
#define SER_FORMAT	1
#define RANGE_FORMAT	1
#define DIG_FORMAT	1
#define SUBS_MAX	32	/* subsystems a series record keeps */

int
pd_record_msg_encode(const struct pd_rec *r, struct wbuf *b)
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

int
pd_record_msg_decode(const MDB_val *key, const MDB_val *val,
    struct pd_rec *r)
{
	struct rbuf rb = r_val(val);

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

int
pd_record_series_encode(const struct srec *s, struct wbuf *b)
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
	w_raw(b, s->subs, s->subs_len);
	return b->err ? PD_ENOMEM : 0;
}

int
pd_record_series_decode(const MDB_val *key, const MDB_val *val,
    struct srec *s)
{
	struct rbuf rb = r_val(val);

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
	if (rb.err)
		return PD_ECORRUPT;
	s->subs = rb.p;
	s->subs_len = (size_t)(rb.end - rb.p);
	return pd_record_subs_get(s, NULL, NULL);
}

/* s's subs list (a fresh record's is NULL: no arithmetic on it). */
static struct rbuf
subs_rbuf(const struct srec *s)
{
	struct rbuf rb = { s->subs, s->subs, 0 };

	if (s->subs != NULL)
		rb.end += s->subs_len;
	return rb;
}

/* A subs list: a count, then each entry's name, n, patches and part. */
static void
r_sub(struct rbuf *rb, struct pd_series_sub *e)
{
	e->name = (char *)r_str(rb);
	e->n = (unsigned)r_u64(rb);
	e->patches = (unsigned)r_u64(rb);
	e->part = r_int(rb);
}

static void
w_sub(struct wbuf *b, const struct pd_series_sub *e)
{
	w_str(b, e->name);
	w_u64(b, e->n);
	w_u64(b, e->patches);
	w_i64(b, e->part);
}

int
pd_record_subs_get(const struct srec *s,
    int (*fn)(const struct pd_series_sub *, void *), void *arg)
{
	struct rbuf rb = subs_rbuf(s);
	struct pd_series_sub e;
	uint64_t n;
	int rc;

	if (s->subs_len == 0)
		return 0;
	n = r_u64(&rb);
	for (uint64_t i = 0; i < n && !rb.err; i++) {
		r_sub(&rb, &e);
		if (!rb.err && fn != NULL && (rc = fn(&e, arg)) != 0)
			return rc;
	}
	return rb.err || rb.p != rb.end ? PD_ECORRUPT : 0;
}

int
pd_record_subs_add(const struct srec *s, const char *name, int cover,
    int part, struct wbuf *out)
{
	struct rbuf rb = subs_rbuf(s);
	struct wbuf body = { 0 };
	struct pd_series_sub e;
	uint64_t n = s->subs_len ? r_u64(&rb) : 0, count = 0;
	int found = 0, rc = 0;

	for (uint64_t i = 0; i < n && !rb.err; i++) {
		r_sub(&rb, &e);
		if (!found && strcmp(e.name, name) == 0) {
			found = 1;
			e.n++;
			e.patches += !cover;
			if (part < e.part)
				e.part = part;
		}
		w_sub(&body, &e);
		count++;
	}
	if (!found && count < SUBS_MAX) {
		e.name = (char *)name;
		e.n = 1;
		e.patches = !cover;
		e.part = part;
		w_sub(&body, &e);
		count++;
	}
	if (rb.err || rb.p != rb.end)
		rc = PD_ECORRUPT;
	else {
		w_u64(out, count);
		w_raw(out, body.p, body.len);
		rc = out->err || body.err ? PD_ENOMEM : 0;
	}
	free(body.p);
	return rc;
}

unsigned
pd_record_series_received(const struct srec *s)
{
	unsigned n = 0;

	for (size_t i = 0; i < s->nparts; i++)
		n += (unsigned)__builtin_popcount(s->parts[i]);
	return n;
}

int
pd_record_range_encode(const struct pd_range *r, struct wbuf *b)
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

int
pd_record_range_decode(const MDB_val *key, const MDB_val *val,
    struct pd_range *r)
{
	struct rbuf rb = r_val(val);

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

int
pd_record_digest_encode(const struct pd_digest_rec *d, struct wbuf *b)
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

int
pd_record_digest_parse(const MDB_val *val, struct dig_view *dv)
{
	struct rbuf rb = r_val(val);

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
int
pd_record_digest_decode(const MDB_val *key, const MDB_val *val,
    struct pd_digest_rec *d)
{
	struct dig_view dv;

	memset(d, 0, sizeof(*d));
	if (key->mv_size != 8 || pd_record_digest_parse(val, &dv) != 0)
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
