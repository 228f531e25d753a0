/*
 * util.c: allocators that abort with a message, growable buffers, a stable
 * byte hash, and two open-addressing hash maps used on import hot paths.
 */
#include "config.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

/* malloc or die. */
void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal("out of memory allocating %zu bytes", n);
	return p;
}

/* calloc or die. */
void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (p == NULL)
		fatal("out of memory allocating %zu x %zu bytes", n, sz);
	return p;
}

/* realloc or die. */
void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		fatal("out of memory allocating %zu bytes", n);
	return p;
}

/* realloc of n elements of sz bytes, checking the product. */
void *
xreallocarray(void *p, size_t n, size_t sz)
{
	if (sz != 0 && n > SIZE_MAX / sz)
		fatal("allocation of %zu x %zu bytes overflows", n, sz);
	return xrealloc(p, n * sz);
}

/* strdup or die. */
char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* Copy of the first n bytes of s, NUL-terminated. */
char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* An empty buffer. */
void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Free the buffer's storage. */
void
buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

/* Empty the buffer, keeping its storage. */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static void
buf_grow(struct buf *b, size_t more)
{
	size_t need = b->len + more + 1;

	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < need)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap);
}

/* Append n bytes. */
void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* s appended with its NUL, as a reference (offset + 1); NULL stays NULL. */
const char *
buf_ref_str(struct buf *b, const char *s)
{
	size_t off = b->len + 1;

	if (s == NULL)
		return NULL;
	buf_add(b, s, strlen(s) + 1);
	return (const char *)(uintptr_t)off;
}

/* A reference from buf_ref_str() made a pointer into b. */
void
buf_ref_fix(const struct buf *b, const char **p)
{
	if (*p != NULL)
		*p = b->data + ((uintptr_t)*p - 1);
}

/* Append a string. */
void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Append one byte. */
void
buf_addc(struct buf *b, char c)
{
	buf_grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

/* Append formatted text. */
void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Append a JSON string literal; bytes >= 0x80 pass through (UTF-8). */
void
buf_add_json_str(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':  buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		default:
			if (c < 0x20) {
				char u[6] = { '\\', 'u', '0', '0',
				    hex[c >> 4], hex[c & 15] };
				buf_add(b, u, 6);
			} else
				buf_addc(b, (char)c);
		}
	}
	buf_addc(b, '"');
}

static inline uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* A fast stable 64-bit hash: 8-byte words folded with multiply-mix. */
uint64_t
hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL), w;
	size_t i;

	while (n >= 8) {
		memcpy(&w, s, 8);
		h = (h ^ mix64(w)) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
		s += 8;
		n -= 8;
	}
	/* the tail as the word memcpy gives on a little-endian machine,
	 * without a call for a variable length: 4..7 bytes as two
	 * overlapping 4-byte loads, the bytes they share being equal */
	if (n >= 4) {
		uint32_t lo, hi;

		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		w = lo | (uint64_t)hi << (8 * (n - 4));
	} else
		for (w = 0, i = n; i > 0; i--)
			w = w << 8 | s[i - 1];
	h = (h ^ mix64(w ^ n)) * 0x9e3779b97f4a7c15ULL;
	return mix64(h);
}

/* ---- string map ---- */

#define SMAP_INLINE	36	/* keys shorter than this live in the slot */

struct sslot {				/* 64 bytes: one cache line */
	uint64_t	 hash;
	int64_t		 val;
	uint32_t	 len;
	uint32_t	 used;
	char		*heap;		/* key when len >= SMAP_INLINE */
	char		 inl[SMAP_INLINE];
};

struct smap {
	struct sslot	*slots;
	size_t		 cap;	/* power of two */
	size_t		 n;
};

static inline const char *
sslot_key(const struct sslot *s)
{
	return s->len < SMAP_INLINE ? s->inl : s->heap;
}

/* An empty string map. */
struct smap *
smap_new(void)
{
	struct smap *m = xcalloc(1, sizeof(*m));

	m->cap = 64;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	return m;
}

/* Free the map and its keys. */
void
smap_free(struct smap *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->cap; i++)
		if (m->slots[i].used && m->slots[i].len >= SMAP_INLINE)
			free(m->slots[i].heap);
	free(m->slots);
	free(m);
}

