/* sim_event.h: the simulator's agenda, a priority queue of timed events. Ties in time are
 * broken by the order of scheduling, so a seed always replays the same order. */
#ifndef SYN_SIM_EVENT_H
#define SYN_SIM_EVENT_H

#include <stdbool.h>
#include <stdint.h>

enum sim_event_kind {
    SIM_EVENT_TICK = 1,          /* node's clock ticks; arg = the node's incarnation */
    SIM_EVENT_DELIVER = 2,       /* a message arrives; ptr = the packet, owned by the event */
    SIM_EVENT_DISK = 3,          /* node's pending write is durable; arg = incarnation */
    SIM_EVENT_CLIENT = 4,        /* node = client slot: next action or timeout; arg = generation */
    SIM_EVENT_FAULT = 5,         /* the fault schedule's next step */
    SIM_EVENT_RESTART = 6,       /* node restarts; arg = the incarnation that crashed */
    SIM_EVENT_PARTITION_END = 7, /* arg = the partition's generation */
    SIM_EVENT_HEAL = 8,          /* the fault phase ends */
    SIM_EVENT_RETIRE = 9,        /* node was removed a while ago: shut it down */
    SIM_EVENT_CRASH = 10,        /* leader churn: crash node; arg = the incarnation to crash */
    SIM_EVENT_ISOLATE = 11,      /* leader churn: cut node off; arg = its incarnation */
};

struct sim_event {
    uint64_t time_us;
    uint64_t seq; /* set by sim_event_push(): the tie breaker */
    uint32_t kind;
    uint32_t node;
    uint64_t arg;
    void *ptr; /* owned by the event: freed with free() if the event is never popped */
};

struct sim_event_queue {
    struct sim_event *heap;
    uint32_t count;
    uint32_t capacity;
    uint64_t next_seq;
};

/* 0 or SYN_ENOMEM. */
int sim_event_queue_init(struct sim_event_queue *q, uint32_t capacity);
/* Frees the queue and the ptr of every event still in it. */
void sim_event_queue_free(struct sim_event_queue *q);
/* Schedules ev (copied). 0, or SYN_EFULL when capacity events are pending. */
int sim_event_push(struct sim_event_queue *q, const struct sim_event *ev);
/* Takes the earliest event; false when none is left. */
bool sim_event_pop(struct sim_event_queue *q, struct sim_event *out);

#endif
