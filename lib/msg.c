/*
 * One parsed list message: GMime 3 underneath.  SPEC.md section 2.
 *
 * One GMime parse per message; everything else is a linear scan of the
 * decoded text.  The header block and the body are each read at most a
 * bounded number of bytes (opts), so that huge or hostile input costs
 * bounded time and memory.  GMime is handed only the header fields it must
 * interpret (drop_fields): building objects of the forty-odd others of a
 * list message cost more than the rest of the parse (tests/bench/README.md,
 * "Parser profile").
 */
#include <pthread.h>
#include <string.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "patchdigest/error.h"
#include "patchdigest/msg.h"
#include "patchdigest/subject.h"
#include "msgtext.h"

#define DEFAULT_MAX_EXCERPT	(64 * 1024)
#define DEFAULT_MAX_BODY	(8 * 1024 * 1024)
/* MIME nesting walked when looking for the text part. */
#define MAX_DEPTH		16
/* Parts looked at in total (a multipart with 100,000 children). */
#define MAX_PARTS		256

struct pd_msg {
	enum pd_kind		 kind;
	struct pd_subject	 subj;
	char			*subject;
	char			*title;
	char			*author;
	char			*author_name;
	char			*author_email;
	char			*domain;
	char			*from;
	char			*id;
	int			 id_synthetic;
	char			*in_reply_to;
	GPtrArray		*refs;
	char			*list_id;
	char			*date_str;
	time_t			 date;
	struct pd_text		 text;	/* excerpt, files, trailers, pull */
};

/* Init and shutdown may race with parses in other threads (the milter). */
static pthread_mutex_t msg_init_lock = PTHREAD_MUTEX_INITIALIZER;
static int msg_initialised;
static GMimeParserOptions *msg_popts;

