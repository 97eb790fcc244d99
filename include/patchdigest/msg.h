/*
 * One parsed list message (GMime 3 underneath).  SPEC.md section 2.
 * All strings are UTF-8, NUL-terminated, owned by the pd_msg and valid until
 * pd_msg_free().  Optional fields are "" (never NULL) when absent.
 */
#ifndef PATCHDIGEST_MSG_H
#define PATCHDIGEST_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum pd_kind {
	PD_KIND_OTHER = 0,
	PD_KIND_REPLY,
	PD_KIND_PULL,
	PD_KIND_COVER,
	PD_KIND_PATCH,
};

/* Subject flags. */
#define PD_FLAG_RFC	0x01
#define PD_FLAG_RESEND	0x02

typedef struct pd_msg pd_msg;

struct pd_parse_opts {
	size_t max_excerpt;	/* bytes of commit message kept; 0 = default (64 KiB) */
	size_t max_body;	/* bytes of decoded text scanned; 0 = default (8 MiB) */
};

/* Call once per process before the first parse (g_mime_init); idempotent. */
void pd_msg_init(void);
void pd_msg_shutdown(void);

/*
 * The largest message parsed (GLib's byte arrays count in 32 bits): 1G,
 * MaxMessageSize's limit, and room for what a front end adds to a message
 * it cut (the milter ends a cut header with a line end and a blank line).
 */
#define PD_MSG_MAX	(((size_t)1 << 30) + 4096)

/*
 * Parse raw RFC 5322 bytes (LF or CRLF).  opts may be NULL.
 * Returns 0 and *out, or a negative pd_err (PD_EPARSE when nothing usable,
 * PD_ETOOBIG over PD_MSG_MAX bytes).
 */
int pd_msg_parse(const char *buf, size_t len, const struct pd_parse_opts *opts,
    pd_msg **out);
void pd_msg_free(pd_msg *m);

const char *pd_kind_name(enum pd_kind k);	/* "cover", "patch", ... */

enum pd_kind pd_msg_kind(const pd_msg *m);
/* 1 for cover and patch messages: the only ones counted and shown. */
int pd_msg_is_patch(const pd_msg *m);

const char *pd_msg_subject(const pd_msg *m);	/* unfolded, decoded */
const char *pd_msg_title(const pd_msg *m);	/* reply markers and brackets removed */
int pd_msg_version(const pd_msg *m);		/* 1 by default */
/* counter x/N: returns x and sets *n, or returns -1 (and *n = -1) if none */
int pd_msg_counter(const pd_msg *m, int *n);
unsigned pd_msg_flags(const pd_msg *m);		/* PD_FLAG_* */
size_t pd_msg_ntags(const pd_msg *m);		/* tree/project tags */
const char *pd_msg_tag(const pd_msg *m, size_t i);

const char *pd_msg_author(const pd_msg *m);	/* display string (SPEC 2) */
const char *pd_msg_author_name(const pd_msg *m);
const char *pd_msg_author_email(const pd_msg *m);
const char *pd_msg_domain(const pd_msg *m);	/* lower case */
const char *pd_msg_from(const pd_msg *m);	/* header From as "Name <addr>" */

/*
 * Message-IDs, own and referenced, come without <>.  One longer than
 * PD_ID_MAX bytes is replaced by "<sha1 of it>@long-id.patchdigest.invalid",
 * alike wherever it appears, so that it fits the store's keys and tags and
 * threading still holds.
 */
#define PD_ID_MAX	200
/* The len bytes at id as the parser keeps an id, into out; PD_ETOOBIG if short. */
int pd_msg_fit_id(const char *id, size_t len, char *out, size_t outlen);
const char *pd_msg_id(const pd_msg *m);		/* synthetic key if absent */
int pd_msg_id_synthetic(const pd_msg *m);	/* 1 if the message had no Message-ID */
const char *pd_msg_in_reply_to(const pd_msg *m);	/* without <> */
size_t pd_msg_nrefs(const pd_msg *m);		/* References, oldest first */
const char *pd_msg_ref(const pd_msg *m, size_t i);
const char *pd_msg_list_id(const pd_msg *m);
const char *pd_msg_date_str(const pd_msg *m);	/* Date: header as sent */
time_t pd_msg_date(const pd_msg *m);		/* 0 when unknown */

const char *pd_msg_excerpt(const pd_msg *m);	/* commit message excerpt (SPEC 2) */
size_t pd_msg_nfiles(const pd_msg *m);		/* touched files */
const char *pd_msg_file(const pd_msg *m, size_t i);
size_t pd_msg_ntrailers(const pd_msg *m);
const char *pd_msg_trailer_name(const pd_msg *m, size_t i);
const char *pd_msg_trailer_value(const pd_msg *m, size_t i);
/* 1 if trailer i is of a commit message a reply carries, not the sender's */
int pd_msg_trailer_carried(const pd_msg *m, size_t i);
const char *pd_msg_change_id(const pd_msg *m);	/* change-id: trailer */
const char *pd_msg_pull_url(const pd_msg *m);	/* pull requests */
const char *pd_msg_pull_base(const pd_msg *m);
const char *pd_msg_pull_tip(const pd_msg *m);

/* Short id: first 9 hex digits of SHA-1 of the Message-ID (without <>). */
void pd_short_id(const char *msgid, char out[10]);

#endif
