/*
 * The decoded text of a message: UTF-8 conversion, in-body headers,
 * excerpt, trailers, touched files, pull-request fields (SPEC.md 2).
 * Every scan is linear in the text; nothing here calls GMime.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "msgtext.h"

/* Longest trailer token ("Co-developed-by" and friends). */
#define TOKEN_MAX	40
/* Text searched for the pull-request markers. */
#define PULL_SCAN_MAX	(256 * 1024)

void
pd_text_init(struct pd_text *t)
{
	memset(t, 0, sizeof(*t));
	t->files = g_ptr_array_new_with_free_func(g_free);
	t->tr_names = g_ptr_array_new_with_free_func(g_free);
	t->tr_values = g_ptr_array_new_with_free_func(g_free);
	t->tr_carried = g_byte_array_new();
}

void
pd_text_clear(struct pd_text *t)
{
	g_free(t->inbody_from);
	g_free(t->inbody_subject);
	g_free(t->excerpt);
	if (t->files != NULL)
		g_ptr_array_free(t->files, TRUE);
	if (t->tr_names != NULL)
		g_ptr_array_free(t->tr_names, TRUE);
	if (t->tr_values != NULL)
		g_ptr_array_free(t->tr_values, TRUE);
	if (t->tr_carried != NULL)
		g_byte_array_free(t->tr_carried, TRUE);
	g_free(t->pull_url);
	g_free(t->pull_base);
	g_free(t->pull_tip);
	memset(t, 0, sizeof(*t));
}

/* ---- UTF-8 ---- */

/* windows-1252 0x80..0x9f; 0 = undefined there (becomes U+FFFD). */
static const gunichar cp1252_high[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	gunichar c = s[0], cp;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static int
valid_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((l = utf8_seq(p + i, n - i)) == 0)
			return 0;
		i += l;
	}
	return 1;
}

/* Append valid UTF-8, dropping NULs and the CR of CRLF. */
static void
append_clean(GString *out, const char *s, size_t n)
{
	const char *p = s, *end = s + n, *q;

	while (p < end) {
		q = p;
		while (q < end && *q != '\0' && *q != '\r')
			q++;
		g_string_append_len(out, p, (gssize)(q - p));
		if (q == end)
			break;
		/* A lone CR (quoted-printable =0D) ends a line too. */
		if (*q == '\r' && !(q + 1 < end && q[1] == '\n'))
			g_string_append_c(out, '\n');
		p = q + 1;
	}
}

static void
append_cp1252(GString *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;
	gunichar c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (c == 0 || (c == '\r' && i + 1 < n && p[i + 1] == '\n'))
			continue;
		if (c == '\r')
			c = '\n';
		if (c < 0x80) {
			g_string_append_c(out, (char)c);
			continue;
		}
		if (c < 0xa0)
			c = cp1252_high[c - 0x80] ? cp1252_high[c - 0x80] :
			    0xfffd;
		g_string_append_unichar(out, c);
	}
}

/* 1 if cs is one of the NULL-terminated names, in any case. */
static int
charset_in(const char *cs, const char *const *names)
{
	for (size_t i = 0; names[i] != NULL; i++)
		if (g_ascii_strcasecmp(cs, names[i]) == 0)
			return 1;
	return 0;
}

/* Labels of UTF-8, and of ASCII, which UTF-8 contains. */
static const char *const utf8_names[] = { "UTF-8", "UTF8", "US-ASCII", "ASCII",
    "ANSI_X3.4-1968", "us", NULL };

/*
 * Labels that mail clients read as windows-1252 (as the WHATWG Encoding
 * Standard says): text labelled Latin-1 by its sender's client holds
 * windows-1252's quotes and dashes at 0x80-0x9f, where Latin-1 has only
 * control characters.
 */
static const char *const latin1_names[] = { "ISO-8859-1", "ISO8859-1",
    "ISO_8859-1", "ISO_8859-1:1987", "LATIN1", "L1", "CP819", "IBM819",
    "ISO-IR-100", "CSISOLATIN1", NULL };

/*
 * Length of the leading run of s that is ASCII without NUL or CR: text
 * that needs neither validation nor cleaning.  Eight bytes at a time.
 */
static size_t
plain_ascii(const char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
	size_t i = 0;
	uint64_t w, cr;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		cr = w ^ (ones * '\r');
		/* A high bit, a zero byte or a CR byte in the word. */
		if ((w & high) || ((w - ones) & ~w & high) ||
		    ((cr - ones) & ~cr & high))
			break;
	}
	for (; i < n; i++)
		if ((unsigned char)s[i] >= 0x80 || s[i] == '\0' || s[i] == '\r')
			break;
	return i;
}