void
pd_msg_init(void)
{
	/* Raw 8-bit header bytes: UTF-8 if valid, else windows-1252. */
	static const char *fallback[] = { "UTF-8", "windows-1252", NULL };

	pthread_mutex_lock(&msg_init_lock);
	if (msg_initialised++)
		goto out;
	g_mime_init();
	msg_popts = g_mime_parser_options_new();
	g_mime_parser_options_set_fallback_charsets(msg_popts, fallback);
	g_mime_parser_options_set_rfc2047_compliance_mode(msg_popts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(msg_popts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(msg_popts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_allow_addresses_without_domain(msg_popts,
	    TRUE);
out:
	pthread_mutex_unlock(&msg_init_lock);
}

void
pd_msg_shutdown(void)
{
	pthread_mutex_lock(&msg_init_lock);
	if (msg_initialised == 0 || --msg_initialised)
		goto out;
	g_mime_parser_options_free(msg_popts);
	msg_popts = NULL;
	g_mime_shutdown();
out:
	pthread_mutex_unlock(&msg_init_lock);
}

void
pd_short_id(const char *msgid, char out[10])
{
	GChecksum *ck;
	const char *hex;
	size_t len;

	if (msgid[0] == '<')
		msgid++;
	len = strlen(msgid);
	if (len > 0 && msgid[len - 1] == '>')
		len--;
	ck = g_checksum_new(G_CHECKSUM_SHA1);
	g_checksum_update(ck, (const guchar *)msgid, len);
	hex = g_checksum_get_string(ck);
	memcpy(out, hex, 9);
	out[9] = '\0';
	g_checksum_free(ck);
}

static const char *kind_names[] = {
	[PD_KIND_OTHER] = "other",
	[PD_KIND_REPLY] = "reply",
	[PD_KIND_PULL] = "pull",
	[PD_KIND_COVER] = "cover",
	[PD_KIND_PATCH] = "patch",
};

const char *
pd_kind_name(enum pd_kind k)
{
	if ((unsigned)k >= G_N_ELEMENTS(kind_names))
		return "other";
	return kind_names[k];
}

/* ---- headers ---- */

/*
 * The fields only we read, never GMime.  When the header block is plain
 * (see take_own), their raw values are taken out of it before GMime
 * parses it: GMime would build an object of each, and decode Subject.
 */
enum { OWN_SUBJECT, OWN_IN_REPLY_TO, OWN_REFERENCES, OWN_LIST_ID,
	OWN_REPLY_TO, OWN_ORIGINAL_FROM, NOWN };

struct own {
	int	 taken;		/* v[] stands for GMime's header list */
	char	*v[NOWN];	/* raw values as GMime keeps them; NULL: absent */
};

struct name {
	const char	*s;
	size_t		 n;
};
#define NAME(s)	{ s, sizeof(s) - 1 }

/* Index of name[0..n) in names, -1 if absent; the length first, cheaply. */
static int
name_index(const struct name *names, int count, const char *name, size_t n)
{
	int i;

	for (i = 0; i < count; i++)
		if (names[i].n == n &&
		    g_ascii_strncasecmp(name, names[i].s, n) == 0)
			return i;
	return -1;
}

static int
own_index(const char *name, size_t n)
{
	static const struct name own_names[NOWN] = { NAME("Subject"),
	    NAME("In-Reply-To"), NAME("References"), NAME("List-Id"),
	    NAME("Reply-To"), NAME("X-Original-From") };

	return name_index(own_names, NOWN, name, n);
}

static void
own_clear(struct own *o)
{
	int i;

	for (i = 0; i < NOWN; i++)
		g_free(o->v[i]);
	memset(o, 0, sizeof(*o));
}

/* The raw value of the first field called name, NULL if absent. */
static const char *
raw_field(GMimeObject *obj, const struct own *o, const char *name)
{
	GMimeHeader *h;
	int i;

	if (o->taken && (i = own_index(name, strlen(name))) >= 0)
		return o->v[i];
	if ((h = g_mime_header_list_get_header(g_mime_object_get_header_list(obj),
	    name)) == NULL)
		return NULL;
	return g_mime_header_get_raw_value(h);
}

/* Unfolded, RFC 2047-decoded, trimmed value of a header; "" if absent. */
static char *
header_text(GMimeObject *obj, const struct own *o, const char *name)
{
	const char *raw = raw_field(obj, o, name);
	char *unfolded, *dec;

	if (raw == NULL)
		return g_strdup("");
	/* Our own decoder: GMime 3.2 drops words of split base64 runs. */
	unfolded = g_mime_utils_header_unfold(raw);
	dec = pd_text_decode_header(unfolded);
	g_free(unfolded);
	return dec;
}

/* Unfolded raw value (for ids and dates, which are ASCII). */
static char *
header_raw(GMimeObject *obj, const struct own *o, const char *name)
{
	const char *raw = raw_field(obj, o, name);

	if (raw == NULL)
		return NULL;
	return g_strstrip(g_mime_utils_header_unfold(raw));
}

/* "Name <addr>" (bare addr when no name); sets *name and *addr. */
static char *
format_address(InternetAddressList *l, char **name, char **addr)
{
	InternetAddress *ia;
	const char *n, *a;
	int i, len;

	*name = *addr = NULL;
	if (l == NULL)
		return NULL;
	len = internet_address_list_length(l);
	for (i = 0; i < len; i++) {
		ia = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			InternetAddressList *m =
			    internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(ia));

			if (internet_address_list_length(m) == 0)
				continue;
			ia = internet_address_list_get_address(m, 0);
			if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
				continue;
		}
		n = internet_address_get_name(ia);
		a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
		*name = g_strstrip(g_strdup(n ? n : ""));
		*addr = g_strstrip(g_strdup(a ? a : ""));
		pd_text_clean_shown(*name, 0);
		pd_text_squeeze(*name);
		pd_text_clean_shown(*addr, 0);
		if (**name == '\0')
			return g_strdup(*addr);
		if (**addr == '\0')
			return g_strdup(*name);
		return g_strdup_printf("%s <%s>", *name, *addr);
	}
	return NULL;
}

/* Parse an address text; falls back to the text itself as the name. */
static char *
address_from_text(const char *text, char **name, char **addr)
{
	InternetAddressList *l;
	char *s;

	l = internet_address_list_parse(msg_popts, text);
	s = format_address(l, name, addr);
	if (l != NULL)
		g_object_unref(l);
	if (s == NULL) {
		*name = g_strdup(text);
		*addr = g_strdup("");
		s = g_strdup(text);
	}
	return s;
}

static char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return g_ascii_strdown(at ? at + 1 : "", -1);
}

/* An id cleaned for one line, stripped, within PD_ID_MAX; takes id. */
static char *
fit_id(char *id)
{
	char *fit;

	pd_text_clean_line(id);
	g_strstrip(id);
	if (strlen(id) <= PD_ID_MAX)
		return id;
	fit = g_compute_checksum_for_string(G_CHECKSUM_SHA1, id, -1);
	g_free(id);
	id = g_strdup_printf("%s@long-id.patchdigest.invalid", fit);
	g_free(fit);
	return id;
}

int
pd_msg_fit_id(const char *id, size_t len, char *out, size_t outlen)
{
	char *fit = fit_id(g_strndup(id, len));
	int rc = g_strlcpy(out, fit, outlen) < outlen ? 0 : PD_ETOOBIG;

	g_free(fit);
	return rc;
}

static char *
first_msgid(const char *text)
{
	GMimeReferences *r;
	char *id = NULL;

	if (text == NULL || *text == '\0')
		return g_strdup("");
	if ((r = g_mime_references_parse(msg_popts, text)) != NULL) {
		if (g_mime_references_length(r) > 0)
			id = g_strdup(g_mime_references_get_message_id(r, 0));
		g_mime_references_free(r);
	}
	return fit_id(id != NULL ? id : g_strdup(""));
}

