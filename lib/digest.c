/*
 * Rendering a range as the digest (SPEC.md section 5): the plain text that
 * subscribers know, and an HTML rendering of the same content.
 *
 * Everything comes from the store: the Top-15 lists from the range's rolling
 * counters, the patch list from the series records, the blocks from the
 * message records in arrival order.  Nothing list-specific is written here;
 * the list's name and archive come from the configuration.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "patchdigest/classify.h"
#include "patchdigest/digest.h"
#include "patchdigest/error.h"
#include "patchdigest/msg.h"

#define TOP_N		15
#define DASHES \
	"----------------------------------------------------------------------"
#define HDR_DOMAINS	"Top 15 contributor Email domains (Based on Email Body)"
#define HDR_AUTHORS	"Top 15 contributors (Based on Email Body)"
#define HDR_LIST	"===== Patch list in this time period ====="
#define HDR_MSGS	"===== Patch Commit Messages ===="
/* The same headings in HTML, without the plain text's rulers. */
#define HTML_LIST	"Patch list in this time period"
#define HTML_MSGS	"Patch Commit Messages"
#define NO_SUBSYSTEM	"(no subsystem)"
#define NO_AUTHOR	"(no author)"	/* a message without a From: */

/* ------------------------------------------------------------------ */
/* Tie order: glibc's en_US.UTF-8 collation, reversed (sort -rn).      */

/* Base letters of U+00C0..U+017F; '*' marks the two non-letters. */
static const char latin1[] =
    "AAAAAAACEEEEIIIIDNOOOOO*OUUUUYTs"
    "aaaaaaaceeeeiiiidnooooo*ouuuuyty";
static const char latin_ext_a[] =
    "AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIiIiJjKkkLlLlLlLl"
    "LlNnNnNnnNnOoOoOoOoRrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs";

/*
 * Their accents in glibc's en_US order (ISO 14651's secondary weights), as
 * '@' + rank: A acute, B grave, C breve, D circumflex, E caron, F ring,
 * G diaeresis, H double acute, I tilde, J dot above, K cedilla, L ogonek,
 * M stroke, N macron, O middle dot, P eth, T the rest (ligatures and such).
 */
static const char latin1_accent[] =
    "BADIGFTKBADGBADGPIBADIG*MBADGATT"
    "BADIGFTKBADGBADGPIBADIG*MBADGATG";
static const char latin_ext_a_accent[] =
    "NNCCLLAADDJJEEEEMMNNCCJJLLEEDDCCJJKKDDMMIINNCCLLJTTTDDKKTAAKKEEOOMM"
    "AAKKEETTTNNCCHHTTAAKKEEAADDKKEEKKEEMMIINNCCFFHHLLDDDDGAAJJEET";

struct cw {
	unsigned primary;	/* 0: ignorable (punctuation, space, bad bytes) */
	unsigned accent;	/* 0 plain, else its rank (latin1_accent) */
	unsigned upper;		/* 0 lower case or no case, 1 upper case */
};

/* Decode one UTF-8 sequence at *p; advances *p; returns -1 on a bad byte. */
static long
utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	long c;
	int n, i;

	if (s[0] < 0x80) {
		(*p)++;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0) {
		c = s[0] & 0x1f;
		n = 1;
	} else if ((s[0] & 0xf0) == 0xe0) {
		c = s[0] & 0x0f;
		n = 2;
	} else if ((s[0] & 0xf8) == 0xf0) {
		c = s[0] & 0x07;
		n = 3;
	} else {
		(*p)++;
		return -1;
	}
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			(*p)++;
			return -1;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	*p += n + 1;
	return c;
}

static void
weigh_letter(int base, unsigned accent, struct cw *w)
{
	w->primary = 20 + (unsigned)(base >= 'a' ? base - 'a' : base - 'A');
	w->upper = base < 'a';
	w->accent = accent;
}

/* Collation weights of one character. */
static void
weigh(long c, struct cw *w)
{
	memset(w, 0, sizeof(*w));
	if (c >= '0' && c <= '9')
		w->primary = 1 + (unsigned)(c - '0');
	else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		weigh_letter((int)c, 0, w);
	else if (c >= 0xc0 && c <= 0xff && latin1[c - 0xc0] != '*')
		weigh_letter(latin1[c - 0xc0],
		    (unsigned)(latin1_accent[c - 0xc0] - '@'), w);
	else if (c >= 0x100 && c <= 0x17f)
		weigh_letter(latin_ext_a[c - 0x100],
		    (unsigned)(latin_ext_a_accent[c - 0x100] - '@'), w);
	else if (c >= 0x180)
		w->primary = 100 + (unsigned)c;	/* other scripts sort after Latin */
}

