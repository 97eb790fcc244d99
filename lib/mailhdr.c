/*
 * Header fields written by hand rather than by GMime's writer, which made
 * one encoded word of any run of non-ASCII text (92 characters for a
 * 30-letter Cyrillic list name, where RFC 2047 allows 75) and wrote text
 * such as "=?utf-8?q?Fake?=" as it was, for readers to decode.
 *
 * Words that are not printable ASCII, or that contain "=?", become RFC
 * 2047 encoded words of whole UTF-8 characters, at most 75 characters
 * each; adjacent such words are encoded together, blanks included (the
 * blanks between encoded words are not part of the text).  Lines are
 * folded before a blank so as to stay within 78 characters where a word
 * allows (RFC 5322 2.1.1); folding keeps every blank, so unfolding gives
 * the text back.  A display name with specials is quoted, or encoded when
 * it would not fit its line.
 */
#include <string.h>

#include "mailhdr.h"

#define LINE_COLS	78	/* a line's length to stay within */
#define EW_MAX		75	/* an encoded word's length (RFC 2047 2) */
#define EW_TEXT		(EW_MAX - 12)	/* "=?UTF-8?Q?" and "?=" aside */

struct fold {
	GString *out;
	size_t col;
	int words;		/* on the current line, the field name aside */
};

static void
fold_start(struct fold *f, GString *out, const char *name)
{
	f->out = out;
	g_string_append_printf(out, "%s:", name);
	f->col = strlen(name) + 1;
	f->words = 0;
}

/* A word after sep blanks (1 at least), on a new line if it would not fit. */
static void
put(struct fold *f, const char *w, size_t n, size_t sep)
{
	if (sep == 0)
		sep = 1;
	if (f->words > 0 && f->col + sep + n > LINE_COLS) {
		g_string_append_c(f->out, '\n');
		f->col = 0;
		f->words = 0;
	}
	for (size_t i = 0; i < sep; i++)
		g_string_append_c(f->out, ' ');
	g_string_append_len(f->out, w, (gssize)n);
	f->col += sep + n;
	f->words++;
}

/* Written as itself in a Q encoded word, in any part of a header. */
static int
q_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!*+-/", c) != NULL);
}

static size_t
q_len(const char *s, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += q_safe((unsigned char)s[i]) || s[i] == ' ' ? 1 : 3;
	return len;
}

static void
q_append(GString *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ')
			g_string_append_c(w, '_');
		else if (q_safe(c))
			g_string_append_c(w, (char)c);
		else
			g_string_append_printf(w, "=%c%c", hex[c >> 4], hex[c & 15]);
	}
}

/*
 * How many bytes of s[0..n) one encoded word of at most limit characters
 * of encoded text takes: whole characters, one at least.
 */
static size_t
ew_take(const char *s, size_t n, int q, size_t limit)
{
	size_t i = 0, used = 0, max = q ? limit : limit / 4 * 3;

	while (i < n) {
		size_t c = (size_t)g_utf8_skip[(unsigned char)s[i]];

		if (c > n - i)
			c = n - i;
		used += q ? q_len(s + i, c) : c;
		if (i > 0 && used > max)
			break;
		i += c;
	}
	return i;
}

/*
 * s[0..n) as encoded words, the first after sep blanks.  A word fills
 * what is left of its line when that is worth a word; else it starts a
 * line of its own.
 */
static void
put_encoded(struct fold *f, const char *s, size_t n, size_t sep)
{
	/* Q where it is no longer than B: names with a few accents stay legible */
	int q = q_len(s, n) <= (n + 2) / 3 * 4;
	GString *w = g_string_new(NULL);
	size_t room, take;

	while (n > 0) {
		room = f->col + sep + (EW_MAX - EW_TEXT) < LINE_COLS ?
		    LINE_COLS - f->col - sep - (EW_MAX - EW_TEXT) : 0;
		if (room < EW_TEXT / 4 || room > EW_TEXT)
			room = EW_TEXT;
		take = ew_take(s, n, q, room);
		g_string_assign(w, q ? "=?UTF-8?Q?" : "=?UTF-8?B?");
		if (q) {
			q_append(w, s, take);
		} else {
			gchar *b = g_base64_encode((const guchar *)s, take);

			g_string_append(w, b);
			g_free(b);
		}
		g_string_append(w, "?=");
		put(f, w->str, w->len, sep);
		sep = 1;
		s += take;
		n -= take;
	}
	g_string_free(w, TRUE);
}