static void
read_refs(pd_msg *m, const char *text)
{
	GMimeReferences *r;
	int i, n;

	if (text == NULL || (r = g_mime_references_parse(msg_popts, text)) == NULL)
		return;
	n = g_mime_references_length(r);
	for (i = 0; i < n && i < PD_TEXT_MAX_ITEMS; i++) {
		g_ptr_array_add(m->refs,
		    fit_id(g_strdup(g_mime_references_get_message_id(r, i))));
	}
	g_mime_references_free(r);
}

/* List-Id: the id inside <...> ("kvm.vger.kernel.org"), else the text. */
static char *
list_id(const char *v)
{
	const char *lt = strrchr(v, '<'), *gt;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL && gt > lt + 1)
		return g_strndup(lt + 1, (gsize)(gt - lt - 1));
	return g_strdup(v);
}

/*
 * A comment after the address: "<addr> (Name)" names the author, and
 * "Name <addr> (Company)" keeps it, as git and mail readers show them.
 */
static void
comment_name(pd_msg *m, char *v)
{
	char *gt, *open, *close, *name;

	if ((gt = strrchr(v, '>')) != NULL && (open = strchr(gt, '(')) != NULL &&
	    (close = strrchr(open, ')')) != NULL && close > open + 1) {
		close[1] = '\0';
		if (*m->author_name == '\0') {
			*close = '\0';
			name = g_strstrip(g_strdup(open + 1));
		} else
			name = g_strdup_printf("%s %s", m->author_name, open);
		g_free(m->author_name);
		m->author_name = name;
		if (*name != '\0') {
			g_free(m->from);
			m->from = g_strdup_printf("%s <%s>", name,
			    m->author_email);
		}
	}
}

/* Replace an address (as shown, name, address) by another, taken over. */
static void
take_address(char **full, char **name, char **addr, char *nfull, char *nname,
    char *naddr)
{
	g_free(*full);
	g_free(*name);
	g_free(*addr);
	*full = nfull;
	*name = nname;
	*addr = naddr;
}

/*
 * B4 Relay's From: address names the sender: "devnull+jane.example.org@
 * kernel.org" for jane@example.org.
 */
static int
relay_names(const char *from_addr, const char *addr)
{
	const char *plus = strchr(from_addr, '+'), *at = strrchr(from_addr, '@');
	size_t n = strlen(addr);

	if (plus == NULL || at == NULL || at < plus || (size_t)(at - plus - 1) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (g_ascii_tolower(plus[1 + i]) !=
		    g_ascii_tolower(addr[i] == '@' ? '.' : addr[i]))
			return 0;
	return 1;
}

/*
 * Lists that rewrite From: for DMARC ("Jane via Qemu-devel
 * <qemu-devel@nongnu.org>", Google Groups' "'Jane' via kasan-dev") and
 * kernel.org's B4 Relay ("Jane via B4 Relay <devnull+jane.example.org@
 * kernel.org>") keep the sender in X-Original-From:, or in Reply-To: when
 * that is Jane by name, or by the relay's address: patchwork and b4 read
 * it there too.  Any other Reply-To (the list, a team) is not the sender.
 */
static void
unmunge_from(pd_msg *m, GMimeObject *obj, const struct own *o)
{
	static const char *const fields[] = { "X-Original-From", "Reply-To" };
	const char *via = strstr(m->author_name, " via ");
	InternetAddressList *l;
	char *v, *from, *name, *addr, *was;
	size_t n;
	int ok;

	if (via == NULL)
		return;
	was = g_strndup(m->author_name, (gsize)(via - m->author_name));
	if ((n = strlen(was)) > 2 && was[0] == '\'' && was[n - 1] == '\'') {
		memmove(was, was + 1, n - 2);
		was[n - 2] = '\0';
	}
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		if ((v = header_raw(obj, o, fields[i])) == NULL)
			continue;
		l = internet_address_list_parse(msg_popts, v);
		g_free(v);
		from = l != NULL && internet_address_list_length(l) == 1 &&
		    INTERNET_ADDRESS_IS_MAILBOX(internet_address_list_get_address(l, 0)) ?
		    format_address(l, &name, &addr) : NULL;
		if (l != NULL)
			g_object_unref(l);
		if (from == NULL)
			continue;
		ok = *addr != '\0' && g_ascii_strcasecmp(addr, m->author_email) != 0 &&
		    (i == 0 || g_ascii_strcasecmp(name, was) == 0 ||
		    (*name == '\0' && relay_names(m->author_email, addr)));
		if (ok && *name == '\0') {
			g_free(name);
			name = g_strdup(was);
			g_free(from);
			from = *name ? g_strdup_printf("%s <%s>", name, addr) : g_strdup(addr);
		}
		if (ok) {
			take_address(&m->from, &m->author_name, &m->author_email,
			    from, name, addr);
			break;
		}
		g_free(from);
		g_free(name);
		g_free(addr);
	}
	g_free(was);
}

