/*
 * tokens.h: one customer's event window -> integer tokens, exactly as
 * MODEL.md "Inputs" says, and the vocabularies that map event types and
 * items to indices (they live with the model, in its file).
 * Nothing here reads the store or prints.
 */
#ifndef JS_TOKENS_H
#define JS_TOKENS_H
#include <stddef.h>
#include <stdint.h>

struct err;
struct store_hevent;

#define TOK_PAD		0	/* type: padding; item: no item */
#define TOK_UNK		1	/* unknown type or item */
#define TOK_NGAP	32	/* gap tokens 0..31 */
#define TOK_NAMOUNT	16	/* amount tokens 0..15 */
#define TOK_ITEM_MIN	1	/* items seen fewer times map to TOK_UNK */
#define TOK_ITEM_MAX	50000	/* items in a vocabulary at most (+2) */

/* The five tokens of one event. */
struct tok {
	int32_t		 type;		/* 0 pad, 1 unknown, 2.. types */
	int32_t		 item;		/* 0 none, 1 unknown, 2.. items */
	int32_t		 gap;		/* 0 first, else 1 + log2(1 + dt) */
	int32_t		 amount;	/* 0 none, else 1 + log2(1 + |a|) */
	int32_t		 pos;		/* 0 .. n-1, oldest first */
};

/*
 * Type and item vocabularies, index order; owns copies of the names.
 * Index 0 and 1 are "<pad>"/"<unk>" for types and "<none>"/"<unk>" for
 * items; vocab_new adds them, the lists given start at index 2.
 */
struct vocab;
struct vocab	*vocab_new(const char *const *types, size_t n_types,
		    const char *const *items, size_t n_items);
/*
 * The same from complete lists (index 0 and 1 included, as a model file
 * holds them). Returns NULL and fills e when they do not start with the
 * reserved names or a name repeats.
 */
struct vocab	*vocab_new_full(const char *const *types, size_t n_types,
		    const char *const *items, size_t n_items, struct err *);
void		 vocab_free(struct vocab *);
/* Sizes, reserved entries included. */
int		 vocab_n_types(const struct vocab *);
int		 vocab_n_items(const struct vocab *);
/* Names by index (borrowed; index must be in range). */
const char	*vocab_type(const struct vocab *, int);
const char	*vocab_item(const struct vocab *, int);
/* Index of a type name (TOK_UNK if not in the vocabulary). */
int		 vocab_type_index(const struct vocab *, const char *);
/* Index of an item external id (TOK_PAD for NULL, TOK_UNK if unknown). */
int		 vocab_item_index(const struct vocab *, const char *);

/* The gap token of dt seconds since the previous event (dt < 0 is 0). */
int		 tokens_gap(int64_t dt);
/* The amount token (NAN or 0: 0). */
int		 tokens_amount(double amount);

/*
 * The window of a history ev[0..n) (oldest first) with the events whose
 * mask byte is non-zero left out (mask may be NULL): indices of the
 * latest max_len remaining events, oldest first, into idx (room for
 * max_len). Returns their number.
 */
size_t		 tokens_select(size_t n, const unsigned char *mask,
		    size_t max_len, size_t *idx);
/*
 * Tokenise the window ev[idx[0..n)] into out[0..n): gaps are measured
 * within the window, positions count from 0.
 */
void		 tokens_window(const struct vocab *, const struct store_hevent *,
		    const size_t *idx, size_t n, struct tok *out);

#endif
