/* api_server.h: what the RESP and HTTP servers share: a TCP listener on the node's loop, its
 * connections with a bounded input buffer and a double-buffered output, reading paused and
 * resumed for backpressure, closing after the last reply, a limit on connections, an idle
 * timeout, and the rule that a connection with service callbacks pending stays allocated.
 * Internal to src/api; the protocol servers (resp_server.c, http_server.c) put their state
 * around a struct api_conn and react to its hooks.
 *
 * Ownership (STYLE 9): the server owns its connections. A connection is freed once its TCP
 * handle's close callback ran and no hold (a service callback pending) is left; the server is
 * freed once its listener and timer are closed and every connection is freed, and then calls
 * the done callback given to api_server_close().
 */
#ifndef SYN_API_SERVER_H
#define SYN_API_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/buf.h"

#define API_ERRMSG_SIZE 256u
#define API_ADDR_TEXT_SIZE 72u          /* "[v6 address%scope]:65535" */
#define API_READ_CHUNK_SIZE (64u << 10) /* input buffer growth past what a request needs */

struct api_server;

/* One client connection. The protocol's struct starts with it (hooks.conn_size bytes are
 * allocated, zeroed); fields are read-only for the protocol unless said otherwise. */
struct api_conn {
    uv_tcp_t tcp;
    struct api_server *srv;
    struct api_conn *prev; /* in the server's list, until freed */
    struct api_conn *next;
    uint64_t id;            /* 1, 2, ... in accept order */
    struct syn_buf in;      /* bytes read and not yet consumed; the protocol consumes them */
    size_t in_need;         /* the protocol's: call input() once in.len reaches this */
    struct syn_buf out;     /* replies to write; the protocol appends to it */
    struct syn_buf writing; /* the bytes of the write in flight */
    uv_write_t write_req;
    uint64_t opened_ms; /* uv_now() at accept */
    uint64_t active_ms; /* uv_now() when bytes last arrived or a write completed */
    uint32_t holds;     /* service callbacks pending (api_conn_hold) */
    bool reading;
    bool paused; /* the protocol paused reading */
    bool eof;    /* the client finished sending: close once what it asked is answered */
    bool close_after_write;
    bool closing;                   /* uv_close() called */
    bool closed;                    /* the close callback ran */
    bool refused;                   /* over the connection limit: closes after the refusal */
    char peer[API_ADDR_TEXT_SIZE];  /* "IP:PORT" of the client */
    char local[API_ADDR_TEXT_SIZE]; /* "IP:PORT" it connected to */
};

struct api_server_hooks {
    void *ctx;                /* the protocol server: api_server_ctx() */
    const char *name;         /* for logs: "resp", "http" */
    size_t conn_size;         /* >= sizeof(struct api_conn): the protocol's connection struct */
    size_t input_max;         /* the most bytes c->in may hold */
    uint32_t connections_max; /* past it, an accepted client gets refusal and is closed */
    const char *refusal;      /* bytes written to a refused client (a full reply) */
    uint32_t idle_timeout_ms; /* close a connection that received nothing and had nothing to
                                 write or wait for this long; 0: never */
    bool answer_after_eof;    /* a client's end of input closes the connection once what it
                                 asked is answered (HTTP); false: at once (Redis) */
    /* New bytes in c->in (in.len >= in_need). Consume what was handled, set in_need. */
    void (*input)(struct api_conn *c);
    /* A write completed: output space was freed (backpressure may be lifted). May be NULL. */
    void (*written)(struct api_conn *c);
    /* c is about to be freed: release the protocol's part. May be NULL. */
    void (*freed)(struct api_conn *c);
    /* The server closed (api_server_close): free the protocol server, ctx. Runs just before
     * the done callback. May be NULL. */
    void (*destroy)(void *ctx);
};

struct api_server_stats {
    uint64_t accepted;  /* connections accepted, refused ones included */
    uint64_t refused;   /* over the connection limit */
    uint64_t timed_out; /* closed by the idle timeout */
    uint32_t open;      /* connections not yet closed, refused ones excluded */
};

/* Parses addr ("HOST:PORT", "[V6]:PORT", port 0 picks one; a host name is resolved now),
 * binds and listens. hooks is copied (refusal and name are borrowed for the server's life).
 * 0, SYN_EINVAL (a malformed address), SYN_EIO (cannot resolve or bind: in use, not ours),
 * SYN_ENOMEM; on failure *out is NULL and errmsg (API_ERRMSG_SIZE bytes, may be NULL) says
 * why. */
int api_server_start(uv_loop_t *loop, const char *addr, const struct api_server_hooks *hooks,
                     struct api_server **out, char *errmsg);
uint16_t api_server_port(const struct api_server *s);
void *api_server_ctx(const struct api_server *s);
uv_loop_t *api_server_loop(const struct api_server *s);
void api_server_stats(const struct api_server *s, struct api_server_stats *out);
/* The first connection not yet closed, and the next one: to list clients. */
struct api_conn *api_server_first(struct api_server *s);
struct api_conn *api_server_next(struct api_conn *c);
/* Closes the listener and every connection; once everything is freed, which waits for
 * every hold to be released, calls hooks.destroy then done(ctx) (may be NULL). Called once. */
void api_server_close(struct api_server *s, void (*done)(void *ctx), void *ctx);

/* printf into b (INFO texts, JSON bodies); 0, or SYN_ENOMEM / SYN_ETOOBIG with b as it was. */
__attribute__((format(printf, 2, 3))) int api_buf_appendf(struct syn_buf *b, const char *fmt, ...);

/* Writes c->out if no write is in flight (the rest goes when it completes). */
void api_conn_flush(struct api_conn *c);
/* Stops or restarts reading from c (backpressure). Resuming calls input() at once when the
 * buffered bytes reach in_need. */
void api_conn_pause(struct api_conn *c);
void api_conn_resume(struct api_conn *c);
/* Stops reading; closes c once c->out is written (after a final reply). */
void api_conn_close_after_write(struct api_conn *c);
/* Closes c now; what is not written is dropped. Idempotent. */
void api_conn_close(struct api_conn *c);
/* A service callback will come for c: keep it allocated until released. Releasing the last
 * hold of a closed connection frees it: touch nothing of c after. */
void api_conn_hold(struct api_conn *c);
void api_conn_release(struct api_conn *c);
/* Bytes queued for writing: c->out and the write in flight. */
size_t api_conn_output_size(const struct api_conn *c);

#endif
