/*
 * Series assembly (SPEC.md section 3): which series a patch or cover
 * letter belongs to, whatever order its parts arrive in, by threading
 * (pending), else by sender, version, N and tags within 20 minutes
 * (loose); and the links from a series to the version it supersedes
 * (versions).  store.c describes the databases.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patchdigest/msg.h"
#include "store_int.h"

#define STORE_MAXPARTS	4096	/* bitmap bound for a bogus x/N */
#define LOOSE_WINDOW	(20 * 60)

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
	rb = r_val(&v);
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

/*
 * What the ids git format-patch names share within one posting: from the
 * '.' after "cover" (its cover letter) or a commit hash (a patch), in
 * "<hash>.<time>.git.<addr>".  NULL for another id.
 */
static const char *
format_patch_stem(const char *id)
{
	size_t h = strspn(id, "0123456789abcdef"), d;
	const char *p = strncmp(id, "cover.", 6) == 0 ? id + 5 :
	    h == 40 || h == 64 ? id + h : NULL;

	if (p == NULL || *p != '.')
		return NULL;
	d = strspn(p + 1, "0123456789");
	return d > 0 && strncmp(p + 1 + d, ".git.", 5) == 0 &&
	    strchr(p + 1 + d + 5, '@') != NULL ? p : NULL;
}

/*
 * 1 when two ids are of one posting named by git: by send-email, differing
 * at most in the part number; or by format-patch.
 */
static int
same_stem(const char *a, const char *b)
{
	const char *as, *ae, *bs, *be;

	if (part_number(a, &as, &ae) && part_number(b, &bs, &be))
		return as - a == bs - b && memcmp(a, b, (size_t)(as - a)) == 0 &&
		    strcmp(ae, be) == 0;
	as = format_patch_stem(a);
	bs = format_patch_stem(b);
	return as != NULL && bs != NULL && strcmp(as, bs) == 0;
}

/*
 * How early in its posting a message named by git was sent: send-email's
 * part number, 0 for format-patch's cover letter; LONG_MAX when its name
 * does not say (a format-patch patch).
 */
static long
stem_rank(const char *id)
{
	const char *ns, *ne;

	if (part_number(id, &ns, &ne))
		return strtol(ns, NULL, 10);
	return strncmp(id, "cover.", 6) == 0 ? 0 : LONG_MAX;
}

/*
 * The first sent of m's ancestors named like it by git (its cover letter,
 * or patch 1 with --chain-reply-to), else the oldest reference named so:
 * References may lack the cover that In-Reply-To names.  NULL when none.
 */
static const char *
git_root(const pd_msg *m)
{
	const char *id = pd_msg_id(m), *best = NULL, *r;
	size_t n = pd_msg_nrefs(m);
	long br = 0, rk;

	for (size_t i = 0; i <= n; i++) {
		r = i < n ? pd_msg_ref(m, i) : pd_msg_in_reply_to(m);
		if (*r == '\0' || !same_stem(r, id))
			continue;
		rk = stem_rank(r);
		if (best == NULL || rk < br) {
			best = r;
			br = rk;
		}
	}
	return best;
}

/*
 * As series_by_thread without the store, where no ancestor is stored: the
 * first sent of those named like this message by git (git_root), else the
 * direct parent.  But patch 1 named by git and replying to another
 * posting's message (a new version in an old thread) names its own series,
 * as the store says once that posting is stored.
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
		root = git_root(m);
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
size_t
pd_series_ancestors(const pd_msg *m, const char **anc, size_t max)
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
 * A git-named patch 1 takes no parent named otherwise (below), nor joins
 * a patch it replies to (a posting sent again in reply to the first).  The
 * root guessed among them is the first sent of those named like this
 * message by git (stem_rank), else the direct parent (the cover letter or
 * patch 1 in git's default threading).  Only the ancestors up to the
 * oldest named like it are remembered, and past a gap (an
 * ancestor not stored) a stored part must fit a chain (chain_fits) and a
 * pending one must be named like this message: a series posted inside
 * another series' thread neither joins it nor captures its parts.
 * Non-git Message-IDs with --chain-reply-to arriving shuffled can split a
 * series; merging two was judged the worse failure.  With them a series
 * sent again in reply to the first still joins it when its patch 1
 * arrives before the first's (the missing parent could be its cover).
 */