void
pd_text_append_utf8(GString *out, const char *raw, size_t len,
    const char *charset)
{
	gchar *conv;
	gsize written = 0;
	size_t ascii;

	if (len == 0)
		return;
	/* ASCII is itself in UTF-8 and in the fallback windows-1252. */
	if (charset == NULL || charset_in(charset, utf8_names)) {
		ascii = plain_ascii(raw, len);
		g_string_append_len(out, raw, (gssize)ascii);
		raw += ascii;
		len -= ascii;
		if (len == 0)
			return;
	}
	if (charset != NULL && charset_in(charset, latin1_names)) {
		append_cp1252(out, raw, len);
		return;
	}
	if (charset != NULL && !charset_in(charset, utf8_names)) {
		conv = g_convert(raw, (gssize)len, "UTF-8", charset, NULL,
		    &written, NULL);
		if (conv != NULL) {
			append_clean(out, conv, written);
			g_free(conv);
			return;
		}
	}
	/* Undeclared, UTF-8, or a broken/unknown charset. */
	if (valid_utf8(raw, len))
		append_clean(out, raw, len);
	else
		append_cp1252(out, raw, len);
}

void
pd_text_clean_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

void
pd_text_clean_shown(char *s, int lines)
{
	char *w = s;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == 0xc2 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9f) {
			*w++ = ' ';
			s++;
		} else if ((c < 0x20 && !(lines && (c == '\t' || c == '\n'))) || c == 0x7f)
			*w++ = ' ';
		else
			*w++ = (char)c;
	}
	*w = '\0';
}

void
pd_text_squeeze(char *s)
{
	char *w = s, *start = s;

	for (; *s; s++) {
		if (*s == ' ' && w > start && w[-1] == ' ')
			continue;
		*w++ = *s;
	}
	*w = '\0';
}
/* ---- RFC 2047 ---- */

/* Parses "=?cs?E?text?=" at p: sets its parts, returns its end or NULL. */
static const char *
encoded_word(const char *p, char cs[64], char *enc, const char **txt,
    size_t *txtlen)
{
	const char *q = p + 2, *t;
	size_t n;

	for (n = 0; q[n] != '\0' && q[n] != '?' && !g_ascii_isspace(q[n]); n++)
		if (n >= 63)
			return NULL;
	if (n == 0 || q[n] != '?' || q[n + 1] == '\0' ||
	    strchr("BbQq", q[n + 1]) == NULL || q[n + 2] != '?')
		return NULL;
	memcpy(cs, q, n);
	cs[n] = '\0';
	if ((t = strchr(cs, '*')) != NULL)	/* RFC 2231 language */
		cs[t - cs] = '\0';
	*enc = (char)g_ascii_toupper(q[n + 1]);
	*txt = q + n + 3;
	for (t = *txt; *t != '\0' && *t != '\n'; t++)
		if (t[0] == '?' && t[1] == '=') {
			*txtlen = (size_t)(t - *txt);
			return t + 2;
		}
	return NULL;
}

static void
decode_word(GByteArray *out, char enc, const char *txt, size_t n)
{
	size_t i;
	guint8 c;

	if (enc == 'B') {
		guchar *buf = g_malloc(n * 3 / 4 + 4);
		gint state = 0;
		guint save = 0;
		gsize w = g_base64_decode_step(txt, n, buf, &state, &save);

		g_byte_array_append(out, buf, (guint)w);
		g_free(buf);
		return;
	}
	for (i = 0; i < n; i++) {
		c = (guint8)txt[i];
		if (c == '_')
			c = ' ';
		else if (c == '=' && i + 2 < n && g_ascii_isxdigit(txt[i + 1]) &&
		    g_ascii_isxdigit(txt[i + 2])) {
			c = (guint8)(g_ascii_xdigit_value(txt[i + 1]) * 16 +
			    g_ascii_xdigit_value(txt[i + 2]));
			i += 2;
		}
		g_byte_array_append(out, &c, 1);
	}
}

char *
pd_text_decode_header(const char *s)
{
	GString *out = g_string_sized_new(strlen(s) + 1);
	GByteArray *run = NULL;
	char cs[64], runcs[64] = "", enc;
	const char *p = s, *q, *txt, *e;
	size_t n;

	while (*p != '\0') {
		if (p[0] == '=' && p[1] == '?' &&
		    (e = encoded_word(p, cs, &enc, &txt, &n)) != NULL) {
			/* Adjacent words of one charset are decoded as one run:
			 * a multibyte character may be split between them. */
			if (run == NULL)
				run = g_byte_array_new();
			if (run->len > 0 && g_ascii_strcasecmp(cs, runcs) != 0) {
				pd_text_append_utf8(out, (const char *)run->data,
				    run->len, runcs);
				g_byte_array_set_size(run, 0);
			}
			memcpy(runcs, cs, sizeof(runcs));
			decode_word(run, enc, txt, n);
			/* Whitespace between two encoded words is dropped. */
			for (q = e; *q == ' ' || *q == '\t' || *q == '\n' ||
			    *q == '\r'; q++)
				;
			p = (q[0] == '=' && q[1] == '?' &&
			    encoded_word(q, cs, &enc, &txt, &n) != NULL) ? q : e;
			continue;
		}
		if (run != NULL && run->len > 0) {
			pd_text_append_utf8(out, (const char *)run->data,
			    run->len, runcs);
			g_byte_array_set_size(run, 0);
		}
		for (q = p + 1; *q != '\0' && !(q[0] == '=' && q[1] == '?'); q++)
			;
		pd_text_append_utf8(out, p, (size_t)(q - p), NULL);
		p = q;
	}
	if (run != NULL) {
		if (run->len > 0)
			pd_text_append_utf8(out, (const char *)run->data,
			    run->len, runcs);
		g_byte_array_free(run, TRUE);
	}
	pd_text_clean_shown(out->str, 0);
	return g_strstrip(g_string_free(out, FALSE));
}