/* Compare a and b at one level (0 primary, 1 accents, 2 case), ignorables skipped. */
static int
collate_level(const char *a, const char *b, int level)
{
	const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
	struct cw wa, wb;
	unsigned va, vb;

	for (;;) {
		wa.primary = wb.primary = 0;
		while (*p && wa.primary == 0)
			weigh(utf8_next(&p), &wa);
		while (*q && wb.primary == 0)
			weigh(utf8_next(&q), &wb);
		if (wa.primary == 0 || wb.primary == 0)
			return (wa.primary != 0) - (wb.primary != 0);
		va = level == 0 ? wa.primary : level == 1 ? wa.accent : wa.upper;
		vb = level == 0 ? wb.primary : level == 1 ? wb.accent : wb.upper;
		if (va != vb)
			return va < vb ? -1 : 1;
	}
}

/*
 * The next character the first levels ignored (punctuation, space; a bad
 * byte sorts after every character), counting the others skipped; 0 at the end.
 */
static long
next_punct(const unsigned char **p, unsigned *skipped)
{
	struct cw w;
	long c;

	*skipped = 0;
	while (**p) {
		unsigned char first = **p;

		if ((c = utf8_next(p)) == -1)
			return 0x110000 + first;
		weigh(c, &w);
		if (w.primary == 0)
			return c;
		(*skipped)++;
	}
	return 0;
}

/*
 * The last level sees only what the others ignored: glibc's
 * "forward,position" rule compares how many characters come before each of
 * them first, then the characters themselves.
 */
static int
collate_punct(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
	unsigned na, nb;
	long ca, cb;

	do {
		ca = next_punct(&p, &na);
		cb = next_punct(&q, &nb);
		if (na != nb)
			return na < nb ? -1 : 1;
		if (ca != cb)
			return ca < cb ? -1 : 1;
	} while (ca != 0);
	return 0;
}

int
pd_digest_tiecmp(const char *a, const char *b)
{
	int level, c;

	/* Descending: a comes first when it collates after b. */
	for (level = 0; level < 3; level++)
		if ((c = collate_level(b, a, level)) != 0)
			return c;
	if ((c = collate_punct(b, a)) != 0)
		return c;
	c = strcmp(b, a);
	return (c > 0) - (c < 0);
}

/* ------------------------------------------------------------------ */
/* Output buffer with a sticky error.                                  */

struct buf {
	char *p;
	size_t len, cap;
	int err;
};

static void
buf_grow(struct buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->err || b->len + more + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL) {
		b->err = PD_ENOMEM;
		return;
	}
	b->p = p;
	b->cap = cap;
}

static void
buf_addn(struct buf *b, const char *s, size_t n)
{
	buf_grow(b, n);
	if (b->err)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_add(struct buf *b, const char *s)
{
	buf_addn(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = PD_EINVAL;
		return;
	}
	buf_grow(b, (size_t)n);
	if (b->err)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* HTML text and attribute values: the five specials escaped. */
static void
buf_html(struct buf *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *e = NULL;

		switch (*s) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&#39;"; break;
		}
		if (e == NULL)
			continue;
		buf_addn(b, run, (size_t)(s - run));
		buf_add(b, e);
		run = s + 1;
	}
	buf_add(b, run);
}

/*
 * The archive link of a Message-ID: the pattern's "%s" replaced by the
 * percent-encoded id, "%%" by "%"; nothing else of the pattern is
 * interpreted, so a hostile pattern cannot reach printf.  Written
 * HTML-escaped, for an href attribute.
 */
static void
buf_archive_url(struct buf *b, const char *pattern, const char *msgid)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf u = { 0 };
	const char *p;

	for (p = pattern; *p; p++) {
		if (p[0] == '%' && p[1] == 's') {
			for (const unsigned char *m = (const unsigned char *)msgid; *m; m++) {
				if ((*m >= 'a' && *m <= 'z') || (*m >= 'A' && *m <= 'Z') ||
				    (*m >= '0' && *m <= '9') || strchr("-._~@+$!=", *m)) {
					buf_addn(&u, (const char *)m, 1);
				} else {
					char enc[3] = { '%', hex[*m >> 4], hex[*m & 15] };

					buf_addn(&u, enc, 3);
				}
			}
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			buf_addn(&u, "%", 1);
			p++;
		} else {
			buf_addn(&u, p, 1);
		}
	}
	if (u.err)
		b->err = u.err;
	else if (u.p != NULL)
		buf_html(b, u.p);
	free(u.p);
}

/* ------------------------------------------------------------------ */
/* What a digest shows, gathered from the store.                       */

struct entry {			/* one counter line */
	char *name;
	uint64_t count;
};

struct block {			/* one shown message */
	char *msgid, *title, *subject, *from, *excerpt;
	int cover;
	uint64_t seq;
	size_t series;		/* index into digest.series */
};

/*
 * In order of their first patch message in the range, then those of only
 * replies in order of their first reply: the patch list's order too.
 */
struct series {
	char *id;
	char *first;		/* its first message in the range (patch or cover) */
	int id_stored;		/* the message id names is stored (in the range or before) */
	unsigned messages;	/* patch messages of it in the range */
	char *subject, *author, *project;
	struct pd_series_sub *subs;	/* its parts' subsystems, in order of first use */
	size_t nsubs;
	struct pd_series info;
	int have_info;
};

