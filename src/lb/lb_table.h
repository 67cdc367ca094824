/* lb_table.h: the backends synod lb knows: the instances the registry lists as passing, and
 * the ones it dropped that still carry connections (draining). It merges each registry
 * answer, keeps passive health (a backend that refused FALL connects in a row is marked down
 * for a while, as HAProxy's "observe layer4") and the per-backend counters, and tells the
 * policy (lb_policy.h) which targets may take a connection. Pure: time comes in as now_ms.
 *
 * A backend keeps its slot from the answer that adds it until it is removed and its last
 * connection closed; slots are indexes into backends[] and targets[] (the policy's view).
 */
#ifndef SYN_LB_LB_TABLE_H
#define SYN_LB_LB_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/limits.h"
#include "lb/lb_policy.h"

#define LB_ID_SIZE 128u   /* a Service.ID or a node name, NUL included */
#define LB_HOST_SIZE 64u  /* an IP address as text, NUL included */
#define LB_ADDR_SIZE (LB_HOST_SIZE + 8u) /* "[HOST]:PORT" */
#define LB_ERROR_SIZE 96u /* a backend's last error */
#define LB_FALL_MAX 100u  /* the largest --fall */

/* One instance as the registry lists it. */
struct lb_instance {
    char id[LB_ID_SIZE];     /* Service.ID */
    char node[LB_ID_SIZE];   /* Node.Node */
    char host[LB_HOST_SIZE]; /* Service.Address, else Node.Address */
    uint16_t port;
    uint32_t weight; /* Weights.Passing, 1 .. LB_WEIGHT_MAX */
};

enum lb_backend_state {
    LB_BACKEND_FREE = 0,     /* an empty slot */
    LB_BACKEND_UP = 1,       /* listed by the registry */
    LB_BACKEND_DRAINING = 2, /* no longer listed: no new connections; open ones stay */
};

struct lb_backend_counters {
    uint64_t conns_total;      /* connections established */
    uint64_t bytes_in;         /* from clients to this backend (HAProxy's "bin") */
    uint64_t bytes_out;        /* from this backend to clients ("bout") */
    uint64_t connect_failures; /* refused, unreachable, timed out */
    uint64_t replays;          /* unanswered requests sent again elsewhere after it failed */
};

struct lb_backend {
    uint8_t state; /* enum lb_backend_state */
    struct lb_instance inst;
    char addr[LB_ADDR_SIZE];    /* "HOST:PORT", "[V6]:PORT" */
    uint32_t fails_in_row;      /* connect failures since the last success */
    uint64_t down_until_ms;     /* marked down by passive health until then; 0: never was */
    uint64_t draining_since_ms; /* DRAINING: when the registry dropped it */
    struct lb_backend_counters c;
    char last_error[LB_ERROR_SIZE]; /* "" until something failed */
};

struct lb_table {
    uint32_t fall;    /* connect failures in a row that mark a backend down (1 .. LB_FALL_MAX) */
    uint32_t down_ms; /* how long a backend stays marked down before it is tried again */
    uint32_t count;   /* slots [0, count) may be in use; the rest are FREE */
    struct lb_backend backends[SYN_LB_BACKENDS_MAX];
    struct lb_target targets[SYN_LB_BACKENDS_MAX]; /* targets[i].active: open connections */
};

/* What lb_table_update() did. */
struct lb_update {
    uint32_t added;    /* new slots, or draining ones listed again */
    uint32_t removed;  /* now draining, or freed at once (no connections) */
    uint32_t reweighted;
    uint32_t skipped; /* no free slot, or listed twice */
    bool members_changed; /* rebuild the policy's ring */
};

/* An empty table. t is large: allocate it. */
void lb_table_init(struct lb_table *t, uint32_t fall, uint32_t down_ms);

/* Merges the registry's list of passing instances list[0 .. n): new ones take a free slot,
 * listed ones get their weight, unlisted ones drain (or are freed when idle). An instance is
 * the same backend while its node, id, host and port are. */
void lb_table_update(struct lb_table *t, const struct lb_instance *list, uint32_t n,
                     uint64_t now_ms, struct lb_update *out);

/* Sets targets[].usable for one pick: UP, not marked down (unless ignore_down: every up
 * backend is marked down, and trying one beats refusing the client), and not in tried (a
 * bitmap of slots, may be NULL). Returns how many are usable. */
uint32_t lb_table_usable(struct lb_table *t, uint64_t now_ms, const uint8_t *tried,
                         bool ignore_down);

/* A connection to slot starts connecting: it counts as active (least-conn sees it at once). */
void lb_table_attempt(struct lb_table *t, uint32_t slot);
/* That connect succeeded: passive health forgets past failures. */
void lb_table_connect_ok(struct lb_table *t, uint32_t slot);
/* That connect failed (why: "connection refused"); the attempt ends. Returns true when the
 * backend is now marked down. May free a draining slot. */
bool lb_table_connect_failed(struct lb_table *t, uint32_t slot, uint64_t now_ms,
                             const char *why);
/* An established connection to slot failed before answering the client's last bytes, which
 * go to another backend (why: "connection reset by peer"); the connection to slot ends. */
void lb_table_replayed(struct lb_table *t, uint32_t slot, const char *why);
/* An established connection to slot closed. May free a draining slot. */
void lb_table_closed(struct lb_table *t, uint32_t slot);

/* Adds the backends of from (another thread's table) to into, for one view of several:
 * a backend is the same when its instance is; counters and connections add up; it is UP when
 * either table has it UP, and marked down until the later of the two times. A backend that
 * finds no free slot is left out. into's slots are its own: use it for reading only. */
void lb_table_merge(struct lb_table *into, const struct lb_table *from);

/* "up", "down" (marked by passive health until down_until_ms) or "draining". */
const char *lb_table_state_name(const struct lb_table *t, uint32_t slot, uint64_t now_ms);
/* Slots UP in the registry's eyes (passive health aside). */
uint32_t lb_table_up_count(const struct lb_table *t);

#endif