/* ---- lines ---- */

struct line {
	const char	*p;	/* start */
	size_t		 n;	/* length without the LF */
	const char	*next;	/* start of the following line */
};

static int
next_line(const char *p, const char *end, struct line *l)
{
	const char *eol;

	if (p >= end)
		return 0;
	eol = memchr(p, '\n', (size_t)(end - p));
	l->p = p;
	l->n = (size_t)((eol ? eol : end) - p);
	l->next = eol ? eol + 1 : end;
	return 1;
}

static int
starts(const struct line *l, const char *prefix)
{
	size_t n = strlen(prefix);

	return l->n >= n && memcmp(l->p, prefix, n) == 0;
}

static int
blank(const struct line *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!g_ascii_isspace(l->p[i]))
			return 0;
	return 1;
}

/* 1 if the line, spaces aside, is s (any case). */
static int
line_is(const struct line *l, const char *s)
{
	const char *p = l->p, *e = l->p + l->n;
	size_t n = strlen(s);

	while (p < e && g_ascii_isspace(*p))
		p++;
	while (e > p && g_ascii_isspace(e[-1]))
		e--;
	return (size_t)(e - p) == n && g_ascii_strncasecmp(p, s, n) == 0;
}

/* A rule of 20 or more underscores alone (Outlook's, Mailman's). */
static int
underscores(const struct line *l)
{
	size_t i;

	for (i = 0; i < l->n && l->p[i] == '_'; i++)
		;
	return i >= 20 && (i == l->n || (i + 1 == l->n && l->p[i] == '\r'));
}

#define FOOTER_MAX	4096	/* how far from the end a list footer begins */

/* Mailman's "<list> mailing list" (2), "<list> mailing list -- <addr>" (3). */
static int
footer_name(const struct line *l)
{
	const char *m = memmem(l->p, l->n, " mailing list", 13);
	size_t rest;

	if (m == NULL)
		return 0;
	rest = l->n - (size_t)(m + 13 - l->p);
	return rest == 0 || (rest == 1 && m[13] == '\r') ||
	    (rest > 4 && memcmp(m + 13, " -- ", 4) == 0);
}

/* Below the name, to the end: a few lines of addresses and links. */
static int
footer_rest(const char *p, const char *end)
{
	struct line l;
	int n = 0;

	for (; next_line(p, end, &l); p = l.next)
		if (!blank(&l) && (++n > 4 || (memchr(l.p, '@', l.n) == NULL &&
		    memmem(l.p, l.n, "://", 3) == NULL)))
			return 0;
	return 1;
}

/*
 * Where the footer a list manager appends begins (Mailman's: a rule of
 * underscores, then "<list> mailing list"), or end.  The author wrote none
 * of it, and after a trailer line it hid the trailer block.
 */
static const char *
list_footer(const char *p, const char *end)
{
	struct line l, n;
	const char *q;

	if (end - p > FOOTER_MAX) {
		/* from a line's start: a rule cut in two is none */
		if ((p = memchr(end - FOOTER_MAX, '\n', FOOTER_MAX)) == NULL)
			return end;
		p++;
	}
	while ((q = memmem(p, (size_t)(end - p), "____________________", 20)) != NULL) {
		while (q > p && q[-1] != '\n')
			q--;
		if (!next_line(q, end, &l))
			break;
		if (underscores(&l) && next_line(l.next, end, &n) &&
		    footer_name(&n) && footer_rest(n.next, end))
			return l.p;
		p = l.next;
	}
	return end;
}

static char *
dup_trim(const char *p, size_t n)
{
	while (n > 0 && g_ascii_isspace(*p))
		p++, n--;
	while (n > 0 && g_ascii_isspace(p[n - 1]))
		n--;
	return g_strndup(p, n);
}

/* ---- in-body header block (like git mailinfo) ---- */