struct step {			/* what Message-ID leads to: a series, or a parent */
	int stored;		/* 0: the Message-ID is not stored, next is "" */
	char *next;
	struct pd_rec part;	/* its kind; a patch's cx and subsystem */
	int tallied;		/* into its series' tally (replies only) */
};

struct group {			/* one subsystem of the patch list */
	char *name;
	uint64_t count;
	size_t *series;		/* indexes, in arrival order */
	size_t nseries;
};

struct digest {
	const struct pd_conf *conf;
	const struct pd_range *range;
	char *own_project;	/* the rules' default: headings name no project */
	struct entry *domains, *authors;
	size_t ndomains, nauthors;
	struct block *blocks;
	size_t nblocks;
	struct series *series;
	size_t nseries;
	GHashTable *series_idx;	/* series id -> index + 1 */
	GHashTable *up;		/* Message-ID in the range -> series id, or parent */
	char **replies;		/* the parents of the range's replies, in order */
	size_t nreplies;
	struct group *groups;
	size_t ngroups;
	int err;
};

static char *
xstrdup(struct digest *d, const char *s)
{
	char *p = strdup(s ? s : "");

	if (p == NULL)
		d->err = PD_ENOMEM;
	return p;
}

static int
grow(void *arrp, size_t n, size_t size)
{
	void **arr = arrp;
	void *p;

	/* Capacity 8, then doubled whenever n reaches a power of two. */
	if (n != 0 && (n < 8 || (n & (n - 1)) != 0))
		return 0;
	if ((p = realloc(*arr, (n ? n * 2 : 8) * size)) == NULL)
		return PD_ENOMEM;
	*arr = p;
	return 0;
}

struct count_ctx {
	struct entry **arr;
	size_t *n;
};

static int
count_cb(const char *name, uint64_t count, void *arg)
{
	struct count_ctx *c = arg;
	struct entry *e;

	if (count == 0)
		return 0;
	if (grow(c->arr, *c->n, sizeof(**c->arr)) != 0)
		return PD_ENOMEM;
	e = &(*c->arr)[*c->n];
	if ((e->name = strdup(name)) == NULL)
		return PD_ENOMEM;
	e->count = count;
	(*c->n)++;
	return 0;
}

static int
entrycmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return pd_digest_tiecmp(x->name, y->name);
}

static int
load_counter(struct digest *d, pd_store *st, enum pd_counter which, struct entry **arr,
    size_t *n)
{
	struct count_ctx c = { arr, n };
	int rc;

	if ((rc = pd_store_foreach_count(st, d->range, which, count_cb, &c)) != 0)
		return rc;
	if (*n > 1)
		qsort(*arr, *n, sizeof(**arr), entrycmp);
	return 0;
}

/* A range can hold a whole archive: series are found by hash. */
static struct series *
find_series(struct digest *d, const char *id)
{
	gpointer v = g_hash_table_lookup(d->series_idx, id);

	return v ? &d->series[GPOINTER_TO_SIZE(v) - 1] : NULL;
}

/* The series id (rec is its first message), found or added. */
static struct series *
add_series(struct digest *d, const struct pd_rec *rec, const char *id)
{
	struct series *s;

	if ((s = find_series(d, id)) != NULL)
		return s;
	if (grow(&d->series, d->nseries, sizeof(*d->series)) != 0) {
		d->err = PD_ENOMEM;
		return NULL;
	}
	s = &d->series[d->nseries++];
	memset(s, 0, sizeof(*s));
	s->id = xstrdup(d, id);
	s->first = xstrdup(d, rec->msgid);
	s->subject = xstrdup(d, rec->subject);
	s->author = xstrdup(d, rec->author);
	s->project = xstrdup(d, rec->project);
	if (d->err)
		return NULL;
	g_hash_table_insert(d->series_idx, s->id, GSIZE_TO_POINTER(d->nseries));
	return s;
}

/* n messages of subsystem name, patches of them not covers, into s's tally */
static int
tally_merge(struct digest *d, struct series *s, const char *name, unsigned n,
    unsigned patches, int part)
{
	struct pd_series_sub *t;

	for (size_t i = 0; i < s->nsubs; i++)
		if (strcmp(s->subs[i].name, name) == 0) {
			t = &s->subs[i];
			t->n += n;
			t->patches += patches;
			if (part < t->part)
				t->part = part;
			return 0;
		}
	if (grow(&s->subs, s->nsubs, sizeof(*s->subs)) != 0)
		return d->err = PD_ENOMEM;
	t = &s->subs[s->nsubs++];
	t->name = xstrdup(d, name);
	t->n = n;
	t->patches = patches;
	t->part = part;
	return d->err;
}

static int
tally_add(struct digest *d, struct series *s, const struct pd_rec *rec)
{
	return tally_merge(d, s, rec->subsystem ? rec->subsystem : "", 1,
	    rec->kind != PD_KIND_COVER, rec->cx >= 1 ? rec->cx : INT_MAX);
}

