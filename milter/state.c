/*
 * The daemon's shared state.  Connections run in libmilter's threads; each
 * takes a reference to the configuration generation current when it began,
 * so a reload (SIGHUP, SIGUSR1) only changes new connections.
 *
 * The store is opened once at start-up and shared by every thread: the
 * store is thread-safe and LMDB serializes its writers, so messages hold
 * store_rw only for reading, which keeps the handle alive while in use;
 * (re)opening and closing it take store_rw for writing.  Parsing and
 * classifying, the expensive part, run outside any lock.  A counting limit
 * (slots) bounds how many messages are parsed and held at once, which bounds
 * memory.  Every wait of ours has a timeout, so that a slow digest send or
 * a stuck store can hold up one message at most (the one inside LMDB's
 * writer lock, which has none: write_token); timeouts are on
 * CLOCK_MONOTONIC, so that setting the clock back cannot stretch one to
 * hours.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "patchdigest/error.h"
#include "patchdigest/log.h"
#include "patchdigest/send.h"
#include "milter.h"

#define LOCK_WAIT	30	/* seconds a message waits for a slot and the store */
#define REOPEN_EVERY	10	/* seconds between attempts to reopen the store */
#define SLOTS_MIN	2	/* messages parsed at once: 2 per CPU, within these */
#define SLOTS_MAX	8

static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pdm_cfg *current;
static char *db_override;	/* -D */

static pthread_rwlock_t store_rw = PTHREAD_RWLOCK_INITIALIZER;
static pd_store *store;
static char *store_dir;		/* the directory store was opened from */
static size_t store_map, store_max;	/* and its MapSize, MapSizeMax */
static unsigned long store_gen;	/* bumped on every open, to close the right one */
static time_t store_tried;
static int store_failed;	/* why the last attempt failed */

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slot_cond = PTHREAD_COND_INITIALIZER;
static int slots_free = -1;	/* -1: not sized yet */

/*
 * Held by the one message in the store step.  LMDB lets one writer in at a
 * time and waits for its lock without a timeout: a writer stopped in
 * another process (an import suspended with ^Z, a stuck mdb_load) would
 * hold every message up.  With the token, one waits there; the others wait
 * here, with a timeout.
 */
static pthread_mutex_t write_token = PTHREAD_MUTEX_INITIALIZER;

static pthread_mutex_t busy_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t busy_cond = PTHREAD_COND_INITIALIZER;
static int busy;
static int closing;	/* drained: new messages are refused */