/* 'f', 's', 'd' for an in-body From:/Subject:/Date: line, else 0. */
static int
inbody_header(const struct line *l)
{
	if (l->n >= 5 && g_ascii_strncasecmp(l->p, "From:", 5) == 0)
		return 'f';
	if (l->n >= 8 && g_ascii_strncasecmp(l->p, "Subject:", 8) == 0)
		return 's';
	if (l->n >= 5 && g_ascii_strncasecmp(l->p, "Date:", 5) == 0)
		return 'd';
	return 0;
}

static void
store_inbody(struct pd_text *t, int which, GString *v)
{
	char *s;

	if (which != 'f' && which != 's')
		return;
	s = dup_trim(v->str, v->len);
	pd_text_clean_shown(s, 0);
	if (which == 'f')
		t->inbody_from = s;
	else
		t->inbody_subject = s;
}

/* "From <40 hex> Mon Sep 17 00:00:00 2001", bare or >-escaped. */
static int
format_patch_separator(const struct line *l)
{
	static const char date[] = " Mon Sep 17 00:00:00 2001";
	const char *p = l->p;
	size_t n = l->n, i;

	if (n > 0 && *p == '>')
		p++, n--;
	if (n != 5 + 40 + sizeof(date) - 1 || memcmp(p, "From ", 5) != 0)
		return 0;
	for (i = 5; i < 45; i++)
		if (!g_ascii_isxdigit(p[i]))
			return 0;
	return memcmp(p + 45, date, sizeof(date) - 1) == 0;
}

/* Returns the start of the text after the in-body header block. */
static const char *
read_inbody(struct pd_text *t, const char *text, const char *end)
{
	struct line l;
	const char *p = text;
	GString *v = g_string_new(NULL);
	int which = 0, h, seen = 0;
	size_t colon;

	while (next_line(p, end, &l)) {
		if (l.n == 0) {
			p = l.next;
			if (seen)
				break;
			continue;
		}
		if (seen && (l.p[0] == ' ' || l.p[0] == '\t')) {
			g_string_append_len(v, l.p, (gssize)l.n);
			p = l.next;
			continue;
		}
		if (format_patch_separator(&l)) {
			p = l.next;
			continue;
		}
		h = inbody_header(&l);
		if (h == 0 && !(seen & 2) && l.n > 8 &&
		    memcmp(l.p, "[PATCH]", 7) == 0 && g_ascii_isspace(l.p[7])) {
			/* A "[PATCH] title" line stands for Subject: (git). */
			if (which)
				store_inbody(t, which, v);
			g_string_truncate(v, 0);
			g_string_append_len(v, l.p, (gssize)l.n);
			which = 's';
			seen |= 2;
			p = l.next;
			continue;
		}
		/* A header seen twice ends the block, as in git. */
		if (h == 0 || (h == 'f' && (seen & 1)) ||
		    (h == 's' && (seen & 2)) || (h == 'd' && (seen & 4)))
			break;
		if (which)
			store_inbody(t, which, v);
		g_string_truncate(v, 0);
		colon = h == 's' ? 8 : 5;
		g_string_append_len(v, l.p + colon, (gssize)(l.n - colon));
		which = h;
		seen |= h == 'f' ? 1 : h == 's' ? 2 : 4;
		p = l.next;
	}
	if (which)
		store_inbody(t, which, v);
	g_string_free(v, TRUE);
	return p;
}

/* ---- excerpt ---- */

/* Past numbers joined by dots, two at least ("2.17"); NULL if none. */
static const char *
skip_version(const char *p, const char *e)
{
	int parts = 0;

	while (p < e && g_ascii_isdigit(*p)) {
		while (p < e && g_ascii_isdigit(*p))
			p++;
		parts++;
		if (p + 1 < e && p[0] == '.' && g_ascii_isdigit(p[1]))
			p++;
	}
	return parts >= 2 ? p : NULL;
}

/*
 * The version line git ends a message with: "2.17.1", "1.8.3.1",
 * "2.34.1.400.ga245620fadb-goog", "2.39.2 (Apple Git-143)".
 */
static int
git_version(const struct line *l)
{
	const char *p, *e = l->p + l->n;

	if (e > l->p && e[-1] == '\r')
		e--;
	if ((p = skip_version(l->p, e)) == NULL)
		return 0;
	if (e - p > 2 && p[0] == '.' && p[1] == 'g' && g_ascii_isxdigit(p[2]))
		for (p += 2; p < e && g_ascii_isxdigit(*p); p++)
			;
	if (p < e && *p == '-')
		for (p++; p < e && !g_ascii_isspace(*p); p++)
			;
	if ((size_t)(e - p) > 12 && memcmp(p, " (Apple Git-", 12) == 0 && e[-1] == ')')
		p = e;
	return p == e;
}

/*
 * "-- " whose blank a mail path stripped, before the version line git
 * ends its messages with ("--", "2.17.1", nothing after): the "--" that
 * underlines a heading is followed by other text.
 */
static int
git_signature(const struct line *l, const char *end)
{
	struct line v;
	const char *p;

	if (!line_is(l, "--") || !next_line(l->next, end, &v) || !git_version(&v))
		return 0;
	for (p = v.next; next_line(p, end, &v); p = v.next)
		if (!blank(&v))
			return 0;
	return 1;
}

