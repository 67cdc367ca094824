/* http_kv_internal.h: what the KV endpoint's files share:
 *   http_kv.c        parsing, consistency modes, reads, writes, answers
 *   http_kv_wait.c   blocking queries: waiting for a change or for ?wait to pass
 * Not for other modules. */
#ifndef SYN_API_HTTP_KV_INTERNAL_H
#define SYN_API_HTTP_KV_INTERNAL_H

#include "api/http_query.h"
#include "api/http_server_internal.h"

#define HTTP_KV_WAIT_MS_DEFAULT (5u * 60u * 1000u) /* Consul's default ?wait */
#define HTTP_KV_WAIT_MS_MAX (10u * 60u * 1000u)    /* ... and its most */
#define HTTP_KV_SWEEP_MS 1000u /* how often waiters are checked for deadlines and closed
                                  clients */

/* One KV request's parameters. Owned by its handler, then by its waiter. */
struct http_kv_query {
    struct syn_buf key;       /* decoded; a prefix with ?recurse or ?keys */
    struct syn_buf separator; /* ?keys&separator= */
    bool raw;
    bool recurse;
    bool keys;
    bool stale;
    bool has_index;
    bool has_cas;
    uint64_t index; /* ?index: answer once the result's index is past it */
    uint64_t wait_ms;
    uint64_t cas;
    uint64_t flags;
};

struct http_kv_result {
    uint16_t status; /* 200 or 404 */
    bool raw;        /* the body is a bare value */
    uint64_t index;  /* X-Consul-Index */
};

/* A blocking query: a connection waits for its key or prefix to change. */
struct http_kv_waiter {
    struct http_exchange *ex; /* NULL: the slot is free */
    struct http_kv_query *q;
    uint64_t deadline_ms; /* uv_now() */
    bool woken;           /* a change touched its key or prefix */
};

void http_kv_query_free(struct http_kv_query *q);
/* Evaluates q on the local store into srv->body. 0, SYN_ETOOBIG (over
 * SYN_HTTP_RESPONSE_SIZE_MAX), or the store's error. */
int http_kv_evaluate(struct http_server *srv, const struct http_kv_query *q,
                     struct http_kv_result *out);
/* Evaluates q and answers ex. */
void http_kv_answer(struct http_exchange *ex, const struct http_kv_query *q);
/* Makes ex wait (holding its connection) until q's key or prefix changes or its wait passes,
 * then answers. 0 (q is the waiter's), or SYN_EFULL: answer now. */
int http_kv_wait(struct http_exchange *ex, struct http_kv_query *q);

#endif
