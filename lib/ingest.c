/* Parse, classify, store: placeholder, being written (issue 3). */
#include <string.h>
#include "patchdigest/error.h"
#include "patchdigest/ingest.h"

int pd_ingest(pd_store *st, const pd_classifier *cl, const char *raw, size_t len,
    const struct pd_parse_opts *opts, struct pd_ingest *res) { (void)st; (void)cl; (void)raw; (void)len; (void)opts; memset(res, 0, sizeof(*res)); return PD_EINVAL; }
void pd_series_guess(const pd_msg *m, char *out, size_t outlen) { (void)m; if (outlen) out[0] = '\0'; }
