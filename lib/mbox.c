/*
 * Splitting mbox files: a message starts at a "From " line at the start of
 * the file or after a blank line (or anywhere in full asctime form); the
 * blank line before it belongs to the separator.  mboxrd quoting is undone
 * (">From " loses one '>', so does ">>From ").  Memory is bounded by the
 * largest message.
 *
 * A stream that starts (blank lines and a UTF-8 BOM aside) with a header
 * block, header fields up to a blank line with a From:, Subject:, Date: or
 * Message-ID: among them, is one message, read whole: a single message
 * piped in, whose body may hold lines starting "From " and ">From ".  Any
 * other stream is an mbox; what comes before its first From_ line (the
 * tail of a message, in a file cut off at the front, which may start with
 * trailers such as "Signed-off-by:") is a message of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "patchdigest/error.h"
#include "patchdigest/mbox.h"

struct pd_mbox {
	FILE *fp;
	char *line;		/* getline buffer */
	size_t linecap;
	char *msg;		/* the message being assembled */
	size_t len, cap;
	size_t bytes;		/* consumed from fp */
	int prev_blank;		/* the previous line was empty */
	char heldbuf[2];	/* a blank line not yet added to msg */
	size_t held;		/* its length, 0 = none */
	int eof;
	enum { UNSEEN, HEAD, MBOX, SINGLE } kind;	/* HEAD: undecided yet */
	int mailish;		/* the HEAD block has a field every message has */
};

int
pd_mbox_new(FILE *fp, pd_mbox **out)
{
	pd_mbox *mb;

	*out = NULL;
	if (fp == NULL)
		return PD_EINVAL;
	if ((mb = calloc(1, sizeof(*mb))) == NULL)
		return PD_ENOMEM;
	mb->fp = fp;
	mb->prev_blank = 1;
	*out = mb;
	return 0;
}

void
pd_mbox_free(pd_mbox *mb)
{
	if (mb == NULL)
		return;
	free(mb->line);
	free(mb->msg);
	free(mb);
}

int
pd_mbox_eof(const pd_mbox *mb)
{
	return mb ? mb->eof : 0;
}

size_t
pd_mbox_bytes(const pd_mbox *mb)
{
	return mb ? mb->bytes : 0;
}

static int
append(pd_mbox *mb, const char *p, size_t n)
{
	if (mb->len + n + 1 > mb->cap) {
		size_t cap = mb->cap ? mb->cap : 65536;
		char *np;

		while (cap < mb->len + n + 1)
			cap *= 2;
		if ((np = realloc(mb->msg, cap)) == NULL)
			return PD_ENOMEM;
		mb->msg = np;
		mb->cap = cap;
	}
	memcpy(mb->msg + mb->len, p, n);
	mb->len += n;
	mb->msg[mb->len] = '\0';
	return 0;
}

static int
is_blank(const char *l, size_t n)
{
	return n == 0 || (n == 1 && l[0] == '\n') ||
	    (n == 2 && l[0] == '\r' && l[1] == '\n');
}

/*
 * A From_ line in full asctime form ("From addr Www Mmm dd hh:mm:ss yyyy")
 * separates even without a blank line before it: concatenated
 * git format-patch output has none.
 */
static int
is_from_line(const char *l, size_t n)
{
	const char *colon;

	while (n > 0 && (l[n - 1] == '\n' || l[n - 1] == '\r'))
		n--;
	if (n < 30 || memcmp(l, "From ", 5) != 0 || l[5] == ' ')
		return 0;
	for (size_t i = n - 4; i < n; i++)
		if (l[i] < '0' || l[i] > '9')
			return 0;
	if (l[n - 5] != ' ' || (colon = memchr(l, ':', n)) == NULL ||
	    colon < l + 8 || colon + 6 > l + n)
		return 0;
	return colon[3] == ':' && colon[-1] >= '0' && colon[-1] <= '9' &&
	    colon[1] >= '0' && colon[1] <= '9' && colon[4] >= '0' && colon[4] <= '9';
}

/* "Name:" with an RFC 5322 field name: the first line of a message. */
static int
is_field(const char *l, size_t n)
{
	size_t i;

	for (i = 0; i < n && l[i] > ' ' && l[i] < 127 && l[i] != ':'; i++)
		;
	return i > 0 && i < n && l[i] == ':';
}

