/*
 * fsync-floor: what one durable write costs on the disk under DIR, the floor
 * of any program that must not acknowledge mail before its record is safe.
 * An LMDB commit syncs twice (data pages, then the meta page).
 *
 *   fsync-floor DIR [N [GAP_MS]]
 *
 * Rewrites one 4 KiB block N times (default 200), fdatasync after each;
 * prints the median milliseconds per fdatasync.  With GAP_MS, idles that
 * long before each write: a milter commits between messages, not back to
 * back, and on a virtual disk a sync after an idle gap costs more.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	char path[4096], block[4096];
	double *t;
	struct timespec gap = { 0, 0 };
	int fd, n = 200;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: fsync-floor dir [n [gap_ms]]\n");
		return 64;
	}
	if (argc >= 3 && (n = atoi(argv[2])) < 1)
		n = 1;
	if (argc == 4)
		gap.tv_nsec = (atoi(argv[3]) % 1000) * 1000000L;
	if ((size_t)snprintf(path, sizeof(path), "%s/fsync-floor.tmp", argv[1]) >=
	    sizeof(path) || (t = calloc(n, sizeof(*t))) == NULL)
		return 1;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1) {
		perror(path);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		double t0;

		if (gap.tv_nsec > 0)
			nanosleep(&gap, NULL);
		t0 = now();
		memset(block, i, sizeof(block));
		if (pwrite(fd, block, sizeof(block), 0) != (ssize_t)sizeof(block) ||
		    fdatasync(fd) != 0) {
			perror(path);
			return 1;
		}
		t[i] = (now() - t0) * 1e3;
	}
	close(fd);
	unlink(path);
	qsort(t, n, sizeof(*t), cmp);
	printf("%.3f\n", t[n / 2]);
	free(t);
	return 0;
}