static int
series_by_thread(pd_store *st, MDB_txn *t, const pd_msg *m, int version, int cn,
    char *sid, size_t sidlen, const char **missing, size_t *nmissing)
{
	const char *anc[64];
	size_t n = pd_series_ancestors(m, anc, 64), root = 0;
	long last = -1, best = 0, rank;
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
			 * A cover of the same posting named by git is this
			 * series' whatever its subject says ("[PATCH 00/15]"
			 * over "[PATCH v2 01/15]"): pending names it too.
			 */
			same = (same_part_series(&a, version, cn) &&
			    (*nmissing == 0 || chain_fits(&a, m, cx, i + 1))) ||
			    (a.kind == PD_KIND_COVER && same_stem(anc[i], pd_msg_id(m)));
			/*
			 * Patch 1 replies to its cover or to nothing of its
			 * posting: a patch it replies to is of another (the
			 * same version re-sent in reply to the first).
			 */
			same = same && *a.series &&
			    !(i == 0 && cx == 1 && a.kind == PD_KIND_PATCH);
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
		 * Patch 1 named by git replying to a message that is no
		 * part, or not stored (a bug report, perhaps sent to another
		 * list): were it its cover, git would have named it alike.
		 * So the patch names its own series, whatever the order of
		 * arrival, as pd_series_guess says; else every fix sent in
		 * reply to one report would join one series.
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
		if (stem) {
			rank = stem_rank(anc[i]);
			if (last < 0 || rank <= best) {
				root = *nmissing;
				best = rank;
			}
			last = (long)*nmissing;
		}
		missing[(*nmissing)++] = anc[i];
	}
	if (*nmissing == 0)
		return 0;
	snprintf(sid, sidlen, "%s", missing[root]);
	/* what is above the oldest named like m is another thread */
	*nmissing = last < 0 ? 1 : (size_t)last + 1;
	return 0;
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
	rb = r_val(&v);
	l->when = r_i64(&rb);
	l->sid = r_str(&rb);
	if (rb.err)
		return 0;	/* unreadable: as if there were none */
	l->threaded = r_u64(&rb) != 0 || rb.err;
	l->found = 1;
	return 0;
}

/* The series record of id, pointing into the map; MDB_NOTFOUND if none. */
static int
series_read(pd_store *st, MDB_txn *t, const char *id, struct srec *s)
{
	MDB_val k = sval(id), v;
	int rc;

	if ((rc = mdb_get(t, st->db[DB_SERIES], &k, &v)) != 0)
		return rc;
	return pd_record_series_decode(&k, &v, s);
}

/* 1 when series sid has part cx already: a part like it is another posting's. */
static int
has_part(pd_store *st, MDB_txn *t, const char *sid, int cx, int *rc)
{
	struct srec s;

	if ((*rc = series_read(st, t, sid, &s)) != 0) {
		if (*rc == MDB_NOTFOUND)
			*rc = 0;
		return 0;
	}
	return cx >= 0 && (size_t)cx / 8 < s.nparts &&
	    (s.parts[cx / 8] & (1u << (cx % 8))) != 0;
}

/*
 * The loose series m joins: one of unthreaded parts alone (threaded ones
 * have their thread; an unthreaded patch joining them took the place of a
 * part still to come) that lacks m's part (a part it has is of another
 * posting: the series sent again).
 */
