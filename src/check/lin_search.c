/* lin_search.c: the Wing & Gong linearization search over one key, with Lowe's memo.
 *
 * A state is the set of ops linearized so far (on a stack) and the register value. From a
 * state, an op may be linearized next if it was invoked before the earliest return of an op
 * not yet linearized. The walk tries such candidates in the order of lin_events.h: first the
 * completed ops' calls up to the first return event R in their list, then the unknown-outcome
 * ops invoked by R's time. A candidate that fits the register and leads to a state not in
 * the memo is lifted out of the lists and pushed, and the walk starts over. When the
 * candidates run out, R's op missed its deadline: pop the last choice, put its events back
 * and go on from the candidate after it. With nothing to pop there is no linearization; with
 * no return event left every completed op is placed and the unknown-outcome ops still listed
 * are taken never to have happened.
 *
 * Trying completed ops first keeps timed-out ops off the common path: a history whose
 * unknown writes never mattered is checked in about one step per op, however many pile up.
 */
#include "check/lin_search.h"

#include <stdlib.h>

#include "base/assert.h"
#include "base/err.h"
#include "check/lin_events.h"
#include "check/lin_memo.h"

int lin_compare_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : (a > b ? 1 : 0);
}

/* Where the walk is: the next event to visit and, among the unknown-outcome ops, the
 * return event that bounds the candidates. */
struct search_cursor {
    uint32_t event;
    uint32_t bound; /* LIN_EVENT_NIL while among the completed ops */
};

struct search_frame {
    struct search_cursor at; /* the call event linearized, and its bound */
    uint64_t value_prev;     /* the register before it */
};

struct search {
    const struct lin_key_ops *key;
    struct lin_events list;
    struct search_frame *stack; /* owned; room for every op */
    uint32_t depth;
    uint64_t value;       /* the register after the ops on the stack */
    struct lin_bits bits; /* the ops on the stack */
    struct lin_memo memo;
    bool stuck_set; /* the deepest return event reached: */
    uint32_t stuck_depth;
    uint32_t stuck_op;
};

static const struct lin_op *search_op(const struct search *s, uint32_t op)
{
    return &s->key->ops[s->key->indices[op]];
}

/* Builds the lists, the stack and the empty set. 0 or SYN_ENOMEM. */
static int search_init(struct search *s, const struct lin_key_ops *key, size_t memo_bytes_max)
{
    uint32_t op_count = key->completed_count + key->unknown_count;
    *s = (struct search){.key = key};
    lin_memo_init(&s->memo, memo_bytes_max);
    s->stack = malloc(((size_t)op_count + 1) * sizeof(*s->stack));
    int rc = lin_bits_init(&s->bits, key->completed_count, key->unknown_count);
    if (rc == 0) {
        rc = lin_events_init(&s->list, key);
    }
    return s->stack == NULL ? SYN_ENOMEM : rc;
}

static void search_free(struct search *s)
{
    free(s->stack);
    lin_events_free(&s->list);
    lin_bits_free(&s->bits);
    lin_memo_free(&s->memo);
}

/* The register: may op take effect when it holds value? If so, *next is the value after.
 * An unknown-outcome cas is tried only as a successful one: had it failed it would have had
 * no effect, which the search already covers by leaving it out. */
static bool search_apply(const struct lin_op *op, uint64_t value, uint64_t *next)
{
    *next = value;
    switch (op->kind) {
    case LIN_READ:
        return op->value == value;
    case LIN_WRITE:
        *next = op->value;
        return true;
    case LIN_CAS:
        if (op->outcome == LIN_OK && !op->cas_ok) {
            return value != op->expected;
        }
        *next = op->value;
        return value == op->expected;
    default:
        UNREACHABLE();
    }
}

/* Would placing op (taking the register to next) only reach a state that is no better than
 * one the search explores anyway? Unknown-outcome ops are optional, so a state with more of
 * them used up can do no more than the same state with fewer. Without these two prunings
 * the search would try every subset and order of the timed-out writes at hand:
 *  - an unknown op that leaves the register as it is only uses itself up;
 *  - a write placed straight after an unknown op hides it: the same write placed from the
 *    state before the unknown op (where it was a candidate too) reaches the same value with
 *    more ops to spare. */
static bool search_dominated(const struct search *s, const struct lin_op *op, uint64_t next)
{
    if (op->outcome == LIN_UNKNOWN && next == s->value) {
        return true;
    }
    if (op->kind != LIN_WRITE || s->depth == 0) {
        return false;
    }
    uint32_t top = s->list.events[s->stack[s->depth - 1].at.event].op;
    return top >= s->key->completed_count; /* the unknown-outcome ops come last */
}

enum search_visit {
    VISIT_LIFTED = 0,    /* an op was linearized: start over */
    VISIT_SKIPPED = 1,   /* on to the next candidate */
    VISIT_STUCK = 2,     /* no candidate left before the bound's deadline: backtrack */
    VISIT_MEMO_FULL = 3, /* give up */
};

/* Tries to linearize the op of call event at.event next. An enum search_visit or
 * SYN_ENOMEM. */
