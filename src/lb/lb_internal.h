/* lb_internal.h: the parts of synod lb's shell (lb.c, lb_worker.c, lb_conn.c, lb_pipe.c,
 * lb_replay.c, lb_addr.c) and what they share. Internal to src/lb.
 *
 * Threads: the hub (lb.c) runs the listening socket, the registry watch, the stats endpoint
 * and the signals on the main thread; each worker (struct lb, lb_worker.c) is a whole balancer
 * on its own thread and loop, with its own table, policy and connections. The hub accepts
 * each client and hands its descriptor to the workers in turn; the two meet only in the
 * worker's mailbox, under its mutex: clients, registry answers and a stop go in, snapshots for
 * the stats come out. A thread touches no other thread's handles.
 *
 * Ownership (STYLE 9): the hub owns the listening socket, the workers, the watch and the stats
 * server; a worker owns its loop, table, policy and every connection it adopted (and the
 * descriptors waiting in its mailbox). A connection owns its three handles (client, backend,
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

#define LB_TICK_MS 100u      /* drain timeouts are looked at this often */
#define LB_BACKLOG 1024      /* the listener's queue of connections not yet accepted */
#define LB_HANDOFF_MAX 1024u /* accepted clients waiting in one worker's mailbox: past it, the
                                hub closes them (refused) */
#define LB_ACCEPT_BATCH 64   /* clients the hub accepts in one go, before the loop turns */
#define LB_ACCEPT_PAUSE_MS 100u /* out of descriptors: the hub stops accepting for this long */
#define LB_SLOT_BITS (SYN_LB_BACKENDS_MAX / 8u) /* a bitmap of backend slots */
#define LB_REPLAY_GRACE_MS 200u /* --replay: a client whose backend closed between exchanges may
                                   send its next request this long (lb_replay.c) */

struct lb_conn;
struct lb_hub;

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
    LB_CONN_ORPHAN = 4,     /* --replay: the backend closed between exchanges; the client's
                               next bytes dial another (lb_replay.c) */
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
    bool backend_closing;  /* its close callback is pending */
    bool exchanged;        /* a byte went either way since this backend was dialed */
    int32_t slot;          /* the backend's table slot, -1 when none */
    uint8_t tried[LB_SLOT_BITS]; /* slots that failed this client since its last answer */
    uint64_t client_hash;  /* lb_hash_bytes() of the client's IP address */
    struct lb_pipe up;     /* client -> backend */
    struct lb_pipe down;   /* backend -> client */
    struct syn_buf replay; /* --replay: client bytes since the backend last sent any */
    bool replay_lost;      /* more than fits were sent since: no replay for this exchange */
};

/* What the hub and one worker exchange: every field under mu. */
struct lb_mailbox {
    uv_mutex_t mu;
    uv_cond_t cond;   /* broadcast when a snapshot is taken, and when the worker stops */
    bool stop;        /* hub -> worker: close everything */
    bool update;      /* hub -> worker: list[0 .. count) is the registry's new answer */
    uint32_t count;
    struct lb_instance list[SYN_LB_BACKENDS_MAX];
    int fds[LB_HANDOFF_MAX]; /* hub -> worker: accepted clients, a ring */
    uint32_t fd_head;
    uint32_t fd_count;
    uint64_t snap_want; /* hub -> worker: take snapshot number snap_want */
    uint64_t snap_done; /* worker -> hub: the last snapshot taken */
    bool stopped;       /* worker -> hub: it is closing: no snapshot, no wake-up any more */
    struct lb_table snap;        /* the worker's table as of snap_done */
    struct lb_totals snap_totals;
};