/* A diff without git's header line (quilt's: "--- x.orig/f", "+++ x/f", "@@"). */
static int
unified_diff(const struct line *l, const char *end)
{
	struct line plus, hunk;

	return starts(l, "--- ") && next_line(l->next, end, &plus) &&
	    starts(&plus, "+++ ") && next_line(plus.next, end, &hunk) &&
	    starts(&hunk, "@@ ");
}

/* "-- ", or git's stripped one: where a signature starts. */
static int
signature_line(const struct line *l, const char *end)
{
	return (l->n == 3 && memcmp(l->p, "-- ", 3) == 0) || git_signature(l, end);
}

static int
cut_line(const struct line *l, const char *end)
{
	return starts(l, "diff --git") || starts(l, "Index: ") ||
	    starts(l, "--- a/") || signature_line(l, end) || unified_diff(l, end);
}

/* Sets t->excerpt; returns where the commit message ends (the cut). */
static const char *
read_excerpt(struct pd_text *t, const char *body, const char *end,
    size_t max)
{
	struct line l;
	const char *p = body, *start = NULL, *last = NULL;
	size_t n;

	while (next_line(p, end, &l)) {
		if (cut_line(&l, end))
			break;
		if (!blank(&l)) {
			if (start == NULL)
				start = l.p;
			last = l.p + l.n;
		}
		p = l.next;
	}
	if (start == NULL) {
		t->excerpt = g_strdup("");
		return p;
	}
	n = (size_t)(last - start);
	if (n > max) {
		const char *nl;

		n = max;
		/* Whole lines if possible, else a whole UTF-8 character. */
		nl = g_strrstr_len(start, (gssize)n, "\n");
		if (nl != NULL && nl > start)
			n = (size_t)(nl - start);
		else
			while (n > 0 && ((unsigned char)start[n] & 0xc0) == 0x80)
				n--;
	}
	t->excerpt = g_strndup(start, n);
	pd_text_clean_shown(t->excerpt, 1);
	return p;
}

/* git's patchbreak(): where git am's commit message ends. */
static int
patchbreak(const struct line *l)
{
	size_t i;

	if (starts(l, "diff -") || starts(l, "Index: "))
		return 1;
	if (l->n < 4 || !starts(l, "---"))
		return 0;
	if (l->p[3] == ' ' && !g_ascii_isspace(l->p[4]))
		return 1;
	for (i = 3; i < l->n; i++)
		if (!g_ascii_isspace(l->p[i]))
			return 0;
	return 1;
}

/* 1 if a patch break is followed by at least one line (git's patch_lines). */
static int
has_patch(const char *p, const char *end)
{
	struct line l;

	for (; next_line(p, end, &l); p = l.next)
		if ((l.n == 3 && memcmp(l.p, "---", 3) == 0) || patchbreak(&l))
			return l.next < end;
	return 0;
}

/* ---- trailers ---- */

static const char *known_trailers[] = {
	"Signed-off-by", "Reviewed-by", "Acked-by", "Tested-by",
	"Reported-by", "Suggested-by", "Co-developed-by", "Fixes", "Link",
	"Cc", "Closes", "Change-Id", "Message-Id", NULL,
};

/* Token length of a "Token: value" line, 0 if it is not one. */
static size_t
trailer_token(const struct line *l)
{
	size_t i;

	if (l->n == 0 || !g_ascii_isalnum(l->p[0]))
		return 0;
	for (i = 1; i < l->n && i <= TOKEN_MAX; i++) {
		if (l->p[i] == ':')
			break;
		if (!g_ascii_isalnum(l->p[i]) && l->p[i] != '-')
			return 0;
	}
	if (i >= l->n || l->p[i] != ':' || i + 1 >= l->n ||
	    (l->p[i + 1] != ' ' && l->p[i + 1] != '\t'))
		return 0;
	return i;
}

/* Canonical spelling of a known token, or NULL. */
static const char *
known_token(const char *p, size_t n)
{
	size_t i;

	for (i = 0; known_trailers[i] != NULL; i++)
		if (strlen(known_trailers[i]) == n &&
		    g_ascii_strncasecmp(p, known_trailers[i], n) == 0)
			return known_trailers[i];
	if (n > 3 && g_ascii_strncasecmp(p + n - 3, "-by", 3) == 0)
		return "";
	return NULL;
}

