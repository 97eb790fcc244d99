/*
 * The daemon's shared state.  Connections run in libmilter's threads; each
 * takes a reference to the configuration generation current when it began,
 * so a reload (SIGHUP, SIGUSR1) only changes new connections.
 *
 * The store is opened once at start-up and shared.  Every use of it (and of
 * GMime, through pd_ingest) holds store_lock: LMDB serializes writers
 * anyway, and one parse at a time bounds memory.  The lock is taken with a
 * timeout, so that a slow digest send can never hold mail up for long.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patchdigest/error.h"
#include "patchdigest/log.h"
#include "patchdigest/send.h"
#include "milter.h"

#define LOCK_WAIT	30	/* seconds a message waits for the store */
#define REOPEN_EVERY	10	/* seconds between attempts to reopen the store */

static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pdm_cfg *current;
static char *db_override;	/* -D */

static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static pd_store *store;
static char *store_dir;		/* the directory store was opened from */
static time_t store_tried;

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

/* With store_lock held: the store of conf, opened (again) if needed. */
static int
store_get(const struct pd_conf *conf, pd_store **out)
{
	time_t now = time(NULL);
	int rc;

	if (store != NULL && strcmp(store_dir, conf->database) == 0) {
		*out = store;
		return 0;
	}
	*out = NULL;
	if (store != NULL) {
		pd_store_close(store);
		store = NULL;
		log_info("database is now %s", conf->database);
	} else if (store_tried != 0 && now - store_tried < REOPEN_EVERY)
		return PD_ENOSTORE;
	store_tried = now;
	free(store_dir);
	if ((store_dir = strdup(conf->database)) == NULL)
		return PD_ENOMEM;
	rc = pd_store_open(conf->database, PD_STORE_CREATE, conf->map_size,
	    conf->map_size_max, &store);
	if (rc != 0) {
		log_warnx("cannot open database %s: %s", conf->database, pd_strerror(rc));
		store = NULL;
		return rc;
	}
	store_tried = 0;
	*out = store;
	return 0;
}

/* After a store error: keep the handle for passing conditions, else reopen. */
static void
store_failed(int err)
{
	if (err == PD_EBUSY || err == PD_EFULL || err == PD_ENOMEM || store == NULL)
		return;
	log_warnx("closing the database after: %s", pd_strerror(err));
	pd_store_close(store);
	store = NULL;
	store_tried = 0;
}

void
pdm_state_open_store(void)
{
	struct pdm_cfg *c = pdm_state_cfg();
	pd_store *st;

	if (c == NULL)
		return;
	pthread_mutex_lock(&store_lock);
	(void)store_get(c->conf, &st);
	pthread_mutex_unlock(&store_lock);
	pdm_cfg_put(c);
}

void
pdm_state_shutdown(void)
{
	struct pdm_cfg *c;

	pthread_mutex_lock(&store_lock);
	pd_store_close(store);
	store = NULL;
	free(store_dir);
	store_dir = NULL;
	pthread_mutex_unlock(&store_lock);
	pthread_mutex_lock(&cfg_lock);
	c = current;
	current = NULL;
	pthread_mutex_unlock(&cfg_lock);
	pdm_cfg_put(c);
	free(db_override);
	db_override = NULL;
}

static int
lock_store(void)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += LOCK_WAIT;
	return pthread_mutex_timedlock(&store_lock, &until) == 0 ? 0 : PD_EBUSY;
}

int
pdm_ingest(struct pdm_cfg *cfg, const char *raw, size_t len, int count,
    struct pd_ingest *res, struct pd_tags *tags)
{
	pd_store *st = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = lock_store()) != 0) {
		log_warnx("database busy for %d s", LOCK_WAIT);
		return rc;
	}
	if (count && (rc = store_get(cfg->conf, &st)) != 0)
		goto out;
	rc = pd_ingest(st, cfg->cl, raw, len, NULL, res);
	if (rc == 0 && res->store_err != 0) {
		rc = res->store_err;
		store_failed(rc);
	}
out:
	pthread_mutex_unlock(&store_lock);
	if (rc == 0 && !res->parsed)
		rc = PD_EPARSE;
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
	pd_store *st;
	int rc;

	*sent = 0;
	if ((rc = lock_store()) != 0)
		return rc;
	if ((rc = store_get(conf, &st)) == 0) {
		memset(&res, 0, sizeof(res));
		rc = pd_send(st, conf, PD_SEND_DUE, time(NULL), &res);
		*sent = res.sent;
		snprintf(errbuf, errlen, "%s", res.errbuf[0] ? res.errbuf : pd_strerror(rc));
	} else
		snprintf(errbuf, errlen, "%s", pd_strerror(rc));
	pthread_mutex_unlock(&store_lock);
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

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&busy_lock);
	while (busy > 0 && rc == 0)
		rc = pthread_cond_timedwait(&busy_cond, &busy_lock, &until);
	closing = 1;
	rc = busy > 0 ? -1 : 0;
	pthread_mutex_unlock(&busy_lock);
	return rc;
}
