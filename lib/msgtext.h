/*
 * Internal to lib/msg.c: reading the decoded text of a message (SPEC.md
 * section 2) without GMime: charset conversion to UTF-8 with the spec's
 * fallbacks, the in-body header block, excerpt, trailers, touched files
 * and pull-request fields.  Split out so that it stays testable and short.
 */
#ifndef PATCHDIGEST_MSGTEXT_H
#define PATCHDIGEST_MSGTEXT_H

#include <stddef.h>
#include <glib.h>

/* Cap on files, trailers and references kept per message. */
#define PD_TEXT_MAX_ITEMS	10000

struct pd_text {
	char		*inbody_from;		/* NULL when absent */
	char		*inbody_subject;	/* NULL when absent */
	int		 has_patch;		/* git am would see a patch */
	char		*excerpt;
	GPtrArray	*files;
	GPtrArray	*tr_names;
	GPtrArray	*tr_values;
	GByteArray	*tr_carried;		/* 1: of a commit message carried along */
	const char	*change_id;		/* points into tr_values */
	char		*pull_url;
	char		*pull_base;
	char		*pull_tip;
};

void pd_text_init(struct pd_text *t);
void pd_text_clear(struct pd_text *t);

/*
 * Append raw bytes in charset (iconv name, NULL = undeclared) to out as
 * UTF-8: the declared charset, else windows-1252; NULs dropped, CRLF -> LF.
 */
void pd_text_append_utf8(GString *out, const char *raw, size_t len,
    const char *charset);

/* An unfolded header value, RFC 2047-decoded to UTF-8 (raw 8-bit too). */
char *pd_text_decode_header(const char *s);

/* Control characters (CR, LF, TAB, ...) of a header value become spaces. */
void pd_text_clean_line(char *s);

/*
 * For text the digest shows: control characters become spaces, C1 ones
 * (U+0080-U+009F, two bytes in UTF-8) included, for terminals and HTML
 * take none; with lines set, tab and newline stay.  In place.
 */
void pd_text_clean_shown(char *s, int lines);

/* Runs of spaces become one (display names). */
void pd_text_squeeze(char *s);

/*
 * Read text[0..len) (UTF-8, LF, no NUL) into t.  reply_from is NULL for a
 * patch or cover letter, else the sender's address ("" if none): a reply's
 * trailers are the sender's own, wherever they stand (see read_trailers).
 */
void pd_text_scan(struct pd_text *t, const char *text, size_t len,
    size_t max_excerpt, const char *reply_from);

#endif
