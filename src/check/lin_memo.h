/* lin_memo.h: the memo of search states the checker has explored on one key: the set of
 * ops linearized so far plus the register value. Caching these configurations, as Lowe does
 * ("Testing for linearizability", 2017), prunes every branch of the Wing & Gong search that
 * reaches a state already explored, which keeps the search close to linear in the history
 * when its concurrency is low.
 */
#ifndef SYN_CHECK_LIN_MEMO_H
#define SYN_CHECK_LIN_MEMO_H

#include <stddef.h>
#include <stdint.h>

#include "check/lin_bits.h"

enum lin_memo_status {
    LIN_MEMO_ADDED = 0, /* a new state, now remembered */
    LIN_MEMO_SEEN = 1,  /* explored before: prune */
    LIN_MEMO_FULL = 2,  /* not remembered: the memory bound is reached */
};

struct lin_memo_slot {
    uint64_t hash;
    size_t where; /* 1 + the entry's offset in arena; 0: an empty slot */
};

/* A hash set of (bits, value) states with a memory bound. */
struct lin_memo {
    struct lin_memo_slot *slots; /* owned; slot_count is a power of two */
    size_t slot_count;
    size_t entry_count;
    uint64_t *arena; /* owned: the encoded states, back to back */
    size_t arena_used;
    size_t arena_cap; /* words */
    size_t bytes_max; /* slots + arena never take more, even while one of them grows */
};

/* Makes an empty memo that will never use more than bytes_max bytes. */
void lin_memo_init(struct lin_memo *memo, size_t bytes_max);
/* Frees everything. Safe after lin_memo_init() alone. */
void lin_memo_free(struct lin_memo *memo);
/* Remembers the state (bits, value). Returns an enum lin_memo_status or SYN_ENOMEM; bits is
 * borrowed for the call (it is copied). */
int lin_memo_insert(struct lin_memo *memo, const struct lin_bits *bits, uint64_t value);

#endif