static int search_try(struct search *s, struct search_cursor at)
{
    uint32_t op = s->list.events[at.event].op;
    uint64_t next;
    if (!search_apply(search_op(s, op), s->value, &next) ||
        search_dominated(s, search_op(s, op), next)) {
        return VISIT_SKIPPED;
    }
    lin_bits_add(&s->bits, op);
    int rc = lin_memo_insert(&s->memo, &s->bits, next);
    if (rc != LIN_MEMO_ADDED) {
        lin_bits_remove(&s->bits, op);
        if (rc == LIN_MEMO_SEEN) {
            return VISIT_SKIPPED; /* this state was explored before and led nowhere */
        }
        return rc == LIN_MEMO_FULL ? VISIT_MEMO_FULL : rc;
    }
    ASSERT(s->depth < s->key->completed_count + s->key->unknown_count);
    s->stack[s->depth++] = (struct search_frame){.at = at, .value_prev = s->value};
    s->value = next;
    lin_events_lift(&s->list, at.event);
    return VISIT_LIFTED;
}

/* Where a walk from the current state begins: the first completed op's event. */
static struct search_cursor search_start(const struct search *s)
{
    return (struct search_cursor){.event = s->list.events[LIN_EVENT_HEAD].next,
                                  .bound = LIN_EVENT_NIL};
}

/* Visits the event under *at and moves *at on. An enum search_visit or SYN_ENOMEM; on
 * VISIT_STUCK, at->bound is the return event whose deadline passed. */
static int search_visit(struct search *s, struct search_cursor *at)
{
    const struct lin_event *events = s->list.events;
    if (at->bound == LIN_EVENT_NIL) {
        ASSERT(at->event != LIN_EVENT_NIL); /* a return event comes before the end */
        if (events[at->event].is_return) {
            /* The completed candidates are done: on to the unknown-outcome ones. */
            *at = (struct search_cursor){.event = events[s->list.unknown_head].next,
                                         .bound = at->event};
            return VISIT_SKIPPED;
        }
    } else if (at->event == LIN_EVENT_NIL ||
               search_op(s, events[at->event].op)->invoke_time >
                   search_op(s, events[at->bound].op)->complete_time) {
        return VISIT_STUCK;
    }
    int rc = search_try(s, *at);
    if (rc == VISIT_LIFTED) {
        *at = search_start(s);
    } else if (rc == VISIT_SKIPPED) {
        at->event = events[at->event].next;
    }
    return rc;
}

/* Undoes the last linearization; returns where the walk goes on from. */
static struct search_cursor search_backtrack(struct search *s)
{
    ASSERT(s->depth > 0);
    struct search_frame frame = s->stack[--s->depth];
    lin_events_unlift(&s->list, frame.at.event);
    lin_bits_remove(&s->bits, s->list.events[frame.at.event].op);
    s->value = frame.value_prev;
    frame.at.event = s->list.events[frame.at.event].next;
    return frame.at;
}

/* Remembers the op whose deadline stopped the deepest search: the one to blame. */
static void search_note_stuck(struct search *s, uint32_t op)
{
    if (!s->stuck_set || s->depth > s->stuck_depth) {
        s->stuck_set = true;
        s->stuck_depth = s->depth;
        s->stuck_op = op;
    }
}

/* The walk described at the top of the file. 0 or SYN_ENOMEM; out->verdict says the rest. */
static int search_run(struct search *s, uint64_t steps_max, struct lin_search_result *out)
{
    struct search_cursor at = search_start(s);
    while (s->list.returns_left > 0) {
        if (out->steps >= steps_max) {
            out->verdict = LIN_RESULT_UNKNOWN;
            return 0;
        }
        out->steps++;
        int rc = search_visit(s, &at);
        if (rc < 0) {
            return rc;
        }
        if (rc == VISIT_MEMO_FULL) {
            out->verdict = LIN_RESULT_UNKNOWN;
            out->memo_full = true;
            return 0;
        }
        out->placed_max = s->depth > out->placed_max ? s->depth : out->placed_max;
        if (rc != VISIT_STUCK) {
            continue;
        }
        search_note_stuck(s, s->list.events[at.bound].op);
        if (s->depth == 0) {
            out->verdict = LIN_RESULT_VIOLATION;
            return 0;
        }
        at = search_backtrack(s);
    }
    out->verdict = LIN_RESULT_OK;
    return 0;
}

int lin_search_key(const struct lin_key_ops *key, uint64_t steps_max, size_t memo_bytes_max,
                   struct lin_search_result *out)
{
    *out = (struct lin_search_result){.op_index = LIN_OP_NONE};
    struct search s;
    int rc = search_init(&s, key, memo_bytes_max);
    if (rc == 0) {
        rc = search_run(&s, steps_max, out);
    }
    if (rc == 0 && out->verdict == LIN_RESULT_VIOLATION) {
        ASSERT(s.stuck_set);
        out->op_index = key->indices[s.stuck_op];
    }
    search_free(&s);
    return rc;
}