static void
read_headers(pd_msg *m, GMimeMessage *msg, const struct own *o)
{
	GMimeObject *obj = GMIME_OBJECT(msg);
	GDateTime *dt;
	const char *id;
	char *v, *from = NULL;

	m->subject = header_text(obj, o, "Subject");
	m->from = format_address(g_mime_message_get_from(msg),
	    &m->author_name, &m->author_email);
	if (m->from == NULL) {
		g_free(m->author_name);
		g_free(m->author_email);
		from = header_text(obj, o, "From");
		m->from = address_from_text(from, &m->author_name,
		    &m->author_email);
	}
	if (*m->author_email != '\0') {
		if (from == NULL)
			from = header_text(obj, o, "From");
		comment_name(m, from);
	}
	g_free(from);
	unmunge_from(m, obj, o);
	m->author = g_strdup(m->from);

	id = g_mime_message_get_message_id(msg);
	if (id != NULL && *id != '\0') {
		m->id = fit_id(g_strdup(id));
	}
	v = header_raw(obj, o, "In-Reply-To");
	m->in_reply_to = first_msgid(v);
	g_free(v);
	v = header_raw(obj, o, "References");
	read_refs(m, v);
	g_free(v);
	v = header_text(obj, o, "List-Id");
	m->list_id = list_id(v);
	g_free(v);
	m->date_str = header_text(obj, o, "Date");
	if ((dt = g_mime_message_get_date(msg)) != NULL)
		m->date = (time_t)g_date_time_to_unix(dt);
}

/* ---- body ---- */

static int
is_patch_name(const char *name)
{
	return name != NULL && (g_str_has_suffix(name, ".patch") ||
	    g_str_has_suffix(name, ".diff"));
}

/* Decoded bytes of a part through a GMime filter stream, at most max. */
static GByteArray *
filtered_bytes(GMimeDataWrapper *dw, GMimeContentEncoding enc, size_t max)
{
	GMimeStream *src, *fs;
	GByteArray *ba = g_byte_array_new();
	char buf[16384];
	ssize_t n;

	if ((src = g_mime_data_wrapper_get_stream(dw)) == NULL)
		return ba;
	g_mime_stream_reset(src);
	fs = g_mime_stream_filter_new(src);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 ||
	    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *f = g_mime_filter_basic_new(enc, FALSE);

		g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
		g_object_unref(f);
	}
	while (ba->len < max &&
	    (n = g_mime_stream_read(fs, buf, sizeof(buf))) > 0) {
		size_t take = (size_t)n;

		if (take > max - ba->len)
			take = max - ba->len;
		g_byte_array_append(ba, (const guint8 *)buf, (guint)take);
	}
	g_object_unref(fs);
	return ba;
}

/*
 * The raw content of a part in place: the parser keeps it as a window on
 * our input buffer (a GMimeStreamMem substream).  0 if it is elsewhere.
 */
static int
raw_content(GMimeDataWrapper *dw, const char **p, size_t *n)
{
	GMimeStream *src = g_mime_data_wrapper_get_stream(dw);
	GByteArray *buf;
	gint64 start, end;

	if (src == NULL || !GMIME_IS_STREAM_MEM(src) ||
	    (buf = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(src))) ==
	    NULL)
		return 0;
	start = src->bound_start;
	end = src->bound_end;
	if (end < 0 || end > (gint64)buf->len)
		end = buf->len;
	if (start < 0 || start > end)
		return 0;
	*p = (const char *)buf->data + start;
	*n = (size_t)(end - start);
	return 1;
}

/* Base64 or quoted-printable decoded, stopping once max bytes are out. */
static void
decode_content(GMimeContentEncoding enc, const char *in, size_t len,
    size_t max, GByteArray *out)
{
	GMimeEncoding st;
	size_t chunk, old;

	g_mime_encoding_init_decode(&st, enc);
	while (len > 0 && out->len < max) {
		chunk = len < 65536 ? len : 65536;
		old = out->len;
		g_byte_array_set_size(out,
		    (guint)(old + g_mime_encoding_outlen(&st, chunk)));
		g_byte_array_set_size(out, (guint)(old + g_mime_encoding_step(&st,
		    in, chunk, (char *)out->data + old)));
		in += chunk;
		len -= chunk;
	}
	if (out->len > max)
		g_byte_array_set_size(out, (guint)max);
}

/*
 * Decoded (transfer encoding) bytes of a part, at most max: *p points
 * into the message when nothing needs decoding, else into *tmp.
 */
