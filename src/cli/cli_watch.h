/* cli_watch.h: what `synod watch service NAME` prints: the instances of a service compared
 * between two answers of GET /v1/health/service/NAME (an instance that appeared, left, or
 * whose status changed), and a timestamped block for people or one JSON line for scripts.
 * Pure: structs in, bytes out. */
#ifndef SYN_CLI_CLI_WATCH_H
#define SYN_CLI_CLI_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "cli/cli_health.h"

/* One instance that changed, between two answers. */
struct cli_watch_change {
    const struct cli_instance *before; /* NULL: it appeared */
    const struct cli_instance *after;  /* NULL: it left */
};

/* The changes from before to after, in after's order, then those that left: up to max into
 * out; the count. Only a status counts as a change, not a check's output alone (the
 * registry replicates status changes). */
uint32_t cli_watch_diff(const struct cli_health *before, const struct cli_health *after,
                        struct cli_watch_change *out, uint32_t max);

/* One block of output. */
struct cli_watch_block {
    const char *service;
    uint64_t time_ms; /* unix ms */
    uint64_t index;   /* X-Consul-Index of the answer */
    bool first;       /* the block printed at start: every instance rather than changes */
    bool passing;     /* --passing: the answers hold healthy instances only */
    const struct cli_health *now;
    const struct cli_watch_change *changes;
    uint32_t change_count;
};

/* For people: "TIME NAME at index N: K of M instances healthy (a, b)", then a line an
 * instance (first) or a change: "  web-2 passing -> critical (why)". 0 or SYN_ENOMEM. */
int cli_watch_text(const struct cli_watch_block *b, struct syn_buf *out);
/* For scripts, one line: {"time", "time_ms", "service", "index", "start", "healthy",
 * "instances": [{"node", "id", "address", "port", "status", "output"}], "changes":
 * [{"node", "id", "from", "to", "output"}]}; from and to are null for an instance that
 * appeared or left. 0 or SYN_ENOMEM. */
int cli_watch_json(const struct cli_watch_block *b, struct syn_buf *out);

#endif
