/*
 * Fuzz target: the mbox splitter, both the in-memory pd_mbox_split and
 * the streaming pd_mbox_new/pd_mbox_next over the same bytes.
 */
#include <string.h>

#include "patchdigest/error.h"
#include "patchdigest/mbox.h"
#include "fuzz.h"

struct split {
	size_t n, bytes;
	unsigned sum;
};

/* Read every byte of each message so that the sanitizers check its bounds. */
static int
on_msg(const char *msg, size_t len, void *arg)
{
	struct split *s = arg;

	PD_FUZZ_CHECK(len == 0 || msg != NULL);
	for (size_t i = 0; i < len; i++)
		s->sum += (unsigned char)msg[i];
	s->n++;
	s->bytes += len;
	return 0;
}

static int
stop_first(const char *msg, size_t len, void *arg)
{
	(void)msg; (void)len; (void)arg;
	return 1;
}

int
pd_fuzz_mbox(const uint8_t *data, size_t size)
{
	struct split s = { 0, 0, 0 };
	pd_mbox *mb = NULL;
	const char *buf;
	size_t len;
	FILE *fp;
	int rc;

	(void)pd_mbox_split((const char *)data, size, on_msg, &s);
	/* Unescaping ">From " only shortens: no message grows past the input. */
	PD_FUZZ_CHECK(s.bytes <= size);
	/* A callback's non-zero return stops the split. */
	(void)pd_mbox_split((const char *)data, size, stop_first, NULL);

	if (size == 0 || (fp = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	if (pd_mbox_new(fp, &mb) == 0) {
		while ((rc = pd_mbox_next(mb, &buf, &len)) == 1) {
			on_msg(buf, len, &s);
		}
		PD_FUZZ_CHECK(rc <= 0);
	}
	pd_mbox_free(mb);
	fclose(fp);
	return 0;
}

PD_FUZZ_ENTRY(pd_fuzz_mbox)
