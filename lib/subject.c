/*
 * The subject grammar of SPEC.md section 2: reply markers, bracket groups,
 * counter/version/flags/tags, title.  Plain C, no GMime, one pass.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "patchdigest/error.h"
#include "patchdigest/msg.h"
#include "patchdigest/subject.h"

/* Longest bracket group read as tokens; longer ones are a single tag. */
#define GROUP_MAX	512
/* Groups without any grammar word and more tokens than this are one tag. */
#define TAG_GROUP_WORDS	3

/* and Chinese mail clients' reply (回复, 答复, 回覆) and forward (转发,
 * 轉寄, 轉發) */
static const char *reply_markers[] = { "re", "fwd", "fw", "aw", "sv",
	"\xe5\x9b\x9e\xe5\xa4\x8d", "\xe7\xad\x94\xe5\xa4\x8d",
	"\xe5\x9b\x9e\xe8\xa6\x86", "\xe8\xbd\xac\xe5\x8f\x91",
	"\xe8\xbd\x89\xe5\xaf\x84", "\xe8\xbd\x89\xe7\x99\xbc", NULL };
/* their full-width colon, U+FF1A */
#define WIDE_COLON	"\xef\xbc\x9a"

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *
skip_space(const char *s)
{
	while (is_space(*s))
		s++;
	return s;
}

/* Length of a reply marker ("Re:", "AW :", "Re[2]:", "回复：") at s, else 0. */
static size_t
reply_marker(const char *s)
{
	size_t i, n;
	const char *p;

	for (i = 0; reply_markers[i] != NULL; i++) {
		n = strlen(reply_markers[i]);
		if (strncasecmp(s, reply_markers[i], n) != 0)
			continue;
		p = s + n;
		if (*p == '[') {	/* Re[2]: */
			p++;
			while (isdigit((unsigned char)*p))
				p++;
			if (*p != ']')
				continue;
			p++;
		}
		while (*p == ' ')
			p++;
		if (*p == ':')
			return (size_t)(p - s) + 1;
		if (strncmp(p, WIDE_COLON, strlen(WIDE_COLON)) == 0)
			return (size_t)(p - s) + strlen(WIDE_COLON);
	}
	return 0;
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 6)
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* "x/N": sets the counter and returns 1. */
static int
parse_counter(const char *t, size_t n, struct pd_subject *out)
{
	const char *slash = memchr(t, '/', n);
	int x, total;

	if (slash == NULL || !all_digits(t, (size_t)(slash - t)) ||
	    !all_digits(slash + 1, n - (size_t)(slash - t) - 1))
		return 0;
	x = atoi(t);
	total = atoi(slash + 1);
	if (x > total)
		total = x;
	out->cx = x;
	out->cn = total;
	return 1;
}

/* "v3" / "V3": sets the version and returns 1. */
static int
parse_version(const char *t, size_t n, struct pd_subject *out)
{
	if (n < 2 || (t[0] != 'v' && t[0] != 'V') || !all_digits(t + 1, n - 1))
		return 0;
	out->version = atoi(t + 1);
	return 1;
}

static int
word_eq(const char *t, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(t, w, n) == 0;
}

static int
add_tag(struct pd_subject *out, const char *t, size_t n)
{
	if (n == 0 || out->ntags >= PD_SUBJECT_MAXTAGS)
		return 0;
	if ((out->tags[out->ntags] = strndup(t, n)) == NULL)
		return PD_ENOMEM;
	out->ntags++;
	return 0;
}

/*
 * One token of a bracket group.  Returns 1 if it was a grammar word
 * (PATCH, RFC, RESEND, PULL, counter, version), 0 if it is a tag, or
 * PD_ENOMEM.  With dry set nothing is recorded: the caller first asks
 * whether a group has any grammar word at all.
 */
