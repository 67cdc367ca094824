/* lb_internal.h: the parts of synod lb's shell (lb.c, lb_conn.c, lb_pipe.c, lb_addr.c) and
 * what they share. Internal to src/lb.
 *
 * Ownership (STYLE 9): struct lb owns the table, the policy, the listener, the watch, the
 * stats server and every connection. A connection owns its three handles (client, backend,
 * timer) and is freed once the close callbacks of all of them ran.
 */
#ifndef SYN_LB_LB_INTERNAL_H
#define SYN_LB_LB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/buf.h"
#include "base/prng.h"
#include "lb/lb.h"
#include "lb/lb_policy.h"
#include "lb/lb_stats.h"
#include "lb/lb_table.h"

#define LB_TICK_MS 100u      /* drain timeouts and a stalled accept are looked at this often */
#define LB_BACKLOG 1024      /* the listener's queue of connections not yet accepted */
#define LB_SLOT_BITS (SYN_LB_BACKENDS_MAX / 8u) /* a bitmap of backend slots */

struct lb_conn;
struct lb_watch;
struct lb_stats_server;

/* One direction of a proxied connection: bytes read from `from` wait in buf until written to
 * `to`. Reading pauses while buf is full (backpressure), so a slow reader on one side holds
 * at most SYN_LB_PIPE_BUFFER_SIZE bytes of the other side's data. */
struct lb_pipe {
    struct lb_conn *conn;
    uv_tcp_t *from;
    uv_tcp_t *to;
    bool up;         /* client to backend */
    uint8_t *buf;    /* SYN_LB_PIPE_BUFFER_SIZE bytes, only while bytes wait; owned */
    size_t len;      /* bytes waiting in buf; the first `inflight` are being written */
    size_t inflight;
    bool enabled;    /* the connection wants this direction read */
    bool reading;    /* uv_read_start() is in effect */
    bool eof;        /* `from` ended: `to` is shut down once buf is written */
    bool shut;       /* uv_shutdown(to) was called */
    bool done;       /* ... and completed: nothing more goes this way */
    uv_write_t write_req;
    uv_shutdown_t shutdown_req;
};

enum lb_conn_state {
    LB_CONN_CONNECTING = 1, /* a backend is being dialed (first time, retry or replay) */
    LB_CONN_OPEN = 2,       /* bytes flow both ways */
    LB_CONN_CLOSING = 3,    /* handles closing; freed after the last close callback */
};

struct lb_conn {
    struct lb *lb;
    struct lb_conn *prev; /* in lb->conns */
    struct lb_conn *next;
    uint8_t state; /* enum lb_conn_state */
    uv_tcp_t client;
    uv_tcp_t backend;
    uv_timer_t timer; /* the connect timeout */
    uv_connect_t connect_req;
    uint32_t handles;      /* handles initialized whose close callback has not run */
    bool backend_open;     /* backend initialized and not being closed */
    bool exchanged;        /* a byte went either way since this backend was dialed */
    int32_t slot;          /* the backend's table slot, -1 when none */
    uint8_t tried[LB_SLOT_BITS]; /* slots that failed this client since its last answer */
    uint64_t client_hash;  /* lb_hash_bytes() of the client's IP address */
    struct lb_pipe up;     /* client -> backend */
    struct lb_pipe down;   /* backend -> client */
    struct syn_buf replay; /* --replay: client bytes since the backend last sent any */
    bool replay_lost;      /* more than fits were sent since: no replay for this exchange */
};

struct lb {
    uv_loop_t *loop;
    struct lb_config cfg;
    struct lb_table *table;   /* owned */
    struct lb_policy *policy; /* owned */
    struct prng prng;
    struct sockaddr_storage listen_sa;
    struct sockaddr_storage backend_sa[SYN_LB_BACKENDS_MAX]; /* each UP slot's address */
    uv_tcp_t listener;
    uv_signal_t sig_int;
    uv_signal_t sig_term;
    uv_timer_t tick;
    struct lb_watch *watch;
    struct lb_stats_server *stats;
    struct lb_conn *conns;
    struct lb_totals totals;
    char listen_text[LB_ADDR_SIZE];
    uint64_t last_answer_ms; /* uv_now() of the registry's last answer */
    bool accept_stalled; /* a connection waits in the backlog for memory */
    bool stopping;
    uint8_t read_buf[SYN_LB_PIPE_BUFFER_SIZE]; /* every read lands here first */
};

/* ---- lb_addr.c ----------------------------------------------------------------------- */

/* Resolves text ("HOST:PORT", "[V6]:PORT"; a host name now, blocking: at start only) into
 * *out. 0, or SYN_EINVAL with err (LB_ERR_SIZE bytes) saying why. */
int lb_addr_resolve(const char *text, struct sockaddr_storage *out, char *err);
/* An IP address (no name) and a port into *out: 0 or SYN_EINVAL. */
int lb_addr_ip(const char *host, uint16_t port, struct sockaddr_storage *out);
/* "IP:PORT" or "[IP]:PORT" of sa. */
void lb_addr_name(const struct sockaddr_storage *sa, char out[LB_ADDR_SIZE]);

/* ---- lb_conn.c ----------------------------------------------------------------------- */

/* The listener's callback: accepts one client and dials a backend for it. */
void lb_conn_on_listen(uv_stream_t *listener, int status);
/* Accepts a client that waited in the backlog for memory (lb->accept_stalled). */
void lb_conn_accept(struct lb *lb);
/* Closes c (both sides) now. Idempotent. */
void lb_conn_close(struct lb_conn *c);
/* The pipes' events, for lb_pipe.c: bytes moved; from ended (nread: UV_EOF or an error);
 * a write or shutdown failed (status); a pipe's shutdown completed. */
void lb_conn_on_bytes(struct lb_conn *c, bool up, const uint8_t *data, size_t size);
void lb_conn_on_end(struct lb_conn *c, bool up, int nread);
void lb_conn_on_write_error(struct lb_conn *c, bool up, int status);
void lb_conn_on_done(struct lb_conn *c);

/* ---- lb_pipe.c ----------------------------------------------------------------------- */

void lb_pipe_init(struct lb_pipe *p, struct lb_conn *c, uv_tcp_t *from, uv_tcp_t *to, bool up);
/* Wants `from` read (on) or not; reading also waits for room in buf and stops at EOF. */
void lb_pipe_enable(struct lb_pipe *p, bool on);
/* Writes what waits (then shuts `to` down after EOF). */
void lb_pipe_flush(struct lb_pipe *p);
/* Replaces what waits with data[0 .. size) (a replay to a new backend): no write may be in
 * flight. 0 or SYN_ENOMEM. */
int lb_pipe_load(struct lb_pipe *p, const uint8_t *data, size_t size);
/* The backend (`from` or `to`) is being closed for another: reading the client stops until
 * lb_pipe_enable(), writes in flight will be cancelled. */
void lb_pipe_detach(struct lb_pipe *p);
void lb_pipe_free(struct lb_pipe *p);

/* ---- lb.c ---------------------------------------------------------------------------- */

/* The stats documents of the balancer now (prometheus: the text format). */
int lb_render_stats(void *lb, bool prometheus, struct syn_buf *out);

#endif
