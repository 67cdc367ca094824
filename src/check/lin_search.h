/* lin_search.h: the search for a linearization of one key's ops (Wing & Gong 1993 as
 * refined by Lowe 2017), used by lin_check() once per key. */
#ifndef SYN_CHECK_LIN_SEARCH_H
#define SYN_CHECK_LIN_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check/lin.h"

/* One key's share of a history. */
struct lin_key_ops {
    const struct lin_op *ops; /* the caller's whole history, borrowed */
    const size_t *indices;    /* this key's ops as indices into ops, borrowed: first the
                               * LIN_OK ones by invoke_time, then the LIN_UNKNOWN writes and
                               * cas by invoke_time; no LIN_FAIL ops, no unknown reads */
    uint32_t completed_count;
    uint32_t unknown_count;
};

struct lin_search_result {
    int verdict;         /* enum lin_verdict */
    bool memo_full;      /* UNKNOWN: the memo's memory bound was hit, not the step budget */
    uint64_t steps;      /* search steps taken */
    size_t op_index;     /* VIOLATION: the op the deepest search got stuck on (an index into
                          * ops); else LIN_OP_NONE */
    uint32_t placed_max; /* most ops the search ever had linearized at once */
};

/* -1, 0 or 1 as a is below, equal to or above b: a step of a qsort() comparator. */
int lin_compare_u64(uint64_t a, uint64_t b);

/* Searches for a linearization of key's ops, within steps_max steps and a memo of at most
 * memo_bytes_max bytes, and fills out. key and the ops it names are borrowed for the call;
 * the ops must be valid (lin_check() validates them). 0 or SYN_ENOMEM. */
int lin_search_key(const struct lin_key_ops *key, uint64_t steps_max, size_t memo_bytes_max,
                   struct lin_search_result *out);

#endif
