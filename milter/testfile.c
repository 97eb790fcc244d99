/*
 * -t FILE: one message file through the path the callbacks use, without an
 * MTA: header fields as an MTA hands them over (name, value without the
 * leading blanks, folds kept), the body in CRLF chunks, then the same
 * ingest and tag step as end of message.  Prints the tags that would be
 * inserted on stdout and the X-Patch-* fields that would be removed on
 * stderr.  Nothing is recorded in the store.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "patchdigest/error.h"
#include "patchdigest/log.h"
#include "milter.h"

#define CHUNK	65535	/* libmilter's MILTER_CHUNK_SIZE */

static int
read_all(const char *path, char **out, size_t *outlen)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0, n;
	int rc = 0;

	if (fp == NULL) {
		log_warn("%s", path);
		return -1;
	}
	do {
		if (len + 65536 > cap) {
			if ((nb = realloc(buf, cap = cap * 2 + 65536)) == NULL) {
				log_warnx("%s: out of memory", path);
				rc = -1;
				break;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
	} while (n > 0);
	if (rc == 0 && ferror(fp)) {
		log_warn("%s", path);
		rc = -1;
	}
	if (fp != stdin)
		fclose(fp);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

/* Length of the line at p (without its LF or CRLF); *next after it. */
static size_t
line_at(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

	*next = nl ? nl + 1 : end;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

/* Feed the header fields; returns where the body starts. */
static const char *
feed_headers(struct pdm_msg *m, const char *p, const char *end)
{
	const char *next, *colon;
	char *name = NULL, *value = NULL;
	size_t n;

	if (end - p > 5 && memcmp(p, "From ", 5) == 0)
		(void)line_at(p, end, &p);
	while (p < end) {
		n = line_at(p, end, &next);
		if (n == 0) {
			p = next;
			break;
		}
		if ((*p == ' ' || *p == '\t') && value != NULL) {
			size_t vl = strlen(value);
			char *nv = realloc(value, vl + n + 2);

			if (nv == NULL)
				break;
			value = nv;
			value[vl] = '\n';
			memcpy(value + vl + 1, p, n);
			value[vl + 1 + n] = '\0';
			p = next;
			continue;
		}
		if (name != NULL)
			(void)pdm_msg_header(m, name, value);
		free(name);
		free(value);
		name = value = NULL;
		colon = memchr(p, ':', n);
		if (colon == NULL || colon == p)
			break;	/* not a header field: the body starts here */
		name = strndup(p, (size_t)(colon - p));
		colon++;
		while (colon < p + n && (*colon == ' ' || *colon == '\t'))
			colon++;
		value = strndup(colon, (size_t)(p + n - colon));
		if (name == NULL || value == NULL)
			break;
		p = next;
	}
	if (name != NULL && value != NULL)
		(void)pdm_msg_header(m, name, value);
	free(name);
	free(value);
	return p;
}

/* The body in CRLF, in chunks as libmilter passes it. */
static void
feed_body(struct pdm_msg *m, const char *p, const char *end)
{
	char chunk[CHUNK + 1];
	size_t len = 0;

	for (; p < end; p++) {
		if (*p == '\n' && (len == 0 || chunk[len - 1] != '\r'))
			chunk[len++] = '\r';
		chunk[len++] = *p;
		if (len >= CHUNK - 1) {
			(void)pdm_msg_body(m, (const unsigned char *)chunk, len);
			len = 0;
		}
	}
	if (len > 0)
		(void)pdm_msg_body(m, (const unsigned char *)chunk, len);
}

int
pdm_testfile(struct pdm_cfg *cfg, const char *path)
{
	struct pdm_msg m;
	struct pd_ingest in;
	struct pd_tags tags;
	char *raw;
	size_t len;
	int rc;

	if (read_all(path, &raw, &len) != 0)
		return EX_NOINPUT;
	pdm_msg_init(&m, cfg->conf->max_message_size);
	feed_body(&m, feed_headers(&m, raw, raw + len), raw + len);
	free(raw);
	if (pdm_msg_finish(&m) != 0) {
		log_warnx("out of memory: message passed on unchanged");
		pdm_msg_reset(&m);
		return EX_OSERR;
	}
	if (m.truncated)
		log_info("%zu bytes, over MaxMessageSize: tagged from the first %zu",
		    m.total, m.max);
	rc = pdm_ingest(cfg, m.buf, m.len, 0, &in, &tags);
	if (rc == PD_EPARSE)
		log_info("not parseable: passed on unchanged");
	else if (rc != 0)
		log_warnx("%s: passed on %s", pd_strerror(rc),
		    cfg->conf->on_error == PD_ONERR_TEMPFAIL ? "to tempfail" : "unchanged");
	else {
		for (size_t i = 0; i < m.nold; i++)
			log_info("removes %s #%d", m.old[i].name, m.old[i].index);
		for (int i = 0; i < PD_NTAGS; i++)
			if (tags.value[i][0] != '\0')
				printf("%s:%s%s\n", tags.name[i],
				    pd_tags_blank(&tags, i), tags.value[i]);
	}
	pdm_msg_reset(&m);
	if (pdm_stdout_done() != 0)
		return EX_IOERR;
	return rc == 0 || rc == PD_EPARSE ? 0 : EX_TEMPFAIL;
}
