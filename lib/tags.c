/*
 * The X-Patch-* headers (SPEC.md section 4).
 *
 * Values are built from parsed (UTF-8) fields, so they are cleaned here:
 * control characters become spaces (no CR, LF or NUL can reach a header),
 * runs of white space collapse, the length is bounded, a value holding
 * non-ASCII bytes or a literal "=?" is written as RFC 2047 encoded words,
 * and lines are folded below 78 columns where white space allows: a
 * newline before the space, so that unfolding (RFC 5322 removes only the
 * line break) gives the value back as it was, after the one blank that
 * follows the colon, or that a fold before the first word stands for.
 * The rewriter never parses the message: it copies the raw bytes and only
 * drops header lines whose name starts with "X-Patch-".
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "patchdigest/error.h"
#include "patchdigest/tags.h"

#define FOLD_COL	77	/* a folded line stays below 78 columns */
#define EW_MAX		75	/* RFC 2047: an encoded word is at most 75 chars */
#define EW_HEAD		"=?UTF-8?Q?"
#define EW_TAIL		"?="
#define PD_TAGS_MAXIN	256	/* bytes of one input value kept */

static const char *const tag_names[PD_NTAGS] = {
	"X-Patch-Kind", "X-Patch-Series", "X-Patch-Subsystem", "X-Patch-Project",
};

struct obuf {
	char *p;
	size_t len, cap;
	size_t col;		/* column of the current line */
	int full;
};

static void
ob_putn(struct obuf *o, const char *s, size_t n)
{
	if (o->full || o->len + n >= o->cap) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
	o->col += n;
}

static void
ob_fold(struct obuf *o)
{
	ob_putn(o, "\n ", 2);
	o->col = 1;
}

/*
 * Separator then a word: a space, or a fold if the word would pass
 * FOLD_COL.  The first word takes no space, and a fold only where it then
 * fits (a long Message-ID on a line of its own; one longer stays put).
 */
static void
ob_word(struct obuf *o, const char *w, size_t n, int first)
{
	if (first) {
		if (o->col + n > FOLD_COL && 1 + n <= FOLD_COL)
			ob_fold(o);
	} else if (o->col + 1 + n > FOLD_COL)
		ob_fold(o);
	else
		ob_putn(o, " ", 1);
	ob_putn(o, w, n);
}

/*
 * Copy src into dst: controls and white space become single spaces, leading
 * and trailing space dropped, at most max bytes, never cutting a UTF-8
 * sequence.
 */
static void
clean_value(const char *src, char *dst, size_t max)
{
	size_t n = 0, i, clen;
	int space = 0;
	unsigned char c;

	for (i = 0; src[i] != '\0'; i += clen) {
		c = (unsigned char)src[i];
		clen = 1;
		if (c < 0x20 || c == 0x7f || c == ' ') {
			space = n > 0;
			continue;
		}
		if (c >= 0xc0) {
			clen = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
			if (strnlen(src + i, clen) < clen)
				break;
		}
		if (n + space + clen > max)
			break;
		if (space)
			dst[n++] = ' ';
		space = 0;
		memcpy(dst + n, src + i, clen);
		n += clen;
	}
	dst[n] = '\0';
}

static int
needs_encoding(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

/* Q-encoded form of one byte (RFC 2047 5(3): the safe set for any header). */
static size_t
q_byte(unsigned char c, char out[4])
{
	static const char hex[] = "0123456789ABCDEF";

	if (c == ' ') {
		out[0] = '_';
		return 1;
	}
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("!*+-/", c) != NULL) {
		out[0] = (char)c;
		return 1;
	}
	out[0] = '=';
	out[1] = hex[c >> 4];
	out[2] = hex[c & 15];
	return 3;
}

/*
 * Room for the next encoded word: what is left of the current line, or a
 * whole folded line when less than one 4-byte character would fit.
 */
static size_t
word_room(const struct obuf *o, int first)
{
	size_t used = o->col + (first ? 0 : 1), room;

	room = used < FOLD_COL ? FOLD_COL - used : 0;
	if (room < strlen(EW_HEAD EW_TAIL) + 12)
		room = FOLD_COL - 1;
	return room < EW_MAX ? room : EW_MAX;
}

/* The whole value as encoded words, each a whole number of UTF-8 characters. */
static void
encode_value(struct obuf *o, const char *s)
{
	char word[EW_MAX + 1], q[4];
	size_t wl, room, i, j, clen, cl, hl = strlen(EW_HEAD), tl = strlen(EW_TAIL);
	size_t qlen[4];
	int first = 1;

	i = 0;
	while (s[i] != '\0') {
		room = word_room(o, first);
		memcpy(word, EW_HEAD, hl);
		wl = hl;
		while (s[i] != '\0') {
			unsigned char c = (unsigned char)s[i];

			clen = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
			for (cl = 0, j = 0; j < clen; j++)
				cl += qlen[j] = q_byte((unsigned char)s[i + j], q);
			if (wl + cl + tl > room)
				break;
			for (j = 0; j < clen; j++) {
				q_byte((unsigned char)s[i + j], word + wl);
				wl += qlen[j];
			}
			i += clen;
		}
		if (wl == hl)	/* cannot happen with clean UTF-8; never loop */
			break;
		memcpy(word + wl, EW_TAIL, tl);
		wl += tl;
		ob_word(o, word, wl, first);
		first = 0;
	}
}

static void
plain_value(struct obuf *o, const char *s)
{
	const char *e;
	int first = 1;

	while (*s != '\0') {
		e = strchr(s, ' ');
		if (e == NULL)
			e = s + strlen(s);
		ob_word(o, s, (size_t)(e - s), first);
		first = 0;
		s = *e == ' ' ? e + 1 : e;
	}
}

