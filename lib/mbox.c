/* mbox reading: placeholder, being written (issue 3). */
#include "patchdigest/error.h"
#include "patchdigest/mbox.h"

int pd_mbox_new(FILE *fp, pd_mbox **out) { (void)fp; *out = NULL; return PD_EINVAL; }
int pd_mbox_next(pd_mbox *mb, const char **buf, size_t *len) { (void)mb; (void)buf; (void)len; return PD_EINVAL; }
size_t pd_mbox_bytes(const pd_mbox *mb) { (void)mb; return 0; }
void pd_mbox_free(pd_mbox *mb) { (void)mb; }
int pd_mbox_split(const char *buf, size_t len,
    int (*fn)(const char *msg, size_t len, void *arg), void *arg) { (void)buf; (void)len; (void)fn; (void)arg; return PD_EINVAL; }