static int
is_mail_field(const char *l, size_t n)
{
	static const char *names[] = { "From:", "Subject:", "Date:", "Message-ID:" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (n >= strlen(names[i]) && strncasecmp(l, names[i], strlen(names[i])) == 0)
			return 1;
	return 0;
}

/*
 * What the stream is, from its first lines: blank lines before anything
 * are skipped (0), *l and *ln lose a UTF-8 BOM.  A stream that starts with
 * a header field is HEAD until its header block ends (SINGLE) or a line
 * that belongs in no header block comes first (MBOX).
 */
static int
decide(pd_mbox *mb, const char **l, size_t *ln)
{
	if (mb->kind == UNSEEN) {
		if (mb->bytes == *ln && *ln >= 3 && memcmp(*l, "\xef\xbb\xbf", 3) == 0) {
			*l += 3;
			*ln -= 3;
		}
		if (is_blank(*l, *ln))
			return 0;
		if (*ln >= 5 && memcmp(*l, "From ", 5) == 0)
			mb->kind = MBOX;
		else
			mb->kind = is_field(*l, *ln) ? HEAD : MBOX;
	} else if (is_blank(*l, *ln))
		mb->kind = mb->mailish ? SINGLE : MBOX;
	else if (**l != ' ' && **l != '\t' && !is_field(*l, *ln))
		mb->kind = MBOX;
	if (mb->kind == HEAD)
		mb->mailish |= is_mail_field(*l, *ln);
	return 1;
}

/* A message is ready when it has any content beyond white space. */
static int
finish(pd_mbox *mb, const char **buf, size_t *len)
{
	size_t i;

	for (i = 0; i < mb->len; i++)
		if (mb->msg[i] != ' ' && mb->msg[i] != '\t' &&
		    mb->msg[i] != '\r' && mb->msg[i] != '\n')
			break;
	if (i == mb->len)
		return 0;
	*buf = mb->msg;
	*len = mb->len;
	return 1;
}

int
pd_mbox_next(pd_mbox *mb, const char **buf, size_t *len)
{
	ssize_t n;
	int rc;

	if (mb == NULL || buf == NULL || len == NULL)
		return PD_EINVAL;
	mb->len = 0;
	mb->held = 0;
	while (!mb->eof) {
		if ((n = getline(&mb->line, &mb->linecap, mb->fp)) < 0) {
			if (ferror(mb->fp))
				return PD_EIO;
			mb->eof = 1;
			break;
		}
		mb->bytes += (size_t)n;
		const char *l = mb->line;
		size_t ln = (size_t)n;

		if ((mb->kind == UNSEEN || mb->kind == HEAD) && !decide(mb, &l, &ln))
			continue;
		if (mb->kind == SINGLE || mb->kind == HEAD) {
			mb->prev_blank = is_blank(l, ln);
			if ((rc = append(mb, l, ln)) != 0)
				return rc;
			continue;
		}
		if (ln >= 5 && memcmp(l, "From ", 5) == 0 &&
		    (mb->prev_blank || is_from_line(l, ln))) {
			mb->prev_blank = 0;
			if (finish(mb, buf, len))
				return 1;
			mb->len = 0;
			mb->held = 0;
			continue;
		}
		if (mb->held) {		/* the blank line was not a separator */
			if ((rc = append(mb, mb->heldbuf, mb->held)) != 0)
				return rc;
			mb->held = 0;
		}
		mb->prev_blank = is_blank(l, ln);
		if (mb->prev_blank) {
			memcpy(mb->heldbuf, l, ln);
			mb->held = ln;
			continue;
		}
		if (l[0] == '>') {
			size_t q = strspn(l, ">");

			if (ln - q >= 5 && memcmp(l + q, "From ", 5) == 0) {
				l++;
				ln--;
			}
		}
		if ((rc = append(mb, l, ln)) != 0)
			return rc;
	}
	return finish(mb, buf, len);
}

int
pd_mbox_split(const char *buf, size_t len,
    int (*fn)(const char *msg, size_t len, void *arg), void *arg)
{
	FILE *fp;
	pd_mbox *mb = NULL;
	const char *m;
	size_t mlen;
	int rc;

	if (buf == NULL || fn == NULL)
		return PD_EINVAL;
	if (len == 0)
		return 0;
	if ((fp = fmemopen((void *)buf, len, "r")) == NULL)
		return PD_ENOMEM;
	if ((rc = pd_mbox_new(fp, &mb)) == 0) {
		while ((rc = pd_mbox_next(mb, &m, &mlen)) == 1)
			if ((rc = fn(m, mlen, arg)) != 0)
				break;
	}
	pd_mbox_free(mb);
	fclose(fp);
	return rc;
}
