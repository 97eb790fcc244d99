/* Subsystem and project of a message: placeholder being replaced. */
#include <stdio.h>
#include <string.h>

#include "patchdigest/classify.h"
#include "patchdigest/error.h"

struct pd_classifier {
	int unused;
};

int
pd_classifier_new(const char *rules, const char *maintainers, const char *files,
    pd_classifier **out, char *errbuf, size_t errlen)
{
	(void)rules; (void)maintainers; (void)files;
	if (errlen > 0)
		errbuf[0] = '\0';
	*out = NULL;
	return 0;
}

void
pd_classifier_free(pd_classifier *c)
{
	(void)c;
}

int
pd_classify(const pd_classifier *c, const pd_msg *m, struct pd_class *out)
{
	const char *t, *colon;
	size_t n;

	(void)c;
	memset(out, 0, sizeof(*out));
	snprintf(out->project, sizeof(out->project), "linux");
	t = pd_msg_title(m);
	colon = strchr(t, ':');
	if (colon != NULL && colon > t && strcspn(t, " ") > (size_t)(colon - t - 1)) {
		n = (size_t)(colon - t);
		if (n >= sizeof(out->subsystem))
			n = sizeof(out->subsystem) - 1;
		memcpy(out->subsystem, t, n);
		snprintf(out->reason, sizeof(out->reason), "built-in: first token");
	}
	return 0;
}

const char *
pd_classify_path(const pd_classifier *c, const char *path, char *why, size_t whylen)
{
	(void)c; (void)path;
	if (whylen > 0)
		why[0] = '\0';
	return NULL;
}
