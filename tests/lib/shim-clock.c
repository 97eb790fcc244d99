/*
 * LD_PRELOAD shim for tests/integration/63-milter-schedule.sh: the wall
 * clock the process reads is PD_CLOCK_SHIFT seconds ahead of the kernel's,
 * as if the clock had been set back by that much after the process read
 * it.  A wait with a deadline on CLOCK_REALTIME then lasts that much
 * longer; one on CLOCK_MONOTONIC does not change.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

typedef int clock_gettime_fn(clockid_t, struct timespec *);

static time_t
shift(void)
{
	const char *s = getenv("PD_CLOCK_SHIFT");

	return s != NULL ? (time_t)strtoll(s, NULL, 10) : 0;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	clock_gettime_fn *next;
	int rc;

	next = (clock_gettime_fn *)dlsym(RTLD_NEXT, "clock_gettime");
	rc = next(id, ts);
	if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
		ts->tv_sec += shift();
	return rc;
}

int
gettimeofday(struct timeval *tv, void *tz)
{
	struct timespec ts;

	(void)tz;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return -1;
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

time_t
time(time_t *t)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (time_t)-1;
	if (t != NULL)
		*t = ts.tv_sec;
	return ts.tv_sec;
}
