/* lb_watch.h: synod lb's view of the registry: a loop of blocking queries on an agent's
 * health endpoint (lb_registry.h) over libuv, each answer handed to a callback. On a failure
 * (no connection, a timeout, a status other than 200, a malformed answer) it asks the next
 * agent of its list after a backoff that doubles from LB_WATCH_BACKOFF_MIN_MS to
 * LB_WATCH_BACKOFF_MAX_MS (with jitter), and the last answer stays in force meanwhile.
 *
 * One request per connection ("Connection: close"): a blocking query holds its connection
 * for up to ?wait anyway, and a fresh connection each time finds a restarted agent at once.
 */
#ifndef SYN_LB_LB_WATCH_H
#define SYN_LB_LB_WATCH_H

#include <stdint.h>

#include <uv.h>

#include "lb/lb_table.h"

#define LB_WATCH_BACKOFF_MIN_MS 50u
#define LB_WATCH_BACKOFF_MAX_MS 5000u
#define LB_WATCH_POLL_MS 100u /* between answers that carry the same index (an agent that does
                                 not block, or a wait that ran out) */
#define LB_WATCH_CONNECT_MS 2000u /* connecting and the first answer without an index */
#define LB_WATCH_AGENTS_MAX 16u

struct lb_watch_config {
    const char *service;                     /* borrowed for the watch's life */
    const struct sockaddr_storage *agents;   /* copied */
    uint32_t agent_count;                    /* 1 .. LB_WATCH_AGENTS_MAX */
    uint32_t wait_s;                         /* ?wait of each blocking query */
    uint64_t seed;                           /* the backoff's jitter */
};

struct lb_watch_callbacks {
    void *ctx;
    /* An answer: the passing instances list[0 .. count) (borrowed for the call; the callee
     * may reorder or rewrite them), skipped entries left out, and X-Consul-Index. */
    void (*answer)(void *ctx, struct lb_instance *list, uint32_t count, uint32_t skipped,
                   uint64_t index);
    /* An exchange with agent failed; why says how. The next try follows a backoff. */
    void (*failed)(void *ctx, const char *agent, const char *why);
};

struct lb_watch;

/* Starts asking at once. 0 or SYN_ENOMEM. */
int lb_watch_start(uv_loop_t *loop, const struct lb_watch_config *cfg,
                   const struct lb_watch_callbacks *cbs, struct lb_watch **out);
/* Stops: no callback runs after this; the watch is freed once its handles are closed. */
void lb_watch_close(struct lb_watch *w);

#endif