/*
 * The subsystem of most of the series' patch messages, skip (NULL for
 * none) aside; a tie goes to the one with the lowest part, not to
 * whichever arrived first.
 */
static const char *
tally_top(const struct series *s, const char *skip)
{
	const struct pd_series_sub *best = NULL;

	for (size_t i = 0; i < s->nsubs; i++) {
		if (skip != NULL && strcasecmp(s->subs[i].name, skip) == 0)
			continue;
		if (best == NULL || s->subs[i].n > best->n ||
		    (s->subs[i].n == best->n && s->subs[i].part < best->part))
			best = &s->subs[i];
	}
	return best ? best->name : "";
}

static int
is_shown(const struct pd_rec *rec)
{
	return rec->kind == PD_KIND_COVER ||
	    (rec->kind == PD_KIND_PATCH && (rec->cx == 1 || rec->cx < 0));
}

static int
is_patch(const struct pd_rec *rec)
{
	return rec->kind == PD_KIND_COVER || rec->kind == PD_KIND_PATCH;
}

static const char *
series_of(const struct pd_rec *rec)
{
	return rec->series && rec->series[0] ? rec->series : rec->msgid;
}

static void
step_free(void *p)
{
	struct step *st = p;

	if (st != NULL) {
		free(st->next);
		free((char *)st->part.subsystem);
	}
	free(st);
}

/*
 * Where a message leads a reply's walk up: to its series, or its parent;
 * rec NULL: nowhere (id is not stored).  Each id once: the range's
 * messages are distinct, and the walk notes only what it did not find.
 */
static void
note_step(struct digest *d, const char *id, const struct pd_rec *rec)
{
	struct step *st;
	const char *next = rec == NULL ? "" : is_patch(rec) ? series_of(rec) :
	    rec->in_reply_to;
	char *key;

	st = calloc(1, sizeof(*st));
	key = strdup(id);
	if (st == NULL || key == NULL || (st->next = strdup(next ? next : "")) == NULL ||
	    (rec != NULL && is_patch(rec) && (st->part.subsystem = strdup(rec->subsystem ?
	    rec->subsystem : "")) == NULL)) {
		step_free(st);
		free(key);
		d->err = PD_ENOMEM;
		return;
	}
	if (rec != NULL) {
		st->stored = 1;
		st->part.kind = rec->kind;
		st->part.cx = rec->cx;
	}
	g_hash_table_insert(d->up, key, st);
}

static int
note_reply(struct digest *d, const struct pd_rec *rec)
{
	if (rec->in_reply_to == NULL || *rec->in_reply_to == '\0')
		return 0;
	if (grow(&d->replies, d->nreplies, sizeof(*d->replies)) != 0)
		return PD_ENOMEM;
	d->replies[d->nreplies++] = xstrdup(d, rec->in_reply_to);
	return d->err;
}

static int
msg_cb(const struct pd_rec *rec, void *arg)
{
	struct digest *d = arg;
	struct series *s;
	struct block *b;
	const char *id;

	note_step(d, rec->msgid, rec);
	if (rec->kind == PD_KIND_REPLY)
		return d->err ? d->err : note_reply(d, rec);
	if (!is_patch(rec))
		return d->err;
	id = series_of(rec);
	if ((s = add_series(d, rec, id)) == NULL || tally_add(d, s, rec) != 0)
		return d->err;
	s->messages++;
	s->id_stored = s->id_stored || strcmp(rec->msgid, s->id) == 0;
	if (!is_shown(rec))
		return 0;
	if (grow(&d->blocks, d->nblocks, sizeof(*d->blocks)) != 0)
		return PD_ENOMEM;
	b = &d->blocks[d->nblocks++];
	memset(b, 0, sizeof(*b));
	b->series = (size_t)(s - d->series);
	b->seq = rec->seq;
	b->cover = rec->kind == PD_KIND_COVER;
	b->msgid = xstrdup(d, rec->msgid);
	/* "[PATCH]" alone: its subject, or the HTML link would have no text */
	b->title = xstrdup(d, *rec->title ? rec->title : rec->subject);
	b->subject = xstrdup(d, rec->subject);
	b->from = xstrdup(d, rec->from && *rec->from ? rec->from : NO_AUTHOR);
	b->excerpt = xstrdup(d, rec->excerpt);
	return d->err;
}