static int
needs_encoding(const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)w[i] >= 0x80 || (w[i] == '=' && i + 1 < n && w[i + 1] == '?'))
			return 1;
	return 0;
}

/*
 * The words of text, those that need it encoded together with the blanks
 * between them.  The first word goes after one blank: leading blanks of
 * a field's value are not part of it.
 */
static void
put_words(struct fold *f, const char *text)
{
	const char *p = text, *w, *end;
	size_t sep, n;
	int first = 1;

	for (;;) {
		sep = strspn(p, " ");
		w = p + sep;
		if ((n = strcspn(w, " ")) == 0)
			break;
		if (first)
			sep = 1;
		first = 0;
		if (!needs_encoding(w, n)) {
			put(f, w, n, sep);
			p = w + n;
			continue;
		}
		for (end = w + n; ; ) {
			const char *next = end + strspn(end, " ");
			size_t m = strcspn(next, " ");

			if (m == 0 || !needs_encoding(next, m))
				break;
			end = next + m;
		}
		put_encoded(f, w, (size_t)(end - w), sep);
		p = end;
	}
}

void
pd_hdr_text(GString *out, const char *name, const char *text)
{
	struct fold f;

	fold_start(&f, out, name);
	put_words(&f, text ? text : "");
	g_string_append_c(out, '\n');
}

/*
 * RFC 5322 atext and blanks: a display name that may go as it is.  Not
 * '.': a phrase with one is obsolete syntax, which a writer must not make.
 */
static int
phrase_plain(const char *s)
{
	for (; *s; s++)
		if (!g_ascii_isalnum(*s) && strchr(" !#$%&'*+-/=?^_`{|}~", *s) == NULL)
			return 0;
	return 1;
}

void
pd_hdr_named(GString *out, const char *name, const char *phrase, const char *token)
{
	struct fold f;
	GString *qs;

	fold_start(&f, out, name);
	if (phrase != NULL && *phrase != '\0') {
		if (needs_encoding(phrase, strlen(phrase))) {
			put_encoded(&f, phrase, strlen(phrase), 1);
		} else if (phrase_plain(phrase)) {
			put_words(&f, phrase);
		} else {
			qs = g_string_new("\"");
			for (const char *p = phrase; *p; p++) {
				if (*p == '"' || *p == '\\')
					g_string_append_c(qs, '\\');
				g_string_append_c(qs, *p);
			}
			g_string_append_c(qs, '"');
			/*
			 * Too long for its line, as encoded words: readers
			 * (GMime) keep the line break of a folded quoted string.
			 */
			if (f.col + 1 + qs->len > LINE_COLS)
				put_encoded(&f, phrase, strlen(phrase), 1);
			else
				put(&f, qs->str, qs->len, 1);
			g_string_free(qs, TRUE);
		}
	}
	put(&f, token, strlen(token), 1);
	g_string_append_c(out, '\n');
}

void
pd_hdr_list(GString *out, const char *name, char *const *addrs, size_t n)
{
	struct fold f;
	GString *w = g_string_new(NULL);

	fold_start(&f, out, name);
	for (size_t i = 0; i < n; i++) {
		g_string_assign(w, addrs[i]);
		if (i + 1 < n)
			g_string_append_c(w, ',');
		put(&f, w->str, w->len, 1);
	}
	g_string_free(w, TRUE);
	g_string_append_c(out, '\n');
}
