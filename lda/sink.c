/*
 * The buffered output both modes share (stdout or the Maildir file): every
 * write checked, the first error kept so the caller learns it once.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lda.h"

void
sink_init(struct sink *s, int fd)
{
	s->fd = fd;
	s->err = 0;
	s->n = 0;
}

static int
write_all(struct sink *s, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(s->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->err = w < 0 ? errno : EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
sink_flush(struct sink *s)
{
	if (s->err != 0)
		return -1;
	if (s->n > 0 && write_all(s, s->buf, s->n) != 0)
		return -1;
	s->n = 0;
	return 0;
}

int
sink_write(const void *buf, size_t n, void *arg)
{
	struct sink *s = arg;

	if (s->err != 0)
		return -1;
	if (s->n + n > sizeof(s->buf)) {
		if (sink_flush(s) != 0)
			return -1;
		if (n >= sizeof(s->buf))	/* large runs skip the copy */
			return write_all(s, buf, n);
	}
	memcpy(s->buf + s->n, buf, n);
	s->n += n;
	return 0;
}