/* One worker: a balancer on its own loop and thread. */
struct lb {
    struct lb_hub *hub;
    uint32_t index;
    uv_loop_t *loop;          /* &loop_storage */
    uv_loop_t loop_storage;
    uv_thread_t thread;
    bool thread_started;
    struct lb_config cfg;     /* max_conns is this worker's share */
    struct lb_table *table;   /* owned */
    struct lb_policy *policy; /* owned */
    struct prng prng;
    struct sockaddr_storage backend_sa[SYN_LB_BACKENDS_MAX]; /* each UP slot's address */
    uv_timer_t tick;
    uv_async_t wake; /* the hub's nudge: look in the mailbox */
    struct lb_mailbox box;
    struct lb_conn *conns;
    struct lb_totals totals;
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

/* Takes the accepted client fd (transferred) and dials a backend for it. */
void lb_conn_adopt(struct lb *lb, int fd);
/* Closes c (both sides) now. Idempotent. */
void lb_conn_close(struct lb_conn *c);
/* Dials a backend for c (CONNECTING, no backend handle): the policy's pick among those not
 * tried; closes c when none is left. */
void lb_conn_dial(struct lb_conn *c);
/* Closes c's backend handle (its pipes stop using it); in CONNECTING the next dial follows. */
void lb_conn_backend_close(struct lb_conn *c);
/* Marks slot as tried for c's current exchange. */
void lb_conn_tried_set(struct lb_conn *c, uint32_t slot);
/* The pipes' events, for lb_pipe.c: bytes moved; from ended (nread: UV_EOF or an error);
 * a write or shutdown failed (status); a pipe's shutdown completed. */
void lb_conn_on_bytes(struct lb_conn *c, bool up, const uint8_t *data, size_t size);
void lb_conn_on_end(struct lb_conn *c, bool up, int nread);
void lb_conn_on_write_error(struct lb_conn *c, bool up, int status);
void lb_conn_on_done(struct lb_conn *c);

/* ---- lb_replay.c --------------------------------------------------------------------- */

/* Bytes moved on c (up: from the client): kept while unanswered; answered, dropped. */
void lb_replay_record(struct lb_conn *c, bool up, const uint8_t *data, size_t size);
/* The backend failed (why) with bytes unanswered: true when they go to another backend. */
bool lb_replay_after_failure(struct lb_conn *c, const char *why);
/* The backend closed between exchanges: true when c waits (ORPHAN) for the client's next
 * bytes, LB_REPLAY_GRACE_MS at most. */
bool lb_replay_orphan(struct lb_conn *c);
/* The client of an ORPHAN sent bytes: dial a backend for them. */
void lb_replay_orphan_wakes(struct lb_conn *c);

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

/* ---- lb_worker.c --------------------------------------------------------------------- */

/* A worker, not yet running. 0, or SYN_ENOMEM; *out is set either way when memory allowed
 * (free it with lb_worker_free()). */
int lb_worker_new(struct lb_hub *hub, uint32_t index, const struct lb_config *cfg,
                  struct lb **out);
/* Runs the worker's loop on a thread of its own. 0 or a libuv error. */
int lb_worker_run(struct lb *lb);
/* Hub side: posts the registry's answer list[0 .. count) / a stop to the worker. */
void lb_worker_post_update(struct lb *lb, const struct lb_instance *list, uint32_t count);
/* Hub side: hands the accepted client fd to the worker; false (fd still the caller's) when
 * its mailbox is full or it stopped. */
bool lb_worker_post_fd(struct lb *lb, int fd);
void lb_worker_post_stop(struct lb *lb);
/* Hub side: asks for a snapshot of the worker's table and totals and waits for it (at most
 * timeout_ms); then merges it into view and adds the totals to *totals. */
void lb_worker_collect(struct lb *lb, uint64_t timeout_ms, struct lb_table *view,
                       struct lb_totals *totals);
/* Worker side: closes the tick, the wake-up, every connection and the clients waiting in the
 * mailbox. */
void lb_worker_stop(struct lb *lb);
/* Joins the worker's thread (if it ran), runs what is left of its loop, adds the connections
 * it accepted to *accepted, frees it. */
void lb_worker_free(struct lb *lb, uint64_t *accepted);

#endif
