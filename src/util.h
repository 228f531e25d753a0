/*
 * util.h: small allocators that abort on failure, a growable byte buffer,
 * and open-addressing hash maps (string -> int64, int64 -> int64).
 */
#ifndef JS_UTIL_H
#define JS_UTIL_H
#include <stddef.h>
#include <stdint.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);

/* A growable buffer; owns data; data is always NUL-terminated. */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};
void	 buf_init(struct buf *);
void	 buf_release(struct buf *);
void	 buf_reset(struct buf *);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_adds(struct buf *, const char *);
void	 buf_addc(struct buf *, char);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Append s (len bytes) as a JSON string literal, quotes included. */
void	 buf_add_json_str(struct buf *, const char *, size_t);
/*
 * Strings kept in a growing buffer by reference: buf_ref_str() appends s
 * with its NUL and returns its offset + 1 in pointer's clothing (NULL
 * stays NULL), which survives the buffer moving; once nothing more is
 * added, buf_ref_fix() turns such a reference into a real pointer.
 */
const char	*buf_ref_str(struct buf *, const char *s);
void		 buf_ref_fix(const struct buf *, const char **);

/* 64-bit hash of bytes (not cryptographic; stable across machines). */
uint64_t hash_bytes(const void *, size_t, uint64_t seed);

/* String -> int64 map; owns copies of its keys. */
struct smap;
struct smap	*smap_new(void);
void		 smap_free(struct smap *);
/* Returns a pointer to the value slot of key, or NULL if absent. */
int64_t		*smap_get(struct smap *, const char *, size_t);
/* The same with the key's smap_hash() known (a key looked up twice); a
 * prefetch of its slot (a later get is faster). */
uint64_t	 smap_hash(const char *, size_t);
int64_t		*smap_get_h(struct smap *, const char *, size_t, uint64_t);
void		 smap_prefetch_h(const struct smap *, uint64_t);
/* Returns the slot for key, inserting it with value v if absent; *isnew set. */
int64_t		*smap_put(struct smap *, const char *, size_t, int64_t, int *);
size_t		 smap_count(const struct smap *);

/* int64 key -> slot of fixed size (zeroed on insert); owns the slots. */
struct imap;
struct imap	*imap_new(size_t slot_size);
void		 imap_free(struct imap *);
void		*imap_get(struct imap *, int64_t);
void		 imap_prefetch(const struct imap *, int64_t);
void		*imap_put(struct imap *, int64_t, int *isnew);
size_t		 imap_count(const struct imap *);
/* Iterate: *pos starts at 0; returns the next slot and its key, NULL at end. */
void		*imap_next(struct imap *, size_t *pos, int64_t *key);

/* A set of nonzero 64-bit keys (8 bytes a slot, for the hot paths). */
struct iset;
struct iset	*iset_new(void);
void		 iset_free(struct iset *);
/* Add k (k != 0); returns 1 if it was not there yet. */
int		 iset_add(struct iset *, uint64_t k);
void		 iset_prefetch(const struct iset *, uint64_t k);
size_t		 iset_count(const struct iset *);

#endif
