/*
 * The configuration file: "Keyword value" lines, '#' comments, keywords
 * case-insensitive.  Unknown keywords and bad values are errors naming the
 * file and the line.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "patchdigest/conf.h"
#include "patchdigest/error.h"
#include "patchdigest/msg.h"
#include "maintainers.h"

#define DEF_CONF	"/etc/patchdigest/patchdigest.conf"
#define DEF_DATABASE	"/var/lib/patchdigest"
#define DEF_LISTNAME	"KVM"
#define DEF_SENDMAIL	"/usr/sbin/sendmail"
#define DEF_SOCKET	"unix:/var/spool/postfix/patchdigest/milter.sock"
#define LIST_SEPS	" \t,"	/* between the words of a list value */
#define TEXT_MAX	200	/* bytes of a value shown in the digest */
#define CONF_MAX	((size_t)1 << 20)	/* bytes of a configuration file */
#define MSG_SIZE_MAX	((size_t)1 << 30)	/* MaxMessageSize's limit: 1G */
_Static_assert(MSG_SIZE_MAX + 4 <= PD_MSG_MAX, "the milter adds 4 bytes to a cut header");

enum kw_type {
	KW_STR, KW_PATH, KW_LIST, KW_ADDRS, KW_SIZE, KW_SCHED, KW_ONERR, KW_UMASK,
	KW_BOOL, KW_SOCKET,
	KW_NETS,	/* KW_LIST of addresses and networks */
	KW_PATTERN,	/* one %s, where the digest puts a Message-ID */
	KW_TEXT,	/* in the digest mail: UTF-8, no control characters */
	KW_MAILBOX,	/* KW_TEXT, and "addr" or "Name <addr>" */
	KW_LISTID,	/* KW_TEXT, and "[phrase] <label.namespace>" */
};

struct keyword {
	const char *name;
	enum kw_type type;
	size_t off;		/* offset in struct pd_conf */
	size_t aux;		/* KW_LIST: offset of the count; KW_SIZE: the
				 * largest value, 0 for any size_t */
};

#define F(m) offsetof(struct pd_conf, m)
static const struct keyword keywords[] = {
	{ "ArchiveURL",		KW_PATTERN, F(archive_url), 0 },
	{ "Database",		KW_STR,   F(database), 0 },
	{ "DigestFrom",		KW_MAILBOX, F(digest_from), 0 },
	{ "DigestTo",		KW_ADDRS, F(digest_to), F(ndigest_to) },
	{ "InternalHosts",	KW_NETS,  F(internal_hosts), F(ninternal_hosts) },
	{ "ListId",		KW_LISTID, F(list_id), 0 },
	{ "ListName",		KW_TEXT,  F(list_name), 0 },
	{ "Maintainers",	KW_STR,   F(maintainers), 0 },
	{ "MaintainersFiles",	KW_STR,   F(maintainers_files), 0 },
	{ "MapSize",		KW_SIZE,  F(map_size), 0 },
	{ "MapSizeMax",		KW_SIZE,  F(map_size_max), 0 },
	{ "MaxMessageSize",	KW_SIZE,  F(max_message_size), MSG_SIZE_MAX },
	{ "OnError",		KW_ONERR, F(on_error), 0 },
	{ "PidFile",		KW_STR,   F(pid_file), 0 },
	{ "Schedule",		KW_SCHED, F(schedule), 0 },
	{ "Sendmail",		KW_PATH,  F(sendmail), 0 },
	{ "Socket",		KW_SOCKET, F(socket), 0 },
	{ "SubsystemRules",	KW_STR,   F(subsystem_rules), 0 },
	{ "Syslog",		KW_BOOL,  F(syslog), 0 },
	{ "UMask",		KW_UMASK, F(umask), 0 },
	{ "UserID",		KW_STR,   F(user_id), 0 },
};
#undef F