static void
part_bytes(GMimePart *part, size_t max, GByteArray **tmp, const char **p,
    size_t *n)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeContentEncoding enc;
	const char *raw;
	size_t len;

	*tmp = NULL;
	*p = "";
	*n = 0;
	if (dw == NULL)
		return;
	enc = g_mime_data_wrapper_get_encoding(dw);
	if (enc == GMIME_CONTENT_ENCODING_UUENCODE ||
	    !raw_content(dw, &raw, &len)) {
		*tmp = filtered_bytes(dw, enc, max);
	} else if (enc == GMIME_CONTENT_ENCODING_BASE64 ||
	    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE) {
		*tmp = g_byte_array_new();
		decode_content(enc, raw, len, max, *tmp);
	} else {
		*p = raw;
		*n = len < max ? len : max;
		return;
	}
	*p = (const char *)(*tmp)->data;
	*n = (*tmp)->len;
}

static void
append_part(GString *out, GMimePart *part, size_t max)
{
	GByteArray *tmp;
	const char *cs, *p;
	size_t n, old;

	if (out->len >= max)
		return;
	part_bytes(part, max - out->len, &tmp, &p, &n);
	cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part),
	    "charset");
	if (cs != NULL)
		cs = g_mime_charset_iconv_name(cs);
	/* Room for the text at once (GString has no reserve call). */
	old = out->len;
	g_string_set_size(out, old + n + 1);
	g_string_truncate(out, old);
	if (out->len > 0 && out->str[out->len - 1] != '\n')
		g_string_append_c(out, '\n');
	pd_text_append_utf8(out, p, n, cs);
	if (tmp != NULL)
		g_byte_array_free(tmp, TRUE);
}

struct walk {
	GString	*body;		/* first text/plain part */
	GString	*patches;	/* attached *.patch / *.diff text parts */
	int	 have_body;
	int	 nparts;
	size_t	 max;
};

static void
walk(GMimeObject *obj, int depth, struct walk *w)
{
	if (depth > MAX_DEPTH || ++w->nparts > MAX_PARTS)
		return;
	if (GMIME_IS_MULTIPART_SIGNED(obj)) {
		GMimeObject *signed_part = g_mime_multipart_get_part(
		    GMIME_MULTIPART(obj), GMIME_MULTIPART_SIGNED_CONTENT);

		if (signed_part != NULL)
			walk(signed_part, depth + 1, w);
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		int i, n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));

		for (i = 0; i < n && w->nparts < MAX_PARTS; i++)
			walk(g_mime_multipart_get_part(GMIME_MULTIPART(obj), i),
			    depth + 1, w);
		return;
	}
	if (GMIME_IS_PART(obj)) {
		GMimeContentType *ct = g_mime_object_get_content_type(obj);
		const char *fn = g_mime_part_get_filename(GMIME_PART(obj));
		int text = ct == NULL || g_mime_content_type_is_type(ct, "text", "*");
		int plain = ct == NULL ||
		    g_mime_content_type_is_type(ct, "text", "plain");
		int diff = ct != NULL &&
		    (g_mime_content_type_is_type(ct, "text", "x-patch") ||
		    g_mime_content_type_is_type(ct, "text", "x-diff"));

		if (plain && !w->have_body && !is_patch_name(fn)) {
			w->have_body = 1;
			append_part(w->body, GMIME_PART(obj), w->max);
		} else if ((text || g_mime_content_type_is_type(ct,
		    "application", "octet-stream")) &&
		    (diff || is_patch_name(fn))) {
			append_part(w->patches, GMIME_PART(obj), w->max);
		}
	}
}

static char *
synthetic_id(GMimeMessage *msg, const struct own *o, const char *text)
{
	static const char *hdrs[] = { "From", "Date", "Subject" };
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA1);
	char *v, *id;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(hdrs); i++) {
		v = header_raw(GMIME_OBJECT(msg), o, hdrs[i]);
		if (v != NULL)
			g_checksum_update(ck, (const guchar *)v, (gssize)strlen(v));
		g_checksum_update(ck, (const guchar *)"\n", 1);
		g_free(v);
	}
	g_checksum_update(ck, (const guchar *)text, (gssize)strlen(text));
	id = g_strdup_printf("%s@synthetic.patchdigest.invalid",
	    g_checksum_get_string(ck));
	g_checksum_free(ck);
	return id;
}

/*
 * Header fields GMime must see: those read through GMime (read_headers,
 * synthetic_id) and the three of the MIME structure; ours too unless
 * taken out.  GMime turns every field into objects (and parses To/Cc),
 * so a list message's forty-odd Received/DKIM/X-* fields cost more than
 * the rest of the parse.
 */
static int
keep_field(const char *name, size_t n, int taken)
{
	static const struct name keep[] = { NAME("From"), NAME("Date"),
	    NAME("Message-ID"), NAME("Content-Type"),
	    NAME("Content-Transfer-Encoding"), NAME("Content-Disposition") };

	if (own_index(name, n) >= 0)
		return !taken;
	return name_index(keep, G_N_ELEMENTS(keep), name, n) >= 0;
}

