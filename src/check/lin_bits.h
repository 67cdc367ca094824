/* lin_bits.h: the set of ops linearized so far on one key, as the checker's search grows and
 * shrinks it, kept in a form that is cheap to hash and compact to memoize (lin_memo.h).
 *
 * Ops on a key are numbered 0..completed_count-1 (completed ops, in invoke order) then
 * completed_count.. (unknown-outcome ops, in invoke order). Each group is a bitset with a
 * window [lo, hi): words before lo are full, words from hi on are empty. The completed ops
 * linearized at any point of the search are a prefix plus ops concurrent with the search
 * frontier, so the window, which is all the memo stores, is bounded by the history's
 * concurrency rather than its length.
 */
#ifndef SYN_CHECK_LIN_BITS_H
#define SYN_CHECK_LIN_BITS_H

#include <stdint.h>

#define LIN_REGION_COUNT 2u /* completed ops, unknown-outcome ops */

struct lin_region {
    uint64_t *words;     /* borrowed from lin_bits.storage */
    uint32_t word_count; /* ceil(bit_count / 64) */
    uint32_t bit_count;
    uint32_t lo; /* words[0..lo) are full */
    uint32_t hi; /* words[hi..word_count) are zero; lo <= hi */
};

struct lin_bits {
    struct lin_region regions[LIN_REGION_COUNT];
    uint64_t *storage;        /* owned: the words of both regions */
    uint32_t completed_count; /* ops below this number are in region 0 */
    uint64_t hash;            /* XOR of a hash of each member, kept up to date per change */
};

/* Makes the empty set over completed_count + unknown_count ops. 0 or SYN_ENOMEM. */
int lin_bits_init(struct lin_bits *bits, uint32_t completed_count, uint32_t unknown_count);
/* Frees the storage. Safe on a zeroed struct. */
void lin_bits_free(struct lin_bits *bits);
/* Adds op, which must not be a member. */
void lin_bits_add(struct lin_bits *bits, uint32_t op);
/* Removes op, which must be a member. */
void lin_bits_remove(struct lin_bits *bits, uint32_t op);
/* A strong 64-bit mix, for hashing members and states. */
uint64_t lin_bits_mix(uint64_t x);

#endif