static int
setstr(char **dst, const char *v)
{
	char *s = strdup(v);

	if (s == NULL)
		return PD_ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

int
pd_conf_new(struct pd_conf **out)
{
	struct pd_conf *c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return PD_ENOMEM;
	if (setstr(&c->database, DEF_DATABASE) || setstr(&c->list_name, DEF_LISTNAME) ||
	    setstr(&c->sendmail, DEF_SENDMAIL) || setstr(&c->socket, DEF_SOCKET)) {
		pd_conf_free(c);
		return PD_ENOMEM;
	}
	c->map_size = (size_t)64 << 20;
	c->map_size_max = (size_t)4 << 30;
	c->max_message_size = (size_t)16 << 20;
	c->umask = 007;
	c->on_error = PD_ONERR_ACCEPT;
	*out = c;
	return 0;
}

const char *
pd_conf_default_path(void)
{
	if (access(DEF_CONF, F_OK) == 0 || errno != ENOENT)
		return DEF_CONF;
	return NULL;
}

static void
freelist(char **l)
{
	if (l == NULL)
		return;
	for (char **p = l; *p; p++)
		free(*p);
	free(l);
}

void
pd_conf_free(struct pd_conf *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->database);
	free(c->list_name);
	free(c->list_id);
	free(c->digest_from);
	freelist(c->digest_to);
	free(c->sendmail);
	free(c->archive_url);
	free(c->maintainers);
	free(c->maintainers_files);
	free(c->subsystem_rules);
	free(c->socket);
	free(c->user_id);
	free(c->pid_file);
	freelist(c->internal_hosts);
	free(c);
}

static const char *const wdays[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static const char *const wdays_long[] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"
};

/* H:MM or HH:MM, nothing else ("06:0" and "6:00x" are typos, not times). */
static int
parse_hhmm(const char *s, int *h, int *m)
{
	size_t nh = strspn(s, "0123456789");

	if (nh < 1 || nh > 2 || s[nh] != ':' || strspn(s + nh + 1, "0123456789") != 2 ||
	    s[nh + 3] != '\0')
		return -1;
	*h = atoi(s);
	*m = atoi(s + nh + 1);
	return (*h > 23 || *m > 59) ? -1 : 0;
}

/* "mon" or "monday", any case: 0-6, or -1. */
static int
parse_wday(const char *s)
{
	for (int i = 0; i < 7; i++)
		if (strcasecmp(s, wdays[i]) == 0 || strcasecmp(s, wdays_long[i]) == 0)
			return i;
	return -1;
}

int
pd_schedule_parse(const char *s, struct pd_schedule *out)
{
	char word[16], a[16], b[16], extra;
	int n;

	memset(out, 0, sizeof(*out));
	n = sscanf(s, "%15s %15s %15s %c", word, a, b, &extra);
	if (n == 2 && strcasecmp(word, "daily") == 0) {
		out->kind = PD_SCHED_DAILY;
		return parse_hhmm(a, &out->hour, &out->min) ? PD_ECONFIG : 0;
	}
	if (n == 3 && strcasecmp(word, "weekly") == 0) {
		if ((out->wday = parse_wday(a)) < 0)
			return PD_ECONFIG;
		out->kind = PD_SCHED_WEEKLY;
		return parse_hhmm(b, &out->hour, &out->min) ? PD_ECONFIG : 0;
	}
	if (n == 2 && strcasecmp(word, "every") == 0) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(a, &end, 10);
		if (errno || *end || v == 0 || !isdigit((unsigned char)a[0]))
			return PD_ECONFIG;
		out->kind = PD_SCHED_EVERY;
		out->every = v;
		return 0;
	}
	if (n == 1 && strcasecmp(word, "none") == 0)
		return 0;
	return PD_ECONFIG;
}

static int
parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	if (!isdigit((unsigned char)s[0]))
		return -1;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	/* a value that wraps would be some other size, accepted silently */
	if (*end != '\0' || v == 0 || v > (SIZE_MAX >> shift))
		return -1;
	v <<= shift;
	*out = (size_t)v;
	return 0;
}