static void
add_trailer(struct pd_text *t, const struct line *l, size_t tok, guint8 carried)
{
	const char *canon = known_token(l->p, tok);
	char *name, *value;

	if (t->tr_names->len >= PD_TEXT_MAX_ITEMS)
		return;
	/* change-id (b4) keeps its own spelling; Gerrit's is Change-Id. */
	if (canon != NULL && *canon != '\0' &&
	    g_ascii_strcasecmp(canon, "Change-Id") != 0)
		name = g_strdup(canon);
	else
		name = g_strndup(l->p, tok);
	value = dup_trim(l->p + tok + 1, l->n - tok - 1);
	pd_text_clean_line(value);
	g_ptr_array_add(t->tr_names, name);
	g_ptr_array_add(t->tr_values, value);
	g_byte_array_append(t->tr_carried, &carried, 1);
	if (t->change_id == NULL && g_ascii_strcasecmp(name, "Change-Id") == 0)
		t->change_id = value;
}

/* 1 if p[0..n) holds "<addr>", in any case. */
static int
names_address(const char *p, size_t n, const char *addr)
{
	size_t an = strlen(addr);
	const char *e = p + n, *lt;

	if (an == 0)
		return 0;

	while ((lt = memchr(p, '<', (size_t)(e - p))) != NULL) {
		if ((size_t)(e - lt) >= an + 2 && lt[an + 1] == '>' &&
		    g_ascii_strncasecmp(lt + 1, addr, an) == 0)
			return 1;
		p = lt + 1;
	}
	return 0;
}

/*
 * A paragraph is a trailer block if all its lines are "Token: value"
 * (continuation lines aside) and one token is known, or if at least a
 * quarter are and one is a "-by" trailer, the rule git uses.
 */
static void
read_paragraph(struct pd_text *t, const char *p, const char *end,
    const char *carry_from)
{
	struct line l;
	size_t total = 0, tr = 0, tok;
	int known = 0, by = 0, sob = 0;
	const char *q = p, *k;

	while (next_line(q, end, &l)) {
		q = l.next;
		if (l.p[0] == ' ' || l.p[0] == '\t')
			continue;
		total++;
		if ((tok = trailer_token(&l)) == 0)
			continue;
		tr++;
		if ((k = known_token(l.p, tok)) != NULL) {
			known = 1;
			by |= tok > 3 &&
			    g_ascii_strncasecmp(l.p + tok - 3, "-by", 3) == 0;
			sob |= strcmp(k, "Signed-off-by") == 0;
		}
	}
	if (tr == 0 || !known || (tr < total && !(by && tr * 4 >= total)))
		return;
	for (q = p; next_line(q, end, &l); q = l.next)
		if (l.p[0] != ' ' && l.p[0] != '\t' &&
		    (tok = trailer_token(&l)) != 0)
			add_trailer(t, &l, tok, carry_from != NULL && sob &&
			    !names_address(l.p + tok, l.n - tok, carry_from));
}

/*
 * Where Outlook's unquoted copy of the message answered begins: at
 * "-----Original Message-----", or a line of underscores followed by its
 * "From:" line.  Trailers below it are the answered message's, not this
 * reply's.  end if there is none.
 */
static const char *
outlook_original(const char *p, const char *end)
{
	struct line l, n;

	/* most replies hold neither: one fast search, not a walk of lines */
	if (memmem(p, (size_t)(end - p), "-----", 5) == NULL &&
	    memmem(p, (size_t)(end - p), "____________________", 20) == NULL)
		return end;
	for (; next_line(p, end, &l); p = l.next) {
		if (line_is(&l, "-----Original Message-----"))
			return l.p;
		if (underscores(&l) && next_line(l.next, end, &n) && n.n >= 5 &&
		    g_ascii_strncasecmp(n.p, "From:", 5) == 0)
			return l.p;
	}
	return end;
}

/*
 * Trailer blocks of [p, end): paragraphs split by blank, '>' or --- lines.
 * carry_from: the text is a reply with a diff, sent from that address,
 * where a block with a Signed-off-by is the commit message of a patch
 * carried along, except for lines naming the sender ("With this folded
 * in:", then the reviewer's Reviewed-by and Signed-off-by).
 */
static void
read_blocks(struct pd_text *t, const char *p, const char *end,
    const char *carry_from)
{
	struct line l;
	const char *para = NULL;

	while (next_line(p, end, &l)) {
		if (blank(&l) || l.p[0] == '>' ||
		    (l.n == 3 && memcmp(l.p, "---", 3) == 0)) {
			if (para != NULL)
				read_paragraph(t, para, l.p, carry_from);
			para = NULL;
		} else if (para == NULL)
			para = l.p;
		p = l.next;
	}
	if (para != NULL)
		read_paragraph(t, para, end, carry_from);
}

/*
 * An indented "-by" trailer naming the sender's own address: a reply's
 * ("  Acked-by: Me <me@x>"), where an indented one naming someone else
 * may be a quote.
 */