static int
loose_get(pd_store *st, MDB_txn *t, const pd_msg *m, int version, int cn,
    char *sid, size_t sidlen)
{
	struct wbuf kb = { 0 };
	struct loose l;
	int64_t d;
	int rc;

	if ((rc = loose_key(m, version, cn, &kb)) != 0 ||
	    (rc = loose_lookup(st, t, &kb, &l)) != 0 || !l.found || l.threaded)
		goto out;
	d = msg_time(m) - l.when;
	if (d <= LOOSE_WINDOW && d >= -LOOSE_WINDOW &&
	    !has_part(st, t, l.sid, pd_msg_counter(m, NULL), &rc) && rc == 0)
		snprintf(sid, sidlen, "%s", l.sid);
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
	int rc;

	if ((rc = loose_get(st, t, m, version, cn, found, sizeof(found))) != 0 ||
	    *found == '\0' || (rc = series_read(st, t, found, &s)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (!s.has_cover)
		snprintf(sid, sidlen, "%s", found);
	return 0;
}

/*
 * The series of patch or cover m, into sid (SPEC 3): a cover letter's own
 * id, or that of the unthreaded parts it follows; a patch's without a
 * counter, its own (nothing goes into loose); for a part, the id its
 * thread or (without threading) its loose key gives, else its own.  What
 * later parts need to find it goes into pending and loose.
 */
int
pd_series_assign(pd_store *st, MDB_txn *t, const pd_msg *m, char *sid,
    size_t sidlen)
{
	const char *missing[64];
	size_t nmissing = 0;
	int cn, cx = pd_msg_counter(m, &cn), version = pd_msg_version(m);
	int threaded = *pd_msg_in_reply_to(m) || pd_msg_nrefs(m) > 0;
	int rc;

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
	    (rc = loose_get(st, t, m, version, cn, sid, sidlen)) != 0)
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

/* s supersedes version v, series id, unless it already names a later one. */
static void
supersede(struct srec *s, const char *id, int v, char *prev, size_t prevlen)
{
	if (v < 1 || v >= s->version || (*s->supersedes && v <= s->supersedes_version))
		return;
	snprintf(prev, prevlen, "%s", id);
	s->supersedes = prev;
	s->supersedes_version = v;
}

/* What earlier posting of its version, id, superseded: s does too. */
static int
supersede_as(pd_store *st, MDB_txn *t, const char *id, struct srec *s,
    char *prev, size_t prevlen)
{
	struct srec o;
	int rc;

	if ((rc = series_read(st, t, id, &o)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	supersede(s, o.supersedes, o.supersedes_version, prev, prevlen);
	return 0;
}

/* 1 when message id was sent after date, both known. */
static int
sent_after(pd_store *st, MDB_txn *t, const char *id, int64_t date, int *rc)
{
	MDB_val k;
	struct pd_rec a;
	void *copy;
	int after;

	*rc = get_rec(st, t, id, &k, &a, &copy);
	after = *rc == 0 && date != 0 && a.date > date;
	free(copy);
	if (*rc == MDB_NOTFOUND)
		*rc = 0;
	return after;
}

/*
 * A version arriving after a later one (archives imported out of order)
 * goes into the later ones' chain of supersedes links: below the first
 * whose link points lower, which then supersedes it, if that one was sent
 * after it (a v1 sent after v2 starts anew: a prep patch posted apart).
 * Over a posting of its own version it links as that one does.
 */
static int
link_below(pd_store *st, MDB_txn *t, const char *later, const char *sid,
    int version, int64_t date, struct srec *s, char *prev, size_t prevlen)
{
	char cur[512];
	struct srec o;
	struct wbuf b = { 0 };
	MDB_val k;
	int rc;

	snprintf(cur, sizeof(cur), "%s", later);
	for (int n = 0; n < 64 && strcmp(cur, sid) != 0; n++) {
		if ((rc = series_read(st, t, cur, &o)) != 0)
			return rc == MDB_NOTFOUND ? 0 : rc;
		if (*o.supersedes && strcmp(o.supersedes, sid) == 0)
			return 0;
		if (*o.supersedes && o.supersedes_version == version)
			return supersede_as(st, t, o.supersedes, s, prev, prevlen);
		if (*o.supersedes && o.supersedes_version > version) {
			snprintf(cur, sizeof(cur), "%s", o.supersedes);
			continue;
		}
		if (!sent_after(st, t, cur, date, &rc))
			return rc;
		/* copied out of the map before the put moves it */
		supersede(s, o.supersedes, o.supersedes_version, prev, prevlen);
		o.supersedes = sid;
		o.supersedes_version = version;
		k = sval(cur);
		if ((rc = pd_record_series_encode(&o, &b)) == 0)
			rc = put_buf(t, st->db[DB_SERIES], &k, &b, 0);
		free(b.p);
		return rc;
	}
	return 0;
}

/*
 * The latest posting under one title or change-id; links supersedes to the
 * latest earlier version.  A version posted again (a send cut short and
 * redone, a resend) links as its first posting did, and is the one later
 * versions link to.  An earlier version after it goes below (link_below).
 */
/* Title a[0..alen) as it was kept is b, a title in lower case with single blanks. */
static int
title_same(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;

	while (i < alen && j < blen) {
		char c = a[i];

		if (c == ' ' || c == '\t') {
			while (i < alen && (a[i] == ' ' || a[i] == '\t'))
				i++;
			c = ' ';
		} else {
			i++;
			if (c >= 'A' && c <= 'Z')
				c = (char)(c + 32);
		}
		if (c != b[j++])
			return 0;
	}
	return i == alen && j == blen;
}

/*
 * A store written before keys took titles in lower case with single
 * blanks kept them as they were, under "t": the one of this author (keys
 * from prefix on) whose title reads as the title of key.
 */
static int
old_version_get(pd_store *st, MDB_txn *t, const struct wbuf *prefix,
    const struct wbuf *key, MDB_val *v)
{
	MDB_val k = { prefix->len, prefix->p };
	MDB_cursor *c;
	int rc;

	if ((rc = mdb_cursor_open(t, st->db[DB_VERS], &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, v, MDB_NEXT)) {
		if (k.mv_size < prefix->len || memcmp(k.mv_data, prefix->p, prefix->len) != 0) {
			rc = MDB_NOTFOUND;
			break;
		}
		if (title_same((const char *)k.mv_data + prefix->len, k.mv_size - prefix->len,
		    (const char *)key->p + prefix->len, key->len - prefix->len))
			break;
	}
	mdb_cursor_close(c);
	return rc;
}

static int
version_link(pd_store *st, MDB_txn *t, const struct wbuf *key,
    const struct wbuf *old, const char *sid, int version, int64_t date,
    struct srec *s, char *prev, size_t prevlen)
{
	MDB_val k = { key->len, key->p }, v;
	struct wbuf vb = { 0 };
	int rc;

	if (key->len < 2 || key->len > 500)
		return 0;
	rc = mdb_get(t, st->db[DB_VERS], &k, &v);
	if (rc == MDB_NOTFOUND && old != NULL)
		rc = old_version_get(st, t, old, key, &v);
	if (rc == 0) {
		struct rbuf rb = r_val(&v);
		int oldv = (int)r_u64(&rb);
		const char *olds = r_str(&rb);

		if (rb.err)
			return PD_ECORRUPT;
		if (strcmp(olds, sid) == 0)
			return 0;
		if (oldv > version)
			return link_below(st, t, olds, sid, version, date, s, prev,
			    prevlen);
		if (oldv < version)
			supersede(s, olds, oldv, prev, prevlen);
		else if ((rc = supersede_as(st, t, olds, s, prev, prevlen)) != 0)
			return rc;
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
	struct wbuf kb = { 0 }, ob = { 0 };
	const char *e = pd_msg_author_email(m), *cid = pd_msg_change_id(m);
	int rc;

	/*
	 * An empty title ("[PATCH v2]" alone) names no posting in particular.
	 * Titles match whatever their letters' case ("arm64: unify X" and
	 * "arm64: Unify X"); keys "t" kept them as they were (ob: their
	 * author's part).
	 */
	w_raw(&kb, "i", 1);
	w_lower(&kb, e, strlen(e));
	w_raw(&kb, "", 1);
	w_lower(&kb, pd_msg_title(m), strlen(pd_msg_title(m)));
	w_raw(&ob, "t", 1);
	w_lower(&ob, e, strlen(e));
	w_raw(&ob, "", 1);
	if (kb.err || ob.err)
		rc = PD_ENOMEM;
	else if (*pd_msg_title(m) == '\0')
		rc = 0;
	else
		rc = version_link(st, t, &kb, &ob, sid, pd_msg_version(m),
		    (int64_t)pd_msg_date(m), s, prev, prevlen);
	if (rc == 0 && *cid) {
		kb.len = 0;
		w_raw(&kb, "c", 1);
		w_raw(&kb, cid, strlen(cid));
		rc = kb.err ? PD_ENOMEM : version_link(st, t, &kb, NULL, sid,
		    pd_msg_version(m), (int64_t)pd_msg_date(m), s, prev, prevlen);
	}
	free(kb.p);
	free(ob.p);
	return rc;
}

int
pd_series_record(pd_store *st, MDB_txn *t, const pd_msg *m,
    const struct pd_class *cls, const char *sid, uint64_t seq)
{
	MDB_val k = sval(sid), v;
	struct srec s;
	struct wbuf b = { 0 }, subs = { 0 };
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
	} else if ((rc = pd_record_series_decode(&k, &v, &s)) != 0)
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
	/* a digest with only its replies files it as it was filed when posted */
	/* (a record written before them has not all its parts' to keep) */
	if (rc == 0 && (fresh || s.subs_len > 0) && (rc = pd_record_subs_add(&s,
	    cls ? cls->subsystem : "", kind == PD_KIND_COVER, cx >= 1 ? cx : INT_MAX,
	    &subs)) == 0) {
		s.subs = subs.p;
		s.subs_len = subs.len;
	}
	if (rc == 0 && (rc = pd_record_series_encode(&s, &b)) == 0)
		rc = put_buf(t, st->db[DB_SERIES], &k, &b, 0);
out:
	free(b.p);
	free(subs.p);
	free(parts);
	free(copy);
	return rc;
}
