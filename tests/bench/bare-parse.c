/*
 * bare-parse: the baseline of `make bench`.  What any GMime 3 reader of a
 * list archive must do at least, and nothing more: split the mbox with a
 * simple loop of its own (no patchdigest code), parse every message with
 * GMime, fetch Subject, From, Message-ID and References, and decode the
 * first text/plain part to UTF-8.  Nothing is stored.
 *
 *   bare-parse [-n max] mbox	every message of an mbox (mboxrd unescaped)
 *   bare-parse -1 [file]	one message from file or stdin (the floor of a
 *				delivery agent run once per message)
 *
 * Prints one line: messages, bytes, and a checksum of what was fetched so
 * that nothing can be optimised away.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmime/gmime.h>

struct totals {
	unsigned long msgs, failed;
	unsigned long long bytes, fetched;
};

static void
usage(void)
{
	fprintf(stderr, "usage: bare-parse [-n max] mbox\n"
	    "       bare-parse -1 [file]\n");
	exit(64);
}

static GMimeTextPart *
first_text_plain(GMimeObject *obj)
{
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);

		for (int i = 0; i < n; i++) {
			GMimeTextPart *t =
			    first_text_plain(g_mime_multipart_get_part(mp, i));

			if (t != NULL)
				return t;
		}
		return NULL;
	}
	if (GMIME_IS_TEXT_PART(obj)) {
		GMimeContentType *ct = g_mime_object_get_content_type(obj);

		if (ct == NULL || g_mime_content_type_is_type(ct, "text", "plain"))
			return GMIME_TEXT_PART(obj);
	}
	return NULL;
}

static void
parse_one(const char *buf, size_t len, struct totals *t)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	InternetAddressList *from;
	GMimeReferences *refs = NULL;
	GMimeTextPart *text;
	GMimeObject *body;
	const char *s;

	t->msgs++;
	t->bytes += len;
	stream = g_mime_stream_mem_new_with_buffer(buf, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	if (msg == NULL) {
		t->failed++;
		return;
	}
	if ((s = g_mime_message_get_subject(msg)) != NULL)
		t->fetched += strlen(s);
	if ((from = g_mime_message_get_from(msg)) != NULL) {
		char *f = internet_address_list_to_string(from, NULL, FALSE);

		if (f != NULL) {
			t->fetched += strlen(f);
			g_free(f);
		}
	}
	if ((s = g_mime_message_get_message_id(msg)) != NULL)
		t->fetched += strlen(s);
	if ((s = g_mime_object_get_header(GMIME_OBJECT(msg), "References")) != NULL)
		refs = g_mime_references_parse(NULL, s);
	if (refs != NULL) {
		t->fetched += g_mime_references_length(refs);
		g_mime_references_free(refs);
	}
	body = g_mime_message_get_mime_part(msg);
	if (body != NULL && (text = first_text_plain(body)) != NULL) {
		char *u = g_mime_text_part_get_text(text);

		if (u != NULL) {
			t->fetched += strlen(u);
			g_free(u);
		}
	}
	g_object_unref(msg);
}

/*
 * Lines are read with getline(3), the simplest loop there is, so that peak
 * RSS is that of the parse and not of a mapped archive.  mboxrd: one '>' is
 * dropped from lines matching ^>+From .
 */
static int
do_mbox(const char *path, unsigned long max, struct totals *t)
{
	FILE *fp;
	char *line = NULL, *msg = NULL;
	size_t linecap = 0, len = 0, cap = 0;
	ssize_t n;
	int started = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "bare-parse: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &linecap, fp)) != -1) {
		const char *l = line;
		size_t j = 0;

		if (n >= 5 && memcmp(line, "From ", 5) == 0) {
			if (started)
				parse_one(msg, len, t);
			started = 1;
			len = 0;
			if (max != 0 && t->msgs >= max)
				break;
			continue;
		}
		while (j < (size_t)n && line[j] == '>')
			j++;
		if (j > 0 && n - j >= 5 && memcmp(line + j, "From ", 5) == 0) {
			l++;
			n--;
		}
		if (len + n > cap) {
			char *nm;

			cap = (len + n) * 2;
			if ((nm = realloc(msg, cap)) == NULL) {
				fprintf(stderr, "bare-parse: out of memory\n");
				return -1;
			}
			msg = nm;
		}
		memcpy(msg + len, l, n);
		len += n;
	}
	if (started && (max == 0 || t->msgs < max))
		parse_one(msg, len, t);
	free(line);
	free(msg);
	fclose(fp);
	return 0;
}

static int
do_one(const char *path, struct totals *t)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd = 0;

	if (path != NULL && (fd = open(path, O_RDONLY)) == -1) {
		fprintf(stderr, "bare-parse: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				return -1;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "bare-parse: read: %s\n", strerror(errno));
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += n;
	}
	if (fd != 0)
		close(fd);
	parse_one(buf, len, t);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	struct totals t = { 0 };
	unsigned long max = 0;
	int ch, one = 0, rc;

	while ((ch = getopt(argc, argv, "1n:")) != -1) {
		switch (ch) {
		case '1':
			one = 1;
			break;
		case 'n':
			max = strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if ((one && argc > 1) || (!one && argc != 1))
		usage();
	g_mime_init();
	rc = one ? do_one(argc ? argv[0] : NULL, &t) : do_mbox(argv[0], max, &t);
	g_mime_shutdown();
	if (rc != 0)
		return 1;
	if (!one)
		printf("messages %lu failed %lu bytes %llu fetched %llu\n",
		    t.msgs, t.failed, t.bytes, t.fetched);
	return t.failed == t.msgs && t.msgs > 0;
}
