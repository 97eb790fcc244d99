/*
 * parse_rate: the parser's throughput next to a bare GMime 3 parse of the
 * same messages in the same run (issue 9, "Parser profile" in
 * tests/bench/README.md).
 *
 *   parse_rate [-m pd|bare|both] [-n max] [-r rounds] mbox
 *   parse_rate -d [-n max] mbox	one line of every field per message
 *
 * The mbox is split once (pd_mbox_next) into memory before any clock
 * starts, so that both loops time the parse alone.  The bare loop does
 * what any GMime reader of a list must do: parse, fetch Subject, From,
 * Message-ID and References, decode the first text/plain part to UTF-8.
 * -d prints every accessor, to compare the parser's output before and
 * after a change.  The figures are CPU time: other jobs on the machine
 * do not move them much.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "patchdigest/error.h"
#include "patchdigest/mbox.h"
#include "patchdigest/msg.h"

struct corpus {
	char	**msg;
	size_t	*len;
	size_t	 n, cap, bytes;
};

static void
usage(void)
{
	fprintf(stderr, "usage: parse_rate [-m pd|bare|both] [-n max] "
	    "[-r rounds] mbox\n       parse_rate -d [-n max] mbox\n");
	exit(64);
}

static int
load(const char *path, size_t max, struct corpus *c)
{
	FILE *fp;
	pd_mbox *mb;
	const char *buf;
	size_t len;
	int r;

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "parse_rate: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if ((r = pd_mbox_new(fp, &mb)) != 0)
		goto out;
	while ((max == 0 || c->n < max) &&
	    (r = pd_mbox_next(mb, &buf, &len)) == 1) {
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 1024;
			if ((c->msg = realloc(c->msg, c->cap * sizeof(*c->msg))) ==
			    NULL || (c->len = realloc(c->len,
			    c->cap * sizeof(*c->len))) == NULL) {
				r = PD_ENOMEM;
				break;
			}
		}
		if ((c->msg[c->n] = malloc(len + 1)) == NULL) {
			r = PD_ENOMEM;
			break;
		}
		memcpy(c->msg[c->n], buf, len);
		c->msg[c->n][len] = '\0';
		c->len[c->n++] = len;
		c->bytes += len;
	}
	pd_mbox_free(mb);
	if (r > 0)
		r = 0;
out:
	if (r != 0)
		fprintf(stderr, "parse_rate: %s: %s\n", path, pd_strerror(r));
	fclose(fp);
	return r;
}

/* Every accessor, so that nothing is left unread. */
static size_t
touch(const pd_msg *m)
{
	size_t sum = 0, i;
	int n;

	sum += pd_msg_kind(m) + (size_t)pd_msg_version(m) +
	    (size_t)pd_msg_counter(m, &n) + pd_msg_flags(m);
	sum += strlen(pd_msg_subject(m)) + strlen(pd_msg_title(m));
	for (i = 0; i < pd_msg_ntags(m); i++)
		sum += strlen(pd_msg_tag(m, i));
	sum += strlen(pd_msg_author(m)) + strlen(pd_msg_author_name(m)) +
	    strlen(pd_msg_author_email(m)) + strlen(pd_msg_domain(m)) +
	    strlen(pd_msg_from(m)) + strlen(pd_msg_id(m)) +
	    strlen(pd_msg_in_reply_to(m)) + strlen(pd_msg_list_id(m)) +
	    strlen(pd_msg_date_str(m)) + (size_t)pd_msg_date(m) +
	    strlen(pd_msg_excerpt(m)) + strlen(pd_msg_change_id(m)) +
	    strlen(pd_msg_pull_url(m));
	sum += pd_msg_nrefs(m) + pd_msg_nfiles(m) + pd_msg_ntrailers(m);
	return sum;
}

static void
put(const char *name, const char *s)
{
	printf(" %s=", name);
	for (; *s; s++) {
		if (*s == '\n')
			fputs("\\n", stdout);
		else if (*s == '\\')
			fputs("\\\\", stdout);
		else
			putchar(*s);
	}
}

static void
dump(size_t k, const pd_msg *m)
{
	size_t i;
	int x, n;

	x = pd_msg_counter(m, &n);
	printf("#%zu kind=%s version=%d counter=%d/%d flags=%u synthetic=%d "
	    "date=%lld", k, pd_kind_name(pd_msg_kind(m)), pd_msg_version(m),
	    x, n, pd_msg_flags(m), pd_msg_id_synthetic(m),
	    (long long)pd_msg_date(m));
	put("subject", pd_msg_subject(m));
	put("title", pd_msg_title(m));
	for (i = 0; i < pd_msg_ntags(m); i++)
		put("tag", pd_msg_tag(m, i));
	put("author", pd_msg_author(m));
	put("name", pd_msg_author_name(m));
	put("email", pd_msg_author_email(m));
	put("domain", pd_msg_domain(m));
	put("from", pd_msg_from(m));
	put("id", pd_msg_id(m));
	put("irt", pd_msg_in_reply_to(m));
	for (i = 0; i < pd_msg_nrefs(m); i++)
		put("ref", pd_msg_ref(m, i));
	put("list", pd_msg_list_id(m));
	put("datestr", pd_msg_date_str(m));
	for (i = 0; i < pd_msg_nfiles(m); i++)
		put("file", pd_msg_file(m, i));
	for (i = 0; i < pd_msg_ntrailers(m); i++) {
		put("tn", pd_msg_trailer_name(m, i));
		put("tv", pd_msg_trailer_value(m, i));
	}
	put("change", pd_msg_change_id(m));
	put("url", pd_msg_pull_url(m));
	put("base", pd_msg_pull_base(m));
	put("tip", pd_msg_pull_tip(m));
	put("excerpt", pd_msg_excerpt(m));
	putchar('\n');
}

