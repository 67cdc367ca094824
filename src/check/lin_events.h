/* lin_events.h: the call and return events of one key's ops, as the doubly linked lists that
 * the search walks and edits in place: linearizing an op "lifts" its events out of the lists
 * and backtracking puts them back (Lowe 2017; dancing links).
 *
 * Completed ops have a call and a return event in one list, ordered by time (calls first at
 * equal times, so intervals that touch are concurrent). Unknown-outcome ops have only a call
 * event (their return is at infinity) and sit in a second list, ordered by invoke time, so
 * that the search can try them after the completed ops and walk past none of them on its
 * usual path.
 */
#ifndef SYN_CHECK_LIN_EVENTS_H
#define SYN_CHECK_LIN_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "check/lin_search.h"

#define LIN_EVENT_NIL UINT32_MAX
#define LIN_EVENT_HEAD 0u /* the sentinel before the first event of a completed op */

struct lin_event {
    uint32_t op;    /* the key's op number, see lin_bits.h */
    uint32_t prev;  /* never LIN_EVENT_NIL: each list starts with a sentinel */
    uint32_t next;  /* LIN_EVENT_NIL at the end */
    uint32_t match; /* a completed op's call: its return event; else LIN_EVENT_NIL */
    bool is_return;
};

struct lin_events {
    struct lin_event *events; /* owned */
    uint32_t unknown_head;    /* the sentinel before the first unknown-outcome call */
    uint32_t returns_left;    /* return events still listed */
};

/* Lists the events of key's ops; key is borrowed for the call. 0 or SYN_ENOMEM. */
int lin_events_init(struct lin_events *list, const struct lin_key_ops *key);
/* Frees the lists. Safe after a failed lin_events_init(). */
void lin_events_free(struct lin_events *list);
/* Takes the op of call event `call` out of the lists: its call and return events. */
void lin_events_lift(struct lin_events *list, uint32_t call);
/* Undoes lin_events_lift(list, call); lifts must be undone last first. */
void lin_events_unlift(struct lin_events *list, uint32_t call);

#endif
