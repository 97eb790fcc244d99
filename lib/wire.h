/*
 * Internal to the store's modules (lib/store.c, record.c, series.c,
 * credit.c): values as bytes.  A wbuf grows as it is written and notes
 * a failed allocation in err; an rbuf notes a read past its end or a
 * malformed field in err and then reads zeros and empty strings, so that
 * a decoder checks once, at its end.  Integers are LEB128 varints (signed
 * ones zig-zag), strings a varint length, the bytes and a NUL, so that
 * pointers into the map are C strings; be64 numbers sort as keys.
 */
#ifndef PATCHDIGEST_WIRE_H
#define PATCHDIGEST_WIRE_H

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct wbuf {
	unsigned char *p;
	size_t len, cap;
	int err;
};

struct rbuf {
	const unsigned char *p, *end;
	int err;
};

static inline void
w_raw(struct wbuf *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		unsigned char *np;

		while (cap < b->len + n)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->err = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static inline void
w_u64(struct wbuf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;

	do {
		tmp[n] = v & 0x7f;
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	w_raw(b, tmp, n);
}

static inline void
w_i64(struct wbuf *b, int64_t v)
{
	w_u64(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static inline void
w_mem(struct wbuf *b, const void *p, size_t n)
{
	w_u64(b, n);
	w_raw(b, p, n);
	w_raw(b, "", 1);
}

static inline void
w_str(struct wbuf *b, const char *s)
{
	if (s == NULL)
		s = "";
	w_mem(b, s, strlen(s));
}

static inline uint64_t
r_u64(struct rbuf *r)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (!r->err) {
		if (r->p >= r->end || shift > 63) {
			r->err = 1;
			break;
		}
		v |= (uint64_t)(*r->p & 0x7f) << shift;
		if ((*r->p++ & 0x80) == 0)
			return v;
		shift += 7;
	}
	return 0;
}

static inline int64_t
r_i64(struct rbuf *r)
{
	uint64_t v = r_u64(r);

	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static inline int
r_int(struct rbuf *r)
{
	int64_t v = r_i64(r);

	if (v < INT_MIN || v > INT_MAX)
		r->err = 1;
	return (int)v;
}

static inline const char *
r_mem(struct rbuf *r, size_t *lenp)
{
	uint64_t n = r_u64(r);
	const char *s;

	if (r->err || n >= (uint64_t)(r->end - r->p) || r->p[n] != '\0') {
		r->err = 1;
		if (lenp)
			*lenp = 0;
		return "";
	}
	s = (const char *)r->p;
	r->p += n + 1;
	if (lenp)
		*lenp = n;
	return s;
}

static inline const char *
r_str(struct rbuf *r)
{
	return r_mem(r, NULL);
}

/* A reader of what b holds: nothing, when it was never written to. */
static inline struct rbuf
r_of(const struct wbuf *b)
{
	struct rbuf r = { b->p, b->p, 0 };

	if (b->p != NULL)
		r.end = b->p + b->len;
	return r;
}

static inline void
be64(unsigned char out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = v & 0xff;
}

static inline uint64_t
get_be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* s with A-Z lowered, for keys that ignore case. */
static inline void
w_lower(struct wbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);

		w_raw(b, &c, 1);
	}
}

#endif