static void
read_indented(struct pd_text *t, const char *p, const char *end,
    const char *from)
{
	struct line l, in;
	size_t tok;

	for (; next_line(p, end, &l); p = l.next) {
		if (l.n == 0 || (l.p[0] != ' ' && l.p[0] != '\t'))
			continue;
		in = l;
		while (in.n > 0 && (in.p[0] == ' ' || in.p[0] == '\t')) {
			in.p++;
			in.n--;
		}
		if ((tok = trailer_token(&in)) > 3 &&
		    g_ascii_strncasecmp(in.p + tok - 3, "-by", 3) == 0 &&
		    known_token(in.p, tok) != NULL &&
		    names_address(in.p + tok, in.n - tok, from))
			add_trailer(t, &in, tok, 0);
	}
}

/* Where a "-- " signature starts in [p, end), else end. */
static const char *
signature(const char *p, const char *end)
{
	struct line l;

	for (; next_line(p, end, &l); p = l.next)
		if (signature_line(&l, end))
			return l.p;
	return end;
}

/*
 * The trailers of a message whose commit message (or reply text) ends at
 * cut.  A reply's own are its sender's: a diff it carries may bring a
 * commit message along (a patch quoted whole, a stable-tree note), whose
 * trailers are marked carried, and a reviewer may give trailers below a
 * fix-up diff.  Without a diff, Outlook's copy of the message answered
 * ends the reply.
 */
static void
read_trailers(struct pd_text *t, const char *body, const char *cut,
    const char *end, const char *reply_from)
{
	const char *own_end;

	if (!t->has_patch)
		cut = outlook_original(body, cut);
	read_blocks(t, body, cut, t->has_patch ? reply_from : NULL);
	if (reply_from == NULL)
		return;
	own_end = cut;
	if (t->has_patch) {
		own_end = outlook_original(cut, signature(cut, end));
		read_blocks(t, cut, own_end, reply_from);
	}
	read_indented(t, body, own_end, reply_from);
}

/* ---- files ---- */

/* Made on the first file: most messages name none in two of the three. */
struct fileset {
	GPtrArray	*list;		/* owns the names */
	GHashTable	*seen;		/* the same names */
};

static void
fileset_add(struct fileset *fs, const char *p, size_t n)
{
	char *s;

	while (n > 0 && g_ascii_isspace(p[n - 1]))
		n--;
	if (n >= 2 && p[0] == '"' && p[n - 1] == '"')
		p++, n -= 2;
	if (n == 0 || (fs->list != NULL && fs->list->len >= PD_TEXT_MAX_ITEMS))
		return;
	if (fs->list == NULL) {
		fs->list = g_ptr_array_new_with_free_func(g_free);
		fs->seen = g_hash_table_new(g_str_hash, g_str_equal);
	}
	s = g_strndup(p, n);
	pd_text_clean_line(s);
	if (g_hash_table_contains(fs->seen, s)) {
		g_free(s);
		return;
	}
	g_hash_table_add(fs->seen, s);
	g_ptr_array_add(fs->list, s);
}

/* "diff --git a/X b/Y": Y (the new name of a rename). */
static void
diff_git(struct fileset *fs, const struct line *l)
{
	const char *p = l->p + 11, *end = l->p + l->n, *b = NULL, *q;

	/* The last " b/" or ' "b/': paths may contain spaces. */
	for (q = p; q + 4 <= end; q++)
		if (q[0] == ' ' && ((q[1] == 'b' && q[2] == '/') ||
		    (q[1] == '"' && q[2] == 'b' && q[3] == '/')))
			b = q + 1;
	if (b == NULL) {
		/* --no-prefix: "diff --git X X", or a rename "X Y". */
		size_t n = (size_t)(end - p), half = n / 2;

		if (n % 2 == 1 && p[half] == ' ' &&
		    memcmp(p, p + half + 1, half) == 0) {
			fileset_add(fs, p, half);
			return;
		}
		for (q = end; q > p && q[-1] != ' '; q--)
			;
		fileset_add(fs, q, (size_t)(end - q));
		return;
	}
	if (*b == '"') {
		b++;
		if (end > b && end[-1] == '"')
			end--;
	}
	/* A mangled "... b/x index 1234..5678": when the a/ path has no
	 * space, the b/ path has none either. */
	if (memchr(p, ' ', (size_t)(b - 1 - p)) == NULL)
		for (q = b; q < end; q++)
			if (*q == ' ' || *q == '\t') {
				end = q;
				break;
			}
	if (end - b > 2)
		fileset_add(fs, b + 2, (size_t)(end - b - 2));
}

/* "+++ b/X\tdate" or "Index: X". */
static void
plus_line(struct fileset *fs, const char *p, const char *end)
{
	const char *tab = memchr(p, '\t', (size_t)(end - p));

	if (tab != NULL)
		end = tab;
	if ((size_t)(end - p) >= 9 && memcmp(p, "/dev/null", 9) == 0)
		return;
	if (end - p > 2 && p[0] == 'b' && p[1] == '/')
		p += 2;
	fileset_add(fs, p, (size_t)(end - p));
}

