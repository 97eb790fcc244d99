/* Fuzz target: the subject grammar (pd_subject_parse). */
#include <string.h>

#include "patchdigest/error.h"
#include "patchdigest/msg.h"
#include "patchdigest/subject.h"
#include "fuzz.h"

int
pd_fuzz_subject(const uint8_t *data, size_t size)
{
	struct pd_subject s;
	char *buf;
	int kind;

	/* The grammar reads a C string: an embedded NUL just ends it. */
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	memset(&s, 0, sizeof(s));
	if (pd_subject_parse(buf, &s) == 0) {
		PD_FUZZ_CHECK(s.ntags <= PD_SUBJECT_MAXTAGS);
		for (size_t i = 0; i < s.ntags; i++)
			pd_fuzz_touch(s.tags[i]);
		pd_fuzz_touch(s.prefix);
		pd_fuzz_touch(s.title);
		/* Both parts are cut from the input: neither can be longer. */
		PD_FUZZ_CHECK(strlen(s.title) <= strlen(buf));
		PD_FUZZ_CHECK((s.cx < 0) == (s.cn < 0));
		PD_FUZZ_CHECK(s.cx < 0 || s.cx <= s.cn);
		kind = pd_subject_kind(&s);
		PD_FUZZ_CHECK(kind >= PD_KIND_OTHER && kind <= PD_KIND_PATCH);
		PD_FUZZ_CHECK(kind != PD_KIND_REPLY || s.reply);
	}
	pd_subject_clear(&s);
	free(buf);
	return 0;
}

PD_FUZZ_ENTRY(pd_fuzz_subject)
