/* The LMDB store: placeholder, being written (issue 3). */
#include <stdlib.h>
#include "patchdigest/error.h"
#include "patchdigest/store.h"

int pd_store_open(const char *dir, unsigned flags, size_t map_size, size_t map_max,
    pd_store **out) { (void)dir; (void)flags; (void)map_size; (void)map_max; *out = NULL; return PD_EINVAL; }
void pd_store_close(pd_store *st) { (void)st; }
int pd_store_begin(pd_store *st) { (void)st; return PD_EINVAL; }
int pd_store_commit(pd_store *st) { (void)st; return PD_EINVAL; }
void pd_store_abort(pd_store *st) { (void)st; }
int pd_store_put(pd_store *st, const pd_msg *m, const struct pd_class *cls,
    struct pd_put_result *res) { (void)st; (void)m; (void)cls; (void)res; return PD_EINVAL; }
int pd_store_get_msg(pd_store *st, const char *id,
    int (*fn)(const struct pd_rec *r, void *arg), void *arg) { (void)st; (void)id; (void)fn; (void)arg; return PD_EINVAL; }
int pd_store_range(pd_store *st, const char *id, struct pd_range *out) { (void)st; (void)id; (void)out; return PD_EINVAL; }
int pd_store_foreach_range(pd_store *st,
    int (*fn)(const struct pd_range *r, void *arg), void *arg) { (void)st; (void)fn; (void)arg; return PD_EINVAL; }
int pd_store_foreach_msg(pd_store *st, const struct pd_range *r,
    int (*fn)(const struct pd_rec *rec, void *arg), void *arg) { (void)st; (void)r; (void)fn; (void)arg; return PD_EINVAL; }
const char *pd_counter_name(enum pd_counter c) { (void)c; return "?"; }
int pd_store_foreach_count(pd_store *st, const struct pd_range *r, enum pd_counter c,
    int (*fn)(const char *name, uint64_t count, void *arg), void *arg) { (void)st; (void)r; (void)c; (void)fn; (void)arg; return PD_EINVAL; }
int pd_store_series_get(pd_store *st, const char *id, struct pd_series *out) { (void)st; (void)id; (void)out; return PD_EINVAL; }
void pd_series_clear(struct pd_series *s) { (void)s; }
void pd_digest_rec_clear(struct pd_digest_rec *d) { (void)d; }
int pd_store_close_range(pd_store *st, int force, pd_render_fn render, void *arg,
    struct pd_range *closed) { (void)st; (void)force; (void)render; (void)arg; (void)closed; return PD_EINVAL; }
int pd_store_unsent_digest(pd_store *st, struct pd_digest_rec *out) { (void)st; (void)out; return PD_EINVAL; }
int pd_store_digest_get(pd_store *st, uint64_t range_no, struct pd_digest_rec *out) { (void)st; (void)range_no; (void)out; return PD_EINVAL; }
int pd_store_mark_sent(pd_store *st, uint64_t range_no, const char *msgid) { (void)st; (void)range_no; (void)msgid; return PD_EINVAL; }
int pd_store_open_count(pd_store *st, uint64_t *patch_messages) { (void)st; (void)patch_messages; return PD_EINVAL; }