/*
 * A size up to max (0: any): MaxMessageSize stops at what the parser takes,
 * well below where the front ends' buffer sums would wrap.
 */
static int
set_size(const char *v, size_t max, size_t *out, const char **why)
{
	size_t n;

	if (parse_size(v, &n) != 0)
		return PD_ECONFIG;
	if (max > 0 && n > max) {
		_Static_assert(MSG_SIZE_MAX == (size_t)1 << 30, "the text says 1G");
		*why = "over 1G";
		return PD_ECONFIG;
	}
	*out = n;
	return 0;
}

/* Append the words of v (separated by spaces or commas) to a NULL-terminated list. */
static int
addlist(char ***listp, size_t *np, char *v)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(v, LIST_SEPS, &save); tok; tok = strtok_r(NULL, LIST_SEPS, &save)) {
		char **l = realloc(*listp, (*np + 2) * sizeof(*l));

		if (l == NULL)
			return PD_ENOMEM;
		*listp = l;
		if ((l[*np] = strdup(tok)) == NULL)
			return PD_ENOMEM;
		l[++*np] = NULL;
	}
	return 0;
}

/* RFC 5322 dot-atom text: atext words joined by single dots. */
static int
is_dot_atom(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(s[i]) && strchr(".!#$%&'*+-/=?^_`{|}~", s[i]) == NULL)
			return 0;
		else if (s[i] == '.' && i + 1 < n && s[i + 1] == '.')
			return 0;
	return 1;
}

/* An ASCII host name: letters, digits and '-' in labels joined by dots. */
static int
is_host(const char *s, size_t n)
{
	if (!is_dot_atom(s, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(s[i]) && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

/* user@host in ASCII. */
static int
is_addr_spec(const char *a, size_t n)
{
	const char *at = memchr(a, '@', n);

	return at != NULL && is_dot_atom(a, (size_t)(at - a)) &&
	    is_host(at + 1, n - (size_t)(at + 1 - a));
}

/*
 * Recipients go on sendmail's command line: one that starts with '-' would
 * be an option.  "Name <addr>" would be split into words, each a recipient.
 * Each is also the To: header's, which has no room for what the envelope
 * takes ("a@b;c@d", a local name without domain, UTF-8).  The words are
 * checked before any is added.
 */
static int
check_addrs(const char *v, const char **why)
{
	size_t n;

	if (strpbrk(v, "<>()\"") != NULL) {
		*why = "bare addresses only (user@host), not Name <addr>";
		return PD_ECONFIG;
	}
	for (const char *p = v + strspn(v, LIST_SEPS); *p; p += n + strspn(p + n, LIST_SEPS)) {
		n = strcspn(p, LIST_SEPS);
		if (*p == '-') {
			*why = "an address may not start with '-'";
			return PD_ECONFIG;
		}
		if (!is_addr_spec(p, n)) {
			*why = "not an ASCII address user@host (an IDN in its xn-- form)";
			return PD_ECONFIG;
		}
	}
	return 0;
}

static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* The prefix length: digits only, where strtol would take "+8" and "-0". */
static int
parse_bits(const char *s, int max)
{
	size_t n = strlen(s);
	int bits;

	if (n == 0 || n > 3 || strspn(s, "0123456789") != n || (bits = atoi(s)) > max)
		return -1;
	return bits;
}

int
pd_conf_net_parse(const char *s, struct pd_net *out)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct in_addr a4;
	int max, bits;

	if (alen == 0 || alen >= sizeof(addr))
		return PD_ECONFIG;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, &a4) == 1) {
		memcpy(out->addr, v4mapped, 12);
		memcpy(out->addr + 12, &a4, 4);
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		max = 128;
	else
		return PD_ECONFIG;
	if ((bits = slash != NULL ? parse_bits(slash + 1, max) : max) < 0)
		return PD_ECONFIG;
	out->bits = bits + (128 - max);
	return 0;
}

/* One word of an InternalHosts line. */
static int
check_net(const char *w, size_t n)
{
	char word[INET6_ADDRSTRLEN + 4];	/* the longest address, "/128" */
	struct pd_net net;

	if (n >= sizeof(word))
		return PD_ECONFIG;
	memcpy(word, w, n);
	word[n] = '\0';
	return pd_conf_net_parse(word, &net);
}

/* The words of an InternalHosts line, before any is added. */
static int
check_nets(const char *v, const char **why)
{
	size_t n;

	for (v += strspn(v, LIST_SEPS); *v != '\0'; v += strspn(v, LIST_SEPS)) {
		n = strcspn(v, LIST_SEPS);
		if (check_net(v, n) != 0) {
			*why = "not an IPv4 or IPv6 address or address/len";
			return PD_ECONFIG;
		}
		v += n;
	}
	return 0;
}

/*
 * A value the digest mail shows: its headers are encoded from UTF-8.  Tabs
 * (a value aligned in columns) become spaces.
 */
static int
check_text(char *v, const char **why)
{
	for (char *p = strchr(v, '\t'); p != NULL; p = strchr(p, '\t'))
		*p = ' ';
	if (!g_utf8_validate(v, -1, NULL)) {
		*why = "not UTF-8";
		return PD_ECONFIG;
	}
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			*why = "a control character";
			return PD_ECONFIG;
		}
	if (strlen(v) > TEXT_MAX) {
		*why = "longer than 200 bytes";
		return PD_ECONFIG;
	}
	return 0;
}