/* Length of the field name of "Name:" at p, 0 if the line is not one. */
static size_t
field_name(const char *p, const char *end)
{
	const char *q;

	for (q = p; q < end && *q > ' ' && *q < 0x7f && *q != ':'; q++)
		;
	return q < end && *q == ':' ? (size_t)(q - p) : 0;
}

enum { LINE_KEEP, LINE_DROP, LINE_STOP };

/*
 * What to do with the header line [p, next).  The first field is always
 * kept, so that nothing before it changes meaning for GMime; a line that
 * is neither "Name:" nor a continuation after it stops the filtering
 * (what GMime makes of such lines is left to GMime).
 */
static int
field_line(const char *p, const char *next, int taken, int *seen, int *drop)
{
	size_t n;

	/* The end of the header block for GMime: an empty line, LF or CRLF. */
	if (*p == '\n' || (*p == '\r' && p + 1 < next && p[1] == '\n'))
		return LINE_STOP;
	if (*p == ' ' || *p == '\t')
		return *drop ? LINE_DROP : LINE_KEEP;
	if ((n = field_name(p, next)) == 0)
		return *seen ? LINE_STOP : LINE_KEEP;
	*drop = *seen && !keep_field(p, n, taken);
	*seen = 1;
	return *drop ? LINE_DROP : LINE_KEEP;
}

/*
 * When every line of the header block is a "Name:" field or a
 * continuation, the block ends with an empty LF line and holds no NUL,
 * GMime keeps each field's raw value as the bytes after the colon up to
 * the next field: copy those of our fields (the first of each name) and
 * return 1.  Anything else returns 0 and leaves them to GMime.
 */
static int
take_own(const char *p, const char *end, struct own *o)
{
	const char *start = p, *next, *eol, *from[NOWN] = { 0 }, *to[NOWN];
	int cur = -1, i;
	size_t n;

	if (p == end || field_name(p, end) == 0)
		return 0;
	for (;; p = next) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return 0;
		next = eol + 1;
		if (*p == '\n')
			break;
		if (*p == ' ' || *p == '\t')
			continue;
		if ((n = field_name(p, next)) == 0)
			return 0;
		if (cur >= 0)
			to[cur] = p;
		cur = -1;
		if ((i = own_index(p, n)) >= 0 && from[i] == NULL)
			from[cur = i] = p + n + 1;
	}
	if (cur >= 0)
		to[cur] = p;
	if (memchr(start, '\0', (size_t)(p - start)) != NULL)
		return 0;
	for (i = 0; i < NOWN; i++)
		if (from[i] != NULL)
			o->v[i] = g_strndup(from[i], (gsize)(to[i] - from[i]));
	return o->taken = 1;
}

/* Drop the top-level fields GMime need not see, with their continuations. */
static void
drop_fields(GByteArray *ba, struct own *o)
{
	char *p = (char *)ba->data, *end = p + ba->len, *w = p, *eol, *next;
	int seen = 0, drop = 0, what, taken;

	taken = take_own(p, end, o);
	for (; p < end; p = next) {
		eol = memchr(p, '\n', (size_t)(end - p));
		next = eol ? eol + 1 : end;
		what = field_line(p, next, taken, &seen, &drop);
		if (what == LINE_STOP)
			break;
		if (what == LINE_DROP)
			continue;
		if (w != p)
			memmove(w, p, (size_t)(next - p));
		w += next - p;
	}
	if (w != p) {
		memmove(w, p, (size_t)(end - p));
		g_byte_array_set_size(ba, (guint)(w - (char *)ba->data +
		    (end - p)));
	}
}

/*
 * Mail starts with a header field ("Name:", RFC 5322 2.2), after the mbox
 * "From " line procmail hands its filters.  GMime alone makes a message of
 * a blank line, or of binary data whose first line happens to hold a
 * colon; SPEC.md 4 and 6 want such input passed on unchanged, untagged and
 * uncounted.  Nothing later in the header block is judged: a milter sees
 * header values only up to a NUL, and each front end must count alike.
 */
static int
is_mail(const char *p, const char *end)
{
	const char *eol;

	if (end - p > 5 && memcmp(p, "From ", 5) == 0 &&
	    (eol = memchr(p, '\n', (size_t)(end - p))) != NULL)
		p = eol + 1;
	return field_name(p, end) > 0;
}