/* Clean, encode and fold raw into tag i's value; "" when raw is empty. */
static void
set_value(struct pd_tags *t, int i, const char *raw, size_t max)
{
	char clean[PD_TAGS_MAXIN + 1];
	struct obuf o;

	if (max > PD_TAGS_MAXIN)
		max = PD_TAGS_MAXIN;
	/* encoded words can triple the size: shorten until it fits */
	for (;; max = max * 3 / 4) {
		clean_value(raw, clean, max);
		o.p = t->value[i];
		o.cap = sizeof(t->value[i]);
		o.len = 0;
		o.full = 0;
		o.col = strlen(t->name[i]) + 2;
		o.p[0] = '\0';
		if (needs_encoding(clean) || strstr(clean, "=?") != NULL)
			encode_value(&o, clean);
		else
			plain_value(&o, clean);
		if (!o.full)
			return;
	}
}

const char *
pd_tags_blank(const struct pd_tags *t, int i)
{
	/* none at the end of a line: the fold stands for it */
	return t->value[i][0] == '\n' ? "" : " ";
}

int
pd_tags_build(const struct pd_ingest *in, struct pd_tags *out)
{
	char series[PD_TAGS_MAXIN + 64];
	const struct pd_put_result *p;
	int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < PD_NTAGS; i++)
		out->name[i] = tag_names[i];
	if (in == NULL || !in->parsed)
		return PD_EINVAL;
	set_value(out, 0, pd_kind_name(in->kind), 32);

	p = &in->put;
	series[0] = '\0';
	if (p->series[0] != '\0') {
		char id[PD_TAGS_MAXIN + 1];
		int r;

		/* clean first so the id cannot hide a '>' or blanks in its bound */
		clean_value(p->series, id, PD_ID_MAX);
		if (p->cx >= 0 && p->cn >= 0)
			r = snprintf(series, sizeof(series), "<%s> v%d %d/%d", id,
			    p->version > 0 ? p->version : 1, p->cx, p->cn);
		else
			r = snprintf(series, sizeof(series), "<%s> v%d", id,
			    p->version > 0 ? p->version : 1);
		if (r < 0 || (size_t)r >= sizeof(series))
			series[0] = '\0';
	}
	set_value(out, 1, series, PD_TAGS_MAXIN);
	set_value(out, 2, in->cls.subsystem, PD_TAGS_MAXIN);
	set_value(out, 3, in->cls.project, 64);
	return 0;
}

int
pd_tags_is_ours(const char *name)
{
	return name != NULL && strncasecmp(name, "X-Patch-", 8) == 0;
}

struct rw {
	int (*fn)(const void *, size_t, void *);
	void *arg;
	int err;
};

static void
rw_put(struct rw *w, const void *buf, size_t n)
{
	if (w->err == 0 && n > 0 && w->fn(buf, n, w->arg) != 0)
		w->err = PD_EIO;
}

/* Our header lines, with the input's line end (CRLF input gets CRLF). */
static void
put_tags(struct rw *w, const struct pd_tags *t, const char *eol)
{
	const char *v, *nl, *blank;
	int i;

	for (i = 0; i < PD_NTAGS; i++) {
		if (t->name[i] == NULL || t->value[i][0] == '\0')
			continue;
		rw_put(w, t->name[i], strlen(t->name[i]));
		blank = pd_tags_blank(t, i);
		rw_put(w, ":", 1);
		rw_put(w, blank, strlen(blank));
		for (v = t->value[i]; (nl = strchr(v, '\n')) != NULL; v = nl + 1) {
			rw_put(w, v, (size_t)(nl - v));
			rw_put(w, eol, strlen(eol));
		}
		rw_put(w, v, strlen(v));
		rw_put(w, eol, strlen(eol));
	}
}

static size_t
line_end(const char *raw, size_t len, size_t off)
{
	const char *nl = memchr(raw + off, '\n', len - off);

	return nl == NULL ? len : (size_t)(nl - raw) + 1;
}

static int
blank_line(const char *s, size_t n)
{
	return (n == 1 && s[0] == '\n') || (n == 2 && s[0] == '\r' && s[1] == '\n');
}

int
pd_tags_rewrite(const char *raw, size_t len, const struct pd_tags *tags,
    int (*write_fn)(const void *buf, size_t n, void *arg), void *arg)
{
	struct rw w = { write_fn, arg, 0 };
	size_t off = 0, end, keep;
	const char *eol = "\n";
	int dropping = 0;

	/* An mbox "From " line (procmail passes one) must stay the first line. */
	if (len >= 5 && memcmp(raw, "From ", 5) == 0) {
		off = line_end(raw, len, 0);
		rw_put(&w, raw, off);
		/* a From_ line alone, without its newline: tags go below it */
		if (tags != NULL && raw[off - 1] != '\n')
			rw_put(&w, "\n", 1);
	}
	end = line_end(raw, len, off);
	if (end >= off + 2 && raw[end - 1] == '\n' && raw[end - 2] == '\r')
		eol = "\r\n";
	if (tags != NULL)
		put_tags(&w, tags, eol);

	/* Runs of kept lines are written in one call. */
	keep = off;
	while (off < len) {
		end = line_end(raw, len, off);
		if (blank_line(raw + off, end - off))
			break;
		if (raw[off] == ' ' || raw[off] == '\t') {
			if (dropping)
				keep = end;
		} else {
			dropping = end - off >= 8 &&
			    strncasecmp(raw + off, "X-Patch-", 8) == 0;
			if (dropping) {
				rw_put(&w, raw + keep, off - keep);
				keep = end;
			}
		}
		off = end;
	}
	rw_put(&w, raw + keep, len - keep);
	return w.err;
}