/* " path | 12 +-" or " path | Bin 0 -> 12 bytes". */
static void
diffstat_line(struct fileset *fs, const struct line *l)
{
	const char *bar, *p, *end = l->p + l->n;

	if (l->n < 5 || l->p[0] != ' ' ||
	    (bar = memchr(l->p, '|', l->n)) == NULL)
		return;
	for (p = bar + 1; p < end && *p == ' '; p++)
		;
	if (p >= end || !(g_ascii_isdigit(*p) ||
	    (end - p >= 3 && memcmp(p, "Bin", 3) == 0)))
		return;
	for (p = l->p; p < bar && *p == ' '; p++)
		;
	if (p < bar)
		fileset_add(fs, p, (size_t)(bar - p));
}

static void
fileset_free(struct fileset *fs)
{
	if (fs->seen != NULL)
		g_hash_table_destroy(fs->seen);
	if (fs->list != NULL)
		g_ptr_array_free(fs->list, TRUE);
}

static void
read_files(struct pd_text *t, const char *text, const char *cut,
    const char *end)
{
	struct fileset git = { 0 }, plus = { 0 }, stat = { 0 }, *use;
	struct line l;
	const char *p = text;

	while (next_line(p, end, &l)) {
		p = l.next;
		if (l.n < 5)
			continue;
		if (l.p[0] == 'd' && starts(&l, "diff --git "))
			diff_git(&git, &l);
		else if (l.p[0] == '+' && starts(&l, "+++ "))
			plus_line(&plus, l.p + 4, l.p + l.n);
		else if (l.p[0] == 'I' && starts(&l, "Index: "))
			plus_line(&plus, l.p + 7, l.p + l.n);
		else if (l.p[0] == ' ' && l.p < cut)
			diffstat_line(&stat, &l);
	}
	use = git.list ? &git : plus.list ? &plus : &stat;
	if (use->list != NULL) {
		/* The names move to t->files; seen only points at them. */
		g_ptr_array_extend_and_steal(t->files, use->list);
		use->list = NULL;
	}
	fileset_free(&git);
	fileset_free(&plus);
	fileset_free(&stat);
}

/* ---- pull requests ---- */

/* The commit id after marker (across line breaks), or NULL. */
static char *
commit_after(const char *text, size_t len, const char *marker)
{
	const char *p = memmem(text, len, marker, strlen(marker)), *end, *q;

	if (p == NULL)
		return NULL;
	end = text + len;
	for (p += strlen(marker); p < end && g_ascii_isspace(*p); p++)
		;
	for (q = p; q < end && g_ascii_isxdigit(*q); q++)
		;
	if (q - p < 7 || q - p > 64)
		return NULL;
	return g_ascii_strdown(p, q - p);
}

static int
url_start(const char *p, const char *end)
{
	static const char *schemes[] = { "git://", "https://", "http://",
	    "ssh://", "git+ssh://", "git@", NULL };
	size_t i, n;

	for (i = 0; schemes[i] != NULL; i++) {
		n = strlen(schemes[i]);
		if ((size_t)(end - p) > n && memcmp(p, schemes[i], n) == 0)
			return 1;
	}
	return 0;
}

static char *
url_at(const char *p, const char *end)
{
	const char *q;

	while (p < end && g_ascii_isspace(*p))
		p++;
	if (!url_start(p, end))
		return NULL;
	for (q = p; q < end && !g_ascii_isspace(*q); q++)
		;
	return g_strndup(p, (gsize)(q - p));
}

static void
read_pull(struct pd_text *t, const char *text, size_t len)
{
	const char *at, *end = text + len, *p;
	struct line l;

	if (len > PULL_SCAN_MAX)
		len = PULL_SCAN_MAX, end = text + len;
	t->pull_base = commit_after(text, len, "changes since commit");
	if (t->pull_base == NULL)
		return;
	t->pull_tip = commit_after(text, len, "fetch changes up to");
	if ((at = memmem(text, len, "repository at:", 14)) != NULL)
		t->pull_url = url_at(at + strlen("repository at:"), end);
	/* Otherwise the first line that starts with a URL. */
	for (p = text; t->pull_url == NULL && next_line(p, end, &l); p = l.next)
		t->pull_url = url_at(l.p, l.p + l.n);
}

/* ---- all of it ---- */

void
pd_text_scan(struct pd_text *t, const char *text, size_t len,
    size_t max_excerpt, const char *reply_from)
{
	const char *end = list_footer(text, text + len), *body, *cut;

	body = read_inbody(t, text, end);
	t->has_patch = has_patch(body, end);
	cut = read_excerpt(t, body, end, max_excerpt);
	read_trailers(t, body, cut, end, reply_from);
	read_files(t, text, cut, end);
	read_pull(t, body, (size_t)(end - body));
	if (t->pull_base == NULL)
		t->pull_base = g_strdup("");
	if (t->pull_tip == NULL)
		t->pull_tip = g_strdup("");
	if (t->pull_url == NULL)
		t->pull_url = g_strdup("");
}
