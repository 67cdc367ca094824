/* lin.h: a linearizability checker for histories of reads, writes and compare-and-swaps on
 * many independent registers (keys), after Wing & Gong ("Testing and verifying concurrent
 * objects", 1993) with Lowe's improvements ("Testing for linearizability", 2017): a
 * depth-first search for a linearization, with a memo of (linearized set, register value)
 * states already explored.
 *
 * Linearizability is local (Herlihy & Wing 1990, "locality"; Horn & Kroening 2015 call the
 * split P-compositionality), so every key is checked on its own. Each key is a register that
 * starts "absent" (value 0; real values are nonzero, and writing 0 deletes). An op is
 * ordered before another only when it completed strictly before the other was invoked: ops
 * whose intervals touch are concurrent.
 *
 * The module is pure: no I/O, no clock, no globals. It allocates from the heap and frees
 * everything before it returns. Both its work and its memory are bounded; when a bound is hit
 * the verdict is LIN_RESULT_UNKNOWN, never a pass. docs/linearizability.md says more.
 */
#ifndef SYN_CHECK_LIN_H
#define SYN_CHECK_LIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIN_STEPS_PER_KEY_DEFAULT 10000000u /* search steps per key when 0 is passed */
#define LIN_MEMO_BYTES_DEFAULT (256u << 20) /* memory of one key's memo set */
#define LIN_OPS_MAX (1u << 24)              /* ops in one history */
#define LIN_MESSAGE_SIZE 256u               /* bytes of lin_result.message, NUL included */
#define LIN_OP_NONE SIZE_MAX                /* lin_result.op_index when no op is named */

_Static_assert(2ull * LIN_OPS_MAX + 1u < UINT32_MAX, "search events are indexed by uint32_t");

enum lin_kind {
    LIN_READ = 1,  /* value = the value read (0: absent) */
    LIN_WRITE = 2, /* value = the value written (0: a delete) */
    LIN_CAS = 3,   /* if current == expected then current = value; cas_ok says which */
};

enum lin_outcome {
    LIN_OK = 1,      /* completed and its result is known */
    LIN_FAIL = 2,    /* completed and known to have had no effect: ignored */
    LIN_UNKNOWN = 3, /* timed out or crashed: took effect once after invoke_time, or never */
};

/* Zero is never a verdict, so a result nobody filled in cannot read as a pass. */
enum lin_verdict {
    LIN_RESULT_OK = 1,        /* every key has a linearization */
    LIN_RESULT_VIOLATION = 2, /* some key has none: the history is not linearizable */
    LIN_RESULT_UNKNOWN = 3,   /* a bound was hit before an answer (or the input was bad) */
};

struct lin_op {
    uint64_t client; /* who issued it; used only in messages */
    uint64_t key;
    uint64_t value;         /* write, cas: the new value; read: the value returned */
    uint64_t expected;      /* cas only */
    uint64_t invoke_time;   /* logical time the client sent it */
    uint64_t complete_time; /* LIN_OK: when the result arrived, > invoke_time; else ignored */
    uint8_t kind;           /* enum lin_kind */
    uint8_t outcome;        /* enum lin_outcome */
    bool cas_ok;            /* cas with outcome LIN_OK: true if it swapped */
};

struct lin_result {
    int verdict;     /* enum lin_verdict */
    uint64_t key;    /* VIOLATION: the first failing key; UNKNOWN: the first key given up on */
    size_t op_index; /* VIOLATION: an op that could not be linearized, as an index into the
                      * caller's array (the one the deepest search got stuck on); else
                      * LIN_OP_NONE */
    uint64_t steps;  /* search steps taken over all keys checked */
    char message[LIN_MESSAGE_SIZE]; /* one sentence for a person, always NUL-terminated */
};

struct lin_limits {
    uint64_t steps_per_key_max; /* 0: LIN_STEPS_PER_KEY_DEFAULT */
    size_t memo_bytes_max;      /* per key; 0: LIN_MEMO_BYTES_DEFAULT */
};

/* Checks whether the history ops[0..op_count) is linearizable, key by key in ascending key
 * order, stopping at the first key that is not. step_budget bounds the search steps per key
 * (0: LIN_STEPS_PER_KEY_DEFAULT); a key that needs more is reported UNKNOWN, and so is a key
 * whose memo set outgrows LIN_MEMO_BYTES_DEFAULT. A VIOLATION on any key outranks UNKNOWN.
 *
 * ops: borrowed for the duration of the call; LIN_FAIL ops and LIN_UNKNOWN reads are
 * ignored, and a LIN_UNKNOWN cas counts only as one that swapped (had it failed it would have
 * had no effect). Memory beyond the memo is linear in op_count. result: filled in on every
 * return unless NULL, with a sentence in result->message.
 * Returns 0, SYN_EINVAL for bad input (NULL pointers, an unknown kind or outcome, a LIN_OK op
 * with invoke_time >= complete_time; result->op_index names the op), SYN_ETOOBIG when
 * op_count > LIN_OPS_MAX, or SYN_ENOMEM. On an error result->verdict is LIN_RESULT_UNKNOWN.
 * Deterministic: the same history and budget always give the same result and step count. */
int lin_check(const struct lin_op *ops, size_t op_count, uint64_t step_budget,
              struct lin_result *result);

/* lin_check() with both bounds given; limits is borrowed for the call, NULL means defaults. */
int lin_check_with_limits(const struct lin_op *ops, size_t op_count,
                          const struct lin_limits *limits, struct lin_result *result);

/* "ok", "violation" or "unknown"; "invalid" for anything else. */
const char *lin_verdict_name(int verdict);

#endif
