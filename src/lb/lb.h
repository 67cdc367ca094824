/* lb.h: synod lb, a layer-4 (TCP) load balancer: it accepts client connections on one
 * address and joins each to a healthy instance of one service, which it learns from a synod
 * (or Consul) agent's health endpoint with blocking queries. docs/lb.md describes it.
 */
#ifndef SYN_LB_LB_H
#define SYN_LB_LB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LB_AGENTS_MAX 16u                  /* agent addresses to ask (--addr) */
#define LB_THREADS_MAX 64u                 /* worker threads (--threads) */
#define LB_MAX_CONNS_DEFAULT 4096u         /* client connections at once */
#define LB_CONNECT_TIMEOUT_MS_DEFAULT 1000u /* one connect to a backend */
#define LB_FALL_DEFAULT 2u                 /* connect failures in a row that mark a backend down */
#define LB_DOWN_MS_DEFAULT 2000u           /* ... for this long, then it is tried again */
#define LB_WAIT_S_DEFAULT 30u              /* a blocking query's ?wait */
#define LB_TIMEOUT_MS_MAX 3600000u         /* the largest timeout an option takes */
#define LB_ERR_SIZE 256u

struct lb_config {
    const char *service;     /* borrowed, as every string here, for lb_run()'s duration */
    const char *listen_addr; /* "HOST:PORT", "[V6]:PORT" */
    const char *stats_addr;  /* NULL: no stats endpoint */
    const char *agents[LB_AGENTS_MAX]; /* the agents' HTTP addresses, asked in turn */
    uint32_t agent_count;
    uint8_t policy;   /* enum lb_policy_kind */
    uint32_t threads; /* workers, each a balancer of its own; 0: one a CPU */
    uint32_t max_conns;
    uint32_t connect_timeout_ms;
    uint32_t drain_timeout_ms; /* 0: a removed backend's connections stay until they close */
    uint32_t fall;
    uint32_t down_ms;
    uint32_t wait_s;
    bool replay;   /* send unanswered client bytes again elsewhere when a backend fails */
    uint64_t seed; /* power-of-two's random numbers; 0: from the clock */
};

/* Fills cfg with the defaults (no service, no addresses). */
void lb_config_default(struct lb_config *cfg);

/* Runs the balancer until SIGINT or SIGTERM, then closes every connection and returns 0.
 * With several threads each balances the connections the kernel hands its socket (policy
 * state, connection counts and passive health are per thread); the stats add them up.
 * SYN_EINVAL (a bad address), SYN_EIO (cannot listen: in use, not ours) or SYN_ENOMEM when
 * it cannot start, with err (LB_ERR_SIZE bytes) saying why. */
int lb_run(const struct lb_config *cfg, char *err);

#endif
