/*
 * One message as the MTA hands it over: header fields one by one, then body
 * chunks.  Everything goes into one buffer in wire form (CRLF), capped at
 * MaxMessageSize: past the cap the bytes are only counted, so a huge message
 * costs at most the cap in memory and is still tagged from its headers.
 * All connections together hold at most BUDGET_MSGS times MaxMessageSize:
 * past that a buffer grows no more beyond FLOOR bytes, and its message is
 * tagged from what it holds, as one over the cap (a header cut short still
 * gets its end).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "patchdigest/error.h"
#include "milter.h"

#define INITIAL_CAP	(64 * 1024)
#define FLOOR		(256 * 1024)
#define BUDGET_MSGS	4

static atomic_size_t buffered;	/* bytes of every connection's buffer */

void
pdm_msg_init(struct pdm_msg *m, size_t max)
{
	memset(m, 0, sizeof(*m));
	m->max = max;
}

void
pdm_msg_reset(struct pdm_msg *m)
{
	size_t max = m->max;

	atomic_fetch_sub(&buffered, m->cap);
	free(m->buf);
	free(m->old);
	if (m->names != NULL)
		g_hash_table_destroy(m->names);
	pdm_msg_init(m, max);
}

/* May the buffer grow to want bytes?  Takes the growth from the budget. */
static int
budget_take(const struct pdm_msg *m, size_t want)
{
	size_t budget = m->max * BUDGET_MSGS, grow = want - m->cap;
	size_t had = atomic_fetch_add(&buffered, grow);

	if (want <= FLOOR || budget / BUDGET_MSGS != m->max || had + grow <= budget)
		return 1;
	atomic_fetch_sub(&buffered, grow);
	return 0;
}

/*
 * Room for n more bytes, never past max (+4 for the line end and blank line
 * that end a truncated header).  Returns how many of the n fit.
 */
static size_t
reserve(struct pdm_msg *m, size_t n)
{
	size_t limit = m->max + 4, want, cap;
	char *nb;

	if (m->len >= limit)
		return 0;
	if (n > limit - m->len)
		n = limit - m->len;
	want = m->len + n;
	if (want <= m->cap)
		return n;
	cap = m->cap ? m->cap : INITIAL_CAP;
	while (cap < want)
		cap = cap > limit / 2 ? limit : cap * 2;
	if (cap > limit)
		cap = limit;
	/* frozen, only the end of the header comes: its few bytes, always */
	if (m->frozen) {
		cap = want;
		atomic_fetch_add(&buffered, cap - m->cap);
	} else if (!budget_take(m, cap)) {
		/* what was cut off must not be followed by later bytes */
		m->truncated = m->frozen = 1;
		return 0;
	}
	if ((nb = realloc(m->buf, cap)) == NULL) {
		atomic_fetch_sub(&buffered, cap - m->cap);
		m->failed = 1;
		return 0;
	}
	m->buf = nb;
	m->cap = cap;
	return n;
}

static void
append(struct pdm_msg *m, const void *p, size_t n, size_t limit)
{
	size_t fit;

	m->total += n;
	if (m->failed || (m->frozen && limit <= m->max))
		return;
	if (m->len + n > limit) {
		m->truncated = 1;
		n = m->len < limit ? limit - m->len : 0;
	}
	fit = reserve(m, n);
	memcpy(m->buf + m->len, p, fit);
	m->len += fit;
}

/* Header values may be folded with LF or CRLF; the buffer uses CRLF. */
static void
append_value(struct pdm_msg *m, const char *v)
{
	const char *p = v;

	while (*p) {
		size_t n = strcspn(p, "\r\n");

		append(m, p, n, m->max);
		p += n;
		if (*p == '\r' && p[1] == '\n')
			p++;
		if (*p) {
			append(m, "\r\n", 2, m->max);
			p++;
		}
	}
}

/*
 * The index of this occurrence among headers of the same name.  By hash: a
 * message may carry any number of distinct X-Patch-* names.
 */
static int
name_index(struct pdm_msg *m, const char *name)
{
	char *key = g_ascii_strdown(name, -1);
	int n;

	if (m->names == NULL)
		m->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	n = GPOINTER_TO_INT(g_hash_table_lookup(m->names, key)) + 1;
	g_hash_table_insert(m->names, key, GINT_TO_POINTER(n));
	return n;
}

static int
remember_old(struct pdm_msg *m, const char *name)
{
	int idx = name_index(m, name);

	if (strlen(name) >= sizeof(m->old[0].name))
		return 0;	/* the MTA limits names; such a header is not ours to edit */
	if (m->nold == m->capold) {
		size_t cap = m->capold ? m->capold * 2 : 4;
		struct pdm_oldtag *o = realloc(m->old, cap * sizeof(*o));

		if (o == NULL)
			return PD_ENOMEM;
		m->old = o;
		m->capold = cap;
	}
	strcpy(m->old[m->nold].name, name);
	m->old[m->nold++].index = idx;
	return 0;
}

int
pdm_msg_header(struct pdm_msg *m, const char *name, const char *value)
{
	if (m->in_body)
		return PD_EINVAL;
	if (pd_tags_is_ours(name) && remember_old(m, name) != 0)
		m->failed = 1;
	append(m, name, strlen(name), m->max);
	append(m, ": ", 2, m->max);
	append_value(m, value);
	append(m, "\r\n", 2, m->max);
	return m->failed ? PD_ENOMEM : 0;
}

static void
end_header(struct pdm_msg *m)
{
	if (m->in_body)
		return;
	m->in_body = 1;
	if (m->len >= 2 && memcmp(m->buf + m->len - 2, "\r\n", 2) != 0)
		append(m, "\r\n", 2, m->max + 4);
	append(m, "\r\n", 2, m->max + 4);
}

int
pdm_msg_body(struct pdm_msg *m, const unsigned char *p, size_t n)
{
	end_header(m);
	append(m, p, n, m->max);
	return m->failed ? PD_ENOMEM : 0;
}

int
pdm_msg_finish(struct pdm_msg *m)
{
	end_header(m);
	return m->failed ? PD_ENOMEM : 0;
}