/* Series by their first message in the range; the cover before patch 1. */
static int
blockcmp(const void *a, const void *b)
{
	const struct block *x = a, *y = b;

	if (x->series != y->series)
		return x->series < y->series ? -1 : 1;
	if (x->cover != y->cover)
		return x->cover ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * A cover whose title names no subsystem was filed by its diffstat's
 * majority ("KVM: PPC" for 5 of 22 files): when none of the patches here
 * has that subsystem and most of them share another, theirs says more.
 */
static int
cover_outvoted(const struct series *s, const char *proj)
{
	unsigned all = 0, top = 0;

	if (pd_classify_title_named(s->info.title))
		return 0;
	for (size_t i = 0; i < s->nsubs; i++) {
		/* a patch filed under the project's name has no say */
		if (s->subs[i].patches == 0 || strcasecmp(s->subs[i].name, proj) == 0)
			continue;
		if (strcmp(s->subs[i].name, s->info.subsystem) == 0)
			return 0;
		all += s->subs[i].patches;
		if (s->subs[i].patches > top)
			top = s->subs[i].patches;
	}
	return top * 2 > all;
}

/*
 * The subsystem of a series: its cover letter's, else that of most of its
 * patches here (a series is not filed by whichever patch came first).  A
 * cover or patches filed under their project's name only say that their
 * titles have no "token:": a patch's own subsystem says more.
 */
static const char *
series_subsystem(const struct series *s, const char *proj)
{
	const char *sub = s->have_info && s->info.has_cover && s->info.subsystem &&
	    *s->info.subsystem ? s->info.subsystem : NULL;
	const char *top;

	if (sub != NULL && strcasecmp(sub, proj) != 0 && !cover_outvoted(s, proj))
		return sub;
	if (*(top = tally_top(s, proj)) != '\0')
		return top;
	return sub != NULL ? sub : tally_top(s, NULL);
}

/*
 * The patch-list heading of a series: its subsystem, prefixed by its project
 * unless that is the list's own (the rules' default, SPEC.md 3).
 */
static char *
series_heading(struct digest *d, const struct series *s)
{
	const char *proj = s->have_info && s->info.project ? s->info.project : s->project;
	const char *sub;
	char *h;

	if (proj == NULL)
		proj = "";
	if (*(sub = series_subsystem(s, proj)) == '\0')
		sub = NO_SUBSYSTEM;
	/* "kvmtool", not "kvmtool: kvmtool": a title without a token is filed
	 * under its project's name. */
	if (*proj == '\0' || strcmp(proj, d->own_project) == 0 ||
	    strcasecmp(proj, sub) == 0)
		return xstrdup(d, sub);
	if (asprintf(&h, "%s: %s", proj, sub) == -1) {
		d->err = PD_ENOMEM;
		return NULL;
	}
	return h;
}

static struct group *
find_group(struct digest *d, const char *name)
{
	for (size_t i = 0; i < d->ngroups; i++)
		if (strcmp(d->groups[i].name, name) == 0)
			return &d->groups[i];
	return NULL;
}

static int
groupcmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return pd_digest_tiecmp(x->name, y->name);
}

/*
 * Group the series by subsystem (the series', which its parts may not all
 * share): a heading counts the patch messages of the range in its series.
 */
static int
make_groups(struct digest *d)
{
	for (size_t i = 0; i < d->nseries; i++) {
		char *name = series_heading(d, &d->series[i]);
		struct group *g;

		if (name == NULL)
			return d->err;
		if ((g = find_group(d, name)) != NULL) {
			free(name);
		} else {
			if (grow(&d->groups, d->ngroups, sizeof(*d->groups)) != 0) {
				free(name);
				return PD_ENOMEM;
			}
			g = &d->groups[d->ngroups++];
			memset(g, 0, sizeof(*g));
			g->name = name;
		}
		g->count += d->series[i].messages;
		if (grow(&g->series, g->nseries, sizeof(*g->series)) != 0)
			return PD_ENOMEM;
		g->series[g->nseries++] = i;
	}
	if (d->ngroups > 1)
		qsort(d->groups, d->ngroups, sizeof(*d->groups), groupcmp);
	return 0;
}

static int
step_cb(const struct pd_rec *rec, void *arg)
{
	struct digest *d = arg;

	if (!g_hash_table_contains(d->up, rec->msgid))
		note_step(d, rec->msgid, rec);
	return d->err;
}

/* The step of Message-ID id, looked up in the store the first time. */
static struct step *
lookup_step(struct digest *d, pd_store *st, const char *id)
{
	struct step *s;
	int rc;

	if ((s = g_hash_table_lookup(d->up, id)) != NULL)
		return s;
	if ((rc = pd_store_get_msg(st, id, step_cb, d)) == PD_ENOTFOUND)
		note_step(d, id, NULL);
	else if (rc != 0)
		d->err = rc;
	return d->err ? NULL : g_hash_table_lookup(d->up, id);
}

/*
 * The patch or cover a reply answers: its nearest such ancestor up the
 * In-Reply-To chain (32 steps, as credit.c goes), found in the range or
 * else in the store.  Into *at its Message-ID; NULL when there is none.
 */
static struct step *
answered(struct digest *d, pd_store *st, const char *id, const char **at)
{
	struct step *s = NULL;

	for (int up = 0; up < 32 && id != NULL && *id != '\0'; up++) {
		if ((s = lookup_step(d, st, id)) == NULL)
			return NULL;
		if (is_patch(&s->part)) {
			*at = id;
			return s;
		}
		id = s->next;
	}
	return NULL;
}

