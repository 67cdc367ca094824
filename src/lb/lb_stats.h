/* lb_stats.h: synod lb's counters as the stats endpoint serves them: JSON on GET /stats and
 * Prometheus's text format (version 0.0.4) on GET /metrics. Pure: a view of the table and the
 * totals in, text out. docs/lb.md lists every field and metric.
 */
#ifndef SYN_LB_LB_STATS_H
#define SYN_LB_LB_STATS_H

#include <stdint.h>

#include "base/buf.h"
#include "lb/lb_table.h"

#define LB_REGISTRY_ERROR_SIZE 160u

/* The proxy's counters beside the backends'. */
struct lb_totals {
    uint64_t accepted;        /* client connections accepted */
    uint64_t refused;         /* closed at once: --max-conns connections were open */
    uint64_t failed;          /* closed: no backend could be reached */
    uint64_t retries;         /* connects tried again on another backend */
    uint64_t replays;         /* unanswered bytes sent again to another backend */
    uint64_t drained;         /* connections closed by --drain-timeout-ms */
    uint32_t active;          /* client connections open */
    uint64_t registry_index;  /* the X-Consul-Index of the last answer */
    uint64_t registry_answers; /* answers read */
    uint64_t registry_errors;  /* exchanges that failed */
    uint64_t registry_age_ms;  /* since the last answer (UINT64_MAX: none yet) */
    char registry_addr[LB_ADDR_SIZE];             /* the agent asked last */
    char registry_error[LB_REGISTRY_ERROR_SIZE]; /* the last failure, "" after an answer */
};

struct lb_stats_view {
    const char *service;
    const char *policy;
    const char *listen;
    const struct lb_table *table;
    const struct lb_totals *totals;
    uint64_t now_ms;
};

/* Appends the JSON document to out. 0, SYN_ENOMEM or SYN_ETOOBIG. */
int lb_stats_json(const struct lb_stats_view *v, struct syn_buf *out);
/* Appends the Prometheus text to out. 0, SYN_ENOMEM or SYN_ETOOBIG. */
int lb_stats_prometheus(const struct lb_stats_view *v, struct syn_buf *out);

#endif
