/*
 * Trailer counts (SPEC.md section 3): a reply's Reviewed-by/Acked-by/
 * Tested-by lines count for the patch it answers and for the patch's
 * series; a reply to a cover letter counts for the series only.  A person
 * counts once per part and kind (credits).  A reply that arrives before
 * the part it answers waits for it (waiting).  store.c describes the
 * databases.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "patchdigest/msg.h"
#include "store_int.h"

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
		if ((rc = pd_record_msg_encode(&r, &b)) != 0 ||
		    (rc = put_buf(t, st->db[DB_MSGS], &k, &b, 0)) != 0)
			goto out;
	}
	sk = sval(r.series);
	if ((rc = get_copy(t, st->db[DB_SERIES], &sk, &sv, &scopy)) != 0 ||
	    (rc = pd_record_series_decode(&sk, &sv, &s)) != 0)
		goto out;
	s.reviewed += d[0];
	s.acked += d[1];
	s.tested += d[2];
	b.len = 0;
	if ((rc = pd_record_series_encode(&s, &b)) == 0)
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
	rb = r_val(&v);
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
int
pd_credit_trailers(pd_store *st, MDB_txn *t, const pd_msg *m)
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
		    pd_series_ancestors(m, anc, ANSWER_DEPTH));
	free(cr.who.p);
	free(who.p);
	return rc;
}

/*
 * m has just been stored: the replies that waited for it look again for
 * the part they answer, m or one that m leads to.
 */
int
pd_credit_settle(pd_store *st, MDB_txn *t, const pd_msg *m)
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