/* A series of only replies, added for the first one: (NULL if not stored). */
static struct series *
answered_series(struct digest *d, pd_store *st, const struct step *p, const char *at)
{
	struct pd_series info;
	struct pd_rec rec = { 0 };
	struct series *s;
	int rc;

	if ((s = find_series(d, p->next)) != NULL)
		return s;
	if ((rc = pd_store_series_get(st, p->next, &info)) != 0) {
		if (rc != PD_ENOTFOUND)
			d->err = rc;
		return NULL;
	}
	rec.msgid = at;
	if ((s = add_series(d, &rec, p->next)) == NULL) {
		pd_series_clear(&info);
		return NULL;
	}
	s->info = info;
	s->have_info = 1;
	return s;
}

/*
 * Series with only replies in the range are listed too (SPEC 5: "a
 * message in the range"): their new trailers show there, which a listing
 * of new patches alone would show only as they stood when posted.  They
 * are filed as in the digest of their posting, by all their parts (the
 * series record keeps their subsystems); a record older than that keeps
 * none, and then the parts their replies answer file them.
 */
static int
add_answered(struct digest *d, pd_store *st)
{
	for (size_t i = 0; i < d->nreplies && d->err == 0; i++) {
		const char *at = NULL;
		struct step *p = answered(d, st, d->replies[i], &at);
		struct series *s;

		if (p == NULL || (s = answered_series(d, st, p, at)) == NULL ||
		    s->messages != 0)
			continue;
		if (s->info.nsubs > 0) {
			if (s->nsubs > 0)
				continue;	/* its first reply brought all its parts */
			for (size_t j = 0; j < s->info.nsubs; j++)
				tally_merge(d, s, s->info.subs[j].name, s->info.subs[j].n,
				    s->info.subs[j].patches, s->info.subs[j].part);
		} else if (!p->tallied) {
			p->tallied = 1;
			tally_add(d, s, &p->part);
		}
	}
	return d->err;
}

static int
gather(struct digest *d, pd_store *st)
{
	int rc;

	if ((rc = load_counter(d, st, PD_COUNT_DOMAIN, &d->domains, &d->ndomains)) != 0 ||
	    (rc = load_counter(d, st, PD_COUNT_AUTHOR, &d->authors, &d->nauthors)) != 0)
		return rc;
	if ((rc = pd_store_foreach_msg(st, d->range, msg_cb, d)) != 0)
		return rc;
	if (d->err)
		return d->err;
	for (size_t i = 0; i < d->nseries; i++) {
		struct series *s = &d->series[i];

		rc = pd_store_series_get(st, s->id, &s->info);
		if (rc == 0)
			s->have_info = 1;
		else if (rc != PD_ENOTFOUND)
			return rc;
	}
	if ((rc = add_answered(d, st)) != 0)
		return rc;
	/* a series whose first message here is not its id: is the id's here? */
	for (size_t i = 0; i < d->nseries && d->err == 0; i++) {
		struct series *s = &d->series[i];
		struct step *p;

		if (!s->id_stored && (p = lookup_step(d, st, s->id)) != NULL)
			s->id_stored = p->stored;
	}
	if (d->err)
		return d->err;
	if (d->nblocks > 1)
		qsort(d->blocks, d->nblocks, sizeof(*d->blocks), blockcmp);
	return make_groups(d);
}

