/* Fuzz target: the configuration parser (pd_conf_parse, pd_schedule_parse). */
#include <string.h>

#include "patchdigest/conf.h"
#include "patchdigest/error.h"
#include "fuzz.h"

static void
conf_touch(const struct pd_conf *c)
{
	pd_fuzz_touch(c->database);
	pd_fuzz_touch(c->list_name);
	pd_fuzz_touch(c->sendmail);
	pd_fuzz_touch(c->socket);
	if (c->list_id != NULL)
		pd_fuzz_touch(c->list_id);
	if (c->archive_url != NULL)
		pd_fuzz_touch(c->archive_url);
	PD_FUZZ_CHECK(c->ndigest_to == 0 || c->digest_to != NULL);
	for (size_t i = 0; i < c->ndigest_to; i++)
		pd_fuzz_touch(c->digest_to[i]);
	if (c->digest_to != NULL)
		PD_FUZZ_CHECK(c->digest_to[c->ndigest_to] == NULL);
	PD_FUZZ_CHECK(c->ninternal_hosts == 0 || c->internal_hosts != NULL);
	for (size_t i = 0; i < c->ninternal_hosts; i++)
		pd_fuzz_touch(c->internal_hosts[i]);
	if (c->schedule.kind == PD_SCHED_DAILY || c->schedule.kind == PD_SCHED_WEEKLY) {
		PD_FUZZ_CHECK(c->schedule.hour >= 0 && c->schedule.hour <= 23);
		PD_FUZZ_CHECK(c->schedule.min >= 0 && c->schedule.min <= 59);
	}
}

int
pd_fuzz_conf(const uint8_t *data, size_t size)
{
	struct pd_conf *c = NULL;
	struct pd_schedule sched;
	char err[256], *s;
	int rc;

	err[0] = '\0';
	rc = pd_conf_parse((const char *)data, size, "fuzz.conf", &c, err, sizeof(err));
	PD_FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (rc == 0) {
		PD_FUZZ_CHECK(c != NULL);
		conf_touch(c);
	} else {
		PD_FUZZ_CHECK(rc < 0);
	}
	pd_conf_free(c);

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (pd_schedule_parse(s, &sched) == 0 && sched.kind == PD_SCHED_WEEKLY)
		PD_FUZZ_CHECK(sched.wday >= 0 && sched.wday <= 6);
	free(s);
	return 0;
}

PD_FUZZ_ENTRY(pd_fuzz_conf)
