/* lin_events.c: builds one key's event lists and lifts ops out of them and back. */
#include "check/lin_events.h"

#include <stdlib.h>

#include "base/assert.h"
#include "base/err.h"

/* A scratch record for sorting a completed op's events by time. */
struct events_stamp {
    uint64_t time;
    uint32_t op;
    bool is_return;
};

/* Time order. At equal times calls sort first, so intervals that touch are concurrent;
 * then op order, so the result never depends on qsort. */
static int events_stamp_compare(const void *a, const void *b)
{
    const struct events_stamp *x = a;
    const struct events_stamp *y = b;
    int order = lin_compare_u64(x->time, y->time);
    order = order != 0 ? order : lin_compare_u64(x->is_return, y->is_return);
    return order != 0 ? order : lin_compare_u64(x->op, y->op);
}

/* Fills stamps with the events of the key's completed ops, sorted; returns how many. */
static uint32_t events_stamps(const struct lin_key_ops *key, struct events_stamp *stamps)
{
    uint32_t count = 0;
    for (uint32_t op = 0; op < key->completed_count; op++) {
        const struct lin_op *lop = &key->ops[key->indices[op]];
        ASSERT(lop->invoke_time < lop->complete_time);
        stamps[count++] = (struct events_stamp){.time = lop->invoke_time, .op = op};
        stamps[count++] =
            (struct events_stamp){.time = lop->complete_time, .op = op, .is_return = true};
    }
    qsort(stamps, count, sizeof(*stamps), events_stamp_compare);
    return count;
}

/* Makes events[head] a sentinel followed by count events, each made by the caller. */
static void events_chain(struct lin_events *list, uint32_t head, uint32_t count)
{
    struct lin_event *events = list->events;
    events[head] =
        (struct lin_event){.next = count == 0 ? LIN_EVENT_NIL : head + 1, .match = LIN_EVENT_NIL};
    for (uint32_t e = head + 1; e <= head + count; e++) {
        events[e].prev = e - 1;
        events[e].next = e < head + count ? e + 1 : LIN_EVENT_NIL;
        events[e].match = LIN_EVENT_NIL;
    }
}

/* The completed ops' list at LIN_EVENT_HEAD, from sorted stamps; call_of_op is scratch. */
static void events_link(struct lin_events *list, const struct events_stamp *stamps, uint32_t count,
                        uint32_t *call_of_op)
{
    events_chain(list, LIN_EVENT_HEAD, count);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t e = LIN_EVENT_HEAD + 1 + i;
        list->events[e].op = stamps[i].op;
        list->events[e].is_return = stamps[i].is_return;
        if (!stamps[i].is_return) {
            call_of_op[stamps[i].op] = e;
            continue;
        }
        uint32_t call = call_of_op[stamps[i].op];
        ASSERT(list->events[call].match == LIN_EVENT_NIL);
        list->events[call].match = e;
        list->returns_left++;
    }
}

int lin_events_init(struct lin_events *list, const struct lin_key_ops *key)
{
    uint32_t completed_events = 2 * key->completed_count;
    *list = (struct lin_events){.unknown_head = completed_events + 1};
    list->events =
        malloc(((size_t)completed_events + key->unknown_count + 2) * sizeof(*list->events));
    struct events_stamp *stamps = malloc(((size_t)completed_events + 1) * sizeof(*stamps));
    uint32_t *call_of_op = malloc(((size_t)key->completed_count + 1) * sizeof(*call_of_op));
    int rc = 0;
    if (list->events == NULL || stamps == NULL || call_of_op == NULL) {
        rc = SYN_ENOMEM;
    } else {
        uint32_t count = events_stamps(key, stamps);
        ASSERT(count == completed_events);
        events_link(list, stamps, count, call_of_op);
        ASSERT(list->returns_left == key->completed_count);
        /* The unknown-outcome ops are numbered in invoke order already (lin_search.h). */
        events_chain(list, list->unknown_head, key->unknown_count);
        for (uint32_t i = 0; i < key->unknown_count; i++) {
            list->events[list->unknown_head + 1 + i].op = key->completed_count + i;
            list->events[list->unknown_head + 1 + i].is_return = false;
        }
    }
    free(stamps);
    free(call_of_op);
    return rc;
}

void lin_events_free(struct lin_events *list)
{
    free(list->events);
    list->events = NULL;
}

static void events_unlink(struct lin_events *list, uint32_t e)
{
    struct lin_event *event = &list->events[e];
    list->events[event->prev].next = event->next;
    if (event->next != LIN_EVENT_NIL) {
        list->events[event->next].prev = event->prev;
    }
}

/* Undoes events_unlink(e): e still knows its neighbours (dancing links). */
static void events_relink(struct lin_events *list, uint32_t e)
{
    struct lin_event *event = &list->events[e];
    list->events[event->prev].next = e;
    if (event->next != LIN_EVENT_NIL) {
        list->events[event->next].prev = e;
    }
}

void lin_events_lift(struct lin_events *list, uint32_t call)
{
    uint32_t ret = list->events[call].match;
    ASSERT(!list->events[call].is_return);
    events_unlink(list, call);
    if (ret != LIN_EVENT_NIL) {
        events_unlink(list, ret);
        ASSERT(list->returns_left > 0);
        list->returns_left--;
    }
}

void lin_events_unlift(struct lin_events *list, uint32_t call)
{
    uint32_t ret = list->events[call].match;
    if (ret != LIN_EVENT_NIL) {
        events_relink(list, ret);
        list->returns_left++;
    }
    events_relink(list, call);
}
