/* http_server_internal.h: the HTTP server's state and what its files share:
 *   http_server.c   start, close, stats; each connection's input (head, body, pipelining),
 *                   and writing responses
 *   http_routes.c   the route table and the handlers
 * Not for other modules.
 *
 * Routing: a route is an exact path ("/v1/health") or a prefix ending in '/' ("/v1/kv/",
 * whose rest, ex->tail, names the key), with the methods it serves. A path no route matches
 * is 404; a path matched with another method is 405 with Allow. Handlers answer through
 * http_respond*() exactly once, before returning or later: a handler that waits for the
 * service (the KV endpoints) holds the connection (api_conn_hold) and answers from its
 * callback. Meanwhile the exchange lives in struct http_conn, its request bytes stay in the
 * input buffer, and no further request of that connection is parsed, so responses stay in
 * request order (docs/http.md, "Adding an endpoint"). An answer to a connection that closed
 * meanwhile is dropped.
 */
#ifndef SYN_API_HTTP_SERVER_INTERNAL_H
#define SYN_API_HTTP_SERVER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "api/api_server.h"
#include "api/http_parse.h"
#include "api/http_server.h"
#include "api/service.h"
#include "base/buf.h"

#define HTTP_LOG "http"

_Static_assert(HTTP_SERVER_ERRMSG_SIZE == API_ERRMSG_SIZE, "one errmsg size");

struct http_server;

/* One request and its answer. */
struct http_exchange {
    struct http_server *srv;
    struct http_conn *conn;
    const struct http_request *req;
    struct http_slice body; /* req->content_length bytes */
    struct http_slice tail; /* the path after a prefix route's prefix; empty otherwise */
    bool responded;
    uint8_t answer;         /* a write's answer: enum http_answer */
    const char *answer_404; /* HTTP_ANSWER_EMPTY: the error when nothing was found */
};

enum http_answer {
    HTTP_ANSWER_BOOL = 0,  /* "true" or "false" (Consul's KV writes) */
    HTTP_ANSWER_EMPTY = 1, /* 200 with no body, or 404 (Consul's agent endpoints) */
    HTTP_ANSWER_LOG = 2,   /* {"index": N, "key": ...}: a synod log append (http_log.c) */
};

struct http_conn {
    struct api_conn base;    /* first: the api server allocates an http_conn */
    struct http_request req; /* the request being received or answered */
    bool have_head;          /* req holds a complete head; its body may still be arriving */
    struct http_chunked chunk; /* a chunked body's scan so far */
    bool have_body;          /* the body is complete: body_size bytes after the head, which
                                took body_wire bytes as sent (chunked: joined in place) */
    size_t body_size;
    size_t body_wire;
    const uint8_t *head_at;  /* base.in.data when req was parsed: req's slices point there.
                                While a handler waits, more input may move the buffer: after
                                the handler returns only req's scalars may be used */
    bool in_handler;         /* the route's handler is running */
    bool waiting;            /* a handler returned without answering: ex answers later */
    struct http_exchange ex; /* the request being answered */
};

struct http_kv_waiter; /* http_kv.c: a blocking query */
struct http_events;    /* http_events.c: requests waiting for events */

struct http_server {
    struct api_server *api;
    uv_loop_t *loop;
    struct service *svc;
    uv_timer_t waiter_timer; /* blocking queries: deadlines, wake-ups */
    struct http_kv_waiter *waiters;
    uint32_t waiter_count;
    uint32_t waiter_span; /* one past the highest slot in use: scans stop there */
    bool waiters_woken;
    struct http_events *events; /* NULL: the service keeps no events */
    void (*close_done)(void *ctx);
    void *close_ctx;
    const char *version;
    struct http_server_stats stats; /* connection counts are the api server's */
    struct syn_buf body;            /* a response body being built */
    struct syn_buf value;           /* a value read for a response */
    struct syn_buf command;         /* a state machine command being encoded */
    struct service_info info;
};

typedef void (*http_handler)(struct http_exchange *ex);

struct http_route {
    const char *path; /* exact, or a prefix when it ends in '/' */
    uint32_t methods; /* HTTP_METHOD_BIT() of each method served */
    http_handler handler;
};

/* http_server.c */
/* Answers ex: a status line, Content-Type (when body_size > 0 or a type is given),
 * Content-Length, extra_headers (each "Name: value\r\n", may be NULL), Connection when
 * needed, then the body (not for HEAD). */
void http_respond(struct http_exchange *ex, uint16_t status, const char *content_type,
                  const void *body, size_t body_size, const char *extra_headers);
/* Answers with body as application/json. */
void http_respond_json(struct http_exchange *ex, uint16_t status, const struct syn_buf *body);
/* Answers {"error":"<printf text>"} with status. */
__attribute__((format(printf, 3, 4))) void
http_respond_error(struct http_exchange *ex, uint16_t status, const char *fmt, ...);

/* Ends an exchange whose handler returned without answering (an answer was already
 * queued with http_respond*(), or the connection closed): lets the connection parse its
 * next request. */
void http_exchange_finish(struct http_exchange *ex);

/* http_kv.c */
void http_kv_route(struct http_exchange *ex);
void http_kv_init(struct http_server *srv);
/* Drops every blocking query without an answer (the server closes). */
void http_kv_close(struct http_server *srv);

/* http_routes.c */
/* Routes ex to its handler, or answers 404 / 405. */
void http_route(struct http_exchange *ex);

#endif
