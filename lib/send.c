/* Sending digests exactly once (SPEC.md section 5): work in progress. */
#include <stdlib.h>
#include "patchdigest/send.h"
#include "patchdigest/error.h"

int
pd_send_due(pd_store *st, const struct pd_conf *conf, time_t now)
{
	(void)st; (void)conf; (void)now;
	return 0;
}

int
pd_send(pd_store *st, const struct pd_conf *conf, unsigned flags, time_t now,
    struct pd_send_result *res)
{
	(void)st; (void)conf; (void)flags; (void)now; (void)res;
	return PD_EINVAL;
}

int
pd_send_build(const struct pd_conf *conf, const struct pd_digest_rec *d,
    char **out, size_t *outlen)
{
	(void)conf; (void)d;
	*out = NULL;
	*outlen = 0;
	return PD_EINVAL;
}
