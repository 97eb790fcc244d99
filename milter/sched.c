/*
 * The optional digest schedule inside the daemon (Schedule keyword): a
 * thread that runs the same exactly-once send as `patchdigest send --due`
 * every minute, and after counted patch messages for "every N".  Two
 * senders at once (cron and this thread) are safe: the store closes a range
 * only once.  The wait between checks is on CLOCK_MONOTONIC: on the wall
 * clock, setting it back a day would stop the checks for a day.
 */
#include <pthread.h>
#include <time.h>

#include "patchdigest/error.h"
#include "patchdigest/log.h"
#include "milter.h"

#define PERIOD	60	/* seconds between checks */

static pthread_t tid;
static int started;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int stop, poked;

static void
check(void)
{
	struct pdm_cfg *c = pdm_state_cfg();
	char err[256];
	int rc, sent;

	if (c == NULL)
		return;
	if (c->conf->schedule.kind != PD_SCHED_NONE) {
		rc = pdm_state_send_due(c->conf, &sent, err, sizeof(err));
		if (rc != 0 && rc != PD_EEMPTY)
			log_warnx("digest schedule: %s", err);
		else if (sent > 0)
			log_info("digest schedule: %d digest(s) sent", sent);
	}
	pdm_cfg_put(c);
}

static void *
sched_thread(void *arg)
{
	struct timespec until;

	(void)arg;
	pthread_mutex_lock(&lock);
	while (!stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += PERIOD;
		while (!stop && !poked && pthread_cond_clockwait(&cond, &lock,
		    CLOCK_MONOTONIC, &until) == 0)
			;
		if (stop)
			break;
		poked = 0;
		pthread_mutex_unlock(&lock);
		check();
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int
pdm_sched_start(void)
{
	if (pthread_create(&tid, NULL, sched_thread, NULL) != 0)
		return -1;
	started = 1;
	return 0;
}

void
pdm_sched_poke(void)
{
	pthread_mutex_lock(&lock);
	poked = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

void
pdm_sched_stop(void)
{
	if (!started)
		return;
	pthread_mutex_lock(&lock);
	stop = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	pthread_join(tid, NULL);
	started = 0;
}