/* a == b for n bytes: short keys without a call (the usual ids) */
static inline int
key_eq(const char *a, const char *b, size_t n)
{
	uint64_t x, y, u, v;
	uint32_t p, q, r, t;

	if (n > 16)
		return memcmp(a, b, n) == 0;
	if (n >= 8) {			/* two words, overlapping */
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		memcpy(&u, a + n - 8, 8);
		memcpy(&v, b + n - 8, 8);
		return x == y && u == v;
	}
	if (n >= 4) {
		memcpy(&p, a, 4);
		memcpy(&q, b, 4);
		memcpy(&r, a + n - 4, 4);
		memcpy(&t, b + n - 4, 4);
		return p == q && r == t;
	}
	while (n > 0) {
		n--;
		if (a[n] != b[n])
			return 0;
	}
	return 1;
}

static struct sslot *
smap_find(struct smap *m, const char *k, size_t len, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);

	for (;;) {
		struct sslot *s = &m->slots[i];

		if (!s->used || (s->hash == h && s->len == len &&
		    key_eq(sslot_key(s), k, len)))
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

uint64_t
smap_hash(const char *k, size_t len)
{
	return hash_bytes(k, len, 0);
}

/* Start loading the slot of the key whose hash is h into the cache. */
void
smap_prefetch_h(const struct smap *m, uint64_t h)
{
	__builtin_prefetch(&m->slots[(size_t)h & (m->cap - 1)]);
}

/* Value slot of key (whose hash is h), or NULL. */
int64_t *
smap_get_h(struct smap *m, const char *k, size_t len, uint64_t h)
{
	struct sslot *s = smap_find(m, k, len, h);

	return s->used ? &s->val : NULL;
}

int64_t *
smap_get(struct smap *m, const char *k, size_t len)
{
	return smap_get_h(m, k, len, smap_hash(k, len));
}

static void
smap_rehash(struct smap *m)
{
	struct sslot *old = m->slots;
	size_t i, oldcap = m->cap;

	m->cap *= 2;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (i = 0; i < oldcap; i++)
		if (old[i].used)
			*smap_find(m, sslot_key(&old[i]), old[i].len,
			    old[i].hash) = old[i];
	free(old);
}

/* Slot of key, inserted with v when absent. */
int64_t *
smap_put(struct smap *m, const char *k, size_t len, int64_t v, int *isnew)
{
	uint64_t h = hash_bytes(k, len, 0);
	struct sslot *s;

	if ((m->n + 1) * 2 > m->cap)
		smap_rehash(m);
	s = smap_find(m, k, len, h);
	if (s->used) {
		if (isnew)
			*isnew = 0;
		return &s->val;
	}
	if (len > UINT32_MAX)
		fatal("hash key of %zu bytes", len);
	s->used = 1;
	s->len = (uint32_t)len;
	if (len < SMAP_INLINE) {
		memcpy(s->inl, k, len);
		s->inl[len] = '\0';
	} else
		s->heap = xstrndup(k, len);
	s->hash = h;
	s->val = v;
	m->n++;
	if (isnew)
		*isnew = 1;
	return &s->val;
}

/* Number of keys. */
size_t
smap_count(const struct smap *m)
{
	return m->n;
}

/* ---- int map ---- */

struct imap {
	unsigned char	*slots;	/* cap x (8-byte key + used flag + slot) */
	size_t		 cap, n, slot, stride;
};

#define IKEY(m, i)	((int64_t *)((m)->slots + (i) * (m)->stride))
#define IUSED(m, i)	((m)->slots[(i) * (m)->stride + 8])
#define IVAL(m, i)	((void *)((m)->slots + (i) * (m)->stride + 16))

/* An empty int map whose values are slot_size zeroed bytes. */
struct imap *
imap_new(size_t slot_size)
{
	struct imap *m = xcalloc(1, sizeof(*m));

	m->slot = slot_size;
	m->stride = 16 + ((slot_size + 7) & ~(size_t)7);
	m->cap = 64;
	m->slots = xcalloc(m->cap, m->stride);
	return m;
}

/* Free the map and its slots. */
void
imap_free(struct imap *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m);
}

