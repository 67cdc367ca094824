/* sim_event.c: a binary min-heap ordered by (time, scheduling sequence). */
#include "sim/sim_event.h"

#include <stdlib.h>

#include "base/assert.h"
#include "base/err.h"

int sim_event_queue_init(struct sim_event_queue *q, uint32_t capacity)
{
    *q = (struct sim_event_queue){.capacity = capacity};
    q->heap = calloc(capacity, sizeof(*q->heap));
    return q->heap == NULL ? SYN_ENOMEM : 0;
}

void sim_event_queue_free(struct sim_event_queue *q)
{
    for (uint32_t i = 0; i < q->count; i++) {
        free(q->heap[i].ptr);
    }
    free(q->heap);
    *q = (struct sim_event_queue){0};
}

static bool event_before(const struct sim_event *a, const struct sim_event *b)
{
    if (a->time_us != b->time_us) {
        return a->time_us < b->time_us;
    }
    return a->seq < b->seq;
}

static void event_swap(struct sim_event *a, struct sim_event *b)
{
    struct sim_event t = *a;
    *a = *b;
    *b = t;
}

int sim_event_push(struct sim_event_queue *q, const struct sim_event *ev)
{
    if (q->count == q->capacity) {
        return SYN_EFULL;
    }
    uint32_t i = q->count++;
    q->heap[i] = *ev;
    q->heap[i].seq = q->next_seq++;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!event_before(&q->heap[i], &q->heap[parent])) {
            break;
        }
        event_swap(&q->heap[i], &q->heap[parent]);
        i = parent;
    }
    return 0;
}

bool sim_event_pop(struct sim_event_queue *q, struct sim_event *out)
{
    if (q->count == 0) {
        return false;
    }
    *out = q->heap[0];
    q->heap[0] = q->heap[--q->count];
    uint32_t i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1;
        uint32_t r = l + 1;
        uint32_t m = i;
        if (l < q->count && event_before(&q->heap[l], &q->heap[m])) {
            m = l;
        }
        if (r < q->count && event_before(&q->heap[r], &q->heap[m])) {
            m = r;
        }
        if (m == i) {
            break;
        }
        event_swap(&q->heap[i], &q->heap[m]);
        i = m;
    }
    ASSERT(q->count < q->capacity);
    return true;
}