/* The text of v before lt, blanks and a quoted string's quoting off. */
static char *
display_name(const char *v, const char *lt)
{
	char *name, *q;
	size_t n;

	while (*v == ' ')
		v++;
	for (n = (size_t)(lt - v); n > 0 && v[n - 1] == ' '; n--)
		;
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	if ((name = q = malloc(n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n)
			i++;
		*q++ = v[i];
	}
	*q = '\0';
	return name;
}

/*
 * One mailbox, as the digest mail's From: is made of it.  GMime makes a
 * mailbox of much ("a;b <a@b>" is one, "a"): its address must be the one
 * in <>, when there is one.
 */
int
pd_conf_mailbox(const char *v, char **name, char **addr)
{
	InternetAddressList *l;
	InternetAddress *a = NULL;
	const char *spec = NULL, *lt, *at, *nm;
	char *host = NULL;
	size_t n = 0;
	int rc = PD_ECONFIG;

	*name = *addr = NULL;
	/*
	 * GMime's parser needs it.  Left running: GMime started again after
	 * its shutdown finds a table of its own gone (GLib criticals, leaks).
	 */
	pd_msg_init();
	if ((l = internet_address_list_parse(NULL, v)) != NULL &&
	    internet_address_list_length(l) == 1)
		a = internet_address_list_get_address(l, 0);
	if (a != NULL && INTERNET_ADDRESS_IS_MAILBOX(a))
		spec = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
	if (spec != NULL)
		n = strlen(spec);
	lt = strrchr(v, '<');
	if (n == 0 || (lt != NULL && (strncmp(lt + 1, spec, n) != 0 || lt[n + 1] != '>' ||
	    lt[n + 2] != '\0')))
		goto out;
	/* the Message-IDs of digests take the domain: ASCII, as headers are */
	if ((at = strrchr(spec, '@')) == NULL || !is_dot_atom(spec, (size_t)(at - spec)) ||
	    (host = g_hostname_to_ascii(at + 1)) == NULL || !is_host(host, strlen(host)))
		goto out;
	rc = PD_ENOMEM;
	if ((*addr = malloc((size_t)(at - spec) + strlen(host) + 2)) == NULL)
		goto out;
	sprintf(*addr, "%.*s@%s", (int)(at - spec), spec, host);
	/* the name as written: GMime's decodes "=?...?=" text in it */
	nm = lt != NULL ? NULL : internet_address_get_name(a);
	if ((lt != NULL && (*name = display_name(v, lt)) == NULL) ||
	    (nm != NULL && *nm != '\0' && (*name = strdup(nm)) == NULL))
		goto out;
	if (*name != NULL && **name == '\0') {
		free(*name);
		*name = NULL;
	}
	rc = 0;
out:
	if (rc != 0) {
		free(*addr);
		*addr = NULL;
	}
	g_free(host);
	if (l != NULL)
		g_object_unref(l);
	return rc;
}

static int
check_mailbox(char *v, const char **why)
{
	char *name, *addr;
	int rc;

	if (check_text(v, why) != 0)
		return PD_ECONFIG;
	if ((rc = pd_conf_mailbox(v, &name, &addr)) == PD_ECONFIG)
		*why = "not an address or Name <address>";
	free(name);
	free(addr);
	return rc;
}

/* RFC 2919: an optional phrase, then <label.namespace>, a dot-atom. */
static int
check_list_id(char *v, const char **why)
{
	const char *lt = strrchr(v, '<');
	size_t n;

	if (check_text(v, why) != 0)
		return PD_ECONFIG;
	n = lt != NULL ? strlen(lt + 1) : 0;
	if (n < 2 || lt[n] != '>' || memchr(lt + 1, '.', n - 1) == NULL ||
	    !is_dot_atom(lt + 1, n - 1)) {
		*why = "not [Name] <label.example.org> (ASCII)";
		return PD_ECONFIG;
	}
	return 0;
}

const char *
pd_conf_socket_path(const char *spec)
{
	const char *colon = strchr(spec, ':');

	if (colon == NULL)
		return spec;
	if ((colon - spec == 4 && strncasecmp(spec, "unix", 4) == 0) ||
	    (colon - spec == 5 && strncasecmp(spec, "local", 5) == 0))
		return colon + 1;
	return NULL;
}

/*
 * libmilter takes a port that starts with a digit as a number, with atoi
 * ("8891x" is 8891) and modulo 65536 ("99999" is 34463); anything else
 * as a service name.
 */
static int
check_port(const char *p, size_t n)
{
	unsigned long v;

	/* a service name (pop3, http-alt), which libmilter looks up */
	if (n > 0 && g_ascii_isalpha(p[0])) {
		for (size_t i = 1; i < n; i++)
			if (!g_ascii_isalnum(p[i]) && p[i] != '-')
				return -1;
		return 0;
	}
	if (n == 0 || n > 5 || strspn(p, "0123456789") != n)
		return -1;
	v = strtoul(p, NULL, 10);
	return v >= 1 && v <= 65535 ? 0 : -1;
}

int
pd_conf_socket_check(const char *spec, const char **why)
{
	const char *path = pd_conf_socket_path(spec), *port, *at;

	if (path != NULL && *path == '\0') {
		*why = "no path";
		return PD_ECONFIG;
	}
	if (path != NULL)
		return 0;
	if (strncasecmp(spec, "inet:", 5) != 0 && strncasecmp(spec, "inet6:", 6) != 0) {
		*why = "not unix:/path, local:/path, inet:port[@host] or inet6:port[@host]";
		return PD_ECONFIG;
	}
	port = strchr(spec, ':') + 1;
	at = port + strcspn(port, "@");
	if (check_port(port, (size_t)(at - port)) != 0) {
		*why = "the port is not 1-65535 or a service name";
		return PD_ECONFIG;
	}
	if (*at == '@' && at[1] == '\0') {
		*why = "no host after '@'";
		return PD_ECONFIG;
	}
	return 0;
}

/*
 * Without its %s every message would link to one page.  "%%" is a '%'
 * (a URL's own escapes, "%%40"), as the digest reads the pattern.
 */
static int
check_pattern(const char *v, const char **why)
{
	int ids = 0;

	for (const char *p = strchr(v, '%'); p != NULL; p = strchr(p + 2, '%')) {
		if (p[1] == 's')
			ids++;
		else if (p[1] != '%') {
			*why = "a '%' neither %s nor %% (a URL's % is written %%)";
			return PD_ECONFIG;
		}
	}
	if (ids != 1) {
		*why = "needs exactly one %s";
		return PD_ECONFIG;
	}
	return 0;
}

/* Sets the keyword from v; on a bad value *why may say what is wrong. */
static int
setkw(struct pd_conf *c, const struct keyword *kw, char *v, const char **why)
{
	char *p = (char *)c + kw->off;
	unsigned long u;

	switch (kw->type) {
	case KW_MAILBOX:
	case KW_LISTID:
		if ((kw->type == KW_MAILBOX ? check_mailbox(v, why) :
		    check_list_id(v, why)) != 0)
			return PD_ECONFIG;
		return setstr((char **)(void *)p, v);
	case KW_TEXT:
		if (check_text(v, why) != 0)
			return PD_ECONFIG;
		/* FALLTHROUGH */
	case KW_STR:
		return setstr((char **)(void *)p, v);
	case KW_PATTERN:
		if (check_pattern(v, why) != 0)
			return PD_ECONFIG;
		return setstr((char **)(void *)p, v);
	case KW_SOCKET:
		if (pd_conf_socket_check(v, why) != 0)
			return PD_ECONFIG;
		return setstr((char **)(void *)p, v);
	case KW_PATH:
		if (v[0] != '/') {
			*why = "not an absolute path";
			return PD_ECONFIG;
		}
		return setstr((char **)(void *)p, v);
	case KW_ADDRS:
		if (check_addrs(v, why) != 0)
			return PD_ECONFIG;
		/* FALLTHROUGH */
	case KW_LIST:
		return addlist((char ***)(void *)p, (size_t *)(void *)((char *)c + kw->aux), v);
	case KW_NETS:
		if (check_nets(v, why) != 0)
			return PD_ECONFIG;
		return addlist((char ***)(void *)p, (size_t *)(void *)((char *)c + kw->aux), v);
	case KW_SIZE:
		return set_size(v, kw->aux, (size_t *)(void *)p, why);
	case KW_SCHED:
		return pd_schedule_parse(v, (struct pd_schedule *)(void *)p);
	case KW_ONERR:
		if (strcasecmp(v, "accept") == 0)
			c->on_error = PD_ONERR_ACCEPT;
		else if (strcasecmp(v, "tempfail") == 0)
			c->on_error = PD_ONERR_TEMPFAIL;
		else
			return PD_ECONFIG;
		return 0;
	case KW_UMASK:
		/* strtoul would take a sign or blanks first: "-0" is no mode */
		if (strspn(v, "01234567") != strlen(v))
			return PD_ECONFIG;
		errno = 0;
		u = strtoul(v, NULL, 8);
		if (errno || u > 0777)
			return PD_ECONFIG;
		c->umask = (unsigned)u;
		return 0;
	case KW_BOOL:
		if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
			*(int *)(void *)p = 1;
		else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
			*(int *)(void *)p = 0;
		else
			return PD_ECONFIG;
		return 0;
	}
	return PD_ECONFIG;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * One line, already NUL-terminated and without its line end.  *kw is the
 * keyword's entry, NULL for a blank or comment line.
 */
static int
parse_line(struct pd_conf *c, char *line, const char *name, size_t lineno,
    const struct keyword **kw, char *errbuf, size_t errlen)
{
	const char *why = "bad value";
	char *key, *val;
	size_t i;
	int rc;

	*kw = NULL;
	if ((val = strchr(line, '#')) != NULL)
		*val = '\0';
	key = trim(line);
	if (*key == '\0')
		return 0;
	val = key + strcspn(key, " \t");
	if (*val != '\0')
		*val++ = '\0';
	val = trim(val);
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strcasecmp(keywords[i].name, key) == 0)
			break;
	if (i == sizeof(keywords) / sizeof(keywords[0])) {
		snprintf(errbuf, errlen, "%s:%zu: unknown keyword \"%.64s\"", name, lineno, key);
		return PD_ECONFIG;
	}
	if (*val == '\0') {
		snprintf(errbuf, errlen, "%s:%zu: %s needs a value", name, lineno, keywords[i].name);
		return PD_ECONFIG;
	}
	*kw = &keywords[i];
	if ((rc = setkw(c, &keywords[i], val, &why)) != 0)
		snprintf(errbuf, errlen, "%s:%zu: %s: %s", name, lineno, keywords[i].name,
		    rc == PD_ENOMEM ? pd_strerror(rc) : why);
	return rc;
}

/* What one keyword needs of the others, said at the keyword's line. */
static int
check_whole(const struct pd_conf *c, const char *name, size_t sched_line,
    char *errbuf, size_t errlen)
{
	/* A schedule without recipients would fail at each due time, for hours unseen. */
	if (c->schedule.kind != PD_SCHED_NONE &&
	    (c->digest_from == NULL || c->ndigest_to == 0)) {
		snprintf(errbuf, errlen, "%s:%zu: Schedule needs DigestFrom and DigestTo",
		    name, sched_line);
		return PD_ECONFIG;
	}
	return 0;
}

int
pd_conf_parse(const char *buf, size_t len, const char *name, struct pd_conf **out,
    char *errbuf, size_t errlen)
{
	const struct keyword *kw;
	struct pd_conf *c;
	char *line = NULL;
	size_t lineno = 0, pos = 0, sched_line = 0;
	int rc;

	*out = NULL;
	if (errlen)
		errbuf[0] = '\0';
	if ((rc = pd_conf_new(&c)) != 0)
		return rc;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;

		lineno++;
		if (memchr(buf + pos, '\0', n) != NULL) {
			snprintf(errbuf, errlen, "%s:%zu: NUL byte", name, lineno);
			rc = PD_ECONFIG;
			goto out;
		}
		if ((line = strndup(buf + pos, n)) == NULL) {
			rc = PD_ENOMEM;
			goto out;
		}
		pos += n + (nl != NULL);
		if ((rc = parse_line(c, line, name, lineno, &kw, errbuf, errlen)) != 0)
			goto out;
		if (kw != NULL && kw->type == KW_SCHED)
			sched_line = lineno;
		free(line);
		line = NULL;
	}
	rc = check_whole(c, name, sched_line, errbuf, errlen);
out:
	free(line);
	if (rc != 0)
		pd_conf_free(c);
	else
		*out = c;
	return rc;
}

int
pd_conf_load(const char *path, struct pd_conf **out, char *errbuf, size_t errlen)
{
	FILE *fp;
	char *buf = NULL;
	size_t cap = 0, len = 0, n;
	int rc = 0;

	*out = NULL;
	/* a FIFO would hang the program that mail waits on; CONF_MAX bounds a device */
	if ((fp = pd_maint_fopen(path, 1, errbuf, errlen)) == NULL)
		return PD_EIO;
	do {
		if (len > CONF_MAX) {
			snprintf(errbuf, errlen, "%s: longer than 1M", path);
			rc = PD_ECONFIG;
			goto out;
		}
		if (len + 4096 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 4096);

			if (nb == NULL) {
				rc = PD_ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
	} while (n > 0);
	if (ferror(fp)) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		rc = PD_EIO;
		goto out;
	}
	if ((rc = pd_conf_parse(buf, len, path, out, errbuf, errlen)) == 0 &&
	    ((*out)->path = strdup(path)) == NULL) {
		pd_conf_free(*out);
		*out = NULL;
		rc = PD_ENOMEM;
	}
out:
	free(buf);
	fclose(fp);
	return rc;
}