static void
free_entries(struct entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

static void
digest_clear(struct digest *d)
{
	free_entries(d->domains, d->ndomains);
	free_entries(d->authors, d->nauthors);
	for (size_t i = 0; i < d->nblocks; i++) {
		struct block *b = &d->blocks[i];

		free(b->msgid);
		free(b->title);
		free(b->subject);
		free(b->from);
		free(b->excerpt);
	}
	free(d->blocks);
	for (size_t i = 0; i < d->nseries; i++) {
		struct series *s = &d->series[i];

		free(s->id);
		free(s->first);
		free(s->subject);
		free(s->author);
		for (size_t j = 0; j < s->nsubs; j++)
			free(s->subs[j].name);
		free(s->subs);
		free(s->project);
		if (s->have_info)
			pd_series_clear(&s->info);
	}
	free(d->series);
	for (size_t i = 0; i < d->nreplies; i++)
		free(d->replies[i]);
	free(d->replies);
	free(d->own_project);
	if (d->series_idx != NULL)
		g_hash_table_destroy(d->series_idx);
	if (d->up != NULL)
		g_hash_table_destroy(d->up);
	for (size_t i = 0; i < d->ngroups; i++) {
		free(d->groups[i].name);
		free(d->groups[i].series);
	}
	free(d->groups);
}

/* ------------------------------------------------------------------ */
/* Shared wording of a patch-list entry.                               */

static const char *
entry_subject(const struct series *s)
{
	return s->have_info && s->info.subject && *s->info.subject ? s->info.subject : s->subject;
}

static const char *
entry_author(const struct series *s)
{
	const char *a = s->have_info && s->info.author && *s->info.author ?
	    s->info.author : s->author;

	return *a ? a : NO_AUTHOR;
}

/* "v2, 3/5 parts, Reviewed-by: 1, supersedes v1" */
static void
entry_details(struct buf *b, const struct series *s)
{
	const struct pd_series *in = &s->info;

	if (!s->have_info) {
		buf_printf(b, "%u patch message%s", s->messages, s->messages == 1 ? "" : "s");
		return;
	}
	buf_printf(b, "v%d, ", in->version > 0 ? in->version : 1);
	if (in->total > 0)
		buf_printf(b, "%u/%d parts%s", in->received, in->total,
		    in->has_cover ? " + cover letter" : "");
	else
		buf_add(b, "single patch");
	buf_printf(b, ", Reviewed-by: %u, Acked-by: %u, Tested-by: %u",
	    in->reviewed, in->acked, in->tested);
	if (in->supersedes != NULL && in->supersedes_version > 0)
		buf_printf(b, ", supersedes v%d", in->supersedes_version);
	if (s->messages == 0)
		buf_add(b, "; replies only");
}

static void
group_heading(struct buf *b, const struct group *g)
{
	buf_printf(b, "%s (%llu patch message%s, %zu series)", g->name,
	    (unsigned long long)g->count, g->count == 1 ? "" : "s", g->nseries);
}

/* ------------------------------------------------------------------ */
/* Plain text.                                                         */

static void
text_top(struct buf *b, const char *heading, const struct entry *e, size_t n,
    const char *sep)
{
	buf_printf(b, "%s\n\n", heading);
	for (size_t i = 0; i < n && i < TOP_N; i++)
		buf_printf(b, "%7llu%s%s\n", (unsigned long long)e[i].count, sep, e[i].name);
	buf_add(b, "\n");
}

static void
text_patch_list(struct buf *b, const struct digest *d)
{
	buf_printf(b, "%s\n\n", HDR_LIST);
	for (size_t i = 0; i < d->ngroups; i++) {
		const struct group *g = &d->groups[i];

		if (i > 0)
			buf_add(b, "\n");
		group_heading(b, g);
		buf_add(b, "\n");
		for (size_t j = 0; j < g->nseries; j++) {
			const struct series *s = &d->series[g->series[j]];

			buf_printf(b, "  %s\n      %s; ", entry_subject(s), entry_author(s));
			entry_details(b, s);
			buf_add(b, "\n");
		}
	}
	buf_add(b, "\n");
}

static void
text_blocks(struct buf *b, const struct digest *d)
{
	buf_printf(b, "%s\n\n", HDR_MSGS);
	for (size_t i = 0; i < d->nblocks; i++) {
		const struct block *k = &d->blocks[i];

		buf_printf(b, "New:  %s\n%s\nAuthor: %s\n\n", k->title, k->subject, k->from);
		/* not through printf: it copies a long string in small pieces */
		if (*k->excerpt) {
			buf_add(b, k->excerpt);
			buf_add(b, "\n");
		}
		buf_printf(b, "\n%s\n\n", DASHES);
	}
}

static void
title_lines(struct buf *b, const struct digest *d)
{
	buf_printf(b, "From %s to %s\n%s mailing list update from %s to %s\n\n",
	    d->range->from, d->range->to, d->conf->list_name, d->range->from, d->range->to);
}

static int
render_text(const struct digest *d, char **out)
{
	struct buf b = { 0 };

	title_lines(&b, d);
	text_top(&b, HDR_DOMAINS, d->domains, d->ndomains, " ");
	text_top(&b, HDR_AUTHORS, d->authors, d->nauthors, "  ");
	text_patch_list(&b, d);
	text_blocks(&b, d);
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*out = b.p;
	return 0;
}

/* ------------------------------------------------------------------ */
/* HTML: the same content; each block and series links to the archive. */

static const char html_style[] =
    "body{font-family:sans-serif;max-width:60em;margin:1em auto;padding:0 1em}"
    "pre{white-space:pre-wrap;font-family:monospace}"
    "table.top td.n{text-align:right;padding-right:1em;font-family:monospace}"
    ".details{color:#555}"
    ".block{border-bottom:1px solid #999;margin-bottom:1.5em}";

/* No archive has a message at an id of ours (one made for none, or too long). */
static int
linkable(const struct digest *d, const char *msgid)
{
	static const char ours[] = ".patchdigest.invalid";
	size_t n = strlen(msgid);

	return d->conf->archive_url != NULL && *d->conf->archive_url != '\0' &&
	    !(n >= sizeof(ours) - 1 && strcmp(msgid + n - (sizeof(ours) - 1), ours) == 0);
}

static void
html_link_open(struct buf *b, const struct digest *d, const char *msgid)
{
	if (!linkable(d, msgid))
		return;
	buf_add(b, "<a href=\"");
	buf_archive_url(b, d->conf->archive_url, msgid);
	buf_add(b, "\">");
}

static void
html_link_close(struct buf *b, const struct digest *d, const char *msgid)
{
	if (linkable(d, msgid))
		buf_add(b, "</a>");
}

/*
 * A series' id is its cover letter's or patch 1's, which may have gone to
 * other lists only (stable trees): then the link goes to its first message
 * here.
 */
static const char *
series_link(const struct series *s)
{
	return s->id_stored || (s->have_info && s->info.has_cover) ? s->id : s->first;
}

static void
html_top(struct buf *b, const char *heading, const struct entry *e, size_t n)
{
	buf_add(b, "<h2>");
	buf_html(b, heading);
	buf_add(b, "</h2>\n<table class=\"top\">\n");
	for (size_t i = 0; i < n && i < TOP_N; i++) {
		buf_printf(b, "<tr><td class=\"n\">%llu</td><td>", (unsigned long long)e[i].count);
		buf_html(b, e[i].name);
		buf_add(b, "</td></tr>\n");
	}
	buf_add(b, "</table>\n");
}

static void
html_patch_list(struct buf *b, const struct digest *d)
{
	buf_add(b, "<h2>");
	buf_html(b, HTML_LIST);
	buf_add(b, "</h2>\n");
	for (size_t i = 0; i < d->ngroups; i++) {
		const struct group *g = &d->groups[i];
		struct buf h = { 0 };

		group_heading(&h, g);
		buf_add(b, "<h3>");
		buf_html(b, h.p ? h.p : "");
		buf_add(b, "</h3>\n<ul>\n");
		if (h.err)
			b->err = h.err;
		free(h.p);
		for (size_t j = 0; j < g->nseries; j++) {
			const struct series *s = &d->series[g->series[j]];
			struct buf det = { 0 };

			buf_add(b, "<li>");
			html_link_open(b, d, series_link(s));
			buf_html(b, entry_subject(s));
			html_link_close(b, d, series_link(s));
			buf_add(b, "<br><span class=\"details\">");
			buf_html(b, entry_author(s));
			buf_add(b, "; ");
			entry_details(&det, s);
			buf_html(b, det.p ? det.p : "");
			if (det.err)
				b->err = det.err;
			free(det.p);
			buf_add(b, "</span></li>\n");
		}
		buf_add(b, "</ul>\n");
	}
}

static void
html_blocks(struct buf *b, const struct digest *d)
{
	buf_add(b, "<h2>");
	buf_html(b, HTML_MSGS);
	buf_add(b, "</h2>\n");
	for (size_t i = 0; i < d->nblocks; i++) {
		const struct block *k = &d->blocks[i];

		buf_add(b, "<div class=\"block\">\n<h3>New: ");
		html_link_open(b, d, k->msgid);
		buf_html(b, k->title);
		html_link_close(b, d, k->msgid);
		buf_add(b, "</h3>\n<p>");
		buf_html(b, k->subject);
		buf_add(b, "<br>Author: ");
		buf_html(b, k->from);
		buf_add(b, "</p>\n<pre>");
		buf_html(b, k->excerpt);
		buf_add(b, "</pre>\n</div>\n");
	}
}

static int
render_html(const struct digest *d, char **out)
{
	struct buf b = { 0 }, t = { 0 };

	buf_add(&b, "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>");
	buf_printf(&t, "%s mailing list update from %s to %s", d->conf->list_name,
	    d->range->from, d->range->to);
	buf_html(&b, t.p ? t.p : "");
	buf_printf(&b, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", html_style);
	buf_html(&b, t.p ? t.p : "");
	buf_printf(&b, "</h1>\n<p>From %s to %s</p>\n", d->range->from, d->range->to);
	if (t.err)
		b.err = t.err;
	free(t.p);
	html_top(&b, HDR_DOMAINS, d->domains, d->ndomains);
	html_top(&b, HDR_AUTHORS, d->authors, d->nauthors);
	html_patch_list(&b, d);
	html_blocks(&b, d);
	buf_add(&b, "</body>\n</html>\n");
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*out = b.p;
	return 0;
}

/*
 * The headings' own project, from the rules the messages were classified
 * by.  A rules file broken since (reported by every program that
 * classifies) must not hold the digest back: the built-in default then.
 */
static int
own_project(struct digest *d)
{
	int rc = pd_classify_own_project(d->conf->subsystem_rules, &d->own_project);

	if (rc != 0 && rc != PD_ENOMEM)
		rc = pd_classify_own_project(NULL, &d->own_project);
	return rc;
}

int
pd_digest_render(pd_store *st, const struct pd_conf *conf, const struct pd_range *r,
    char **text, char **html)
{
	struct digest d = { 0 };
	int rc;

	*text = NULL;
	if (html != NULL)
		*html = NULL;
	if (st == NULL || conf == NULL || r == NULL || conf->list_name == NULL)
		return PD_EINVAL;
	d.conf = conf;
	d.range = r;
	d.series_idx = g_hash_table_new(g_str_hash, g_str_equal);
	d.up = g_hash_table_new_full(g_str_hash, g_str_equal, free, step_free);
	if ((rc = own_project(&d)) != 0 || (rc = gather(&d, st)) != 0)
		goto out;
	if ((rc = render_text(&d, text)) != 0)
		goto out;
	if (html != NULL && (rc = render_html(&d, html)) != 0) {
		free(*text);
		*text = NULL;
	}
out:
	digest_clear(&d);
	return rc;
}