static int
token(const char *t, size_t n, struct pd_subject *out, int dry)
{
	struct pd_subject scratch;
	const char *slash;

	if (dry) {
		memset(&scratch, 0, sizeof(scratch));
		out = &scratch;
	}
	if (n >= 5 && strncasecmp(t, "PATCH", 5) == 0 &&
	    (n == 5 || word_eq(t + 5, n - 5, "ES") ||
	    parse_version(t + 5, n - 5, out) || parse_counter(t + 5, n - 5, out))) {
		out->patch = 1;		/* PATCH, PATCHES, PATCHv3, PATCH1/8 */
		return 1;
	}
	/* PATCH-next, PATCH-for-9.1 (QEMU's): the kind word and a tree tag. */
	if (n > 6 && strncasecmp(t, "PATCH-", 6) == 0) {
		out->patch = 1;
		if (!dry && add_tag(out, t + 6, n - 6) != 0)
			return PD_ENOMEM;
		return 1;
	}
	if (n >= 3 && strncasecmp(t, "RFC", 3) == 0 &&
	    (n == 3 || parse_version(t + 3, n - 3, out))) {
		out->flags |= PD_FLAG_RFC;	/* RFC, RFCv2 */
		return 1;
	}
	if (word_eq(t, n, "RESEND") || word_eq(t, n, "REPOST")) {
		out->flags |= PD_FLAG_RESEND;
		return 1;
	}
	if (word_eq(t, n, "PULL")) {
		out->pull = 1;
		return 1;
	}
	if (parse_counter(t, n, out) || parse_version(t, n, out))
		return 1;
	/* RFC/RFT, stable:PATCH, kvmarm:next: read the pieces. */
	if ((slash = memchr(t, '/', n)) != NULL ||
	    (slash = memchr(t, ':', n)) != NULL) {
		size_t left = (size_t)(slash - t);
		int a, b;

		if (left == 0 || left + 1 >= n)
			return dry ? 0 : add_tag(out, t, n);
		if (dry) {
			a = token(t, left, out, 1);
			b = token(slash + 1, n - left - 1, out, 1);
			return a > 0 || b > 0;
		}
		if ((a = token(t, left, out, 0)) < 0 ||
		    (b = token(slash + 1, n - left - 1, out, 0)) < 0)
			return PD_ENOMEM;
		return a || b;
	}
	return dry ? 0 : add_tag(out, t, n);
}

/* Where word ends if it is the next token after g[i] (blanks between), else 0. */
static size_t
followed_by(const char *g, size_t i, size_t n, const char *word)
{
	size_t w = strlen(word);

	while (i < n && is_space(g[i]))
		i++;
	if (i + w <= n && strncasecmp(g + i, word, w) == 0 &&
	    (i + w == n || !isalnum((unsigned char)g[i + w])))
		return i + w;
	return 0;
}

/*
 * Mercurial's counter "1 of 2", read from its first number at g[start, i):
 * the counter's "x/N" into buf and where it ends, else 0.
 */
static size_t
hg_counter(const char *g, size_t start, size_t i, size_t n, char buf[16])
{
	size_t j, k;

	if (!all_digits(g + start, i - start) || (j = followed_by(g, i, n, "of")) == 0)
		return 0;
	while (j < n && is_space(g[j]))
		j++;
	for (k = j; k < n && isdigit((unsigned char)g[k]); k++)
		;
	if (!all_digits(g + j, k - j) || (k < n && isalnum((unsigned char)g[k])))
		return 0;
	/* all_digits: at most 6 digits each */
	memcpy(buf, g + start, i - start);
	buf[i - start] = '/';
	memcpy(buf + i - start + 1, g + j, k - j);
	buf[i - start + 1 + k - j] = '\0';
	return k;
}