static size_t
run_pd(const struct corpus *c, int print)
{
	pd_msg *m;
	size_t i, sum = 0;
	int r;

	for (i = 0; i < c->n; i++) {
		if ((r = pd_msg_parse(c->msg[i], c->len[i], NULL, &m)) != 0) {
			if (print)
				printf("#%zu error=%s\n", i, pd_strerror(r));
			continue;
		}
		if (print)
			dump(i, m);
		sum += touch(m);
		pd_msg_free(m);
	}
	return sum;
}

static GMimeTextPart *
first_text_plain(GMimeObject *obj)
{
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int i, n = g_mime_multipart_get_count(mp);
		GMimeTextPart *t;

		for (i = 0; i < n; i++)
			if ((t = first_text_plain(
			    g_mime_multipart_get_part(mp, i))) != NULL)
				return t;
		return NULL;
	}
	if (GMIME_IS_TEXT_PART(obj)) {
		GMimeContentType *ct = g_mime_object_get_content_type(obj);

		if (ct == NULL || g_mime_content_type_is_type(ct, "text", "plain"))
			return GMIME_TEXT_PART(obj);
	}
	return NULL;
}

static size_t
bare_one(const char *buf, size_t len)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	InternetAddressList *from;
	GMimeReferences *refs = NULL;
	GMimeTextPart *text;
	GMimeObject *body;
	const char *s;
	char *f;
	size_t sum = 0;

	stream = g_mime_stream_mem_new_with_buffer(buf, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	if (msg == NULL)
		return 0;
	if ((s = g_mime_message_get_subject(msg)) != NULL)
		sum += strlen(s);
	if ((from = g_mime_message_get_from(msg)) != NULL &&
	    (f = internet_address_list_to_string(from, NULL, FALSE)) != NULL) {
		sum += strlen(f);
		g_free(f);
	}
	if ((s = g_mime_message_get_message_id(msg)) != NULL)
		sum += strlen(s);
	if ((s = g_mime_object_get_header(GMIME_OBJECT(msg), "References")) !=
	    NULL && (refs = g_mime_references_parse(NULL, s)) != NULL) {
		sum += (size_t)g_mime_references_length(refs);
		g_mime_references_free(refs);
	}
	if ((body = g_mime_message_get_mime_part(msg)) != NULL &&
	    (text = first_text_plain(body)) != NULL &&
	    (f = g_mime_text_part_get_text(text)) != NULL) {
		sum += strlen(f);
		g_free(f);
	}
	g_object_unref(msg);
	return sum;
}

static size_t
run_bare(const struct corpus *c)
{
	size_t i, sum = 0;

	for (i = 0; i < c->n; i++)
		sum += bare_one(c->msg[i], c->len[i]);
	return sum;
}

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Best of rounds: the least disturbed by other work on the machine. */
static double
timed(const struct corpus *c, int bare, int rounds, size_t *sum)
{
	double best = 0, t0, t;
	int i;

	for (i = 0; i < rounds; i++) {
		t0 = cpu_now();
		*sum = bare ? run_bare(c) : run_pd(c, 0);
		t = cpu_now() - t0;
		if (i == 0 || t < best)
			best = t;
	}
	return best;
}

static void
report(const char *what, const struct corpus *c, double secs, size_t sum)
{
	if (secs <= 0)
		secs = 1e-9;
	printf("%-6s %zu msgs %.1f MB cpu %.3f s  %.0f msgs/s  %.1f MB/s  "
	    "(check %zu)\n", what, c->n, (double)c->bytes / 1e6, secs,
	    (double)c->n / secs, (double)c->bytes / 1e6 / secs, sum);
}

int
main(int argc, char **argv)
{
	struct corpus c = { 0 };
	const char *mode = "both";
	size_t max = 0, sum, i;
	double pd = 0, bare = 0;
	int ch, rounds = 1, dumping = 0;

	while ((ch = getopt(argc, argv, "dm:n:r:")) != -1) {
		switch (ch) {
		case 'd':
			dumping = 1;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'n':
			max = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			if ((rounds = atoi(optarg)) < 1)
				usage();
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || (strcmp(mode, "pd") != 0 &&
	    strcmp(mode, "bare") != 0 && strcmp(mode, "both") != 0))
		usage();
	pd_msg_init();
	if (load(argv[optind], max, &c) != 0)
		return 1;
	if (dumping)
		run_pd(&c, 1);
	else {
		if (strcmp(mode, "bare") != 0) {
			pd = timed(&c, 0, rounds, &sum);
			report("pd", &c, pd, sum);
		}
		if (strcmp(mode, "pd") != 0) {
			bare = timed(&c, 1, rounds, &sum);
			report("bare", &c, bare, sum);
		}
		if (pd > 0 && bare > 0)
			printf("pd/bare rate %.2f\n", bare / pd);
	}
	for (i = 0; i < c.n; i++)
		free(c.msg[i]);
	free(c.msg);
	free(c.len);
	pd_msg_shutdown();
	return fflush(stdout) != 0;
}