static size_t
imap_find(const struct imap *m, int64_t k)
{
	size_t i = (size_t)mix64((uint64_t)k) & (m->cap - 1);

	while (IUSED(m, i) && *IKEY(m, i) != k)
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* Start loading the slot of key k into the cache. */
void
imap_prefetch(const struct imap *m, int64_t k)
{
	__builtin_prefetch(IKEY(m, (size_t)mix64((uint64_t)k) &
	    (m->cap - 1)));
}

/* The slot of key k, or NULL. */
void *
imap_get(struct imap *m, int64_t k)
{
	size_t i = imap_find(m, k);

	return IUSED(m, i) ? IVAL(m, i) : NULL;
}

/* The slot of key k, inserted zeroed when absent. */
void *
imap_put(struct imap *m, int64_t k, int *isnew)
{
	size_t i;

	if ((m->n + 1) * 4 > m->cap * 3) {
		unsigned char *old = m->slots;
		size_t j, oldcap = m->cap;
		struct imap tmp = *m;

		m->cap *= 2;
		m->slots = xcalloc(m->cap, m->stride);
		tmp.slots = old;
		tmp.cap = oldcap;
		for (j = 0; j < oldcap; j++) {
			if (!IUSED(&tmp, j))
				continue;
			i = imap_find(m, *IKEY(&tmp, j));
			memcpy(m->slots + i * m->stride, old + j * m->stride,
			    m->stride);
		}
		free(old);
	}
	i = imap_find(m, k);
	if (isnew)
		*isnew = !IUSED(m, i);
	if (!IUSED(m, i)) {
		*IKEY(m, i) = k;
		IUSED(m, i) = 1;
		m->n++;
	}
	return IVAL(m, i);
}

/* Number of keys. */
size_t
imap_count(const struct imap *m)
{
	return m->n;
}

/* Next used slot at or after *pos. */
void *
imap_next(struct imap *m, size_t *pos, int64_t *key)
{
	while (*pos < m->cap) {
		size_t i = (*pos)++;

		if (IUSED(m, i)) {
			if (key)
				*key = *IKEY(m, i);
			return IVAL(m, i);
		}
	}
	return NULL;
}

/* ---- set of nonzero 64-bit keys ---- */

struct iset {
	uint64_t	*slots;		/* 0 = empty */
	size_t		 cap, n;	/* cap a power of two */
};

/* Start loading the slot of k into the cache. */
void
iset_prefetch(const struct iset *s, uint64_t k)
{
	__builtin_prefetch(&s->slots[(size_t)mix64(k) & (s->cap - 1)]);
}

/* An empty set. */
struct iset *
iset_new(void)
{
	struct iset *s = xcalloc(1, sizeof(*s));

	s->cap = 1024;
	s->slots = xcalloc(s->cap, sizeof(*s->slots));
	return s;
}

/* Free the set. */
void
iset_free(struct iset *s)
{
	if (s == NULL)
		return;
	free(s->slots);
	free(s);
}

static void
iset_insert(uint64_t *slots, size_t cap, uint64_t k)
{
	size_t i = (size_t)mix64(k) & (cap - 1);

	while (slots[i] != 0)
		i = (i + 1) & (cap - 1);
	slots[i] = k;
}

/* Add k; 1 when new. Kept at most half full: short probe runs. */
int
iset_add(struct iset *s, uint64_t k)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap) {
		uint64_t *old = s->slots;
		size_t j, oldcap = s->cap;

		s->cap *= 2;
		s->slots = xcalloc(s->cap, sizeof(*s->slots));
		for (j = 0; j < oldcap; j++)
			if (old[j] != 0)
				iset_insert(s->slots, s->cap, old[j]);
		free(old);
	}
	i = (size_t)mix64(k) & (s->cap - 1);
	while (s->slots[i] != 0) {
		if (s->slots[i] == k)
			return 0;
		i = (i + 1) & (s->cap - 1);
	}
	s->slots[i] = k;
	s->n++;
	return 1;
}

/* Number of keys. */
size_t
iset_count(const struct iset *s)
{
	return s->n;
}