/* Copy of buf with CRLF turned into LF: GMime and the scans see LF only. */
static GByteArray *
normalise_input(const char *buf, size_t len)
{
	GByteArray *ba = g_byte_array_sized_new((guint)len + 1);
	const char *p = buf, *end = buf + len, *cr;

	while (p < end && (cr = memchr(p, '\r', (size_t)(end - p))) != NULL) {
		if (cr + 1 < end && cr[1] == '\n') {
			g_byte_array_append(ba, (const guint8 *)p,
			    (guint)(cr - p));
			p = cr + 1;
		} else {
			g_byte_array_append(ba, (const guint8 *)p,
			    (guint)(cr + 1 - p));
			p = cr + 1;
		}
	}
	g_byte_array_append(ba, (const guint8 *)p, (guint)(end - p));
	return ba;
}

static pd_msg *
msg_new(void)
{
	pd_msg *m = g_new0(pd_msg, 1);

	m->refs = g_ptr_array_new_with_free_func(g_free);
	pd_text_init(&m->text);
	return m;
}

static void
apply_inbody(pd_msg *m)
{
	char *name, *addr, *s, *dec;
	struct pd_subject is;

	/*
	 * Like git am: in-body headers count only in a patch; and a cover
	 * letter's in-body From: names its author too (SPEC.md 2, seed 003).
	 */
	if (!m->text.has_patch && m->kind != PD_KIND_COVER)
		goto title;
	if (m->text.inbody_from != NULL) {
		dec = strstr(m->text.inbody_from, "=?") ?
		    pd_text_decode_header(m->text.inbody_from) :
		    g_strdup(m->text.inbody_from);
		s = address_from_text(dec, &name, &addr);
		g_free(s);
		if (*addr == '\0') {
			/* "From: bogosity": keep the header's author. */
			g_free(dec);
			g_free(name);
			g_free(addr);
			goto title;
		}
		take_address(&m->author, &m->author_name, &m->author_email,
		    dec, name, addr);
	}
title:
	m->title = NULL;
	if (m->text.has_patch && m->text.inbody_subject != NULL &&
	    pd_subject_parse(m->text.inbody_subject, &is) == 0) {
		m->title = g_strdup(is.title);
		pd_subject_clear(&is);
	}
	if (m->title == NULL)
		m->title = g_strdup(m->subj.title);
}

/* What the scan reads: the text parts, then the patch attachments. */
static GString *
body_text(GMimeMessage *msg, size_t max)
{
	GMimeObject *top;
	struct walk w;

	memset(&w, 0, sizeof(w));
	w.max = max;
	w.body = g_string_new(NULL);
	w.patches = g_string_new(NULL);
	if ((top = g_mime_message_get_mime_part(msg)) != NULL) {
		walk(top, 0, &w);
		/* A single part mislabelled (application/octet-stream): git
		 * reads it as text, and so do we. */
		if (!w.have_body && w.patches->len == 0 && GMIME_IS_PART(top) &&
		    g_mime_part_get_filename(GMIME_PART(top)) == NULL)
			append_part(w.body, GMIME_PART(top), w.max);
	}
	if (w.patches->len > 0) {
		if (w.body->len > 0 && w.body->str[w.body->len - 1] != '\n')
			g_string_append_c(w.body, '\n');
		g_string_append_len(w.body, w.patches->str,
		    (gssize)w.patches->len);
	}
	g_string_free(w.patches, TRUE);
	return w.body;
}

int
pd_msg_parse(const char *buf, size_t len, const struct pd_parse_opts *opts,
    pd_msg **out)
{
	GByteArray *input;
	GMimeStream *stream = NULL;
	GMimeParser *parser;
	GMimeMessage *msg = NULL;
	GString *body;
	pd_msg *m = NULL;
	struct own own;
	size_t max_excerpt = opts && opts->max_excerpt ? opts->max_excerpt :
	    DEFAULT_MAX_EXCERPT;
	int r = PD_EPARSE;

	*out = NULL;
	if (!__atomic_load_n(&msg_initialised, __ATOMIC_ACQUIRE))
		pd_msg_init();
	if (buf == NULL)
		return PD_EINVAL;
	if (len > PD_MSG_MAX)
		return PD_ETOOBIG;
	memset(&own, 0, sizeof(own));
	input = normalise_input(buf, len);
	if (!is_mail((const char *)input->data,
	    (const char *)input->data + input->len)) {
		g_byte_array_unref(input);
		goto out;
	}
	drop_fields(input, &own);
	stream = g_mime_stream_mem_new_with_byte_array(input);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, msg_popts);
	g_object_unref(parser);
	if (msg == NULL)
		goto out;

	m = msg_new();
	read_headers(m, msg, &own);
	if (pd_subject_parse(m->subject, &m->subj) != 0) {
		r = PD_ENOMEM;
		goto out;
	}
	m->kind = (enum pd_kind)pd_subject_kind(&m->subj);

	body = body_text(msg, opts && opts->max_body ? opts->max_body : DEFAULT_MAX_BODY);
	pd_text_scan(&m->text, body->str, body->len, max_excerpt,
	    m->kind == PD_KIND_PATCH || m->kind == PD_KIND_COVER ? NULL :
	    m->author_email);
	if (m->id == NULL || m->id[0] == '\0') {
		/* a Message-ID of only blanks or control bytes is none */
		g_free(m->id);
		m->id = synthetic_id(msg, &own, body->str);
		m->id_synthetic = 1;
	}
	g_string_free(body, TRUE);
	apply_inbody(m);
	m->domain = domain_of(m->author_email);
	r = 0;