/* Call fn on every token of g[0..n): separators are space, comma, parens. */
static int
each_token(const char *g, size_t n, struct pd_subject *out, int dry,
    int *words, size_t *ntok)
{
	size_t i = 0, start, end;
	int r, git = 0;
	char hg[16];

	*words = 0;
	*ntok = 0;
	while (i < n) {
		while (i < n && (is_space(g[i]) || g[i] == ',' || g[i] == '(' ||
		    g[i] == ')'))
			i++;
		start = i;
		while (i < n && !(is_space(g[i]) || g[i] == ',' || g[i] == '(' ||
		    g[i] == ')'))
			i++;
		if (i == start)
			break;
		(*ntok)++;
		if ((end = hg_counter(g, start, i, n, hg)) != 0) {
			if ((r = token(hg, strlen(hg), out, dry)) < 0)
				return r;
			*words += r;
			i = end;
			continue;
		}
		/* "GIT PULL": GIT is part of the kind word, not a tag. */
		if (word_eq(g + start, i - start, "GIT") && followed_by(g, i, n, "PULL")) {
			git = 1;
			continue;
		}
		/* "pull request" is one phrase: netdev's "[PATCH net 0/3][pull
		 * request]" is a patch posting that asks for a pull too. */
		if (word_eq(g + start, i - start, "PULL") &&
		    (end = followed_by(g, i, n, "REQUEST")) != 0) {
			if (!dry)
				out->pull = out->pull_request = 1;
			(*words)++;
			i = end;
			continue;
		}
		if ((r = token(g + start, i - start, out, dry)) < 0)
			return r;
		*words += r;
	}
	*words += git;
	return 0;
}

static int
parse_group(const char *g, size_t n, struct pd_subject *out)
{
	int words, r;
	size_t ntok;

	if (n > GROUP_MAX)
		return add_tag(out, g, n);
	if ((r = each_token(g, n, out, 1, &words, &ntok)) < 0)
		return r;
	if (words == 0 && ntok > TAG_GROUP_WORDS) {
		/* [Question about KVM on arm64]: a label, keep it whole. */
		while (n > 0 && is_space(*g))
			g++, n--;
		while (n > 0 && is_space(g[n - 1]))
			n--;
		return add_tag(out, g, n);
	}
	return each_token(g, n, out, 0, &words, &ntok);
}

/*
 * s without its outer blanks and with each run of blanks inside made one
 * space, as git mailinfo and b4 give a title: a mailer that folds after a
 * blank leaves two ("wait(),  not in arch hook"), and a new version's title
 * is matched with the old one's.
 */
static char *
title_dup(const char *s)
{
	char *t, *q;

	s = skip_space(s);
	if ((t = q = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	while (*s != '\0') {
		if (!is_space(*s)) {
			*q++ = *s++;
			continue;
		}
		s = skip_space(s);
		if (*s != '\0')
			*q++ = ' ';
	}
	*q = '\0';
	return t;
}

int
pd_subject_parse(const char *subject, struct pd_subject *out)
{
	const char *s = subject ? subject : "", *end, *first = NULL, *last = NULL;
	size_t n;
	int r, keyword = 0;

	memset(out, 0, sizeof(*out));
	out->cx = out->cn = -1;
	out->version = 1;
	for (;;) {
		/* Stray colons too, as git does ("Subject:: title"). */
		while (is_space(*s) || *s == ':')
			s++;
		if ((n = reply_marker(s)) != 0) {
			/* After a [PATCH] group "Re:" belongs to the title. */
			if (keyword)
				break;
			out->reply = 1;
			s += n;
			continue;
		}
		if (*s != '[' || (end = strchr(s, ']')) == NULL)
			break;
		if ((r = parse_group(s + 1, (size_t)(end - s - 1), out)) < 0)
			goto fail;
		keyword = out->patch || out->pull || out->flags || out->cx >= 0;
		if (first == NULL)
			first = s;
		last = end + 1;
		s = end + 1;
	}
	if (first != NULL)
		out->prefix = strndup(first, (size_t)(last - first));
	else
		out->prefix = strdup("");
	out->title = title_dup(s);
	if (out->prefix == NULL || out->title == NULL)
		goto fail;
	return 0;
fail:
	pd_subject_clear(out);
	return PD_ENOMEM;
}

void
pd_subject_clear(struct pd_subject *s)
{
	size_t i;

	for (i = 0; i < s->ntags; i++)
		free(s->tags[i]);
	free(s->prefix);
	free(s->title);
	memset(s, 0, sizeof(*s));
	s->cx = s->cn = -1;
	s->version = 1;
}

int
pd_subject_kind(const struct pd_subject *s)
{
	if (s->reply)
		return PD_KIND_REPLY;
	if (s->pull && !(s->pull_request && s->patch))
		return PD_KIND_PULL;
	if (s->patch && s->cx == 0)
		return PD_KIND_COVER;
	if (s->patch)
		return PD_KIND_PATCH;
	return PD_KIND_OTHER;
}
