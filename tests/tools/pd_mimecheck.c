/*
 * pd_mimecheck MESSAGE TEXT-OUT HTML-OUT: read a delivered digest mail with
 * GMime, print its headers of interest (one "Name: value" line each), check
 * it is multipart/alternative with text/plain then text/html, and write the
 * two decoded parts (UTF-8) to the given files.  Exit 1 on any problem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

static int
save(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) == EOF) {
		perror(path);
		return -1;
	}
	return 0;
}

static int
check_part(GMimeObject *o, const char *subtype, const char *path)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	const char *charset;
	char *text;
	int rc;

	if (!GMIME_IS_TEXT_PART(o) || !g_mime_content_type_is_type(ct, "text", subtype)) {
		fprintf(stderr, "part is not text/%s\n", subtype);
		return -1;
	}
	charset = g_mime_object_get_content_type_parameter(o, "charset");
	printf("%s-charset: %s\n", subtype, charset ? charset : "(none)");
	if ((text = g_mime_text_part_get_text(GMIME_TEXT_PART(o))) == NULL) {
		fprintf(stderr, "text/%s: cannot decode\n", subtype);
		return -1;
	}
	rc = save(path, text);
	g_free(text);
	return rc;
}

int
main(int argc, char **argv)
{
	static const char *hdrs[] = { "From", "To", "Subject", "Date", "Message-ID",
	    "List-Id", "MIME-Version", NULL };
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	GMimeObject *body;
	GMimeMultipart *mp;
	int rc = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: pd_mimecheck message text-out html-out\n");
		return 2;
	}
	g_mime_init();
	if ((stream = g_mime_stream_file_open(argv[1], "r", NULL)) == NULL) {
		perror(argv[1]);
		return 1;
	}
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	if (msg == NULL) {
		fprintf(stderr, "%s: not a message\n", argv[1]);
		return 1;
	}
	for (int i = 0; hdrs[i]; i++) {
		const char *v = g_mime_object_get_header(GMIME_OBJECT(msg), hdrs[i]);
		char *dec = v ? g_mime_utils_header_decode_text(NULL, v) : NULL;

		printf("%s: %s\n", hdrs[i], dec ? g_strstrip(dec) : "(none)");
		g_free(dec);
	}
	body = g_mime_message_get_mime_part(msg);
	if (body == NULL || !GMIME_IS_MULTIPART(body) ||
	    !g_mime_content_type_is_type(g_mime_object_get_content_type(body), "multipart",
	    "alternative")) {
		fprintf(stderr, "body is not multipart/alternative\n");
		goto out;
	}
	mp = GMIME_MULTIPART(body);
	printf("parts: %d\n", g_mime_multipart_get_count(mp));
	if (g_mime_multipart_get_count(mp) != 2 ||
	    check_part(g_mime_multipart_get_part(mp, 0), "plain", argv[2]) != 0 ||
	    check_part(g_mime_multipart_get_part(mp, 1), "html", argv[3]) != 0)
		goto out;
	rc = 0;
out:
	g_object_unref(msg);
	g_mime_shutdown();
	return rc;
}