int
pdm_cfg_load(const char *path, const char *dbdir, struct pdm_cfg **out,
    char *errbuf, size_t errlen)
{
	struct pdm_cfg *c;
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return PD_ENOMEM;
	c->refs = 1;
	rc = path ? pd_conf_load(path, &c->conf, errbuf, errlen) : pd_conf_new(&c->conf);
	if (rc != 0)
		goto out;
	if (dbdir != NULL) {
		char *d = strdup(dbdir);

		if (d == NULL) {
			rc = PD_ENOMEM;
			goto out;
		}
		free(c->conf->database);
		c->conf->database = d;
	}
	if ((rc = pd_classifier_new(c->conf->subsystem_rules, c->conf->maintainers,
	    c->conf->maintainers_files, &c->cl, errbuf, errlen)) != 0)
		goto out;
	rc = pdm_hosts_new(c->conf->internal_hosts, &c->internal, errbuf, errlen);
out:
	if (rc != 0) {
		if (errlen && errbuf[0] == '\0')
			snprintf(errbuf, errlen, "%s: %s", path ? path : "defaults",
			    pd_strerror(rc));
		c->refs = 0;
		pd_conf_free(c->conf);
		pd_classifier_free(c->cl);
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

static void
cfg_free(struct pdm_cfg *c)
{
	pd_conf_free(c->conf);
	pd_classifier_free(c->cl);
	pdm_hosts_free(c->internal);
	free(c);
}

void
pdm_cfg_put(struct pdm_cfg *c)
{
	int last;

	if (c == NULL)
		return;
	pthread_mutex_lock(&cfg_lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&cfg_lock);
	if (last)
		cfg_free(c);
}

int
pdm_state_init(struct pdm_cfg *cfg, const char *dbdir)
{
	if (dbdir != NULL && (db_override = strdup(dbdir)) == NULL)
		return PD_ENOMEM;
	current = cfg;
	return 0;
}

struct pdm_cfg *
pdm_state_cfg(void)
{
	struct pdm_cfg *c;

	pthread_mutex_lock(&cfg_lock);
	if ((c = current) != NULL)
		c->refs++;
	pthread_mutex_unlock(&cfg_lock);
	return c;
}

void
pdm_state_reload(const char *path)
{
	struct pdm_cfg *c, *old;
	char err[512] = "";

	if (pdm_cfg_load(path, db_override, &c, err, sizeof(err)) != 0) {
		log_warnx("reload failed, keeping the old configuration: %s", err);
		return;
	}
	pthread_mutex_lock(&cfg_lock);
	old = current;
	current = c;
	pthread_mutex_unlock(&cfg_lock);
	pdm_cfg_put(old);
	log_info("configuration reloaded from %s", path ? path : "defaults");
}

static void
deadline(struct timespec *until)
{
	clock_gettime(CLOCK_MONOTONIC, until);
	until->tv_sec += LOCK_WAIT;
}

static int
is_current(const struct pd_conf *conf)
{
	int r;

	pthread_mutex_lock(&cfg_lock);
	r = current != NULL && current->conf == conf;
	pthread_mutex_unlock(&cfg_lock);
	return r;
}

/*
 * The store open is conf's: its database, and its sizes if conf is the
 * current configuration (a reload may raise them; a connection older than
 * the reload must not take them back).
 */
static int
store_is(const struct pd_conf *conf)
{
	return store != NULL && strcmp(store_dir, conf->database) == 0 &&
	    ((store_map == conf->map_size && store_max == conf->map_size_max) ||
	    !is_current(conf));
}

/* With store_rw held for writing: the store of conf, opened (again) if needed. */
static int
store_get(const struct pd_conf *conf)
{
	time_t now = time(NULL);
	int rc;

	if (store_is(conf))
		return 0;
	if (store != NULL) {
		pd_store_close(store);
		store = NULL;
		log_info("database is now %s (MapSize %zu, MapSizeMax %zu)",
		    conf->database, conf->map_size, conf->map_size_max);
	} else if (store_tried != 0 && now - store_tried < REOPEN_EVERY)
		return store_failed;
	store_tried = now;
	free(store_dir);
	if ((store_dir = strdup(conf->database)) == NULL)
		return store_failed = PD_ENOMEM;
	/* A damaged page would crash the milter, and every connection with it. */
	rc = pd_store_open(conf->database, PD_STORE_CREATE | PD_STORE_CHECK,
	    conf->map_size, conf->map_size_max, &store);
	if (rc != 0) {
		log_warnx("cannot open database %s: %s", conf->database, pd_strerror(rc));
		store = NULL;
		return store_failed = rc;
	}
	store_map = conf->map_size;
	store_max = conf->map_size_max;
	store_gen++;
	store_tried = 0;
	return 0;
}

/*
 * The store of conf, with store_rw held (for reading, or for writing when
 * it had to be opened: rare, and it saves a second round between
 * configurations naming different databases).  Release with store_release.
 */
static int
store_acquire(const struct pd_conf *conf, const struct timespec *until,
    pd_store **out, unsigned long *gen)
{
	int rc;

	*out = NULL;
	if (pthread_rwlock_clockrdlock(&store_rw, CLOCK_MONOTONIC, until) != 0)
		return PD_EBUSY;
	if (!store_is(conf)) {
		pthread_rwlock_unlock(&store_rw);
		if (pthread_rwlock_clockwrlock(&store_rw, CLOCK_MONOTONIC,
		    until) != 0)
			return PD_EBUSY;
		if ((rc = store_get(conf)) != 0) {
			pthread_rwlock_unlock(&store_rw);
			return rc;
		}
	}
	*out = store;
	*gen = store_gen;
	return 0;
}

/*
 * Drop store_rw.  After a store error, keep the handle for passing
 * conditions, else close it so that the next message reopens it (unless
 * another thread already did).
 */
static void
store_release(int err, unsigned long gen)
{
	struct timespec until;

	pthread_rwlock_unlock(&store_rw);
	if (err == 0 || err == PD_EBUSY || err == PD_EFULL || err == PD_ENOMEM)
		return;
	deadline(&until);
	if (pthread_rwlock_clockwrlock(&store_rw, CLOCK_MONOTONIC, &until) != 0)
		return;
	if (store != NULL && store_gen == gen) {
		log_warnx("closing the database after: %s", pd_strerror(err));
		pd_store_close(store);
		store = NULL;
		store_tried = 0;
	}
	pthread_rwlock_unlock(&store_rw);
}

void
pdm_state_open_store(void)
{
	struct pdm_cfg *c = pdm_state_cfg();

	if (c == NULL)
		return;
	pthread_rwlock_wrlock(&store_rw);
	(void)store_get(c->conf);
	pthread_rwlock_unlock(&store_rw);
	pdm_cfg_put(c);
}

void
pdm_state_shutdown(void)
{
	struct pdm_cfg *c;

	pthread_rwlock_wrlock(&store_rw);
	pd_store_close(store);
	store = NULL;
	free(store_dir);
	store_dir = NULL;
	pthread_rwlock_unlock(&store_rw);
	pthread_mutex_lock(&cfg_lock);
	c = current;
	current = NULL;
	pthread_mutex_unlock(&cfg_lock);
	pdm_cfg_put(c);
	free(db_override);
	db_override = NULL;
}

static int
slot_take(const struct timespec *until)
{
	int rc = 0;

	pthread_mutex_lock(&slot_lock);
	if (slots_free < 0) {
		long n = 2 * sysconf(_SC_NPROCESSORS_ONLN);

		slots_free = n < SLOTS_MIN ? SLOTS_MIN : n > SLOTS_MAX ? SLOTS_MAX : (int)n;
	}
	while (slots_free == 0 && rc == 0)
		rc = pthread_cond_clockwait(&slot_cond, &slot_lock,
		    CLOCK_MONOTONIC, until);
	if (slots_free > 0) {
		slots_free--;
		rc = 0;
	} else
		rc = PD_EBUSY;
	pthread_mutex_unlock(&slot_lock);
	return rc;
}

static void
slot_give(void)
{
	pthread_mutex_lock(&slot_lock);
	slots_free++;
	pthread_cond_signal(&slot_cond);
	pthread_mutex_unlock(&slot_lock);
}

/*
 * pd_ingest's steps and results, with only the store step under store_rw.
 * Returns 0 when parsed (a store failure is in res->store_err), the parse
 * error, or the error that kept the message from the store.
 */
static int
ingest(struct pdm_cfg *cfg, const char *raw, size_t len, int count,
    const struct timespec *until, struct pd_ingest *res)
{
	pd_msg *m = NULL;
	pd_store *st = NULL;
	unsigned long gen = 0;
	int rc;

	if ((rc = pd_ingest_parse(cfg->cl, raw, len, NULL, res, &m)) != 0)
		return rc;
	if (count) {
		if (pthread_mutex_clocklock(&write_token, CLOCK_MONOTONIC, until) != 0)
			rc = PD_EBUSY;
		else if ((rc = store_acquire(cfg->conf, until, &st, &gen)) != 0)
			pthread_mutex_unlock(&write_token);
	}
	if (rc != 0) {
		pd_msg_free(m);
		if (rc == PD_EBUSY)
			log_warnx("database busy for %d s", LOCK_WAIT);
		return rc;
	}
	pd_ingest_record(st, m, res);
	if (st != NULL) {
		/* first: after an error store_release may wait for store_rw */
		pthread_mutex_unlock(&write_token);
		store_release(res->store_err, gen);
	}
	pd_msg_free(m);
	return 0;
}

int
pdm_ingest(struct pdm_cfg *cfg, const char *raw, size_t len, int count,
    struct pd_ingest *res, struct pd_tags *tags)
{
	struct timespec until;
	int rc;

	memset(res, 0, sizeof(*res));
	deadline(&until);
	if ((rc = slot_take(&until)) != 0) {
		log_warnx("no parse slot for %d s", LOCK_WAIT);
		return rc;
	}
	rc = ingest(cfg, raw, len, count, &until, res);
	slot_give();
	if (rc == 0 && !res->parsed)
		rc = PD_EPARSE;
	if (rc == 0 && res->store_err != 0)
		rc = res->store_err;
	if (rc != 0)
		return rc;
	if (count && res->stored && !res->duplicate && cfg->conf->schedule.kind == PD_SCHED_EVERY)
		pdm_sched_poke();
	return pd_tags_build(res, tags);
}

int
pdm_state_send_due(const struct pd_conf *conf, int *sent, char *errbuf, size_t errlen)
{
	struct pd_send_result res;
	struct timespec until;
	pd_store *st;
	unsigned long gen;
	int rc;

	*sent = 0;
	deadline(&until);
	if ((rc = store_acquire(conf, &until, &st, &gen)) != 0) {
		snprintf(errbuf, errlen, "%s", pd_strerror(rc));
		return rc;
	}
	memset(&res, 0, sizeof(res));
	rc = pd_send(st, conf, PD_SEND_DUE, time(NULL), &res);
	*sent = res.sent;
	snprintf(errbuf, errlen, "%s", res.errbuf[0] ? res.errbuf : pd_strerror(rc));
	store_release(0, gen);
	return rc;
}

int
pdm_state_busy_begin(void)
{
	int rc = 0;

	pthread_mutex_lock(&busy_lock);
	if (closing)
		rc = -1;
	else
		busy++;
	pthread_mutex_unlock(&busy_lock);
	return rc;
}

void
pdm_state_busy_end(void)
{
	pthread_mutex_lock(&busy_lock);
	if (--busy == 0)
		pthread_cond_broadcast(&busy_cond);
	pthread_mutex_unlock(&busy_lock);
}

int
pdm_state_drain(int seconds)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&busy_lock);
	/* first: under steady load the messages would never all be done */
	closing = 1;
	while (busy > 0 && rc == 0)
		rc = pthread_cond_clockwait(&busy_cond, &busy_lock,
		    CLOCK_MONOTONIC, &until);
	rc = busy > 0 ? -1 : 0;
	pthread_mutex_unlock(&busy_lock);
	return rc;
}
