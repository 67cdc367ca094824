/* node_checks.h: the health checks this agent runs for the instances registered on it
 * (docs/registry.md "Health checks"). node_checks.c keeps the table in step with the
 * replicated registry, schedules each check at its interval, turns results into statuses
 * with rise/fall thresholds (src/registry/reg_health.h) and proposes a CHECK command when a
 * status changes; node_check_run.c carries out one probe (pid, tcp, http, exec) on the loop. */
#ifndef SYN_NODE_NODE_CHECKS_H
#define SYN_NODE_NODE_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "registry/reg_health.h"
#include "registry/reg_record.h"

#define NODE_CHECKS_MAX 256u       /* checks one agent runs */
#define NODE_CHECK_TICK_MS 25u     /* the scheduler's resolution */
#define NODE_CHECK_OUTPUT_MAX 4096u /* bytes of a probe's output kept */
#define NODE_REAP_TICKS 40u         /* the leader looks for instances to remove every second */
#define NODE_HEALTH_TICKS 4u        /* ... and compares members' health with the registry's
                                       every 100 ms (the failure detector judges every 50) */

struct node;
struct node_check;

/* One probe in flight; freed by its own completion. */
struct node_probe;

struct node_check {
    bool used;
    bool seen;    /* still in the registry at the last sync */
    bool running; /* a probe is in flight */
    bool proposing; /* a CHECK command is in flight */
    char service_id[REG_NAME_SIZE_MAX + 1];
    struct reg_check def;  /* definition and replicated status, from the registry */
    struct reg_health_counter counter;
    uint64_t next_ms;      /* uv_now() of the next probe */
    struct node_probe *probe;
    struct node *node;
};

struct node_checks {
    uv_timer_t timer;
    bool started;
    bool dirty; /* the registry changed: sync the table on the next tick */
    uint64_t ticks;
    struct node_check table[NODE_CHECKS_MAX];
};

int node_checks_start(struct node *n);
void node_checks_stop(struct node *n); /* closes the timer (counted in n->closing) */
/* The registry changed (from the store's observer). */
void node_checks_touch(struct node *n);

/* node_check_run.c: runs one probe of c; calls node_check_result() later (or at once for a
 * pid check). */
void node_check_run(struct node_check *c);
/* Abandons c's probe (the check went away or the node stops): it finishes without a result. */
void node_check_abandon(struct node_check *c);
/* A probe's outcome: REG_PASSING, REG_WARNING or REG_CRITICAL, and what it said. */
void node_check_result(struct node_check *c, uint8_t result, const char *output);

#endif