out:
	own_clear(&own);
	if (msg != NULL)
		g_object_unref(msg);
	if (stream != NULL)
		g_object_unref(stream);
	if (r != 0) {
		pd_msg_free(m);
		return r;
	}
	*out = m;
	return 0;
}

void
pd_msg_free(pd_msg *m)
{
	if (m == NULL)
		return;
	pd_subject_clear(&m->subj);
	g_free(m->subject);
	g_free(m->title);
	g_free(m->author);
	g_free(m->author_name);
	g_free(m->author_email);
	g_free(m->domain);
	g_free(m->from);
	g_free(m->id);
	g_free(m->in_reply_to);
	g_ptr_array_free(m->refs, TRUE);
	g_free(m->list_id);
	g_free(m->date_str);
	pd_text_clear(&m->text);
	g_free(m);
}

/* ---- accessors ---- */

#define S(x)	((x) != NULL ? (x) : "")

enum pd_kind pd_msg_kind(const pd_msg *m) { return m->kind; }

int
pd_msg_is_patch(const pd_msg *m)
{
	return m->kind == PD_KIND_COVER || m->kind == PD_KIND_PATCH;
}

const char *pd_msg_subject(const pd_msg *m) { return S(m->subject); }
const char *pd_msg_title(const pd_msg *m) { return S(m->title); }
int pd_msg_version(const pd_msg *m) { return m->subj.version; }

int
pd_msg_counter(const pd_msg *m, int *n)
{
	if (n != NULL)
		*n = m->subj.cn;
	return m->subj.cx;
}

unsigned pd_msg_flags(const pd_msg *m) { return m->subj.flags; }
size_t pd_msg_ntags(const pd_msg *m) { return m->subj.ntags; }

const char *
pd_msg_tag(const pd_msg *m, size_t i)
{
	return i < m->subj.ntags ? m->subj.tags[i] : "";
}

const char *pd_msg_author(const pd_msg *m) { return S(m->author); }
const char *pd_msg_author_name(const pd_msg *m) { return S(m->author_name); }
const char *pd_msg_author_email(const pd_msg *m) { return S(m->author_email); }
const char *pd_msg_domain(const pd_msg *m) { return S(m->domain); }
const char *pd_msg_from(const pd_msg *m) { return S(m->from); }
const char *pd_msg_id(const pd_msg *m) { return S(m->id); }
int pd_msg_id_synthetic(const pd_msg *m) { return m->id_synthetic; }
const char *pd_msg_in_reply_to(const pd_msg *m) { return S(m->in_reply_to); }
size_t pd_msg_nrefs(const pd_msg *m) { return m->refs->len; }

const char *
pd_msg_ref(const pd_msg *m, size_t i)
{
	return i < m->refs->len ? g_ptr_array_index(m->refs, i) : "";
}

const char *pd_msg_list_id(const pd_msg *m) { return S(m->list_id); }
const char *pd_msg_date_str(const pd_msg *m) { return S(m->date_str); }
time_t pd_msg_date(const pd_msg *m) { return m->date; }
const char *pd_msg_excerpt(const pd_msg *m) { return S(m->text.excerpt); }
size_t pd_msg_nfiles(const pd_msg *m) { return m->text.files->len; }

const char *
pd_msg_file(const pd_msg *m, size_t i)
{
	return i < m->text.files->len ? g_ptr_array_index(m->text.files, i) : "";
}

size_t pd_msg_ntrailers(const pd_msg *m) { return m->text.tr_names->len; }

const char *
pd_msg_trailer_name(const pd_msg *m, size_t i)
{
	return i < m->text.tr_names->len ?
	    g_ptr_array_index(m->text.tr_names, i) : "";
}

const char *
pd_msg_trailer_value(const pd_msg *m, size_t i)
{
	return i < m->text.tr_values->len ?
	    g_ptr_array_index(m->text.tr_values, i) : "";
}

int
pd_msg_trailer_carried(const pd_msg *m, size_t i)
{
	return i < m->text.tr_carried->len && m->text.tr_carried->data[i];
}

const char *pd_msg_change_id(const pd_msg *m) { return S(m->text.change_id); }
const char *pd_msg_pull_url(const pd_msg *m) { return S(m->text.pull_url); }
const char *pd_msg_pull_base(const pd_msg *m) { return S(m->text.pull_base); }
const char *pd_msg_pull_tip(const pd_msg *m) { return S(m->text.pull_tip); }
